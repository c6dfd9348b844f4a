// Fuzzes the CIFAR-10 batch reader: any bytes give a data set of whole 3073-byte records or a clear error.
#include "fuzz_common.hpp"
#include "hwnas/io/cifar10.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const hwnas::fuzz::memory_file file(data, size);
  try {
    const auto d = hwnas::io::load_cifar10_batch(file.path());
    if (d.size() * hwnas::io::cifar10_record_bytes != size) std::abort();  // one sample per record, none lost
  } catch (const hwnas::io_error&) {
  } catch (const hwnas::invalid_argument&) {
  }
  return 0;
}
