#pragma once
/// @file
/// search::progress_bar: a hook of search::run (and of pipeline::run) that shows where a search is, on stderr.
/// On a terminal it redraws one line: a bar, trial i/N, the stage, the best validation accuracy of a feasible
/// (trained) design so far and an ETA. Elsewhere (a log file, CI) it writes one line per trial instead: the trial
/// number, its status, accuracy, LUTs, fps and, when rejected, why. The pipeline's later stages report through
/// stage() ("retrain 2/3"). The stream and the terminal decision are constructor arguments, so both modes can be
/// tested and a program can send the bar elsewhere.
///
/// ```cpp
/// auto r = hwnas::search::run(evaluator, strategy, {.trials = 200}, hwnas::search::progress_bar{});
/// ```

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <functional>
#include <iostream>
#include <limits>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>

#if defined(__unix__) || defined(__APPLE__)
#include <unistd.h>
#endif

#include "hwnas/search/run.hpp"
#include "hwnas/search/trial.hpp"

namespace hwnas::search {

namespace detail {
/// Whether standard error is a terminal (a redrawn line makes sense there, not in a file).
inline bool stderr_is_terminal() noexcept {
#if defined(__unix__) || defined(__APPLE__)
  return ::isatty(STDERR_FILENO) == 1;
#else
  return false;
#endif
}

/// Seconds as "m:ss" or "h:mm:ss"; "--:--" when unknown.
inline std::string clock_text(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "--:--";
  const auto s = static_cast<long long>(std::llround(seconds));
  char buf[32];
  if (s >= 3600) std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", s / 3600, (s / 60) % 60, s % 60);
  else std::snprintf(buf, sizeof buf, "%lld:%02lld", s / 60, s % 60);
  return buf;
}

inline std::string percent_text(double fraction) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f%%", 100.0 * fraction);
  return buf;
}

inline std::string rate_text(double fps) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.5g", fps);
  return buf;
}
}  // namespace detail

/// A progress display for search::run (above). Copyable; each copy writes to the same stream.
class progress_bar {
 public:
  /// Seconds on a steady clock; replaceable so that tests get a deterministic ETA.
  using clock_function = std::function<double()>;

  /// Characters of the bar on a terminal.
  std::size_t bar_width = 24;
  /// On a terminal, the line is redrawn at most this often (seconds), and always for the last trial and a new
  /// best; 0 redraws on every trial.
  double min_redraw_seconds = 0.1;

  /// On stderr, redrawn when stderr is a terminal (isatty), one line per trial otherwise.
  progress_bar() : progress_bar(std::cerr, detail::stderr_is_terminal()) {}
  /// On `out`, redrawn when `terminal` is true. `out` must outlive the bar.
  progress_bar(std::ostream& out, bool terminal, clock_function clock = {})
      : out_(&out), terminal_(terminal), clock_(clock ? std::move(clock) : clock_function(steady_seconds)) {}

  bool terminal() const noexcept { return terminal_; }

  /// search::run hook: the search starts (after a journal's replay, whose trials were seen by on_trial).
  void on_start(const budget& b, const search_result& r) {
    total_ = b.trials;
    time_limit_ = b.seconds;
    replayed_ = r.trials.size();
    started_ = true;
    start_ = last_draw_ = clock_();
    stage_ = "search";
    if (!terminal_) {
      *out_ << "search: " << total_ << " trials";
      if (time_limit_ > 0) *out_ << " or " << detail::clock_text(time_limit_);
      if (replayed_) *out_ << ", " << replayed_ << " replayed from the journal";
      *out_ << '\n' << std::flush;
    } else {
      draw(r.trials.size(), total_, r, start_);
    }
  }

  /// search::run hook: a trial ended (replayed ones too, before on_start: those are only counted).
  void on_trial(const trial& t, std::size_t index, const search_result& r) {
    if (!started_) return;
    if (!terminal_) {
      *out_ << "trial " << index + 1 << '/' << total_ << ' ' << to_string(t.status);
      if (t.repeated) *out_ << " (repeat)";
      if (t.accuracy) *out_ << " acc " << detail::percent_text(*t.accuracy);
      if (t.hardware) *out_ << " luts " << t.hardware->luts << " fps " << detail::rate_text(t.hardware->fps);
      if (!t.reason.empty()) *out_ << ": " << t.reason;
      *out_ << '\n' << std::flush;
      return;
    }
    const bool new_best = r.best && *r.best == index;
    const double now = clock_();
    if (new_best || index + 1 >= total_ || now - last_draw_ >= min_redraw_seconds) draw(index + 1, total_, r, now);
  }

  /// search::run hook: the search ended.
  void on_finish(const search_result& r) {
    const auto c = count(r);
    if (terminal_ && started_) {
      draw(r.trials.size(), total_, r, clock_());
      *out_ << '\n';
    }
    *out_ << "search: " << c.trials << " trials in " << detail::clock_text(r.seconds) << ": " << c.trained
          << " trained, " << c.pruned() << " rejected before training, " << c.failed << " failed";
    if (r.best && r.trials[*r.best].accuracy)
      *out_ << "; best " << detail::percent_text(*r.trials[*r.best].accuracy) << " (trial " << *r.best + 1 << ')';
    else
      *out_ << "; no design met the spec";
    if (r.stopped) *out_ << "; stopped by a hook";
    *out_ << '\n' << std::flush;
    line_open_ = false;
  }

  /// A later stage of the pipeline: step `i` (1-based) of `n` of stage `name` begins ("retrain 2/3"). On a terminal
  /// the line is redrawn (a new line when the stage changes) with an ETA from the stage's own pace; otherwise one
  /// line per call.
  void stage(std::string_view name, std::size_t i, std::size_t n) {
    const double now = clock_();
    if (name != stage_) {
      if (terminal_ && line_open_) *out_ << '\n';
      line_open_ = false;
      stage_ = std::string(name);
      stage_start_ = now;
    }
    if (!terminal_) {
      *out_ << stage_ << ' ' << i << '/' << n << '\n' << std::flush;
      return;
    }
    const double done = i > 0 ? static_cast<double>(i - 1) : 0.0;
    const double eta = done > 0 ? (now - stage_start_) / done * (static_cast<double>(n) - done) : NAN;
    std::string line = bar(done, static_cast<double>(n)) + "  " + stage_ + ' ' + std::to_string(i) + '/' +
                       std::to_string(n) + "  ETA " + detail::clock_text(eta);
    redraw(line);
  }

  /// Ends a stage's redrawn line on a terminal (the next output starts on a new line); nothing otherwise.
  void end_stage() {
    if (terminal_ && line_open_) *out_ << '\n' << std::flush;
    line_open_ = false;
  }

 private:
  static double steady_seconds() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
  }

  std::string bar(double done, double total) const {
    const double f = total > 0 ? std::clamp(done / total, 0.0, 1.0) : 0.0;
    const auto filled = static_cast<std::size_t>(std::lround(f * static_cast<double>(bar_width)));
    return '[' + std::string(filled, '#') + std::string(bar_width - filled, '.') + ']';
  }

  void redraw(const std::string& line) {
    *out_ << '\r' << line << "\x1b[K" << std::flush;  // carriage return, the line, clear to its end
    line_open_ = true;
  }

  /// The search's line after `done` of `total` trials, at time `now`.
  void draw(std::size_t done, std::size_t total, const search_result& r, double now) {
    last_draw_ = now;
    const std::size_t fresh = done > replayed_ ? done - replayed_ : 0;  // evaluated by this run
    double eta = NAN;
    if (fresh > 0 && total > done)
      eta = (now - start_) / static_cast<double>(fresh) * static_cast<double>(total - done);
    if (done >= total) eta = 0;
    if (time_limit_ > 0) {  // a time budget ends the search sooner than its trials may
      const double left = std::max(0.0, time_limit_ - (now - start_));
      eta = std::isnan(eta) ? left : std::min(eta, left);
    }
    std::string line = bar(static_cast<double>(done), static_cast<double>(total)) + ' ' + std::to_string(done) + '/' +
                       std::to_string(total) + "  " + stage_ + "  best ";
    line += r.best && r.trials[*r.best].accuracy ? detail::percent_text(*r.trials[*r.best].accuracy) : "--";
    line += "  ETA " + detail::clock_text(eta);
    redraw(line);
  }

  std::ostream* out_;
  bool terminal_;
  clock_function clock_;
  std::size_t total_ = 0, replayed_ = 0;
  double time_limit_ = 0, start_ = 0, last_draw_ = 0, stage_start_ = 0;
  std::string stage_ = "search";
  bool started_ = false, line_open_ = false;
};

}  // namespace hwnas::search
