#pragma once
/// @file
/// The tiled-engine model of FNAS (Jiang et al., DAC 2019), after the accelerator of Zhang et al. (FPGA 2015): one
/// engine of Tm x Tn multipliers runs every layer in turn, tile by tile, with tiling <Tm, Tn, Tr, Tc>.
///
/// Per layer (N inputs, M outputs, R x C output map, K x K kernel, stride S), with tr = min(Tr, R), tc = min(Tc, C),
/// tn = min(Tn, N), tm = min(Tm, M) and P bits per cycle on each off-chip stream:
///   t_in   = ceil(tn * ((tr-1)S + K) * ((tc-1)S + K) * a / P)     load an input tile
///   t_w    = ceil(tm * tn * K^2 * w / P)                           load a weight tile
///   t_comp = K^2 * tr * tc                                         compute (the Tm x Tn array, one window per cycle)
///   t_out  = ceil(tm * ceil(tr/p) * ceil(tc/p) * out_bits / P)     store an output tile (after the p x p pool)
///   cycles = ceil(M/Tm) ceil(R/tr) ceil(C/tc) * max(ceil(N/Tn) * max(t_in, t_w, t_comp), t_out)
///            + t_in + t_w + t_out                                  (loads, compute and store overlap; fill/drain)
/// summed over layers; fps = f_clk / sum, latency = the same (one frame at a time). The engine's datapath is sized
/// for the widest layer (a, w, accumulator and output bits are the maxima over layers). Multipliers are DSPs
/// (Tm*Tn of them, times the device's units per product) or LUTs; the search picks either. Block RAM: double-
/// buffered input (Tn*a wide), weight (Tm*Tn*w wide) and output (Tm*acc wide) tiles. Derivation:
/// docs/cost-models.md#tiled-engine.
///
/// The search is a pruned exact enumeration of <Tm, Tn, Tr, Tc> and the multiplier kind; it equals the brute force
/// (`best_mapping_ref`) on small instances.

#include <algorithm>
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

/// Bits per clock cycle of each off-chip stream (input, weights, outputs) feeding the tiled engine.
/// @tparam Bits 1..4096; the default 64 is one 64-bit AXI port per stream (Zynq HP ports; an SDRAM controller on
///              the Cyclone IV board)
template <int Bits>
struct offchip_bits {
  static_assert(Bits >= 1 && Bits <= 4096, "hwnas::fpga::offchip_bits<N>: N (bits per cycle) must be in 1..4096");
  static constexpr int value = Bits;
};

/// A tiled_engine mapping: the engine's tiling and whether its multipliers are DSPs.
struct tiled_mapping {
  int tm = 1;        ///< output channels in parallel, 1..max M
  int tn = 1;        ///< input channels in parallel, 1..max N
  int tr = 1;        ///< output rows per tile, 1..max R
  int tc = 1;        ///< output columns per tile, 1..max C
  bool dsp = false;  ///< multipliers in DSP units (true) or LUTs
  friend bool operator==(const tiled_mapping&, const tiled_mapping&) = default;
};

namespace detail {

/// The engine's datapath widths: maxima over the layers.
struct tiled_widths {
  int a = 1, w = 1, out = 0, acc = 1;
  bool pools = false;
  int max_m = 1, max_n = 1, max_r = 1, max_c = 1;
};

inline tiled_widths tiled_widths_of(const std::vector<layer_geometry>& g) {
  tiled_widths t;
  for (const auto& l : g) {
    t.a = std::max(t.a, l.act_bits);
    t.w = std::max(t.w, l.weight_bits);
    t.out = std::max(t.out, l.out_bits);
    t.acc = std::max(t.acc, accumulator_bits(l));
    t.pools = t.pools || l.pool == 2;
    t.max_m = std::max(t.max_m, l.out_channels);
    t.max_n = std::max(t.max_n, l.in_channels);
    t.max_r = std::max(t.max_r, l.out_height);
    t.max_c = std::max(t.max_c, l.out_width);
  }
  return t;
}

struct tiled_resources {
  std::int64_t luts = 0, ffs = 0, dsps = 0;
};

/// LUTs, FFs and DSPs of the engine: they depend on (Tm, Tn, dsp) only.
inline tiled_resources tiled_engine_resources(const device_info& d, const tiled_widths& t, std::int64_t tm,
                                              std::int64_t tn, bool dsp) noexcept {
  tiled_resources r;
  const auto arr = pe_array(d.family, tn, tm, t.a, t.w, t.acc, t.out, dsp);
  r.luts = arr.luts;
  r.ffs = arr.ffs;
  // the Tm outputs share each activation, so products pair up along Tm where the device packs them
  if (dsp) r.dsps = tn * ceil_div(tm, d.products_per_dsp(t.a, t.w)) * d.dsps_per_multiplier(t.a, t.w);
  if (t.pools) {
    r.luts += tm * max_pool_luts(d.family, t.out);
    r.ffs += tm * t.out;
  }
  return r;
}

/// Input-tile height/width of layer g for a tile of tr x tc outputs.
inline std::int64_t tiled_in_extent(std::int64_t t, const layer_geometry& g) noexcept {
  return (t - 1) * g.stride + g.kernel;
}

/// Block RAM (units, bram_units) of the engine's double-buffered tiles (depend on all four factors).
inline std::int64_t tiled_brams(const device_info& d, const tiled_widths& t, const std::vector<layer_geometry>& g,
                                std::int64_t tm, std::int64_t tn, std::int64_t tr, std::int64_t tc) noexcept {
  std::int64_t in_words = 0, k2 = 0, out_words = 0;
  for (const auto& l : g) {
    const std::int64_t r = std::min<std::int64_t>(tr, l.out_height), c = std::min<std::int64_t>(tc, l.out_width);
    in_words = std::max(in_words, tiled_in_extent(r, l) * tiled_in_extent(c, l));
    k2 = std::max<std::int64_t>(k2, std::int64_t{l.kernel} * l.kernel);
    out_words = std::max(out_words, r * c);
  }
  return bram_units(d, 2 * in_words, tn * t.a) + bram_units(d, 2 * k2, tm * tn * t.w) +
         bram_units(d, 2 * out_words, tm * t.acc);
}

/// Cycles of layer g on the engine (see the file comment).
inline std::int64_t tiled_layer_cycles(const layer_geometry& g, std::int64_t tm, std::int64_t tn, std::int64_t tr,
                                       std::int64_t tc, std::int64_t port_bits) noexcept {
  const std::int64_t r = std::min<std::int64_t>(tr, g.out_height), c = std::min<std::int64_t>(tc, g.out_width);
  const std::int64_t n = std::min<std::int64_t>(tn, g.in_channels), m = std::min<std::int64_t>(tm, g.out_channels);
  const std::int64_t k2 = std::int64_t{g.kernel} * g.kernel;
  const std::int64_t out_bits = g.out_bits > 0 ? g.out_bits : accumulator_bits(g);
  const std::int64_t t_in = ceil_div(n * tiled_in_extent(r, g) * tiled_in_extent(c, g) * g.act_bits, port_bits);
  const std::int64_t t_w = ceil_div(m * n * k2 * g.weight_bits, port_bits);
  const std::int64_t t_comp = k2 * r * c;
  const std::int64_t t_out = ceil_div(m * ceil_div(r, g.pool) * ceil_div(c, g.pool) * out_bits, port_bits);
  const std::int64_t tiles = ceil_div(g.out_channels, m) * ceil_div(g.out_height, r) * ceil_div(g.out_width, c);
  return tiles * std::max(ceil_div(g.in_channels, n) * std::max({t_in, t_w, t_comp}), t_out) + t_in + t_w + t_out;
}

/// A lower bound on the frame's cycles for (Tm, Tn), whatever Tr, Tc: the compute alone.
inline std::int64_t tiled_cycles_lower_bound(const std::vector<layer_geometry>& g, std::int64_t tm,
                                             std::int64_t tn) noexcept {
  std::int64_t s = 0;
  for (const auto& l : g)
    s += ceil_div(l.out_channels, tm) * ceil_div(l.in_channels, tn) * l.kernel * l.kernel * l.out_height * l.out_width;
  return s;
}

struct tiled_totals {
  tiled_resources res;
  std::int64_t brams = 0, cycles = 0;
};

inline tiled_totals tiled_evaluate(const device_info& d, const std::vector<layer_geometry>& g, const tiled_widths& t,
                                   const tiled_mapping& m, std::int64_t port_bits) noexcept {
  tiled_totals x;
  x.res = tiled_engine_resources(d, t, m.tm, m.tn, m.dsp);
  x.brams = tiled_brams(d, t, g, m.tm, m.tn, m.tr, m.tc);
  for (const auto& l : g) x.cycles += tiled_layer_cycles(l, m.tm, m.tn, m.tr, m.tc, port_bits);
  return x;
}

inline void check_mapping(const std::vector<layer_geometry>& g, const tiled_mapping& m) {
  const auto t = tiled_widths_of(g);
  auto bad = [](const char* what, int v, const char* extent, int hi) {
    throw invalid_argument(std::string("tiled_engine mapping: ") + what + " = " + std::to_string(v) +
                           " must be in 1.." + extent + " = " + std::to_string(hi));
  };
  if (m.tm < 1 || m.tm > t.max_m) bad("Tm", m.tm, "max M", t.max_m);
  if (m.tn < 1 || m.tn > t.max_n) bad("Tn", m.tn, "max N", t.max_n);
  if (m.tr < 1 || m.tr > t.max_r) bad("Tr", m.tr, "max R", t.max_r);
  if (m.tc < 1 || m.tc > t.max_c) bad("Tc", m.tc, "max C", t.max_c);
}

/// Union over layers of the quotient candidates of one extent.
template <class F>
std::vector<int> union_candidates(const std::vector<layer_geometry>& g, F extent) {
  std::vector<int> out;
  for (const auto& l : g) {
    const auto c = quotient_candidates(extent(l));
    out.insert(out.end(), c.begin(), c.end());
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

/// Exact pruned enumeration: least LUTs (then cycles, then BRAMs) meeting `lim`, or with `fastest` least cycles
/// (then LUTs, BRAMs) within the resource limits. Only factors of the form ceil(X_l / q) are tried (any other value
/// has the same tile counts as the next smaller candidate and costs at least as much, docs); (Tm, Tn, dsp) are
/// visited by rising LUTs (min-LUT) or rising cycle lower bound (fastest) and cut off by the bounds.
inline std::optional<tiled_mapping> tiled_search(const device_info& d, const std::vector<layer_geometry>& g,
                                                 const limits& lim, std::int64_t port_bits, bool fastest) {
  const auto t = tiled_widths_of(g);
  const std::int64_t ccap = fastest ? unlimited : std::min(lim.cycles, lim.latency_cycles);
  const auto tms = union_candidates(g, [](const layer_geometry& l) { return l.out_channels; });
  const auto tns = union_candidates(g, [](const layer_geometry& l) { return l.in_channels; });
  const auto trs = union_candidates(g, [](const layer_geometry& l) { return l.out_height; });
  const auto tcs = union_candidates(g, [](const layer_geometry& l) { return l.out_width; });
  struct engine {
    tiled_resources res;
    std::int64_t lb = 0;
    int tm, tn;
    bool dsp;
  };
  std::vector<engine> engines;
  for (int tm : tms)
    for (int tn : tns) {
      const std::int64_t lb = tiled_cycles_lower_bound(g, tm, tn);
      if (lb > ccap) continue;
      for (int dsp = 0; dsp < (d.dsps > 0 ? 2 : 1); ++dsp) {  // a part without DSP blocks: LUT multipliers only
        const auto res = tiled_engine_resources(d, t, tm, tn, dsp != 0);
        if (res.luts <= lim.luts && res.dsps <= lim.dsps) engines.push_back({res, lb, tm, tn, dsp != 0});
      }
    }
  if (fastest)
    std::sort(engines.begin(), engines.end(),
              [](const engine& x, const engine& y) { return std::tie(x.lb, x.res.luts) < std::tie(y.lb, y.res.luts); });
  else
    std::sort(engines.begin(), engines.end(),
              [](const engine& x, const engine& y) { return std::tie(x.res.luts, x.lb) < std::tie(y.res.luts, y.lb); });
  std::optional<tiled_mapping> best;
  std::int64_t best_l = 0, best_c = 0, best_b = 0;
  for (const auto& e : engines) {
    if (best) {
      if (!fastest && e.res.luts > best_l) break;  // sorted by LUTs: nothing cheaper follows
      if (fastest && e.lb > best_c) break;         // sorted by the bound: nothing faster follows
    }
    // BRAMs never fall as Tr or Tc grow: an engine over the ceiling at 1 x 1 tiles is out, and a Tc sweep stops
    // at the first tile over it
    if (tiled_brams(d, t, g, e.tm, e.tn, 1, 1) > lim.brams) continue;
    for (int tr : trs)
      for (int tc : tcs) {
        const std::int64_t b = tiled_brams(d, t, g, e.tm, e.tn, tr, tc);
        if (b > lim.brams) break;
        std::int64_t c = 0;
        for (const auto& l : g) c += tiled_layer_cycles(l, e.tm, e.tn, tr, tc, port_bits);
        if (c > ccap) continue;
        const bool better = !best || (fastest ? std::tie(c, e.res.luts, b) < std::tie(best_c, best_l, best_b)
                                              : std::tie(e.res.luts, c, b) < std::tie(best_l, best_c, best_b));
        if (better) {
          best = tiled_mapping{e.tm, e.tn, tr, tc, e.dsp};
          best_l = e.res.luts;
          best_c = c;
          best_b = b;
        }
      }
  }
  return best;
}

/// Brute-force twin: every Tm, Tn, Tr, Tc in their full ranges and both multiplier kinds.
inline std::optional<tiled_mapping> tiled_search_ref(const device_info& d, const std::vector<layer_geometry>& g,
                                                     const limits& lim, std::int64_t port_bits, bool fastest) {
  const auto t = tiled_widths_of(g);
  const double count = 2.0 * t.max_m * t.max_n * t.max_r * t.max_c;
  if (count > 2e7)
    throw invalid_argument("tiled_engine brute force: " + std::to_string(count) +
                           " mappings are too many; use it on small architectures only");
  const std::int64_t ccap = std::min(lim.cycles, lim.latency_cycles);
  std::optional<tiled_mapping> best;
  std::int64_t best_l = 0, best_c = 0, best_b = 0;
  for (int tm = 1; tm <= t.max_m; ++tm)
    for (int tn = 1; tn <= t.max_n; ++tn)
      for (int tr = 1; tr <= t.max_r; ++tr)
        for (int tc = 1; tc <= t.max_c; ++tc)
          for (int dsp = 0; dsp < 2; ++dsp) {
            const tiled_mapping m{tm, tn, tr, tc, dsp != 0};
            const auto x = tiled_evaluate(d, g, t, m, port_bits);
            if (x.res.luts > lim.luts || x.res.dsps > lim.dsps || x.brams > lim.brams) continue;
            if (!fastest && x.cycles > ccap) continue;
            const bool better =
                !best || (fastest ? std::tie(x.cycles, x.res.luts, x.brams) < std::tie(best_c, best_l, best_b)
                                  : std::tie(x.res.luts, x.cycles, x.brams) < std::tie(best_l, best_c, best_b));
            if (better) {
              best = m;
              best_l = x.res.luts;
              best_c = x.cycles;
              best_b = x.brams;
            }
          }
  return best;
}

}  // namespace detail

/// The FNAS tiled-engine cost model as a policy.
/// @tparam D      must model: Device
/// @tparam Clock  must model: ClockRate (clock_mhz<N>); a runtime clock can be given to the constructor instead
/// @tparam Port   offchip_bits<N>: bits per cycle of each off-chip stream (default 64)
template <class D = cyclone_iv_ep4ce115, class Clock = default_clock, class Port = offchip_bits<64>>
class tiled_engine : public detail::model_base<D, Clock> {
  static_assert(Device<D>,
                "hwnas::fpga::tiled_engine<D, Clock>: D must model hwnas::fpga::Device (static constexpr "
                "name, family, luts, flip_flops, dsps, brams, bram_bits, bram_shapes, dsps_per_multiplier; "
                "see docs/cost-models.md#devices)");
  static_assert(ClockRate<Clock>,
                "hwnas::fpga::tiled_engine<D, Clock>: Clock must be hwnas::fpga::clock_mhz<N> (or "
                "any type with static constexpr double mhz)");

 public:
  using device_type = D;
  using clock_type = Clock;
  using mapping_type = tiled_mapping;
  static constexpr std::string_view name = "tiled_engine";
  static constexpr std::int64_t port_bits = Port::value;

  using detail::model_base<D, Clock>::model_base;  // () at Clock::mhz, or (double mhz) at run time
  using detail::model_base<D, Clock>::device;

  /// The report of one given tiling, judged against `s`. Per-layer resources are the shared engine's (totals).
  hw_report evaluate(const architecture& a, const mapping_type& m, const spec& s = {}) const {
    const auto g = detail::quantized_geometry(a, name);
    const auto lim = this->resolved(s);
    detail::check_mapping(g, m);
    const auto t = detail::tiled_widths_of(g);
    const auto x = detail::tiled_evaluate(device(), g, t, m, port_bits);
    hw_report r;
    r.model = std::string(name);
    r.device = std::string(D::name);
    r.clock_mhz = this->clock_mhz();
    r.shared_engine = true;
    r.engine = {{"Tm", m.tm}, {"Tn", m.tn}, {"Tr", m.tr}, {"Tc", m.tc}, {"dsp", m.dsp ? 1 : 0}};
    for (std::size_t l = 0; l < g.size(); ++l) {
      layer_report lr;
      lr.name = detail::layer_name(g[l], l);
      lr.parallelism = {{"Tm", std::min(m.tm, g[l].out_channels)},
                        {"Tn", std::min(m.tn, g[l].in_channels)},
                        {"Tr", std::min(m.tr, g[l].out_height)},
                        {"Tc", std::min(m.tc, g[l].out_width)}};
      lr.cycles = detail::tiled_layer_cycles(g[l], m.tm, m.tn, m.tr, m.tc, port_bits);
      r.layers.push_back(std::move(lr));
    }
    r.luts = x.res.luts;
    r.ffs = x.res.ffs;
    r.dsps = x.res.dsps;
    r.brams = detail::blocks(device(), x.brams);
    r.cycles = x.cycles;
    r.latency_cycles = x.cycles;
    r.assumptions = {
        {"arrays", "one static bitstream: one Tm x Tn engine runs every layer in turn, sized for the widest layer"},
        {"read ports", "three off-chip streams (inputs, weights, outputs) of " + std::to_string(Port::value) +
                           " bits per cycle each, double-buffered tiles"},
        {"multipliers", "LUTs or DSP units, chosen by the search"},
        {"latency", "layers one after another: the sum of their cycles (the interval)"}};
    detail::finish_report(r, device(), s, lim);
    return r;
  }

  /// The least-LUT tiling meeting `s` (ties: fewer cycles, then BRAMs), or nullopt when none exists.
  std::optional<mapping_type> best_mapping(const architecture& a, const spec& s = {}) const {
    return detail::tiled_search(device(), detail::quantized_geometry(a, name), this->resolved(s), port_bits,
                                false);
  }
  /// The fastest tiling within the resource limits of `s`, or nullopt.
  std::optional<mapping_type> fastest_mapping(const architecture& a, const spec& s = {}) const {
    return detail::tiled_search(device(), detail::quantized_geometry(a, name), this->resolved(s), port_bits,
                                true);
  }
  /// Brute-force twins (small architectures only).
  std::optional<mapping_type> best_mapping_ref(const architecture& a, const spec& s = {}) const {
    return detail::tiled_search_ref(device(), detail::quantized_geometry(a, name), this->resolved(s),
                                    port_bits, false);
  }
  std::optional<mapping_type> fastest_mapping_ref(const architecture& a, const spec& s = {}) const {
    return detail::tiled_search_ref(device(), detail::quantized_geometry(a, name), this->resolved(s),
                                    port_bits, true);
  }

  /// The least-LUT tiling meeting `s`; when none exists, the fastest within the resource limits (or the least-LUT
  /// one) with feasible == false and the violations.
  hw_report map(const architecture& a, const spec& s = {}) const {
    return this->map_in_steps(*this, a, s, {"tiling", "exact pruned enumeration", "exact enumeration"}, [&] {
      return detail::tiled_search(device(), detail::quantized_geometry(a, name), limits{}, port_bits, false);
    });
  }


};

static_assert(CostModel<tiled_engine<>>);

}  // namespace hwnas::fpga
