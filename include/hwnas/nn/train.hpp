#pragma once
/// @file
/// The training loop: epochs of shuffled mini-batches over an io::dataset, optional augmentation (random shifts,
/// left-right flips), SGD with momentum on a learning-rate schedule, per-epoch reports (loss, validation accuracy,
/// images per second) to a callback that may stop the run, and divergence detection (a NaN or infinite loss or weight throws
/// hwnas::training_error; training never silently continues). Options and defaults: docs/training.md.

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <optional>
#include <span>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

#include <nlohmann/json.hpp>

#include "hwnas/core/error.hpp"
#include "hwnas/core/parallel.hpp"
#include "hwnas/core/rng.hpp"
#include "hwnas/io/dataset.hpp"
#include "hwnas/nn/network.hpp"
#include "hwnas/nn/optimizer.hpp"

namespace hwnas::nn {

/// Every option of a training run (docs/training.md has the table).
struct train_config {
  int epochs = 10;                          ///< passes over the training set
  std::size_t batch = 64;                   ///< images per SGD step (the last batch of an epoch may be smaller)
  double learning_rate = 0.05;              ///< peak learning rate
  double momentum = 0.9;                    ///< SGD momentum
  bool nesterov = true;                     ///< Nesterov momentum (else heavy ball)
  double weight_decay = 5e-4;               ///< L2 on weights (not biases)
  lr_schedule schedule = lr_schedule::one_cycle;  ///< how the rate moves over the run
  double warmup = 0.15;                     ///< fraction of the run spent warming up
  double final_fraction = 0.0;              ///< cosine and one_cycle end at learning_rate * final_fraction
  int step_epochs = 3;                      ///< step schedule: epochs between decays
  double step_gamma = 0.1;                  ///< step schedule: decay factor
  int max_shift = 0;                        ///< augmentation: random shifts of up to this many pixels (0: none)
  bool random_flip = false;                 ///< augmentation: mirror each image left-right with probability 1/2
  std::uint64_t seed = 0;                   ///< data order and augmentation (the network's init has its own seed)
  std::size_t threads = 0;                  ///< threads when train() makes its own pool (0: all cores)
  std::size_t slices = 0;                   ///< slices per batch (0: one per thread); fixes the reduction order
};

/// What one epoch did.
struct epoch_report {
  int epoch = 0;                               ///< 1-based
  int epochs = 0;                              ///< of the run
  double loss = 0.0;                           ///< mean training loss (augmented batches, as trained)
  double train_accuracy = 0.0;                 ///< on the training batches as seen
  std::optional<double> validation_loss;       ///< when a validation set was given
  std::optional<double> validation_accuracy;
  double images_per_second = 0.0;              ///< training throughput (forward, backward, update, augmentation)
  double seconds = 0.0;                        ///< training time of the epoch (validation excluded)
  double learning_rate = 0.0;                  ///< at the last step of the epoch
};

/// The whole run.
struct train_result {
  std::vector<epoch_report> history;
  double images_per_second = 0.0;  ///< training images / training seconds over all epochs
  double seconds = 0.0;            ///< training seconds (validation excluded)
  bool stopped = false;            ///< the callback stopped the run early
};

/// Called after every epoch; return false to stop training.
using epoch_callback = std::function<bool(const epoch_report&)>;

namespace detail {
/// One hook of train()'s trailing pack, the shape search::run's hooks have: a callable bool(const epoch_report&)
/// (false stops; an empty std::function is skipped), and/or members on_epoch(const epoch_report&) and
/// should_stop(const epoch_report&) (true stops). Returns false to stop.
template <class H>
bool epoch_hook(H& h, const epoch_report& r) {
  bool go = true;
  if constexpr (std::is_invocable_r_v<bool, H&, const epoch_report&>) {
    if constexpr (std::is_constructible_v<bool, H&>) {
      if (static_cast<bool>(h)) go = h(r);
    } else {
      go = h(r);
    }
  }
  if constexpr (requires { h.on_epoch(r); }) h.on_epoch(r);
  if constexpr (requires { { h.should_stop(r) } -> std::convertible_to<bool>; }) go = go && !h.should_stop(r);
  return go;
}
}  // namespace detail

/// The training options as JSON (hwnas-train's result file, the journal's header).
inline nlohmann::json to_json(const train_config& c) {
  return {{"epochs", c.epochs},           {"batch", c.batch},
          {"learning_rate", c.learning_rate}, {"momentum", c.momentum},
          {"nesterov", c.nesterov},       {"weight_decay", c.weight_decay},
          {"schedule", std::string(to_string(c.schedule))}, {"warmup", c.warmup},
          {"max_shift", c.max_shift},     {"random_flip", c.random_flip},
          {"seed", c.seed},               {"slices", c.slices}};
}

/// Throws hwnas::invalid_argument naming the option unless `c` is usable.
inline void validate(const train_config& c) {
  auto bad = [](const std::string& what) { throw invalid_argument("train_config: " + what); };
  if (c.epochs < 0 || c.epochs > 100000) bad("epochs must be in 0..100000, got " + std::to_string(c.epochs));
  if (c.batch < 1 || c.batch > (std::size_t{1} << 20)) bad("batch must be in 1..2^20, got " + std::to_string(c.batch));
  if (!(c.learning_rate > 0.0) || !std::isfinite(c.learning_rate))
    bad("learning_rate must be positive and finite, got " + std::to_string(c.learning_rate));
  if (!(c.momentum >= 0.0 && c.momentum < 1.0)) bad("momentum must be in [0, 1), got " + std::to_string(c.momentum));
  if (!(c.weight_decay >= 0.0) || !std::isfinite(c.weight_decay))
    bad("weight_decay must be >= 0, got " + std::to_string(c.weight_decay));
  if (!(c.warmup >= 0.0 && c.warmup <= 1.0)) bad("warmup must be a fraction in [0, 1], got " + std::to_string(c.warmup));
  if (!(c.final_fraction >= 0.0 && c.final_fraction <= 1.0))
    bad("final_fraction must be in [0, 1], got " + std::to_string(c.final_fraction));
  if (c.step_epochs < 1) bad("step_epochs must be >= 1, got " + std::to_string(c.step_epochs));
  if (!(c.step_gamma > 0.0 && c.step_gamma <= 1.0)) bad("step_gamma must be in (0, 1], got " + std::to_string(c.step_gamma));
  if (c.max_shift < 0 || c.max_shift > 8) bad("max_shift must be in 0..8 pixels, got " + std::to_string(c.max_shift));
  if (c.threads > 1024) bad("threads must be at most 1024, got " + std::to_string(c.threads));
}

namespace detail {

inline void check_data(const network& net, const io::dataset& d, const char* what) {
  io::validate(d, what);
  const auto& in = net.arch().input;
  if (d.channels() != static_cast<std::size_t>(in.channels) || d.height() != static_cast<std::size_t>(in.height) ||
      d.width() != static_cast<std::size_t>(in.width))
    throw invalid_argument(std::string(what) + ": images are " + std::to_string(d.channels()) + "x" +
                           std::to_string(d.height()) + "x" + std::to_string(d.width()) + ", the architecture expects " +
                           std::to_string(in.channels) + "x" + std::to_string(in.height) + "x" + std::to_string(in.width));
  if (d.classes > net.arch().classes)
    throw invalid_argument(std::string(what) + ": " + std::to_string(d.classes) + " classes, the architecture has " +
                           std::to_string(net.arch().classes));
}

/// Mirrors image `img` (C, H, W) left-right in place.
inline void mirror(float* img, std::size_t c, std::size_t h, std::size_t w) noexcept {
  for (std::size_t row = 0; row < c * h; ++row) std::reverse(img + row * w, img + (row + 1) * w);
}

/// Copies image `src` (C, H, W) into `dst` shifted by (dy, dx) pixels, zero-filling what comes in.
inline void shifted_copy(const float* src, float* dst, std::size_t c, std::size_t h, std::size_t w, int dy,
                         int dx) noexcept {
  std::fill(dst, dst + c * h * w, 0.0f);
  const auto H = static_cast<std::ptrdiff_t>(h), W = static_cast<std::ptrdiff_t>(w);
  const std::ptrdiff_t x0 = std::max<std::ptrdiff_t>(0, dx), x1 = std::min<std::ptrdiff_t>(W, W + dx);
  if (x1 <= x0) return;
  for (std::size_t ch = 0; ch < c; ++ch)
    for (std::ptrdiff_t y = 0; y < H; ++y) {
      const std::ptrdiff_t sy = y - dy;
      if (sy < 0 || sy >= H) continue;
      std::memcpy(dst + (ch * h + static_cast<std::size_t>(y)) * w + x0,
                  src + (ch * h + static_cast<std::size_t>(sy)) * w + (x0 - dx),
                  static_cast<std::size_t>(x1 - x0) * sizeof(float));
    }
}

inline std::string number(double x) {
  std::ostringstream s;
  s << x;
  return s.str();
}

}  // namespace detail

/// Loss and accuracy of `net` on `data` (forward only).
inline batch_stats evaluate(network& net, const io::dataset& data, thread_pool* pool = nullptr) {
  detail::check_data(net, data, "evaluate");
  std::vector<std::int32_t> labels(data.labels.begin(), data.labels.end());
  return net.evaluate(data.images.data(), labels.data(), data.size(), pool);
}

/// Trains `net` on `train_set` as `c` says, reporting each epoch (with validation loss and accuracy when
/// `validation` is not null and not empty) to the hooks (a trailing pack, each optional: a callable
/// bool(const epoch_report&), or members on_epoch / should_stop), on the threads of `pool`.
/// @throws hwnas::training_error when the loss or a weight becomes NaN or infinite (names the epoch and batch)
/// @throws hwnas::invalid_argument on a bad option or data that do not fit the architecture
template <class... Hooks>
train_result train(network& net, const io::dataset& train_set, const io::dataset* validation, const train_config& c,
                   thread_pool& pool, Hooks&&... hooks) {
  validate(c);
  detail::check_data(net, train_set, "training set");
  if (validation && !validation->empty()) detail::check_data(net, *validation, "validation set");
  train_result result;
  const std::size_t n = train_set.size();
  if (n == 0 || c.epochs == 0) return result;
  const std::size_t image = train_set.sample_size();
  const std::size_t ch = train_set.channels(), h = train_set.height(), w = train_set.width();
  const std::size_t steps_per_epoch = (n + c.batch - 1) / c.batch;
  const std::size_t total_steps = steps_per_epoch * static_cast<std::size_t>(c.epochs);
  const schedule_config sched{c.schedule, c.warmup, c.final_fraction, c.step_epochs, c.step_gamma};
  const sgd_config sgd{c.momentum, c.nesterov, c.weight_decay};
  rng gen(c.seed);
  std::vector<float> x(c.batch * image);
  std::vector<std::int32_t> y(c.batch);
  const float* images = train_set.images.data();
  std::size_t step = 0;
  for (int epoch = 1; epoch <= c.epochs; ++epoch) {
    const auto t0 = std::chrono::steady_clock::now();
    const auto order = io::shuffled_indices(n, gen);
    batch_stats seen;
    double lr = c.learning_rate;
    for (std::size_t b = 0; b < steps_per_epoch; ++b, ++step) {
      const std::size_t lo = b * c.batch, count = std::min(c.batch, n - lo);
      for (std::size_t i = 0; i < count; ++i) {
        const std::size_t idx = order[lo + i];
        y[i] = train_set.labels(idx);
        const float* src = images + idx * image;
        if (c.max_shift > 0) {
          const auto span = static_cast<std::uint64_t>(2 * c.max_shift + 1);
          const int dy = static_cast<int>(gen.below(span)) - c.max_shift;
          const int dx = static_cast<int>(gen.below(span)) - c.max_shift;
          detail::shifted_copy(src, x.data() + i * image, ch, h, w, dy, dx);
        } else {
          std::memcpy(x.data() + i * image, src, image * sizeof(float));
        }
        if (c.random_flip && gen.below(2) == 1) detail::mirror(x.data() + i * image, ch, h, w);
      }
      const auto stats = net.forward_backward(x.data(), y.data(), count, &pool, c.slices);
      if (!std::isfinite(stats.loss_sum))
        throw training_error("training diverged at epoch " + std::to_string(epoch) + " batch " + std::to_string(b + 1) +
                             " (loss = " + detail::number(stats.loss_sum / static_cast<double>(count)) +
                             "); lower the learning rate (" + detail::number(lr) + " at that step)");
      seen += stats;
      lr = scheduled_lr(sched, c.learning_rate, step, total_steps, steps_per_epoch);
      try {
        net.sgd_step(static_cast<float>(lr), sgd);
      } catch (const training_error&) {
        throw training_error("training diverged at epoch " + std::to_string(epoch) + " batch " +
                             std::to_string(b + 1) + " (a weight became NaN or infinite); lower the learning rate (" +
                             detail::number(lr) + " at that step)");
      }
    }
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    epoch_report r;
    r.epoch = epoch;
    r.epochs = c.epochs;
    r.loss = seen.mean_loss();
    r.train_accuracy = seen.accuracy();
    r.seconds = secs;
    r.images_per_second = secs > 0 ? static_cast<double>(n) / secs : 0.0;
    r.learning_rate = lr;
    if (validation && !validation->empty()) {
      const auto v = evaluate(net, *validation, &pool);
      r.validation_loss = v.mean_loss();
      r.validation_accuracy = v.accuracy();
    }
    result.seconds += secs;
    result.history.push_back(r);
    if (!(detail::epoch_hook(hooks, r) & ... & true)) {
      result.stopped = true;
      break;
    }
  }
  std::size_t trained = 0;
  for (std::size_t e = 0; e < result.history.size(); ++e) trained += n;
  result.images_per_second = result.seconds > 0 ? static_cast<double>(trained) / result.seconds : 0.0;
  return result;
}

/// As above, on a pool of c.threads threads (0: all cores) made for the run.
template <class... Hooks>
  requires((!std::is_same_v<std::remove_cvref_t<Hooks>, thread_pool>) && ...)
train_result train(network& net, const io::dataset& train_set, const io::dataset* validation, const train_config& c,
                   Hooks&&... hooks) {
  validate(c);
  thread_pool pool(c.threads ? c.threads : thread_pool::default_threads());
  return train(net, train_set, validation, c, pool, hooks...);
}

}  // namespace hwnas::nn
