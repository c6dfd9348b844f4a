#pragma once
/// @file
/// search::write_svg: a plot a person can read of a search: validation accuracy against LUTs (log scale) for every
/// trained trial, the Pareto front (accuracy, LUTs, fps) drawn over it, the best design marked. Self-contained SVG 1.1,
/// no scripts, no external fonts: it opens in any browser.

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ostream>
#include <string>
#include <vector>

#include "hwnas/search/run.hpp"

namespace hwnas::search {

namespace detail {
inline std::string svg_number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}
inline std::string svg_escape(const std::string& s) {
  std::string out;
  for (const char c : s) {
    if (c == '<') out += "&lt;";
    else if (c == '>') out += "&gt;";
    else if (c == '&') out += "&amp;";
    else out += c;
  }
  return out;
}
}  // namespace detail

/// Writes the plot of `r` (title: `title`). Trials that were not trained have no accuracy and are counted in the
/// caption instead of plotted.
inline void write_svg(std::ostream& out, const search_result& r, const std::string& title = "hwnas search") {
  constexpr double width = 720, height = 480, left = 70, right = 20, top = 50, bottom = 60;
  constexpr double pw = width - left - right, ph = height - top - bottom;
  std::vector<std::size_t> trained;
  for (std::size_t i = 0; i < r.trials.size(); ++i)
    if (r.trials[i].status == trial_status::trained) trained.push_back(i);
  double lo_l = 1, hi_l = 10, lo_a = 0, hi_a = 1;
  if (!trained.empty()) {
    lo_l = hi_l = static_cast<double>(std::max<std::int64_t>(1, r.trials[trained[0]].hardware->luts));
    lo_a = hi_a = r.trials[trained[0]].reward;
    for (const auto i : trained) {
      const double l = static_cast<double>(std::max<std::int64_t>(1, r.trials[i].hardware->luts));
      lo_l = std::min(lo_l, l);
      hi_l = std::max(hi_l, l);
      lo_a = std::min(lo_a, r.trials[i].reward);
      hi_a = std::max(hi_a, r.trials[i].reward);
    }
  }
  // decades around the LUT range; accuracy padded by 2 points
  const double x0 = std::floor(std::log10(lo_l)), x1 = std::max(x0 + 1, std::ceil(std::log10(hi_l)));
  const double y0 = std::max(0.0, lo_a - 0.02), y1 = std::min(1.0, std::max(hi_a + 0.02, y0 + 0.05));
  const auto px = [&](double luts) { return left + (std::log10(std::max(1.0, luts)) - x0) / (x1 - x0) * pw; };
  const auto py = [&](double acc) { return top + (y1 - acc) / (y1 - y0) * ph; };
  using detail::svg_number;

  out << R"(<svg xmlns="http://www.w3.org/2000/svg" width=")" << width << R"(" height=")" << height
      << R"(" viewBox="0 0 )" << width << ' ' << height << R"(" font-family="sans-serif" font-size="12">)" << '\n';
  out << R"(<rect width="100%" height="100%" fill="white"/>)" << '\n';
  out << R"(<text x=")" << width / 2 << R"(" y="24" text-anchor="middle" font-size="16">)" << detail::svg_escape(title)
      << "</text>\n";
  // axes, grid and ticks
  out << R"(<rect x=")" << left << R"(" y=")" << top << R"(" width=")" << pw << R"(" height=")" << ph
      << R"(" fill="none" stroke="black"/>)" << '\n';
  for (double d = x0; d <= x1 + 1e-9; d += 1) {
    const double x = left + (d - x0) / (x1 - x0) * pw;
    out << R"(<line x1=")" << svg_number(x) << R"(" y1=")" << top << R"(" x2=")" << svg_number(x) << R"(" y2=")"
        << top + ph << R"(" stroke="#ddd"/>)" << R"(<text x=")" << svg_number(x) << R"(" y=")" << top + ph + 18
        << R"(" text-anchor="middle">)" << static_cast<long long>(std::llround(std::pow(10.0, d))) << "</text>\n";
  }
  const double step = (y1 - y0) > 0.3 ? 0.1 : (y1 - y0) > 0.1 ? 0.05 : 0.01;
  for (double a = std::ceil(y0 / step) * step; a <= y1 + 1e-9; a += step) {
    out << R"(<line x1=")" << left << R"(" y1=")" << svg_number(py(a)) << R"(" x2=")" << left + pw << R"(" y2=")"
        << svg_number(py(a)) << R"(" stroke="#ddd"/>)" << R"(<text x=")" << left - 6 << R"(" y=")"
        << svg_number(py(a) + 4) << R"(" text-anchor="end">)" << svg_number(100.0 * a) << "%</text>\n";
  }
  out << R"(<text x=")" << left + pw / 2 << R"(" y=")" << height - 16
      << R"(" text-anchor="middle">LUTs (log scale)</text>)" << '\n';
  out << R"(<text transform="translate(18 )" << top + ph / 2
      << R"svg() rotate(-90)" text-anchor="middle">validation accuracy (proxy training)</text>)svg" << '\n';
  // every trained trial, then the front over them, then the best
  for (const auto i : trained) {
    const auto& t = r.trials[i];
    out << R"(<circle class="trial" cx=")" << svg_number(px(static_cast<double>(t.hardware->luts))) << R"(" cy=")"
        << svg_number(py(t.reward)) << R"(" r="3" fill="#9ab"><title>trial )" << i + 1 << ": "
        << svg_number(100.0 * t.reward) << "%, " << t.hardware->luts << " LUTs, " << svg_number(t.hardware->fps)
        << " fps</title></circle>\n";
  }
  std::vector<std::size_t> front;
  for (const auto& e : r.front.entries()) front.push_back(e.payload);
  std::sort(front.begin(), front.end(),
            [&](std::size_t a, std::size_t b) { return r.trials[a].hardware->luts < r.trials[b].hardware->luts; });
  if (!front.empty()) {
    out << R"(<polyline class="front" fill="none" stroke="#c33" stroke-width="1.5" points=")";
    for (std::size_t k = 0; k < front.size(); ++k) {
      const auto& t = r.trials[front[k]];
      out << (k ? " " : "") << svg_number(px(static_cast<double>(t.hardware->luts))) << ','
          << svg_number(py(t.reward));
    }
    out << R"("/>)" << '\n';
    for (const auto i : front)
      out << R"(<circle class="front" cx=")" << svg_number(px(static_cast<double>(r.trials[i].hardware->luts)))
          << R"(" cy=")" << svg_number(py(r.trials[i].reward)) << R"(" r="4.5" fill="#c33"/>)" << '\n';
  }
  if (r.best) {
    const auto& t = r.trials[*r.best];
    out << R"(<circle class="best" cx=")" << svg_number(px(static_cast<double>(t.hardware->luts))) << R"(" cy=")"
        << svg_number(py(t.reward)) << R"(" r="8" fill="none" stroke="black" stroke-width="1.5"/>)" << '\n';
  }
  out << R"(<text x=")" << left << R"(" y=")" << top - 8 << R"(" font-size="11">)" << trained.size() << " trained of "
      << r.trials.size() << " trials (" << r.trials.size() - trained.size()
      << " rejected before training); red: Pareto front (accuracy, LUTs, fps); ring: best</text>\n";
  out << "</svg>\n";
}

}  // namespace hwnas::search
