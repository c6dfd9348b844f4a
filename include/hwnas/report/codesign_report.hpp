#pragma once
/// @file
/// report::codesign_report: everything a finished co-design run knows, what hwnas::pipeline::run returns and what
/// the writers of report/ (report.json, trials.csv, pareto.svg, report.html) print. Reads search/ and fpga/; knows
/// nothing of nn/ or io/ (the pipeline fills it).

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "hwnas/core/architecture.hpp"
#include "hwnas/fpga/hw_report.hpp"
#include "hwnas/fpga/spec.hpp"
#include "hwnas/search/trial.hpp"

namespace hwnas::report {

/// One of the top-k designs of a search, retrained in full and tested.
struct retrained_design {
  std::size_t trial = 0;            ///< index into codesign_report::search.trials (0-based; printed 1-based)
  architecture arch;                ///< layers and fixed-point formats
  fpga::hw_report hw;               ///< the cost model's report of its best mapping (feasible)
  double proxy_accuracy = 0;        ///< validation accuracy after the search's proxy training, 0..1
  double validation_accuracy = 0;   ///< validation accuracy after full retraining (what ranks the top-k), 0..1
  double test_accuracy_qat = 0;     ///< test accuracy of the QAT network, 0..1
  double test_accuracy_integer = 0; ///< test accuracy of the integer-only network (must equal the QAT one), 0..1
  int epochs = 0;                   ///< full retraining epochs
  std::size_t train_images = 0;     ///< images it was retrained on
  double seconds = 0;               ///< retraining and testing, wall seconds
  /// The retrained integer network as its file's JSON (nn/integer_network_file.hpp; filled by the pipeline, left
  /// out of report.json; hwnas-codesign writes the best one to best_integer_network.json).
  nlohmann::json integer_network;
};

/// A run's settings and results.
struct codesign_report {
  std::string version;                  ///< hwnas::version
  std::uint64_t seed = 0;
  fpga::spec spec;
  std::string device, cost_model, strategy, space, quantizer, dataset;
  double clock_mhz = 0;
  nlohmann::json settings;              ///< everything that pins the trials (what the journal's header holds)
  search::search_result search;         ///< every trial, the front, the best by proxy reward
  std::vector<retrained_design> top;    ///< the top-k feasible designs, retrained; ordered by validation accuracy
  std::optional<std::size_t> best;      ///< index into top: the highest validation accuracy after retraining
  double hypervolume = 0;               ///< of the trained designs' front, see hypervolume_reference
  /// The reference point and scales of the hypervolume: accuracy from 0, LUTs up to this ceiling, fps from 0 up to
  /// this scale (docs/reports.md#hypervolume).
  double hypervolume_lut_ceiling = 0, hypervolume_fps_scale = 0;
  bool journal_torn_line_dropped = false;  ///< the journal's last line was cut short by a crash and dropped on resume
  std::vector<std::pair<std::string, double>> seconds;  ///< wall seconds per stage, in order ("search", "retrain")
  /// The best design exported as hardware (hwnas-codesign --export): the export's manifest (directory, files, lint,
  /// simulation, synthesis beside the model; docs/hardware.md). Null when not exported.
  nlohmann::json hardware_export;

  /// Whether a design met the spec: one was trained in the search (and, with top-k > 0, retrained). The CLI's exit
  /// code 0.
  bool met_spec() const noexcept { return best.has_value() || search.best.has_value(); }
};

}  // namespace hwnas::report
