// Float convolution kernels on the reference CNN's two layers (conv3x3 1->16 on 28x28, conv3x3 16->32 on 14x14),
// at batch 32 (one thread's slice of a 64-batch) and 64: GFLOP/s of forward, backward-data and backward-weights.
// Beside each fast kernel: its scalar _ref twin and the im2col + gemm formulation, in the same binary.
//
//   build-*/benchmarks/hwnas_bench_conv --benchmark_counters_tabular=true
//
// All kernels run single-threaded: the network splits a batch across threads and calls them on its slices.

#include <benchmark/benchmark.h>

#include <vector>

#include <cstdint>

#include <hwnas/core/rng.hpp>
#include <hwnas/kernels/activations.hpp>
#include <hwnas/kernels/conv2d.hpp>
#include <hwnas/kernels/dense.hpp>
#include <hwnas/kernels/pooling.hpp>
#include <hwnas/kernels/softmax_xent.hpp>
#include <hwnas/kernels/workspace.hpp>

namespace {

namespace hk = hwnas::kernels;
using hk::conv2d_shape;

enum class pass { forward, backward_data, backward_weights };
enum class impl { fast, gemm, ref };

/// Layers 1-2: the reference CNN's; 3-4: the median search candidate's (hwnas_bench_search: conv3x3/2 1->64 on
/// 28x28, conv5x5 64->16 on 7x7); 5: the largest candidate's inner layer (conv7x7 64->64 on 28x28).
conv2d_shape layer(int index, int batch) {
  const auto b = static_cast<std::size_t>(batch);
  switch (index) {
    case 1: return {b, 1, 28, 28, 16, 3, 1};
    case 2: return {b, 16, 14, 14, 32, 3, 1};
    case 3: return {b, 1, 28, 28, 64, 3, 2};
    case 4: return {b, 64, 7, 7, 16, 5, 1};
    default: return {b, 64, 28, 28, 64, 7, 1};
  }
}

std::vector<float> random_vector(std::size_t n, hwnas::rng& r) {
  std::vector<float> v(n);
  for (auto& x : v) x = static_cast<float>(r.uniform(-1.0, 1.0));
  return v;
}

template <pass P, impl I>
void bm_conv(benchmark::State& state) {
  const conv2d_shape s = layer(static_cast<int>(state.range(0)), static_cast<int>(state.range(1)));
  hwnas::rng r(1);
  const auto in = random_vector(s.input_size(), r);
  const auto w = random_vector(s.weight_size(), r);
  const auto bias = random_vector(s.bias_size(), r);
  const auto dout = random_vector(s.output_size(), r);
  std::vector<float> out(s.output_size()), din(s.input_size()), dw(s.weight_size()), db(s.bias_size());
  hk::workspace ws;
  for (auto _ : state) {
    if constexpr (P == pass::forward) {
      if constexpr (I == impl::fast) hk::conv2d_forward(s, in, w, bias, out, ws);
      if constexpr (I == impl::gemm)
        hk::detail::conv2d_forward_gemm<xsimd::default_arch>(s, in.data(), w.data(), bias.data(), out.data(), ws);
      if constexpr (I == impl::ref) hk::conv2d_forward_ref(s, in, w, bias, out);
      benchmark::DoNotOptimize(out.data());
    } else if constexpr (P == pass::backward_data) {
      if constexpr (I == impl::fast) hk::conv2d_backward_data(s, dout, w, din, ws);
      if constexpr (I == impl::gemm)
        hk::detail::conv2d_backward_data_gemm<xsimd::default_arch>(s, dout.data(), w.data(), din.data(), ws);
      if constexpr (I == impl::ref) hk::conv2d_backward_data_ref(s, dout, w, din);
      benchmark::DoNotOptimize(din.data());
    } else {
      if constexpr (I == impl::fast) hk::conv2d_backward_weights(s, in, dout, dw, db, ws);
      if constexpr (I == impl::gemm)
        hk::detail::conv2d_backward_weights_gemm<xsimd::default_arch>(s, in.data(), dout.data(), dw.data(), 0.0f,
                                                                      ws);
      if constexpr (I == impl::ref) hk::conv2d_backward_weights_ref(s, in, dout, dw, db);
      benchmark::DoNotOptimize(dw.data());
    }
    benchmark::ClobberMemory();
  }
  state.counters["GFLOP/s"] =
      benchmark::Counter(s.flops() * static_cast<double>(state.iterations()) * 1e-9, benchmark::Counter::kIsRate);
  state.counters["img/s"] = benchmark::Counter(static_cast<double>(s.batch * state.iterations()),
                                               benchmark::Counter::kIsRate);
}

void shapes(benchmark::internal::Benchmark* b) {
  b->ArgNames({"layer", "batch"});
  for (int l : {1, 2})
    for (int batch : {32, 64}) b->Args({l, batch});
  for (int l : {3, 4, 5}) b->Args({l, 32});
  b->Unit(benchmark::kMicrosecond);
}

void ref_shapes(benchmark::internal::Benchmark* b) {
  shapes(b);
  b->MinTime(0.05);  // the scalar twin is slow; a few iterations are enough for a ratio
}

/// Every kernel call of one training step (or one inference) of the reference CNN on a slice of `batch` images,
/// single-threaded: what one of the network's threads runs, without the optimizer. img/s is per core.
template <bool training>
void bm_reference_cnn(benchmark::State& state) {
  const std::size_t batch = static_cast<std::size_t>(state.range(0));
  const conv2d_shape c1{batch, 1, 28, 28, 16, 3, 1}, c2{batch, 16, 14, 14, 32, 3, 1};
  const hk::pool2x2_shape p1{batch, 16, 28, 28}, p2{batch, 32, 14, 14};
  const hk::dense_shape d{batch, 1568, 10};
  hwnas::rng r(2);
  const auto x = random_vector(c1.input_size(), r);
  const auto w1 = random_vector(c1.weight_size(), r), b1 = random_vector(c1.bias_size(), r);
  const auto w2 = random_vector(c2.weight_size(), r), b2 = random_vector(c2.bias_size(), r);
  const auto w3 = random_vector(d.weight_size(), r), b3 = random_vector(d.bias_size(), r);
  std::vector<std::int32_t> labels(batch);
  for (auto& l : labels) l = static_cast<std::int32_t>(r.below(10));
  std::vector<float> a1(c1.output_size()), q1(p1.output_size()), a2(c2.output_size()), q2(p2.output_size());
  std::vector<float> logits(d.output_size()), g_logits(d.output_size()), g_q2(p2.output_size());
  std::vector<float> g_a2(c2.output_size()), g_q1(p1.output_size()), g_a1(c1.output_size());
  std::vector<float> g_w1(w1.size()), g_b1(b1.size()), g_w2(w2.size()), g_b2(b2.size()), g_w3(w3.size()),
      g_b3(b3.size());
  std::vector<std::int32_t> arg1(training ? p1.output_size() : 0), arg2(training ? p2.output_size() : 0);
  hk::workspace ws;
  float loss = 0.0f;
  for (auto _ : state) {
    hk::conv2d_forward(c1, x, w1, b1, a1, ws);
    hk::maxpool2x2_forward(p1, a1, q1, arg1);  // pool first, then ReLU on a quarter of the values
    hk::relu_forward(q1, q1);
    hk::conv2d_forward(c2, q1, w2, b2, a2, ws);
    hk::maxpool2x2_forward(p2, a2, q2, arg2);
    hk::relu_forward(q2, q2);
    hk::dense_forward(d, q2, w3, b3, logits);
    if constexpr (training) {
      loss += hk::softmax_cross_entropy(batch, 10, logits, labels, g_logits);
      hk::dense_backward_weights(d, q2, g_logits, g_w3, g_b3);
      hk::dense_backward_data(d, g_logits, w3, g_q2);
      hk::relu_backward(q2, g_q2, g_q2);
      hk::maxpool2x2_backward(p2, g_q2, arg2, g_a2);
      hk::conv2d_backward_weights(c2, q1, g_a2, g_w2, g_b2, ws);
      hk::conv2d_backward_data(c2, g_a2, w2, g_q1, ws);
      hk::relu_backward(q1, g_q1, g_q1);
      hk::maxpool2x2_backward(p1, g_q1, arg1, g_a1);
      hk::conv2d_backward_weights(c1, x, g_a1, g_w1, g_b1, ws);
    }
    benchmark::DoNotOptimize(logits.data());
    benchmark::DoNotOptimize(g_w1.data());
    benchmark::ClobberMemory();
  }
  benchmark::DoNotOptimize(loss);
  state.counters["img/s"] = benchmark::Counter(static_cast<double>(batch * state.iterations()),
                                               benchmark::Counter::kIsRate);
}

}  // namespace

BENCHMARK_TEMPLATE(bm_reference_cnn, true)->Arg(32)->Unit(benchmark::kMicrosecond);
BENCHMARK_TEMPLATE(bm_reference_cnn, false)->Arg(32)->Unit(benchmark::kMicrosecond);
BENCHMARK_TEMPLATE(bm_conv, pass::forward, impl::fast)->Apply(shapes);
BENCHMARK_TEMPLATE(bm_conv, pass::forward, impl::gemm)->Apply(shapes);
BENCHMARK_TEMPLATE(bm_conv, pass::forward, impl::ref)->Apply(ref_shapes);
BENCHMARK_TEMPLATE(bm_conv, pass::backward_data, impl::fast)->Apply(shapes);
BENCHMARK_TEMPLATE(bm_conv, pass::backward_data, impl::gemm)->Apply(shapes);
BENCHMARK_TEMPLATE(bm_conv, pass::backward_data, impl::ref)->Apply(ref_shapes);
BENCHMARK_TEMPLATE(bm_conv, pass::backward_weights, impl::fast)->Apply(shapes);
BENCHMARK_TEMPLATE(bm_conv, pass::backward_weights, impl::gemm)->Apply(shapes);
BENCHMARK_TEMPLATE(bm_conv, pass::backward_weights, impl::ref)->Apply(ref_shapes);

BENCHMARK_MAIN();
