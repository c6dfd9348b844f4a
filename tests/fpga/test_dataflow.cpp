#include <doctest/doctest.h>

#include <cmath>
#include <string>

#include "fpga_test_util.hpp"
#include "hwnas/fpga/dataflow.hpp"
#include "hwnas/fpga/pipelined_pe.hpp"
#include "hwnas/fpga/tiled_engine.hpp"

using namespace hwnas;
using namespace hwnas::fpga;
using hwnas::fpga::test::has_violation;

namespace {

dataflow_mapping random_folding(rng& r, const std::vector<layer_geometry>& g) {
  dataflow_mapping m;
  for (const auto& l : g) {
    const auto pe = fpga::detail::divisors(l.out_channels), simd = fpga::detail::divisors(static_cast<int>(fpga::detail::reduction_length(l)));
    m.layers.push_back({pe[r.below(pe.size())], simd[r.below(simd.size())], r.below(2) == 1});
  }
  return m;
}

}  // namespace

TEST_CASE("dataflow: divisors") {
  CHECK(fpga::detail::divisors(1) == std::vector<int>{1});
  CHECK(fpga::detail::divisors(12) == std::vector<int>{1, 2, 3, 4, 6, 12});
  CHECK(fpga::detail::divisors(49) == std::vector<int>{1, 7, 49});
}

TEST_CASE("dataflow: cycles = max((M/PE)(K^2 N/SIMD) R C, H W), fps from the slowest layer, latency with fills") {
  const auto a = with_uniform_bits(reference_cnn(), 4);
  const auto g = geometry(a);
  const dataflow<> model;
  const dataflow_mapping m{{{4, 1, false}, {8, 4, true}, {2, 8, false}}};
  const auto r = model.evaluate(a, m);
  const std::int64_t c0 = (16 / 4) * 9 * 1 * 28 * 28, c1 = (32 / 8) * 9 * (16 / 4) * 14 * 14,
                     c2 = std::max<std::int64_t>((10 / 2) * (1568 / 8), 7 * 7);
  REQUIRE(r.layers.size() == 3);
  CHECK(r.layers[0].cycles == c0);
  CHECK(r.layers[1].cycles == c1);
  CHECK(r.layers[2].cycles == c2);
  CHECK(r.cycles == std::max({c0, c1, c2}));
  const std::int64_t t = std::max({c0, c1, c2});
  const auto fill = [&](std::size_t l) { return (t * g[l].pixels_to_first_output + g[l].in_pixels - 1) / g[l].in_pixels; };
  CHECK(r.latency_cycles == t + fill(0) + fill(1));  // the classifier answers after its last input
  // SIMD over the window: 9 products of the first layer's 3x3 window at once (N = 1)
  const auto w = model.evaluate(a, dataflow_mapping{{{4, 9, false}, {8, 4, true}, {2, 8, false}}});
  CHECK(w.layers[0].cycles == (16 / 4) * 28 * 28);
  CHECK_THROWS_WITH_AS(model.evaluate(a, dataflow_mapping{{{4, 2, false}, {8, 4, true}, {2, 8, false}}}),
                       doctest::Contains("SIMD = 2 must divide N*K*K = 9"), hwnas::invalid_argument);
  CHECK(r.luts == r.layers[0].luts + r.layers[1].luts + r.layers[2].luts);
  CHECK(r.dsps == 8 * 4 * cyclone_iv_ep4ce115::dsps_per_multiplier(4, 4));
  CHECK(r.layers[0].dsps == 0);
  CHECK(r.brams == r.layers[0].brams + r.layers[1].brams + r.layers[2].brams);
  CHECK_THROWS_WITH_AS(model.evaluate(a, dataflow_mapping{{{3, 1, false}, {8, 4, true}, {2, 8, false}}}),
                       doctest::Contains("PE = 3 must divide M = 16"), hwnas::invalid_argument);
}

TEST_CASE("dataflow: the exact folding search equals brute force on random small architectures and specs") {
  const auto t = test::check_searches_against_brute_force(
      dataflow<>(), dataflow<xc7z020>(), 99, 100,
      [](rng& r, int trial) { return test::random_small_architecture(r, trial % 4 == 0 ? 3 : 2, 9); }, random_folding);
  CHECK(t.feasible > 20);
  CHECK(t.infeasible > 5);
}

TEST_CASE("dataflow: properties") {
  const dataflow<> model;
  SUBCASE("a larger LUT budget never lowers the best reachable fps") {
    const auto a = with_uniform_bits(reference_cnn(), 5);
    double last = 0;
    for (std::int64_t budget = 100; budget <= 100000; budget = budget * 2) {
      const auto m = model.fastest_mapping(a, spec{.max_luts = budget, .max_dsps = 40});
      if (!m) continue;
      const auto r = model.evaluate(a, *m);
      CHECK(r.luts <= budget);
      CHECK(r.dsps <= 40);
      CHECK(r.fps >= last);
      last = r.fps;
    }
    CHECK(last > 0);
  }
  SUBCASE("more bits never lower the LUTs") {
    for (int bits = 2; bits < 12; ++bits) {
      const auto lo = with_uniform_bits(reference_cnn(), bits), hi = with_uniform_bits(reference_cnn(), bits + 1);
      for (const spec& s :
           {spec{.min_fps = 500}, spec{.max_dsps = 0, .min_fps = 1500}, spec{.max_dsps = 30, .min_fps = 3000}}) {
        const auto ml = model.best_mapping(lo, s), mh = model.best_mapping(hi, s);
        REQUIRE(ml);
        if (!mh) continue;
        CHECK(model.evaluate(lo, *ml).luts <= model.evaluate(hi, *mh).luts);
      }
    }
  }
  SUBCASE("the search uses DSPs where LUTs are short, and honours a DSP ceiling") {
    const auto a = with_uniform_bits(reference_cnn(), 8);
    const auto free = model.map(a, spec{.min_fps = 3000});
    const auto none = model.map(a, spec{.max_dsps = 0, .min_fps = 3000});
    REQUIRE(free.feasible);
    REQUIRE(none.feasible);
    CHECK(none.dsps == 0);
    CHECK(free.luts <= none.luts);
  }
}

TEST_CASE("dataflow: infeasible reasons") {
  const dataflow<> model;
  const auto a = with_uniform_bits(reference_cnn(), 4);
  const auto r = model.map(a, spec{.max_luts = 3000, .max_dsps = 0, .min_fps = 1e6});
  CHECK_FALSE(r.feasible);
  CHECK(has_violation(r, "min_fps"));
  CHECK(r.luts <= 3000);
  const auto lat = model.map(a, spec{.max_latency_ms = 1e-4});
  CHECK_FALSE(lat.feasible);
  CHECK(has_violation(lat, "max_latency_ms"));
  const auto dsp = model.map(a, spec{.max_luts = 50, .max_dsps = 0});
  CHECK_FALSE(dsp.feasible);
  CHECK(has_violation(dsp, "max_luts"));
}

TEST_CASE("dataflow: identical hardware gives pipelined_pe's figures (one group, Tn = SIMD, Tm = PE)") {
  rng r(515);
  int compared = 0;
  for (int trial = 0; trial < 60; ++trial) {
    const auto a = test::random_small_architecture(r, 3, 8);
    const auto g = geometry(a);
    const auto folding = random_folding(r, g);
    pe_mapping same;
    for (const auto& x : folding.layers) same.layers.push_back({x.simd, x.pe, 0});
    const auto d = dataflow<>().evaluate(a, folding);
    const auto p = pipelined_pe<>().evaluate(a, same);
    CAPTURE(trial);
    CHECK(d.cycles == p.cycles);
    CHECK(d.latency_cycles == p.latency_cycles);
    CHECK(d.fps == p.fps);
    CHECK(d.latency_ms == p.latency_ms);
    // Block RAM differs by design: dataflow keeps FINN's window buffers, every memory in block RAM; pipelined_pe
    // places each memory as hwnas's RTL declares it (shallow ones in logic, a line-buffer copy per read port).
    bool all_luts = true;
    for (const auto& x : folding.layers) all_luts = all_luts && !x.dsp;
    // the same arrays in LUTs; pipelined_pe adds the shells of the layers hwnas's RTL builds around them, the
    // memories that RTL keeps in logic and its lane selection
    std::int64_t shells = 0;
    for (std::size_t l = 0; l < g.size(); ++l)
      shells += fpga::detail::pe_layer_shell(lut_family::lut4, g[l]).luts +
                fpga::detail::pe_layer(pipelined_pe<>().device(), g[l], same.layers[l].tn, same.layers[l].tm).own_luts();
    if (all_luts) CHECK(d.luts == p.luts - shells);
    ++compared;
  }
  CHECK(compared == 60);
}

TEST_CASE("dataflow: the window unrolls, so the 4-bit reference CNN reaches 20,000 fps on the XC7Z020") {
  const auto a = with_uniform_bits(reference_cnn(), 4);
  const auto r = dataflow<xc7z020>().map(a, spec{.min_fps = 20000});
  CHECK(r.feasible);
  CHECK(r.layers[0].parallelism[1].second > 1);  // SIMD > N = 1
}

TEST_CASE("dataflow: XC7 block RAM counts halves and small memories may go to LUT RAM (issue example)") {
  const auto a = with_uniform_bits(reference_cnn(), 4);
  const dataflow<xc7z020> model;
  // was "9 > 6" when every memory took a whole BRAM36
  const auto r = model.map(a, spec{.max_brams = 6, .min_fps = 1000});
  CHECK(r.feasible);
  CHECK(r.brams <= 6);
  // without LUT RAM, the halves alone: some layer takes an odd number of halves
  const dataflow_mapping all_bram{{{2, 1, true, false}, {2, 6, true, false}, {1, 1, true, false}}};
  const auto b = model.evaluate(a, all_bram);
  bool odd_half = false;
  for (const auto& l : b.layers) odd_half = odd_half || (l.brams != std::floor(l.brams));
  CHECK(odd_half);
  double sum = 0;
  for (const auto& l : b.layers) sum += l.brams;
  CHECK(b.brams == doctest::Approx(sum));
  CHECK(to_table(b).find(".5") != std::string::npos);
  CHECK(b.lutram_luts == 0);
  // the same folding with the classifier's memories in LUT RAM: fewer block RAMs, more LUTs, the LUT RAM counted
  auto some_lutram = all_bram;
  some_lutram.layers[2].lutram = true;
  const auto c = model.evaluate(a, some_lutram);
  CHECK(c.brams < b.brams);
  CHECK(c.lutram_luts > 0);
  CHECK(c.luts == b.luts + c.lutram_luts);
  CHECK(to_json(c)["layers"][2]["parallelism"]["lutram"] == 1);
  CHECK(to_json(c)["lutram_luts"] == c.lutram_luts);
  CHECK(to_table(c).find("LUT RAM: " + std::to_string(c.lutram_luts) + " of the") != std::string::npos);
  CHECK(to_table(b).find("\nLUT RAM: ") == std::string::npos);  // (the assumptions line is indented)
  // a limit is judged in halves: 6.5 blocks fit 7, not 6
  const dataflow_mapping odd_total{{{2, 1, true, true}, {2, 6, true, false}, {1, 1, true, false}}};  // 6.5 blocks
  const auto o = model.evaluate(a, odd_total);
  REQUIRE(o.brams != std::floor(o.brams));
  CHECK(model.evaluate(a, odd_total, spec{.max_brams = static_cast<std::int64_t>(std::ceil(o.brams))}).feasible);
  CHECK(has_violation(model.evaluate(a, odd_total, spec{.max_brams = static_cast<std::int64_t>(std::floor(o.brams))}),
                      "max_brams"));
  // Cyclone IV has no LUT RAM: such a mapping is refused
  CHECK_THROWS_WITH_AS(dataflow<>().evaluate(a, some_lutram), doctest::Contains("no LUT RAM"), invalid_argument);
}

namespace {
/// The XC7Z020 with room for only 8 LUTs of LUT RAM.
struct tiny_lutram_device : xc7z020 {
  static constexpr std::string_view name = "tiny-lutram";
  static constexpr std::int64_t lutram_luts = 8;
};
}  // namespace

TEST_CASE("dataflow: LUT RAM beyond the device's capacity is a violation") {
  const auto a = with_uniform_bits(reference_cnn(), 4);
  const dataflow_mapping m{{{2, 1, true, true}, {2, 6, true, true}, {1, 1, true, true}}};
  const auto r = dataflow<tiny_lutram_device>().evaluate(a, m);
  REQUIRE(r.lutram_luts > 8);
  CHECK(has_violation(r, "device_lutram"));
  CHECK_FALSE(has_violation(dataflow<xc7z020>().evaluate(a, m), "device_lutram"));
}

TEST_CASE("dataflow: a latency ceiling is a ceiling on the interval, and the search meets it exactly") {
  rng r(616);
  const dataflow<> model;
  int bound = 0;
  for (int trial = 0; trial < 40; ++trial) {
    const auto a = test::random_small_architecture(r, 2, 6);
    const auto x = model.evaluate(a, random_folding(r, geometry(a)));
    const spec s{.max_latency_ms = x.latency_ms * r.uniform(0.5, 1.2)};
    const auto best = model.best_mapping(a, s), ref = model.best_mapping_ref(a, s);
    CAPTURE(trial);
    REQUIRE(best.has_value() == ref.has_value());
    if (!best) continue;
    CHECK(model.evaluate(a, *best, s).feasible);
    CHECK(model.evaluate(a, *best, s).luts == model.evaluate(a, *ref, s).luts);
    const auto free = model.best_mapping(a);
    if (free && model.evaluate(a, *free).latency_ms > *s.max_latency_ms) ++bound;
  }
  CHECK(bound > 3);
}

TEST_CASE("DSP48E1: two products sharing an activation share a DSP when a + 2w <= 25 (dataflow and tiled_engine)") {
  CHECK(xc7z020::products_per_dsp(4, 4) == 2);
  CHECK(xc7z020::products_per_dsp(8, 8) == 2);   // 8 + 16 = 24
  CHECK(xc7z020::products_per_dsp(9, 9) == 1);   // 9 + 18 = 27
  CHECK(xc7z020::products_per_dsp(17, 4) == 2);  // 17 + 8 = 25, 18-bit activation
  CHECK(xc7z020::products_per_dsp(18, 2) == 1);  // the activation needs 19 bits
  CHECK(info_of<cyclone_iv_ep4ce115>().products_per_dsp(4, 4) == 1);  // absent: one product per unit
  const auto a = with_uniform_bits(reference_cnn(), 4);
  // conv1 on DSPs: PE 8 lanes x SIMD 4 = 32 products, paired along PE: 16 DSP48E1s
  const auto r = dataflow<xc7z020>().evaluate(a, dataflow_mapping{{{4, 9, false}, {8, 4, true}, {2, 8, false}}});
  CHECK(r.layers[1].dsps == 4 * (8 / 2));
  // odd PE: 3 lanes -> 2 DSPs per SIMD lane
  architecture b = a;
  b.layers[1].filters = 3;
  const auto odd = dataflow<xc7z020>().evaluate(b, dataflow_mapping{{{4, 9, false}, {3, 4, true}, {2, 7, false}}});
  CHECK(odd.layers[1].dsps == 4 * 2);
  // wide operands do not pack: 12-bit weights
  const auto wide = dataflow<xc7z020>().evaluate(with_uniform_bits(reference_cnn(), 12),
                                                 dataflow_mapping{{{4, 9, false}, {8, 4, true}, {2, 8, false}}});
  CHECK(wide.layers[1].dsps == 8 * 4);
  // the tiled engine: Tn x ceil(Tm / 2)
  const auto t = tiled_engine<xc7z020>().evaluate(a, tiled_mapping{4, 4, 5, 3, true});
  CHECK(t.dsps == 4 * 2);
}
