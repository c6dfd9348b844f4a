#include <doctest/doctest.h>

#include "hwnas/fpga/concepts.hpp"
#include "hwnas/fpga/dataflow.hpp"
#include "hwnas/fpga/pipelined_pe.hpp"
#include "hwnas/fpga/registry.hpp"
#include "hwnas/fpga/tiled_engine.hpp"

using namespace hwnas;
using namespace hwnas::fpga;

namespace {
// A user's own device: a small LUT6 part with 18 Kbit block RAMs and 18x25 DSPs.
struct my_board {
  static constexpr std::string_view name = "my-board";
  static constexpr std::string_view description = "a made-up LUT6 part";
  static constexpr lut_family family = lut_family::lut6;
  static constexpr std::int64_t luts = 20000, flip_flops = 40000, dsps = 40, brams = 50, bram_bits = 18432;
  static constexpr std::array<bram_shape, 3> bram_shapes{{{9, 2048}, {18, 1024}, {36, 512}}};
  static constexpr int dsps_per_multiplier(int a, int w) noexcept { return a + 1 <= 25 && w <= 18 ? 1 : 2; }
  static constexpr double fmax_mhz = 300.0;
};
struct no_dsp_rule {  // misses dsps_per_multiplier
  static constexpr std::string_view name = "x", description = "x";
  static constexpr lut_family family = lut_family::lut4;
  static constexpr std::int64_t luts = 1, flip_flops = 1, dsps = 1, brams = 1, bram_bits = 1;
  static constexpr std::array<bram_shape, 1> bram_shapes{{{1, 1}}};
  static constexpr double fmax_mhz = 100.0;
};
struct wrong_family : my_board {
  static constexpr const char* family = "lut6";
};
struct not_a_model {
  using device_type = cyclone_iv_ep4ce115;
  using mapping_type = int;
  static constexpr std::string_view name = "x";
};
}  // namespace

static_assert(Device<cyclone_iv_ep4ce115>);
static_assert(Device<xc7z020>);
static_assert(Device<my_board>);
static_assert(!Device<no_dsp_rule>);
static_assert(!Device<wrong_family>);
static_assert(!Device<int>);
static_assert(ClockRate<clock_mhz<250>>);
static_assert(!ClockRate<int>);
static_assert(CostModel<pipelined_pe<cyclone_iv_ep4ce115, clock_mhz<100>>>);
static_assert(CostModel<pipelined_pe<xc7z020, clock_mhz<200>>>);
static_assert(CostModel<tiled_engine<my_board>>);
static_assert(CostModel<dataflow<xc7z020>>);
static_assert(CostModel<cost_model_archetype>);
static_assert(!CostModel<not_a_model>);
static_assert(!CostModel<int>);

TEST_CASE("devices: the figures of the issue") {
  constexpr auto c = info_of<cyclone_iv_ep4ce115>();
  CHECK(c.luts == 114480);
  CHECK(c.dsps == 532);
  CHECK(c.brams == 432);
  CHECK(c.bram_bits == 9216);
  CHECK(c.family == lut_family::lut4);
  constexpr auto x = info_of<xc7z020>();
  CHECK(x.luts == 53200);
  CHECK(x.flip_flops == 106400);
  CHECK(x.dsps == 220);
  CHECK(x.brams == 140);
  CHECK(x.family == lut_family::lut6);
  // DSP units per product: Cyclone IV 9x9 units (an 18x18 takes two), one DSP48E1 for anything up to 16 bits
  CHECK(cyclone_iv_ep4ce115::dsps_per_multiplier(8, 9) == 1);
  CHECK(cyclone_iv_ep4ce115::dsps_per_multiplier(9, 8) == 2);
  CHECK(cyclone_iv_ep4ce115::dsps_per_multiplier(16, 16) == 2);
  CHECK(xc7z020::dsps_per_multiplier(16, 16) == 1);
  CHECK(clock_mhz<100>::mhz == 100.0);
  CHECK(default_clock::mhz == 100.0);
}

TEST_CASE("devices: a user device works with every model") {
  const auto a = with_uniform_bits(reference_cnn(), 4);
  const spec s{.min_fps = 1000};
  const auto p = pipelined_pe<my_board>().map(a, s);
  const auto t = tiled_engine<my_board>().map(a, s);
  const auto d = dataflow<my_board>().map(a, s);
  CHECK(p.device == "my-board");
  CHECK(p.feasible);
  CHECK(t.feasible);
  CHECK(d.feasible);
  CHECK(t.dsps <= 40);
  CHECK(d.brams <= 50);
}

TEST_CASE_TEMPLATE("map: the least-LUT mapping meeting the spec, else the fastest within the limits, else the least-LUT",
                   Model, pipelined_pe<>, tiled_engine<>, dataflow<>) {
  const Model model;
  const auto a = with_uniform_bits(reference_cnn(), 4);
  const auto contains = [](const std::string& s, const char* part) { return s.find(part) != std::string::npos; };

  const spec easy{.min_fps = 100};
  const auto met = model.map(a, easy);
  CHECK(met.feasible);
  CHECK(contains(met.note, "least-LUT"));
  CHECK(contains(met.note, "meeting the spec"));
  CHECK(met.luts == model.evaluate(a, *model.best_mapping(a, easy), easy).luts);

  const auto device_luts = Model::device().luts;
  const spec too_fast{.max_luts = device_luts, .min_fps = 1e9};
  const auto fastest = model.map(a, too_fast);
  CHECK_FALSE(fastest.feasible);
  CHECK(contains(fastest.note, "shown: the fastest"));
  CHECK(fastest.cycles == model.evaluate(a, *model.fastest_mapping(a, too_fast), too_fast).cycles);

  const spec no_luts{.max_luts = 1};
  const auto least = model.map(a, no_luts);
  CHECK_FALSE(least.feasible);
  CHECK(contains(least.note, "fits the resource limits"));
  CHECK(contains(least.note, "shown: the least-LUT"));
  CHECK_FALSE(model.fastest_mapping(a, no_luts));
  // the least-LUT mapping with no limits at all: no feasible mapping of any spec has fewer LUTs
  CHECK(least.luts <= met.luts);
}

namespace {
struct few_flip_flops : my_board {
  static constexpr std::int64_t flip_flops = 10;
};
}  // namespace

template <template <class, class> class Model>
void check_flip_flops_and_fmax() {
  const auto a = with_uniform_bits(reference_cnn(), 4);
  const auto at_fmax = Model<my_board, default_clock>(my_board::fmax_mhz).map(a);
  CHECK(at_fmax.feasible);
  const auto over = Model<my_board, default_clock>(my_board::fmax_mhz + 1).map(a);
  CHECK_FALSE(over.feasible);
  REQUIRE(over.violations.size() == 1);
  CHECK(over.violations[0].constraint == "device_fmax");
  CHECK(over.violations[0].message.find("300 MHz") != std::string::npos);
  CHECK(over.note.find("exceeds the device's fmax") != std::string::npos);
  // The same model on a part with 10 flip-flops: every mapping needs more.
  const auto r = Model<few_flip_flops, default_clock>().map(a);
  CHECK_FALSE(r.feasible);
  bool ffs = false;
  for (const auto& v : r.violations) ffs = ffs || v.constraint == "device_ffs";
  CHECK(ffs);
}

TEST_CASE("map: a device's flip-flops and its fmax bound every model") {
  SUBCASE("pipelined_pe") { check_flip_flops_and_fmax<pipelined_pe>(); }
  SUBCASE("tiled_engine") { check_flip_flops_and_fmax<tiled_engine>(); }
  SUBCASE("dataflow") { check_flip_flops_and_fmax<dataflow>(); }
}

TEST_CASE("devices: the built-in parts' clock ceilings (datasheets)") {
  CHECK(cyclone_iv_ep4ce115::fmax_mhz == 274.0);  // M9K, C7 speed grade (CYIV-53001)
  CHECK(xc7z020::fmax_mhz == 388.2);              // block RAM F_MAX, -1 speed grade (DS187)
  const auto a = with_uniform_bits(reference_cnn(), 4);
  const auto r = pipelined_pe<xc7z020>(2000.0).map(a);
  CHECK_FALSE(r.feasible);
  CHECK(r.violations.back().constraint == "device_fmax");
}

static_assert(Device<ice40_up5k>);
static_assert(Device<ice40_hx8k>);

namespace {
/// A network small enough for an iCE40: one 3x3 conv of 4 filters with pooling, 4-bit, and the classifier.
architecture tiny_cnn() {
  auto a = reference_cnn();
  a.layers.resize(1);
  a.layers[0].filters = 4;
  return with_uniform_bits(a, 4);
}
}  // namespace

TEST_CASE("devices: the iCE40 parts count block RAM in 4 Kbit EBRs (256 x 16 ... 2,048 x 2)") {
  for (const auto& d : {info_of<ice40_up5k>(), info_of<ice40_hx8k>()}) {
    CAPTURE(d.name);
    CHECK(bram_units(d, 256, 16) == 1);
    CHECK(bram_units(d, 512, 8) == 1);
    CHECK(bram_units(d, 2048, 2) == 1);
    CHECK(bram_units(d, 1024, 8) == 2);   // 1,024 x 4 twice, side by side
    CHECK(bram_units(d, 256, 17) == 2);   // one bit wider than the widest shape
    CHECK(bram_units(d, 4096, 1) == 2);   // deeper than the deepest shape
    CHECK(d.bram_units_per_block() == 1);  // no half blocks
    CHECK(d.family == lut_family::lut4);   // the synth_ice40 tables the LUT4 family was calibrated on
  }
}

TEST_CASE("devices: an iCE40 design must run at or below the part's routed clock ceiling") {
  const auto a = tiny_cnn();
  for (const double mhz : {ice40_hx8k::fmax_mhz, ice40_hx8k::fmax_mhz + 1}) {
    const auto r = pipelined_pe<ice40_hx8k>(mhz).map(a);
    CHECK(r.feasible == (mhz <= ice40_hx8k::fmax_mhz));
    CHECK(r.brams <= 32);
  }
  const auto up = pipelined_pe<ice40_up5k>(ice40_up5k::fmax_mhz + 1).map(a);
  CHECK_FALSE(up.feasible);
  CHECK(up.violations.back().constraint == "device_fmax");
  // the reference CNN at 8 bits needs more LUTs or block RAM than the UP5K has (at 4 bits it fits: 29 of 30 EBRs)
  const auto big = pipelined_pe<ice40_up5k>(10.0).map(with_uniform_bits(reference_cnn(), 8));
  CHECK_FALSE(big.feasible);
  CHECK(pipelined_pe<ice40_up5k>(10.0).map(with_uniform_bits(reference_cnn(), 4)).feasible);
}

TEST_CASE("devices: the HX8K has no DSP blocks, so every multiplier is logic, and the UP5K's 8 SB_MAC16 bound the DSPs") {
  const auto a = tiny_cnn();
  const spec s{.min_fps = 1};
  const auto hx = tiled_engine<ice40_hx8k>(20.0).map(a, s);
  CHECK(hx.feasible);
  CHECK(hx.dsps == 0);
  CHECK(hx.dsp_utilization == 0.0);
  const auto hx_flow = dataflow<ice40_hx8k>(20.0).map(a, s);
  CHECK(hx_flow.dsps == 0);
  // nothing fits 1 LUT: the design shown instead is still built from logic, never from DSPs the part lacks
  for (const auto& r : {tiled_engine<ice40_hx8k>(20.0).map(a, {.max_luts = 1}),
                        dataflow<ice40_hx8k>(20.0).map(a, {.max_luts = 1})}) {
    CHECK_FALSE(r.feasible);
    CHECK(r.dsps == 0);
    CHECK(r.dsp_utilization == 0.0);
    for (const auto& v : r.violations) CHECK(v.constraint != "device_dsps");
  }
  // the UP5K's engines never take more than its 8 SB_MAC16, even when the spec asks for more speed than it has
  const auto up = tiled_engine<ice40_up5k>(10.0).map(a, {.min_fps = 1e9});
  CHECK(up.dsps <= 8);
  const auto up_fast = tiled_engine<ice40_up5k>(10.0).fastest_mapping(a, {});
  REQUIRE(up_fast);
  CHECK(tiled_engine<ice40_up5k>(10.0).evaluate(a, *up_fast, {}).dsps <= 8);
}

TEST_CASE("devices: the registry knows the iCE40 parts by the names the programs take") {
  CHECK(resolve_device("ice40-up5k", [](auto d) { return std::string(decltype(d)::type::description); }) ==
        "Lattice iCE40 UltraPlus iCE40UP5K");
  CHECK(resolve_device("ice40-hx8k", [](auto d) { return decltype(d)::type::dsps; }) == 0);
  CHECK(name_list(devices) == std::vector<std::string>{"cyclone-iv-e115", "xc7z020", "ice40-up5k", "ice40-hx8k"});
  CHECK_THROWS_WITH_AS(resolve_device("ice40-lp1k", [](auto) { return 0; }),
                       doctest::Contains("known: cyclone-iv-e115, xc7z020, ice40-up5k, ice40-hx8k"),
                       hwnas::invalid_argument);
}
