#include <doctest/doctest.h>

#include <map>
#include <set>
#include <utility>

#include "hwnas/core/rng.hpp"
#include "hwnas/fpga/calibration_tables.hpp"
#include "hwnas/fpga/detail/common.hpp"
#include "hwnas/fpga/devices.hpp"
#include "hwnas/fpga/primitives.hpp"

using namespace hwnas;
using namespace hwnas::fpga;

TEST_CASE_TEMPLATE("primitives: multipliers follow the synthesized table, made monotone", Dev, cyclone_iv_ep4ce115,
                   xc7z020) {
  const auto f = Dev::family;
  const auto& raw = f == lut_family::lut4 ? calibration::lut4_carry_mult : calibration::lut6_mult;
  for (int a = 1; a <= 16; ++a)
    for (int w = 1; w <= 16; ++w) {
      CAPTURE(a);
      CAPTURE(w);
      const auto c = multiplier_luts(f, a, w);
      CHECK(c >= 1);
      CHECK(c <= std::max<std::int64_t>(raw[a][w], 1));  // never above the measurement
      if (a < 16) CHECK(c <= multiplier_luts(f, a + 1, w));
      if (w < 16) CHECK(c <= multiplier_luts(f, a, w + 1));
      // equal to the measurement wherever the measurement is itself the least over wider ones
      bool least = true;
      for (int a2 = a; a2 <= 16; ++a2)
        for (int w2 = w; w2 <= 16; ++w2) least = least && raw[a][w] <= raw[a2][w2];
      if (least && raw[a][w] >= 1) CHECK(c == raw[a][w]);
    }
}

TEST_CASE("primitives: LUT4 with carry chains: an n-bit adder is n + 1 cells, without them about twice that") {
  for (int n = 2; n <= 48; ++n) {
    CAPTURE(n);
    CHECK(adder_luts(lut_family::lut4, n) == n + 1);  // the sum's n + 1 bits, one LUT4 + carry cell each
    CHECK(adder_luts(lut_family::lut4_nocarry, n) >= adder_luts(lut_family::lut4, n));  // the pessimistic bound
  }
  CHECK(adder_luts(lut_family::lut4_nocarry, 16) == 36);
  CHECK(multiplier_luts(lut_family::lut4_nocarry, 8, 8) == 163);  // synth_intel's table, kept
  CHECK(to_string(lut_family::lut4_nocarry) == "lut4_nocarry");
}

TEST_CASE_TEMPLATE("primitives: adders and accumulators, extrapolated past the table", Dev, cyclone_iv_ep4ce115,
                   xc7z020) {
  const auto f = Dev::family;
  for (int n = 1; n < 80; ++n) {
    CHECK(adder_luts(f, n) <= adder_luts(f, n + 1));
    CHECK(accumulator_luts(f, n) <= accumulator_luts(f, n + 1));
    CHECK(accumulator_ffs(n) <= accumulator_ffs(n + 1));
  }
  CHECK(adder_luts(f, 60) > adder_luts(f, 48));
  CHECK(adder_luts(f, 0) == 0);
}

TEST_CASE("primitives: adder trees, each level one bit wider") {
  const auto f = lut_family::lut4;
  auto add = [&](int n) { return adder_luts(f, n); };
  CHECK(adder_tree_luts(f, 1, 8) == 0);
  CHECK(adder_tree_luts(f, 2, 8) == add(8));
  CHECK(adder_tree_luts(f, 3, 8) == add(8) + add(9));
  CHECK(adder_tree_luts(f, 4, 8) == 2 * add(8) + add(9));
  CHECK(adder_tree_luts(f, 5, 8) == 2 * add(8) + add(9) + add(10));
  CHECK(adder_tree_luts(f, 8, 3) == 4 * add(3) + 2 * add(4) + add(5));
  CHECK(adder_tree_output_bits(1, 8) == 8);
  CHECK(adder_tree_output_bits(5, 8) == 11);
  CHECK(adder_tree_output_bits(8, 8) == 11);
  CHECK(ceil_log2(1) == 0);
  CHECK(ceil_log2(2) == 1);
  CHECK(ceil_log2(1025) == 11);
  CHECK(ceil_div(7, 2) == 4);
}

TEST_CASE("primitives: a PE column: products, a growing adder tree, the accumulator, the requantizer (fitted)") {
  CHECK(adder_tree_bits(1, 8) == 0);
  CHECK(adder_tree_bits(2, 8) == 8);
  CHECK(adder_tree_bits(3, 8) == 8 + 9);
  CHECK(adder_tree_bits(4, 8) == 2 * 8 + 9);
  CHECK(adder_tree_bits(64, 4) == 32 * 4 + 16 * 5 + 8 * 6 + 4 * 7 + 2 * 8 + 9);  // 309, not 63 rows of 10
  for (auto f : {lut_family::lut4, lut_family::lut6, lut_family::lut4_nocarry}) {
    const auto* fit = fpga::detail::tables_of(f).pe_fit;
    CHECK(fit[0] >= 0);
    CHECK(fit[1] >= 0);
    CHECK(fit[2] >= 0);
    for (int tn : {1, 2, 7, 64}) {
      const int a = 3, w = 4, acc = 16, out = 3;
      const std::int64_t fitted = std::max<std::int64_t>(
          0, ceil_div(fit[0] * tn * multiplier_luts(f, a, w) + fit[1] * adder_tree_bits(tn, 7) + fit[2] * acc, 100) +
                 fit[3]);
      CHECK(pe_column_luts(f, tn, a, w, acc, out, 3) == fitted + adder_luts(f, acc) + requantizer_luts(f, acc, out, 3));
    }
    for (std::int64_t n = 1; n < 40; ++n) {  // rises with Tn and every width
      CHECK(pe_column_luts(f, n, 3, 3, 20, 3, 2) <= pe_column_luts(f, n + 1, 3, 3, 20, 3, 2));
      CHECK(pe_column_luts(f, n, 3, 3, 20, 3, 2) <= pe_column_luts(f, n, 4, 3, 20, 3, 2));
      CHECK(pe_column_luts(f, n, 3, 3, 20, 3, 2) <= pe_column_luts(f, n, 3, 4, 20, 3, 2));
      CHECK(pe_column_luts(f, n, 3, 3, 20, 3, 2) <= pe_column_luts(f, n, 3, 3, 21, 3, 2));
      CHECK(pe_column_luts(f, n, 1, 3, 20, 3, 2) <= pe_column_luts(f, n, 2, 3, 20, 3, 2));
      CHECK(pe_column_luts(f, n, 3, 1, 20, 3, 2) <= pe_column_luts(f, n, 3, 2, 20, 3, 2));
    }
  }
}

TEST_CASE("primitives: 1-bit weights are bipolar: a x 1 products are +-a, a + 1 bits, summed like any other") {
  for (auto f : {lut_family::lut4, lut_family::lut6})
    for (std::int64_t n : {1, 2, 3, 7, 16, 64}) {
      const auto a1 = pe_array(f, n, 1, 1, 1, 20, 0), a2 = pe_array(f, n, 1, 1, 2, 20, 0);
      CHECK(a1.luts <= a2.luts);  // never more than a 1 x 2 datapath
      CHECK(a1.luts == pe_column_luts(f, n, 1, 1, 20, 0, 1));
    }
  CHECK(product_bits(1, 1) == 2);  // {-1, 0, +1}
  CHECK(product_bits(4, 1) == 5);
  CHECK(product_bits(4, 4) == 8);
  CHECK(array_product_luts(lut_family::lut4, 4, 1) == 4);  // conditional inversion, the +1 in the tree
  CHECK(array_product_luts(lut_family::lut4, 4, 2) == multiplier_luts(lut_family::lut4, 4, 2));
  CHECK(array_product_bits(lut_family::lut4, 1, 5) == 5);  // 0 or the weight
  CHECK(array_product_bits(lut_family::lut6, 1, 5) == 6);
}

TEST_CASE("primitives: requantizer and PE array") {
  CHECK(requantizer_luts(lut_family::lut4, 20, 0, 3) == 0);
  CHECK(requantizer_luts(lut_family::lut4_nocarry, 16, 4, 3) == 2 * 4 + ceil_div(16 - 3 - 4 + 1, 3));
  CHECK(requantizer_luts(lut_family::lut4, 16, 4, 3) == (16 - 3) + 4 + ceil_div(16 - 3 - 4, 4));  // carry chain
  CHECK(requantizer_luts(lut_family::lut6, 16, 4, 3) == 4 + ceil_div(16 - 3 - 4 + 1, 5));
  for (int acc = 8; acc < 40; ++acc) {
    CHECK(requantizer_luts(lut_family::lut4, acc, 4, 3) <= requantizer_luts(lut_family::lut4, acc + 1, 4, 3));
    CHECK(requantizer_luts(lut_family::lut6, acc, 4, 3) <= requantizer_luts(lut_family::lut6, acc, 5, 3));
  }
  CHECK(requantizer_default_shift(1) == 1);
  CHECK(requantizer_default_shift(8) == 7);
  const auto f = lut_family::lut6;
  const auto c = pe_array(f, 4, 3, 4, 4, 16, 4);
  CHECK(c.luts ==
        3 * pe_column_luts(f, 4, 4, 4, 16, 4, 3));
  CHECK(c.ffs == 3 * (4 * 8 + accumulator_ffs(16) + 4));
  const auto d = pe_array(f, 4, 3, 4, 4, 16, 4, true);
  CHECK(d.luts == 3 * pe_column_luts(f, 4, 4, 4, 16, 4, 3, true));  // the products in DSPs cost no LUTs
  CHECK(c.luts - d.luts >= 12 * multiplier_luts(f, 4, 4) * 9 / 10);
}

TEST_CASE("primitives: block RAM count picks the best block shape") {
  const auto m9k = info_of<cyclone_iv_ep4ce115>().bram_shapes;
  const auto b36 = info_of<xc7z020>().bram_shapes;
  CHECK(bram_blocks(m9k, 0, 8) == 0);
  CHECK(bram_blocks(m9k, 100, 0) == 0);
  CHECK(bram_blocks(m9k, 1024, 9) == 1);
  CHECK(bram_blocks(m9k, 1025, 9) == 2);
  CHECK(bram_blocks(m9k, 8192, 1) == 1);
  CHECK(bram_blocks(m9k, 256, 36) == 1);
  CHECK(bram_blocks(m9k, 256, 72) == 2);
  CHECK(bram_blocks(m9k, 10, 360) == 10);  // wide and shallow: width decides
  CHECK(bram_blocks(b36, 512, 72) == 1);
  CHECK(bram_blocks(b36, 32768, 1) == 1);
  CHECK(bram_blocks(b36, 4096, 10) == 2);  // 2 x (4096 x 9)... or (2048 x 18) x 2: both 2
  CHECK(bram_blocks(b36, 100, 720) == 10);
  for (const auto& s : m9k) CHECK(std::int64_t{s.width} * s.depth <= cyclone_iv_ep4ce115::bram_bits);
  for (const auto& s : b36) CHECK(std::int64_t{s.width} * s.depth <= xc7z020::bram_bits);
}

TEST_CASE("primitives: XC7 block RAM in halves (RAMB18) and LUT RAM, Cyclone IV in whole M9Ks") {
  const auto cyc = info_of<cyclone_iv_ep4ce115>();
  const auto x7 = info_of<xc7z020>();
  CHECK(cyc.bram_units_per_block() == 1);
  CHECK(x7.bram_units_per_block() == 2);
  // Cyclone IV: a unit is an M9K
  CHECK(bram_units(cyc, 1024, 9) == 1);
  CHECK(bram_units(cyc, 1025, 9) == 2);
  // XC7: a unit is half a BRAM36
  CHECK(bram_units(x7, 512, 36) == 1);     // one RAMB18 (512 x 36)
  CHECK(bram_units(x7, 16384, 1) == 1);    // one RAMB18 (16K x 1)
  CHECK(bram_units(x7, 512, 72) == 2);     // a whole BRAM36 (x72) or two halves: 2 units either way
  CHECK(bram_units(x7, 32768, 1) == 2);    // a whole block; no half holds 32K words
  CHECK(bram_units(x7, 600, 36) == 2);     // two halves stacked
  CHECK(bram_units(x7, 100, 720) == 20);   // 20 x36 halves side by side (= 10 blocks of x72)
  CHECK(bram_units(x7, 0, 8) == 0);
  for (const auto& s : xc7z020::bram_half_shapes) CHECK(std::int64_t{s.width} * s.depth * 2 <= xc7z020::bram_bits);
  // LUT RAM (UG474): RAM32M 32 x 6, RAM64M 64 x 3, RAM128X1D 128 x 1, each 4 LUTs
  CHECK(lutram_luts(x7, 32, 6) == 4);
  CHECK(lutram_luts(x7, 32, 7) == 8);
  CHECK(lutram_luts(x7, 33, 3) == 4);
  CHECK(lutram_luts(x7, 64, 4) == 8);
  CHECK(lutram_luts(x7, 128, 2) == 8);
  CHECK(lutram_luts(x7, 129, 1) == -1);   // too deep: block RAM
  CHECK(lutram_luts(cyc, 16, 4) == -1);   // Cyclone IV has no LUT RAM
  CHECK(x7.lutram_luts == 17400);
  CHECK(cyc.lutram_luts == 0);
  const auto in_lutram = memory(x7, 64, 3, true), in_bram = memory(x7, 64, 3, false), deep = memory(x7, 500, 3, true);
  CHECK(in_lutram.luts == 4);
  CHECK(in_lutram.bram_units == 0);
  CHECK(in_bram.bram_units == 1);
  CHECK(in_bram.luts == 0);
  CHECK(deep.bram_units == 1);  // falls back to block RAM
  CHECK(deep.luts == 0);
}

TEST_CASE("primitives: the RTL's memories: shallow ones in logic, the rest in block RAM, one copy per read port") {
  const auto ice = info_of<ice40_hx8k>(), x7 = info_of<xc7z020>();
  // by depth only: a ROM up to 64 words, a RAM up to 4 (yosys 0.23's own choice on the iCE40)
  CHECK(memory_in_logic(64, true));
  CHECK_FALSE(memory_in_logic(65, true));
  CHECK(memory_in_logic(4, false));
  CHECK_FALSE(memory_in_logic(5, false));
  // a deep memory: block RAM units times its read ports, no LUTs; on the iCE40 the bypass of a read meeting a
  // write (bram_bypass_ffs: 2 x 24 + 7 address bits + 1 + 3 ports)
  const auto lb = place_memory(ice, 84, 24, false, 3);
  CHECK(lb.bram_units == 3 * bram_units(ice, 84, 24));
  CHECK(lb.bram_units == 6);  // 256 x 16 blocks: 2 per copy
  CHECK(lb.luts == 0);
  CHECK(lb.ffs == 59);
  CHECK(place_memory(x7, 84, 24, false, 2).bram_units == 2 * bram_units(x7, 84, 24));
  // a shallow ROM: LUTs per output bit, one up to 16 words on a LUT4 (64 on a LUT6), then a tree with its muxes
  CHECK(logic_rom_bit_luts(lut_family::lut4, 1) == 0);  // one word: constants
  CHECK(logic_rom_bit_luts(lut_family::lut4, 16) == 1);
  CHECK(logic_rom_bit_luts(lut_family::lut4, 17) == 3);
  CHECK(logic_rom_bit_luts(lut_family::lut4, 64) == 7);
  CHECK(logic_rom_bit_luts(lut_family::lut6, 64) == 1);
  const auto rom = place_memory(ice, 40, 24, true);
  CHECK(rom.bram_units == 0);
  CHECK(rom.luts == 24 * 5);
  CHECK(rom.ffs == 24);  // its registered read (the RTL's w1)
  // a ROM of few words has few distinct non-constant columns: at most 2^depth - 2, each one LUT function and one
  // register (yosys merges equal ones, drops constant ones)
  CHECK(logic_rom_columns(1, 100) == 0);
  CHECK(logic_rom_columns(2, 100) == 2);
  CHECK(logic_rom_columns(4, 144) == 14);
  CHECK(logic_rom_columns(4, 10) == 10);
  CHECK(logic_rom_columns(64, 40) == 40);
  const auto tiny = place_memory(x7, 4, 144, true);
  CHECK(tiny.luts == 14);
  CHECK(tiny.ffs == 14);
  CHECK(place_memory(x7, 16, 1152, true).ffs == 1152);
  // a shallow RAM: depth x width flip-flops, a depth:1 multiplexer per bit and read port
  const auto ram = place_memory(ice, 4, 10, false, 2);
  CHECK(ram.bram_units == 0);
  CHECK(ram.ffs == 40);
  CHECK(ram.luts == 2 * 10 * 3);
  CHECK(place_memory(ice, 0, 10, true).luts == 0);
  // never fewer logic LUTs for a wider memory of the same depth (block RAM need not rise: see below)
  for (std::int64_t depth = 1; depth <= 300; depth += 7)
    for (std::int64_t width = 1; width < 80; ++width)
      for (const bool r : {false, true}) {
        const auto a = place_memory(ice, depth, width, r), b = place_memory(ice, depth, width + 1, r);
        CHECK(a.luts <= b.luts);
      }
}

TEST_CASE("primitives: block RAM as yosys memory_libmap maps it: one mode, words folded, least cost") {
  const auto ice = info_of<ice40_hx8k>(), x7 = info_of<xc7z020>();
  // (depth, width, read ports, ROM?, units yosys 0.23 used): synth_ice40 SB_RAM40_4K and synth_xilinx RAMB18E1 +
  // 2 RAMB36E1 on memories of random words, measured 2026-12-01 (docs/cost-models.md#bram)
  struct measured {
    std::int64_t depth, width, ports;
    bool rom;
    std::int64_t units;
  };
  const measured ice40[] = {
      {1280, 5, 1, true, 2},     {714, 26, 1, true, 5},     {15680, 3, 1, true, 12},   {1362, 33, 1, true, 13},
      {2231, 20, 1, true, 12},   {5000, 3, 1, true, 4},     {5000, 5, 1, true, 7},     {9000, 1, 1, true, 3},
      {300, 20, 1, true, 3},     {1165, 37, 1, true, 12},   {581, 17, 1, true, 4},     {1030, 32, 1, true, 10},
      {3747, 31, 1, true, 31},   {5402, 25, 1, true, 35},   {1784, 7, 1, true, 4},     {4061, 2, 1, true, 2},
      {3258, 28, 1, true, 23},   {5041, 1, 1, true, 2},     {5765, 29, 1, true, 44},   {2246, 15, 1, true, 9},
      {4907, 7, 1, true, 9},     {2665, 2, 1, true, 2},     {247, 2, 1, true, 1},      {5386, 35, 1, true, 49},
      {140, 25, 1, true, 2},     {5688, 14, 1, true, 21},   {3522, 2, 1, true, 2},     {4387, 15, 1, true, 17},
      {3652, 32, 1, true, 32},   {4594, 15, 1, true, 17},   {2896, 15, 1, true, 12},   {5609, 15, 1, true, 21},
      {3830, 19, 1, true, 19},   {241, 27, 1, true, 2},     {11886, 84, 1, true, 252}, {1545, 24, 1, true, 12},
      {1545, 25, 1, true, 11},   {1545, 26, 1, true, 13},   {25633, 85, 1, true, 553}, {37678, 25, 1, true, 232},
      {6389, 61, 1, true, 100},  {13660, 36, 1, true, 126},  {1527, 47, 1, true, 18},  {106, 98, 1, true, 7},
      {251, 51, 1, true, 4},     {1912, 40, 1, true, 20},    {979, 152, 1, false, 38},  {1520, 155, 3, false, 177},
      {2567, 149, 1, false, 112}, {2485, 4, 3, false, 9},   {1067, 142, 1, false, 45}, {790, 184, 3, false, 138},
      {2220, 141, 3, false, 240}, {1631, 164, 1, false, 72}, {954, 163, 1, false, 41}, {2147, 100, 1, false, 57},
      {2755, 199, 1, false, 137}, {657, 195, 1, false, 37}};
  for (const auto& m : ice40) {
    CAPTURE(m.depth);
    CAPTURE(m.width);
    CHECK(m.ports * bram_units_packed(ice, m.depth, m.width, m.rom) == m.units);
  }
  const measured xc7[] = {{31360, 14, 1, true, 25}, {15680, 7, 1, true, 7},   {928, 56, 1, true, 4},
                          {19740, 89, 1, true, 100}, {2735, 60, 1, true, 10}, {1085, 15, 1, true, 2},
                          {1587, 49, 1, true, 6},   {2292, 2, 1, true, 1},    {29748, 24, 1, true, 40},
                          {1660, 18, 1, true, 2},   {2596, 17, 1, true, 3},   {72, 100, 1, true, 3},
                          {947, 38, 1, true, 3},    {1349, 24, 1, true, 2},   {15902, 39, 1, true, 35},
                          {26670, 22, 1, true, 33}, {661, 43, 1, true, 3},    {3221, 9, 1, true, 2}};
  for (const auto& m : xc7) {
    CAPTURE(m.depth);
    CAPTURE(m.width);
    CHECK(bram_units_packed(x7, m.depth, m.width, m.rom) == m.units);
  }
  // a folded mode beats every tiling of the rectangle by block shapes: 1280 x 5 in two 512 x 8 blocks, 3 words a row
  CHECK(bram_units_packed(ice, 1280, 5) == 2);
  CHECK(bram_blocks(ice.bram_shapes, 1280, 5) == 3);
  // and yosys trades a block for a multiplexer: 3747 x 31 in 2048 x 2 folded twice (31 blocks, 31 2:1 multiplexers)
  // rather than 256 x 16 folded 15 times (30 blocks, 31 15:1 multiplexers); so a wider memory can take fewer blocks
  CHECK(bram_units_packed(ice, 1545, 25) < bram_units_packed(ice, 1545, 24));
  CHECK(bram_units_packed(ice, 0, 4) == 0);
  // never below the bits; a huge memory answers at once
  for (std::int64_t depth = 1; depth <= 40000; depth += 373)
    for (std::int64_t width = 1; width <= 100; width += 3) {
      CAPTURE(depth);
      CAPTURE(width);
      CHECK(bram_units_packed(ice, depth, width) * 4096 >= depth * width);
      CHECK(bram_units_packed(x7, depth, width) * 18432 >= depth * width);
    }
  CHECK(bram_units_packed(ice, 131072000, 4) >= 131072000 / 1024);
}

TEST_CASE("primitives: the iCE40's block RAM bypass, measured with yosys, and none on the XC7") {
  // synth_ice40 flip-flops of a RAM in EBRs written and read on one clock (depth, width, read ports), 2026-12-01
  struct measured {
    std::int64_t depth, width, ports, ffs;
  };
  for (const auto& m : {measured{84, 128, 1, 265}, measured{84, 128, 2, 266}, measured{140, 8, 1, 26},
                        measured{98, 48, 2, 106}, measured{56, 64, 2, 137}, measured{300, 20, 3, 53}}) {
    CAPTURE(m.depth);
    CAPTURE(m.width);
    CHECK(bram_bypass_ffs(m.depth, m.width, m.ports) == m.ffs);
  }
  const auto ice = info_of<ice40_up5k>(), x7 = info_of<xc7z020>();
  CHECK_FALSE(ice.bram_reads_old_data);
  CHECK(x7.bram_reads_old_data);
  CHECK(place_memory(ice, 84, 128, false, 2).ffs == 266);  // a RAM in block RAM: the bypass, once for its copies
  CHECK(place_memory(x7, 84, 128, false, 2).ffs == 0);
  CHECK(place_memory(ice, 84, 128, true).ffs == 0);  // a ROM is never written
}

TEST_CASE("detail: read ports of a pass: the pixels its products straddle") {
  // brute force: mark the pixels each pass touches
  for (std::int64_t channels = 1; channels <= 9; ++channels)
    for (const std::int64_t k : {1, 2, 3, 5}) {
      const std::int64_t extent = channels * k * k;
      for (std::int64_t tn = 1; tn <= extent; ++tn) {
        std::int64_t most = 0;
        for (std::int64_t lo = 0; lo < extent; lo += tn) {
          std::set<std::int64_t> px;
          for (std::int64_t i = lo; i < std::min(extent, lo + tn); ++i) px.insert(i / channels);
          most = std::max<std::int64_t>(most, static_cast<std::int64_t>(px.size()));
        }
        CHECK(fpga::detail::pe_read_ports(tn, channels, extent) == most);
      }
    }
}

TEST_CASE("detail: quotient candidates are exactly the distinct ceil(x / q)") {
  for (int x = 1; x <= 400; ++x) {
    std::set<int> expect;
    for (int q = 1; q <= x; ++q) expect.insert(static_cast<int>(ceil_div(x, q)));
    const auto got = fpga::detail::quotient_candidates(x);
    CHECK(std::vector<int>(expect.begin(), expect.end()) == got);
  }
}

TEST_CASE("detail: Pareto filter keeps exactly the non-dominated points") {
  rng r(3);
  for (int dims = 2; dims <= 4; ++dims)
    for (int trial = 0; trial < 50; ++trial) {
      std::vector<fpga::detail::frontier_point> v(40);
      for (auto& p : v)
        for (int i = 0; i < dims; ++i) p.k[i] = static_cast<std::int64_t>(r.below(12));
      auto dominated = [&](const fpga::detail::frontier_point& p) {
        for (const auto& q : v) {
          bool le = true, lt = false;
          for (int i = 0; i < 4; ++i) {
            le = le && q.k[i] <= p.k[i];
            lt = lt || q.k[i] < p.k[i];
          }
          if (le && lt) return true;
        }
        return false;
      };
      std::set<std::vector<std::int64_t>> expect;
      for (const auto& p : v)
        if (!dominated(p)) expect.insert({p.k[0], p.k[1], p.k[2], p.k[3]});
      auto f = v;
      fpga::detail::pareto_filter(f, dims);
      std::set<std::vector<std::int64_t>> got;
      for (const auto& p : f) got.insert({p.k[0], p.k[1], p.k[2], p.k[3]});
      CHECK(got.size() == f.size());  // one point per distinct key
      CHECK(got == expect);
    }
}
