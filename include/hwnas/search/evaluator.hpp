#pragma once
/// @file
/// search::two_stage_evaluator: what a genome is worth, in two stages, as FNAS and Lu et al. 2019 do.
///
/// 1. Hardware, in milliseconds: decode the genome, check the network is well formed (hwnas::validate), map it onto
///    the device with the cost model's exact search. A network that is ill formed or breaks the spec is never
///    trained: its trial records why, and its reward is 0.
/// 2. Accuracy, in seconds: quantization-aware proxy training (a few epochs on a stratified subset of the training
///    set), then accuracy on the validation set. A run that diverges is a failed trial with the trainer's message,
///    not a crash; so is a network that learned nothing (no better than always answering the most frequent class).
///
/// A genome seen before is not evaluated again, nor is a genome that decodes to a network seen before (genes of unused
/// layers differ, say): the evaluator returns the first trial's results, with this genome, marked `repeated`.

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <vector>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>

#include "hwnas/core/architecture.hpp"
#include "hwnas/core/error.hpp"
#include "hwnas/core/parallel.hpp"
#include "hwnas/fpga/concepts.hpp"
#include "hwnas/fpga/hw_report.hpp"
#include "hwnas/fpga/spec.hpp"
#include "hwnas/io/architecture_json.hpp"
#include "hwnas/io/dataset.hpp"
#include "hwnas/nn/network.hpp"
#include "hwnas/nn/train.hpp"
#include "hwnas/space/concepts.hpp"
#include "hwnas/space/genome.hpp"
#include "hwnas/search/concepts.hpp"
#include "hwnas/search/trial.hpp"

namespace hwnas::search {

/// Stage 2's proxy training.
struct proxy_config {
  nn::train_config train = [] {
    nn::train_config c;
    c.epochs = 2;
    return c;
  }();
  std::size_t train_images = 0;  ///< a stratified subset of this many training images (0: all of them)
  std::uint64_t init_seed = 1;   ///< weight initialization of every candidate
  std::uint64_t subset_seed = 0;
};

/// The two-stage evaluator of a search space and a cost model; models search::Evaluator.
template <space::SearchSpace Space, fpga::CostModel Model>
class two_stage_evaluator {
 public:
  /// The datasets are copied only as the training subset; `validation` and `pool` must outlive the evaluator.
  two_stage_evaluator(Model model, spec s, const io::dataset& train, const io::dataset& validation, proxy_config p,
                      thread_pool& pool)
      : model_(std::move(model)), spec_(s), validation_(validation), proxy_(p), pool_(pool) {
    io::validate(train, "two_stage_evaluator: training set");
    io::validate(validation, "two_stage_evaluator: validation set");
    if (train.empty() || validation.empty())
      throw invalid_argument("two_stage_evaluator: the training and validation sets must not be empty");
    nn::validate(proxy_.train);
    if (proxy_.train_images > 0 && proxy_.train_images < train.size())
      train_ = io::split(train, proxy_.train_images, proxy_.subset_seed).second;
    else
      train_ = train;
    input_ = {static_cast<int>(train.channels()), static_cast<int>(train.height()), static_cast<int>(train.width())};
    classes_ = train.classes;
    std::vector<std::size_t> per_class(static_cast<std::size_t>(std::max(1, classes_)), 0);
    for (const auto l : validation.labels)
      if (static_cast<std::size_t>(l) < per_class.size()) ++per_class[static_cast<std::size_t>(l)];
    majority_ = static_cast<double>(*std::max_element(per_class.begin(), per_class.end())) /
                static_cast<double>(validation.size());
  }

  /// Evaluates `g` (or returns its earlier trial, marked repeated).
  /// @throws hwnas::invalid_argument when `g` does not fit the space's layout (a strategy's bug, not a trial)
  trial evaluate(const genome& g) {
    if (const auto it = seen_.find(g); it != seen_.end()) {
      trial t = it->second;
      t.repeated = true;
      return t;
    }
    trial t;
    t.g = g;
    t.arch = Space::decode(g, input_, classes_);
    if (auto same = same_network(t)) return *same;
    run(t);
    seen_.emplace(g, t);
    networks_.emplace(io::to_json(t.arch).dump(), g);
    return t;
  }

  /// The trial of a recorded one (from a journal) without training it again: decode, validate and map again
  /// (milliseconds), and take the status, reward, accuracy and reason from the record. Cached like evaluate().
  /// @throws hwnas::invalid_argument when the record does not fit the layout, or stage 1 now disagrees with it (the
  ///         journal was written with another spec, cost model or search space)
  trial replay(const trial& recorded) {
    if (const auto it = seen_.find(recorded.g); it != seen_.end()) {
      trial t = it->second;
      t.repeated = true;
      return t;
    }
    trial t;
    t.g = recorded.g;
    t.arch = Space::decode(recorded.g, input_, classes_);
    if (auto same = same_network(t)) return *same;
    const bool passes = hardware_stage(t);
    const bool recorded_passes = recorded.status == trial_status::trained || recorded.status == trial_status::failed;
    if (passes != recorded_passes || (!passes && t.status != recorded.status))
      throw invalid_argument("two_stage_evaluator::replay: the journal says " + std::string(to_string(recorded.status)) +
                             " for this genome, the mapping now says " +
                             (passes ? "feasible" : to_string(t.status)) +
                             "; the journal was written with another spec, cost model or search space (use a new one)");
    t.status = recorded.status;
    t.reason = recorded.reason;
    t.accuracy = recorded.accuracy;
    t.reward = recorded.reward;
    seen_.emplace(t.g, t);
    networks_.emplace(io::to_json(t.arch).dump(), t.g);
    return t;
  }

  /// How many networks stage 2 trained (repeats and stage-1 rejections excluded).
  std::size_t trained() const noexcept { return trained_; }
  /// How many distinct genomes were evaluated.
  std::size_t distinct() const noexcept { return seen_.size(); }

 private:
  using clock = std::chrono::steady_clock;
  static double since(clock::time_point t0) { return std::chrono::duration<double>(clock::now() - t0).count(); }

  /// Stage 1: validate and map. Returns whether the network may be trained; otherwise t's status (ill_formed or
  /// infeasible) and reason say why.
  bool hardware_stage(trial& t) const {
    try {
      validate(t.arch);
    } catch (const invalid_argument& e) {
      t.status = trial_status::ill_formed;
      t.reason = e.what();
      return false;
    }
    const auto t0 = clock::now();
    t.hardware = model_.map(t.arch, spec_);
    t.mapping_seconds = since(t0);
    if (t.hardware->feasible) return true;
    t.status = trial_status::infeasible;
    for (const auto& v : t.hardware->violations) t.reason += (t.reason.empty() ? "" : "; ") + v.message;
    return false;
  }

  void run(trial& t) {
    if (!hardware_stage(t)) return;
    const auto t1 = clock::now();
    try {
      nn::network net(t.arch, proxy_.init_seed);
      nn::train(net, train_, nullptr, proxy_.train, pool_);
      const double accuracy = nn::evaluate(net, validation_, &pool_).accuracy();
      if (accuracy <= majority_ + 1e-12) {
        // A network that predicts (about) one class for everything learned nothing: a dead ReLU stack, or formats
        // too coarse to train. Ranked as a normal trial it would pollute the front and the strategy's statistics.
        t.status = trial_status::failed;
        char text[160];
        std::snprintf(text, sizeof text,
                      "learned nothing: validation accuracy %.2f%% is no better than always answering the most "
                      "frequent class (%.2f%%)",
                      100.0 * accuracy, 100.0 * majority_);
        t.reason = text;
      } else {
        t.accuracy = accuracy;
        t.reward = accuracy;
        t.status = trial_status::trained;
        ++trained_;
      }
    } catch (const training_error& e) {
      t.status = trial_status::failed;
      t.reason = e.what();
    }
    t.training_seconds = since(t1);
  }

  Model model_;
  spec spec_;
  io::dataset train_;
  const io::dataset& validation_;
  proxy_config proxy_;
  thread_pool& pool_;
  tensor_shape input_;
  int classes_ = 10;
  /// The first trial of the network `t` decodes to, with t's genome, marked repeated (and remembered for t's
  /// genome); nullopt for a network not seen before.
  std::optional<trial> same_network(const trial& t) {
    const auto it = networks_.find(io::to_json(t.arch).dump());
    if (it == networks_.end()) return std::nullopt;
    trial r = seen_.at(it->second);
    r.g = t.g;
    r.repeated = true;
    seen_.emplace(t.g, r);
    return r;
  }

  std::map<genome, trial> seen_;
  std::map<std::string, genome> networks_;  ///< a network's JSON -> the genome of its first trial
  std::size_t trained_ = 0;
  double majority_ = 0;  ///< the most frequent class's share of the validation set
};

static_assert(Evaluator<two_stage_evaluator<space::search_space_archetype, fpga::cost_model_archetype>>);

}  // namespace hwnas::search
