// hwnas-custom_device: how to target your own FPGA. A device is one struct of static constexpr figures that
// models hwnas::fpga::Device; every cost model then works with it, at any clock.
//
//   hwnas-custom_device            # maps the 4-bit reference CNN onto the made-up board below and a Cyclone IV
//
// Exit code 0 when every mapping meets the spec, 3 otherwise.

#include <array>
#include <cstdint>
#include <iostream>
#include <string_view>

#include "hwnas/core/architecture.hpp"
#include "hwnas/fpga/concepts.hpp"
#include "hwnas/fpga/dataflow.hpp"
#include "hwnas/fpga/devices.hpp"
#include "hwnas/fpga/pipelined_pe.hpp"
#include "hwnas/fpga/tiled_engine.hpp"

// Step 1: describe the part. These are the figures of a Lattice ECP5 LFE5U-85F (Lattice DS1044): 83,640 LUT4s
// (with one register each), 156 18x18 multipliers, 208 EBR blocks of 18 Kbit. Its LUT4s are costed with the
// Cyclone IV LUT4 table (the same logic-cell size); for exact figures, synthesize the primitives with
// `yosys synth_ecp5` the way tools/calibrate does and add a table.
struct ecp5_85f {
  static constexpr std::string_view name = "ecp5-85f";
  static constexpr std::string_view description = "Lattice ECP5 LFE5U-85F";
  static constexpr hwnas::fpga::lut_family family = hwnas::fpga::lut_family::lut4;
  static constexpr std::int64_t luts = 83640;
  static constexpr std::int64_t flip_flops = 83640;
  static constexpr std::int64_t dsps = 156;   // 18x18 multipliers
  static constexpr std::int64_t brams = 208;  // EBR blocks
  static constexpr std::int64_t bram_bits = 18432;
  // Every width x depth an EBR block can take.
  static constexpr std::array<hwnas::fpga::bram_shape, 6> bram_shapes{
      {{1, 16384}, {2, 8192}, {4, 4096}, {9, 2048}, {18, 1024}, {36, 512}}};
  // One 18x18 multiplier per product of a signed (a+1)-bit activation and a signed w-bit weight up to 18 bits.
  static constexpr int dsps_per_multiplier(int act_bits, int weight_bits) noexcept {
    return act_bits + 1 <= 18 && weight_bits <= 18 ? 1 : 2;
  }
  // The highest clock this datapath may use, MHz: take your speed grade's block RAM (EBR) fmax from the datasheet;
  // 200 MHz here is a conservative figure. A faster clock is reported as a violation ("device_fmax").
  static constexpr double fmax_mhz = 200.0;
};

// Step 2: check it models the concept (a missing or mistyped member fails here, with the concept's name).
static_assert(hwnas::fpga::Device<ecp5_85f>, "ecp5_85f must model hwnas::fpga::Device");

int main() {
  using namespace hwnas;
  // Step 3: a quantized architecture: the reference CNN with 4-bit weights and activations.
  const architecture arch = with_uniform_bits(reference_cnn(), 4);
  // Step 4: the spec, and the cost models on the new device (at 125 MHz) and on a Cyclone IV (at 100 MHz).
  const spec s{.max_luts = 20000, .min_fps = 2000};
  using on_ecp5 = fpga::pipelined_pe<ecp5_85f, fpga::clock_mhz<125>>;
  using on_cyclone = fpga::pipelined_pe<fpga::cyclone_iv_ep4ce115, fpga::clock_mhz<100>>;
  const auto a = on_ecp5{}.map(arch, s);
  const auto b = on_cyclone{}.map(arch, s);
  const auto c = fpga::dataflow<ecp5_85f, fpga::clock_mhz<125>>{}.map(arch, s);
  const auto d = fpga::tiled_engine<ecp5_85f, fpga::clock_mhz<125>>{}.map(arch, s);
  std::cout << a << "\n" << b << "\n" << c << "\n" << d;
  // Step 5: compare: the same least-LUT search, different clocks and memories.
  std::cout << "\nleast LUTs for " << *s.min_fps << " fps: ecp5 pipelined_pe " << a.luts << ", cyclone pipelined_pe "
            << b.luts << ", ecp5 dataflow " << c.luts << " (+" << c.dsps << " DSPs), ecp5 tiled_engine " << d.luts
            << " (+" << d.dsps << " DSPs)\n";
  return a.feasible && b.feasible && c.feasible && d.feasible ? 0 : 3;
}
