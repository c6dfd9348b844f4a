#pragma once
/// @file
/// What the hardware of an integer network under a pipelined_pe mapping is made of, before any Verilog is written:
/// per layer its array (Tn x Tm), its loop counts, the order in which it reads its weights, its accumulator width,
/// its line buffer (rows and read ports) and its memories. rtl/verilog.hpp writes the Verilog from this plan and
/// docs/hardware.md describes the circuit; tests compare the plan's figures with the cost model's.
///
/// Reduction order. A conv layer's N*K*K products of one output value are taken tap-major, channel-minor:
/// r = (kh*K + kw)*N + n, so that Tn <= N lanes read channels of one window position, and Tn > N lanes unroll the
/// window (ceil(Tn/N) + 1 pixels at most per pass). Pass p takes r in [p*Tn, p*Tn + Tn). The classifier's C*H*W
/// inputs are taken pixel-major the same way, r = (y*W + x)*C + c, in the order the pixels stream in.

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "hwnas/core/architecture.hpp"
#include "hwnas/core/error.hpp"
#include "hwnas/fpga/detail/common.hpp"
#include "hwnas/fpga/pipelined_pe.hpp"
#include "hwnas/nn/integer_network.hpp"

namespace hwnas::rtl {

/// Bits of an unsigned counter holding 0..max_value (at least 1).
constexpr int counter_bits(std::int64_t max_value) noexcept {
  int b = 1;
  while (b < 62 && (std::int64_t{1} << b) <= max_value) ++b;
  return b;
}

/// One compute layer's hardware (conv layers, then the classifier).
struct layer_plan {
  layer_geometry g;           ///< geometry and bit widths (fpga's view of the layer)
  int tn = 1, tm = 1;         ///< the array: Tn products of one output value x Tm output channels
  std::int64_t passes = 1;    ///< qn = ceil(N K^2 / Tn) cycles per tile of Tm outputs
  std::int64_t tiles = 1;     ///< qm = ceil(M / Tm) tiles per output pixel
  int acc_bits = 0;           ///< accumulator width: the cost model's, widened if the trained bias needs more
  int model_acc_bits = 0;     ///< the cost model's accumulator width (fpga::detail::accumulator_bits)
  int shift = 0;              ///< requantizer shift F_in + F_w - F_out (<= 0: shift left); unused by the classifier
  /// Conv: input rows the line buffer holds (a circular buffer of rows, one pixel of N channels per word).
  /// Classifier: input pixels its buffer holds.
  int buffer_rows = 0;
  int read_ports = 1;         ///< pixels read per cycle (copies of the buffer a synthesis tool makes)
  std::int64_t buffer_words = 0;   ///< depth of the line buffer
  std::int64_t buffer_width = 0;   ///< bits per word: one pixel, N a (conv) or C a (classifier)
  std::int64_t weight_words = 0;   ///< depth of the weight memory: qm qn words
  std::int64_t weight_width = 0;   ///< Tn Tm w bits per word
  int kh = 1, kw = 1;         ///< window (the classifier reads the whole H x W map as one window)
  int in_h = 1, in_w = 1;     ///< input map (the classifier: the last feature map)
  int channels = 1;           ///< channels of one input pixel (N; the classifier: C)
  int group = 0;              ///< the mapping's group: groups run one after another on the same stages
  int stage = 0;              ///< its position in its group: the stage (PE array) it runs on
};

/// A stage's PE array when it serves more than one layer (one per group that reaches it): the products and their
/// adder trees, sized for the largest Tn, Tm and bit widths of its layers, and one weight memory holding their
/// weights one after another. Each layer keeps its own control, buffers, accumulators and requantizers; the stage
/// gives its array to one layer at a time, for a whole frame, in group order (docs/hardware.md#groups).
struct stage_plan {
  std::vector<int> served;          ///< its layers, in group order
  int tn = 1, tm = 1;               ///< the array: the largest Tn and Tm of its layers
  int act_bits = 1, weight_bits = 1;///< the largest: narrower activations are zero-extended, weights sign-extended
  std::vector<std::int64_t> weight_base;  ///< per served layer: its first word in the weight memory
  std::int64_t weight_words = 0;    ///< the sum of its layers' qm qn
  std::int64_t weight_width = 0;    ///< Tn Tm w bits per word
  bool shared() const noexcept { return served.size() > 1; }
  /// Bits of a product (a + w, as in a layer's own array) and of a column's sum (one more per adder-tree level).
  int product_bits() const noexcept { return act_bits + weight_bits; }
  int sum_bits() const noexcept {
    int levels = 0;
    while ((1 << levels) < tn) ++levels;
    return product_bits() + levels;
  }
};

/// The map stored at a group boundary: the group's last layer writes its whole (pooled) output map, one pixel of M
/// channels per word, and the next group's first layer reads it in raster order (a first-in first-out buffer of
/// the whole map, so that a group can finish its frame before the next group has its stages).
struct boundary_plan {
  int after = 0;               ///< the layer that writes it (the last of its group)
  std::int64_t depth = 1;      ///< pixels: the whole pooled output map
  std::int64_t width = 1;      ///< bits per pixel: M out_bits
};

/// The plan of the whole design.
struct design_plan {
  std::vector<layer_plan> layers;  ///< conv layers, then the classifier
  std::vector<stage_plan> stages;  ///< per stage (S of them; S = layers with one group, every stage serving one)
  std::vector<boundary_plan> boundaries;  ///< one per group boundary
  int input_channels = 1, input_bits = 8;
  int classes = 2;
  int logit_bits = 0;  ///< the classifier's accumulator width: each logit is a signed number of this width
};

namespace detail {

/// Products per pass that lie in [0, extent): lanes past the reduction read a zero activation.
inline std::int64_t lanes_in_pass(std::int64_t pass, std::int64_t tn, std::int64_t extent) {
  return std::clamp<std::int64_t>(extent - pass * tn, 0, tn);
}

/// Bits of a signed accumulator that holds +-bound exactly.
inline int signed_bits_for(std::int64_t bound) {
  int b = 1;
  while (b < 63 && (std::int64_t{1} << (b - 1)) - 1 < bound) ++b;
  return b;
}

/// Distinct pixels (window taps) the passes of a layer read in one cycle, at most (fpga::detail::pe_read_ports).
inline int read_ports_of(std::int64_t tn, std::int64_t channels, std::int64_t extent) {
  return static_cast<int>(fpga::detail::pe_read_ports(tn, channels, extent));
}

}  // namespace detail

/// Default rows of a conv layer's circular line buffer (fpga::detail::pe_buffer_rows, which the cost model prices).
inline int default_buffer_rows(const layer_geometry& g) { return fpga::detail::pe_buffer_rows(g); }

/// Plans the hardware of `net` under `mapping` (one entry per compute layer; see fpga::pe_mapping).
/// Each layer runs at its stage's Tn and Tm clipped to its extents (fpga::detail::mapping_of, as the cost model
/// evaluates a mapping), on the fewest lanes with the same passes (lanes_used).
/// @throws hwnas::invalid_argument when the mapping does not fit the network (fpga::detail::check_mapping's
///         messages: groups consecutive, every group but the last as long as the first)
inline design_plan make_plan(const nn::integer_network& net, const fpga::pe_mapping& mapping) {
  const auto& arch = net.arch();
  const auto geo = geometry(arch);
  fpga::detail::check_mapping(geo, mapping);
  std::vector<int> groups;
  for (const auto& m : mapping.layers) groups.push_back(m.group);
  const auto part = fpga::detail::make_partition(groups);
  std::vector<std::int64_t> stage_tn, stage_tm;
  fpga::detail::stage_dims(part, mapping, stage_tn, stage_tm);
  const auto eff = fpga::detail::mapping_of(geo, part, stage_tn, stage_tm);
  design_plan plan;
  plan.input_channels = arch.input.channels;
  plan.input_bits = arch.effective_input_format().bits();
  plan.classes = arch.classes;
  const auto& layers = net.layers();
  for (std::size_t l = 0; l < geo.size(); ++l) {
    const auto& g = geo[l];
    const auto& L = layers[l];
    layer_plan p;
    p.g = g;
    // the least Tn (Tm) with the mapping's passes (tiles): what the cost model prices a layer's memories at
    const std::int64_t extent = fpga::detail::reduction_length(g);
    p.tn = static_cast<int>(fpga::detail::lanes_used(eff.layers[l].tn, extent));
    p.tm = static_cast<int>(fpga::detail::lanes_used(eff.layers[l].tm, g.out_channels));
    p.group = part.group[l];
    p.stage = part.stage[l];
    p.passes = fpga::ceil_div(extent, p.tn);
    p.tiles = fpga::ceil_div(g.out_channels, p.tm);
    p.model_acc_bits = fpga::detail::accumulator_bits(g);
    std::int64_t max_bias = 0;
    for (const auto b : L.bias) max_bias = std::max<std::int64_t>(max_bias, b < 0 ? -std::int64_t{b} : b);
    const std::int64_t max_product =
        std::int64_t{L.input_format.max_code()} * (g.weight_bits == 1 ? 1 : (std::int64_t{1} << (g.weight_bits - 1)));
    p.acc_bits = std::max(p.model_acc_bits, detail::signed_bits_for(extent * max_product + max_bias));
    if (!g.is_classifier)
      p.shift = L.input_format.frac_bits + L.weight_format.frac_bits - L.output_format.frac_bits;
    if (g.is_classifier) {
      const int h = arch.layers.empty() ? arch.input.height : geo[l - 1].pooled_height;
      const int w = arch.layers.empty() ? arch.input.width : geo[l - 1].pooled_width;
      p.in_h = h;
      p.in_w = w;
      p.kh = h;
      p.kw = w;
      p.channels = static_cast<int>(g.in_channels / (std::int64_t{h} * w));
      p.read_ports = detail::read_ports_of(p.tn, p.channels, extent);
      // pixels: the ones a pass reads, and two being written ahead
      p.buffer_rows = static_cast<int>(fpga::detail::pe_classifier_buffer_pixels(p.read_ports));
      p.buffer_words = p.buffer_rows;
    } else {
      p.in_h = g.in_height;
      p.in_w = g.in_width;
      p.kh = p.kw = g.kernel;
      p.channels = g.in_channels;
      p.read_ports = detail::read_ports_of(p.tn, p.channels, extent);
      p.buffer_rows = default_buffer_rows(g);
      p.buffer_words = std::int64_t{p.buffer_rows} * g.in_width;
    }
    p.buffer_width = std::int64_t{p.channels} * g.act_bits;
    p.weight_words = p.passes * p.tiles;
    p.weight_width = std::int64_t{p.tn} * p.tm * g.weight_bits;
    plan.layers.push_back(p);
  }
  plan.logit_bits = plan.layers.back().acc_bits;
  for (const auto& served : part.served) {
    stage_plan s;
    for (const auto l : served) {
      const auto& L = plan.layers[l];
      s.served.push_back(static_cast<int>(l));
      s.tn = std::max(s.tn, L.tn);
      s.tm = std::max(s.tm, L.tm);
      s.act_bits = std::max(s.act_bits, L.g.act_bits);
      s.weight_bits = std::max(s.weight_bits, L.g.weight_bits);
      s.weight_base.push_back(s.weight_words);
      s.weight_words += L.weight_words;
    }
    s.weight_width = std::int64_t{s.tn} * s.tm * s.weight_bits;
    plan.stages.push_back(std::move(s));
  }
  for (std::size_t k = 0; k + 1 < part.last.size(); ++k) {
    const auto& g = geo[part.last[k]];
    plan.boundaries.push_back({static_cast<int>(part.last[k]), std::int64_t{g.pooled_height} * g.pooled_width,
                               std::int64_t{g.out_channels} * g.out_bits});
  }
  return plan;
}

/// Registers between a layer's last pass and its output pixel at the next layer's input: the buffer and weight
/// reads, the products, the accumulator and the output register (docs/hardware.md#timing).
inline constexpr std::int64_t layer_registers = 4;

/// Cycles the hardware adds to the cost model's latency at most: per layer its passes of one output pixel
/// (qm qn: the model counts a layer's output at the arrival of its window) and its registers. The model's latency
/// plus this bounds the measured first-pixel-to-class latency of every design we simulate (tests/rtl).
inline std::int64_t pipeline_cycles(const design_plan& plan) {
  std::int64_t c = 0;
  for (const auto& L : plan.layers) c += L.passes * L.tiles + layer_registers;
  return c;
}

}  // namespace hwnas::rtl
