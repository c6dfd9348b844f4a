#pragma once
/// @file
/// FPGA devices and clocks. A device is a plain struct of `static constexpr` figures that models
/// hwnas::fpga::Device (fpga/concepts.hpp): its LUT family, how many LUTs, flip-flops, DSP units and block RAMs it
/// has, the shapes a block RAM can take, how many DSP units one multiplier occupies, and the highest clock its
/// datapath runs at (fmax, from the datasheet). A user device is one more
/// such struct (examples/custom_device). The cost models turn the type into a runtime `device_info` once, so the
/// arithmetic is shared by every device. Figures and their sources: docs/cost-models.md#devices.

#include <array>
#include <cmath>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "hwnas/core/error.hpp"

namespace hwnas::fpga {

/// The logic cell a device's LUT counts refer to; selects the calibration table (fpga/primitives.hpp).
enum class lut_family {
  /// 4-input LUT logic elements with a carry chain (Intel Cyclone IV LEs in arithmetic mode: an n-bit adder is about
  /// n LEs, Cyclone IV Device Handbook vol. 1, ch. 2); tables from yosys `synth_ice40` (SB_LUT4 + SB_CARRY, the same
  /// LUT4-plus-carry cell), docs/calibration.md
  lut4,
  lut6,  ///< 6-input LUTs with CARRY4 chains (AMD/Xilinx 7 series); tables from yosys `synth_xilinx`
  /// 4-input LUTs without carry chains: yosys `synth_intel -family cycloneive` tables (adders cost about twice what
  /// the device needs). The pessimistic LUT4 bound, for a user device whose flow does not map carry chains.
  lut4_nocarry
};

/// "lut4" / "lut6" / "lut4_nocarry".
constexpr std::string_view to_string(lut_family f) noexcept {
  return f == lut_family::lut4 ? "lut4" : f == lut_family::lut6 ? "lut6" : "lut4_nocarry";
}

/// One configuration of a block RAM: `width` bits per word, `depth` words.
struct bram_shape {
  int width = 1;
  int depth = 1;
};

/// A clock frequency as a type, for the cost-model policies: `pipelined_pe<cyclone_iv_ep4ce115, clock_mhz<100>>`.
/// @tparam MHz the frequency in MHz, 1..2000
template <int MHz>
struct clock_mhz {
  static_assert(MHz >= 1 && MHz <= 2000, "hwnas::fpga::clock_mhz<N>: N is the clock in MHz and must be in 1..2000");
  static constexpr double mhz = MHz;
};

/// The default clock of every cost model: 100 MHz.
using default_clock = clock_mhz<100>;

/// Intel Cyclone IV E EP4CE115 (the DE2-115 board): 114,480 logic elements (one LUT4 and one register each),
/// 266 embedded 18x18 multipliers (each usable as two 9x9, counted here as 532 9x9 units), 432 M9K blocks of
/// 9,216 bits. Source: Intel Cyclone IV Device Handbook, vol. 1, table 1-1.
struct cyclone_iv_ep4ce115 {
  static constexpr std::string_view name = "cyclone-iv-e115";
  static constexpr std::string_view description = "Intel Cyclone IV E EP4CE115";
  static constexpr lut_family family = lut_family::lut4;
  static constexpr std::int64_t luts = 114480;        ///< logic elements (LUT4)
  static constexpr std::int64_t flip_flops = 114480;  ///< one register per logic element
  static constexpr std::int64_t dsps = 532;           ///< 9x9 multiplier units (266 18x18 multipliers)
  static constexpr std::int64_t brams = 432;          ///< M9K blocks
  static constexpr std::int64_t bram_bits = 9216;     ///< bits per M9K, parity bits included
  /// Clock ceiling of this datapath, MHz: the M9K block's fmax in the C7 speed grade of the DE2-115's
  /// EP4CE115F29C7 (Cyclone IV Device Datasheet, CYIV-53001, memory block performance). Weights, line buffers
  /// and feature maps live in M9K, so no clock above it is usable; the LUT datapath may close lower (synthesis).
  static constexpr double fmax_mhz = 274.0;
  /// Reconfiguring the whole fabric (only pipelined_pe's reconfigure_groups option does): the EP4CE115's
  /// uncompressed configuration, 28,571,136 bits (Cyclone IV Device Handbook vol. 1, configuration chapter, raw
  /// binary file sizes), over fast passive parallel, 8 bits per DCLK at up to 100 MHz (same chapter, FPP timing).
  static constexpr std::int64_t config_bits = 28571136;
  static constexpr int config_port_bits = 8;
  static constexpr double config_clock_mhz = 100.0;
  /// The M9K configurations (simple dual port; x9/x18/x36 use the parity bits).
  static constexpr std::array<bram_shape, 9> bram_shapes{
      {{1, 8192}, {2, 4096}, {4, 2048}, {8, 1024}, {9, 1024}, {16, 512}, {18, 512}, {32, 256}, {36, 256}}};
  /// 9x9 units one product of an unsigned `act_bits` activation (a signed act_bits+1 operand) and a signed
  /// `weight_bits` weight takes: one 9x9 unit when both operands fit 9 bits, else one 18x18 multiplier (= 2 units).
  static constexpr int dsps_per_multiplier(int act_bits, int weight_bits) noexcept {
    return (act_bits + 1 <= 9 && weight_bits <= 9) ? 1 : 2;
  }
};

/// AMD/Xilinx Zynq-7000 XC7Z020 (programmable logic): 53,200 LUT6, 106,400 flip-flops, 220 DSP48E1 slices
/// (25x18 signed multipliers), 140 BRAM36 blocks of 36,864 bits. Source: Xilinx DS190, table 3.
struct xc7z020 {
  static constexpr std::string_view name = "xc7z020";
  static constexpr std::string_view description = "AMD/Xilinx Zynq-7000 XC7Z020";
  static constexpr lut_family family = lut_family::lut6;
  static constexpr std::int64_t luts = 53200;
  static constexpr std::int64_t flip_flops = 106400;
  static constexpr std::int64_t dsps = 220;   ///< DSP48E1 slices
  static constexpr std::int64_t brams = 140;  ///< BRAM36 blocks
  static constexpr std::int64_t bram_bits = 36864;
  /// Clock ceiling of this datapath, MHz: block RAM F_MAX (write-first / no-change, output register off) in the
  /// -1 speed grade of the common XC7Z020-1 boards (Xilinx DS187, block RAM switching characteristics); the
  /// DSP48E1's F_MAX (464 MHz, -1) is higher, so block RAM binds.
  static constexpr double fmax_mhz = 388.2;
  /// Reconfiguring the whole fabric (pipelined_pe's reconfigure_groups option): the XC7Z020's bitstream, 32,364,512
  /// bits (UG470, 7 Series Configuration, table 1-1), over ICAPE2 or SelectMAP, 32 bits at 100 MHz (UG909, maximum
  /// bandwidths of the 7-series configuration ports: 3.2 Gb/s).
  static constexpr std::int64_t config_bits = 32364512;
  static constexpr int config_port_bits = 32;
  static constexpr double config_clock_mhz = 100.0;
  /// The RAMB36E1 configurations (x72 in simple dual port mode).
  static constexpr std::array<bram_shape, 7> bram_shapes{
      {{1, 32768}, {2, 16384}, {4, 8192}, {9, 4096}, {18, 2048}, {36, 1024}, {72, 512}}};
  /// A BRAM36 splits into two independent RAMB18E1 halves of 18 Kb (x36 in simple dual port mode); Vivado and FINN
  /// count 0.5 blocks for each. Source: Xilinx UG473 (7 Series Memory Resources), RAMB18E1 port widths.
  static constexpr std::array<bram_shape, 6> bram_half_shapes{
      {{1, 16384}, {2, 8192}, {4, 4096}, {9, 2048}, {18, 1024}, {36, 512}}};
  /// yosys memory_libmap's costs of a RAMB36E1 and a RAMB18E1 (share/yosys/xilinx/brams_xc4v.txt, "FULL" and "HALF").
  static constexpr int bram_cost = 257, bram_half_cost = 129;
  /// LUTs that can hold distributed (LUT) RAM: the SLICEMs' LUTs, 17,400 of the 53,200 (the "LUT as Memory"
  /// capacity Vivado's utilization report gives for the xc7z020; UG474 describes the SLICEM). A memory of at most
  /// 128 words can live there instead of block RAM, its LUTs counted (lutram_luts() in fpga/primitives.hpp).
  static constexpr std::int64_t lutram_luts = 17400;
  /// One DSP48E1 (25x18) holds any product of a signed act_bits+1 operand and a signed weight_bits operand up to
  /// 25x18 (always, for the 1..16-bit formats hwnas uses), either way round.
  static constexpr int dsps_per_multiplier(int act_bits, int weight_bits) noexcept {
    const int x = act_bits + 1, y = weight_bits;
    return ((x <= 25 && y <= 18) || (x <= 18 && y <= 25)) ? 1 : 4;
  }
  /// Products one DSP48E1 computes at once when they share the activation (the PE lanes of an array do): two, when
  /// a + 2w <= 25 and a + 1 <= 18. The two weights are packed into the 25-bit port as w_hi * 2^(a+w) + w_lo, times
  /// the (a+1)-bit activation on the 18-bit port; the low product occupies the a + w bits below the shift (signed),
  /// the high one the bits above, corrected by the low product's sign. Products are summed outside the DSP (in the
  /// LUT adder trees), so no accumulation guard bits are needed. The technique is Xilinx WP486's (INT8 on the
  /// DSP48E2's 27-bit port); on the DSP48E1 it fits narrower operands: 4 x 4, 8 x 8 (8 + 16 = 24), not 9 x 9.
  static constexpr int products_per_dsp(int act_bits, int weight_bits) noexcept {
    return (act_bits + 2 * weight_bits <= 25 && act_bits + 1 <= 18) ? 2 : 1;
  }
};

/// The block RAM of the iCE40 families: SB_RAM40_4K, 4,096 bits, as 256 x 16, 512 x 8, 1,024 x 4 or 2,048 x 2 (Lattice
/// TN1250, Memory Usage Guide for iCE40 Devices; yosys maps ROMs and RAMs to it in synth_ice40).
inline constexpr std::array<bram_shape, 4> ice40_ebr_shapes{{{16, 256}, {8, 512}, {4, 1024}, {2, 2048}}};

/// Clock ceiling of the accelerator hwnas generates on an iCE40 (rtl/), MHz: not a datasheet figure but what
/// nextpnr-ice40 0.4's timing analysis gave after routing generated designs (docs/fidelity.md#clock, where each
/// design and its fmax are listed). These parts' block RAMs and logic cells are fast enough on their own; the
/// generated logic sets the clock (since the classifier's argmax runs tile by tile: the accumulator, requantizer and
/// max-pool into the output register, the line buffer's read address, the ready chain between layers), so the
/// ceiling is the slowest routed design's fmax rounded down: a design the model calls feasible at or below it routed
/// at that clock in every case measured. Measured again whenever the generated RTL changes.

/// Lattice iCE40 UltraPlus iCE40UP5K: 5,280 logic cells (a LUT4, a carry and a flip-flop each), 30 sysMEM EBRs of
/// 4 Kbit (120 Kbit), 8 DSP blocks (SB_MAC16: a 16 x 16 multiplier and a 32-bit accumulator), 4 SPRAM blocks of
/// 256 Kbit. Source: iCE40 UltraPlus Family Data Sheet, FPGA-DS-02008, table 1.1. The SPRAM (single-port, 16 bits
/// wide) is not used by the cost models: weights and line buffers are modelled in EBR, as the generated Verilog
/// infers them.
struct ice40_up5k {
  static constexpr std::string_view name = "ice40-up5k";
  static constexpr std::string_view description = "Lattice iCE40 UltraPlus iCE40UP5K";
  static constexpr lut_family family = lut_family::lut4;
  static constexpr std::int64_t luts = 5280;        ///< logic cells (SB_LUT4)
  static constexpr std::int64_t flip_flops = 5280;  ///< one flip-flop per logic cell
  static constexpr std::int64_t dsps = 8;           ///< SB_MAC16 blocks
  static constexpr std::int64_t brams = 30;         ///< EBR (SB_RAM40_4K)
  static constexpr std::int64_t bram_bits = 4096;
  static constexpr std::int64_t spram_blocks = 4;       ///< SB_SPRAM256KA, not used by the cost models
  static constexpr std::int64_t spram_bits = 262144;    ///< per block: 16K x 16
  static constexpr double fmax_mhz = 21.0;              ///< measured, see above: 21.89 MHz the slowest
  static constexpr std::array<bram_shape, 4> bram_shapes = ice40_ebr_shapes;
  static constexpr int bram_cost = 64;  ///< yosys memory_libmap's cost of an EBR (share/yosys/ice40/brams.txt)
  static constexpr bool bram_reads_old_data = false;  ///< a read meeting a write: bypassed in logic
  /// One SB_MAC16 holds a product of up to 16 x 16 bits (signed or unsigned operands); wider ones take four
  /// (16-bit partial products), never needed by the 1..16-bit formats hwnas uses except a 16-bit activation (17 bits
  /// signed).
  static constexpr int dsps_per_multiplier(int act_bits, int weight_bits) noexcept {
    return (act_bits + 1 <= 16 && weight_bits <= 16) ? 1 : 4;
  }
};

/// Lattice iCE40 HX8K (iCE40HX8K): 7,680 logic cells (a LUT4, a carry and a flip-flop each), 32 sysMEM EBRs of
/// 4 Kbit (128 Kbit), no DSP blocks: every multiplier is built from logic cells. Source: iCE40 LP/HX Family Data
/// Sheet, FPGA-DS-02029, table 1.1.
struct ice40_hx8k {
  static constexpr std::string_view name = "ice40-hx8k";
  static constexpr std::string_view description = "Lattice iCE40 HX8K";
  static constexpr lut_family family = lut_family::lut4;
  static constexpr std::int64_t luts = 7680;        ///< logic cells (SB_LUT4)
  static constexpr std::int64_t flip_flops = 7680;  ///< one flip-flop per logic cell
  static constexpr std::int64_t dsps = 0;           ///< none
  static constexpr std::int64_t brams = 32;         ///< EBR (SB_RAM40_4K)
  static constexpr std::int64_t bram_bits = 4096;
  static constexpr double fmax_mhz = 51.0;  ///< measured, see above: 51.11 MHz the slowest
  static constexpr std::array<bram_shape, 4> bram_shapes = ice40_ebr_shapes;
  static constexpr int bram_cost = 64;  ///< yosys memory_libmap's cost of an EBR (share/yosys/ice40/brams.txt)
  static constexpr bool bram_reads_old_data = false;  ///< a read meeting a write: bypassed in logic
  /// No DSP blocks: a model that asks is told a product cannot go there (more units than the device has).
  static constexpr int dsps_per_multiplier(int, int) noexcept { return 1; }
};

/// A device's figures as a runtime value, so the cost-model arithmetic is written once for every device.
struct device_info {
  std::string_view name;
  std::string_view description;
  lut_family family = lut_family::lut4;
  std::int64_t luts = 0, flip_flops = 0, dsps = 0, brams = 0, bram_bits = 0;
  std::span<const bram_shape> bram_shapes;
  int (*dsps_per_multiplier)(int, int) noexcept = nullptr;
  double fmax_mhz = 0.0;  ///< the clock ceiling of this datapath, MHz (a clock above it is a violation)
  /// Products one DSP unit computes at once when they share an activation (1 unless the device says otherwise).
  int (*products_per_dsp)(int, int) noexcept = nullptr;
  /// The shapes of half a block RAM when a block splits into two independent halves (XC7's RAMB18E1); empty when it
  /// does not. The cost models count block RAM in units of a half block then (bram_units_per_block = 2).
  std::span<const bram_shape> bram_half_shapes;
  /// LUTs usable as distributed RAM (0: the device has none, every memory is block RAM).
  std::int64_t lutram_luts = 0;
  /// Full configuration: bits, port width and port clock (0 when the device does not say: then it cannot be modelled
  /// as reconfigured between groups).
  std::int64_t config_bits = 0;
  int config_port_bits = 0;
  double config_clock_mhz = 0;
  /// The cost yosys's memory_libmap gives one block (bram_cost) and one half (bram_half_cost) when it chooses how to
  /// map a memory (fpga::bram_units_packed): its library's `cost` (ice40/brams.txt 64; xilinx/brams_xc4v.txt 257 for
  /// a RAMB36E1, 129 for a RAMB18E1). 64 where the device does not say (Cyclone IV: yosys maps its M9K with the older
  /// memory_bram rules, which have no cost).
  int bram_cost = 64, bram_half_cost = 32;
  /// Whether a block RAM returns the old word when a read meets a write to the same address on the same clock, as
  /// the generated Verilog describes (XC7 READ_FIRST). false on the iCE40: its EBR port declares no such behaviour
  /// (share/yosys/ice40/brams.txt), so yosys adds a bypass in flip-flops (fpga::place_memory).
  bool bram_reads_old_data = true;
  /// Block RAM is counted in units of 1 / bram_units_per_block of a block: 2 with halves, else 1.
  constexpr std::int64_t bram_units_per_block() const noexcept { return bram_half_shapes.empty() ? 1 : 2; }
};

namespace detail {
constexpr int one_product_per_dsp(int, int) noexcept { return 1; }
}  // namespace detail

/// The runtime figures of a device type (see hwnas::fpga::Device). Its members refer to static storage.
template <class D>
constexpr device_info info_of() noexcept {
  return device_info{D::name,
                     D::description,
                     D::family,
                     D::luts,
                     D::flip_flops,
                     D::dsps,
                     D::brams,
                     D::bram_bits,
                     std::span<const bram_shape>(D::bram_shapes.data(), D::bram_shapes.size()),
                     &D::dsps_per_multiplier,
                     static_cast<double>(D::fmax_mhz),
                     [] {
                       if constexpr (requires { { D::products_per_dsp(1, 1) } noexcept; })
                         return &D::products_per_dsp;
                       else
                         return &detail::one_product_per_dsp;
                     }(),
                     [] {
                       if constexpr (requires { D::bram_half_shapes.data(); })
                         return std::span<const bram_shape>(D::bram_half_shapes.data(), D::bram_half_shapes.size());
                       else
                         return std::span<const bram_shape>{};
                     }(),
                     [] {
                       if constexpr (requires { { D::lutram_luts } -> std::convertible_to<std::int64_t>; })
                         return static_cast<std::int64_t>(D::lutram_luts);
                       else
                         return std::int64_t{0};
                     }(),
                     [] {
                       if constexpr (requires { { D::config_bits } -> std::convertible_to<std::int64_t>; })
                         return static_cast<std::int64_t>(D::config_bits);
                       else
                         return std::int64_t{0};
                     }(),
                     [] {
                       if constexpr (requires { { D::config_port_bits } -> std::convertible_to<int>; })
                         return static_cast<int>(D::config_port_bits);
                       else
                         return 0;
                     }(),
                     [] {
                       if constexpr (requires { { D::config_clock_mhz } -> std::convertible_to<double>; })
                         return static_cast<double>(D::config_clock_mhz);
                       else
                         return 0.0;
                     }(),
                     [] {
                       if constexpr (requires { { D::bram_cost } -> std::convertible_to<int>; })
                         return static_cast<int>(D::bram_cost);
                       else
                         return 64;
                     }(),
                     [] {
                       if constexpr (requires { { D::bram_half_cost } -> std::convertible_to<int>; })
                         return static_cast<int>(D::bram_half_cost);
                       else if constexpr (requires { { D::bram_cost } -> std::convertible_to<int>; })
                         return (static_cast<int>(D::bram_cost) + 1) / 2;
                       else
                         return 32;
                     }(),
                     [] {
                       if constexpr (requires { { D::bram_reads_old_data } -> std::convertible_to<bool>; })
                         return static_cast<bool>(D::bram_reads_old_data);
                       else
                         return true;
                     }()};
}

/// Throws hwnas::invalid_argument unless a runtime clock is usable: finite and in 1..2000 MHz.
inline void check_clock_mhz(double mhz) {
  if (!(std::isfinite(mhz) && mhz >= 1.0 && mhz <= 2000.0))
    throw invalid_argument("FPGA clock: " + std::to_string(mhz) +
                           " MHz is not a usable clock; give a frequency in 1..2000 MHz (e.g. 100)");
}

}  // namespace hwnas::fpga
