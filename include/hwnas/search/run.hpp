#pragma once
/// @file
/// search::run: the search loop, resumable from a journal (search/journal.hpp). A strategy asks, the evaluator
/// gives the trial (hardware first, then proxy training), the strategy is told the reward, and the Pareto archive
/// keeps the trained designs that no other beats on accuracy, LUTs and fps together. A callback sees every trial
/// and may stop the run; the budget bounds trials and seconds. write_csv() writes one row per trial.

#include <chrono>
#include <cstddef>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "hwnas/core/error.hpp"
#include "hwnas/search/concepts.hpp"
#include "hwnas/search/evaluator.hpp"
#include "hwnas/search/journal.hpp"
#include "hwnas/search/pareto.hpp"

namespace hwnas::search {

/// When a search stops: after `trials` trials, or once `seconds` have passed (0: no time limit), whichever first.
struct budget {
  std::size_t trials = 100;
  double seconds = 0.0;
};

/// Everything a search did.
struct search_result {
  std::vector<trial> trials;  ///< in the order they ran
  /// The trained designs no other trained design beats on (accuracy, -LUTs, fps); payload: index into trials.
  pareto_archive<3, std::size_t> front;
  std::optional<std::size_t> best;  ///< the trained trial with the highest reward (the first one on a tie)
  double seconds = 0.0;
  bool stopped = false;  ///< the callback stopped it
};

/// A callback that never stops the run.
struct no_callback {
  bool operator()(const trial&, std::size_t, const search_result&) const noexcept { return true; }
};

/// Runs `strategy` against `evaluator` within `b`. cb(trial, index, result so far) is called after every trial;
/// returning false stops the search. With a journal, the trials it holds are replayed first (the strategy, built
/// with the seed of the journaled run, asks them again and is told their rewards; nothing is retrained) and count
/// against the budget; every new trial is appended to it before the next one starts.
/// @throws hwnas::invalid_argument when the strategy asks for a genome other than the journal's (another seed or
///         space) or stage 1 disagrees with it; whatever the evaluator throws for a malformed genome
template <class Evaluator, Strategy S, class Callback = no_callback>
search_result run(Evaluator& evaluator, S& strategy, budget b, Callback&& cb = {}, journal* log = nullptr) {
  if (b.seconds < 0.0) throw invalid_argument("hwnas::search::run: budget.seconds must be >= 0 (0: no limit)");
  using clock = std::chrono::steady_clock;
  const auto t0 = clock::now();
  const auto elapsed = [&] { return std::chrono::duration<double>(clock::now() - t0).count(); };
  search_result r;
  // Returns false to stop.
  auto record = [&](trial t) {
    const std::size_t index = r.trials.size();
    if (t.status == trial_status::trained) {
      r.front.insert({t.reward, -static_cast<double>(t.hardware->luts), t.hardware->fps}, index);
      if (!r.best || t.reward > r.trials[*r.best].reward) r.best = index;
    }
    r.trials.push_back(std::move(t));
    if (cb(r.trials.back(), index, r)) return true;
    r.stopped = true;
    return false;
  };
  if (log) {
    for (const trial& recorded : log->entries()) {
      if (r.trials.size() >= b.trials) break;
      const genome g = strategy.ask();
      if (g != recorded.g)
        throw invalid_argument("hwnas::search::run: trial " + std::to_string(r.trials.size() + 1) + " of journal " +
                               log->path() + " is not the genome the strategy asks for now: resume with the seed, "
                               "strategy and search space of the journaled run, or start a new journal");
      trial t = evaluator.replay(recorded);
      strategy.tell(g, t.reward);
      if (!record(std::move(t))) break;
    }
  }
  while (!r.stopped && r.trials.size() < b.trials && (b.seconds == 0.0 || elapsed() < b.seconds)) {
    const genome g = strategy.ask();
    trial t = evaluator.evaluate(g);
    strategy.tell(g, t.reward);
    if (log) log->append(t);
    if (!record(std::move(t))) break;
  }
  r.seconds = elapsed();
  return r;
}

namespace detail {
inline std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string q = "\"";
  for (const char c : s) {
    if (c == '"') q += '"';
    q += c;
  }
  return q + '"';
}
}  // namespace detail

/// One row per trial: its number (1-based, as progress lines print it), status, reward, accuracy, LUTs, DSPs, BRAMs, fps, latency (ms), whether it is on the
/// Pareto front, whether it repeats an earlier genome, the genome (genes separated by spaces), the reason.
inline void write_csv(std::ostream& out, const search_result& r) {
  out << "trial,status,reward,accuracy,luts,dsps,brams,fps,latency_ms,pareto,repeated,genome,reason\n";
  std::vector<bool> on_front(r.trials.size(), false);
  for (const auto& e : r.front.entries()) on_front[e.payload] = true;
  for (std::size_t i = 0; i < r.trials.size(); ++i) {
    const auto& t = r.trials[i];
    out << i + 1 << ',' << to_string(t.status) << ',' << t.reward << ',';
    if (t.accuracy) out << *t.accuracy;
    out << ',';
    if (t.hardware)
      out << t.hardware->luts << ',' << t.hardware->dsps << ',' << t.hardware->brams << ',' << t.hardware->fps << ','
          << t.hardware->latency_ms;
    else
      out << ",,,,";
    out << ',' << (on_front[i] ? 1 : 0) << ',' << (t.repeated ? 1 : 0) << ',';
    for (std::size_t k = 0; k < t.g.size(); ++k) out << (k ? " " : "") << t.g[k];
    out << ',' << detail::csv_field(t.reason) << '\n';
  }
}

}  // namespace hwnas::search
