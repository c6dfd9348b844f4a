// Fuzzes the IDX reader (MNIST / Fashion-MNIST, plain or gzip): any bytes give an array or hwnas::io_error. The
// element bound is lowered to 4 Mi so that a header declaring more is refused before anything is allocated.
#include "fuzz_common.hpp"
#include "hwnas/io/idx.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const hwnas::fuzz::memory_file file(data, size);
  try {
    const auto a = hwnas::io::read_idx(file.path(), std::size_t{1} << 22);
    std::size_t total = 1;
    for (const auto extent : a.shape) total *= extent;
    if (total != a.values.size()) std::abort();  // the values are exactly what the header declares
  } catch (const hwnas::io_error&) {
  }
  return 0;
}
