// Proxy-training throughput of the search's candidates (issue "Search throughput", "Measure first"): images per second
// of stage 2 of the two-stage evaluator (QAT with codesign_settings{}.proxy.train: batch 64, SGD with Nesterov
// momentum 0.9, weight decay 5e-4, learning rate 0.05), for three networks of hwnas-codesign's default search space
// (hwnas::pipeline<>::genome_space: pipeline_defaults::space with pipeline_defaults::quantizer) decoded for
// Fashion-MNIST's 1x28x28 input and 10 classes, on random images (no dataset needed):
//
//   smallest  the fewest multiply-accumulates per image of the forward pass in the whole space (exhaustive search
//             over every valid layer configuration: 64^2 + 64^3 + 64^4 of them)
//   median    the layers of the median, by MACs, of 4,001 valid genomes drawn uniformly with hwnas::rng(1)
//   largest   the most MACs in the whole space (same exhaustive search)
//
// Every candidate has the quantizer's middle formats (gene (n - 1) / 2 of each range: weights s1.3, activations u1.3,
// classifier s1.3), so they differ in their layers only, and every layer runs on the float kernels (exact QAT).
// Three ways to use two cores, per candidate, all with train_config::slices = 2 (the same arithmetic whatever the
// thread count):
//
//   <candidate>/1x1   one training on a 1-thread hwnas::thread_pool
//   <candidate>/1x2   one training on a 2-thread pool (how a search runs its trials today)
//   <candidate>/2x1   two trainings at once, each on its own 1-thread pool in its own thread (two trials at once);
//                     items_per_second is the total of both (Iterations counts the steps of both, and Time is
//                     the mean wall time of the two divided by all their steps)
//
// One iteration is one SGD step (forward, backward, update) on a batch of 64, after 2 warm-up steps. Counters: MACs
// (per image, forward), params, GFLOP/s (6 per MAC and image: forward, backward-data, backward-weights); the label is
// the architecture. After the runs (console output) it prints each candidate's 1x2 / 2x1 ratio and the crossover:
// the MACs per image above which one trial on 2 threads beats two trials on 1 thread each (at every candidate from
// there on), or "never" when two trials on 1 thread each win at the largest candidate measured.
//
// peak/fma/1t and peak/fma/2t measure the roofline in the same run: float FMAs from registers on the build's widest
// vectors, GFLOP/s of one core and of two. A training's GFLOP/s over it says how much room any faster kernel has.
//
//   build-*/benchmarks/hwnas_bench_search --benchmark_counters_tabular=true
//   build-*/benchmarks/hwnas_bench_search --write-architectures DIR   # the three as architecture JSON + manifest
//
// tools/bench-search-vs-pytorch runs both modes and a PyTorch training of the same three networks.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <map>
#include <span>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <unistd.h>

#include <benchmark/benchmark.h>
#include <xsimd/xsimd.hpp>
#include <nlohmann/json.hpp>

#include "hwnas/core/architecture.hpp"
#include "hwnas/core/atomic_file.hpp"
#include "hwnas/core/parallel.hpp"
#include "hwnas/core/rng.hpp"
#include "hwnas/io/architecture_json.hpp"
#include "hwnas/nn/network.hpp"
#include "hwnas/nn/train.hpp"
#include "hwnas/pipeline.hpp"

namespace {

using genome_space = hwnas::pipeline<>::genome_space;
using layer_space = genome_space::space_type;
using quantizer = genome_space::quantizer_type;

constexpr hwnas::tensor_shape fashion_mnist_input{1, 28, 28};
constexpr int fashion_mnist_classes = 10;
constexpr std::uint64_t sample_seed = 1;
constexpr std::size_t sample_size = 4001;  ///< valid genomes drawn for the median (odd: one middle element)
constexpr std::size_t data_batches = 16;   ///< the synthetic data set: this many batches, used in turn
constexpr int warmup_steps = 2;

/// The proxy training of hwnas-codesign, with a fixed slice count.
hwnas::nn::train_config proxy_train() {
  auto c = hwnas::codesign_settings{}.proxy.train;
  c.slices = 2;
  return c;
}

/// One network to train.
struct candidate {
  std::string name;           ///< smallest, median, largest
  hwnas::genome g;            ///< its genome in genome_space
  hwnas::architecture arch;   ///< decoded for 1x28x28, 10 classes
  std::int64_t macs = 0;      ///< multiply-accumulates per image, forward pass
  std::size_t params = 0;     ///< weights and biases
  std::string summary;        ///< one line: layers, classifier, formats
};

std::string summarize(const hwnas::architecture& a) {
  std::ostringstream s;
  const auto geo = hwnas::geometry(a);
  for (std::size_t i = 0; i < a.layers.size(); ++i) {
    const auto& l = a.layers[i];
    s << (i ? ", " : "") << "conv" << l.kernel << "x" << l.kernel << "/" << l.stride << " " << geo[i].in_channels
      << "->" << l.filters << (l.pool == 2 ? " pool" : "");
  }
  s << ", dense " << geo.back().in_channels << "->" << a.classes;
  if (!a.layers.empty() && a.layers[0].weight_format && a.layers[0].activation_format)
    s << " (w " << hwnas::to_string(*a.layers[0].weight_format) << ", a "
      << hwnas::to_string(*a.layers[0].activation_format) << ")";
  return s.str();
}

/// The genome with `layers` (the layer genes of layer_space, genes of unused layers 0) and the quantizer's middle
/// choice for every format gene.
hwnas::genome with_middle_formats(std::span<const int> layers) {
  constexpr std::size_t space_genes = layer_space::layout.size();
  constexpr std::size_t per_layer = quantizer::layer_layout.size();
  hwnas::genome g(genome_space::layout.size(), 0);
  std::copy(layers.begin(), layers.end(), g.begin());
  for (int l = 0; l < genome_space::max_layers; ++l)
    for (std::size_t j = 0; j < per_layer; ++j)
      g[space_genes + per_layer * static_cast<std::size_t>(l) + j] = (quantizer::layer_layout[j] - 1) / 2;
  const std::size_t global = space_genes + per_layer * static_cast<std::size_t>(genome_space::max_layers);
  for (std::size_t j = 0; j < quantizer::global_layout.size(); ++j)
    g[global + j] = (quantizer::global_layout[j] - 1) / 2;
  return g;
}

candidate make_candidate(std::string name, std::span<const int> layer_genes) {
  candidate c;
  c.name = std::move(name);
  c.g = with_middle_formats(layer_genes);
  c.arch = genome_space::decode(c.g, fashion_mnist_input, fashion_mnist_classes);
  hwnas::validate(c.arch);
  c.macs = hwnas::total_macs(c.arch);
  const hwnas::nn::network net(c.arch, 0);
  c.params = net.parameter_count();
  c.summary = summarize(c.arch);
  for (std::size_t l = 0; l < net.layer_count(); ++l)
    if (!net.float_exact(l)) c.summary += "; layer " + std::to_string(l) + " on the integer kernels";
  return c;
}

/// The layer genes (layer_space's layout) of the valid networks with the fewest and the most MACs, by an exhaustive
/// depth-first walk over every layer configuration (the first in walk order on ties). MACs as hwnas::geometry
/// counts them; make_candidate checks the result against hwnas::total_macs.
struct extremes {
  std::int64_t min_macs = std::numeric_limits<std::int64_t>::max(), max_macs = -1;
  std::vector<int> min_genes, max_genes;
};

void walk(int layer, std::int64_t c, std::int64_t h, std::int64_t w, std::int64_t macs, std::vector<int>& genes,
          extremes& e) {
  using L = layer_space;
  constexpr int dmin = L::depth_option::min, dmax = L::depth_option::max;
  const auto& F = L::filter_option::values;
  const auto& K = L::kernel_option::values;
  const auto& S = L::stride_option::values;
  const auto& P = L::pool_option::values;
  for (std::size_t fi = 0; fi < F.size(); ++fi)
    for (std::size_t ki = 0; ki < K.size(); ++ki)
      for (std::size_t si = 0; si < S.size(); ++si)
        for (std::size_t pi = 0; pi < P.size(); ++pi) {
          const std::int64_t f = F[fi], k = K[ki], s = S[si];
          std::int64_t oh = (h + s - 1) / s, ow = (w + s - 1) / s;
          const std::int64_t m = macs + f * c * oh * ow * k * k;
          if (P[pi] == 2) oh /= 2, ow /= 2;
          if (oh < 1 || ow < 1) continue;
          const std::size_t at = 1 + L::genes_per_layer * static_cast<std::size_t>(layer);
          genes[at + 0] = static_cast<int>(fi);
          genes[at + 1] = static_cast<int>(ki);
          genes[at + 2] = static_cast<int>(si);
          genes[at + 3] = static_cast<int>(pi);
          const int depth = layer + 1;
          if (depth >= dmin) {
            genes[0] = depth - dmin;
            const std::int64_t total = m + f * oh * ow * fashion_mnist_classes;
            auto canonical = [&] {  // genes of layers past `depth` set to 0
              std::vector<int> g(genes);
              std::fill(g.begin() + static_cast<std::ptrdiff_t>(1 + L::genes_per_layer * depth), g.end(), 0);
              return g;
            };
            if (total < e.min_macs) e.min_macs = total, e.min_genes = canonical();
            if (total > e.max_macs) e.max_macs = total, e.max_genes = canonical();
          }
          if (depth < dmax) walk(layer + 1, f, oh, ow, m, genes, e);
        }
}

/// Uniformly drawn valid genomes (decoded networks that pass hwnas::validate), sorted by MACs (stable).
struct sample {
  std::vector<std::pair<std::int64_t, hwnas::genome>> valid;
  std::size_t drawn = 0;
};

sample draw_sample() {
  sample s;
  hwnas::rng gen(sample_seed);
  while (s.valid.size() < sample_size) {
    hwnas::genome g(genome_space::layout.size());
    for (std::size_t i = 0; i < g.size(); ++i)
      g[i] = static_cast<int>(gen.below(static_cast<std::uint64_t>(genome_space::layout[i])));
    ++s.drawn;
    const auto a = genome_space::decode(g, fashion_mnist_input, fashion_mnist_classes);
    try {
      hwnas::validate(a);
    } catch (const hwnas::invalid_argument&) {
      continue;
    }
    s.valid.emplace_back(hwnas::total_macs(a), std::move(g));
  }
  std::stable_sort(s.valid.begin(), s.valid.end(), [](const auto& x, const auto& y) { return x.first < y.first; });
  return s;
}

std::vector<candidate> choose_candidates(const sample& s) {
  extremes e;
  std::vector<int> genes(layer_space::layout.size(), 0);
  walk(0, fashion_mnist_input.channels, fashion_mnist_input.height, fashion_mnist_input.width, 0, genes, e);
  const auto& mid = s.valid[s.valid.size() / 2].second;
  std::vector<int> mid_layers(mid.begin(), mid.begin() + static_cast<std::ptrdiff_t>(layer_space::layout.size()));
  const int depth = layer_space::depth_option::min + mid_layers[0];
  std::fill(mid_layers.begin() + static_cast<std::ptrdiff_t>(1 + layer_space::genes_per_layer * depth),
            mid_layers.end(), 0);
  std::vector<candidate> out{make_candidate("smallest", e.min_genes), make_candidate("median", mid_layers),
                             make_candidate("largest", e.max_genes)};
  if (out[0].macs != e.min_macs || out[2].macs != e.max_macs)
    throw hwnas::invalid_argument("bench_search: the walk's MAC count disagrees with hwnas::total_macs");
  return out;
}

/// Random images in [0, 1) and labels: data_batches batches of the proxy's batch size.
struct synthetic_data {
  std::vector<float> images;
  std::vector<std::int32_t> labels;
};

const synthetic_data& data() {
  static const synthetic_data d = [] {
    const std::size_t n = data_batches * proxy_train().batch;
    synthetic_data s;
    hwnas::rng gen(2);
    s.images.resize(n * static_cast<std::size_t>(fashion_mnist_input.size()));
    for (auto& v : s.images) v = static_cast<float>(gen.uniform());
    s.labels.resize(n);
    for (auto& v : s.labels) v = static_cast<std::int32_t>(gen.below(fashion_mnist_classes));
    return s;
  }();
  return d;
}

/// Trains `c` on a pool of `pool_threads` threads, one SGD step per iteration. Run on several benchmark threads, each
/// trains its own network on its own pool (concurrent trials).
void proxy_train_steps(benchmark::State& state, const candidate& c, std::size_t pool_threads) {
  try {
    const auto cfg = proxy_train();
    const auto& d = data();
    const std::size_t image = static_cast<std::size_t>(fashion_mnist_input.size());
    hwnas::nn::network net(c.arch, 1 + static_cast<std::uint64_t>(state.thread_index()));
    hwnas::thread_pool pool(pool_threads);
    const hwnas::nn::sgd_config sgd{cfg.momentum, cfg.nesterov, cfg.weight_decay};
    const auto lr = static_cast<float>(cfg.learning_rate);
    std::size_t b = static_cast<std::size_t>(state.thread_index()) % data_batches;
    auto step = [&] {
      const auto s = net.forward_backward(d.images.data() + b * cfg.batch * image, d.labels.data() + b * cfg.batch,
                                          cfg.batch, &pool, cfg.slices);
      net.sgd_step(lr, sgd);
      b = (b + 1) % data_batches;
      return s;
    };
    for (int i = 0; i < warmup_steps; ++i) step();
    for (auto _ : state) benchmark::DoNotOptimize(step());
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * cfg.batch));
    state.counters["MACs"] = benchmark::Counter(static_cast<double>(c.macs), benchmark::Counter::kAvgThreads);
    state.counters["params"] = benchmark::Counter(static_cast<double>(c.params), benchmark::Counter::kAvgThreads);
    // Summed over the benchmark threads and divided by their mean wall time, as items_per_second is: the total.
    state.counters["GFLOP/s"] = benchmark::Counter(
        6e-9 * static_cast<double>(c.macs) * static_cast<double>(state.iterations() * cfg.batch),
        benchmark::Counter::kIsRate);
    state.SetLabel(c.summary);
  } catch (const std::exception& e) {
    state.SkipWithError(e.what());
  }
}

/// The console reporter, plus each candidate's 1x2 / 2x1 ratio and the crossover after the runs (medians when
/// repeated).
/// The roofline the training rates are read against: float multiply-adds per second from registers only, on the
/// build's widest vectors (xsimd::default_arch), with enough independent accumulators to hide the FMA latency on
/// every x86 core so far (12 per thread: 4 cycles x 2 pipes = 8 needed on Zen and Skylake-SP). One FMA is 2 flops.
/// peak/fma/1t on one thread, peak/fma/2t on two (each its own chain): what a core and the machine's 2 cores can do.
void fma_peak(benchmark::State& state) {
  using batch = xsimd::batch<float, xsimd::default_arch>;
  constexpr int accumulators = 12, rounds = 4096;
  batch acc[accumulators];
  for (int i = 0; i < accumulators; ++i) acc[i] = batch(static_cast<float>(i) * 1e-3f);
  const batch a(0.999f), b(1e-4f);
  for (auto _ : state) {
    for (int r = 0; r < rounds; ++r)
      for (auto& x : acc) x = xsimd::fma(a, x, b);  // a fixed point near 0.1: no overflow, no denormals
    for (auto& x : acc) benchmark::DoNotOptimize(x);
  }
  state.counters["GFLOP/s"] = benchmark::Counter(
      2.0 * batch::size * accumulators * rounds * static_cast<double>(state.iterations()) * 1e-9,
      benchmark::Counter::kIsRate);
}

class crossover_reporter : public benchmark::ConsoleReporter {
 public:
  crossover_reporter(OutputOptions o, std::vector<candidate> cs) : ConsoleReporter(o), candidates_(std::move(cs)) {}

  void ReportRuns(const std::vector<Run>& runs) override {
    for (const auto& r : runs) {
      if (r.error_occurred) continue;
      const auto it = r.counters.find("items_per_second");
      if (it == r.counters.end()) continue;
      if (r.run_type == Run::RT_Iteration) rates_[r.run_name.function_name].push_back(it->second.value);
      else if (r.aggregate_name == "median") medians_[r.run_name.function_name] = it->second.value;
    }
    ConsoleReporter::ReportRuns(runs);
  }

  void Finalize() override {
    ConsoleReporter::Finalize();
    auto& out = GetOutputStream();
    struct point {
      const candidate* c;
      double one_by_two, two_by_one;
    };
    std::vector<point> points;
    for (const auto& c : candidates_) {
      const double a = median("proxy_train/" + c.name + "/1x2"), b = median("proxy_train/" + c.name + "/2x1");
      if (a > 0 && b > 0) points.push_back({&c, a, b});
    }
    if (points.empty()) return;
    char line[256];
    out << "\nOne trial on 2 threads (1x2) against two trials on 1 thread each (2x1), images/s (medians):\n";
    for (const auto& p : points) {
      std::snprintf(line, sizeof line, "  %-9s %13lld MACs  1x2 %10.1f  2x1 %10.1f  1x2/2x1 %.3f\n", p.c->name.c_str(),
                    static_cast<long long>(p.c->macs), p.one_by_two, p.two_by_one, p.one_by_two / p.two_by_one);
      out << line;
    }
    out << "crossover: " << crossover(points) << "\n";
  }

 private:
  /// The median aggregate's items/s when repeated (--benchmark_report_aggregates_only shows nothing else), else the
  /// median of the runs.
  double median(const std::string& name) const {
    if (const auto m = medians_.find(name); m != medians_.end()) return m->second;
    const auto it = rates_.find(name);
    if (it == rates_.end() || it->second.empty()) return 0;
    auto v = it->second;
    std::sort(v.begin(), v.end());
    return v.size() % 2 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]);
  }

  /// The MACs per image above which 1x2 / 2x1 >= 1 at every candidate, interpolated linearly in log(MACs) between
  /// the last candidate where 2x1 wins and the next; "never" when 2x1 wins at the largest.
  template <class Points>
  static std::string crossover(const Points& p) {
    auto q = [&](std::size_t i) { return p[i].one_by_two / p[i].two_by_one; };
    char text[384];
    if (q(p.size() - 1) < 1.0) {
      std::string ahead;
      for (std::size_t i = 0; i < p.size(); ++i)
        if (q(i) >= 1.0) ahead += (ahead.empty() ? "" : ", ") + p[i].c->name;
      std::snprintf(text, sizeof text,
                    "never: 2x1 is faster at the largest candidate measured (%s, %lld MACs per image)%s%s%s",
                    p.back().c->name.c_str(), static_cast<long long>(p.back().c->macs),
                    ahead.empty() ? "" : "; 1x2 is ahead only at: ",
                    ahead.c_str(), ahead.empty() ? "" : " (small networks)");
      return text;
    }
    std::size_t i = p.size() - 1;
    while (i > 0 && q(i - 1) >= 1.0) --i;
    if (i == 0) {
      std::snprintf(text, sizeof text, "always: 1x2 is at least as fast at every candidate, from %lld MACs per image",
                    static_cast<long long>(p.front().c->macs));
      return text;
    }
    const double l0 = std::log(static_cast<double>(p[i - 1].c->macs)), l1 = std::log(static_cast<double>(p[i].c->macs));
    const double at = std::exp(l0 + (l1 - l0) * (1.0 - q(i - 1)) / (q(i) - q(i - 1)));
    std::snprintf(text, sizeof text,
                  "1x2 beats 2x1 above about %.3g MACs per image (between %s and %s, log-linear interpolation)", at,
                  p[i - 1].c->name.c_str(), p[i].c->name.c_str());
    return text;
  }

  std::vector<candidate> candidates_;
  std::map<std::string, std::vector<double>> rates_;
  std::map<std::string, double> medians_;
};

/// --write-architectures DIR: DIR/<name>.json (architecture JSON) for the three and DIR/candidates.json (names,
/// files, MACs, summaries, genomes, the training options), and a summary on stdout.
int write_architectures(const std::filesystem::path& dir, const std::vector<candidate>& cs, const sample& s) {
  std::filesystem::create_directories(dir);
  const auto cfg = proxy_train();
  nlohmann::json manifest;
  manifest["train"] = hwnas::nn::to_json(cfg);
  manifest["input"] = {fashion_mnist_input.channels, fashion_mnist_input.height, fashion_mnist_input.width};
  manifest["classes"] = fashion_mnist_classes;
  manifest["selection"] = {{"smallest", "fewest MACs in the whole space (exhaustive)"},
                           {"median", "layers of the median of " + std::to_string(sample_size) +
                                          " valid genomes drawn uniformly with hwnas::rng(" +
                                          std::to_string(sample_seed) + ")"},
                           {"largest", "most MACs in the whole space (exhaustive)"},
                           {"formats", "the quantizer's middle choice of every format gene"},
                           {"space", layer_space::describe()},
                           {"quantizer", quantizer::describe()}};
  for (const auto& c : cs) {
    const std::string file = c.name + ".json";
    hwnas::write_file_atomically(dir / file, hwnas::io::to_json(c.arch).dump(2) + "\n");
    manifest["candidates"].push_back({{"name", c.name},
                                      {"file", file},
                                      {"macs", c.macs},
                                      {"params", c.params},
                                      {"summary", c.summary},
                                      {"genome", c.g}});
    std::printf("%-9s %13lld MACs %9zu params  %s\n", c.name.c_str(), static_cast<long long>(c.macs), c.params,
                c.summary.c_str());
  }
  hwnas::write_file_atomically(dir / "candidates.json", manifest.dump(2) + "\n");
  std::printf("sample: %zu valid of %zu drawn; MACs min %lld, median %lld, max %lld\n", s.valid.size(), s.drawn,
              static_cast<long long>(s.valid.front().first),
              static_cast<long long>(s.valid[s.valid.size() / 2].first),
              static_cast<long long>(s.valid.back().first));
  // The search trains only what stage 1 maps feasibly: the sample's MACs under hwnas-codesign's default spec
  // (<= 5,000 LUTs, >= 3,000 fps; examples/codesign) and its default cost model.
  const hwnas::pipeline_defaults::cost_model model{};
  const hwnas::spec codesign_default{.max_luts = 5000, .min_fps = 3000.0};
  std::vector<std::int64_t> feasible;
  for (const auto& [macs, g] : s.valid)
    if (model.map(genome_space::decode(g, fashion_mnist_input, fashion_mnist_classes), codesign_default).feasible)
      feasible.push_back(macs);
  if (!feasible.empty())
    std::printf("feasible under hwnas-codesign's default spec (<= 5000 LUTs, >= 3000 fps): %zu of %zu; MACs min %lld, "
                "median %lld, max %lld\n",
                feasible.size(), s.valid.size(), static_cast<long long>(feasible.front()),
                static_cast<long long>(feasible[feasible.size() / 2]), static_cast<long long>(feasible.back()));
  else
    std::printf("feasible under hwnas-codesign's default spec (<= 5000 LUTs, >= 3000 fps): none of %zu\n",
                s.valid.size());
  std::printf("written to %s\n", dir.string().c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string write_dir;
  bool console = true, tabular = false;
  std::vector<char*> args{argv[0]};
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (a == "--write-architectures" && i + 1 < argc) {
      write_dir = argv[++i];
      continue;
    }
    if (a.starts_with("--write-architectures=")) {
      write_dir = std::string(a.substr(a.find('=') + 1));
      continue;
    }
    if (a.starts_with("--benchmark_format=") && a != "--benchmark_format=console") console = false;
    if (a == "--benchmark_counters_tabular=true" || a == "--benchmark_counters_tabular") tabular = true;
    args.push_back(argv[i]);
  }
  try {
    const auto s = draw_sample();
    const auto cs = choose_candidates(s);
    if (!write_dir.empty()) return write_architectures(write_dir, cs, s);
    for (const auto& c : cs) {
      const candidate* p = &c;  // cs outlives the runs
      benchmark::RegisterBenchmark(("proxy_train/" + c.name + "/1x1").c_str(),
                                   [p](benchmark::State& st) { proxy_train_steps(st, *p, 1); })
          ->UseRealTime()->Unit(benchmark::kMillisecond);
      benchmark::RegisterBenchmark(("proxy_train/" + c.name + "/1x2").c_str(),
                                   [p](benchmark::State& st) { proxy_train_steps(st, *p, 2); })
          ->UseRealTime()->Unit(benchmark::kMillisecond);
      benchmark::RegisterBenchmark(("proxy_train/" + c.name + "/2x1").c_str(),
                                   [p](benchmark::State& st) { proxy_train_steps(st, *p, 1); })
          ->Threads(2)->UseRealTime()->Unit(benchmark::kMillisecond);
    }
    benchmark::RegisterBenchmark("peak/fma/1t", fma_peak)->UseRealTime();
    benchmark::RegisterBenchmark("peak/fma/2t", fma_peak)->Threads(2)->UseRealTime();
    benchmark::AddCustomContext("proxy_train", hwnas::nn::to_json(proxy_train()).dump());
    int n = static_cast<int>(args.size());
    benchmark::Initialize(&n, args.data());
    if (benchmark::ReportUnrecognizedArguments(n, args.data())) return 1;
    (void)data();  // built before the benchmark threads start
    if (console) {
      int o = benchmark::ConsoleReporter::OO_None;
      if (isatty(STDOUT_FILENO)) o |= benchmark::ConsoleReporter::OO_Color;
      if (tabular) o |= benchmark::ConsoleReporter::OO_Tabular;
      crossover_reporter reporter(static_cast<benchmark::ConsoleReporter::OutputOptions>(o), cs);
      benchmark::RunSpecifiedBenchmarks(&reporter);
    } else {
      benchmark::RunSpecifiedBenchmarks();
    }
    benchmark::Shutdown();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "hwnas_bench_search: %s\n", e.what());
    return 2;
  }
  return 0;
}
