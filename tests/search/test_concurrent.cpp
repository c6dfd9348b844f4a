// search::run with several trials in flight (search::schedule) and two_stage_evaluator's submit/collect: the order
// of asks and tells is fixed by the window, so the trials of a seed do not depend on how many run at once or in
// which order they finish; a journaled run stopped with trials under way resumes to the same trials; the
// evaluator's concurrent trials equal its one-at-a-time ones bit for bit, repeats included.

#include <doctest/doctest.h>

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "hwnas/core/parallel.hpp"
#include "hwnas/fpga/pipelined_pe.hpp"
#include "hwnas/quant/fixed_point.hpp"
#include "hwnas/search/evaluator.hpp"
#include "hwnas/search/journal.hpp"
#include "hwnas/search/reinforce.hpp"
#include "hwnas/search/run.hpp"
#include "hwnas/search/strategies.hpp"
#include "hwnas/space/layerwise.hpp"
#include "hwnas/space/quantized.hpp"
#include "../common/bars.hpp"
#include "../common/search_fixture.hpp"

namespace test_concurrent {

namespace sp = hwnas::space;
namespace qn = hwnas::quant;
namespace hs = hwnas::search;
using hwnas::genome;

namespace {
using hwnas::test::search_fixture::codesign;
using hwnas::test::search_fixture::evaluator;
using hwnas::test::search_fixture::quick;
using hwnas::test::search_fixture::tight;

/// A reward that is a function of the genome alone, and a trial made of it (no training: the tests of the loop).
double reward_of(const genome& g) {
  double r = 0.1;
  for (std::size_t i = 0; i < g.size(); ++i) r += 0.01 * static_cast<double>((g[i] + 1) * static_cast<int>(i + 1) % 7);
  return r;
}
hs::trial synthetic(const genome& g) {
  hs::trial t;
  t.g = g;
  t.status = hs::trial_status::trained;
  t.accuracy = reward_of(g);
  t.hardware = hwnas::fpga::hw_report{};
  t.hardware->luts = 100 + g[0];
  t.hardware->fps = 1000.0 + 10.0 * g[1];
  t.hardware->feasible = true;
  return t;
}

/// An Evaluator that evaluates at once.
struct plain_evaluator {
  int evaluated = 0;
  hs::trial evaluate(const genome& g) {
    ++evaluated;
    return synthetic(g);
  }
  hs::trial replay(const hs::trial& rec) { return rec; }
};

/// A ConcurrentEvaluator whose trials finish in an order of its choosing: the last submitted first (`lifo`) or the
/// first submitted first.
struct scrambling_evaluator : plain_evaluator {
  bool lifo = true;
  std::vector<std::pair<std::size_t, genome>> under_way;
  std::size_t most_under_way = 0;
  void submit(std::size_t ticket, const genome& g) {
    under_way.emplace_back(ticket, g);
    most_under_way = std::max(most_under_way, under_way.size());
  }
  std::pair<std::size_t, hs::trial> collect() {
    REQUIRE_FALSE(under_way.empty());
    auto it = lifo ? under_way.end() - 1 : under_way.begin();
    auto [ticket, g] = *it;
    under_way.erase(it);
    ++evaluated;
    return {ticket, synthetic(g)};
  }
};
static_assert(hs::ConcurrentEvaluator<scrambling_evaluator>);
static_assert(!hs::ConcurrentEvaluator<plain_evaluator>);

/// "a3", "t3": built without operator+ on a literal (GCC 12's false -Wrestrict, bug 105329).
std::string event(char kind, std::size_t i) {
  std::string e(1, kind);
  e += std::to_string(i);
  return e;
}

/// Records every ask and tell, in order ("a3" = the 4th ask, "t3" = a tell of the genome of the 4th ask).
struct logging_strategy {
  hs::regularized_evolution::state inner;
  std::vector<genome> asked_genomes;
  std::vector<std::string> log;
  genome ask() {
    asked_genomes.push_back(inner.ask());
    log.push_back(event('a', asked_genomes.size() - 1));
    return asked_genomes.back();
  }
  void tell(const genome& g, double reward) {
    const auto it = std::find(asked_genomes.begin(), asked_genomes.end(), g);
    log.push_back(event('t', static_cast<std::size_t>(it - asked_genomes.begin())));
    inner.tell(g, reward);
  }
};
logging_strategy logging(std::uint64_t seed) {
  return {hs::regularized_evolution{.population = 4, .sample = 2}.start(codesign::layout, seed), {}, {}};
}
}  // namespace

TEST_CASE("run: the window fixes the order of asks and tells, and the trials do not depend on the finishing order") {
  for (const std::size_t window : {1u, 2u, 3u, 5u}) {
    CAPTURE(window);
    plain_evaluator one_at_a_time;
    scrambling_evaluator backwards, forwards;
    forwards.lifo = false;
    auto s0 = logging(7), s1 = logging(7), s2 = logging(7);
    const hs::budget b{.trials = 20};
    const auto r0 = hs::run(one_at_a_time, s0, b, hs::schedule{window});
    const auto r1 = hs::run(backwards, s1, b, hs::schedule{window});
    const auto r2 = hs::run(forwards, s2, b, hs::schedule{window});
    REQUIRE(r0.trials.size() == 20);
    REQUIRE(r1.trials.size() == 20);
    REQUIRE(r2.trials.size() == 20);
    for (std::size_t i = 0; i < 20; ++i) {
      CAPTURE(i);
      CHECK(r1.trials[i].g == r0.trials[i].g);
      CHECK(r2.trials[i].g == r0.trials[i].g);
      CHECK(r1.trials[i].reward == r0.trials[i].reward);
    }
    CHECK(r1.best == r0.best);
    CHECK(s1.log == s0.log);
    CHECK(s2.log == s0.log);
    CHECK(backwards.most_under_way == window);
    CHECK(backwards.under_way.empty());
    // The schedule itself: ask 0..window-1, then tell i before ask i + window.
    std::vector<std::string> expected;
    for (std::size_t i = 0; i < std::min<std::size_t>(window, 20); ++i) expected.push_back(event('a', i));
    for (std::size_t i = 0; i < 20; ++i) {
      expected.push_back(event('t', i));
      if (i + window < 20) expected.push_back(event('a', i + window));
    }
    // A genome asked twice is told under its first ask's number; compare the shape of the log by kind only then.
    std::vector<char> kinds0, kinds_expected;
    for (const auto& e : s0.log) kinds0.push_back(e[0]);
    for (const auto& e : expected) kinds_expected.push_back(e[0]);
    CHECK(kinds0 == kinds_expected);
  }
  // The window changes the trials (later asks see fewer rewards), so the journal pins it.
  plain_evaluator a, c;
  auto sa = logging(7), sc = logging(7);
  const auto ra = hs::run(a, sa, hs::budget{.trials = 20}, hs::schedule{1});
  const auto rc = hs::run(c, sc, hs::budget{.trials = 20}, hs::schedule{4});
  CHECK(sa.log != sc.log);
  // schedule{1} is the classic loop of search::run without a schedule.
  plain_evaluator d;
  auto sd = logging(7);
  const auto rd = hs::run(d, sd, hs::budget{.trials = 20});
  CHECK(sd.log == sa.log);
  CHECK(rd.trials.size() == ra.trials.size());
  CHECK(rc.trials.size() == 20);
}

TEST_CASE("run: a stop with trials under way drops them unrecorded, and the time limit asks no more and tells the rest") {
  scrambling_evaluator e;
  auto s = logging(3);
  const auto r = hs::run(e, s, hs::budget{.trials = 20}, hs::schedule{4},
                         [](const hs::trial&, std::size_t i, const hs::search_result&) { return i < 5; });
  CHECK(r.stopped);
  CHECK(r.trials.size() == 6);
  CHECK(e.under_way.empty());  // the trials under way were collected before run returned
  CHECK(e.evaluated == 9);     // 6 told, 3 collected and dropped

  // A time limit passed at once: nothing more is asked, what was asked is told, nothing is left under way.
  scrambling_evaluator slow;
  auto s2 = logging(3);
  const auto r2 = hs::run(slow, s2, hs::budget{.trials = 20, .seconds = 1e-9}, hs::schedule{4});
  CHECK(r2.trials.size() <= 4);
  CHECK(slow.under_way.empty());
  CHECK(r2.trials.size() == static_cast<std::size_t>(slow.evaluated));  // every trial collected was told
}

TEST_CASE("run: a window of 0 and an evaluator returning a trial that is not under way are errors") {
  plain_evaluator e;
  auto s = logging(1);
  CHECK_THROWS_WITH_AS(hs::run(e, s, hs::budget{.trials = 3}, hs::schedule{0}),
                       doctest::Contains("in_flight must be >= 1"), hwnas::invalid_argument);
  struct liar : scrambling_evaluator {
    std::pair<std::size_t, hs::trial> collect() {
      auto r = scrambling_evaluator::collect();
      r.first += 100;
      return r;
    }
  } l;
  auto s2 = logging(1);
  CHECK_THROWS_WITH_AS(hs::run(l, s2, hs::budget{.trials = 3}, hs::schedule{2}),
                       doctest::Contains("was not under way"), hwnas::invalid_argument);
}

TEST_CASE("two_stage_evaluator: trials trained at once, on one core each or on two, equal one-at-a-time ones bit "
          "for bit, repeats included") {
  const auto train = hwnas::test::bars(256, 1), validation = hwnas::test::bars(64, 2);
  hwnas::thread_pool pool(2);
  // Genomes with repeats: the same genome twice, and a genome that decodes to the same network as another (a gene of
  // an unused second layer differs).
  hwnas::rng r(11);
  std::vector<genome> genomes;
  for (int i = 0; i < 10; ++i) {
    genome g(codesign::layout.size());
    for (std::size_t k = 0; k < g.size(); ++k) g[k] = static_cast<int>(r.below(codesign::layout[k]));
    genomes.push_back(g);
  }
  genomes.push_back(genomes[2]);
  genomes.push_back(genomes[4]);

  evaluator serial(hwnas::fpga::pipelined_pe<>(), tight, train, validation, quick(), pool);
  std::vector<hs::trial> reference;
  for (const auto& g : genomes) reference.push_back(serial.evaluate(g));
  CHECK(serial.slices() == 2);

  struct policy {
    std::size_t per_trial;
    double solo_macs;
    std::size_t at_once;  // the most trainings at once it allows on 2 cores
  };
  for (const auto p : {policy{0, hs::trial_concurrency{}.solo_macs, 1}, policy{1, hs::trial_concurrency{}.solo_macs, 2},
                       policy{2, hs::trial_concurrency{}.solo_macs, 1}, policy{1, 0.0, 1}}) {
    const std::size_t per_trial = p.per_trial;
    CAPTURE(per_trial);
    CAPTURE(p.solo_macs);
    evaluator e(hwnas::fpga::pipelined_pe<>(), tight, train, validation, quick(), pool);
    e.concurrency.threads_per_trial = per_trial;
    e.concurrency.solo_macs = p.solo_macs;
    for (std::size_t i = 0; i < genomes.size(); ++i) e.submit(i, genomes[i]);
    std::set<std::size_t> seen;
    std::vector<hs::trial> got(genomes.size());
    for (std::size_t i = 0; i < genomes.size(); ++i) {
      auto [ticket, t] = e.collect();
      REQUIRE(ticket < genomes.size());
      CHECK(seen.insert(ticket).second);
      got[ticket] = std::move(t);
    }
    for (std::size_t i = 0; i < genomes.size(); ++i) {
      CAPTURE(i);
      CHECK(got[i].g == genomes[i]);
      CHECK(got[i].status == reference[i].status);
      CHECK(got[i].accuracy == reference[i].accuracy);  // bit for bit: fixed slices
      CHECK(got[i].repeated == reference[i].repeated);
      CHECK(got[i].reason == reference[i].reason);
    }
    CHECK(got[10].repeated);
    CHECK(got[11].repeated);
    CHECK(e.most_at_once() == p.at_once);
    CHECK(e.trained() == serial.trained());
    CHECK_THROWS_WITH_AS(e.collect(), doctest::Contains("no trial is under way"), hwnas::invalid_argument);
    e.submit(3, genomes[0]);  // a ticket collected may name a new trial
    CHECK_THROWS_WITH_AS(e.submit(3, genomes[1]), doctest::Contains("submitted twice"), hwnas::invalid_argument);
    CHECK(e.collect().second.repeated);
  }
}

TEST_CASE("two_stage_evaluator: a window of trials in flight gives the same search on 1 core per trial and on 2, "
          "and a journaled run stopped with trials under way resumes to the same trials") {
  namespace fs = std::filesystem;
  const auto train = hwnas::test::bars(256, 1), validation = hwnas::test::bars(64, 2);
  hwnas::thread_pool pool(2);
  const auto strategy = hs::reinforce{};
  const hs::budget b{.trials = 10};
  const hs::schedule window{3};

  evaluator one(hwnas::fpga::pipelined_pe<>(), tight, train, validation, quick(), pool);  // plain: evaluate()
  auto s0 = strategy.start(codesign::layout, 5);
  struct plain_view {  // hides submit/collect: the loop evaluates each genome when it is asked
    evaluator& e;
    hs::trial evaluate(const genome& g) { return e.evaluate(g); }
    hs::trial replay(const hs::trial& t) { return e.replay(t); }
  } view{one};
  const auto reference = hs::run(view, s0, b, window);

  evaluator two(hwnas::fpga::pipelined_pe<>(), tight, train, validation, quick(), pool);
  two.concurrency.threads_per_trial = 1;
  auto s1 = strategy.start(codesign::layout, 5);
  const auto concurrent = hs::run(two, s1, b, window);
  REQUIRE(concurrent.trials.size() == reference.trials.size());
  for (std::size_t i = 0; i < reference.trials.size(); ++i) {
    CAPTURE(i);
    CHECK(concurrent.trials[i].g == reference.trials[i].g);
    CHECK(concurrent.trials[i].reward == reference.trials[i].reward);
    CHECK(concurrent.trials[i].status == reference.trials[i].status);
  }

  const fs::path path = fs::temp_directory_path() / ("hwnas_window_journal_" + std::to_string(::getpid()) + ".jsonl");
  fs::remove(path);
  const nlohmann::json settings{{"seed", 5}, {"in_flight", 3}};
  {
    hs::journal log(path.string(), settings);
    evaluator first(hwnas::fpga::pipelined_pe<>(), tight, train, validation, quick(), pool);
    auto s2 = strategy.start(codesign::layout, 5);
    const auto part = hs::run(first, s2, b, window,
                              [](const hs::trial&, std::size_t i, const hs::search_result&) { return i < 3; }, log);
    CHECK(part.trials.size() == 4);
    // Each entry also keeps its stage-1 time and whether it repeats an earlier trial (tools/simulate-cluster reads
    // them as the per-trial costs of a cluster).
    std::ifstream in(path);
    std::string line;
    std::getline(in, line);  // the header
    for (std::size_t i = 0; i < part.trials.size(); ++i) {
      CAPTURE(i);
      REQUIRE(std::getline(in, line));
      const auto j = nlohmann::json::parse(line);
      CHECK(j.at("mapping_seconds").get<double>() == part.trials[i].mapping_seconds);
      CHECK(j.value("repeated", false) == part.trials[i].repeated);
    }
  }
  {
    hs::journal log(path.string(), settings);
    REQUIRE(log.entries().size() == 4);
    evaluator second(hwnas::fpga::pipelined_pe<>(), tight, train, validation, quick(), pool);
    auto s3 = strategy.start(codesign::layout, 5);
    const auto resumed = hs::run(second, s3, b, window, hs::no_callback{}, log);
    CHECK(resumed.replayed == 4);
    REQUIRE(resumed.trials.size() == reference.trials.size());
    for (std::size_t i = 0; i < reference.trials.size(); ++i) {
      CAPTURE(i);
      CHECK(resumed.trials[i].g == reference.trials[i].g);
      CHECK(resumed.trials[i].reward == reference.trials[i].reward);
    }
  }
  // Resuming with another window asks other genomes: refused, naming the window.
  {
    hs::journal log(path.string(), settings);
    evaluator third(hwnas::fpga::pipelined_pe<>(), tight, train, validation, quick(), pool);
    auto s4 = strategy.start(codesign::layout, 5);
    hs::search_result ignored;
    const auto run_other_window = [&] { ignored = hs::run(third, s4, b, hs::schedule{1}, hs::no_callback{}, log); };
    CHECK_THROWS_WITH_AS(run_other_window(), doctest::Contains("window (in_flight)"), hwnas::invalid_argument);
  }
  fs::remove(path);
}

}  // namespace test_concurrent
