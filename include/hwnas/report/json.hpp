#pragma once
/// @file
/// report.json: everything a finished co-design run knows, for programs (docs/reports.md#reportjson has the table
/// of fields). Trial numbers are 1-based, as in trials.csv, report.html and the progress lines; accuracies are
/// fractions 0..1; an unset spec field, and the best design of a run where none met the spec, are null.

#include <algorithm>
#include <cstddef>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "hwnas/fpga/hw_report.hpp"
#include "hwnas/fpga/spec.hpp"
#include "hwnas/io/architecture_json.hpp"
#include "hwnas/report/codesign_report.hpp"
#include "hwnas/search/trial.hpp"

namespace hwnas::report {

/// The trials' counts as report.json prints them, with `infeasible_trained`: trained trials whose hardware report
/// is infeasible. The search never trains those, so anything but 0 is a bug (a test checks it).
struct report_counts : search::trial_counts {
  std::size_t infeasible_trained = 0;
};

inline report_counts counts(const codesign_report& r) {
  report_counts c;
  static_cast<search::trial_counts&>(c) = search::count(r.search);
  for (const auto& t : r.search.trials)
    c.infeasible_trained += !t.repeated && t.status == search::trial_status::trained &&
                            (!t.hardware || !t.hardware->feasible);
  return c;
}

namespace detail {
template <class T>
nlohmann::json optional_json(const std::optional<T>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

inline nlohmann::json design_json(const retrained_design& d) {
  return {{"trial", d.trial + 1},
          {"architecture", io::to_json(d.arch)},
          {"hw", fpga::to_json(d.hw)},
          {"proxy_accuracy", d.proxy_accuracy},
          {"validation_accuracy", d.validation_accuracy},
          {"test_accuracy_qat", d.test_accuracy_qat},
          {"test_accuracy_integer", d.test_accuracy_integer},
          {"epochs", d.epochs},
          {"train_images", d.train_images},
          {"seconds", d.seconds}};
}
}  // namespace detail

/// report.json's value: spec, device, cost_model, clock_mhz, space, quantizer, strategy, seed, version, dataset,
/// settings, met_spec, best (null when no design met the spec), top, pareto (the trained designs on the front,
/// fewest LUTs first), hypervolume {value, reference, lut_ceiling, fps_scale}, counts, seconds {stage: wall s}.
inline nlohmann::json to_json(const codesign_report& r) {
  using nlohmann::json;
  json top = json::array();
  for (const auto& d : r.top) top.push_back(detail::design_json(d));

  std::vector<std::size_t> front;
  for (const auto& e : r.search.front.entries()) front.push_back(e.payload);
  const auto luts_of = [&](std::size_t i) {
    const auto& t = r.search.trials.at(i);
    return t.hardware ? t.hardware->luts : 0;
  };
  std::sort(front.begin(), front.end(), [&](std::size_t a, std::size_t b) {
    return luts_of(a) != luts_of(b) ? luts_of(a) < luts_of(b) : a < b;
  });
  json pareto = json::array();
  for (const auto i : front) {
    const auto& t = r.search.trials.at(i);
    json p{{"trial", i + 1},
           {"accuracy", detail::optional_json(t.accuracy)},
           {"architecture", io::to_json(t.arch)}};
    if (t.hardware) {
      p["luts"] = t.hardware->luts;
      p["fps"] = t.hardware->fps;
      p["dsps"] = t.hardware->dsps;
      p["brams"] = t.hardware->brams;
    } else {
      p["luts"] = p["fps"] = p["dsps"] = p["brams"] = nullptr;
    }
    pareto.push_back(std::move(p));
  }

  // The search's best by proxy validation accuracy (what the strategy ranked first, before any retraining).
  json search_best = nullptr;
  if (r.search.best) {
    const auto& t = r.search.trials.at(*r.search.best);
    search_best = {{"trial", *r.search.best + 1},
                   {"proxy_accuracy", detail::optional_json(t.accuracy)},
                   {"luts", t.hardware ? json(t.hardware->luts) : json(nullptr)},
                   {"fps", t.hardware ? json(t.hardware->fps) : json(nullptr)},
                   {"architecture", io::to_json(t.arch)}};
  }

  const auto c = counts(r);
  json seconds = json::object();
  for (const auto& [stage, s] : r.seconds) seconds[stage] = s;

  return json{{"version", r.version},
              {"seed", r.seed},
              {"spec", fpga::to_json(r.spec)},
              {"device", r.device},
              {"cost_model", r.cost_model},
              {"clock_mhz", r.clock_mhz},
              {"space", r.space},
              {"quantizer", r.quantizer},
              {"strategy", r.strategy},
              {"dataset", r.dataset},
              {"settings", r.settings},
              {"met_spec", r.met_spec()},
              {"best", r.best ? detail::design_json(r.top.at(*r.best)) : json(nullptr)},
              {"search_best", search_best},
              {"top", top},
              {"hardware_export", r.hardware_export},
              {"pareto", pareto},
              {"hypervolume",
               {{"value", r.hypervolume},
                {"reference", {{"accuracy", 0.0}, {"luts", r.hypervolume_lut_ceiling}, {"fps", 0.0}}},
                {"lut_ceiling", r.hypervolume_lut_ceiling},
                {"fps_scale", r.hypervolume_fps_scale}}},
              {"counts",
               {{"trials", c.trials},
                {"trained", c.trained},
                {"pruned", c.pruned()},
                {"infeasible", c.infeasible},
                {"ill_formed", c.ill_formed},
                {"failed", c.failed},
                {"repeated", c.repeated},
                {"replayed", r.search.replayed},
                {"infeasible_trained", c.infeasible_trained}}},
              {"stopped", r.search.stopped},
              {"seconds", seconds}};
}

}  // namespace hwnas::report
