#include <doctest/doctest.h>

#include <string>

#include "fpga_test_util.hpp"
#include "hwnas/fpga/tiled_engine.hpp"

using namespace hwnas;
using namespace hwnas::fpga;
using hwnas::fpga::test::has_violation;

namespace {

tiled_mapping random_tiling(rng& r, const std::vector<layer_geometry>& g) {
  const auto t = fpga::detail::tiled_widths_of(g);
  return {test::pick(r, 1, t.max_m), test::pick(r, 1, t.max_n), test::pick(r, 1, t.max_r), test::pick(r, 1, t.max_c),
          r.below(2) == 1};
}

}  // namespace

TEST_CASE("tiled_engine: a layer's cycles follow the tile formulas") {
  architecture a;
  a.input = {6, 10, 10};
  a.classes = 3;
  a.input_format = qformat::activation(0, 8);
  conv_layer c;
  c.filters = 12;
  c.kernel = 3;
  c.pool = 2;
  c.weight_format = qformat::weight(0, 7);
  c.activation_format = qformat::activation(1, 7);
  a.layers = {c};
  a.classifier.weight_format = qformat::weight(0, 7);
  const auto g = geometry(a);
  const std::int64_t tm = 4, tn = 4, tr = 5, tc = 3, port = 64;
  const std::int64_t ih = (5 - 1) * 1 + 3, iw = (3 - 1) * 1 + 3;
  const std::int64_t t_in = ceil_div(4 * ih * iw * 8, port), t_w = ceil_div(4 * 4 * 9 * 8, port);
  const std::int64_t t_comp = 9 * 5 * 3, t_out = ceil_div(4 * 3 * 2 * 8, port);
  const std::int64_t tiles = 3 * 2 * 4;  // ceil(12/4) ceil(10/5) ceil(10/3)
  const std::int64_t expect = tiles * std::max(2 * std::max({t_in, t_w, t_comp}), t_out) + t_in + t_w + t_out;
  CHECK(fpga::detail::tiled_layer_cycles(g[0], tm, tn, tr, tc, port) == expect);
  // the engine: DSPs = Tm Tn units per product; LUT multipliers otherwise
  const tiled_engine<> model;
  const auto with_dsp = model.evaluate(a, tiled_mapping{4, 4, 5, 3, true});
  const auto with_lut = model.evaluate(a, tiled_mapping{4, 4, 5, 3, false});
  CHECK(with_dsp.dsps == 16 * cyclone_iv_ep4ce115::dsps_per_multiplier(8, 8));
  CHECK(with_lut.dsps == 0);
  // the 16 multipliers' LUTs, times the fitted share that stays the products' inside an array (kappa ~0.95)
  CHECK(with_lut.luts - with_dsp.luts <= 16 * multiplier_luts(lut_family::lut4, 8, 8));
  CHECK(with_lut.luts - with_dsp.luts >= 16 * multiplier_luts(lut_family::lut4, 8, 8) * 9 / 10);
  CHECK(with_lut.cycles == with_dsp.cycles);
  CHECK(with_lut.cycles == fpga::detail::tiled_layer_cycles(g[0], 4, 4, 5, 3, 64) +
                               fpga::detail::tiled_layer_cycles(g[1], 4, 4, 5, 3, 64));
  CHECK(with_lut.latency_cycles == with_lut.cycles);
  CHECK(with_lut.shared_engine);
  // a wider off-chip port never slows the engine down
  const auto wide = tiled_engine<cyclone_iv_ep4ce115, clock_mhz<100>, offchip_bits<256>>().evaluate(
      a, tiled_mapping{4, 4, 5, 3, false});
  CHECK(wide.cycles <= with_lut.cycles);
}

TEST_CASE("tiled_engine: the pruned enumeration equals brute force on random small architectures and specs") {
  const auto t = test::check_searches_against_brute_force(
      tiled_engine<>(), tiled_engine<xc7z020>(), 424242, 80,
      [](rng& r, int) { return test::random_small_architecture(r, 2, 9); }, random_tiling);
  CHECK(t.feasible > 15);
  CHECK(t.infeasible > 5);
}

TEST_CASE("tiled_engine: properties") {
  const tiled_engine<> model;
  SUBCASE("a larger LUT budget never lowers the best reachable fps") {
    const auto a = with_uniform_bits(reference_cnn(), 6);
    double last = 0;
    for (std::int64_t budget = 300; budget <= 60000; budget = budget * 2) {
      const auto m = model.fastest_mapping(a, spec{.max_luts = budget, .max_dsps = 0});
      if (!m) continue;
      const auto r = model.evaluate(a, *m);
      CHECK(r.luts <= budget);
      CHECK(r.fps >= last);
      last = r.fps;
    }
    CHECK(last > 0);
  }
  SUBCASE("more bits never lower the LUTs") {
    for (int bits = 2; bits < 12; ++bits) {
      const auto lo = with_uniform_bits(reference_cnn(), bits), hi = with_uniform_bits(reference_cnn(), bits + 1);
      for (const spec& s :
           {spec{.min_fps = 500}, spec{.max_dsps = 0, .min_fps = 500}, spec{.max_dsps = 20, .min_fps = 2000}}) {
        const auto ml = model.best_mapping(lo, s), mh = model.best_mapping(hi, s);
        REQUIRE(ml);
        if (!mh) continue;  // more bits may make it infeasible, never cheaper
        CHECK(model.evaluate(lo, *ml).luts <= model.evaluate(hi, *mh).luts);
      }
    }
  }
}

TEST_CASE("tiled_engine: infeasible reports and bad input") {
  const tiled_engine<> model;
  const auto a = with_uniform_bits(reference_cnn(), 4);
  const auto slow = model.map(a, spec{.max_luts = 1500, .max_dsps = 8, .min_fps = 1e5});
  CHECK_FALSE(slow.feasible);
  CHECK(has_violation(slow, "min_fps"));
  CHECK(slow.luts <= 1500);
  CHECK(slow.dsps <= 8);
  const auto small = model.map(a, spec{.max_luts = 10, .max_dsps = 0});
  CHECK_FALSE(small.feasible);
  CHECK(has_violation(small, "max_luts"));
  CHECK_THROWS_WITH_AS(model.evaluate(a, tiled_mapping{0, 1, 1, 1, false}), doctest::Contains("Tm"),
                       hwnas::invalid_argument);
  CHECK_THROWS_WITH_AS(model.map(a, spec{.min_fps = std::nan("")}), doctest::Contains("min_fps"),
                       hwnas::invalid_argument);
}
