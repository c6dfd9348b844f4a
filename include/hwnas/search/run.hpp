#pragma once
/// @file
/// search::run: the search loop, resumable from a journal (search/journal.hpp). A strategy asks, an Evaluator gives
/// the trial (the two-stage one: hardware first, then proxy training), the strategy is told the reward (or the whole
/// outcome), and the Pareto archive keeps the trained designs that no other beats on accuracy, LUTs and fps
/// together. Hooks (a trailing pack, each member optional) see every trial and may stop the run; the budget bounds
/// trials and seconds. write_csv() writes one row per trial. Includes nothing of nn/ or io/.

#include <chrono>
#include <concepts>
#include <cstddef>
#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <type_traits>
#include <vector>

#include "hwnas/core/error.hpp"
#include "hwnas/search/concepts.hpp"
#include "hwnas/search/pareto.hpp"
#include "hwnas/search/trial.hpp"

namespace hwnas::search {

/// When a search stops: after `trials` trials, or once `seconds` have passed (0: no time limit), whichever first.
struct budget {
  std::size_t trials = 100;
  double seconds = 0.0;
};

/// A hook that stops nothing and sees nothing (every hook member is optional).
struct no_callback {};

/// Hooks are a trailing pack of search::run (and of pipeline::run); each member of a hook is optional:
/// - `void on_start(const budget&, const search_result&)`: before the first trial (after a journal's replay);
/// - `void on_trial(const trial&, std::size_t index, const search_result&)`: after every trial, replayed ones too;
/// - `bool should_stop(const search_result&)`: true stops the search after the current trial;
/// - `void on_finish(const search_result&)`;
/// - `double reward(const trial&)`: the reward the strategy is told (default: search::lu2019_reward; the first hook
///   that has one decides);
/// - `std::vector<double> objectives(const trial&)`: what a multi-objective strategy is told (default:
///   accuracy, -LUTs, fps);
/// - `const std::vector<trial>& recorded() const`: trials to replay before evaluating anything (the journal's);
/// - or a plain callable `bool(const trial&, std::size_t index, const search_result&)`: false stops the search.
namespace detail {
template <class H>
concept trial_callback = std::is_invocable_r_v<bool, H&, const trial&, std::size_t, const search_result&>;

template <class H>
void hook_on_start(H& h, const budget& b, const search_result& r) {
  if constexpr (requires { h.on_start(b, r); }) h.on_start(b, r);
}
/// Returns false when the hook stops the search.
template <class H>
bool hook_on_trial(H& h, const trial& t, std::size_t i, const search_result& r) {
  bool go = true;
  if constexpr (trial_callback<H>) go = h(t, i, r);
  if constexpr (requires { h.on_trial(t, i, r); }) h.on_trial(t, i, r);
  if constexpr (requires { { h.should_stop(r) } -> std::convertible_to<bool>; }) go = go && !h.should_stop(r);
  return go;
}
template <class H>
void hook_on_finish(H& h, const search_result& r) {
  if constexpr (requires { h.on_finish(r); }) h.on_finish(r);
}
template <class H>
concept reward_hook = requires(H& h, const trial& t) {
  { h.reward(t) } -> std::convertible_to<double>;
};
template <class H>
concept objectives_hook = requires(H& h, const trial& t) {
  { h.objectives(t) } -> std::convertible_to<std::vector<double>>;
};
template <class H>
concept recording_hook = requires(H& h) {
  { h.recorded() } -> std::convertible_to<const std::vector<trial>&>;
};

/// The reward of `t` from the first hook that gives one, else Lu'19's.
template <class... H>
double reward_of(const trial& t, H&... hooks) {
  std::optional<double> r;
  ((reward_hook<H> && !r ? void(r = [&]() -> double {
    if constexpr (reward_hook<H>) return static_cast<double>(hooks.reward(t));
    else return 0.0;
  }()) : void()), ...);
  return r ? *r : lu2019_reward(t);
}
template <class... H>
std::vector<double> objectives_of(const trial& t, H&... hooks) {
  std::optional<std::vector<double>> o;
  ((objectives_hook<H> && !o ? void(o = [&]() -> std::vector<double> {
    if constexpr (objectives_hook<H>) return hooks.objectives(t);
    else return {};
  }()) : void()), ...);
  if (o) return *o;
  const auto d = default_objectives(t);
  return {d.begin(), d.end()};
}
template <class... H>
const std::vector<trial>* recorded_of(H&... hooks) {
  const std::vector<trial>* rec = nullptr;
  ((recording_hook<H> && !rec ? void(rec = [&]() -> const std::vector<trial>* {
    if constexpr (recording_hook<H>) return &hooks.recorded();
    else return nullptr;
  }()) : void()), ...);
  return rec;
}
}  // namespace detail

/// How many trials may be under way at once: at most `in_flight` genomes asked and not yet told. The window fixes
/// the order of every ask and tell (ask 0..in_flight-1, then tell i before ask i + in_flight), so the trials of a
/// seed depend on the window, never on how many of the asked trials an evaluator actually runs at once: one at a
/// time, on threads (search::two_stage_evaluator's submit/collect) or on MPI ranks (search/mpi_evaluator.hpp).
/// in_flight = 1 is the classic loop (every reward is told before the next ask).
struct schedule {
  std::size_t in_flight = 1;
};

/// Runs a strategy's state against `evaluator` within `b`, calling `hooks` (each optional, above), with at most
/// `sched.in_flight` trials asked and not yet told. A ConcurrentEvaluator gets every asked genome at once
/// (submit) and returns trials as they finish (collect); they are told in ask order. A plain Evaluator evaluates
/// each genome when it is asked. With a hook that records trials (search::journal), the trials it holds are
/// replayed first: the strategy, started with the seed of the recorded run, asks them again and is told their
/// rewards, and the evaluator replays them (nothing is retrained); they count against the budget. Trials still
/// under way when a hook stops the run are collected and dropped, not recorded (a resumed run asks for them
/// again); when the time is up nothing more is asked, and the trials under way are told.
/// @throws hwnas::invalid_argument when the strategy asks for a genome other than the recorded one (another seed,
///         window or space), when the recorded trials outnumber budget.trials, when budget.seconds is negative or
///         NaN, when sched.in_flight is 0, and whatever the evaluator throws for a malformed genome
template <Evaluator E, StrategyState S, class... Hooks>
search_result run(E& evaluator, S& strategy, budget b, schedule sched, Hooks&&... hooks) {
  if (!(b.seconds >= 0.0))  // NaN too
    throw invalid_argument("hwnas::search::run: budget.seconds must be a number >= 0 (0: no limit)");
  if (sched.in_flight == 0)
    throw invalid_argument("hwnas::search::run: schedule.in_flight must be >= 1 (1: one trial at a time)");
  using clock = std::chrono::steady_clock;
  const auto t0 = clock::now();
  const auto elapsed = [&] { return std::chrono::duration<double>(clock::now() - t0).count(); };
  search_result r;
  // Tells the strategy, records the trial, calls the hooks. Returns false to stop.
  auto record = [&](const genome& g, trial t) {
    t.reward = detail::reward_of(t, hooks...);
    outcome o;
    o.reward = t.reward;
    o.feasible = t.status == trial_status::trained;
    if (o.feasible) o.objectives = detail::objectives_of(t, hooks...);
    tell(strategy, g, o);
    const std::size_t index = r.trials.size();
    if (t.status == trial_status::trained) {
      r.front.insert(default_objectives(t), index);
      if (!r.best || t.reward > r.trials[*r.best].reward) r.best = index;
    }
    r.trials.push_back(std::move(t));
    const bool go = (detail::hook_on_trial(hooks, r.trials.back(), index, r) & ... & true);
    if (!go) r.stopped = true;
    return go;
  };
  static const std::vector<trial> none;
  const std::vector<trial>* rec = detail::recorded_of(hooks...);
  const std::vector<trial>& recorded = rec ? *rec : none;
  if (recorded.size() > b.trials)
    throw invalid_argument("hwnas::search::run: the journal holds " + std::to_string(recorded.size()) +
                           " trials, more than the budget of " + std::to_string(b.trials) +
                           "; resume with at least as many trials (a smaller budget would drop recorded ones)");
  std::vector<genome> asked;                // every genome asked, in ask order
  std::map<std::size_t, trial> finished;    // evaluated, not yet told, by ask index
  std::size_t submitted = 0;                // asked genomes handed to a ConcurrentEvaluator and not collected
  bool started = false, time_up = false;
  // Collects what is still under way (a stop or a timeout leaves trials unrecorded).
  auto drain = [&] {
    if constexpr (ConcurrentEvaluator<E>)
      for (; submitted > 0; --submitted) evaluator.collect();
  };
  try {
    for (;;) {
      const std::size_t told = r.trials.size();
      if (!started && told == recorded.size()) {
        started = true;
        (detail::hook_on_start(hooks, b, r), ...);
      }
      // Ask while the window and the budget allow.
      while (!time_up && asked.size() - told < sched.in_flight && asked.size() < b.trials) {
        const std::size_t i = asked.size();
        if (i >= recorded.size() && b.seconds > 0.0 && elapsed() >= b.seconds) {
          time_up = true;
          break;
        }
        genome g = strategy.ask();
        if (i < recorded.size()) {
          if (g != recorded[i].g)
            throw invalid_argument("hwnas::search::run: recorded trial " + std::to_string(i + 1) +
                                   " is not the genome the strategy asks for now: resume with the seed, strategy, "
                                   "window (in_flight) and search space of the recorded run, or start a new journal");
          finished.emplace(i, evaluator.replay(recorded[i]));
        } else if constexpr (ConcurrentEvaluator<E>) {
          evaluator.submit(i, g);
          ++submitted;
        } else {
          finished.emplace(i, evaluator.evaluate(g));
        }
        asked.push_back(std::move(g));
      }
      if (told == asked.size()) break;  // budget or time used up, nothing under way
      if constexpr (ConcurrentEvaluator<E>) {
        while (!finished.count(told)) {
          auto [ticket, t] = evaluator.collect();
          --submitted;
          if (ticket < told || ticket >= asked.size() || finished.count(ticket))
            throw invalid_argument("hwnas::search::run: the evaluator returned trial " + std::to_string(ticket) +
                                   ", which was not under way");
          finished.emplace(ticket, std::move(t));
        }
      }
      auto node = finished.extract(told);
      if (told < recorded.size()) ++r.replayed;
      if (!record(asked[told], std::move(node.mapped()))) break;
    }
  } catch (...) {
    try {
      drain();
    } catch (...) {
    }
    throw;
  }
  drain();
  r.seconds = elapsed();
  (detail::hook_on_finish(hooks, r), ...);
  return r;
}

/// Runs one trial at a time (schedule{1}): ask, evaluate, tell.
template <Evaluator E, StrategyState S, class... Hooks>
  requires(!(std::same_as<std::remove_cvref_t<Hooks>, schedule> || ...))
search_result run(E& evaluator, S& strategy, budget b, Hooks&&... hooks) {
  return run(evaluator, strategy, b, schedule{}, std::forward<Hooks>(hooks)...);
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
