// Integer kernels (kernels/integer.hpp) on the reference CNN's layers, fast beside the scalar twin, at 4 and 8 bits:
//   conv3x3 1->16 on 28x28, conv3x3 16->32 on 14x14, dense 1568->10 (G MAC/s, one thread, 32 images per call),
// and the whole integer forward of the reference CNN (quantize input, conv+ReLU+requant, maxpool, x2, dense logits)
// in images/s on one thread and on two (each thread runs its own 32-image slices, as the network does).
//
//   build-int/benchmarks/hwnas_bench_integer --benchmark_counters_tabular=true
// On a shared machine, add --benchmark_repetitions=5: each benchmark then also reports "min" (the least disturbed run).

#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "hwnas/core/parallel.hpp"
#include "hwnas/core/qformat.hpp"
#include "hwnas/core/rng.hpp"
#include "hwnas/kernels/integer.hpp"

namespace {

namespace k = hwnas::kernels;
using hwnas::qformat;

constexpr int slice = 32;  // images per kernel call, as the network's per-thread slices

/// Formats of a b-bit network: activations u1.(b-1), weights s0.(b-1), input u0.b.
struct net_formats {
  qformat input, act, weight;
  explicit net_formats(int bits)
      : input(qformat::activation(0, bits)), act(qformat::activation(1, bits - 1)), weight(qformat::weight(0, bits - 1)) {}
};

template <class T>
std::vector<T> random_codes(std::size_t n, std::int64_t lo, std::int64_t hi, std::uint64_t seed) {
  hwnas::rng g(seed);
  std::vector<T> v(n);
  for (auto& x : v) x = static_cast<T>(lo + static_cast<std::int64_t>(g.below(static_cast<std::uint64_t>(hi - lo + 1))));
  return v;
}

/// One conv layer of the reference CNN: random codes, packed weights, output buffer.
struct conv_layer_data {
  k::int_conv_shape s;
  net_formats f;
  std::vector<std::uint8_t> in, out;
  std::vector<std::int8_t> w;
  std::vector<std::int32_t> bias;
  k::packed_weights pw;
  conv_layer_data(k::int_conv_shape shape, int bits)
      : s(shape), f(bits), in(random_codes<std::uint8_t>(s.input_size(), 0, f.act.max_code(), 1)),
        out(s.output_size()),
        w(random_codes<std::int8_t>(static_cast<std::size_t>(s.out_channels) * s.in_channels * s.kernel * s.kernel,
                                    f.weight.min_code(), f.weight.max_code(), 2)),
        bias(random_codes<std::int32_t>(static_cast<std::size_t>(s.out_channels), -1000, 1000, 3)),
        pw(w.data(), s.out_channels, s.in_channels, s.kernel, f.weight) {}
  double macs() const { return static_cast<double>(s.batch) * s.out_channels * s.out_height() * s.out_width() * s.reduction(); }
};

k::int_conv_shape conv1_shape() { return {slice, 1, 28, 28, 16, 3, 1}; }
k::int_conv_shape conv2_shape() { return {slice, 16, 14, 14, 32, 3, 1}; }

template <int Layer, bool Ref>
void bm_conv(benchmark::State& state) {
  const int bits = static_cast<int>(state.range(0));
  conv_layer_data d(Layer == 1 ? conv1_shape() : conv2_shape(), bits);
  for (auto _ : state) {
    if constexpr (Ref)
      k::int_conv2d_ref(d.s, d.in.data(), d.f.act, d.w.data(), d.f.weight, d.bias.data(), d.out.data(), d.f.act);
    else
      k::int_conv2d(d.s, d.in.data(), d.f.act, d.pw, d.bias.data(), d.out.data(), d.f.act);
    benchmark::DoNotOptimize(d.out.data());
    benchmark::ClobberMemory();
  }
  state.counters["MAC/s"] = benchmark::Counter(d.macs() * static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
  state.counters["img/s"] = benchmark::Counter(double{slice} * static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}

template <bool Ref>
void bm_dense(benchmark::State& state) {
  const int bits = static_cast<int>(state.range(0));
  const net_formats f(bits);
  const int n = 1568, m = 10;
  const auto in = random_codes<std::uint8_t>(static_cast<std::size_t>(slice) * n, 0, f.act.max_code(), 1);
  const auto w = random_codes<std::int8_t>(static_cast<std::size_t>(m) * n, f.weight.min_code(), f.weight.max_code(), 2);
  const auto bias = random_codes<std::int32_t>(m, -1000, 1000, 3);
  const k::packed_weights pw(w.data(), m, n, 1, f.weight);
  std::vector<std::int32_t> logits(static_cast<std::size_t>(slice) * m);
  for (auto _ : state) {
    if constexpr (Ref)
      k::int_dense_acc_ref(slice, n, m, in.data(), f.act, w.data(), f.weight, bias.data(), logits.data());
    else
      k::int_dense_acc(slice, in.data(), f.act, pw, bias.data(), logits.data());
    benchmark::DoNotOptimize(logits.data());
    benchmark::ClobberMemory();
  }
  state.counters["MAC/s"] =
      benchmark::Counter(double{slice} * n * m * static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}

/// The reference CNN in integers: weights packed once, per-slice buffers per thread.
struct reference_cnn {
  net_formats f;
  std::vector<std::int8_t> w1, w2, w3;
  std::vector<std::int32_t> b1, b2, b3;
  k::packed_weights p1, p2, p3;
  explicit reference_cnn(int bits)
      : f(bits), w1(random_codes<std::int8_t>(16 * 9, f.weight.min_code(), f.weight.max_code(), 4)),
        w2(random_codes<std::int8_t>(32 * 16 * 9, f.weight.min_code(), f.weight.max_code(), 5)),
        w3(random_codes<std::int8_t>(10 * 1568, f.weight.min_code(), f.weight.max_code(), 6)),
        b1(random_codes<std::int32_t>(16, -100, 100, 7)), b2(random_codes<std::int32_t>(32, -100, 100, 8)),
        b3(random_codes<std::int32_t>(10, -100, 100, 9)), p1(w1.data(), 16, 1, 3, f.weight),
        p2(w2.data(), 32, 16, 3, f.weight), p3(w3.data(), 10, 1568, 1, f.weight) {}

  struct buffers {
    std::vector<std::uint8_t> x0 = std::vector<std::uint8_t>(slice * 784), a1 = std::vector<std::uint8_t>(slice * 16 * 784),
                              p1 = std::vector<std::uint8_t>(slice * 16 * 196), a2 = std::vector<std::uint8_t>(slice * 32 * 196),
                              p2 = std::vector<std::uint8_t>(slice * 32 * 49);
    std::vector<std::int32_t> logits = std::vector<std::int32_t>(slice * 10);
  };

  /// One 32-image slice, single-threaded: float pixels -> int32 logits.
  template <bool Ref>
  void forward(const float* images, buffers& b) const {
    if constexpr (Ref) {
      k::quantize_input_ref(images, b.x0.size(), f.input, b.x0.data());
      k::int_conv2d_ref(conv1_shape(), b.x0.data(), f.input, w1.data(), f.weight, b1.data(), b.a1.data(), f.act);
      k::int_maxpool2_ref(slice, 16, 28, 28, b.a1.data(), b.p1.data());
      k::int_conv2d_ref(conv2_shape(), b.p1.data(), f.act, w2.data(), f.weight, b2.data(), b.a2.data(), f.act);
      k::int_maxpool2_ref(slice, 32, 14, 14, b.a2.data(), b.p2.data());
      k::int_dense_acc_ref(slice, 1568, 10, b.p2.data(), f.act, w3.data(), f.weight, b3.data(), b.logits.data());
    } else {
      k::quantize_input(images, b.x0.size(), f.input, b.x0.data());
      k::int_conv2d(conv1_shape(), b.x0.data(), f.input, p1, b1.data(), b.a1.data(), f.act);
      k::int_maxpool2(slice, 16, 28, 28, b.a1.data(), b.p1.data());
      k::int_conv2d(conv2_shape(), b.p1.data(), f.act, p2, b2.data(), b.a2.data(), f.act);
      k::int_maxpool2(slice, 32, 14, 14, b.a2.data(), b.p2.data());
      k::int_dense_acc(slice, b.p2.data(), f.act, p3, b3.data(), b.logits.data());
    }
  }
};

std::vector<float> random_images(std::size_t n) {
  hwnas::rng g(10);
  std::vector<float> v(n);
  for (auto& x : v) x = static_cast<float>(g.uniform());
  return v;
}

template <bool Ref>
void bm_cnn_one_thread(benchmark::State& state) {
  const reference_cnn net(static_cast<int>(state.range(0)));
  const auto images = random_images(slice * 784);
  reference_cnn::buffers b;
  for (auto _ : state) {
    net.forward<Ref>(images.data(), b);
    benchmark::DoNotOptimize(b.logits.data());
  }
  state.counters["img/s"] = benchmark::Counter(double{slice} * static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}

/// Two threads, each running its own slices of a 512-image batch through the whole network.
void bm_cnn_two_threads(benchmark::State& state) {
  const reference_cnn net(static_cast<int>(state.range(0)));
  constexpr int batch = 512;
  const auto images = random_images(static_cast<std::size_t>(batch) * 784);
  hwnas::thread_pool pool(2);
  std::vector<reference_cnn::buffers> bufs(pool.size());
  for (auto _ : state) {
    hwnas::parallel_for(pool, 0, batch / slice, [&](std::size_t lo, std::size_t hi, std::size_t w) {
      for (std::size_t s = lo; s < hi; ++s) net.forward<false>(images.data() + s * slice * 784, bufs[w]);
    });
    benchmark::DoNotOptimize(bufs[0].logits.data());
  }
  state.counters["img/s"] = benchmark::Counter(double{batch} * static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}

}  // namespace

BENCHMARK_TEMPLATE(bm_conv, 1, false)->Name("conv1_1x28x28_to_16/int")->Arg(4)->Arg(8)->UseRealTime()->ComputeStatistics("min", [](const std::vector<double>& v) { return *std::min_element(v.begin(), v.end()); });
BENCHMARK_TEMPLATE(bm_conv, 1, true)->Name("conv1_1x28x28_to_16/int_ref")->Arg(4)->Arg(8)->UseRealTime()->ComputeStatistics("min", [](const std::vector<double>& v) { return *std::min_element(v.begin(), v.end()); });
BENCHMARK_TEMPLATE(bm_conv, 2, false)->Name("conv2_16x14x14_to_32/int")->Arg(4)->Arg(8)->UseRealTime()->ComputeStatistics("min", [](const std::vector<double>& v) { return *std::min_element(v.begin(), v.end()); });
BENCHMARK_TEMPLATE(bm_conv, 2, true)->Name("conv2_16x14x14_to_32/int_ref")->Arg(4)->Arg(8)->UseRealTime()->ComputeStatistics("min", [](const std::vector<double>& v) { return *std::min_element(v.begin(), v.end()); });
BENCHMARK_TEMPLATE(bm_dense, false)->Name("dense_1568_to_10/int_acc")->Arg(4)->Arg(8)->UseRealTime()->ComputeStatistics("min", [](const std::vector<double>& v) { return *std::min_element(v.begin(), v.end()); });
BENCHMARK_TEMPLATE(bm_dense, true)->Name("dense_1568_to_10/int_acc_ref")->Arg(4)->Arg(8)->UseRealTime()->ComputeStatistics("min", [](const std::vector<double>& v) { return *std::min_element(v.begin(), v.end()); });
BENCHMARK_TEMPLATE(bm_cnn_one_thread, false)->Name("reference_cnn_forward/int/1thread")->Arg(4)->Arg(8)->UseRealTime()->ComputeStatistics("min", [](const std::vector<double>& v) { return *std::min_element(v.begin(), v.end()); });
BENCHMARK_TEMPLATE(bm_cnn_one_thread, true)->Name("reference_cnn_forward/int_ref/1thread")->Arg(4)->Arg(8)->UseRealTime()->ComputeStatistics("min", [](const std::vector<double>& v) { return *std::min_element(v.begin(), v.end()); });
BENCHMARK(bm_cnn_two_threads)->Name("reference_cnn_forward/int/2threads")->Arg(4)->Arg(8)->UseRealTime()->ComputeStatistics("min", [](const std::vector<double>& v) { return *std::min_element(v.begin(), v.end()); });

BENCHMARK_MAIN();
