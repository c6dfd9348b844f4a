#pragma once
/// @file
/// hwnas::pipeline<Policies...>: a whole hardware/software co-design search as one type (docs/concepts.md#pipeline).
///
/// ```cpp
/// namespace sp = hwnas::space; namespace qn = hwnas::quant;
/// using layers   = sp::layerwise<sp::depth<2, 4>, sp::filters<8, 16, 32, 64>, sp::kernels<1, 3, 5, 7>>;
/// using formats  = qn::fixed_point<qn::int_bits<0, 3>, qn::frac_bits<0, 6>>;       // per-layer W and A formats
/// using hardware = hwnas::fpga::pipelined_pe<hwnas::fpga::cyclone_iv_ep4ce115, hwnas::fpga::clock_mhz<100>>;
/// using codesign = hwnas::pipeline<layers, formats, hardware, hwnas::search::reinforce>;  // any order
///
/// auto report = codesign{}.run(hwnas::io::fashion_mnist(), hwnas::spec{.max_luts = 30000, .min_fps = 1000},
///                              hwnas::search::budget{.trials = 200}, hwnas::search::progress_bar{});
/// // configured instances instead of default-constructed types:
/// auto p = hwnas::make_pipeline(layers{}, hardware(125.0), hwnas::search::reinforce{.learning_rate = 0.01});
/// ```
///
/// The policies come in any order, at most one of each family: a SearchSpace, a Quantizer, a CostModel and a
/// Strategy; a missing one takes its default (pipeline_defaults). Each wrong composition stops the build at a
/// static_assert whose message names hwnas::pipeline, the concept and the docs anchor.
///
/// run() validates the spec, then searches (two stages per candidate: the cost model's exact mapping in
/// milliseconds, and only for a feasible design, proxy QAT training), then retrains the top-k feasible designs in
/// full, tests each with integer-only inference, and returns a report::codesign_report.

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <boost/hana/at.hpp>
#include <boost/hana/tuple.hpp>
#include <nlohmann/json.hpp>

#include "hwnas/core/architecture.hpp"
#include "hwnas/core/error.hpp"
#include "hwnas/core/parallel.hpp"
#include "hwnas/core/version.hpp"
#include "hwnas/fpga/concepts.hpp"
#include "hwnas/fpga/devices.hpp"
#include "hwnas/fpga/pipelined_pe.hpp"
#include "hwnas/fpga/dataflow.hpp"
#include "hwnas/fpga/tiled_engine.hpp"
#include "hwnas/fpga/spec.hpp"
#include "hwnas/io/dataset.hpp"
#include "hwnas/nn/integer_network.hpp"
#include "hwnas/nn/integer_network_file.hpp"
#include "hwnas/nn/network.hpp"
#include "hwnas/nn/train.hpp"
#include "hwnas/quant/concepts.hpp"
#include "hwnas/quant/fixed_point.hpp"
#include "hwnas/report/codesign_report.hpp"
#include "hwnas/report/hypervolume.hpp"
#include "hwnas/search/concepts.hpp"
#include "hwnas/search/evaluator.hpp"
#include "hwnas/search/journal.hpp"
#include "hwnas/search/nsga2.hpp"
#include "hwnas/search/pareto.hpp"
#include "hwnas/search/reinforce.hpp"
#include "hwnas/search/run.hpp"
#include "hwnas/search/strategies.hpp"
#include "hwnas/space/concepts.hpp"
#include "hwnas/space/layerwise.hpp"
#include "hwnas/space/quantized.hpp"

namespace hwnas {

/// The defaults a pipeline fills in for a family it is not given.
struct pipeline_defaults {
  /// Lu et al. 2019's layer-wise space: 2-4 conv layers, 8..64 filters, 1/3/5/7 kernels, stride 1 or 2, pooling.
  using space = space::layerwise<space::depth<2, 4>, space::filters<8, 16, 32, 64>, space::kernels<1, 3, 5, 7>,
                                 space::strides<1, 2>, space::pooling<1, 2>>;
  /// NAQS's fixed-point ranges: integer bits 0..3, fraction bits 0..6, per layer, for weights and activations.
  using quantizer = quant::fixed_point<quant::int_bits<0, 3>, quant::frac_bits<0, 6>>;
  /// NAQS's accelerator on an Intel Cyclone IV E EP4CE115 at 100 MHz.
  using cost_model = fpga::pipelined_pe<fpga::cyclone_iv_ep4ce115, fpga::clock_mhz<100>>;
  /// Lu'19's controller: an LSTM trained by REINFORCE.
  using strategy = search::reinforce;
};

/// The settings of a run that are not policies: seeds, proxy training, retraining, threads, the journal.
struct codesign_settings {
  std::uint64_t seed = 1;  ///< the strategy's seed and the retraining's data order
  /// Stage 2 of every candidate: QAT for a few epochs on a stratified subset, accuracy on the validation split.
  search::proxy_config proxy = [] {
    search::proxy_config p;
    p.train.epochs = 2;
    p.train_images = 10000;
    return p;
  }();
  std::size_t top_k = 3;  ///< feasible designs retrained in full and tested after the search (0: none)
  /// Full retraining of the top-k: all training images (the validation split held out), these epochs.
  nn::train_config retrain = [] {
    nn::train_config c;
    c.epochs = 25;
    return c;
  }();
  std::size_t threads = 0;  ///< 0: every core
  /// Trials asked and not yet told, at most (search::schedule): 2 lets two small candidates train at once, one per
  /// core. It fixes the order of asks and tells, so the trials of a seed depend on it (the journal pins it) and
  /// not on how many actually run at once (threads, MPI ranks). 1: every reward is told before the next ask.
  std::size_t in_flight = 2;
  /// How the cores are shared among the trials under way (throughput only; the trials do not depend on it).
  search::trial_concurrency concurrency;
  std::string journal;      ///< record every trial here (JSON lines) and resume from it; empty: no journal
  std::string dataset = "dataset";  ///< its name, for reports and the journal's header
};

namespace detail {

/// The policy family a type models (exactly one, or the composition is refused).
template <class T>
inline constexpr int family_count = int(space::SearchSpace<T>) + int(quant::Quantizer<T>) + int(fpga::CostModel<T>) +
                                    int(search::Strategy<T>);

template <template <class> class Is, class... Ps>
inline constexpr int count_family = (0 + ... + int(Is<Ps>::value));

template <class T> struct is_space : std::bool_constant<space::SearchSpace<T>> {};
template <class T> struct is_quantizer : std::bool_constant<quant::Quantizer<T>> {};
template <class T> struct is_cost_model : std::bool_constant<fpga::CostModel<T>> {};
template <class T> struct is_strategy : std::bool_constant<search::Strategy<T>> {};

/// The first of Ps... that Is<>, else Default.
template <template <class> class Is, class Default, class... Ps>
struct find_family {
  using type = Default;
};
template <template <class> class Is, class Default, class P, class... Ps>
struct find_family<Is, Default, P, Ps...> {
  using type = std::conditional_t<Is<P>::value, P, typename find_family<Is, Default, Ps...>::type>;
};

/// One argument's checks: a Device where a CostModel belongs, then an argument of no family.
template <class P>
struct policy_check {
  static_assert(!fpga::Device<P> || fpga::CostModel<P>,
                "hwnas::pipeline: a Device was given where a CostModel belongs; wrap it in a cost model, e.g. "
                "hwnas::fpga::pipelined_pe<Device, hwnas::fpga::clock_mhz<100>> (docs/concepts.md#pipeline)");
  static_assert(fpga::Device<P> || family_count<P> >= 1,
                "hwnas::pipeline: an argument models none of the concepts SearchSpace, Quantizer, CostModel, "
                "Strategy (docs/concepts.md#pipeline)");
  static_assert(family_count<P> <= 1,
                "hwnas::pipeline: an argument models several of the concepts SearchSpace, Quantizer, CostModel, "
                "Strategy; each policy must belong to one family (docs/concepts.md#pipeline)");
  static constexpr bool ok = true;
};

/// A space that already carries its quantizer (space::quantized<Space, Quantizer>).
template <class S>
concept carries_quantizer = requires { typename S::quantizer_type; };

template <class S, class Q>
struct genome_space_of {
  using type = space::quantized<S, Q>;
};
template <carries_quantizer S, class Q>
struct genome_space_of<S, Q> {
  using type = S;
};

template <class T>
std::string describe_policy() {
  if constexpr (requires { T::describe(); }) return std::string(T::describe());
  else if constexpr (requires { T::name; }) return std::string(T::name);
  else return "custom";
}

/// FNV-1a over bytes, for the data fingerprint of the journal's header.
inline std::uint64_t fnv1a(const void* data, std::size_t n, std::uint64_t h = 1469598103934665603ull) {
  const auto* p = static_cast<const unsigned char*>(data);
  for (std::size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 1099511628211ull;
  return h;
}
inline nlohmann::json fingerprint(const io::dataset& d) {
  std::uint64_t h = fnv1a(d.images.data(), d.images.size() * sizeof(float));
  h = fnv1a(d.labels.data(), d.labels.size() * sizeof(d.labels[0]), h);
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
  return {{"images", d.size()}, {"shape", {d.channels(), d.height(), d.width()}}, {"classes", d.classes},
          {"fnv1a", hex}};
}

/// Calls `stage(name, i, n)` on every hook that has it.
template <class... H>
void announce_stage(std::string_view name, std::size_t i, std::size_t n, H&... hooks) {
  (
      [&] {
        if constexpr (requires { hooks.stage(name, i, n); }) hooks.stage(name, i, n);
      }(),
      ...);
}

/// Calls `end_stage()` on every hook that has it (the stages are over).
template <class... H>
void end_stages(H&... hooks) {
  (
      [&] {
        if constexpr (requires { hooks.end_stage(); }) hooks.end_stage();
      }(),
      ...);
}

/// A hook that runs the trials elsewhere (search::mpi_farm): its coordinator() rank runs the strategy with
/// `evaluator(local)`, every other rank serves trials with `serve(local, pool)`.
template <class H>
concept trial_farm = requires(const H& h) {
  { h.coordinator() } -> std::convertible_to<bool>;
  { h.ranks() } -> std::convertible_to<int>;
};
template <class... H>
inline constexpr bool has_farm = (trial_farm<std::remove_cvref_t<H>> || ...);
template <class H, class... Hs>
const auto& first_farm(const H& h, const Hs&... hs) {
  if constexpr (trial_farm<std::remove_cvref_t<H>>) return h;
  else return first_farm(hs...);
}

}  // namespace detail

/// A co-design search as a type. Policies: any order, at most one per family, missing ones defaulted.
/// @tparam Policies each must model exactly one of: space::SearchSpace, quant::Quantizer, fpga::CostModel,
///         search::Strategy (docs/concepts.md#pipeline)
template <class... Policies>
class pipeline {
  static_assert((detail::policy_check<Policies>::ok && ...));
  static_assert(detail::count_family<detail::is_space, Policies...> <= 1,
                "hwnas::pipeline: two arguments model SearchSpace; give one search space "
                "(docs/concepts.md#pipeline)");
  static_assert(detail::count_family<detail::is_quantizer, Policies...> <= 1,
                "hwnas::pipeline: two arguments model Quantizer; give one quantizer (docs/concepts.md#pipeline)");
  static_assert(detail::count_family<detail::is_cost_model, Policies...> <= 1,
                "hwnas::pipeline: two arguments model CostModel; give one cost model (docs/concepts.md#pipeline)");
  static_assert(detail::count_family<detail::is_strategy, Policies...> <= 1,
                "hwnas::pipeline: two arguments model Strategy; give one strategy (docs/concepts.md#pipeline)");

 public:
  using space_type = typename detail::find_family<detail::is_space, pipeline_defaults::space, Policies...>::type;
  using quantizer_type =
      typename detail::find_family<detail::is_quantizer, pipeline_defaults::quantizer, Policies...>::type;
  using cost_model_type =
      typename detail::find_family<detail::is_cost_model, pipeline_defaults::cost_model, Policies...>::type;
  using strategy_type = typename detail::find_family<detail::is_strategy, pipeline_defaults::strategy, Policies...>::type;

 private:
  static_assert(!(detail::carries_quantizer<space_type> && detail::count_family<detail::is_quantizer, Policies...> == 1),
                "hwnas::pipeline: the SearchSpace already carries a Quantizer (space::quantized<Space, Quantizer>) "
                "and another Quantizer was given; give one (docs/concepts.md#pipeline)");
  static constexpr bool float_layers = [] {
    if constexpr (detail::carries_quantizer<space_type>)
      return quant::leaves_float<typename space_type::quantizer_type>;
    else
      return quant::leaves_float<quantizer_type>;
  }();
  static_assert(!float_layers,
                "hwnas::pipeline: the Quantizer leaves layers float, and a CostModel maps only fixed-point layers "
                "onto an FPGA; use quant::fixed_point<...> or quant::uniform<...> (docs/concepts.md#pipeline)");
  static_assert(!space::SearchSpace<space_type> || requires { space_type::max_layers; },
                "hwnas::pipeline: the SearchSpace must say how many conv layers it decodes to (static constexpr int "
                "max_layers) so that the Quantizer can give each one its formats (docs/concepts.md#pipeline)");

 public:
  /// The genome the strategy searches: the space's layers and the quantizer's formats together.
  using genome_space = typename detail::genome_space_of<space_type, quantizer_type>::type;
  /// The cardinality of every gene, known at compile time.
  static constexpr auto layout = genome_space::layout;
  /// How many genomes there are.
  static constexpr double points() noexcept { return space::points(layout); }

  /// The default policies.
  pipeline() = default;
  /// Configured policies (make_pipeline), in the order of the template arguments.
  explicit pipeline(Policies... policies)
    requires(sizeof...(Policies) > 0)
      : given_(std::move(policies)...) {}

  /// What run() does beyond the policies: seeds, proxy training, top-k retraining, threads, journal.
  codesign_settings settings;

  /// The cost model this pipeline maps with (the configured instance, or the default-constructed one).
  cost_model_type cost_model() const { return get<cost_model_type>(); }
  /// The strategy's hyper-parameters.
  strategy_type strategy() const { return get<strategy_type>(); }

  /// Everything that determines the trials of a run on `data` against `s`: what the journal's header pins.
  nlohmann::json run_settings(const io::split_data& data, const spec& s) const {
    const auto model = cost_model();
    nlohmann::json j;
    j["version"] = std::string(hwnas::version);
    j["seed"] = settings.seed;
    j["in_flight"] = settings.in_flight;
    j["strategy"] = {{"name", std::string(strategy_type::name)}, {"parameters", hyper_parameters()}};
    j["space"] = detail::describe_policy<space_type>();
    j["quantizer"] = detail::carries_quantizer<space_type> ? std::string("(in the space)")
                                                           : detail::describe_policy<quantizer_type>();
    j["layout"] = std::vector<int>(layout.begin(), layout.end());
    j["cost_model"] = {{"name", std::string(cost_model_type::name)},
                       {"device", std::string(cost_model_type::device_type::name)},
                       {"clock_mhz", model.clock_mhz()}};
    j["spec"] = fpga::to_json(s);
    // The slices every proxy training cuts a batch into decide its float sums (docs/training.md#threads-and-
    // determinism): the configured count, else the thread count. Pinned so that a resume with other --threads, which
    // would train the remaining candidates differently, is refused by name.
    j["slices"] = settings.proxy.train.slices
                      ? settings.proxy.train.slices
                      : (settings.threads ? settings.threads : thread_pool::default_threads());
    j["proxy"] = {{"train", nn::to_json(settings.proxy.train)},
                  {"train_images", settings.proxy.train_images},
                  {"init_seed", settings.proxy.init_seed},
                  {"subset_seed", settings.proxy.subset_seed}};
    j["data"] = {{"name", settings.dataset},
                 {"train", detail::fingerprint(data.train)},
                 {"validation", detail::fingerprint(data.validation)}};
    return j;
  }

  /// Searches, retrains the top-k feasible designs in full and tests them. Hooks: a trailing pack, each member
  /// optional (search/run.hpp: on_start, on_trial, should_stop, on_finish, reward, objectives; and stage(name, i,
  /// n) for the stages after the search). A trial farm among the hooks (search::mpi_farm, search/mpi_evaluator.hpp)
  /// trains the candidates on its worker ranks; on those ranks run() returns an empty report when the search ends,
  /// and the coordinator alone retrains the top-k.
  /// @param data train / validation / test splits (io::fashion_mnist(), io::cifar10(), or your own)
  /// @throws hwnas::invalid_argument for a bad spec, budget or setting, before anything is trained; a journal of
  ///         another run (naming the field that differs)
  /// @throws hwnas::io_error when the journal cannot be read or written or is not a journal
  template <class... Hooks>
  report::codesign_report run(const io::split_data& data, const spec& s, search::budget b, Hooks&&... hooks) const {
    using clock = std::chrono::steady_clock;
    fpga::validate(s);
    const auto model = cost_model();  // a bad clock was refused when the model was made
    if (b.trials == 0) throw invalid_argument("hwnas::pipeline::run: budget.trials must be >= 1");
    if (!(b.seconds >= 0))
      throw invalid_argument("hwnas::pipeline::run: budget.seconds must be a number >= 0 (0: no limit)");
    if (settings.threads > 1024)
      throw invalid_argument("hwnas::pipeline::run: settings.threads must be at most 1024 (0: every core), got " +
                             std::to_string(settings.threads));
    if (settings.in_flight < 1 || settings.in_flight > 1024)
      throw invalid_argument("hwnas::pipeline::run: settings.in_flight must be 1..1024, got " +
                             std::to_string(settings.in_flight));
    if (settings.top_k > 1000)
      throw invalid_argument("hwnas::pipeline::run: settings.top_k must be at most 1000, got " +
                             std::to_string(settings.top_k));
    if (data.train.empty() || data.validation.empty())
      throw invalid_argument("hwnas::pipeline::run: the training and validation sets must not be empty");
    nn::validate(settings.retrain);

    report::codesign_report rep;
    rep.version = std::string(hwnas::version);
    rep.seed = settings.seed;
    rep.spec = s;
    rep.device = std::string(cost_model_type::device_type::name);
    rep.cost_model = std::string(cost_model_type::name);
    rep.clock_mhz = model.clock_mhz();
    rep.strategy = std::string(strategy_type::name);
    rep.space = detail::describe_policy<space_type>();
    rep.quantizer = detail::carries_quantizer<space_type> ? std::string("(in the space)")
                                                          : detail::describe_policy<quantizer_type>();
    rep.dataset = settings.dataset;
    rep.settings = run_settings(data, s);

    thread_pool pool(settings.threads ? settings.threads : thread_pool::default_threads());
    search::two_stage_evaluator<genome_space, cost_model_type> evaluator(model, s, data.train, data.validation,
                                                                         settings.proxy, pool);
    evaluator.concurrency = settings.concurrency;
    auto state = strategy().start(layout, settings.seed);
    const auto t0 = clock::now();
    const search::schedule sched{settings.in_flight};
    const auto search_with = [&](auto& e) {
      if (settings.journal.empty()) {
        rep.search = search::run(e, state, b, sched, hooks...);
      } else {
        search::journal log(settings.journal, rep.settings);
        rep.journal_torn_line_dropped = log.torn_line_dropped();
        rep.search = search::run(e, state, b, sched, log, hooks...);
      }
    };
    if constexpr (detail::has_farm<Hooks...>) {
      const auto& farm = detail::first_farm(hooks...);
      if (!farm.coordinator()) {  // a worker: stage 2 of the coordinator's trials, until it says stop
        farm.serve(evaluator, pool);
        rep.search = {};
        return rep;
      }
      auto remote = farm.evaluator(evaluator);
      search_with(remote);
    } else {
      search_with(evaluator);
    }
    rep.seconds.emplace_back("search", seconds_since(t0));

    // The top-k distinct trained designs by proxy reward (ties: the earlier), retrained in full and tested.
    std::vector<std::size_t> order;
    for (std::size_t i = 0; i < rep.search.trials.size(); ++i) {
      const auto& t = rep.search.trials[i];
      if (t.status == search::trial_status::trained && !t.repeated) order.push_back(i);
    }
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t c) {
      return rep.search.trials[a].reward > rep.search.trials[c].reward;
    });
    if (order.size() > settings.top_k) order.resize(settings.top_k);
    const auto t1 = clock::now();
    // progress by epochs, so that a long retraining shows it moves ("retraining epoch 17/45")
    const auto epochs = static_cast<std::size_t>(settings.retrain.epochs), steps = order.size() * epochs;
    for (std::size_t k = 0; k < order.size(); ++k) {
      detail::announce_stage("retraining epoch", k * epochs + 1, steps, hooks...);
      rep.top.push_back(retrain(rep.search.trials[order[k]], order[k], data, pool, [&](const nn::epoch_report& e) {
        const auto done = static_cast<std::size_t>(e.epoch);
        if (done < epochs) detail::announce_stage("retraining epoch", k * epochs + done + 1, steps, hooks...);
        return true;
      }));
    }
    std::stable_sort(rep.top.begin(), rep.top.end(), [](const auto& a, const auto& c) {
      return a.validation_accuracy > c.validation_accuracy;
    });
    if (!order.empty()) detail::end_stages(hooks...);
    if (!rep.top.empty()) rep.best = 0;
    rep.seconds.emplace_back("retrain", seconds_since(t1));

    // The front's hypervolume in a box fixed by the spec, the device and the clock (docs/reports.md#hypervolume).
    report::set_hypervolume(rep, cost_model_type::device_type::luts, model.clock_mhz());
    return rep;
  }

 private:
  template <class T>
  T get() const {
    if constexpr ((std::is_same_v<T, Policies> || ...)) {
      constexpr std::size_t index = [] {
        constexpr bool same[] = {std::is_same_v<T, Policies>...};
        std::size_t i = 0;
        while (!same[i]) ++i;
        return i;
      }();
      return boost::hana::at_c<index>(given_);
    } else {
      return T{};
    }
  }

  nlohmann::json hyper_parameters() const {
    const auto st = strategy();
    if constexpr (requires { st.hyper_parameters(); }) return st.hyper_parameters();
    else return nlohmann::json::object();
  }

  static double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }

  template <class OnEpoch>
  report::retrained_design retrain(const search::trial& t, std::size_t index, const io::split_data& data,
                                   thread_pool& pool, OnEpoch&& on_epoch) const {
    const auto t0 = std::chrono::steady_clock::now();
    report::retrained_design d;
    d.trial = index;
    d.arch = t.arch;
    d.hw = *t.hardware;
    d.proxy_accuracy = t.accuracy.value_or(0.0);
    nn::network net(t.arch, settings.proxy.init_seed);
    nn::train_config c = settings.retrain;
    c.seed = settings.seed;
    nn::train(net, data.train, nullptr, c, pool, on_epoch);
    d.validation_accuracy = nn::evaluate(net, data.validation, &pool).accuracy();
    const io::dataset& test = data.test.empty() ? data.validation : data.test;
    d.test_accuracy_qat = nn::evaluate(net, test, &pool).accuracy();
    const auto inet = net.to_integer();
    d.test_accuracy_integer = inet.accuracy(test, &pool);
    d.integer_network = nn::to_json(inet);
    d.epochs = c.epochs;
    d.train_images = data.train.size();
    d.seconds = seconds_since(t0);
    return d;
  }

  boost::hana::tuple<Policies...> given_;
};

/// A pipeline of configured policy instances (a cost model with a runtime clock, a strategy with its
/// hyper-parameters), in any order; missing families take their defaults.
template <class... Policies>
pipeline<std::remove_cvref_t<Policies>...> make_pipeline(Policies&&... policies) {
  return pipeline<std::remove_cvref_t<Policies>...>(std::forward<Policies>(policies)...);
}

/// The pipelines of the papers hwnas reproduces.
namespace presets {
/// Lu, Jiang et al. 2019 (NAQS): layer-wise space, per-layer fixed point, the pipelined PE accelerator, REINFORCE.
using naqs = pipeline<pipeline_defaults::space, pipeline_defaults::quantizer, pipeline_defaults::cost_model,
                      search::reinforce>;
/// FNAS (Jiang et al., DAC 2019): the tiled engine's latency model and REINFORCE; give it a latency spec
/// (spec{.max_latency_ms = ...}).
using fnas = pipeline<pipeline_defaults::space, pipeline_defaults::quantizer,
                      fpga::tiled_engine<fpga::cyclone_iv_ep4ce115, fpga::clock_mhz<100>>, search::reinforce>;
/// FINN-style streaming dataflow with PE x SIMD folding, uniform low precision, NSGA-II for the front.
using finn_style = pipeline<pipeline_defaults::space, quant::uniform<2, 3, 4, 6, 8>,
                            fpga::dataflow<fpga::cyclone_iv_ep4ce115, fpga::clock_mhz<100>>, search::nsga2>;
}  // namespace presets

}  // namespace hwnas
