#pragma once
/// @file
/// The pipelined processing-element model of Lu, Jiang et al. 2019 (code: NAQS), with its exact mapping search.
///
/// Layer l gets a Tn x Tm array of a x w LUT multipliers, Tm adder trees over Tn products (each level one bit wider),
/// Tm accumulators and Tm requantizers (+ Tm max-pool lanes when the layer pools). Tn folds the N*K*K products of
/// one output value (the input channels and the kernel window: Tn > N unrolls the window), Tm the M outputs:
///   cycles_l = max( ceil(M / Tm) * ceil(N*K*K / Tn) * R * C,  H * W )      (R x C outputs, H x W input pixels)
/// the second term being the input read at one pixel per cycle (the stream's rate, and every layer's output rate).
/// Layers are partitioned into consecutive groups. A group's layers stream concurrently (LUTs add, cycles = max);
/// groups time-share the fabric (LUTs = max over groups, cycles add). Block RAM holds every layer's weights (banked
/// Tn*Tm*w bits wide), its line buffer (one pixel per word; ceil(Tn/N) copies when the window unrolls), its pooling
/// row buffer, and the whole feature map at each group boundary (one pixel per word); it is not time-shared, so it
/// adds over layers. Multipliers are LUTs (as Lu'19): no DSPs.
/// fps = f_clk / sum_g max_{l in g} cycles_l; latency = sum_g (interval_g + the fills of g's layers), from a frame's
/// first input pixel to its class (docs/cost-models.md#latency).
///
/// The search (`best_mapping`) is a dynamic programme over layers that keeps, for every prefix ending at a group
/// boundary, the Pareto frontier of (LUTs, cycles, BRAMs) of its partial solutions; it returns the least-LUT
/// mapping meeting the spec or proves none exists, and equals the brute force (`best_mapping_ref`) on every small
/// instance we test. Derivation and exactness argument: docs/cost-models.md#pipelined-pe.

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

/// One layer's place in a pipelined_pe mapping.
struct pe_layer_mapping {
  int tn = 1;     ///< input channels processed in parallel, 1..N
  int tm = 1;     ///< output channels processed in parallel, 1..M
  int group = 0;  ///< consecutive group index: 0 for the first layer, then the same or one more than the previous
  friend bool operator==(const pe_layer_mapping&, const pe_layer_mapping&) = default;
};

/// A pipelined_pe mapping: one entry per compute layer (conv layers, then the classifier).
struct pe_mapping {
  std::vector<pe_layer_mapping> layers;
  friend bool operator==(const pe_mapping&, const pe_mapping&) = default;
};

namespace detail {

/// Resources and cycles of one layer mapped with (Tn, Tm).
struct pe_layer_cost {
  std::int64_t luts = 0, ffs = 0, brams = 0, cycles = 0;
};

/// The cost of layer `g` with a Tn x Tm array, Tn over the N*K*K products of an output value (the input channels
/// and the window), Tm over the M output channels (see the file comment; docs/cost-models.md#pipelined-pe).
inline pe_layer_cost pe_layer(const device_info& d, const layer_geometry& g, std::int64_t tn,
                              std::int64_t tm) noexcept {
  const int a = g.act_bits, w = g.weight_bits, ob = g.out_bits;
  const auto arr = pe_array(d.family, tn, tm, a, w, accumulator_bits(g), ob);
  const std::int64_t qn = ceil_div(reduction_length(g), tn), qm = ceil_div(g.out_channels, tm);
  pe_layer_cost c;
  c.luts = arr.luts;
  c.ffs = arr.ffs;
  if (g.pool == 2) {
    c.luts += tm * max_pool_luts(d.family, ob);
    c.ffs += tm * ob;
  }
  // compute, or read the input one pixel per cycle, whichever takes longer
  c.cycles = std::max(qm * qn * g.out_height * g.out_width, read_cycles(g));
  c.brams = bram_blocks(d.bram_shapes, qm * qn, tn * tm * w)  // weights, Tn*Tm per read
            + line_buffer_brams(d, g, tn);
  if (g.pool == 2) c.brams += bram_blocks(d.bram_shapes, std::int64_t{g.pooled_width} * qm, tm * ob);
  return c;
}

/// Block RAMs holding layer g's whole (pooled) output map when a group boundary follows it: one pixel (all M
/// channels) per word, the rate at which the next group's first layer reads it.
inline std::int64_t pe_boundary_brams(const device_info& d, const layer_geometry& g) noexcept {
  return bram_blocks(d.bram_shapes, std::int64_t{g.pooled_height} * g.pooled_width,
                     std::int64_t{g.out_channels} * g.out_bits);
}

struct pe_totals {
  std::int64_t luts = 0, ffs = 0, brams = 0, cycles = 0, latency = 0;
};

/// Totals of a full mapping: LUTs/FFs max over groups of the sum in the group, cycles sum over groups of the max
/// in the group, BRAMs sum over layers plus a feature map at each group boundary, latency the sum over groups of
/// each group's streaming latency (its interval plus its layers' fills). `costs[l]` is pe_layer of layer l.
inline pe_totals pe_combine(const device_info& d, const std::vector<layer_geometry>& g,
                            const std::vector<pe_layer_cost>& costs, const std::vector<int>& group) noexcept {
  pe_totals t;
  std::int64_t gl = 0, gf = 0, gc = 0;
  for (std::size_t l = 0; l < g.size(); ++l) {
    gl += costs[l].luts;
    gf += costs[l].ffs;
    gc = std::max(gc, costs[l].cycles);
    t.brams += costs[l].brams;
    const bool last_in_group = l + 1 == g.size() || group[l + 1] != group[l];
    if (last_in_group) {
      std::size_t first = l;
      while (first > 0 && group[first - 1] == group[l]) --first;
      t.luts = std::max(t.luts, gl);
      t.ffs = std::max(t.ffs, gf);
      t.cycles += gc;
      t.latency += streaming_latency(g, first, l, gc);
      gl = gf = gc = 0;
      if (l + 1 < g.size()) t.brams += pe_boundary_brams(d, g[l]);
    }
  }
  return t;
}

/// Throws hwnas::invalid_argument unless `m` is a valid mapping of `g`.
inline void check_mapping(const std::vector<layer_geometry>& g, const pe_mapping& m) {
  if (m.layers.size() != g.size())
    throw invalid_argument("pipelined_pe mapping: has " + std::to_string(m.layers.size()) +
                           " layers, the architecture has " + std::to_string(g.size()) +
                           " compute layers (conv layers + classifier)");
  for (std::size_t l = 0; l < g.size(); ++l) {
    const auto& x = m.layers[l];
    const std::string where = "pipelined_pe mapping: layer " + std::to_string(l) + ": ";
    if (x.tn < 1 || x.tn > reduction_length(g[l]))
      throw invalid_argument(where + "Tn = " + std::to_string(x.tn) + " must be in 1..N*K*K = " +
                             std::to_string(reduction_length(g[l])) + " (input channels times the window)");
    if (x.tm < 1 || x.tm > g[l].out_channels)
      throw invalid_argument(where + "Tm = " + std::to_string(x.tm) +
                             " must be in 1..M = " + std::to_string(g[l].out_channels));
    const int expected_lo = l == 0 ? 0 : m.layers[l - 1].group;
    const int expected_hi = l == 0 ? 0 : m.layers[l - 1].group + 1;
    if (x.group < expected_lo || x.group > expected_hi)
      throw invalid_argument(where + "group = " + std::to_string(x.group) +
                             ": groups are consecutive, numbered from 0 (each layer's group is the previous "
                             "layer's or one more)");
  }
}

struct pe_option {
  pe_layer_cost cost;
  int tn = 1, tm = 1;
};

/// Every (Tn, Tm) worth trying per layer: the quotient candidates of N and M (docs/cost-models.md#pipelined-pe).
inline std::vector<std::vector<pe_option>> pe_candidates(const device_info& d, const std::vector<layer_geometry>& g) {
  std::vector<std::vector<pe_option>> all(g.size());
  for (std::size_t l = 0; l < g.size(); ++l)
    for (int tn : quotient_candidates(reduction_length(g[l])))
      for (int tm : quotient_candidates(g[l].out_channels)) all[l].push_back({pe_layer(d, g[l], tn, tm), tn, tm});
  return all;
}

/// Ceilings of one DP run; with `relax_brams` the summed BRAMs are not constrained (a relaxation).
struct pe_caps {
  std::int64_t luts = unlimited, cycles = unlimited, brams = unlimited;
  std::int64_t latency = unlimited;  ///< when set, a fourth frontier dimension (summed group latencies)
  bool relax_brams = false;
};

/// The group DP over Pareto frontiers: least (LUTs, cycles, BRAMs) lexicographically -- or with `fastest` least
/// (cycles, LUTs, BRAMs) -- among mappings within `caps`; nullopt when none exists. Exact (docs).
inline std::optional<pe_mapping> pe_dp(const device_info& d, const std::vector<layer_geometry>& g,
                                       const std::vector<std::vector<pe_option>>& all, const pe_caps& caps,
                                       bool fastest) {
  const std::size_t n = g.size();
  const std::int64_t lcap = caps.luts, ccap = caps.cycles;
  const std::int64_t bcap = caps.relax_brams ? unlimited : caps.brams;
  const bool lat_live = caps.latency < unlimited;  // latency = sum over groups, a function of each group's max C

  // 1. Per-layer options within the caps (a single layer over a ceiling can be in no solution).
  std::vector<std::vector<pe_option>> opts(n);
  for (std::size_t l = 0; l < n; ++l) {
    for (const auto& o : all[l])
      if (o.cost.luts <= lcap && o.cost.cycles <= ccap && o.cost.brams <= caps.brams) opts[l].push_back(o);
    if (opts[l].empty()) return std::nullopt;
  }
  std::vector<std::int64_t> boundary(n, 0);
  for (std::size_t l = 0; l + 1 < n; ++l) boundary[l] = pe_boundary_brams(d, g[l]);

  // 2. BRAM is a frontier dimension only if it can bind at all.
  std::int64_t worst_brams = 0;
  for (std::size_t l = 0; l < n; ++l) {
    std::int64_t mx = 0;
    for (const auto& o : opts[l]) mx = std::max(mx, o.cost.brams);
    worst_brams += mx + boundary[l];
  }
  const bool three_d = worst_brams > bcap;
  const int group_dims = three_d ? 3 : 2, prefix_dims = lat_live ? 4 : group_dims;

  // 3. Per-layer frontiers (a = option index).
  std::vector<std::vector<frontier_point>> lay(n);
  for (std::size_t l = 0; l < n; ++l) {
    for (std::size_t i = 0; i < opts[l].size(); ++i) {
      const auto& c = opts[l][i].cost;
      frontier_point p;
      p.k[0] = c.luts;
      p.k[1] = c.cycles;
      p.k[2] = three_d ? c.brams : 0;
      p.a = static_cast<std::int32_t>(i);
      lay[l].push_back(p);
    }
    pareto_filter(lay[l], group_dims);
  }

  // 4. Lower bounds for the layers k..n-1: cycles >= the slowest layer's fastest option; BRAMs >= sum of least.
  std::vector<std::int64_t> lb_c(n + 1, 0), lb_b(n + 1, 0);
  for (std::size_t l = n; l-- > 0;) {
    std::int64_t min_c = INT64_MAX, min_b = INT64_MAX;
    for (const auto& p : lay[l]) {
      min_c = std::min(min_c, p.k[1]);
      min_b = std::min(min_b, p.k[2]);
    }
    lb_c[l] = std::max(lb_c[l + 1], min_c);
    lb_b[l] = lb_b[l + 1] + min_b;
  }

  // 5. The DP. F[k]: frontier of layers 0..k-1 ending at a group boundary (a = group start j, b = index in F[j],
  //    c = index in G[j][k-1-j]). G[j][t]: frontier of the group j..j+t (a = parent in G[j][t-1], b = index in
  //    lay[j+t]).
  std::vector<std::vector<frontier_point>> f(n + 1);
  f[0].push_back(frontier_point{});
  std::vector<std::vector<std::vector<frontier_point>>> groups(n);
  std::vector<frontier_point> cand, ext;
  for (std::size_t k = 1; k <= n; ++k) {
    const std::size_t last = k - 1;  // the layer that closes the group
    cand.clear();
    const std::int64_t bnd = three_d && k < n ? boundary[last] : 0;
    for (std::size_t j = 0; j < k; ++j) {
      if (f[j].empty()) continue;
      auto& gj = groups[j];
      // extend G[j] to end at `last`
      if (j == last) {
        gj.clear();
        std::vector<frontier_point> first;
        for (std::size_t i = 0; i < lay[last].size(); ++i) {
          frontier_point p = lay[last][i];
          p.a = -1;
          p.b = static_cast<std::int32_t>(i);
          first.push_back(p);
        }
        gj.push_back(std::move(first));
      } else {
        if (gj.size() != last - j) continue;  // this group start died earlier
        const auto& prev = gj.back();
        const auto& o = lay[last];
        ext.clear();
        if (!prev.empty()) {
          if (!three_d) {
            // (sum L, max C) of two 2-D staircases: for each threshold T, best of each with C <= T. Walk both by
            // rising C (the lists are by rising L, i.e. falling C).
            std::size_t ip = prev.size(), io = o.size();  // next element to take, from the back
            std::size_t cp = prev.size(), co = o.size();  // current (taken), prev.size() = none yet
            while (ip > 0 || io > 0) {
              const std::int64_t next_p = ip > 0 ? prev[ip - 1].k[1] : INT64_MAX;
              const std::int64_t next_o = io > 0 ? o[io - 1].k[1] : INT64_MAX;
              const std::int64_t t = std::min(next_p, next_o);
              if (next_p == t) cp = --ip;
              if (next_o == t) co = --io;
              if (cp < prev.size() && co < o.size()) {
                frontier_point p;
                p.k[0] = prev[cp].k[0] + o[co].k[0];
                p.k[1] = std::max(prev[cp].k[1], o[co].k[1]);
                p.a = static_cast<std::int32_t>(cp);
                p.b = static_cast<std::int32_t>(co);
                if (p.k[0] <= lcap) ext.push_back(p);
              }
            }
          } else {
            for (std::size_t x = 0; x < prev.size(); ++x)
              for (std::size_t y = 0; y < o.size(); ++y) {
                frontier_point p;
                p.k[0] = prev[x].k[0] + o[y].k[0];
                p.k[1] = std::max(prev[x].k[1], o[y].k[1]);
                p.k[2] = prev[x].k[2] + o[y].k[2];
                if (p.k[0] > lcap || p.k[2] > bcap) continue;
                p.a = static_cast<std::int32_t>(x);
                p.b = static_cast<std::int32_t>(y);
                ext.push_back(p);
              }
          }
          pareto_filter(ext, group_dims);
        }
        gj.push_back(ext);
      }
      const auto& gr = gj.back();
      if (gr.empty()) continue;
      const auto& fj = f[j];
      auto emit = [&](std::size_t fi, std::size_t gi) {
        frontier_point p;
        p.k[0] = std::max(fj[fi].k[0], gr[gi].k[0]);
        p.k[1] = fj[fi].k[1] + gr[gi].k[1];
        p.k[2] = fj[fi].k[2] + gr[gi].k[2] + bnd;
        if (p.k[1] + lb_c[k] > ccap || p.k[1] > ccap) return;
        if (three_d && p.k[2] + lb_b[k] > bcap) return;
        if (lat_live) {  // the rest's latency is at least its cycles
          p.k[3] = fj[fi].k[3] + streaming_latency(g, j, last, gr[gi].k[1]);
          if (p.k[3] + lb_c[k] > caps.latency) return;
        }
        p.a = static_cast<std::int32_t>(j);
        p.b = static_cast<std::int32_t>(fi);
        p.c = static_cast<std::int32_t>(gi);
        cand.push_back(p);
      };
      if (!three_d && !lat_live) {
        // (max L, sum C): pair each point with the best partner whose L is not larger (both lists rise in L and
        // fall in C, so that partner is the last one with L <= ours).
        std::size_t x = 0;
        for (std::size_t gi = 0; gi < gr.size(); ++gi) {
          while (x < fj.size() && fj[x].k[0] <= gr[gi].k[0]) ++x;
          if (x > 0) emit(x - 1, gi);
        }
        std::size_t y = 0;
        for (std::size_t fi = 0; fi < fj.size(); ++fi) {
          while (y < gr.size() && gr[y].k[0] <= fj[fi].k[0]) ++y;
          if (y > 0) emit(fi, y - 1);
        }
      } else {
        for (std::size_t fi = 0; fi < fj.size(); ++fi)
          for (std::size_t gi = 0; gi < gr.size(); ++gi) emit(fi, gi);
      }
    }
    pareto_filter(cand, prefix_dims);
    f[k] = cand;
  }
  if (f[n].empty()) return std::nullopt;

  // 6. Choose and reconstruct.
  std::size_t best = 0;
  if (fastest) {
    for (std::size_t i = 1; i < f[n].size(); ++i) {
      const auto& p = f[n][i];
      const auto& q = f[n][best];
      if (p.k[1] < q.k[1] || (p.k[1] == q.k[1] && (p.k[0] < q.k[0] || (p.k[0] == q.k[0] && p.k[2] < q.k[2])))) best = i;
    }
  }  // else: f[n] is sorted by (L, C, B, latency); the first point is the lexicographic least
  pe_mapping m;
  m.layers.resize(n);
  std::vector<std::size_t> starts;
  std::size_t k = n, idx = best;
  while (k > 0) {
    const auto& p = f[k][idx];
    const auto j = static_cast<std::size_t>(p.a);
    std::int32_t gi = p.c;
    for (std::size_t t = k; t-- > j;) {
      const auto& e = groups[j][t - j][static_cast<std::size_t>(gi)];
      const auto& o = opts[t][static_cast<std::size_t>(lay[t][static_cast<std::size_t>(e.b)].a)];
      m.layers[t].tn = o.tn;
      m.layers[t].tm = o.tm;
      gi = e.a;
    }
    starts.push_back(j);
    idx = static_cast<std::size_t>(p.b);
    k = j;
  }
  std::reverse(starts.begin(), starts.end());
  for (std::size_t s = 0; s < starts.size(); ++s) {
    const std::size_t end = s + 1 < starts.size() ? starts[s + 1] : n;
    for (std::size_t t = starts[s]; t < end; ++t) m.layers[t].group = static_cast<int>(s);
  }
  return m;
}

/// Least-LUT (or, with `fastest`, least-cycle) mapping within `lim`, exact; nullopt when none exists.
/// First the BRAM-relaxed problem (a 2-D frontier, fast): if its optimum fits the BRAM ceiling it is the optimum.
/// Otherwise the 3-D DP runs under a ceiling on the objective raised step by step from the relaxed optimum (a lower
/// bound); the first ceiling under which a solution exists holds the optimum, and tight ceilings keep the
/// frontiers small.
inline std::optional<pe_mapping> pe_search(const device_info& d, const std::vector<layer_geometry>& g,
                                           const limits& lim, bool fastest) {
  const auto all = pe_candidates(d, g);
  // latency >= interval, so a latency ceiling also caps the cycles; fastest_mapping ignores the rate/latency goals
  pe_caps caps{lim.luts, fastest ? unlimited : std::min(lim.cycles, lim.latency_cycles), lim.brams,
               fastest ? unlimited : lim.latency_cycles, true};
  auto relaxed = pe_dp(d, g, all, caps, fastest);
  if (!relaxed) return std::nullopt;
  auto totals_of = [&](const pe_mapping& m) {
    std::vector<pe_layer_cost> costs;
    std::vector<int> group;
    for (std::size_t l = 0; l < g.size(); ++l) {
      costs.push_back(pe_layer(d, g[l], m.layers[l].tn, m.layers[l].tm));
      group.push_back(m.layers[l].group);
    }
    return pe_combine(d, g, costs, group);
  };
  const auto t = totals_of(*relaxed);
  if (t.brams <= lim.brams) return relaxed;
  caps.relax_brams = false;
  if (!fastest) {
    for (std::int64_t u = t.luts;; u = std::min(lim.luts, u + u / 4 + 1)) {
      caps.luts = u;
      if (auto m = pe_dp(d, g, all, caps, false)) return m;
      if (u >= lim.luts) return std::nullopt;
    }
  }
  std::int64_t slowest = 0;  // no mapping takes more cycles than every layer alone at its slowest
  for (const auto& layer : all) {
    std::int64_t mx = 0;
    for (const auto& o : layer) mx = std::max(mx, o.cost.cycles);
    slowest += mx;
  }
  for (std::int64_t c = t.cycles;; c = std::min(slowest, c + c / 4 + 1)) {
    caps.cycles = c;
    if (auto m = pe_dp(d, g, all, caps, true)) return m;
    if (c >= slowest) return std::nullopt;
  }
}

/// Exhaustive twin of pe_search: every grouping and every Tn in 1..N*K*K, Tm in 1..M. For small instances only
/// (throws hwnas::invalid_argument when there are more than ~5e7 mappings).
inline std::optional<pe_mapping> pe_search_ref(const device_info& d, const std::vector<layer_geometry>& g,
                                               const limits& lim, bool fastest) {
  const std::size_t n = g.size();
  double count = static_cast<double>(std::int64_t{1} << (n - 1));
  for (const auto& l : g) count *= static_cast<double>(reduction_length(l)) * l.out_channels;
  if (count > 5e7)
    throw invalid_argument("pipelined_pe brute force: " + std::to_string(count) +
                           " mappings are too many; use it on small architectures only");
  std::vector<std::vector<pe_option>> all(n);
  for (std::size_t l = 0; l < n; ++l)
    for (int tn = 1; tn <= reduction_length(g[l]); ++tn)
      for (int tm = 1; tm <= g[l].out_channels; ++tm) all[l].push_back({pe_layer(d, g[l], tn, tm), tn, tm});
  std::optional<pe_mapping> best;
  pe_totals best_t;
  std::vector<int> group(n, 0);
  std::vector<std::size_t> pick(n, 0);
  std::vector<pe_layer_cost> costs(n);
  for (std::uint64_t cuts = 0; cuts < (std::uint64_t{1} << (n - 1)); ++cuts) {
    for (std::size_t l = 1; l < n; ++l) group[l] = group[l - 1] + static_cast<int>((cuts >> (l - 1)) & 1U);
    std::fill(pick.begin(), pick.end(), 0);
    while (true) {
      for (std::size_t l = 0; l < n; ++l) costs[l] = all[l][pick[l]].cost;
      const auto t = pe_combine(d, g, costs, group);
      const bool ok = t.luts <= lim.luts && t.brams <= lim.brams &&
                      (fastest || (t.cycles <= lim.cycles && t.latency <= lim.latency_cycles));
      if (ok) {
        const bool better =
            !best ||
            (fastest ? std::tie(t.cycles, t.luts, t.brams) < std::tie(best_t.cycles, best_t.luts, best_t.brams)
                     : std::tie(t.luts, t.cycles, t.brams) < std::tie(best_t.luts, best_t.cycles, best_t.brams));
        if (better) {
          best_t = t;
          pe_mapping m;
          for (std::size_t l = 0; l < n; ++l) m.layers.push_back({all[l][pick[l]].tn, all[l][pick[l]].tm, group[l]});
          best = std::move(m);
        }
      }
      std::size_t l = 0;
      while (l < n && ++pick[l] == all[l].size()) pick[l++] = 0;
      if (l == n) break;
    }
  }
  return best;
}

}  // namespace detail

/// The Lu'19 pipelined PE cost model as a policy.
/// @tparam D     must model: Device (cyclone_iv_ep4ce115, xc7z020, or your own)
/// @tparam Clock must model: ClockRate (clock_mhz<N>); a runtime clock can be given to the constructor instead
template <class D = cyclone_iv_ep4ce115, class Clock = default_clock>
class pipelined_pe : public detail::model_base<D, Clock> {
  static_assert(Device<D>,
                "hwnas::fpga::pipelined_pe<D, Clock>: D must model hwnas::fpga::Device (static constexpr "
                "name, family, luts, flip_flops, dsps, brams, bram_bits, bram_shapes, dsps_per_multiplier; "
                "see docs/cost-models.md#devices)");
  static_assert(ClockRate<Clock>,
                "hwnas::fpga::pipelined_pe<D, Clock>: Clock must be hwnas::fpga::clock_mhz<N> (or "
                "any type with static constexpr double mhz)");

 public:
  using device_type = D;
  using clock_type = Clock;
  using mapping_type = pe_mapping;
  static constexpr std::string_view name = "pipelined_pe";

  using detail::model_base<D, Clock>::model_base;  // () at Clock::mhz, or (double mhz) at run time
  using detail::model_base<D, Clock>::device;

  /// The report of one given mapping, judged against `s`.
  hw_report evaluate(const architecture& a, const mapping_type& m, const spec& s = {}) const {
    const auto g = detail::quantized_geometry(a, name);
    const auto lim = this->resolved(s);
    detail::check_mapping(g, m);
    std::vector<detail::pe_layer_cost> costs;
    std::vector<int> group;
    hw_report r;
    r.model = std::string(name);
    r.device = std::string(D::name);
    r.clock_mhz = this->clock_mhz();
    for (std::size_t l = 0; l < g.size(); ++l) {
      const auto& x = m.layers[l];
      costs.push_back(detail::pe_layer(device(), g[l], x.tn, x.tm));
      group.push_back(x.group);
      layer_report lr;
      lr.name = detail::layer_name(g[l], l);
      lr.parallelism = {{"Tn", x.tn}, {"Tm", x.tm}, {"group", x.group}};
      lr.luts = costs.back().luts;
      lr.ffs = costs.back().ffs;
      lr.brams = costs.back().brams;
      lr.cycles = costs.back().cycles;
      r.layers.push_back(std::move(lr));
    }
    const auto t = detail::pe_combine(device(), g, costs, group);
    r.luts = t.luts;
    r.ffs = t.ffs;
    r.brams = t.brams;
    r.dsps = 0;
    r.cycles = t.cycles;
    r.latency_cycles = t.latency;
    detail::finish_report(r, device(), s, lim);
    return r;
  }

  /// The least-LUT mapping meeting `s` (ties: fewer cycles, then fewer BRAMs), or nullopt when none exists.
  std::optional<mapping_type> best_mapping(const architecture& a, const spec& s = {}) const {
    return detail::pe_search(device(), detail::quantized_geometry(a, name), this->resolved(s), false);
  }
  /// The fastest mapping within the resource limits of `s` (its rate/latency goals ignored), or nullopt.
  std::optional<mapping_type> fastest_mapping(const architecture& a, const spec& s = {}) const {
    return detail::pe_search(device(), detail::quantized_geometry(a, name), this->resolved(s), true);
  }
  /// Brute-force twins of best_mapping / fastest_mapping (small architectures only).
  std::optional<mapping_type> best_mapping_ref(const architecture& a, const spec& s = {}) const {
    return detail::pe_search_ref(device(), detail::quantized_geometry(a, name), this->resolved(s), false);
  }
  std::optional<mapping_type> fastest_mapping_ref(const architecture& a, const spec& s = {}) const {
    return detail::pe_search_ref(device(), detail::quantized_geometry(a, name), this->resolved(s), true);
  }

  /// Maps `a` onto the device: the least-LUT mapping meeting `s`; when none exists, the fastest mapping within the
  /// resource limits (or, if even that does not exist, the least-LUT mapping) with feasible == false and the
  /// violated constraints.
  hw_report map(const architecture& a, const spec& s = {}) const {
    return this->map_in_steps(*this, a, s,
                              {"mapping", "exact group DP over Pareto frontiers", "exact search", ", even with Tn = Tm = 1"},
                              [&] { return detail::pe_search(device(), detail::quantized_geometry(a, name), limits{}, false); });
  }


};

static_assert(CostModel<pipelined_pe<>>);

}  // namespace hwnas::fpga
