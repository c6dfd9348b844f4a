// Fuzzes the integer network file reader: any text gives a valid integer network or hwnas::invalid_argument; what
// it accepts survives a round trip (written back and read again, the same codes) and runs (one image).
#include <string>
#include <vector>

#include "fuzz_common.hpp"
#include "hwnas/nn/integer_network_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const auto net = hwnas::nn::parse_integer_network(text);
    const auto back = hwnas::nn::parse_integer_network(hwnas::nn::to_json(net).dump());
    if (!(back.arch() == net.arch()) || back.layers().size() != net.layers().size()) std::abort();
    for (std::size_t l = 0; l < net.layers().size(); ++l)
      if (back.layers()[l].weights != net.layers()[l].weights || back.layers()[l].bias != net.layers()[l].bias)
        std::abort();
    // small networks only: one image through integer inference (a big one is valid but slow to run)
    if (net.arch().input.size() <= 4096 && hwnas::total_macs(net.arch()) <= 1000000) {
      const std::vector<float> image(static_cast<std::size_t>(net.arch().input.size()), 0.5f);
      (void)net.trace(image.data(), 1);
    }
  } catch (const hwnas::invalid_argument&) {
  }
  return 0;
}
