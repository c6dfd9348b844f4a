// Cost-model benchmarks: single-layer estimates per second (goal >= 5 M/s), and the exact mapping searches on 4-,
// 8- and 16-layer networks (goal: 8 layers <= 1 ms), each with its brute-force twin beside it where that finishes.
//
//   build-*/benchmarks/hwnas_bench_fpga --benchmark_min_time=0.2

#include <benchmark/benchmark.h>

#include <cstdint>
#include <vector>

#include "hwnas/core/architecture.hpp"
#include "hwnas/fpga/dataflow.hpp"
#include "hwnas/fpga/pipelined_pe.hpp"
#include "hwnas/fpga/tiled_engine.hpp"

namespace {

using namespace hwnas;
using namespace hwnas::fpga;

/// A CIFAR-10-sized network: `layers` compute layers (layers - 1 convs + the classifier), 4-bit, pooling every
/// few layers so that 16 layers still leave a 2x2 map.
architecture network(int layers) {
  architecture a;
  a.input = {3, 32, 32};
  a.classes = 10;
  const int convs = layers - 1;
  for (int i = 0; i < convs; ++i) {
    conv_layer l;
    l.filters = i < convs / 2 ? 32 : 64;
    l.kernel = 3;
    const int every = std::max(1, convs / 4);
    l.pool = (i % every == every - 1 && i / every < 4) ? 2 : 1;
    a.layers.push_back(l);
  }
  return with_uniform_bits(a, 4);
}

/// A network small enough for the brute-force twins: 1x8x8 input, 4-filter convs.
architecture small_network(int layers) {
  architecture a;
  a.input = {1, 8, 8};
  a.classes = 3;
  for (int i = 0; i < layers - 1; ++i) {
    conv_layer l;
    l.filters = i == 0 ? 3 : 4;
    l.kernel = 3;
    l.pool = i < 2 ? 2 : 1;
    a.layers.push_back(l);
  }
  return with_uniform_bits(a, 4);
}

// ---- single-layer estimates ------------------------------------------------------------------------------------

template <class F>
void layer_estimates(benchmark::State& state, F cost) {
  const auto g = geometry(network(8));
  std::int64_t sink = 0, n = 0;
  for (auto _ : state) {
    for (const auto& l : g)
      for (int tn : {1, 3, 8, 32})
        for (int tm : {1, 4, 16}) {
          sink += cost(l, std::min(tn, l.in_channels), std::min(tm, l.out_channels));
          ++n;
        }
    benchmark::DoNotOptimize(sink);
  }
  state.SetItemsProcessed(n);
}

void BM_layer_estimate_pipelined_pe(benchmark::State& state) {
  const auto d = info_of<cyclone_iv_ep4ce115>();
  layer_estimates(state, [&](const layer_geometry& l, int tn, int tm) {
    const auto c = fpga::detail::pe_layer(d, l, tn, tm);
    return c.luts + c.brams + c.cycles;
  });
}
BENCHMARK(BM_layer_estimate_pipelined_pe);

void BM_layer_estimate_dataflow(benchmark::State& state) {
  const auto d = info_of<xc7z020>();
  layer_estimates(state, [&](const layer_geometry& l, int tn, int tm) {
    const auto c = fpga::detail::dataflow_layer(d, l, tm, tn, false);
    return c.luts + c.brams + c.cycles;
  });
}
BENCHMARK(BM_layer_estimate_dataflow);

void BM_layer_estimate_tiled_engine(benchmark::State& state) {
  const auto g = geometry(network(8));
  layer_estimates(state, [&](const layer_geometry& l, int tn, int tm) {
    return fpga::detail::tiled_layer_cycles(l, tm, tn, 8, 8, 64);
  });
}
BENCHMARK(BM_layer_estimate_tiled_engine);

// ---- exact mapping searches ------------------------------------------------------------------------------------

// Args: {layers, BRAM ceiling in % of what the BRAM-blind optimum uses (0: none)}. A ceiling under 100 % binds: the
// search needs the 3-D frontier; when nothing fits (feasible = 0) the time is that of the infeasibility proof.
template <class Model>
void search(benchmark::State& state) {
  const auto a = network(static_cast<int>(state.range(0)));
  const Model model;
  spec s{.max_luts = 30000, .min_fps = 300};
  if (state.range(1) > 0) {
    const auto free = model.map(a, s);
    s.max_brams = free.brams * state.range(1) / 100;
  }
  bool feasible = false;
  for (auto _ : state) {
    const auto m = model.best_mapping(a, s);
    feasible = m.has_value();
    benchmark::DoNotOptimize(m);
  }
  state.counters["feasible"] = feasible;
  state.counters["luts"] = feasible ? static_cast<double>(model.map(a, s).luts) : 0.0;
}

template <class Model, bool Brute>
void small_search(benchmark::State& state) {
  const auto a = small_network(static_cast<int>(state.range(0)));
  const Model model;
  const spec s{.max_luts = 2500, .min_fps = 20000};
  std::int64_t luts = 0;
  for (auto _ : state) {
    const auto m = Brute ? model.best_mapping_ref(a, s) : model.best_mapping(a, s);
    luts = m ? model.evaluate(a, *m).luts : -1;
    benchmark::DoNotOptimize(luts);
  }
  state.counters["luts"] = static_cast<double>(luts);
}

using pe = pipelined_pe<cyclone_iv_ep4ce115>;
using tiled = tiled_engine<cyclone_iv_ep4ce115>;
using flow = dataflow<cyclone_iv_ep4ce115>;
/// NAQS's accounting: groups reconfigured in turn, batches of 100,000 frames.
struct pe_reconfigured : pe {
  pe_reconfigured() : pe(pe().reconfigure_groups(100000)) {}
};

BENCHMARK_TEMPLATE(search, pe)->ArgsProduct({{4, 8, 16}, {0, 95, 90, 80}})->Unit(benchmark::kMicrosecond);
BENCHMARK_TEMPLATE(search, tiled)->ArgsProduct({{4, 8, 16}, {0, 95, 80}})->Unit(benchmark::kMicrosecond);
BENCHMARK_TEMPLATE(search, flow)->ArgsProduct({{4, 8, 16}, {0, 95, 80}})->Unit(benchmark::kMicrosecond);
BENCHMARK_TEMPLATE(search, pe_reconfigured)->ArgsProduct({{4, 8, 16}, {0, 95, 80}})->Unit(benchmark::kMicrosecond);

// exact search vs brute force on networks small enough for the brute force to finish
BENCHMARK_TEMPLATE(small_search, pe, false)->Arg(3)->Arg(4)->Unit(benchmark::kMicrosecond);
BENCHMARK_TEMPLATE(small_search, pe, true)->Arg(3)->Arg(4)->Unit(benchmark::kMillisecond);
BENCHMARK_TEMPLATE(small_search, tiled, false)->Arg(3)->Arg(4)->Unit(benchmark::kMicrosecond);
BENCHMARK_TEMPLATE(small_search, tiled, true)->Arg(3)->Arg(4)->Unit(benchmark::kMillisecond);
BENCHMARK_TEMPLATE(small_search, flow, false)->Arg(3)->Arg(4)->Unit(benchmark::kMicrosecond);
BENCHMARK_TEMPLATE(small_search, flow, true)->Arg(3)->Arg(4)->Unit(benchmark::kMillisecond);
BENCHMARK_TEMPLATE(small_search, pe_reconfigured, false)->Arg(3)->Arg(4)->Unit(benchmark::kMicrosecond);
BENCHMARK_TEMPLATE(small_search, pe_reconfigured, true)->Arg(3)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
