#pragma once
/// @file
/// The hypervolume of a co-design run: how much of the (accuracy, LUTs, fps) box its trained designs' Pareto front
/// dominates, one number to compare runs and strategies by (docs/reports.md#hypervolume). The objectives are scaled
/// to a unit cube first, so the value lies in [0, 1]: accuracy as it is, LUTs as 1 - LUTs / lut_ceiling (a design
/// at the ceiling adds nothing), fps as min(fps / fps_scale, 1). The reference point is the cube's origin:
/// accuracy 0, LUTs = lut_ceiling, fps 0.

#include <algorithm>
#include <array>
#include <cstdint>
#include <vector>

#include "hwnas/core/error.hpp"
#include "hwnas/fpga/spec.hpp"
#include "hwnas/report/codesign_report.hpp"
#include "hwnas/search/pareto.hpp"
#include "hwnas/search/trial.hpp"

namespace hwnas::report {

/// The scales of the unit cube the hypervolume is measured in.
struct hypervolume_box {
  double lut_ceiling = 0;  ///< LUTs; the reference point's LUTs
  double fps_scale = 0;    ///< frames per second that count as "1" (faster is capped)
};

/// The box of a run, fixed by its spec, device and clock so that runs against the same spec and hardware compare:
/// lut_ceiling = the spec's max_luts or the device's LUTs, whichever is lower (designs above it break the spec or do
/// not fit); fps_scale = the frame rate of 1,000 cycles per frame at the clock (faster designs count as 1).
/// @throws hwnas::invalid_argument when device_luts or clock_mhz is not > 0
inline hypervolume_box hypervolume_box_for(const fpga::spec& s, std::int64_t device_luts, double clock_mhz) {
  if (!(device_luts > 0) || !(clock_mhz > 0))
    throw invalid_argument("hwnas::report::hypervolume_box_for: device_luts and clock_mhz must be > 0 (got " +
                           std::to_string(device_luts) + " and " + std::to_string(clock_mhz) + ")");
  const auto ceiling = std::min<std::int64_t>(s.max_luts.value_or(device_luts), device_luts);
  return {std::max(1.0, static_cast<double>(ceiling)), clock_mhz * 1e6 / 1000.0};
}

/// The hypervolume of the trained designs' front of `r` in `box` (above), in [0, 1].
/// @throws hwnas::invalid_argument when a scale is not > 0
inline double front_hypervolume(const search::search_result& r, const hypervolume_box& box) {
  if (!(box.lut_ceiling > 0) || !(box.fps_scale > 0))
    throw invalid_argument("hwnas::report::front_hypervolume: lut_ceiling and fps_scale must be > 0 (got " +
                           std::to_string(box.lut_ceiling) + " and " + std::to_string(box.fps_scale) + ")");
  std::vector<std::array<double, 3>> points;
  for (const auto& e : r.front.entries()) {
    const double accuracy = e.value[0], luts = -e.value[1], fps = e.value[2];
    points.push_back({accuracy, 1.0 - luts / box.lut_ceiling, std::min(fps / box.fps_scale, 1.0)});
  }
  return search::hypervolume(points, {0.0, 0.0, 0.0});
}

/// Fills report.hypervolume and its box (hypervolume_box_for the report's spec, the device's LUTs, the clock).
inline void set_hypervolume(codesign_report& report, std::int64_t device_luts, double clock_mhz) {
  const auto box = hypervolume_box_for(report.spec, device_luts, clock_mhz);
  report.hypervolume_lut_ceiling = box.lut_ceiling;
  report.hypervolume_fps_scale = box.fps_scale;
  report.hypervolume = front_hypervolume(report.search, box);
}

}  // namespace hwnas::report
