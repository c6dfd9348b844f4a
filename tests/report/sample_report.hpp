#pragma once
// A co-design report built by hand, no training: 16 trials on a 30,000-LUT / 1,000-fps spec (10 trained, 3
// infeasible, 1 ill-formed, 1 failed, 1 repeat), their Pareto front, a retrained top 3 and the best of it. Its
// strings carry characters HTML must escape. Shared by the report tests and the Chromium check's page.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "hwnas/core/architecture.hpp"
#include "hwnas/core/qformat.hpp"
#include "hwnas/fpga/hw_report.hpp"
#include "hwnas/report/codesign_report.hpp"
#include "hwnas/report/hypervolume.hpp"
#include "hwnas/search/trial.hpp"

namespace hwnas::test {

/// A string every writer must escape (a reason, a dataset name): markup, quotes, an ampersand.
inline const std::string nasty = "<script>alert(\"x\")</script> & 'co'";

/// A hand-made hardware report: three layers sharing `luts`, `fps` at 100 MHz, feasible or not (then one
/// violation, named `constraint`).
inline fpga::hw_report sample_hw(std::int64_t luts, double fps, const std::string& constraint = "") {
  fpga::hw_report hw;
  hw.model = "pipelined_pe";
  hw.device = "Cyclone IV E EP4CE115";
  hw.clock_mhz = 100;
  hw.cycles = static_cast<std::int64_t>(100e6 / fps);
  hw.latency_cycles = hw.cycles + 500;
  hw.fps = 100e6 / static_cast<double>(hw.cycles);
  hw.latency_ms = static_cast<double>(hw.latency_cycles) / 1e5;
  hw.luts = luts;
  hw.dsps = 0;
  hw.brams = 3 + luts / 10000;
  const std::int64_t l0 = luts / 2, l1 = luts / 3, l2 = luts - l0 - l1;
  hw.ffs = l0 / 2 + l1 / 2 + l2 / 2;
  hw.lut_utilization = static_cast<double>(luts) / 114480;
  hw.ff_utilization = static_cast<double>(hw.ffs) / 114480;
  hw.bram_utilization = static_cast<double>(hw.brams) / 432;
  hw.layers = {{"conv0", {{"Tn", 1}, {"Tm", 4}, {"group", 0}}, l0, l0 / 2, 0, 1, hw.cycles},
               {"conv1", {{"Tn", 8}, {"Tm", 2}, {"group", 1}}, l1, l1 / 2, 0, 1, hw.cycles * 3 / 4},
               {"fc", {{"Tn", 16}, {"Tm", 1}, {"group", 2}}, l2, l2 / 2, 0, hw.brams - 2, hw.cycles / 5}};
  hw.feasible = constraint.empty();
  if (!hw.feasible) {
    const bool fps_short = constraint == "min_fps";
    fpga::violation v{constraint, fps_short ? 1000.0 : 30000.0, fps_short ? hw.fps : static_cast<double>(luts), {}};
    v.message = constraint + ": " + std::to_string(luts) + " LUTs, " + std::to_string(hw.fps) + " fps " + nasty;
    hw.violations.push_back(v);
  }
  return hw;
}

/// An architecture of `depth` conv layers of `filters`, 4-bit weights and activations.
inline architecture sample_arch(int depth, int filters) {
  architecture a;
  for (int i = 0; i < depth; ++i)
    a.layers.push_back({filters << i, 3, 1, 2, qformat::weight(0, 3), qformat::activation(1, 3)});
  a.classifier.weight_format = qformat::weight(0, 3);
  return a;
}

inline report::codesign_report sample_report() {
  using search::trial_status;
  report::codesign_report r;
  r.version = "0.2.0";
  r.seed = 42;
  r.spec = fpga::spec{.max_luts = 30000, .min_fps = 1000};
  r.device = "Cyclone IV E EP4CE115";
  r.cost_model = "pipelined_pe";
  r.strategy = "reinforce";
  r.space = "layerwise<depth<1, 3>, filters<4, 8, 16, 32>>";
  r.quantizer = "fixed_point<int_bits<0, 3>, frac_bits<0, 6>>";
  r.dataset = "fashion-mnist " + nasty;
  r.clock_mhz = 100;
  r.settings = {{"seed", 42}, {"strategy", "reinforce"}, {"note", nasty}};

  struct row {
    trial_status status;
    int depth, filters;
    std::int64_t luts;
    double fps;
    std::optional<double> accuracy;
    std::string violated;
  };
  const std::vector<row> rows{
      {trial_status::trained, 1, 4, 600, 40000, 0.80, ""},
      {trial_status::trained, 1, 8, 1500, 25000, 0.84, ""},
      {trial_status::infeasible, 3, 32, 52000, 3000, std::nullopt, "max_luts"},
      {trial_status::trained, 2, 8, 4200, 9000, 0.871, ""},
      {trial_status::trained, 2, 16, 9800, 6000, 0.885, ""},
      {trial_status::ill_formed, 3, 4, 0, 0, std::nullopt, ""},
      {trial_status::trained, 2, 4, 5200, 2500, 0.83, ""},      // dominated
      {trial_status::trained, 3, 8, 16000, 4000, 0.893, ""},
      {trial_status::infeasible, 1, 32, 2200, 400, std::nullopt, "min_fps"},
      {trial_status::trained, 3, 16, 27000, 1500, 0.901, ""},
      {trial_status::failed, 2, 32, 12000, 3000, std::nullopt, ""},
      {trial_status::trained, 1, 16, 3000, 30000, 0.86, ""},
      {trial_status::trained, 2, 16, 9800, 6000, 0.885, ""},   // a repeat of trial 5
      {trial_status::infeasible, 3, 32, 250000, 800, std::nullopt, "max_luts"},
      {trial_status::trained, 1, 8, 800, 12000, 0.79, ""},       // dominated by trial 1
      {trial_status::trained, 2, 8, 7000, 5000, 0.876, ""},
  };
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const auto& w = rows[i];
    search::trial t;
    t.g = {w.depth, w.filters, static_cast<int>(i)};
    t.arch = sample_arch(w.depth, w.filters);
    t.status = w.status;
    if (w.status != trial_status::ill_formed) t.hardware = sample_hw(w.luts, w.fps, w.violated);
    t.accuracy = w.accuracy;
    t.reward = search::lu2019_reward(t);
    t.repeated = i == 12;
    if (w.status == trial_status::infeasible) t.reason = t.hardware->violations.front().message;
    if (w.status == trial_status::ill_formed)
      t.reason = "architecture: layer 2: the feature map shrinks to nothing (0x0) " + nasty;
    if (w.status == trial_status::failed) t.reason = "training diverged: loss is NaN at epoch 1";
    t.mapping_seconds = 0.002;
    t.training_seconds = t.accuracy ? 4.5 : 0.0;
    if (t.status == trial_status::trained) {
      r.search.front.insert(search::default_objectives(t), i);
      if (!r.search.best || t.reward > r.search.trials[*r.search.best].reward) r.search.best = i;
    }
    r.search.trials.push_back(std::move(t));
  }
  r.search.seconds = 61.5;

  // The top 3 by proxy accuracy (trials 10, 8, 5), retrained, ordered by validation accuracy after retraining:
  // trial 8 overtakes trial 10.
  for (const std::size_t i : {7u, 9u, 4u}) {
    const auto& t = r.search.trials[i];
    report::retrained_design d;
    d.trial = i;
    d.arch = t.arch;
    d.hw = *t.hardware;
    d.proxy_accuracy = *t.accuracy;
    d.validation_accuracy = *t.accuracy + (i == 7 ? 0.03 : 0.01);
    d.test_accuracy_qat = d.validation_accuracy - 0.004;
    d.test_accuracy_integer = d.test_accuracy_qat;
    d.epochs = 10;
    d.train_images = 50000;
    d.seconds = 95.0;
    r.top.push_back(d);
  }
  r.best = 0;
  report::set_hypervolume(r, 114480, 100.0);
  r.seconds = {{"search", 61.5}, {"retrain", 285.0}};
  return r;
}

/// How many times `what` occurs in `text`.
inline std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t p = text.find(what); p != std::string::npos; p = text.find(what, p + 1)) ++n;
  return n;
}

}  // namespace hwnas::test
