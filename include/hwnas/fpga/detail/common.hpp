#pragma once
/// @file
/// Internals shared by the cost models: the quantized geometry they need, layer names, candidate parallelism
/// factors, and Pareto-frontier filtering.

#include <algorithm>
#include <cstdint>
#include <map>
#include <numeric>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "hwnas/core/architecture.hpp"
#include "hwnas/core/error.hpp"
#include "hwnas/fpga/devices.hpp"
#include "hwnas/fpga/hw_report.hpp"
#include "hwnas/fpga/primitives.hpp"
#include "hwnas/fpga/spec.hpp"

namespace hwnas::fpga::detail {

/// geometry(a), after checking that every layer has fixed-point weights and input activations and every conv layer
/// fixed-point outputs: an FPGA datapath has a bit width. Throws hwnas::invalid_argument naming the layer.
inline std::vector<layer_geometry> quantized_geometry(const architecture& a, std::string_view model) {
  auto g = geometry(a);  // validates
  for (std::size_t i = 0; i < g.size(); ++i) {
    const auto& l = g[i];
    const std::string where = l.is_classifier ? std::string("the classifier") : "layer " + std::to_string(i);
    auto fail = [&](const std::string& what) {
      throw invalid_argument("hwnas::fpga::" + std::string(model) + ": " + where + " has " + what +
                             "; the FPGA cost models need a fully quantized architecture (give every layer "
                             "\"weights\" and \"activations\" formats and the classifier \"weights\", see "
                             "docs/architecture-json.md, or use hwnas::with_uniform_bits)");
    };
    if (l.weight_bits == 0) fail("float weights");
    if (l.act_bits == 0) fail("float input activations");
    if (!l.is_classifier && l.out_bits == 0) fail("float output activations");
  }
  return g;
}

/// "conv0", "conv1", ..., "fc".
inline std::string layer_name(const layer_geometry& g, std::size_t index) {
  return g.is_classifier ? std::string("fc") : "conv" + std::to_string(index);
}

/// Width of the accumulator of a layer: the products (a + w bits) summed over N*K*K terms plus the bias.
inline int accumulator_bits(const layer_geometry& g) {
  const std::int64_t terms = std::int64_t{g.in_channels} * g.kernel * g.kernel + 1;
  return g.act_bits + g.weight_bits + ceil_log2(terms);
}

/// Cycles a layer needs at least to read its input: one pixel (all its channels) per cycle through its read port,
/// the rate of the pixel stream into the first layer and of every layer's output (docs/cost-models.md#read-rate).
constexpr std::int64_t read_cycles(const layer_geometry& g) noexcept { return g.in_pixels; }

/// A layer's fill in a pipeline running at frame interval `interval` (cycles): it receives its input frame spread
/// over the interval, so it emits its first output after pixels_to_first_output / in_pixels of it (rounded up).
constexpr std::int64_t fill_cycles(const layer_geometry& g, std::int64_t interval) noexcept {
  return g.in_pixels > 0 ? ceil_div(interval * g.pixels_to_first_output, g.in_pixels) : 0;
}

/// The latency of layers [first, last] streaming one frame concurrently at `interval` cycles per frame: from the
/// first input pixel to the last layer's last output, the interval plus every layer's fill
/// (docs/cost-models.md#latency).
inline std::int64_t streaming_latency(const std::vector<layer_geometry>& g, std::size_t first, std::size_t last,
                                      std::int64_t interval) noexcept {
  std::int64_t t = interval;
  for (std::size_t l = first; l <= last; ++l) t += fill_cycles(g[l], interval);
  return t;
}

/// The largest frame interval whose streaming latency is within `latency_cap` cycles (latency rises with the
/// interval), or 0 when none is.
inline std::int64_t interval_for_latency(const std::vector<layer_geometry>& g, std::int64_t latency_cap) noexcept {
  if (latency_cap >= unlimited) return unlimited;
  std::int64_t lo = 0, hi = latency_cap;  // latency(T) >= T, so T <= cap
  while (lo < hi) {
    const std::int64_t mid = lo + (hi - lo + 1) / 2;
    if (streaming_latency(g, 0, g.size() - 1, mid) <= latency_cap)
      lo = mid;
    else
      hi = mid - 1;
  }
  return lo;
}

/// The reduction a layer's products sum per output value: N * K * K (the input channels and the window), the
/// extent Tn (pipelined_pe) and SIMD (dataflow) fold.
constexpr std::int64_t reduction_length(const layer_geometry& g) noexcept {
  return std::int64_t{g.in_channels} * g.kernel * g.kernel;
}

/// Channels of one input pixel of layer g: N for a conv layer, the classifier's C of its N = C H W.
constexpr std::int64_t pe_pixel_channels(const layer_geometry& g) noexcept {
  return g.is_classifier ? g.in_channels / std::max<std::int64_t>(g.in_pixels, 1) : g.in_channels;
}

/// A layer's input buffer, one pixel (all its channels) per word as the stream writes it. A conv layer keeps K-1
/// rows and K pixels (its line buffer); an array that unrolls the window (T > N, T being pipelined_pe's Tn or
/// dataflow's SIMD) reads ceil(T / N) pixels per cycle from as many copies. The classifier consumes its input as it
/// streams and keeps only the ceil(T / C) pixels one pass reads. In block RAM units (bram_units), or, with `lutram`
/// where it fits, in LUT RAM. Never more block RAM for a smaller T (the quotient-candidate argument needs it).
inline memory_cost line_buffer_memory(const device_info& d, const layer_geometry& g, std::int64_t t,
                                      bool lutram = false) noexcept {
  const std::int64_t per_pixel = pe_pixel_channels(g);
  const std::int64_t width = per_pixel * g.act_bits;
  if (g.is_classifier) return memory(d, ceil_div(t, per_pixel), width, lutram);
  const std::int64_t k = g.kernel, copies = ceil_div(t, per_pixel);
  const auto one = memory(d, (k - 1) * g.in_width + k, width, lutram);
  return {copies * one.bram_units, copies * one.luts};
}

/// Distinct pixels (window taps, or the classifier's input pixels) one pass of a pipelined_pe layer reads, at most,
/// over its passes: pass p takes products [p Tn, p Tn + Tn) of the `extent`, `channels` per pixel. This is the
/// number of read ports of the layer's input buffer in the generated RTL (rtl/plan.hpp), each a copy of the buffer
/// in block RAM. Not monotone in Tn (an aligned Tn = k N reads k pixels, Tn = k N - 1 may straddle k + 1).
inline std::int64_t pe_read_ports(std::int64_t tn, std::int64_t channels, std::int64_t extent) noexcept {
  std::int64_t best = 1;
  for (std::int64_t p = 0; p * tn < extent; ++p) {
    const std::int64_t lo = p * tn, hi = std::min(extent, lo + tn) - 1;
    best = std::max(best, hi / channels - lo / channels + 1);
  }
  return best;
}

/// Input pixels the classifier's buffer holds in the generated RTL: the ones a pass reads (its read ports) and two
/// being written ahead (rtl/plan.hpp). The buffer is always in logic (its few words of C a bits).
constexpr std::int64_t pe_classifier_buffer_pixels(std::int64_t read_ports) noexcept { return read_ports + 2; }

/// Distinct channel offsets (p Tn) mod `channels` the passes of a pipelined_pe layer start at, over its
/// ceil(extent / Tn) passes: the arms of each lane's selection in the generated RTL (rtl/verilog.hpp pass_offsets).
/// p Tn mod C repeats with period C / gcd(Tn, C) and is distinct within it, so this is min(passes, C / gcd).
inline std::int64_t pe_lane_offsets(std::int64_t tn, std::int64_t channels, std::int64_t extent) noexcept {
  if (tn <= 0 || channels <= 0 || extent <= 0) return 1;
  const std::int64_t passes = (extent + tn - 1) / tn;
  return std::min(passes, channels / std::gcd(tn, channels));
}

/// Rows of a conv layer's circular line buffer in the generated RTL: the K rows of a window and the `stride` rows
/// the next output row needs, or, when more, the rows the last window of a frame holds plus the rows the next
/// frame's first window needs (so that the next frame can stream in while the last output row is computed).
inline int pe_buffer_rows(const layer_geometry& g) noexcept {
  const int last_rows = g.in_height - std::max((g.out_height - 1) * g.stride - g.pad_top, 0);
  const int first_rows = std::min(g.kernel - g.pad_top, g.in_height);
  return std::max(g.kernel + g.stride, last_rows + first_rows);
}

/// The parallelism factors worth trying for an extent x: T = ceil(x / q) for q = 1..x, ascending and distinct
/// (about 2*sqrt(x) values). Any other T in 1..x takes as many passes ceil(x / T) as the next smaller candidate and
/// costs at least as much, so a search over these is as good as over 1..x.
inline std::vector<int> quotient_candidates(std::int64_t x) {
  // ceil(x / q) = floor((x - 1) / q) + 1: enumerate the distinct floor quotients of y = x - 1 block by block.
  std::vector<int> out{1};
  const std::int64_t y = x - 1;
  for (std::int64_t q = 1; q <= y; q = y / (y / q) + 1) out.push_back(static_cast<int>(y / q + 1));
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

/// A point of a Pareto frontier: minimise every key. Keys past the frontier's dimension are held at 0.
struct frontier_point {
  std::int64_t k[4] = {0, 0, 0, 0};
  std::int32_t a = -1, b = -1, c = -1;  ///< back-pointers (meaning depends on the frontier)
};

/// Keeps the points no other point dominates (<= in every key), one per distinct key vector, sorted
/// lexicographically by key. `dims` (2..4) is how many leading keys are in use (the others must be 0).
inline void pareto_filter(std::vector<frontier_point>& v, int dims) {
  std::sort(v.begin(), v.end(), [](const frontier_point& x, const frontier_point& y) {
    for (int i = 0; i < 4; ++i)
      if (x.k[i] != y.k[i]) return x.k[i] < y.k[i];
    return false;
  });
  std::size_t kept = 0;
  if (dims <= 2) {
    std::int64_t best = INT64_MAX;
    for (std::size_t i = 0; i < v.size(); ++i)
      if (v[i].k[1] < best) {
        best = v[i].k[1];
        v[kept++] = v[i];
      }
  } else if (dims == 3) {
    // staircase over k1 -> least k2 among kept points with that k1 or less; k2 strictly falls as k1 rises
    std::map<std::int64_t, std::int64_t> stair;
    for (std::size_t i = 0; i < v.size(); ++i) {
      const auto c = v[i].k[1], b = v[i].k[2];
      auto it = stair.upper_bound(c);
      if (it != stair.begin() && std::prev(it)->second <= b) continue;  // dominated
      v[kept++] = v[i];
      auto from = stair.lower_bound(c);
      auto to = from;
      while (to != stair.end() && to->second >= b) ++to;
      stair.erase(from, to);
      stair[c] = b;
    }
  } else {
    for (std::size_t i = 0; i < v.size(); ++i) {
      bool dominated = false;
      for (std::size_t j = 0; j < kept && !dominated; ++j)
        dominated = v[j].k[1] <= v[i].k[1] && v[j].k[2] <= v[i].k[2] && v[j].k[3] <= v[i].k[3];
      if (!dominated) v[kept++] = v[i];
    }
  }
  v.resize(kept);
}

/// What every cost-model policy shares: the device type, the clock (Clock::mhz, or a runtime frequency checked
/// to be in 1..2000 MHz) and the spec resolved against both. The models derive from it and inherit its
/// constructors.
template <class D, class Clock>
class model_base {
 public:
  /// At Clock::mhz.
  model_base() : mhz_(Clock::mhz) { check_clock_mhz(mhz_); }
  /// At a runtime clock (MHz, 1..2000), overriding Clock. Throws hwnas::invalid_argument otherwise.
  explicit model_base(double clock_mhz) : mhz_(clock_mhz) { check_clock_mhz(mhz_); }

  double clock_mhz() const noexcept { return mhz_; }
  static constexpr device_info device() noexcept { return info_of<D>(); }

 protected:
  /// The spec's limits in the device's units at this clock.
  auto resolved(const spec& s) const { return resolve(s, device(), mhz_); }

  /// How a model's map() names what it found in hw_report::note.
  struct map_words {
    const char* mapping;        ///< "mapping", "folding", "tiling"
    const char* method;         ///< the exact search, e.g. "exact search over S-stage pipelines"
    const char* proof;          ///< what proved infeasibility, e.g. "exact search"
    const char* smallest = "";  ///< appended to "fits the resource limits", e.g. ", even with Tn = Tm = 1"
  };

  /// The map() of every model, in three steps: the least-LUT mapping meeting `s` (reported infeasible, with the
  /// violation `device_fmax`, when the clock exceeds the device's fmax); when none exists, the fastest
  /// one within the resource limits; when even none fits those, least_lut_unlimited() (the least-LUT mapping with
  /// no limits at all). The last two are reported with feasible == false and the violations.
  template <class Model, class Unlimited>
  static hw_report map_in_steps(const Model& model, const architecture& a, const spec& s, const map_words& w,
                                Unlimited&& least_lut_unlimited) {
    auto report = [&](const auto& m, std::string note) {
      auto r = model.evaluate(a, m, s);
      r.note = std::move(note);
      return r;
    };
    const std::string mapping = w.mapping;
    if (model.clock_mhz() > model.device().fmax_mhz) {  // nothing is buildable; show what the rest of the spec gives
      if (auto m = model.best_mapping(a, s))
        return report(*m, "the clock exceeds the device's fmax (no " + mapping +
                              " is buildable); shown: the least-LUT " + mapping + " meeting the rest of the spec");
    } else if (auto m = model.best_mapping(a, s)) {
      return report(*m, "least-LUT " + mapping + " meeting the spec (" + w.method + ")");
    }
    if (auto m = model.fastest_mapping(a, s))
      return report(*m, "no " + mapping + " meets the spec (proved by the " + w.proof + "); shown: the fastest " +
                            mapping + " within the resource limits");
    return report(*least_lut_unlimited(), "no " + mapping + " fits the resource limits" + w.smallest +
                                              " (proved by the " + w.proof + "); shown: the least-LUT " + mapping);
  }

 private:
  double mhz_;
};

}  // namespace hwnas::fpga::detail

