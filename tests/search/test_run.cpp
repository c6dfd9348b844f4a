// search/run.hpp: the loop runs the budget, tells the strategy every reward, keeps the best and the Pareto front of
// the trained trials (checked by brute force), stops when the callback says so, is reproducible, and writes CSV.

#include <doctest/doctest.h>

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>

#include "hwnas/core/parallel.hpp"
#include "hwnas/fpga/pipelined_pe.hpp"
#include "hwnas/quant/fixed_point.hpp"
#include "hwnas/search/evaluator.hpp"
#include "hwnas/search/journal.hpp"
#include "hwnas/search/run.hpp"
#include "hwnas/search/strategies.hpp"
#include "hwnas/space/layerwise.hpp"
#include "hwnas/space/quantized.hpp"
#include "../common/bars.hpp"
#include "../common/search_fixture.hpp"

// One namespace per file, so that the file's helpers keep their short names in a unity build.
namespace test_run {

namespace sp = hwnas::space;
namespace qn = hwnas::quant;
namespace hs = hwnas::search;

namespace {
using hwnas::test::search_fixture::codesign;
using hwnas::test::search_fixture::evaluator;
using hwnas::test::search_fixture::quick;
using hwnas::test::search_fixture::tight;

struct telling_strategy : hs::random_search::state {  // records what it is told
  using hs::random_search::state::state;
  std::vector<double> told;
  void tell(const hwnas::genome& g, double r) {
    told.push_back(r);
    hs::random_search::state::tell(g, r);
  }
};
const nlohmann::json settings{{"seed", 3}, {"spec", {{"max_luts", 400}}}};
}  // namespace

TEST_CASE("run: the budget's trials, every reward told, the best and the Pareto front of the trained ones") {
  const auto train = hwnas::test::bars(512, 1), validation = hwnas::test::bars(128, 2);
  hwnas::thread_pool pool(2);
  evaluator e(hwnas::fpga::pipelined_pe<>(), tight, train, validation, quick(), pool);
  telling_strategy s(codesign::layout, 4);
  int calls = 0;
  const auto r = hs::run(e, s, hs::budget{.trials = 40}, [&](const hs::trial&, std::size_t i, const hs::search_result& so_far) {
    CHECK(i == static_cast<std::size_t>(calls));
    CHECK(so_far.trials.size() == i + 1);
    ++calls;
    return true;
  });
  REQUIRE(r.trials.size() == 40);
  CHECK(calls == 40);
  CHECK_FALSE(r.stopped);
  REQUIRE(s.told.size() == 40);
  int trained = 0, infeasible = 0;
  for (std::size_t i = 0; i < r.trials.size(); ++i) {
    CHECK(s.told[i] == r.trials[i].reward);
    trained += r.trials[i].status == hs::trial_status::trained;
    infeasible += r.trials[i].status == hs::trial_status::infeasible;
  }
  MESSAGE("trained " << trained << ", infeasible " << infeasible << ", front " << r.front.size());
  CHECK(trained > 5);
  CHECK(infeasible > 0);
  REQUIRE(r.best);
  for (const auto& t : r.trials) CHECK(t.reward <= r.trials[*r.best].reward);
  // the front: exactly the trained trials no trained trial dominates (first of equal values)
  using obj = hs::pareto_archive<3, std::size_t>::objectives;
  auto value = [&](const hs::trial& t) { return obj{t.reward, -static_cast<double>(t.hardware->luts), t.hardware->fps}; };
  std::vector<std::size_t> expect;
  for (std::size_t i = 0; i < r.trials.size(); ++i) {
    const auto& t = r.trials[i];
    if (t.status != hs::trial_status::trained) continue;
    bool beaten = false, earlier_equal = false;
    for (std::size_t j = 0; j < r.trials.size(); ++j) {
      const auto& u = r.trials[j];
      if (j == i || u.status != hs::trial_status::trained) continue;
      beaten = beaten || hs::pareto_archive<3, std::size_t>::dominates(value(u), value(t));
      earlier_equal = earlier_equal || (j < i && value(u) == value(t));
    }
    if (!beaten && !earlier_equal) expect.push_back(i);
  }
  std::vector<std::size_t> got;
  for (const auto& en : r.front.entries()) got.push_back(en.payload);
  std::sort(got.begin(), got.end());
  CHECK(got == expect);
  CHECK(e.trained() == static_cast<std::size_t>(trained) - static_cast<std::size_t>(std::count_if(
                                                                r.trials.begin(), r.trials.end(), [](const hs::trial& t) {
                                                                  return t.repeated && t.status == hs::trial_status::trained;
                                                                })));

  std::ostringstream csv;
  hs::write_csv(csv, r);
  const std::string text = csv.str();
  CHECK(std::count(text.begin(), text.end(), '\n') == 41);
  CHECK(text.rfind("trial,status,reward,accuracy,luts,dsps,brams,fps,latency_ms,pareto,repeated,genome,reason\n", 0) == 0);
  CHECK(text.find(",infeasible,0,,") != std::string::npos);
  CHECK(text.find("\n1,") != std::string::npos);   // trials are numbered from 1, as progress lines print them
  CHECK(text.find("\n40,") != std::string::npos);
}

TEST_CASE("run: the callback stops it, the same seed repeats it, and a bad budget is an error") {
  const auto train = hwnas::test::bars(256, 1), validation = hwnas::test::bars(64, 2);
  hwnas::thread_pool pool(2);
  evaluator e1(hwnas::fpga::pipelined_pe<>(), tight, train, validation, quick(), pool);
  evaluator e2(hwnas::fpga::pipelined_pe<>(), tight, train, validation, quick(), pool);
  auto s1 = hs::regularized_evolution{.population = 4, .sample = 2}.start(codesign::layout, 9);
  auto s2 = hs::regularized_evolution{.population = 4, .sample = 2}.start(codesign::layout, 9);
  const auto a = hs::run(e1, s1, hs::budget{.trials = 12});
  const auto b = hs::run(e2, s2, hs::budget{.trials = 12});
  REQUIRE(a.trials.size() == b.trials.size());
  for (std::size_t i = 0; i < a.trials.size(); ++i) {
    CHECK(a.trials[i].g == b.trials[i].g);
    CHECK(a.trials[i].reward == b.trials[i].reward);
  }
  auto s3 = hs::random_search{}.start(codesign::layout, 1);
  const auto c = hs::run(e1, s3, hs::budget{.trials = 100},
                         [](const hs::trial&, std::size_t i, const hs::search_result&) { return i < 4; });
  CHECK(c.stopped);
  CHECK(c.trials.size() == 5);
  CHECK_THROWS_AS(hs::run(e1, s3, hs::budget{.trials = 1, .seconds = -1}), hwnas::invalid_argument);
}

TEST_CASE("run: a journaled search stopped half way resumes to the same trials, training only the new ones") {
  namespace fs = std::filesystem;
  const auto train = hwnas::test::bars(256, 1), validation = hwnas::test::bars(64, 2);
  hwnas::thread_pool pool(2);
  const fs::path path = fs::temp_directory_path() / ("hwnas_journal_test_" + std::to_string(::getpid()) + ".jsonl");
  fs::remove(path);

  // The reference: 12 trials in one go.
  evaluator whole(hwnas::fpga::pipelined_pe<>(), tight, train, validation, quick(), pool);
  auto s0 = hs::regularized_evolution{.population = 4, .sample = 2}.start(codesign::layout, 3);
  const auto reference = hs::run(whole, s0, hs::budget{.trials = 12});

  // Interrupted after 7 (the callback stops it), then resumed by a new process: new evaluator, new strategy.
  {
    hs::journal log(path.string(), settings);
    CHECK(log.entries().empty());
    evaluator first(hwnas::fpga::pipelined_pe<>(), tight, train, validation, quick(), pool);
    auto s1 = hs::regularized_evolution{.population = 4, .sample = 2}.start(codesign::layout, 3);
    const auto part = hs::run(first, s1, hs::budget{.trials = 12},
                              [](const hs::trial&, std::size_t i, const hs::search_result&) { return i < 6; }, log);
    CHECK(part.trials.size() == 7);
  }
  hs::search_result resumed;
  std::size_t new_networks = 0;
  {
    hs::journal log(path.string(), settings);
    REQUIRE(log.entries().size() == 7);
    evaluator second(hwnas::fpga::pipelined_pe<>(), tight, train, validation, quick(), pool);
    auto s2 = hs::regularized_evolution{.population = 4, .sample = 2}.start(codesign::layout, 3);
    resumed = hs::run(second, s2, hs::budget{.trials = 12}, hs::no_callback{}, log);
    REQUIRE(resumed.trials.size() == 12);
    CHECK(resumed.replayed == 7);
    for (std::size_t i = 0; i < 12; ++i) {
      CAPTURE(i);
      CHECK(resumed.trials[i].g == reference.trials[i].g);
      CHECK(resumed.trials[i].status == reference.trials[i].status);
      CHECK(resumed.trials[i].reward == reference.trials[i].reward);
    }
    CHECK(resumed.best == reference.best);
    CHECK(resumed.front.size() == reference.front.size());
    for (std::size_t i = 7; i < 12; ++i)
      new_networks += resumed.trials[i].status == hs::trial_status::trained && !resumed.trials[i].repeated;
    CHECK(second.trained() == new_networks);  // the 7 journaled trials were not trained again
  }
  CHECK(hs::journal(path.string(), settings).entries().size() == 12);

  // A crash in the middle of a write leaves a cut line: it is ignored, and the file stays usable.
  {
    std::ofstream cut(path, std::ios::app);
    cut << R"({"genome": [1, 0, 0)";
  }
  {
    hs::journal after_crash(path.string(), settings);
    CHECK(after_crash.entries().size() == 12);
    {
      std::ifstream in(path);
      const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      CHECK(text.find(R"([1, 0, 0)") == std::string::npos);  // truncated back to the last complete line
      CHECK(text.back() == '\n');
    }
    after_crash.append(resumed.trials[0]);
    CHECK(after_crash.recorded().size() == 12);  // what it read when it opened
  }

  // Resuming with another seed is a clear error, not a silently different search.
  evaluator third(hwnas::fpga::pipelined_pe<>(), tight, train, validation, quick(), pool);
  auto other_seed = hs::regularized_evolution{.population = 4, .sample = 2}.start(codesign::layout, 4);
  {
    hs::journal again(path.string(), settings);
    CHECK_THROWS_WITH_AS(hs::run(third, other_seed, hs::budget{.trials = 20}, again),
                         doctest::Contains("resume with the seed"), hwnas::invalid_argument);
  }
  // A line in the middle that is not an entry is an error naming it.
  {
    std::ofstream bad(path, std::ios::app);
    bad << "not json\n{\"genome\": [0], \"status\": \"trained\", \"reward\": 0.5}\n";
  }
  CHECK_THROWS_WITH_AS(hs::journal(path.string(), settings), doctest::Contains("line 15 is not a journal entry"), hwnas::io_error);
  // ... and a refused file is untouched, even when it also ends in a torn line that a valid journal would lose
  {
    std::ofstream cut(path, std::ios::app);
    cut << R"({"genome": [2, 0)";
  }
  const auto before = fs::file_size(path);
  // (the same error again: a refused open releases its lock, it is not "in use by another run")
  CHECK_THROWS_WITH_AS(hs::journal(path.string(), settings), doctest::Contains("line 15 is not a journal entry"),
                       hwnas::io_error);
  CHECK(fs::file_size(path) == before);
  fs::remove(path);
}

namespace {
/// A strategy state that records outcomes (multi-objective tell).
struct outcome_recorder : hs::random_search::state {
  using hs::random_search::state::state;
  std::vector<hs::outcome> told;
  void tell(const hwnas::genome&, const hs::outcome& o) { told.push_back(o); }
};
static_assert(hs::MultiObjectiveState<outcome_recorder>);

/// A user's reward (accuracy - lambda * LUTs / budget) and objective list (accuracy, -LUTs), as hooks.
struct lut_aware {
  double lambda = 0.5, budget = 400;
  double reward(const hs::trial& t) const {
    return t.accuracy ? *t.accuracy - lambda * static_cast<double>(t.hardware->luts) / budget : 0.0;
  }
  std::vector<double> objectives(const hs::trial& t) const {
    return {*t.accuracy, -static_cast<double>(t.hardware->luts)};
  }
};
struct stop_after_trained {  // should_stop: true ends the search after the current trial
  std::size_t n = 3;
  bool should_stop(const hs::search_result& r) const { return hs::count(r).trained >= n; }
};
}  // namespace

TEST_CASE("run: hooks replace the reward and the objectives, and should_stop ends the search") {
  const auto train = hwnas::test::bars(256, 1), validation = hwnas::test::bars(64, 2);
  hwnas::thread_pool pool(2);
  evaluator e(hwnas::fpga::pipelined_pe<>(), tight, train, validation, quick(), pool);
  outcome_recorder s(codesign::layout, 4);
  const auto r = hs::run(e, s, hs::budget{.trials = 30}, lut_aware{}, stop_after_trained{.n = 3});
  CHECK(r.stopped);
  CHECK(hs::count(r).trained == 3);
  REQUIRE(s.told.size() == r.trials.size());
  for (std::size_t i = 0; i < r.trials.size(); ++i) {
    const auto& t = r.trials[i];
    const auto& o = s.told[i];
    CHECK(o.reward == t.reward);
    CHECK(o.feasible == (t.status == hs::trial_status::trained));
    if (t.status == hs::trial_status::trained) {
      CHECK(t.reward == doctest::Approx(*t.accuracy - 0.5 * static_cast<double>(t.hardware->luts) / 400));
      CHECK(t.reward < *t.accuracy);  // the LUT term counts
      REQUIRE(o.objectives.size() == 2);
      CHECK(o.objectives[1] == -static_cast<double>(t.hardware->luts));
    } else {
      CHECK(o.reward == 0.0);
      CHECK(o.objectives.empty());
    }
  }
  // without hooks: Lu'19's reward (accuracy if trained, else 0) and the default objectives (accuracy, -LUTs, fps)
  outcome_recorder plain(codesign::layout, 4);
  const auto d = hs::run(e, plain, hs::budget{.trials = 6});
  for (std::size_t i = 0; i < d.trials.size(); ++i) {
    CHECK(d.trials[i].reward == hs::lu2019_reward(d.trials[i]));
    if (plain.told[i].feasible) CHECK(plain.told[i].objectives.size() == 3);
  }
}

TEST_CASE("journal: one run at a time, a directory is not a journal, and a budget below the record is refused") {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("hwnas_journal_lock_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const auto path = (dir / "run.jsonl").string();
  {
    hs::journal first(path, settings);
    CHECK_THROWS_WITH_AS(hs::journal(path, settings), doctest::Contains("in use by another run"), hwnas::io_error);
  }
  CHECK_NOTHROW(hs::journal(path, settings));  // released when the first closed
  CHECK_THROWS_WITH_AS(hs::journal(dir.string(), settings), doctest::Contains("is a directory"), hwnas::io_error);

  const auto train = hwnas::test::bars(256, 1), validation = hwnas::test::bars(64, 2);
  hwnas::thread_pool pool(2);
  {
    hs::journal log(path, settings);
    evaluator e(hwnas::fpga::pipelined_pe<>(), tight, train, validation, quick(), pool);
    auto s = hs::random_search{}.start(codesign::layout, 1);
    CHECK(hs::run(e, s, hs::budget{.trials = 5}, log).trials.size() == 5);
  }
  hs::journal log(path, settings);
  evaluator e(hwnas::fpga::pipelined_pe<>(), tight, train, validation, quick(), pool);
  auto s = hs::random_search{}.start(codesign::layout, 1);
  CHECK_THROWS_WITH_AS(hs::run(e, s, hs::budget{.trials = 3}, log), doctest::Contains("holds 5 trials"),
                       hwnas::invalid_argument);
  CHECK(log.recorded().size() == 5);
  CHECK_THROWS_AS(hs::run(e, s, hs::budget{.trials = 3, .seconds = std::nan("")}), hwnas::invalid_argument);
  fs::remove_all(dir);
}

TEST_CASE("journal: a header whose keys hold '~' or '/' is compared like any other (fuzzing found a crash)") {
  namespace fs = std::filesystem;
  const fs::path path = fs::temp_directory_path() / ("hwnas_journal_keys_" + std::to_string(::getpid()) + ".jsonl");
  std::ofstream(path) << R"({"hwnas_journal": 1, "settings": {"s~eed": 1, "a/b": 2}})" << "\n";
  // the keys become JSON-pointer tokens "~0" and "~1"; before, "/s~eed" made nlohmann throw past every handler
  CHECK_THROWS_WITH_AS(hs::journal(path.string(), nlohmann::json{{"seed", 1}}), doctest::Contains("s~0eed"),
                       hwnas::invalid_argument);
  CHECK_NOTHROW(hs::journal(path.string(), nlohmann::json{{"s~eed", 1}, {"a/b", 2}}));
  fs::remove(path);
}

TEST_CASE("journal: a gene that is not a whole number in int's range makes the line no journal entry (fuzzing)") {
  namespace fs = std::filesystem;
  const fs::path path = fs::temp_directory_path() / ("hwnas_journal_genes_" + std::to_string(::getpid()) + ".jsonl");
  for (const char* genome : {"[1, 1e30, 2]", "[1, 2.5]", "[3000000000]", "[-3000000000]", "\"[1, 2]\"", "[true]"}) {
    CAPTURE(genome);
    std::ofstream(path) << R"({"hwnas_journal": 1, "settings": {"seed": 1}})" << "\n"
                        << R"({"genome": )" << genome << R"(, "status": "trained", "reward": 0.5})" << "\n";
    // before, 1e30 was converted to int with undefined behaviour (UBSan under tools/fuzz) and the rest accepted
    CHECK_THROWS_WITH_AS(hs::journal(path.string(), nlohmann::json{{"seed", 1}}),
                         doctest::Contains("line 2 is not a journal entry"), hwnas::io_error);
  }
  // an accuracy outside 0..1 (an edited line) would be ranked and reported as 250%: not a journal entry either
  for (const char* field : {R"("accuracy": 2.5)", R"("accuracy": -0.1)", R"("training_seconds": -1)"}) {
    CAPTURE(field);
    std::ofstream(path) << R"({"hwnas_journal": 1, "settings": {"seed": 1}})" << "\n"
                        << R"({"genome": [1], "status": "trained", "reward": 0.5, )" << field << "}\n";
    CHECK_THROWS_WITH_AS(hs::journal(path.string(), nlohmann::json{{"seed", 1}}),
                         doctest::Contains("line 2 is not a journal entry"), hwnas::io_error);
  }
  std::ofstream(path) << R"({"hwnas_journal": 1, "settings": {"seed": 1}})" << "\n"
                      << R"({"genome": [0, -2, 2147483647], "status": "trained", "reward": 0.5})" << "\n";
  CHECK(hs::journal(path.string(), nlohmann::json{{"seed", 1}}).entries().at(0).g == std::vector<int>{0, -2, 2147483647});
  fs::remove(path);
}

}  // namespace test_run
