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

/// The default box of a run: lut_ceiling = spec.max_luts when set, else `device_luts` when > 0, else the most LUTs
/// of any mapped trial; fps_scale = the highest fps of a trained design (1 when none was trained). Runs compare
/// by hypervolume only when their boxes are equal (both are in report.json); pass your own box to compare runs
/// whose fastest designs differ.
inline hypervolume_box default_hypervolume_box(const search::search_result& r, const fpga::spec& s,
                                               std::int64_t device_luts = 0) {
  hypervolume_box box;
  double most_luts = 0, most_fps = 0;
  for (const auto& t : r.trials) {
    if (!t.hardware) continue;
    most_luts = std::max(most_luts, static_cast<double>(t.hardware->luts));
    if (t.status == search::trial_status::trained) most_fps = std::max(most_fps, t.hardware->fps);
  }
  box.lut_ceiling = s.max_luts ? static_cast<double>(*s.max_luts)
                    : device_luts > 0 ? static_cast<double>(device_luts)
                                      : std::max(1.0, most_luts);
  box.fps_scale = most_fps > 0 ? most_fps : 1.0;
  return box;
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

/// Fills report.hypervolume and its box from report.search and report.spec (default_hypervolume_box).
inline void set_hypervolume(codesign_report& report, std::int64_t device_luts = 0) {
  const auto box = default_hypervolume_box(report.search, report.spec, device_luts);
  report.hypervolume_lut_ceiling = box.lut_ceiling;
  report.hypervolume_fps_scale = box.fps_scale;
  report.hypervolume = front_hypervolume(report.search, box);
}

}  // namespace hwnas::report
