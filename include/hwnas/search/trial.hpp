#pragma once
/// @file
/// What a search produces, independent of how a trial is evaluated: search::trial (one evaluated genome),
/// search::outcome (what a strategy is told of it) and search::search_result (the trials, the Pareto front, the
/// best). Includes nothing of nn/ or io/, so that strategies, reports and evaluators that farm trials to other
/// processes (MPI) depend only on this header.

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "hwnas/core/architecture.hpp"
#include "hwnas/fpga/hw_report.hpp"
#include "hwnas/search/pareto.hpp"
#include "hwnas/space/genome.hpp"

namespace hwnas::search {

/// How a trial ended.
enum class trial_status {
  trained,     ///< both stages ran; reward = validation accuracy
  ill_formed,  ///< the genome decodes to a network hwnas::validate rejects (reason: its message)
  infeasible,  ///< the best mapping breaks the spec (reason: the violations); never trained
  failed,      ///< proxy training failed (diverged, or learned nothing); reason: the trainer's message
};

inline const char* to_string(trial_status s) noexcept {
  switch (s) {
    case trial_status::trained: return "trained";
    case trial_status::ill_formed: return "ill-formed";
    case trial_status::infeasible: return "infeasible";
    case trial_status::failed: return "failed";
  }
  return "?";
}

/// One evaluated genome.
struct trial {
  genome g;
  architecture arch;                        ///< decoded
  trial_status status = trial_status::ill_formed;
  std::string reason;                       ///< empty when trained
  std::optional<fpga::hw_report> hardware;  ///< stage 1's report (absent when ill-formed)
  std::optional<double> accuracy;           ///< stage 2's validation accuracy, 0..1 (trained only)
  double reward = 0.0;                      ///< what the strategy was told (Lu'19: accuracy when trained, else 0)
  double mapping_seconds = 0.0, training_seconds = 0.0;
  bool repeated = false;                    ///< seen before: these are the first evaluation's results
};

/// The objectives every search keeps a Pareto front of, all maximized: (validation accuracy, -LUTs, fps).
inline std::array<double, 3> default_objectives(const trial& t) {
  return {t.accuracy.value_or(0.0), -static_cast<double>(t.hardware ? t.hardware->luts : 0),
          t.hardware ? t.hardware->fps : 0.0};
}

/// The reward of Lu et al. 2019 (NAQS): validation accuracy if the design is feasible and trained, else 0.
inline double lu2019_reward(const trial& t) {
  return t.status == trial_status::trained && t.accuracy ? *t.accuracy : 0.0;
}

/// What a strategy is told of a genome it asked for. Scalar strategies read `reward`; multi-objective ones
/// (search::nsga2) read `objectives` (all maximized) and `feasible`.
struct outcome {
  double reward = 0.0;               ///< higher is better; 0 for a design that breaks the spec (Lu'19)
  std::vector<double> objectives;    ///< maximized; (accuracy, -LUTs, fps) unless the run says otherwise
  bool feasible = false;             ///< trained: the objectives are measured, not placeholders
};

/// Everything a search did.
struct search_result {
  std::vector<trial> trials;  ///< in the order they ran
  /// The trained designs no other trained design beats on (accuracy, -LUTs, fps); payload: index into trials.
  pareto_archive<3, std::size_t> front;
  std::optional<std::size_t> best;  ///< the trained trial with the highest reward (the first one on a tie)
  std::size_t replayed = 0;         ///< how many of the trials came from a journal instead of being evaluated
  double seconds = 0.0;
  bool stopped = false;  ///< a hook stopped it
};

/// Counts of a search's trials by how they ended.
struct trial_counts {
  std::size_t trials = 0, trained = 0, infeasible = 0, ill_formed = 0, failed = 0, repeated = 0;
  /// Trials the hardware stage rejected before any training (infeasible + ill-formed).
  std::size_t pruned() const noexcept { return infeasible + ill_formed; }
};

inline trial_counts count(const search_result& r) {
  trial_counts c;
  c.trials = r.trials.size();
  for (const auto& t : r.trials) {
    c.repeated += t.repeated;
    if (t.repeated) continue;  // counted once, at its first evaluation
    switch (t.status) {
      case trial_status::trained: ++c.trained; break;
      case trial_status::infeasible: ++c.infeasible; break;
      case trial_status::ill_formed: ++c.ill_formed; break;
      case trial_status::failed: ++c.failed; break;
    }
  }
  return c;
}

}  // namespace hwnas::search
