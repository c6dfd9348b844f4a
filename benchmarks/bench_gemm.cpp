// Float GEMM: hwnas::kernels::gemm (1 and 2 threads) against OpenBLAS cblas_sgemm (1 and 2 threads) and the
// scalar twin gemm_ref, in one binary. Square sizes 64..1024 and the shapes the reference CNN's convolutions
// produce through im2col (forward, backward-data with op(A) = A^T, backward-weights with op(B) = B^T).
//
//   build-gemm/benchmarks/hwnas_bench_gemm --benchmark_min_time=0.2
//
// Counter FLOP/s = 2 m n k per call over wall time for the threaded runs (UseRealTime), CPU time otherwise.
// The context line openblas_core names the OpenBLAS kernel compared against (see main below).

#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdio>
#include <string_view>
#include <vector>

#include "hwnas/core/parallel.hpp"
#include "hwnas/core/rng.hpp"
#include "hwnas/kernels/gemm.hpp"

#ifdef HWNAS_HAVE_OPENBLAS
#include <cblas.h>
#endif

namespace {

using hwnas::kernels::transpose;

/// Operands of one benchmark case: args are (m, n, k, transpose A, transpose B).
struct gemm_case {
  transpose ta, tb;
  std::size_t m, n, k, lda, ldb, ldc;
  std::vector<float> a, b, c;

  explicit gemm_case(const benchmark::State& state)
      : ta(state.range(3) ? transpose::yes : transpose::no),
        tb(state.range(4) ? transpose::yes : transpose::no),
        m(static_cast<std::size_t>(state.range(0))),
        n(static_cast<std::size_t>(state.range(1))),
        k(static_cast<std::size_t>(state.range(2))),
        lda(ta == transpose::no ? k : m),
        ldb(tb == transpose::no ? n : k),
        ldc(n),
        a(m * k),
        b(k * n),
        c(m * n) {
    hwnas::rng gen(42);
    for (auto& x : a) x = static_cast<float>(gen.uniform(-1.0, 1.0));
    for (auto& x : b) x = static_cast<float>(gen.uniform(-1.0, 1.0));
  }

  void finish(benchmark::State& state) const {
    state.counters["FLOP/s"] = benchmark::Counter(2.0 * static_cast<double>(m * n * k) *
                                                      static_cast<double>(state.iterations()),
                                                  benchmark::Counter::kIsRate);
  }
};

hwnas::thread_pool& pool2() {
  static hwnas::thread_pool pool(2);
  return pool;
}

template <std::size_t Threads>
void bm_hwnas(benchmark::State& state) {
  gemm_case g(state);
  hwnas::thread_pool* pool = Threads > 1 ? &pool2() : nullptr;
  for (auto _ : state) {
    hwnas::kernels::gemm(g.ta, g.tb, g.m, g.n, g.k, 1.0f, g.a.data(), g.lda, g.b.data(), g.ldb, 0.0f, g.c.data(),
                         g.ldc, pool);
    benchmark::DoNotOptimize(g.c.data());
    benchmark::ClobberMemory();
  }
  g.finish(state);
}

void bm_ref(benchmark::State& state) {
  gemm_case g(state);
  for (auto _ : state) {
    hwnas::kernels::gemm_ref(g.ta, g.tb, g.m, g.n, g.k, 1.0f, g.a.data(), g.lda, g.b.data(), g.ldb, 0.0f,
                             g.c.data(), g.ldc);
    benchmark::DoNotOptimize(g.c.data());
    benchmark::ClobberMemory();
  }
  g.finish(state);
}

#ifdef HWNAS_HAVE_OPENBLAS
template <int Threads>
void bm_openblas(benchmark::State& state) {
  gemm_case g(state);
  openblas_set_num_threads(Threads);
  const auto ta = g.ta == transpose::yes ? CblasTrans : CblasNoTrans;
  const auto tb = g.tb == transpose::yes ? CblasTrans : CblasNoTrans;
  for (auto _ : state) {
    cblas_sgemm(CblasRowMajor, ta, tb, static_cast<int>(g.m), static_cast<int>(g.n), static_cast<int>(g.k), 1.0f,
                g.a.data(), static_cast<int>(g.lda), g.b.data(), static_cast<int>(g.ldb), 0.0f, g.c.data(),
                static_cast<int>(g.ldc));
    benchmark::DoNotOptimize(g.c.data());
    benchmark::ClobberMemory();
  }
  g.finish(state);
}
#endif

/// Square sizes, then the reference CNN's im2col shapes (m, n, k, ta, tb).
void square_sizes(benchmark::internal::Benchmark* b) {
  b->ArgNames({"m", "n", "k", "ta", "tb"});
  for (long s : {64, 128, 256, 512, 1024}) b->Args({s, s, s, 0, 0});
}
void small_square_sizes(benchmark::internal::Benchmark* b) {
  b->ArgNames({"m", "n", "k", "ta", "tb"});
  for (long s : {64, 128}) b->Args({s, s, s, 0, 0});
}
void network_shapes(benchmark::internal::Benchmark* b) {
  b->ArgNames({"m", "n", "k", "ta", "tb"});
  b->Args({32, 196, 144, 0, 0});   // conv2 forward: W (32 x 144) * col (144 x 196)
  b->Args({16, 784, 9, 0, 0});     // conv1 forward: W (16 x 9) * col (9 x 784)
  b->Args({32, 144, 196, 0, 0});
  b->Args({32, 144, 196, 0, 1});   // conv2 backward weights: dY (32 x 196) * col^T
  b->Args({16, 9, 784, 0, 1});     // conv1 backward weights
  b->Args({144, 196, 32, 1, 0});   // conv2 backward data: W^T (144 x 32) * dY (32 x 196)
  b->Args({9, 784, 16, 1, 0});     // conv1 backward data
}

}  // namespace

BENCHMARK(bm_hwnas<1>)->Apply(square_sizes)->Apply(network_shapes);
BENCHMARK(bm_hwnas<2>)->Apply(square_sizes)->Apply(network_shapes)->UseRealTime();
#ifdef HWNAS_HAVE_OPENBLAS
BENCHMARK(bm_openblas<1>)->Apply(square_sizes)->Apply(network_shapes);
BENCHMARK(bm_openblas<2>)->Apply(square_sizes)->Apply(network_shapes)->UseRealTime();
#endif
BENCHMARK(bm_ref)->Apply(small_square_sizes)->Apply(network_shapes);

// The OpenBLAS kernel in use is part of the result: OpenBLAS 0.3.21 falls back to its generic "Prescott" kernel on
// CPUs it does not recognise (~10x slower on an AVX-512 Xeon), and a ratio against that says little. The context
// names it (openblas_core); `hwnas_bench_gemm --openblas-core` prints it alone, and tools/run-benchmarks sets
// OPENBLAS_CORETYPE when it is generic on a CPU with AVX2 or AVX-512.
int main(int argc, char** argv) {
#ifdef HWNAS_HAVE_OPENBLAS
  for (int i = 1; i < argc; ++i)
    if (std::string_view(argv[i]) == "--openblas-core") {
      std::puts(openblas_get_corename());
      return 0;
    }
  benchmark::AddCustomContext("openblas_core", openblas_get_corename());
  benchmark::AddCustomContext("openblas_config", openblas_get_config());
#endif
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
