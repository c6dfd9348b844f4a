#pragma once
/// @file
/// What the report writers share: XML/HTML escaping, numbers as people read them, a spec and an architecture in
/// one line. Internal to report/ (namespace detail), but stable enough to test.

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include "hwnas/core/architecture.hpp"
#include "hwnas/core/qformat.hpp"
#include "hwnas/fpga/spec.hpp"

namespace hwnas::report::detail {

/// `s` safe inside XML or HTML text and attribute values: & < > " ' escaped, and control characters other than
/// tab and newline (not allowed in XML 1.0) replaced by U+FFFD.
inline std::string escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (const char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n')
          out += "\xEF\xBF\xBD";
        else
          out += c;
    }
  }
  return out;
}

/// `v` with `decimals` digits after the point ("12.5"); "-" when not finite.
inline std::string fixed(double v, int decimals = 1) {
  if (!std::isfinite(v)) return "-";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

/// A fraction 0..1 as a percentage with two decimals: "87.31%".
inline std::string percent(double fraction) { return fixed(100.0 * fraction, 2) + "%"; }

/// A number with up to `precision` significant digits ("1293", "0.125", "1.2e+06").
inline std::string number(double v, int precision = 6) {
  if (!std::isfinite(v)) return "-";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*g", precision, v);
  return buf;
}

/// Seconds as "42.1 s", "3 min 05 s", "2 h 01 min".
inline std::string duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "-";
  char buf[64];
  const auto s = static_cast<long long>(std::llround(seconds));
  if (seconds < 60) std::snprintf(buf, sizeof buf, "%.1f s", seconds);
  else if (s < 3600) std::snprintf(buf, sizeof buf, "%lld min %02lld s", s / 60, s % 60);
  else std::snprintf(buf, sizeof buf, "%lld h %02lld min", s / 3600, (s % 3600) / 60);
  return buf;
}

/// The spec in one line: "LUTs <= 30000, fps >= 1000"; "none" when every field is unset.
inline std::string spec_line(const fpga::spec& s) {
  std::string out;
  auto add = [&](const std::string& part) { out += (out.empty() ? "" : ", ") + part; };
  if (s.max_luts) add("LUTs <= " + std::to_string(*s.max_luts));
  if (s.max_dsps) add("DSPs <= " + std::to_string(*s.max_dsps));
  if (s.max_brams) add("BRAMs <= " + std::to_string(*s.max_brams));
  if (s.min_fps) add("fps >= " + number(*s.min_fps));
  if (s.max_latency_ms) add("latency <= " + number(*s.max_latency_ms) + " ms");
  return out.empty() ? "none" : out;
}

/// An architecture in one line: "conv16 3x3 /2 [s0.3 u1.3] | conv32 5x5 pool [..] | fc [s0.3]".
inline std::string architecture_line(const architecture& a) {
  std::string out;
  for (const auto& l : a.layers) {
    out += "conv" + std::to_string(l.filters) + " " + std::to_string(l.kernel) + "x" + std::to_string(l.kernel);
    if (l.stride != 1) out += " /" + std::to_string(l.stride);
    if (l.pool == 2) out += " pool";
    if (l.weight_format || l.activation_format)
      out += " [" + (l.weight_format ? to_string(*l.weight_format) : std::string("float")) + " " +
             (l.activation_format ? to_string(*l.activation_format) : std::string("float")) + "]";
    out += " | ";
  }
  out += "fc";
  if (a.classifier.weight_format) out += " [" + to_string(*a.classifier.weight_format) + "]";
  return out;
}

}  // namespace hwnas::report::detail

namespace hwnas::report {
/// "LUTs <= 5000, fps >= 3000" and "conv16 3x3 pool [s0.3 u1.3] | ... | fc [s0.3]": the one-line forms every
/// output uses, for programs that print their own summary (hwnas-codesign).
using detail::architecture_line;
using detail::spec_line;
}  // namespace hwnas::report
