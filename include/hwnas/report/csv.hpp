#pragma once
/// @file
/// trials.csv: one row per trial of a co-design run, in the order they ran (search::write_csv's columns: trial
/// (1-based), status, reward, accuracy, luts, dsps, brams, fps, latency_ms, pareto, repeated, genome, reason).
/// Fields a trial does not have (the accuracy of an infeasible one, the hardware of an ill-formed one) are empty.

#include <ostream>

#include "hwnas/report/codesign_report.hpp"
#include "hwnas/search/run.hpp"

namespace hwnas::report {

/// Writes trials.csv of `r`: a header line, then one line per trial of r.search.
inline void write_trials_csv(std::ostream& out, const codesign_report& r) { search::write_csv(out, r.search); }

}  // namespace hwnas::report
