// search/progress.hpp: progress_bar as a hook of search::run, in both modes. Not a terminal: a header, one line per
// trial (number, status, accuracy, LUTs, fps, reason of a rejection), a summary. A terminal: one line redrawn with
// '\r' (bar, i/N, stage, best accuracy so far, ETA from the pace), a newline only at the end; later stages as
// "retrain 2/3" on their own line.

#include <doctest/doctest.h>

#include <array>
#include <sstream>
#include <string>

#include "hwnas/search/progress.hpp"
#include "hwnas/search/run.hpp"
#include "hwnas/search/strategies.hpp"

namespace hs = hwnas::search;

namespace {
/// Gene 0 picks the fate: 0 trained (accuracy 0.5 + gene 1 / 10), 1 infeasible, 2 ill-formed.
struct toy_evaluator {
  hs::trial evaluate(const hwnas::genome& g) {
    hs::trial t;
    t.g = g;
    if (g[0] == 2) {
      t.status = hs::trial_status::ill_formed;
      t.reason = "architecture: layer 1: the feature map shrinks to nothing";
      return t;
    }
    t.hardware = hwnas::fpga::hw_report{};
    t.hardware->luts = 1000 * (g[1] + 1);
    t.hardware->fps = 5000;
    if (g[0] == 1) {
      t.status = hs::trial_status::infeasible;
      t.reason = "max_luts: LUTs 40000 > 30000 (+33.3%)";
      return t;
    }
    t.status = hs::trial_status::trained;
    t.hardware->feasible = true;
    t.accuracy = 0.5 + g[1] / 10.0;
    return t;
  }
  hs::trial replay(const hs::trial& t) { return t; }
};

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t p = text.find(what); p != std::string::npos; p = text.find(what, p + 1)) ++n;
  return n;
}

/// A clock that advances 2 s each time it is read.
hs::progress_bar::clock_function ticking() {
  return [t = 0.0]() mutable { return t += 2.0; };
}
constexpr std::array<int, 2> layout{3, 4};
}  // namespace

TEST_CASE("progress_bar: not a terminal, one line per trial with its status, accuracy, LUTs, fps and reason") {
  std::ostringstream out;
  toy_evaluator e;
  auto s = hs::random_search{}.start(layout, 5);
  const auto r = hs::run(e, s, hs::budget{.trials = 12}, hs::progress_bar(out, false, ticking()));
  const std::string text = out.str();
  CHECK(text.find('\r') == std::string::npos);
  CHECK(text.find("\x1b[") == std::string::npos);
  CHECK(text.rfind("search: 12 trials\n", 0) == 0);
  CHECK(count(text, "\ntrial ") == 12);
  CHECK(text.find("\ntrial 1/12 ") != std::string::npos);
  CHECK(text.find("\ntrial 12/12 ") != std::string::npos);
  const auto c = hs::count(r);
  REQUIRE(c.trained > 0);
  REQUIRE(c.infeasible > 0);
  CHECK(count(text, " trained") >= c.trained);
  CHECK(count(text, " infeasible luts ") == c.infeasible);
  CHECK(count(text, ": max_luts: LUTs 40000 > 30000 (+33.3%)\n") == c.infeasible);
  CHECK(count(text, " ill-formed: architecture: layer 1") == c.ill_formed);
  CHECK(text.find(" fps 5000") != std::string::npos);
  CHECK(text.find(" acc ") != std::string::npos);
  // the summary line
  CHECK(text.find("search: 12 trials in ") != std::string::npos);
  CHECK(text.find(std::to_string(c.trained) + " trained, " + std::to_string(c.pruned()) +
                  " rejected before training") != std::string::npos);
  CHECK(text.find("; best " + hwnas::search::detail::percent_text(*r.trials[*r.best].accuracy) + " (trial " +
                  std::to_string(*r.best + 1) + ")\n") != std::string::npos);

  hs::progress_bar later(out, false);
  out.str("");
  later.stage("retrain", 2, 3);
  CHECK(out.str() == "retrain 2/3\n");
}

TEST_CASE("progress_bar: on a terminal, one redrawn line with a bar, i/N, the stage, the best so far and an ETA") {
  std::ostringstream out;
  toy_evaluator e;
  auto s = hs::random_search{}.start(layout, 5);
  hs::progress_bar bar(out, true, ticking());
  bar.min_redraw_seconds = 0;
  CHECK(bar.terminal());
  const auto r = hs::run(e, s, hs::budget{.trials = 10}, bar);
  const std::string text = out.str();
  CHECK(count(text, "\r") >= 11);   // the start and every trial redraw the line
  CHECK(count(text, "\x1b[K") == count(text, "\r"));
  const auto summary = text.find("\nsearch: 10 trials in ");
  REQUIRE(summary != std::string::npos);
  CHECK(count(text.substr(0, summary), "\n") == 0);  // one line until the end
  CHECK(text.find("[" + std::string(24, '.') + "] 0/10  search  best --  ETA --:--") != std::string::npos);
  // after the first trial: 1/10 in 2 s (the clock's tick), so 9 more take 18 s
  const auto first = text.find("] 1/10  search  best ");
  REQUIRE(first != std::string::npos);
  CHECK(text.substr(first, text.find('\r', first) - first).find("ETA 0:18") != std::string::npos);
  CHECK(text.find("] 10/10  search  best " + hwnas::search::detail::percent_text(*r.trials[*r.best].accuracy) +
                  "  ETA 0:00") != std::string::npos);
  CHECK(text.find("[" + std::string(24, '#') + "]") != std::string::npos);

  // later stages: a new line, then redrawn in place with the stage's pace
  out.str("");
  bar.stage("retrain", 1, 3);
  bar.stage("retrain", 2, 3);
  bar.end_stage();
  const std::string stages = out.str();
  CHECK(stages.find("retrain 1/3  ETA --:--") != std::string::npos);
  CHECK(stages.find("retrain 2/3  ETA 0:04") != std::string::npos);  // 1 step took 2 s, 2 to go
  CHECK(stages.back() == '\n');
  CHECK(count(stages, "\n") == 1);
}

TEST_CASE("progress_bar: a time budget bounds the ETA") {
  std::ostringstream out;
  hs::progress_bar bar(out, true, ticking());
  bar.min_redraw_seconds = 0;
  hs::search_result r;
  bar.on_start(hs::budget{.trials = 1000, .seconds = 60}, r);
  hs::trial t;
  r.trials.push_back(t);
  bar.on_trial(r.trials.back(), 0, r);  // 1 of 1000 in 2 s: 1998 s by pace, but 58 s of budget left
  CHECK(out.str().find("1/1000  search  best --  ETA 0:58") != std::string::npos);
}
