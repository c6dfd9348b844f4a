#pragma once
/// @file
/// The hardware specification a design must meet: resource ceilings and a throughput or latency goal. Every field
/// is optional (unset = unconstrained); the device's own capacity always applies on top.
///
/// ```cpp
/// hwnas::spec s{.max_luts = 30000, .min_fps = 1000};
/// ```

#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "hwnas/core/error.hpp"
#include "hwnas/fpga/devices.hpp"

namespace hwnas::fpga {

/// What a hardware mapping must meet (docs/cost-models.md#spec).
struct spec {
  std::optional<std::int64_t> max_luts{};   ///< LUTs (the device's LUT family)
  std::optional<std::int64_t> max_dsps{};   ///< DSP units as the device counts them (Cyclone IV: 9x9 units)
  std::optional<std::int64_t> max_brams{};  ///< block RAMs (M9K / BRAM36)
  std::optional<double> min_fps{};          ///< frames per second, at least
  std::optional<double> max_latency_ms{};   ///< one frame's latency in milliseconds, at most

  friend bool operator==(const spec&, const spec&) = default;
};

/// Throws hwnas::invalid_argument naming the field unless the spec is meaningful: resource ceilings >= 0, min_fps
/// finite and >= 0, max_latency_ms > 0 and not NaN. A spec that is meaningful but cannot be met (max_luts = 10) is
/// not an error: the cost models report it as infeasible, with the reason.
inline void validate(const spec& s) {
  auto resource = [](const std::optional<std::int64_t>& v, const char* name, const char* unit) {
    if (v && *v < 0)
      throw invalid_argument(std::string("spec.") + name + " = " + std::to_string(*v) + ": a number of " + unit +
                             " cannot be negative; leave it unset for no limit");
  };
  resource(s.max_luts, "max_luts", "LUTs");
  resource(s.max_dsps, "max_dsps", "DSP units");
  resource(s.max_brams, "max_brams", "block RAMs");
  if (s.min_fps && !(std::isfinite(*s.min_fps) && *s.min_fps >= 0))
    throw invalid_argument("spec.min_fps = " + std::to_string(*s.min_fps) +
                           ": frames per second must be a finite number >= 0 (leave it unset for no goal)");
  if (s.max_latency_ms && !(*s.max_latency_ms > 0))
    throw invalid_argument("spec.max_latency_ms = " + std::to_string(*s.max_latency_ms) +
                           ": a latency bound must be > 0 ms (no design has zero latency; leave it unset for no "
                           "bound)");
}

/// The spec as JSON (report.json, the journal's header): every field, null when unset.
inline nlohmann::json to_json(const spec& s) {
  const auto field = [](const auto& v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); };
  return {{"max_luts", field(s.max_luts)},
          {"max_dsps", field(s.max_dsps)},
          {"max_brams", field(s.max_brams)},
          {"min_fps", field(s.min_fps)},
          {"max_latency_ms", field(s.max_latency_ms)}};
}

/// A large "no limit" that sums of a few of itself cannot overflow.
inline constexpr std::int64_t unlimited = std::numeric_limits<std::int64_t>::max() / 8;

/// A spec resolved against a device and a clock into integer ceilings, the single source of truth for
/// feasibility (the searches prune with these, the reports judge with these).
struct limits {
  std::int64_t luts = unlimited, dsps = unlimited;
  std::int64_t brams = unlimited;  ///< block RAM units: blocks times device_info::bram_units_per_block()
  std::int64_t cycles = unlimited;          ///< frame interval, clock cycles (from min_fps)
  std::int64_t latency_cycles = unlimited;  ///< one frame's latency, clock cycles (from max_latency_ms)
};

namespace detail {
/// Relative tolerance of the one rounding rule for rate and latency goals: a goal equal to a figure the reports
/// print (fps = f / cycles, a double rounded to 17 digits) must admit that design, so a cycle budget computed in
/// floating point is rounded down only after being raised by this much. 1e-9 is far above double rounding
/// (~1e-16 per operation) and far below one cycle in any frame this library models (< 1e8 cycles).
inline constexpr double goal_tolerance = 1e-9;
/// The largest whole number of cycles c with clock_hz / c >= fps (within goal_tolerance).
inline std::int64_t cycles_for_fps(double clock_hz, double fps) {
  if (fps <= 0) return unlimited;
  const double c = std::floor(clock_hz / fps * (1 + goal_tolerance));
  return c >= static_cast<double>(unlimited) ? unlimited : static_cast<std::int64_t>(c);
}
/// The largest whole number of cycles whose duration is <= ms (within goal_tolerance).
inline std::int64_t cycles_for_ms(double clock_hz, double ms) {
  if (!std::isfinite(ms)) return unlimited;
  const double c = std::floor(ms * 1e-3 * clock_hz * (1 + goal_tolerance));
  return c >= static_cast<double>(unlimited) ? unlimited : static_cast<std::int64_t>(c);
}
}  // namespace detail

/// Validates `s` and resolves it: min(spec, device) for resources, cycles from the rate and latency goals.
inline limits resolve(const spec& s, const device_info& d, double clock_mhz) {
  validate(s);
  check_clock_mhz(clock_mhz);
  const double hz = clock_mhz * 1e6;
  limits l;
  l.luts = std::min(s.max_luts.value_or(unlimited), d.luts);
  l.dsps = std::min(s.max_dsps.value_or(unlimited), d.dsps);
  l.brams = std::min(s.max_brams.value_or(unlimited), d.brams) * d.bram_units_per_block();  // units
  if (s.min_fps) l.cycles = detail::cycles_for_fps(hz, *s.min_fps);
  if (s.max_latency_ms) l.latency_cycles = detail::cycles_for_ms(hz, *s.max_latency_ms);
  return l;
}

}  // namespace hwnas::fpga

namespace hwnas {
/// The spec, also at the top level: `hwnas::spec{.max_luts = 30000, .min_fps = 1000}` (DESIGN.md).
using spec = fpga::spec;
}  // namespace hwnas
