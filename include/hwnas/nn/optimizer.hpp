#pragma once
/// @file
/// Stochastic gradient descent with momentum (heavy-ball or Nesterov) and L2 weight decay added to the gradient
/// (PyTorch's `torch.optim.SGD` update), and the learning-rate schedules the trainer uses. See docs/training.md.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <numbers>
#include <span>
#include <string>
#include <string_view>

#include "hwnas/core/error.hpp"

namespace hwnas::nn {

/// How the learning rate evolves over a run (per optimizer step, not per epoch).
enum class lr_schedule {
  constant,   ///< lr throughout (after the warm-up)
  step,       ///< lr * gamma^floor(epoch / step_epochs) (after the warm-up)
  cosine,     ///< linear warm-up, then half a cosine from lr down to lr * final_fraction
  one_cycle,  ///< linear from lr/25 up to lr over the warm-up, then half a cosine down to lr * final_fraction
};

/// "constant", "step", "cosine", "one_cycle".
inline std::string_view to_string(lr_schedule s) noexcept {
  switch (s) {
    case lr_schedule::constant: return "constant";
    case lr_schedule::step: return "step";
    case lr_schedule::cosine: return "cosine";
    case lr_schedule::one_cycle: return "one_cycle";
  }
  return "?";
}

/// Parses the names of to_string(lr_schedule). Throws hwnas::invalid_argument listing the names.
inline lr_schedule parse_lr_schedule(std::string_view name) {
  for (auto s : {lr_schedule::constant, lr_schedule::step, lr_schedule::cosine, lr_schedule::one_cycle})
    if (name == to_string(s)) return s;
  throw invalid_argument("learning-rate schedule \"" + std::string(name) +
                         "\" is unknown; use constant, step, cosine or one_cycle");
}

/// The parameters of a schedule. `warmup` is a fraction of the whole run (0..1).
struct schedule_config {
  lr_schedule kind = lr_schedule::one_cycle;
  double warmup = 0.15;          ///< fraction of all steps spent warming up (cosine, one_cycle; constant, step: linear)
  double final_fraction = 0.0;   ///< cosine and one_cycle end at lr * final_fraction
  int step_epochs = 3;           ///< step: the rate is multiplied by gamma every step_epochs epochs
  double gamma = 0.1;            ///< step: the factor
};

/// The learning rate of optimizer step `step` (0-based) out of `total_steps`, with `steps_per_epoch` steps an epoch,
/// for a peak rate `lr`.
inline double scheduled_lr(const schedule_config& s, double lr, std::size_t step, std::size_t total_steps,
                           std::size_t steps_per_epoch) noexcept {
  if (total_steps == 0) return lr;
  const double t = static_cast<double>(step) / static_cast<double>(total_steps);  // progress in [0, 1)
  const double warm = std::clamp(s.warmup, 0.0, 1.0);
  const double floor_lr = lr * s.final_fraction;
  if (s.kind == lr_schedule::one_cycle) {
    const double start = lr / 25.0;
    if (t < warm) return start + (lr - start) * (t / warm);
    const double u = warm >= 1.0 ? 1.0 : (t - warm) / (1.0 - warm);
    return floor_lr + (lr - floor_lr) * 0.5 * (1.0 + std::cos(std::numbers::pi * u));
  }
  if (t < warm) return lr * (static_cast<double>(step) + 1.0) / (warm * static_cast<double>(total_steps));
  switch (s.kind) {
    case lr_schedule::constant: return lr;
    case lr_schedule::step: {
      const std::size_t epoch = steps_per_epoch == 0 ? 0 : step / steps_per_epoch;
      const int k = s.step_epochs > 0 ? static_cast<int>(epoch) / s.step_epochs : 0;
      return lr * std::pow(s.gamma, k);
    }
    case lr_schedule::cosine: {
      const double u = warm >= 1.0 ? 1.0 : (t - warm) / (1.0 - warm);
      return floor_lr + (lr - floor_lr) * 0.5 * (1.0 + std::cos(std::numbers::pi * u));
    }
    default: return lr;
  }
}

/// SGD hyper-parameters (the learning rate comes from the schedule at each step).
struct sgd_config {
  double momentum = 0.9;
  bool nesterov = true;
  double weight_decay = 5e-4;  ///< L2 on weights (not on biases), added to the gradient as PyTorch does
};

/// One SGD step on a parameter block, in place (PyTorch's formula):
///   g' = g + wd * w;  v = momentum * v + g';  w -= lr * (nesterov ? g' + momentum * v : v).
/// `decay` false skips the weight decay (biases). Sizes of w, g and v must agree.
inline void sgd_update(std::span<float> w, std::span<const float> g, std::span<float> v, float lr,
                       const sgd_config& c, bool decay) noexcept {
  const float mu = static_cast<float>(c.momentum), wd = decay ? static_cast<float>(c.weight_decay) : 0.0f;
  const std::size_t n = w.size();
  if (c.nesterov) {
    for (std::size_t i = 0; i < n; ++i) {
      const float gi = g[i] + wd * w[i];
      v[i] = mu * v[i] + gi;
      w[i] -= lr * (gi + mu * v[i]);
    }
  } else {
    for (std::size_t i = 0; i < n; ++i) {
      const float gi = g[i] + wd * w[i];
      v[i] = mu * v[i] + gi;
      w[i] -= lr * v[i];
    }
  }
}

}  // namespace hwnas::nn
