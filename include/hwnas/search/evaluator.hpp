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
///
/// Several trials at once (search::ConcurrentEvaluator, for search::run with a schedule of in_flight > 1): submit()
/// runs stage 1 on the calling thread and queues stage 2; collect() starts queued trainings on free cores, each on a
/// thread of its own with a thread_pool of its cores (trial_concurrency), and returns the first that finishes. Training
/// uses a fixed number of slices (proxy_config's, or the pool's size when that is 0), so a trial's accuracy is the
/// same bit for bit whether it trains on one core or on all of them, alone or beside another. The building blocks
/// (prepare, train, finish, take_ready) let other executors (search/mpi_evaluator.hpp) run stage 2 elsewhere.

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <exception>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

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

/// How two_stage_evaluator shares the cores among trials under way (submit/collect). Throughput only: a trial's
/// result does not depend on it.
///
/// Measured on 2 cores with the main job's candidates (docs/scale.md): one trial at a time on both cores finished
/// the same 40 trials in 23 s, two at once on one core each in 33 s (window 2), because trials are told in ask
/// order and a core that finished first waits for the other; hence the default.
struct trial_concurrency {
  /// Threads per training: 0 gives each training every free core (one trial at a time on a machine whose cores a
  /// training can use); N trains up to cores / N trials at once on N threads each.
  std::size_t threads_per_trial = 0;
  /// A candidate of at least this many multiply-accumulates per image (forward pass) trains alone on every core,
  /// never beside another; the default (infinity) never forces it. For threads_per_trial > 0 on machines where
  /// large candidates use more threads well (bench_search's 1x2 against 2x1 measures it, docs/performance.md).
  double solo_macs = std::numeric_limits<double>::infinity();
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
    slices_ = proxy_.train.slices ? proxy_.train.slices : pool_.size();
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

  /// The slices every training cuts a batch into (proxy_config's, or the pool's size when that is 0): what makes a
  /// trial's result independent of the threads it trains on (docs/training.md#threads-and-determinism).
  std::size_t slices() const noexcept { return slices_; }

  /// How the cores are shared among trials under way.
  trial_concurrency concurrency;
  /// The most trainings that ran at once so far (submit/collect).
  std::size_t most_at_once() const noexcept { return most_at_once_; }

  /// Starts evaluating `g` as trial `ticket` (search::ConcurrentEvaluator): stage 1 now, on this thread; stage 2
  /// (training) when collect() finds free cores. A ticket names one trial under way (search::run gives the ask
  /// index); it may be used again once collected.
  /// @throws hwnas::invalid_argument when `g` does not fit the layout or the ticket is under way
  void submit(std::size_t ticket, const genome& g) {
    if (auto t = prepare(ticket, g)) queued_.emplace_back(ticket, std::move(*t));
  }

  /// The next trial to finish, with its ticket: a decided one (stage 1 rejected it, or it repeats an earlier one),
  /// else the first training to end. Starts queued trainings on free cores first. Blocks.
  /// @throws hwnas::invalid_argument when nothing is under way; whatever a training threw other than a
  ///         training_error (out of memory, say), after its thread has ended
  std::pair<std::size_t, trial> collect() {
    for (;;) {
      if (auto r = take_ready()) return std::move(*r);
      launch();
      if (running_.empty())
        throw invalid_argument("hwnas::search::two_stage_evaluator::collect: no trial is under way");
      std::unique_lock lock(done_mutex_);
      done_cv_.wait(lock, [&] { return !done_.empty(); });
      auto d = std::move(done_.front());
      done_.pop_front();
      lock.unlock();
      auto it = running_.find(d.ticket);
      it->second.worker.join();
      cores_in_use_ -= it->second.threads;
      running_.erase(it);
      if (d.error) std::rethrow_exception(d.error);
      finish(d.ticket, std::move(d.t));
    }
  }

  /// Stage 1 and the repeat check of trial `ticket`: the trial to train (stage 1 passed, network not seen), or
  /// nullopt when it is decided already (take_ready() has it) or repeats a trial still training (it is decided
  /// when finish() gets that one).
  /// @throws hwnas::invalid_argument when `g` does not fit the layout or the ticket is under way
  std::optional<trial> prepare(std::size_t ticket, const genome& g) {
    if (tickets_.count(ticket))
      throw invalid_argument("hwnas::search::two_stage_evaluator: trial " + std::to_string(ticket) +
                             " was submitted twice (it is still under way)");
    auto t = decide(ticket, g);  // throws for a malformed genome, before the ticket counts as under way
    tickets_.insert(ticket);
    return t;
  }

  /// Stage 2 of a trial that passed stage 1: proxy QAT training on `pool`, then validation accuracy. Sets status,
  /// accuracy, reward, reason and training_seconds. Reads only what the constructor set, so trials may train at
  /// once on pools of their own; the result does not depend on the pool's size (fixed slices: `slices`, or this
  /// evaluator's when 0; an MPI worker trains with the coordinator's).
  void train(trial& t, thread_pool& pool, std::size_t slices = 0) const {
    const auto t1 = clock::now();
    try {
      nn::network net(t.arch, proxy_.init_seed);
      nn::train_config c = proxy_.train;
      c.slices = slices ? slices : slices_;
      nn::train(net, train_, nullptr, c, pool);
      const double accuracy = nn::evaluate(net, validation_, &pool).accuracy();
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
      }
    } catch (const training_error& e) {
      t.status = trial_status::failed;
      t.reason = e.what();
    }
    t.training_seconds = since(t1);
  }

  /// The trained trial `ticket` (from prepare): remembered, and the trials that repeat it are decided.
  void finish(std::size_t ticket, trial t) {
    if (const auto it = std::find_if(training_.begin(), training_.end(),
                                     [&](const auto& e) { return e.second == ticket; });
        it != training_.end())
      training_.erase(it);
    remember(t);
    if (const auto w = waiting_.find(ticket); w != waiting_.end()) {
      for (auto& [k, g] : w->second) {
        trial r = t;
        r.g = g;
        r.repeated = true;
        seen_.emplace(g, r);
        ready_.emplace_back(k, std::move(r));
      }
      waiting_.erase(w);
    }
    ready_.emplace_back(ticket, std::move(t));
  }

  /// A decided trial not yet collected, first decided first.
  std::optional<std::pair<std::size_t, trial>> take_ready() {
    if (ready_.empty()) return std::nullopt;
    auto r = std::move(ready_.front());
    ready_.pop_front();
    tickets_.erase(r.first);
    return r;
  }

  ~two_stage_evaluator() {
    for (auto& [ticket, job] : running_) job.worker.join();
  }
  two_stage_evaluator(const two_stage_evaluator&) = delete;
  two_stage_evaluator& operator=(const two_stage_evaluator&) = delete;

 private:
  using clock = std::chrono::steady_clock;

  /// prepare() without the ticket check.
  std::optional<trial> decide(std::size_t ticket, const genome& g) {
    if (const auto it = seen_.find(g); it != seen_.end()) {
      trial t = it->second;
      t.repeated = true;
      ready_.emplace_back(ticket, std::move(t));
      return std::nullopt;
    }
    trial t;
    t.g = g;
    t.arch = Space::decode(g, input_, classes_);
    if (auto same = same_network(t)) {
      ready_.emplace_back(ticket, std::move(*same));
      return std::nullopt;
    }
    auto key = io::to_json(t.arch).dump();
    if (const auto it = training_.find(key); it != training_.end()) {
      waiting_[it->second].emplace_back(ticket, g);
      return std::nullopt;
    }
    if (!hardware_stage(t)) {
      remember(t);
      ready_.emplace_back(ticket, std::move(t));
      return std::nullopt;
    }
    training_.emplace(std::move(key), ticket);
    return t;
  }

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
    train(t, pool_);
    if (t.status == trial_status::trained) ++trained_;
  }

  /// Caches a decided trial by genome and by network.
  void remember(const trial& t) {
    if (t.status == trial_status::trained && !t.repeated) ++trained_;
    seen_.emplace(t.g, t);
    networks_.emplace(io::to_json(t.arch).dump(), t.g);
  }

  /// Starts queued trainings while cores are free, in submit order.
  void launch() {
    const std::size_t cores = pool_.size();
    while (!queued_.empty() && cores_in_use_ < cores) {
      const auto macs = static_cast<double>(total_macs(queued_.front().second.arch));
      const bool solo = macs >= concurrency.solo_macs;
      if (solo && cores_in_use_ > 0) break;  // waits for every core
      const std::size_t free = cores - cores_in_use_;
      const std::size_t threads =
          concurrency.threads_per_trial && !solo ? std::min(concurrency.threads_per_trial, free) : free;
      auto [ticket, t] = std::move(queued_.front());
      queued_.pop_front();
      cores_in_use_ += threads;
      auto& job = running_[ticket];
      job.threads = threads;
      most_at_once_ = std::max(most_at_once_, running_.size());
      job.worker = std::thread([this, ticket, threads, t = std::move(t)]() mutable {
        done_job d{ticket, {}, nullptr};
        try {
          thread_pool pool(threads);
          train(t, pool);
          d.t = std::move(t);
        } catch (...) {
          d.error = std::current_exception();
        }
        {
          std::lock_guard lock(done_mutex_);
          done_.push_back(std::move(d));
        }
        done_cv_.notify_one();
      });
    }
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
  std::size_t slices_ = 1;

  // submit/collect
  struct running_job {
    std::thread worker;
    std::size_t threads = 0;
  };
  struct done_job {
    std::size_t ticket;
    trial t;
    std::exception_ptr error;
  };
  std::set<std::size_t> tickets_;                                   ///< the tickets under way
  std::deque<std::pair<std::size_t, trial>> ready_;                 ///< decided, not collected
  std::deque<std::pair<std::size_t, trial>> queued_;                ///< passed stage 1, not started
  std::map<std::string, std::size_t> training_;                     ///< a network's JSON -> its ticket in training
  std::map<std::size_t, std::vector<std::pair<std::size_t, genome>>> waiting_;  ///< repeats of a training ticket
  std::map<std::size_t, running_job> running_;
  std::size_t cores_in_use_ = 0, most_at_once_ = 0;
  std::mutex done_mutex_;
  std::condition_variable done_cv_;
  std::deque<done_job> done_;
  double majority_ = 0;  ///< the most frequent class's share of the validation set
};

static_assert(Evaluator<two_stage_evaluator<space::search_space_archetype, fpga::cost_model_archetype>>);

}  // namespace hwnas::search
