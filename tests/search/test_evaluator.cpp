// search/evaluator.hpp: the two stages (hardware first, then proxy training), what each rejection records, that
// nothing infeasible or ill-formed is trained, that a genome is evaluated once, and reproducibility.

#include <doctest/doctest.h>

#include <string>

#include "hwnas/core/error.hpp"
#include "hwnas/core/parallel.hpp"
#include "hwnas/fpga/pipelined_pe.hpp"
#include "hwnas/quant/fixed_point.hpp"
#include "hwnas/search/evaluator.hpp"
#include "hwnas/space/layerwise.hpp"
#include "hwnas/space/quantized.hpp"
#include "../common/bars.hpp"

// One namespace per file, so that the file's helpers keep their short names in a unity build.
namespace test_evaluator {

namespace sp = hwnas::space;
namespace qn = hwnas::quant;
namespace hs = hwnas::search;

namespace {
using layers = sp::layerwise<sp::depth<1, 2>, sp::filters<4, 8>, sp::pooling<1, 2>>;
using codesign = sp::quantized<layers, qn::fixed_point<qn::int_bits<1>, qn::frac_bits<3, 5>>>;
using evaluator = hs::two_stage_evaluator<codesign, hwnas::fpga::pipelined_pe<>>;

hs::proxy_config quick() {
  hs::proxy_config p;
  p.train.epochs = 2;
  p.train.batch = 32;
  p.train.learning_rate = 0.05;
  p.train_images = 512;
  return p;
}

/// A user's cost model: every network fits (float ones too), in one cycle.
struct anything_fits : hwnas::fpga::cost_model_archetype {
  hwnas::fpga::hw_report map(const hwnas::architecture&, const hwnas::spec&) const {
    hwnas::fpga::hw_report r;
    r.model = "anything_fits";
    r.feasible = true;
    r.cycles = 1;
    return r;
  }
};
static_assert(hwnas::fpga::CostModel<anything_fits>);

/// One conv layer of 8 filters, pooled, 6-bit formats.
hwnas::genome one_layer() {
  // layout: depth, 2 x (filters, kernel, stride, pool), 2 x (wI, wF, aI, aF), classifier (wI, wF): 19 genes
  static_assert(codesign::layout.size() == 19);
  hwnas::genome g(codesign::layout.size(), 0);
  g[1] = 1;  // filters 8
  g[4] = 1;  // pool 2
  for (int i : {10, 12, 18}) g[static_cast<std::size_t>(i)] = 2;  // frac bits 5: s1.5 weights, u1.5 activations
  return g;
}
}  // namespace

TEST_CASE("evaluator: a feasible genome is trained and its reward is its validation accuracy, once only") {
  const auto train = hwnas::test::bars(1024, 1), validation = hwnas::test::bars(256, 2);
  hwnas::thread_pool pool(2);
  evaluator e(hwnas::fpga::pipelined_pe<>(), hwnas::spec{.min_fps = 100}, train, validation, quick(), pool);
  const auto t = e.evaluate(one_layer());
  CHECK(t.status == hs::trial_status::trained);
  CHECK(t.reason.empty());
  REQUIRE(t.hardware);
  CHECK(t.hardware->feasible);
  REQUIRE(t.accuracy);
  MESSAGE("proxy accuracy " << *t.accuracy);
  CHECK(*t.accuracy > 0.5);  // 4 classes: chance is 0.25
  CHECK(t.reward == *t.accuracy);
  CHECK(t.arch == codesign::decode(one_layer(), {1, 12, 12}, 4));
  CHECK(e.trained() == 1);
  const auto again = e.evaluate(one_layer());
  CHECK(again.repeated);
  CHECK(again.accuracy == t.accuracy);
  CHECK(e.trained() == 1);
  CHECK(e.distinct() == 1);
  // a different genome for the same network (a gene of the unused second layer changed) is not trained again
  auto alias = one_layer();
  alias[5] = 1;  // layer 1's filters: layer 1 does not exist at depth 1
  REQUIRE(codesign::decode(alias, {1, 12, 12}, 4) == t.arch);
  const auto same = e.evaluate(alias);
  CHECK(same.repeated);
  CHECK(same.g == alias);
  CHECK(same.accuracy == t.accuracy);
  CHECK(e.trained() == 1);
  CHECK(e.evaluate(alias).repeated);
  // another evaluator with the same settings gives the same accuracy
  evaluator e2(hwnas::fpga::pipelined_pe<>(), hwnas::spec{.min_fps = 100}, train, validation, quick(), pool);
  CHECK(e2.evaluate(one_layer()).accuracy == t.accuracy);
}

TEST_CASE("evaluator: a genome that breaks the spec is never trained, and says why") {
  const auto train = hwnas::test::bars(256, 1), validation = hwnas::test::bars(64, 2);
  hwnas::thread_pool pool(2);
  evaluator e(hwnas::fpga::pipelined_pe<>(), hwnas::spec{.max_luts = 10}, train, validation, quick(), pool);
  const auto t = e.evaluate(one_layer());
  CHECK(t.status == hs::trial_status::infeasible);
  CHECK(t.reason.find("max_luts") != std::string::npos);
  CHECK(t.reward == 0.0);
  CHECK_FALSE(t.accuracy);
  REQUIRE(t.hardware);
  CHECK_FALSE(t.hardware->feasible);
  CHECK(e.trained() == 0);
  CHECK(std::string(hs::to_string(t.status)) == "infeasible");
}

TEST_CASE("evaluator: an ill-formed network and a diverging run are recorded, not thrown") {
  const auto validation = hwnas::test::bars(64, 2);
  hwnas::thread_pool pool(2);
  SUBCASE("ill-formed: the feature map shrinks to nothing") {
    using deep = sp::quantized<sp::layerwise<sp::depth<4>, sp::filters<4>, sp::pooling<2>>, qn::uniform<4>>;
    hs::two_stage_evaluator<deep, hwnas::fpga::pipelined_pe<>> e(hwnas::fpga::pipelined_pe<>(), hwnas::spec{},
                                                                  hwnas::test::bars(64, 1), validation, quick(), pool);
    const auto t = e.evaluate(hwnas::genome(deep::layout.size(), 0));  // 12 -> 6 -> 3 -> 1 -> 0
    CHECK(t.status == hs::trial_status::ill_formed);
    CHECK(t.reason.find("shrinks to nothing") != std::string::npos);
    CHECK_FALSE(t.hardware);
    CHECK(t.reward == 0.0);
    CHECK(e.trained() == 0);
  }
  SUBCASE("failed: float proxy training diverges (a user's cost model that accepts float networks)") {
    using float_space = sp::quantized<layers, qn::none>;
    hs::two_stage_evaluator<float_space, anything_fits> e(anything_fits{}, hwnas::spec{}, hwnas::test::bars(256, 1),
                                                          validation, [] {
                                                            auto p = quick();
                                                            p.train.learning_rate = 1e9;
                                                            return p;
                                                          }(),
                                                          pool);
    hwnas::genome g(float_space::layout.size(), 0);
    const auto t = e.evaluate(g);
    CHECK(t.status == hs::trial_status::failed);
    CHECK(t.reason.find("diverged") != std::string::npos);
    CHECK(t.reward == 0.0);
    CHECK_FALSE(t.accuracy);
    CHECK(e.trained() == 0);
  }
}

TEST_CASE("evaluator: a malformed genome and bad settings are clear errors") {
  const auto train = hwnas::test::bars(64, 1), validation = hwnas::test::bars(32, 2);
  hwnas::thread_pool pool(1);
  evaluator e(hwnas::fpga::pipelined_pe<>(), hwnas::spec{}, train, validation, quick(), pool);
  hwnas::genome g = one_layer();
  g[1] = 5;
  CHECK_THROWS_WITH_AS(e.evaluate(g), doctest::Contains("gene 1 is 5"), hwnas::invalid_argument);
  CHECK_THROWS_AS(evaluator(hwnas::fpga::pipelined_pe<>(), hwnas::spec{}, train, hwnas::io::dataset{}, quick(), pool),
                  hwnas::invalid_argument);
  auto bad = quick();
  bad.train.epochs = -1;
  CHECK_THROWS_AS(evaluator(hwnas::fpga::pipelined_pe<>(), hwnas::spec{}, train, validation, bad, pool),
                  hwnas::invalid_argument);
}

}  // namespace test_evaluator
