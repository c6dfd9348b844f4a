// Throughput of the reference CNN (issue 2): training (float and 4-bit QAT), float inference and integer inference
// at 4 and 8 bits, on random images (no dataset needed). Counters: images/s (items_per_second) and the effective
// GFLOP/s (2 per multiply-accumulate; training counts forward + backward-data + backward-weights = 3 passes).
//
//   build-*/benchmarks/hwnas_bench_network --benchmark_counters_tabular=true
//
// The argument of each benchmark is the thread count; the 2-thread figures are the ones in docs/performance.md.

#include <cstdint>
#include <vector>

#include <benchmark/benchmark.h>

#include "hwnas/core/architecture.hpp"
#include "hwnas/core/parallel.hpp"
#include "hwnas/core/rng.hpp"
#include "hwnas/nn/integer_network.hpp"
#include "hwnas/nn/network.hpp"

namespace {

constexpr std::size_t train_batch = 64;
constexpr std::size_t infer_batch = 1024;

std::vector<float> random_images(std::size_t n, std::uint64_t seed) {
  hwnas::rng gen(seed);
  std::vector<float> x(n * 28 * 28);
  for (auto& v : x) v = static_cast<float>(gen.uniform());
  return x;
}
std::vector<std::int32_t> random_labels(std::size_t n, std::uint64_t seed) {
  hwnas::rng gen(seed);
  std::vector<std::int32_t> y(n);
  for (auto& v : y) v = static_cast<std::int32_t>(gen.below(10));
  return y;
}

void set_counters(benchmark::State& state, std::size_t images, double passes) {
  const double macs = static_cast<double>(hwnas::total_macs(hwnas::reference_cnn()));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * images));
  state.counters["GFLOP/s"] = benchmark::Counter(2.0 * macs * passes * static_cast<double>(images) * 1e-9,
                                                 benchmark::Counter::kIsIterationInvariantRate);
}

/// One SGD step (forward, backward, update) on a batch of 64, per iteration.
void train_step(benchmark::State& state, int bits) {
  auto arch = hwnas::reference_cnn();
  if (bits) arch = hwnas::with_uniform_bits(arch, bits);
  hwnas::nn::network net(arch, 1);
  hwnas::thread_pool pool(static_cast<std::size_t>(state.range(0)));
  const auto x = random_images(train_batch, 2);
  const auto y = random_labels(train_batch, 3);
  const hwnas::nn::sgd_config sgd{};
  for (auto _ : state) {
    const auto s = net.forward_backward(x.data(), y.data(), train_batch, &pool);
    net.sgd_step(0.01f, sgd);
    benchmark::DoNotOptimize(s);
  }
  set_counters(state, train_batch, 3.0);
}
void BM_train_float(benchmark::State& state) { train_step(state, 0); }
void BM_train_qat_4bit(benchmark::State& state) { train_step(state, 4); }

void BM_infer_float(benchmark::State& state) {
  hwnas::nn::network net(hwnas::reference_cnn(), 1);
  hwnas::thread_pool pool(static_cast<std::size_t>(state.range(0)));
  const auto x = random_images(infer_batch, 2);
  std::vector<std::int32_t> pred(infer_batch);
  for (auto _ : state) {
    net.predict(x.data(), infer_batch, pred.data(), &pool);
    benchmark::DoNotOptimize(pred.data());
  }
  set_counters(state, infer_batch, 1.0);
}

/// Integer-only inference of a QAT network exported to codes.
void integer_inference(benchmark::State& state, int bits) {
  hwnas::nn::network net(hwnas::with_uniform_bits(hwnas::reference_cnn(), bits), 1);
  const auto inet = net.to_integer();
  hwnas::thread_pool pool(static_cast<std::size_t>(state.range(0)));
  const auto x = random_images(infer_batch, 2);
  std::vector<std::int32_t> pred(infer_batch);
  for (auto _ : state) {
    inet.predict(x.data(), infer_batch, pred.data(), &pool);
    benchmark::DoNotOptimize(pred.data());
  }
  set_counters(state, infer_batch, 1.0);
}
void BM_infer_integer_4bit(benchmark::State& state) { integer_inference(state, 4); }
void BM_infer_integer_8bit(benchmark::State& state) { integer_inference(state, 8); }

/// The QAT forward (float kernels on exact codes) for comparison with the integer path.
void BM_infer_qat_4bit(benchmark::State& state) {
  hwnas::nn::network net(hwnas::with_uniform_bits(hwnas::reference_cnn(), 4), 1);
  hwnas::thread_pool pool(static_cast<std::size_t>(state.range(0)));
  const auto x = random_images(infer_batch, 2);
  std::vector<std::int32_t> pred(infer_batch);
  for (auto _ : state) {
    net.predict(x.data(), infer_batch, pred.data(), &pool);
    benchmark::DoNotOptimize(pred.data());
  }
  set_counters(state, infer_batch, 1.0);
}

}  // namespace

BENCHMARK(BM_train_float)->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_train_qat_4bit)->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_infer_float)->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_infer_qat_4bit)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_infer_integer_4bit)->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_infer_integer_8bit)->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
