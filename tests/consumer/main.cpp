// A user's program: includes the installed umbrella header and uses a little of each layer.
#include <hwnas/hwnas.hpp>

#include <cstdio>

int main() {
  constexpr hwnas::qformat w = hwnas::qformat::weight(1, 2);  // signed Q1.2, 4 bits
  static_assert(w.bits() == 4);
  if (hwnas::quantize(0.3, w) != 1) return 1;                  // 0.3 * 4 = 1.2 -> 1

  // The reference CNN at 4 bits, mapped onto a Cyclone IV at 100 MHz with the exact search.
  const auto arch = hwnas::with_uniform_bits(hwnas::reference_cnn(), 4);
  const hwnas::fpga::pipelined_pe<hwnas::fpga::cyclone_iv_ep4ce115> model;
  const auto report = model.map(arch, hwnas::spec{.max_luts = 100000});
  if (!report.feasible) return 2;

  std::puts("consumer ok");
  return 0;
}
