// Fuzzes the architecture JSON reader: any text gives a valid architecture or hwnas::invalid_argument; what it
// accepts survives a round trip (written back and read again, the same architecture).
#include <string>

#include "fuzz_common.hpp"
#include "hwnas/io/architecture_json.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const auto a = hwnas::io::parse_architecture(text);
    if (hwnas::io::parse_architecture(hwnas::io::to_json(a).dump()) != a) std::abort();
  } catch (const hwnas::invalid_argument&) {
  }
  return 0;
}
