#pragma once
/// @file
/// pareto.svg: the plot of a co-design run a person reads first. Validation accuracy (proxy training) against LUTs
/// on a log scale, one dot per trained trial coloured by its fps (a colour scale with its legend, the spec's min_fps
/// marked on it); the spec's max_luts as a dashed vertical line; the candidates rejected before training (they have
/// no accuracy) as faded ticks at their LUTs along a band at the bottom; the Pareto front (accuracy, LUTs, fps)
/// ringed, and its accuracy-against-LUTs staircase drawn as a line; the retrained top-k boxed and the best starred.
/// Self-contained SVG 1.1: no scripts, no external fonts or images; it opens in any browser and inlines in
/// report.html. Elements carry classes (trial, front, front-line, top, best, rejected, failed, limit, min-fps,
/// plot-area) so that tests and style sheets can find them.

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <numbers>
#include <optional>
#include <ostream>
#include <sstream>
#include <string>
#include <vector>

#include "hwnas/report/codesign_report.hpp"
#include "hwnas/report/text.hpp"
#include "hwnas/search/trial.hpp"

namespace hwnas::report {

namespace detail {
/// A colour of the fps scale at t in [0, 1]: blue-purple (slow) through teal and green to yellow (fast), piecewise
/// linear between five stops of a perceptually ordered, colour-blind-safe ramp.
inline std::string fps_colour(double t) {
  static constexpr std::array<std::array<int, 3>, 5> stops{
      {{68, 1, 84}, {59, 82, 139}, {33, 145, 140}, {94, 201, 98}, {253, 231, 37}}};
  t = std::clamp(std::isfinite(t) ? t : 0.0, 0.0, 1.0) * (stops.size() - 1);
  const auto k = std::min<std::size_t>(static_cast<std::size_t>(t), stops.size() - 2);
  const double f = t - static_cast<double>(k);
  char buf[8];
  int rgb[3];
  for (int c = 0; c < 3; ++c)
    rgb[c] = static_cast<int>(std::lround(stops[k][c] + f * (stops[k + 1][c] - stops[k][c])));
  std::snprintf(buf, sizeof buf, "#%02x%02x%02x", rgb[0], rgb[1], rgb[2]);
  return buf;
}

/// A legend label of 3 significant digits with a k or M suffix: "950", "2.51k", "40k", "1.2M".
inline std::string short_number(double v) {
  char buf[32];
  if (v >= 1e6) std::snprintf(buf, sizeof buf, "%.3gM", v / 1e6);
  else if (v >= 1e3) std::snprintf(buf, sizeof buf, "%.3gk", v / 1e3);
  else std::snprintf(buf, sizeof buf, "%.3g", v);
  return buf;
}

/// A coordinate with one decimal.
inline std::string coord(double v) { return fixed(v, 1); }
}  // namespace detail

/// The plot's geometry, in SVG user units (pixels). The plot area is where every point lies.
struct pareto_svg_layout {
  double width = 920, height = 560;
  double left = 84, right = 210, top = 64, bottom = 64;
  double band = 22;  ///< height of the band at the bottom of the plot area that holds the untrained candidates
  double plot_width() const noexcept { return width - left - right; }
  double plot_height() const noexcept { return height - top - bottom; }
};

/// Writes pareto.svg of `r` (above).
inline void write_pareto_svg(std::ostream& out, const codesign_report& r, const pareto_svg_layout& g = {}) {
  using detail::coord;
  using detail::escape;
  using search::trial_status;
  const auto& trials = r.search.trials;
  const double pw = g.plot_width(), ph = g.plot_height();
  const double band_top = g.top + ph - g.band;

  // What is drawn where.
  std::vector<std::size_t> trained, untrained;  // untrained: mapped, not trained (infeasible or failed)
  std::size_t unmapped = 0;                      // ill-formed: no hardware report, nothing to draw
  for (std::size_t i = 0; i < trials.size(); ++i) {
    const auto& t = trials[i];
    if (t.repeated) continue;  // the same point as its first evaluation
    if (t.status == trial_status::trained && t.hardware && t.accuracy) trained.push_back(i);
    else if (t.hardware) untrained.push_back(i);
    else ++unmapped;
  }
  const auto luts = [&](std::size_t i) { return std::max(1.0, static_cast<double>(trials[i].hardware->luts)); };

  // Axes: LUT decades around every drawn design and the limit; accuracy padded by 2 points.
  double lo_l = INFINITY, hi_l = 0, lo_a = INFINITY, hi_a = -INFINITY, lo_f = INFINITY, hi_f = 0;
  for (const auto i : trained) {
    lo_a = std::min(lo_a, *trials[i].accuracy);
    hi_a = std::max(hi_a, *trials[i].accuracy);
    if (trials[i].hardware->fps > 0) {
      lo_f = std::min(lo_f, trials[i].hardware->fps);
      hi_f = std::max(hi_f, trials[i].hardware->fps);
    }
  }
  for (const auto* list : {&trained, &untrained})
    for (const auto i : *list) {
      lo_l = std::min(lo_l, luts(i));
      hi_l = std::max(hi_l, luts(i));
    }
  if (r.spec.max_luts) {
    lo_l = std::min(lo_l, std::max(1.0, static_cast<double>(*r.spec.max_luts)));
    hi_l = std::max(hi_l, std::max(1.0, static_cast<double>(*r.spec.max_luts)));
  }
  if (hi_l == 0) lo_l = hi_l = 1000;
  if (trained.empty()) lo_a = 0, hi_a = 1;
  if (r.spec.min_fps && *r.spec.min_fps > 0) {
    lo_f = std::min(lo_f, *r.spec.min_fps);
    hi_f = std::max(hi_f, *r.spec.min_fps);
  }
  if (!(hi_f > 0)) lo_f = 1, hi_f = 10;
  if (hi_f <= lo_f * 1.0001) lo_f /= 2, hi_f *= 2;
  const double x0 = std::floor(std::log10(lo_l) + 1e-9);
  const double x1 = std::max(x0 + 1, std::ceil(std::log10(hi_l) - 1e-9));
  const double y0 = std::max(0.0, lo_a - 0.02), y1 = std::min(1.0, std::max(hi_a + 0.02, y0 + 0.05));
  const double f0 = std::log10(lo_f), f1 = std::log10(hi_f);
  const auto px = [&](double l) { return g.left + (std::log10(std::max(1.0, l)) - x0) / (x1 - x0) * pw; };
  const double acc_top = g.top + 10, acc_bottom = band_top - 10;
  const auto py = [&](double a) { return acc_top + (y1 - a) / (y1 - y0) * (acc_bottom - acc_top); };
  const auto fps_t = [&](double fps) { return (std::log10(std::max(fps, 1e-9)) - f0) / (f1 - f0); };

  std::ostringstream s;
  s << R"(<svg xmlns="http://www.w3.org/2000/svg" width=")" << g.width << R"(" height=")" << g.height
    << R"(" viewBox="0 0 )" << g.width << ' ' << g.height
    << R"(" font-family="DejaVu Sans, Helvetica, Arial, sans-serif" font-size="12" role="img">)" << '\n';
  const auto c = count(r.search);
  std::string title = "hwnas co-design: " + (r.strategy.empty() ? std::string("search") : r.strategy);
  if (!r.device.empty()) title += " on " + r.device;
  title += ", spec: " + detail::spec_line(r.spec);
  s << "<title>" << escape(title) << "</title>\n";
  s << R"(<defs><linearGradient id="fps-scale" x1="0" y1="1" x2="0" y2="0">)";
  for (int k = 0; k <= 8; ++k)
    s << R"(<stop offset=")" << detail::fixed(k / 8.0, 3) << R"(" stop-color=")" << detail::fps_colour(k / 8.0)
      << R"("/>)";
  s << "</linearGradient></defs>\n";
  s << R"(<rect width="100%" height="100%" fill="white"/>)" << '\n';
  s << R"(<text x=")" << g.left << R"(" y="24" font-size="16" font-weight="bold">)" << escape(title) << "</text>\n";
  s << R"(<text x=")" << g.left << R"(" y="44" fill="#444">)" << c.trials << " trials: " << c.trained
    << " trained, " << c.pruned() << " rejected before training (" << c.infeasible << " infeasible, "
    << c.ill_formed << " ill-formed), " << c.failed << " failed in training";
  if (c.repeated) s << ", " << c.repeated << " repeated";
  s << "</text>\n";

  // Plot area, the band of untrained candidates, grid and ticks.
  s << R"(<rect class="plot-area" x=")" << g.left << R"(" y=")" << g.top << R"(" width=")" << pw << R"(" height=")"
    << ph << R"(" fill="none" stroke="#333"/>)" << '\n';
  s << R"(<rect x=")" << g.left << R"(" y=")" << coord(band_top) << R"(" width=")" << pw << R"(" height=")" << g.band
    << R"(" fill="#f4f4f4"/>)" << '\n';
  s << R"(<text x=")" << coord(g.left - 6) << R"(" y=")" << coord(band_top + g.band - 7)
    << R"(" text-anchor="end" font-size="11" fill="#777">not trained</text>)" << '\n';
  const bool minor = x1 - x0 <= 3;
  for (double d = x0; d <= x1 + 1e-9; d += 1) {
    for (const int m : {1, 2, 5}) {
      const double v = m * std::pow(10.0, d), x = px(v);
      if (std::log10(v) > x1 + 1e-9 || (m != 1 && !minor)) continue;
      s << R"(<line x1=")" << coord(x) << R"(" y1=")" << g.top << R"(" x2=")" << coord(x) << R"(" y2=")"
        << coord(band_top) << R"(" stroke=")" << (m == 1 ? "#ddd" : "#eee") << R"("/>)";
      s << R"(<text x=")" << coord(x) << R"(" y=")" << g.top + ph + 16 << R"(" text-anchor="middle")"
        << (m == 1 ? "" : R"( fill="#666" font-size="10")") << ">" << static_cast<long long>(std::llround(v))
        << "</text>\n";
    }
  }
  const double step = (y1 - y0) > 0.3 ? 0.1 : (y1 - y0) > 0.1 ? 0.05 : (y1 - y0) > 0.04 ? 0.01 : 0.005;
  for (double a = std::ceil(y0 / step - 1e-9) * step; a <= y1 + 1e-9; a += step) {
    s << R"(<line x1=")" << g.left << R"(" y1=")" << coord(py(a)) << R"(" x2=")" << g.left + pw << R"(" y2=")"
      << coord(py(a)) << R"(" stroke="#ddd"/>)" << R"(<text x=")" << g.left - 6 << R"(" y=")" << coord(py(a) + 4)
      << R"(" text-anchor="end">)" << detail::fixed(100.0 * a, step < 0.01 ? 1 : 0) << "%</text>\n";
  }
  s << R"(<text x=")" << coord(g.left + pw / 2) << R"(" y=")" << g.height - 20
    << R"(" text-anchor="middle">LUTs (log scale)</text>)" << '\n';
  s << R"(<text transform="translate(20 )" << coord(g.top + ph / 2)
    << R"svg() rotate(-90)" text-anchor="middle">validation accuracy (proxy training)</text>)svg" << '\n';

  // The spec's LUT ceiling: everything right of it breaks the spec.
  if (r.spec.max_luts) {
    const double x = px(static_cast<double>(*r.spec.max_luts));
    s << R"(<rect x=")" << coord(x) << R"(" y=")" << g.top << R"(" width=")" << coord(g.left + pw - x)
      << R"(" height=")" << ph << R"(" fill="#d62728" fill-opacity="0.05"/>)" << '\n';
    s << R"(<line class="limit" x1=")" << coord(x) << R"(" y1=")" << g.top << R"(" x2=")" << coord(x) << R"(" y2=")"
      << g.top + ph << R"(" stroke="#d62728" stroke-width="1.5" stroke-dasharray="6 4"/>)";
    s << R"(<text x=")" << coord(x - 4) << R"(" y=")" << g.top + 14 << R"(" text-anchor="end" fill="#d62728">)"
      << "max_luts " << *r.spec.max_luts << "</text>\n";
  }

  // Candidates never trained: faded ticks in the band, at their LUTs.
  for (const auto i : untrained) {
    const auto& t = trials[i];
    const bool failed = t.status == trial_status::failed;
    const double x = px(luts(i));
    s << R"(<line class=")" << (failed ? "failed" : "rejected") << R"(" x1=")" << coord(x) << R"(" y1=")"
      << coord(band_top + 4) << R"(" x2=")" << coord(x) << R"(" y2=")" << coord(band_top + g.band - 4)
      << R"(" stroke=")" << (failed ? "#b03030" : "#555") << R"(" stroke-opacity="0.35" stroke-width="2">)"
      << "<title>trial " << i + 1 << ": " << search::to_string(t.status) << ", " << t.hardware->luts << " LUTs, "
      << detail::number(t.hardware->fps, 4) << " fps" << (t.reason.empty() ? "" : ": " + escape(t.reason))
      << "</title></line>\n";
  }

  // The accuracy-against-LUTs staircase of the front: the best accuracy reached with at most x LUTs.
  std::vector<std::size_t> front;
  for (const auto& e : r.search.front.entries())
    if (trials.at(e.payload).accuracy && trials.at(e.payload).hardware) front.push_back(e.payload);
  std::vector<std::size_t> steps = front;
  std::sort(steps.begin(), steps.end(), [&](std::size_t a, std::size_t b) {
    return luts(a) != luts(b) ? luts(a) < luts(b) : *trials[a].accuracy > *trials[b].accuracy;
  });
  if (!steps.empty()) {
    s << R"(<polyline class="front-line" fill="none" stroke="#222" stroke-width="1.2" stroke-opacity="0.7" points=")";
    double best_so_far = -1;
    bool first = true;
    for (const auto i : steps) {
      const double a = *trials[i].accuracy;
      if (a <= best_so_far) continue;
      if (!first) s << ' ' << coord(px(luts(i))) << ',' << coord(py(best_so_far));
      s << (first ? "" : " ") << coord(px(luts(i))) << ',' << coord(py(a));
      best_so_far = a;
      first = false;
    }
    s << ' ' << coord(g.left + pw) << ',' << coord(py(best_so_far)) << R"("/>)" << '\n';
  }

  // Every trained trial, coloured by fps; the front ringed over them.
  for (const auto i : trained) {
    const auto& t = trials[i];
    s << R"(<circle class="trial" cx=")" << coord(px(luts(i))) << R"(" cy=")" << coord(py(*t.accuracy))
      << R"(" r="4" fill=")" << detail::fps_colour(fps_t(t.hardware->fps))
      << R"(" stroke="white" stroke-width="0.6"><title>trial )" << i + 1 << ": " << detail::percent(*t.accuracy)
      << ", " << t.hardware->luts << " LUTs, " << detail::number(t.hardware->fps, 4) << " fps</title></circle>\n";
  }
  for (const auto i : front)
    s << R"(<circle class="front" cx=")" << coord(px(luts(i))) << R"(" cy=")" << coord(py(*trials[i].accuracy))
      << R"(" r="6.5" fill="none" stroke="#222" stroke-width="1.2"/>)" << '\n';

  // The retrained top-k (boxed) and the best of them (a star), at their search trial's point.
  const auto drawable = [&](std::size_t i) { return i < trials.size() && trials[i].accuracy && trials[i].hardware; };
  for (std::size_t k = 0; k < r.top.size(); ++k) {
    const auto& d = r.top[k];
    if (!drawable(d.trial)) continue;
    const double x = px(luts(d.trial)), y = py(*trials[d.trial].accuracy);
    s << R"(<rect class="top" x=")" << coord(x - 9) << R"(" y=")" << coord(y - 9)
      << R"(" width="18" height="18" fill="none" stroke="#1f77b4" stroke-width="1.5"><title>top )" << k + 1
      << ": trial " << d.trial + 1 << ", retrained " << detail::percent(d.validation_accuracy) << " validation, "
      << detail::percent(d.test_accuracy_integer) << " test (integer)</title></rect>\n";
  }
  if (r.best && *r.best < r.top.size() && drawable(r.top[*r.best].trial)) {
    const auto& d = r.top[*r.best];
    const double x = px(luts(d.trial)), y = py(*trials[d.trial].accuracy);
    s << R"(<path class="best" d=")";
    for (int k = 0; k < 10; ++k) {  // a five-pointed star above the point
      const double radius = k % 2 ? 4.0 : 9.0, angle = -std::numbers::pi / 2 + k * std::numbers::pi / 5;
      s << (k ? " L" : "M") << coord(x + radius * std::cos(angle)) << ' '
        << coord(y - 16 + radius * std::sin(angle));
    }
    s << R"( Z" fill="#ffbf00" stroke="#222" stroke-width="1"><title>best: trial )" << d.trial + 1 << ", "
      << detail::percent(d.test_accuracy_integer) << " test accuracy (integer), " << d.hw.luts << " LUTs, "
      << detail::number(d.hw.fps, 4) << " fps</title></path>\n";
  }
  if (trained.empty())
    s << R"(<text x=")" << coord(g.left + pw / 2) << R"(" y=")" << coord(g.top + ph / 2)
      << R"(" text-anchor="middle" font-size="14" fill="#666">no design was trained</text>)" << '\n';

  // The colour scale of fps, with the spec's min_fps on it; then the key of the marks.
  const double lx = g.left + pw + 60, ly0 = g.top + 18, lh = 180;
  s << R"(<text x=")" << coord(lx - 8) << R"(" y=")" << coord(ly0 - 8) << R"(">fps (log scale)</text>)" << '\n';
  s << R"(<rect x=")" << coord(lx) << R"(" y=")" << coord(ly0) << R"(" width="14" height=")" << lh
    << R"svg(" fill="url(#fps-scale)" stroke="#333" stroke-width="0.5"/>)svg" << '\n';
  const auto ly = [&](double fps) { return ly0 + lh * (1 - fps_t(fps)); };
  for (int k = 0; k <= 4; ++k) {
    const double fps = std::pow(10.0, f0 + (f1 - f0) * k / 4.0);
    s << R"(<line x1=")" << coord(lx + 14) << R"(" y1=")" << coord(ly(fps)) << R"(" x2=")" << coord(lx + 18)
      << R"(" y2=")" << coord(ly(fps)) << R"(" stroke="#333"/><text x=")" << coord(lx + 21) << R"(" y=")"
      << coord(ly(fps) + 4) << R"(" font-size="11">)" << detail::short_number(fps) << "</text>\n";
  }
  if (r.spec.min_fps && *r.spec.min_fps > 0) {
    const double y = ly(*r.spec.min_fps);
    s << R"(<line class="min-fps" x1=")" << coord(lx - 5) << R"(" y1=")" << coord(y) << R"(" x2=")" << coord(lx + 19)
      << R"(" y2=")" << coord(y) << R"(" stroke="#d62728" stroke-width="2"/>)";
    s << R"(<text x=")" << coord(lx - 8) << R"(" y=")" << coord(y + 4)
      << R"(" text-anchor="end" font-size="10" fill="#d62728">min_fps</text>)" << '\n';
  }
  double ky = ly0 + lh + 36;
  const auto key = [&](const std::string& mark, const std::string& text) {
    s << "<g transform=\"translate(" << coord(g.left + pw + 20) << ' ' << coord(ky) << ")\">" << mark << R"(<text x="18" y="4">)"
      << text << "</text></g>\n";
    ky += 20;
  };
  key(R"(<circle cx="6" r="4" fill=")" + detail::fps_colour(0.6) + R"("/>)", "trained design");
  key(R"(<circle cx="6" r="6.5" fill="none" stroke="#222" stroke-width="1.2"/>)", "Pareto front");
  key(R"(<line x1="-2" x2="14" stroke="#222" stroke-width="1.2"/>)", "best acc. per LUTs");
  key(R"(<rect x="-3" y="-9" width="18" height="18" fill="none" stroke="#1f77b4" stroke-width="1.5"/>)",
      "retrained top-" + std::to_string(r.top.size()));
  key(R"(<path d="M6 -7 L8 -2 L13 -2 L9 1 L10 6 L6 3 L2 6 L3 1 L-1 -2 L4 -2 Z" fill="#ffbf00" stroke="#222"/>)",
      "best (retrained)");
  key(R"(<line x1="6" y1="-7" x2="6" y2="7" stroke="#555" stroke-opacity="0.35" stroke-width="2"/>)",
      "not trained");
  if (r.spec.max_luts)
    key(R"(<line x1="6" y1="-8" x2="6" y2="8" stroke="#d62728" stroke-width="1.5" stroke-dasharray="4 3"/>)",
        "max_luts");
  if (unmapped)
    key("", std::to_string(unmapped) + " ill-formed: not drawn");
  s << "</svg>\n";
  out << s.str();
}

/// pareto.svg of `r` as a string.
inline std::string pareto_svg(const codesign_report& r, const pareto_svg_layout& g = {}) {
  std::ostringstream out;
  write_pareto_svg(out, r, g);
  return out.str();
}

}  // namespace hwnas::report
