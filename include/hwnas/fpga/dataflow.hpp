#pragma once
/// @file
/// The streaming dataflow model after FINN (Umuroglu et al. 2017; Blott et al. 2018): every layer is its own
/// matrix-vector unit, all layers run concurrently, and each layer is folded by PE (output channels in parallel,
/// PE | M) and SIMD (products of one output in parallel, SIMD | K^2 * N: beyond N the window unrolls, as FINN's
/// parallel-window sliding-window generator allows):
///   cycles_l = max( (M / PE) * (K^2 * N / SIMD) * R * C,  H * W ),   fps = f_clk / max_l cycles_l,
/// the second term being the input read at one pixel per cycle; latency = the interval plus every layer's fill, from
/// a frame's first input pixel to its class (docs/cost-models.md#latency), as pipelined_pe reports one group.
/// A layer's LUTs are PE lanes of SIMD multipliers (LUTs, or DSP units: the search picks per layer), an adder tree
/// over SIMD products, an accumulator and a requantizer (+ a max-pool lane when the layer pools); resources add over
/// layers. Block RAM per layer: weights (PE*SIMD*w bits wide), the sliding-window line buffer (one pixel per word,
/// ceil(SIMD/N) copies when the window unrolls) and the pooling row buffer. Derivation: docs/cost-models.md#dataflow.
///
/// The search is exact and resource-aware: a dynamic programme over layers keeping the Pareto frontier of (LUTs,
/// and those of DSPs, BRAMs, summed cycles that can bind) -- unlike FINN's greedy SetFolding, which can miss a
/// target that some folding meets. It equals the brute force (`best_mapping_ref`) on small instances.

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "hwnas/core/architecture.hpp"
#include "hwnas/core/error.hpp"
#include "hwnas/fpga/concepts.hpp"
#include "hwnas/fpga/detail/common.hpp"
#include "hwnas/fpga/devices.hpp"
#include "hwnas/fpga/hw_report.hpp"
#include "hwnas/fpga/primitives.hpp"
#include "hwnas/fpga/spec.hpp"

namespace hwnas::fpga {

/// One layer's folding.
struct dataflow_layer_mapping {
  int pe = 1;        ///< output channels in parallel; divides M
  int simd = 1;      ///< products of one output in parallel; divides N*K*K (beyond N the window unrolls)
  bool dsp = false;  ///< multipliers in DSP units (true) or LUTs
  /// The layer's memories of at most max_lutram_depth words in LUT RAM (true) or all in block RAM; only on a
  /// device with LUT RAM (device_info::lutram_luts > 0).
  bool lutram = false;
  friend bool operator==(const dataflow_layer_mapping&, const dataflow_layer_mapping&) = default;
};

/// A dataflow mapping: one folding per compute layer (conv layers, then the classifier).
struct dataflow_mapping {
  std::vector<dataflow_layer_mapping> layers;
  friend bool operator==(const dataflow_mapping&, const dataflow_mapping&) = default;
};

namespace detail {

/// The divisors of x, ascending.
inline std::vector<int> divisors(int x) {
  std::vector<int> lo, hi;
  for (int d = 1; static_cast<std::int64_t>(d) * d <= x; ++d)
    if (x % d == 0) {
      lo.push_back(d);
      if (d != x / d) hi.push_back(x / d);
    }
  lo.insert(lo.end(), hi.rbegin(), hi.rend());
  return lo;
}

struct dataflow_layer_cost {
  std::int64_t luts = 0, ffs = 0, dsps = 0, brams = 0, cycles = 0;  ///< brams in block RAM units (bram_units)
  std::int64_t lutram_luts = 0;  ///< of the luts, those used as distributed RAM
};

/// The cost of layer g folded by (PE, SIMD), multipliers in DSPs or LUTs, small memories in LUT RAM or block RAM
/// (see the file comment).
inline dataflow_layer_cost dataflow_layer(const device_info& d, const layer_geometry& g, std::int64_t pe,
                                          std::int64_t simd, bool dsp, bool lutram = false) noexcept {
  const int a = g.act_bits, w = g.weight_bits, ob = g.out_bits, acc = accumulator_bits(g);
  const auto arr = pe_array(d.family, simd, pe, a, w, acc, ob, dsp);
  dataflow_layer_cost c;
  c.luts = arr.luts;
  c.ffs = arr.ffs;
  // the PE lanes share each activation, so products pair up along PE where the device packs them
  if (dsp) c.dsps = simd * ceil_div(pe, d.products_per_dsp(a, w)) * d.dsps_per_multiplier(a, w);
  if (g.pool == 2) {
    c.luts += pe * max_pool_luts(d.family, ob);
    c.ffs += pe * ob;
  }
  const std::int64_t fold_m = g.out_channels / pe, fold_n = reduction_length(g) / simd;
  c.cycles = std::max(fold_m * fold_n * g.out_height * g.out_width, read_cycles(g));
  const memory_cost mem[] = {memory(d, fold_m * fold_n, pe * simd * w, lutram),  // weights
                             line_buffer_memory(d, g, simd, lutram),
                             g.pool == 2 ? memory(d, std::int64_t{g.pooled_width} * fold_m, pe * ob, lutram)
                                         : memory_cost{}};
  for (const auto& m : mem) {
    c.brams += m.bram_units;
    c.lutram_luts += m.luts;
  }
  c.luts += c.lutram_luts;
  return c;
}

struct dataflow_totals {
  std::int64_t luts = 0, ffs = 0, dsps = 0, brams = 0, interval = 0, latency = 0, lutram_luts = 0;
};

inline dataflow_totals dataflow_combine(const std::vector<layer_geometry>& g,
                                        const std::vector<dataflow_layer_cost>& c) noexcept {
  dataflow_totals t;
  for (const auto& x : c) {
    t.luts += x.luts;
    t.ffs += x.ffs;
    t.dsps += x.dsps;
    t.brams += x.brams;
    t.lutram_luts += x.lutram_luts;
    t.interval = std::max(t.interval, x.cycles);
  }
  t.latency = c.empty() ? 0 : streaming_latency(g, 0, c.size() - 1, t.interval);
  return t;
}

inline void check_mapping(const device_info& d, const std::vector<layer_geometry>& g, const dataflow_mapping& m) {
  if (m.layers.size() != g.size())
    throw invalid_argument("dataflow mapping: has " + std::to_string(m.layers.size()) +
                           " layers, the architecture has " + std::to_string(g.size()) +
                           " compute layers (conv layers + classifier)");
  for (std::size_t l = 0; l < g.size(); ++l) {
    const auto& x = m.layers[l];
    const std::string where = "dataflow mapping: layer " + std::to_string(l) + ": ";
    if (x.pe < 1 || g[l].out_channels % x.pe != 0)
      throw invalid_argument(where + "PE = " + std::to_string(x.pe) +
                             " must divide M = " + std::to_string(g[l].out_channels));
    if (x.simd < 1 || reduction_length(g[l]) % x.simd != 0)
      throw invalid_argument(where + "SIMD = " + std::to_string(x.simd) + " must divide N*K*K = " +
                             std::to_string(reduction_length(g[l])) + " (input channels times the window)");
    if (x.lutram && d.lutram_luts <= 0)
      throw invalid_argument(where + "lutram = true, but the " + std::string(d.name) +
                             " has no LUT RAM; keep every memory in block RAM (lutram = false)");
  }
}

struct dataflow_option {
  dataflow_layer_cost cost;
  dataflow_layer_mapping map;
};

inline std::vector<std::vector<dataflow_option>> dataflow_options(const device_info& d,
                                                                  const std::vector<layer_geometry>& g) {
  std::vector<std::vector<dataflow_option>> all(g.size());
  for (std::size_t l = 0; l < g.size(); ++l)
    for (int pe : divisors(g[l].out_channels))
      for (int simd : divisors(static_cast<int>(reduction_length(g[l]))))
        for (int dsp = 0; dsp < (d.dsps > 0 ? 2 : 1); ++dsp)  // no DSP blocks (iCE40 HX8K): LUTs only
          for (int lutram = 0; lutram < (d.lutram_luts > 0 ? 2 : 1); ++lutram) {
            const auto c = dataflow_layer(d, g[l], pe, simd, dsp != 0, lutram != 0);
            // LUT RAM for none of the layer's memories (all too deep): the same option as without
            if (lutram && c.lutram_luts == 0) continue;
            all[l].push_back({c, {pe, simd, dsp != 0, lutram != 0}});
          }
  return all;
}

/// Least-LUT folding with every layer's cycles <= `interval_cap` and the summed resources within `lim`; exact
/// multiple-choice Pareto DP over (LUTs, and the DSPs and BRAMs when they can bind). The latency is a rising
/// function of the interval alone, so a latency ceiling enters as a smaller `interval_cap` (interval_for_latency).
inline std::optional<dataflow_mapping> dataflow_min_luts(const std::vector<std::vector<dataflow_option>>& all,
                                                         const limits& lim, std::int64_t interval_cap) {
  const std::size_t n = all.size();
  std::vector<std::vector<const dataflow_option*>> opts(n);
  std::int64_t worst_dsp = 0, worst_bram = 0;
  for (std::size_t l = 0; l < n; ++l) {
    std::int64_t md = 0, mb = 0;
    for (const auto& o : all[l]) {
      const auto& c = o.cost;
      if (c.cycles > interval_cap || c.luts > lim.luts || c.dsps > lim.dsps || c.brams > lim.brams) continue;
      opts[l].push_back(&o);
      md = std::max(md, c.dsps);
      mb = std::max(mb, c.brams);
    }
    if (opts[l].empty()) return std::nullopt;
    worst_dsp += md;
    worst_bram += mb;
  }
  // Only the dimensions that can bind enter the frontier.
  enum dim { dsp_dim, bram_dim };
  std::vector<dim> live;
  std::vector<std::int64_t> caps;
  if (worst_dsp > lim.dsps) live.push_back(dsp_dim), caps.push_back(lim.dsps);
  if (worst_bram > lim.brams) live.push_back(bram_dim), caps.push_back(lim.brams);
  const int dims = 1 + static_cast<int>(live.size());
  auto key = [&](const dataflow_layer_cost& c, std::size_t i) { return live[i] == dsp_dim ? c.dsps : c.brams; };
  std::vector<std::vector<frontier_point>> lay(n);
  for (std::size_t l = 0; l < n; ++l) {
    for (std::size_t i = 0; i < opts[l].size(); ++i) {
      frontier_point p;
      p.k[0] = opts[l][i]->cost.luts;
      for (std::size_t x = 0; x < live.size(); ++x) p.k[1 + x] = key(opts[l][i]->cost, x);
      p.a = static_cast<std::int32_t>(i);
      lay[l].push_back(p);
    }
    pareto_filter(lay[l], std::max(dims, 2));
  }
  // lower bounds of the layers l..n-1 in every live dimension
  std::vector<std::array<std::int64_t, 4>> lb(n + 1, {0, 0, 0, 0});
  for (std::size_t l = n; l-- > 0;) {
    lb[l] = lb[l + 1];
    for (int x = 0; x < 4; ++x) {
      std::int64_t m = INT64_MAX;
      for (const auto& p : lay[l]) m = std::min(m, p.k[x]);
      lb[l][static_cast<std::size_t>(x)] += m;
    }
  }
  std::vector<std::vector<frontier_point>> f(n + 1);
  f[0].push_back(frontier_point{});
  for (std::size_t l = 0; l < n; ++l) {
    auto& next = f[l + 1];
    for (std::size_t x = 0; x < f[l].size(); ++x)
      for (std::size_t y = 0; y < lay[l].size(); ++y) {
        frontier_point p;
        bool ok = true;
        for (int i = 0; i < 4; ++i) p.k[i] = f[l][x].k[i] + lay[l][y].k[i];
        if (p.k[0] + lb[l + 1][0] > lim.luts) ok = false;
        for (std::size_t i = 0; i < live.size() && ok; ++i)
          if (p.k[1 + i] + lb[l + 1][1 + i] > caps[i]) ok = false;
        if (!ok) continue;
        p.a = static_cast<std::int32_t>(x);
        p.b = static_cast<std::int32_t>(y);
        next.push_back(p);
      }
    pareto_filter(next, std::max(dims, 2));
    if (next.empty()) return std::nullopt;
  }
  // f[n] is sorted lexicographically: the first point has the least LUTs (then the least of the next live key)
  dataflow_mapping m;
  m.layers.resize(n);
  std::size_t idx = 0;
  for (std::size_t l = n; l-- > 0;) {
    const auto& p = f[l + 1][idx];
    m.layers[l] = opts[l][static_cast<std::size_t>(lay[l][static_cast<std::size_t>(p.b)].a)]->map;
    idx = static_cast<std::size_t>(p.a);
  }
  return m;
}

/// Least-LUT folding meeting `lim`, or (fastest) the least frame interval within the resource limits, ties broken
/// by LUTs: the least feasible interval is found by bisection over the layers' distinct cycle counts (feasibility
/// is monotone in the interval), each probe an exact min-LUT DP.
inline std::optional<dataflow_mapping> dataflow_search(const device_info& d, const std::vector<layer_geometry>& g,
                                                       const limits& lim, bool fastest) {
  const auto all = dataflow_options(d, g);
  if (!fastest) return dataflow_min_luts(all, lim, std::min(lim.cycles, interval_for_latency(g, lim.latency_cycles)));
  std::vector<std::int64_t> t;
  for (const auto& layer : all)
    for (const auto& o : layer) t.push_back(o.cost.cycles);
  std::sort(t.begin(), t.end());
  t.erase(std::unique(t.begin(), t.end()), t.end());
  std::size_t lo = 0, hi = t.size();  // answer in [lo, hi); hi = none
  if (!dataflow_min_luts(all, lim, t.back())) return std::nullopt;
  hi = t.size() - 1;
  while (lo < hi) {
    const std::size_t mid = (lo + hi) / 2;
    if (dataflow_min_luts(all, lim, t[mid]))
      hi = mid;
    else
      lo = mid + 1;
  }
  return dataflow_min_luts(all, lim, t[lo]);
}

/// Brute-force twin: every combination of per-layer (PE | M, SIMD | N*K*K, DSP or LUT). Small architectures only.
inline std::optional<dataflow_mapping> dataflow_search_ref(const device_info& d, const std::vector<layer_geometry>& g,
                                                           const limits& lim, bool fastest) {
  const auto all = dataflow_options(d, g);
  double count = 1;
  for (const auto& l : all) count *= static_cast<double>(l.size());
  if (count > 2e7)
    throw invalid_argument("dataflow brute force: " + std::to_string(count) +
                           " mappings are too many; use it on small architectures only");
  const std::size_t n = all.size();
  std::vector<std::size_t> pick(n, 0);
  std::vector<dataflow_layer_cost> costs(n);
  std::optional<dataflow_mapping> best;
  dataflow_totals bt;
  while (true) {
    for (std::size_t l = 0; l < n; ++l) costs[l] = all[l][pick[l]].cost;
    const auto t = dataflow_combine(g, costs);
    const bool resources = t.luts <= lim.luts && t.dsps <= lim.dsps && t.brams <= lim.brams;
    const bool rate = t.interval <= lim.cycles && t.latency <= lim.latency_cycles;
    if (resources && (fastest || rate)) {
      const bool better =
          !best || (fastest ? std::tie(t.interval, t.luts) < std::tie(bt.interval, bt.luts) : t.luts < bt.luts);
      if (better) {
        bt = t;
        dataflow_mapping m;
        for (std::size_t l = 0; l < n; ++l) m.layers.push_back(all[l][pick[l]].map);
        best = std::move(m);
      }
    }
    std::size_t l = 0;
    while (l < n && ++pick[l] == all[l].size()) pick[l++] = 0;
    if (l == n) break;
  }
  return best;
}

}  // namespace detail

/// The FINN-style dataflow cost model as a policy.
/// @tparam D     must model: Device
/// @tparam Clock must model: ClockRate (clock_mhz<N>); a runtime clock can be given to the constructor instead
template <class D = cyclone_iv_ep4ce115, class Clock = default_clock>
class dataflow : public detail::model_base<D, Clock> {
  static_assert(Device<D>,
                "hwnas::fpga::dataflow<D, Clock>: D must model hwnas::fpga::Device (static constexpr "
                "name, family, luts, flip_flops, dsps, brams, bram_bits, bram_shapes, dsps_per_multiplier; "
                "see docs/cost-models.md#devices)");
  static_assert(ClockRate<Clock>,
                "hwnas::fpga::dataflow<D, Clock>: Clock must be hwnas::fpga::clock_mhz<N> (or any "
                "type with static constexpr double mhz)");

 public:
  using device_type = D;
  using clock_type = Clock;
  using mapping_type = dataflow_mapping;
  static constexpr std::string_view name = "dataflow";

  using detail::model_base<D, Clock>::model_base;  // () at Clock::mhz, or (double mhz) at run time
  using detail::model_base<D, Clock>::device;

  /// The report of one given folding, judged against `s`.
  hw_report evaluate(const architecture& a, const mapping_type& m, const spec& s = {}) const {
    const auto g = detail::quantized_geometry(a, name);
    const auto lim = this->resolved(s);
    detail::check_mapping(device(), g, m);
    std::vector<detail::dataflow_layer_cost> costs;
    hw_report r;
    r.model = std::string(name);
    r.device = std::string(D::name);
    r.clock_mhz = this->clock_mhz();
    for (std::size_t l = 0; l < g.size(); ++l) {
      const auto& x = m.layers[l];
      costs.push_back(detail::dataflow_layer(device(), g[l], x.pe, x.simd, x.dsp, x.lutram));
      layer_report lr;
      lr.name = detail::layer_name(g[l], l);
      lr.parallelism = {{"PE", x.pe}, {"SIMD", x.simd}, {"dsp", x.dsp ? 1 : 0}};
      if (device().lutram_luts > 0) lr.parallelism.emplace_back("lutram", x.lutram ? 1 : 0);
      lr.luts = costs.back().luts;
      lr.ffs = costs.back().ffs;
      lr.dsps = costs.back().dsps;
      lr.brams = detail::blocks(device(), costs.back().brams);
      lr.cycles = costs.back().cycles;
      r.layers.push_back(std::move(lr));
    }
    const auto t = detail::dataflow_combine(g, costs);
    r.luts = t.luts;
    r.ffs = t.ffs;
    r.dsps = t.dsps;
    r.brams = detail::blocks(device(), t.brams);
    r.lutram_luts = t.lutram_luts;
    r.cycles = t.interval;
    r.latency_cycles = t.latency;
    r.assumptions = {
        {"arrays", "one static bitstream: every layer its own matrix-vector unit, all streaming at once (FINN-style)"},
        {"read ports", "one input pixel (all its channels) per cycle into every layer"},
        {"multipliers", "LUTs or DSP units, chosen per layer by the search"},
        {"LUT RAM", device().lutram_luts > 0
                        ? "a layer's memories of at most 128 words in LUT RAM where its folding says lutram=1 (chosen "
                          "by the search; their LUTs counted, at most " +
                              std::to_string(device().lutram_luts) + " LUTs can be RAM)"
                        : std::string("none: the device has no LUT RAM")},
        {"latency", "first input pixel to class at the design's rate: the interval plus every layer's fill"}};
    detail::finish_report(r, device(), s, lim);
    return r;
  }

  /// The least-LUT folding meeting `s`, or nullopt when none exists.
  std::optional<mapping_type> best_mapping(const architecture& a, const spec& s = {}) const {
    return detail::dataflow_search(device(), detail::quantized_geometry(a, name), this->resolved(s), false);
  }
  /// The folding with the highest fps within the resource limits of `s` (ties: fewer LUTs), or nullopt.
  std::optional<mapping_type> fastest_mapping(const architecture& a, const spec& s = {}) const {
    return detail::dataflow_search(device(), detail::quantized_geometry(a, name), this->resolved(s), true);
  }
  /// Brute-force twins (small architectures only).
  std::optional<mapping_type> best_mapping_ref(const architecture& a, const spec& s = {}) const {
    return detail::dataflow_search_ref(device(), detail::quantized_geometry(a, name), this->resolved(s),
                                       false);
  }
  std::optional<mapping_type> fastest_mapping_ref(const architecture& a, const spec& s = {}) const {
    return detail::dataflow_search_ref(device(), detail::quantized_geometry(a, name), this->resolved(s), true);
  }

  /// The least-LUT folding meeting `s`; when none exists, the fastest within the resource limits (or the least-LUT
  /// one) with feasible == false and the violations.
  hw_report map(const architecture& a, const spec& s = {}) const {
    return this->map_in_steps(*this, a, s, {"folding", "exact resource-aware DP", "exact search"}, [&] {
      return detail::dataflow_search(device(), detail::quantized_geometry(a, name), limits{}, false);
    });
  }


};

static_assert(CostModel<dataflow<>>);

}  // namespace hwnas::fpga
