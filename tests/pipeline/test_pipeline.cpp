// pipeline.hpp: policies in any order with defaults filled in, configured instances through make_pipeline, the
// runtime registries (devices, cost models, strategies), run() validating before training, never training an
// infeasible design, retraining the top-k with integer inference equal to QAT, resuming from its journal to the
// same report, and refusing a journal of another run. Wrong compositions: tests/compile_fail (ctest).

#include <doctest/doctest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <type_traits>

#include "hwnas/fpga/registry.hpp"
#include "hwnas/pipeline.hpp"
#include "hwnas/search/registry.hpp"
#include "../common/bars.hpp"

namespace sp = hwnas::space;
namespace qn = hwnas::quant;
namespace hs = hwnas::search;
namespace fp = hwnas::fpga;

namespace {
using layers = sp::layerwise<sp::depth<1, 2>, sp::filters<2, 4, 8>, sp::pooling<1, 2>>;
using formats = qn::fixed_point<qn::int_bits<1>, qn::frac_bits<1, 5>>;
using hardware = fp::pipelined_pe<fp::cyclone_iv_ep4ce115, fp::clock_mhz<100>>;

/// A spec that some genomes of the space meet and some do not.
const hwnas::spec tight{.max_luts = 1100, .min_fps = 20000};

hwnas::io::split_data tiny_data() { return {hwnas::test::bars(384, 1), hwnas::test::bars(96, 2), hwnas::test::bars(96, 3)}; }

template <class P>
P quick(P p) {
  p.settings.proxy.train.epochs = 1;
  p.settings.proxy.train.batch = 32;
  p.settings.proxy.train_images = 256;
  p.settings.retrain.epochs = 2;
  p.settings.retrain.batch = 32;
  p.settings.top_k = 2;
  p.settings.threads = 2;
  p.settings.seed = 5;
  return p;
}

/// Records the stages a pipeline announces after the search.
struct stage_log {
  std::vector<std::string> stages;
  void stage(std::string_view name, std::size_t i, std::size_t n) {
    stages.push_back(std::string(name) + " " + std::to_string(i) + "/" + std::to_string(n));
  }
};
}  // namespace

// Any order, defaults filled in.
using p1 = hwnas::pipeline<hs::random_search, layers, hardware, formats>;
using p2 = hwnas::pipeline<formats, layers, hs::random_search, hardware>;
static_assert(std::is_same_v<p1::genome_space, sp::quantized<layers, formats>>);
static_assert(std::is_same_v<p1::genome_space, p2::genome_space>);
static_assert(std::is_same_v<p1::strategy_type, hs::random_search>);
using defaults = hwnas::pipeline<>;
static_assert(std::is_same_v<defaults::space_type, hwnas::pipeline_defaults::space>);
static_assert(std::is_same_v<defaults::quantizer_type, hwnas::pipeline_defaults::quantizer>);
static_assert(std::is_same_v<defaults::cost_model_type, hwnas::pipeline_defaults::cost_model>);
static_assert(std::is_same_v<defaults::strategy_type, hs::reinforce>);
static_assert(defaults::layout.size() == 1 + 4 * 4 + 4 * 4 + 2);  // depth, 4 layers x 4 genes, their formats, fc
// A space that carries its quantizer is used as it is.
static_assert(std::is_same_v<hwnas::pipeline<sp::quantized<layers, qn::uniform<4, 8>>>::genome_space,
                             sp::quantized<layers, qn::uniform<4, 8>>>);
// The presets are the papers' compositions.
static_assert(std::is_same_v<hwnas::presets::naqs::strategy_type, hs::reinforce>);
static_assert(std::is_same_v<hwnas::presets::naqs::cost_model_type, hardware>);
static_assert(std::is_same_v<hwnas::presets::fnas::cost_model_type::device_type, fp::cyclone_iv_ep4ce115>);
static_assert(hwnas::presets::fnas::cost_model_type::name == "tiled_engine");
static_assert(hwnas::presets::finn_style::cost_model_type::name == "dataflow");
static_assert(std::is_same_v<hwnas::presets::finn_style::strategy_type, hs::nsga2>);

TEST_CASE("make_pipeline: configured instances are the ones run() uses") {
  auto p = hwnas::make_pipeline(layers{}, formats{}, hardware(125.0), hs::regularized_evolution{.population = 7, .sample = 3});
  CHECK(p.cost_model().clock_mhz() == 125.0);
  CHECK(p.strategy().population == 7);
  CHECK(p.strategy().sample == 3);
  CHECK(hwnas::pipeline<layers, formats>{}.cost_model().clock_mhz() == 100.0);
  const auto data = tiny_data();
  const auto settings = p.run_settings(data, tight);
  CHECK(settings["cost_model"]["clock_mhz"] == 125.0);
  CHECK(settings["strategy"]["name"] == "evolution");
  CHECK(settings["strategy"]["parameters"]["population"] == 7);
  CHECK(settings["spec"]["max_luts"] == 1100);
  CHECK(settings["data"]["train"]["images"] == 384);
  // the data's fingerprint changes with one pixel
  auto other = data;
  other.train.images(0, 0, 0, 0) += 0.5f;
  CHECK(p.run_settings(other, tight)["data"] != settings["data"]);
}

TEST_CASE("registries: every built-in name resolves to its type, an unknown name lists the known ones") {
  CHECK(fp::resolve_device("xc7z020", [](auto d) { return std::string(decltype(d)::type::description); }) ==
        std::string(fp::xc7z020::description));
  CHECK(fp::resolve_model("dataflow", "cyclone-iv-e115", [](auto m) {
          using M = typename decltype(m)::type;
          return std::is_same_v<M, fp::dataflow<fp::cyclone_iv_ep4ce115>>;
        }));
  for (const char* name : {"pipelined_pe", "tiled_engine", "dataflow"})
    CHECK(fp::resolve_cost_model(name, [](auto m) { return std::string(decltype(m)::type::name); }) == name);
  for (const char* name : {"reinforce", "evolution", "random", "nsga2"})
    CHECK(hs::resolve_strategy(name, [](auto s) { return std::string(decltype(s)::type::name); }) == name);
  CHECK_THROWS_WITH_AS(fp::resolve_device("virtex", [](auto) { return 0; }),
                       doctest::Contains("unknown device \"virtex\"; known: cyclone-iv-e115, xc7z020"),
                       hwnas::invalid_argument);
  CHECK_THROWS_WITH_AS(hs::resolve_strategy("annealing", [](auto) { return 0; }),
                       doctest::Contains("known: reinforce, evolution, random, nsga2"), hwnas::invalid_argument);
  int called = 0;
  fp::resolve_device("cyclone-iv-e115", [&](auto) { ++called; });  // a void lambda is called once
  CHECK(called == 1);
}

TEST_CASE("pipeline::run: bad input is refused before anything is trained") {
  const auto data = tiny_data();
  auto p = quick(hwnas::pipeline<layers, formats, hs::random_search>{});
  stage_log log;
  CHECK_THROWS_AS(p.run(data, hwnas::spec{.max_luts = -1}, hs::budget{.trials = 3}, log), hwnas::invalid_argument);
  CHECK_THROWS_AS(p.run(data, hwnas::spec{.min_fps = -5.0}, hs::budget{.trials = 3}), hwnas::invalid_argument);
  CHECK_THROWS_AS(p.run(data, tight, hs::budget{.trials = 0}), hwnas::invalid_argument);
  CHECK_THROWS_AS(p.run(data, tight, hs::budget{.trials = 3, .seconds = -1}), hwnas::invalid_argument);
  auto bad = p;
  bad.settings.retrain.epochs = -1;
  CHECK_THROWS_AS(bad.run(data, tight, hs::budget{.trials = 3}), hwnas::invalid_argument);
  CHECK(log.stages.empty());
}

TEST_CASE("pipeline::run: infeasible designs are never trained, the top-k are retrained, integer == QAT") {
  const auto data = tiny_data();
  auto p = quick(hwnas::pipeline<layers, formats, hs::random_search>{});
  stage_log log;
  const auto rep = p.run(data, tight, hs::budget{.trials = 16}, log);
  const auto c = hs::count(rep.search);
  CHECK(c.trials == 16);
  CHECK(c.infeasible > 0);
  REQUIRE(c.trained >= 2);
  for (const auto& t : rep.search.trials) {
    if (t.status == hs::trial_status::trained) {
      REQUIRE(t.hardware);
      CHECK(t.hardware->feasible);
    }
    if (t.status == hs::trial_status::infeasible) CHECK(t.training_seconds == 0.0);
  }
  REQUIRE(rep.top.size() == 2);
  // progress by epochs: two designs of two epochs each
  CHECK(log.stages == std::vector<std::string>{"retraining epoch 1/4", "retraining epoch 2/4", "retraining epoch 3/4",
                                               "retraining epoch 4/4"});
  REQUIRE(rep.best);
  CHECK(*rep.best == 0);
  CHECK(rep.met_spec());
  CHECK(rep.top[0].validation_accuracy >= rep.top[1].validation_accuracy);
  for (const auto& d : rep.top) {
    CHECK(d.hw.feasible);
    CHECK(d.test_accuracy_integer == d.test_accuracy_qat);
    CHECK(d.test_accuracy_qat > 0.5);  // 4 classes: retrained in full it learns the bars
    CHECK(d.epochs == 2);
    CHECK(d.train_images == 384);
    CHECK(rep.search.trials[d.trial].status == hs::trial_status::trained);
  }
  // the top-k are the k best proxy rewards
  double kth = 1.0;
  for (const auto& d : rep.top) kth = std::min(kth, d.proxy_accuracy);
  for (const auto& t : rep.search.trials)
    if (t.status == hs::trial_status::trained && !t.repeated) {
      bool in_top = false;
      for (const auto& d : rep.top) in_top = in_top || rep.search.trials[d.trial].g == t.g;
      if (!in_top) CHECK(t.reward <= kth);
    }
  CHECK(rep.hypervolume > 0.0);
  CHECK(rep.hypervolume <= 1.0);
  CHECK(rep.device == "cyclone-iv-e115");
  CHECK(rep.cost_model == "pipelined_pe");
  CHECK(rep.strategy == "random");
  CHECK(rep.version == std::string(hwnas::version));
  REQUIRE(rep.seconds.size() == 2);
  CHECK(rep.seconds[0].first == "search");

  // A spec nothing meets: every candidate rejected before training, nothing retrained, no best.
  const auto none = p.run(data, hwnas::spec{.max_luts = 10}, hs::budget{.trials = 5});
  CHECK(hs::count(none.search).trained == 0);
  CHECK(none.top.empty());
  CHECK_FALSE(none.met_spec());
}

TEST_CASE("pipeline::run: a run stopped half way resumes from its journal to the same report, another run's "
          "journal is refused") {
  namespace fs = std::filesystem;
  const auto data = tiny_data();
  const fs::path path = fs::temp_directory_path() / ("hwnas_pipeline_journal_" + std::to_string(::getpid()) + ".jsonl");
  fs::remove(path);
  auto p = quick(hwnas::pipeline<layers, formats, hs::regularized_evolution>{});
  p.settings.top_k = 1;
  const auto whole = p.run(data, tight, hs::budget{.trials = 10});

  auto j = p;
  j.settings.journal = path.string();
  const auto part = j.run(data, tight, hs::budget{.trials = 10},
                          [](const hs::trial&, std::size_t i, const hs::search_result&) { return i < 5; });
  CHECK(part.search.trials.size() == 6);
  const auto resumed = j.run(data, tight, hs::budget{.trials = 10});
  CHECK(resumed.search.replayed == 6);
  REQUIRE(resumed.search.trials.size() == whole.search.trials.size());
  for (std::size_t i = 0; i < whole.search.trials.size(); ++i) {
    CHECK(resumed.search.trials[i].g == whole.search.trials[i].g);
    CHECK(resumed.search.trials[i].status == whole.search.trials[i].status);
    CHECK(resumed.search.trials[i].reward == whole.search.trials[i].reward);
  }
  REQUIRE(resumed.best);
  REQUIRE(whole.best);
  CHECK(resumed.top[0].trial == whole.top[0].trial);
  CHECK(resumed.top[0].test_accuracy_integer == whole.top[0].test_accuracy_integer);
  CHECK(resumed.hypervolume == whole.hypervolume);
  CHECK_FALSE(resumed.journal_torn_line_dropped);

  // A last line cut short (a crash while appending) is dropped, said so in the report, and that trial runs again.
  fs::resize_file(path, fs::file_size(path) - 10);
  const auto torn = j.run(data, tight, hs::budget{.trials = 10});
  CHECK(torn.journal_torn_line_dropped);
  CHECK(torn.search.replayed == 9);
  REQUIRE(torn.search.trials.size() == whole.search.trials.size());
  CHECK(torn.search.trials.back().reward == whole.search.trials.back().reward);

  // The same journal with other proxy settings, another seed or another spec: refused, naming the field; untouched.
  const auto size = fs::file_size(path);
  auto other = j;
  other.settings.proxy.train.epochs = 2;
  CHECK_THROWS_WITH_AS(other.run(data, tight, hs::budget{.trials = 12}), doctest::Contains("proxy/train/epochs"),
                       hwnas::invalid_argument);
  other = j;
  other.settings.seed = 6;
  CHECK_THROWS_WITH_AS(other.run(data, tight, hs::budget{.trials = 12}), doctest::Contains("seed = 5"),
                       hwnas::invalid_argument);
  CHECK_THROWS_WITH_AS(j.run(data, hwnas::spec{.max_luts = 500}, hs::budget{.trials = 12}),
                       doctest::Contains("spec/max_luts"), hwnas::invalid_argument);
  // Other threads with the default slice count (0: one per thread) would sum the remaining trainings otherwise,
  // and so would another window.
  other = j;
  other.settings.threads = j.settings.threads == 1 ? 2 : 1;
  CHECK_THROWS_WITH_AS(other.run(data, tight, hs::budget{.trials = 12}), doctest::Contains("slices"),
                       hwnas::invalid_argument);
  other = j;
  other.settings.in_flight = j.settings.in_flight + 1;
  CHECK_THROWS_WITH_AS(other.run(data, tight, hs::budget{.trials = 12}), doctest::Contains("in_flight"),
                       hwnas::invalid_argument);
  CHECK(fs::file_size(path) == size);
  fs::remove(path);

  // A file that is not a journal (a settings file without a final newline, as json.dump writes) is never touched.
  {
    std::ofstream f(path, std::ios::binary);
    f << R"({"max_luts": 30000})";
  }
  CHECK_THROWS_WITH_AS(j.run(data, tight, hs::budget{.trials = 3}), doctest::Contains("not an hwnas journal"),
                       hwnas::io_error);
  std::ifstream in(path, std::ios::binary);
  CHECK(std::string(std::istreambuf_iterator<char>(in), {}) == R"({"max_luts": 30000})");
  fs::remove(path);
}
