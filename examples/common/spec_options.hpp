#pragma once
// The spec options the hwnas programs share (hwnas-estimate, hwnas-export, hwnas-codesign): one declaration, one
// wording, one way to turn them into an hwnas::spec. The fuzzing harness tests/fuzz/spec_options.cpp parses command
// lines with exactly these declarations (docs/reliability.md#fuzzing).

#include <cstdint>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>

#include "hwnas/fpga/spec.hpp"

namespace hwnas::examples {

/// The spec as options: every limit optional (unset: no limit of its own; the device's capacity applies on top).
struct spec_options {
  std::optional<std::int64_t> max_luts, max_dsps, max_brams;  ///< LUTs, DSP units, block RAMs
  std::optional<double> min_fps;                              ///< frames per second
  std::optional<double> max_latency_ms;                       ///< milliseconds per frame

  /// The spec: `defaults`, with every limit given on the command line in place of its default. Not validated
  /// (hwnas::fpga::validate throws hwnas::invalid_argument naming a negative or NaN field).
  hwnas::spec spec(const hwnas::spec& defaults = {}) const {
    hwnas::spec s = defaults;
    if (max_luts) s.max_luts = max_luts;
    if (max_dsps) s.max_dsps = max_dsps;
    if (max_brams) s.max_brams = max_brams;
    if (min_fps) s.min_fps = min_fps;
    if (max_latency_ms) s.max_latency_ms = max_latency_ms;
    return s;
  }
};

/// Which spec options a program offers, and the help text's default for each ("" prints none).
struct spec_option_set {
  bool dsps = true;  ///< --max-dsps (hwnas-export's designs use no DSP units: it leaves it out)
  std::string luts_default, fps_default;
};

/// Declares --max-luts, [--max-dsps,] --max-brams, --min-fps and --max-latency-ms on `app`, stored in `o`.
inline void add_spec_options(CLI::App& app, spec_options& o, const spec_option_set& set = {}) {
  const auto with_default = [](std::string text, const std::string& d) {
    return d.empty() ? text : text + " [default: " + d + "]";
  };
  app.add_option("--max-luts", o.max_luts, with_default("at most this many LUTs", set.luts_default));
  if (set.dsps) app.add_option("--max-dsps", o.max_dsps, "at most this many DSP units (Cyclone IV: 9x9 multipliers; XC7: DSP48E1; iCE40 UP5K: SB_MAC16)");
  app.add_option("--max-brams", o.max_brams, "at most this many block RAMs (M9K / BRAM36 / iCE40 EBR)");
  app.add_option("--min-fps", o.min_fps, with_default("at least this many frames per second", set.fps_default));
  app.add_option("--max-latency-ms", o.max_latency_ms, "at most this latency per frame, in milliseconds");
}

}  // namespace hwnas::examples
