#pragma once
/// @file
/// The pipelined processing-element model of Lu, Jiang et al. 2019 (code: NAQS), with its exact mapping search.
///
/// Layer l gets a Tn x Tm array of a x w LUT multipliers, Tm adder trees over Tn products (each level one bit wider),
/// Tm accumulators and Tm requantizers (+ Tm max-pool lanes when the layer pools). Tn folds the N*K*K products of
/// one output value (the input channels and the kernel window: Tn > N unrolls the window), Tm the M outputs:
///   cycles_l = max( ceil(M / Tm) * ceil(N*K*K / Tn) * R * C,  H * W )      (R x C outputs, H x W input pixels)
/// the second term being the input read at one pixel per cycle (the stream's rate, and every layer's output rate).
/// Layers are partitioned into consecutive groups that run one after another on one static bitstream; a group's
/// layers stream concurrently. The t-th layer of every group runs on stage t, one physical PE array sized for the
/// largest Tn, Tm and bit widths of the layers it serves, plus the multiplexers reuse costs (one group: every layer
/// has its own array). LUTs add over stages; cycles = sum over groups of the slowest layer in the group. Block RAM
/// holds every layer's weights (banked Tn*Tm*w bits wide), its line buffer (one pixel per word; ceil(Tn/N) copies
/// when the window unrolls), its pooling row buffer, and the whole feature map at each group boundary (one pixel
/// per word). Multipliers are LUTs (as Lu'19): no DSPs. (NAQS counted LUTs as the largest group's, which only
/// reconfiguring the fabric between groups could achieve; docs/cost-models.md#static-groups. That accounting is an
/// explicit option, `reconfigure_groups(batch)`, which charges the configurations: #reconfigured-groups.)
/// fps = f_clk / sum_g max_{l in g} cycles_l; latency = sum_g (interval_g + the fills of g's layers), from a frame's
/// first input pixel to its class (docs/cost-models.md#latency).
///
/// The search (`best_mapping`) tries every grouping and, for each, a branch and bound over its stages' (Tn, Tm)
/// with exact lower bounds; it returns the least-LUT mapping meeting the spec or proves none exists, and equals
/// the brute force (`best_mapping_ref`) on every small instance we test. Derivation and exactness argument:
/// docs/cost-models.md#pipelined-pe.

#include <algorithm>
#include <cmath>
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
  int tn = 1;     ///< products of one output in parallel, 1..N*K*K (input channels, then the window)
  int tm = 1;     ///< output channels processed in parallel, 1..M
  int group = 0;  ///< consecutive group index: 0 for the first layer, then the same or one more than the previous
  // The layer runs on stage (its position in its group), whose array is the largest (Tn, Tm) of the layers the
  // stage serves; evaluate() reports each layer at that array, clipped to its extents.
  friend bool operator==(const pe_layer_mapping&, const pe_layer_mapping&) = default;
};

/// A pipelined_pe mapping: one entry per compute layer (conv layers, then the classifier).
struct pe_mapping {
  std::vector<pe_layer_mapping> layers;
  friend bool operator==(const pe_mapping&, const pe_mapping&) = default;
};

namespace detail {

namespace detail_shell {
// Coefficients of pe_layer_shell (x100 where fractional). LUTs: least squares over the 24 layers of the 7 designs of
// docs/fidelity.md priced on LUT4 parts (rows 13-17, 19, 21), the memories, the classifier's buffer and the lane
// selection priced on their own (tools/fit-layer-shell); held out one design at a time, whole designs: median 5 %,
// largest 20 %. Flip-flops: only the control's registers are left to a constant, every datapath register being
// counted as the RTL declares it (products, accumulators, output registers, read ports, memories); the constants are
// the median control registers of the conv layers and classifiers of the 2026-12-02 designs (docs/fidelity.md#flip-
// flops-as-declared), synth_xilinx and synth_ice40: conv layers 73-119 (1x1 kernels fewest), classifiers about 72.
inline constexpr std::int64_t conv_luts = 376;
inline constexpr std::int64_t conv_ffs = 96;
inline constexpr std::int64_t fc_luts_per_logit_bit_x100 = 153, fc_luts = 8;
inline constexpr std::int64_t fc_ffs = 72;
inline constexpr std::int64_t lut6_per_lut4_x100 = 75;
}  // namespace detail_shell

/// The logic of a layer around its PE array, in the hardware rtl::generate_verilog builds (docs/hardware.md): the
/// issue control (output position, pass and tile counters, the window-in-buffer test, the line buffer's row
/// bookkeeping), the read-port register, the pipeline's valid/index registers, the output pixel's logic, and the
/// classifier's M accumulators, logits and running argmax (its LUTs rise with M acc). Its flip-flops are the
/// control's alone: the registers that depend on the mapping are counted as the RTL declares them (pe_output_ffs,
/// pe_port_ffs, pe_accumulator_ffs).
/// Fitted on yosys 0.23 synth_ice40 per-layer synthesis of the layers of designs found by hwnas-codesign
/// (tools/fidelity-runs; docs/fidelity.md#the-layer-shell), held-out rows checked; LUT4 figures (SB_LUT4 plus the
/// SB_CARRY cells no LUT shares a cell with). For LUT6 families the LUTs are scaled by the LUT6/LUT4 ratio measured
/// on the same designs (synth_xilinx against synth_ice40). The shell does not depend on (Tn, Tm).
struct pe_shell_cost {
  std::int64_t luts = 0, ffs = 0;
};

inline pe_shell_cost pe_layer_shell(lut_family family, const layer_geometry& g) noexcept {
  pe_shell_cost c;
  const std::int64_t M = g.out_channels;
  if (g.is_classifier) {
    const std::int64_t logits = M * accumulator_bits(g);  // bits of the M accumulators, and of the logits register
    c.ffs = detail_shell::fc_ffs;
    c.luts = detail_shell::fc_luts_per_logit_bit_x100 * logits / 100 + detail_shell::fc_luts;
  } else {
    c.ffs = detail_shell::conv_ffs;
    c.luts = detail_shell::conv_luts;
  }
  if (family == lut_family::lut6) c.luts = c.luts * detail_shell::lut6_per_lut4_x100 / 100;
  c.luts = std::max<std::int64_t>(c.luts, 0);
  c.ffs = std::max<std::int64_t>(c.ffs, 0);
  return c;
}


/// Resources and cycles of one layer mapped with (Tn, Tm).
struct pe_layer_cost {
  std::int64_t luts = 0, ffs = 0, brams = 0, cycles = 0;  ///< brams in block RAM units (bram_units)
  /// Of luts and ffs: the memories kept in logic (place_memory), which a stage's array cost (pe_stage) leaves out.
  std::int64_t memory_luts = 0, memory_ffs = 0;
  /// Of luts: the lane selection (pe_lane_select_luts), the layer's own too (a stage's layers pick differently).
  std::int64_t select_luts = 0;
  /// The LUTs of the layer outside its stage's array: memories in logic and lane selection.
  constexpr std::int64_t own_luts() const noexcept { return memory_luts + select_luts; }
  /// For the interval of a mapping with several groups (pe_grouped_interval): the cycles of the layer's passes per
  /// frame (qm qn R C; the classifier qm qn), the passes left after its last input pixel arrives at most (every
  /// output whose window reaches the last input row; the classifier's passes that read its last pixel), and the
  /// input pixels its buffer holds ahead.
  std::int64_t compute = 0, tail = 0, buffer_pixels = 0;
  /// Of brams and memory_luts: the weight memory, which a shared stage holds for all its layers instead.
  std::int64_t weight_brams = 0, weight_luts = 0;
};

/// The largest quotient candidate of `extent` (a value ceil(extent / q)) that is <= min(x, extent): the part of a
/// stage's Tn (or Tm) a layer with that extent uses. It takes as many passes as min(x, extent) would, on fewer lanes.
constexpr std::int64_t lanes_used(std::int64_t x, std::int64_t extent) noexcept {
  x = std::min(x, extent);
  return ceil_div(extent, ceil_div(extent, x));
}

/// Flip-flops of a conv layer's read ports at Tn: each port's window row, column and in-window flag (2 ceil(log2 K) +
/// 1 bits) are registered with the pass, unless every pass reads the same taps (one pass per output, or a 1x1
/// kernel), when they are constants synthesis removes (measured with synth_xilinx and synth_ice40: 7 per port at K 7,
/// 5 at K 3, none with one pass). The ports: pe_read_ports at the least Tn with the layer's passes. 0 for the
/// classifier.
inline std::int64_t pe_port_ffs(const layer_geometry& g, std::int64_t tn) noexcept {
  if (g.is_classifier || g.kernel <= 1) return 0;
  const std::int64_t extent = reduction_length(g), qn = ceil_div(extent, tn);
  if (qn <= 1) return 0;
  const std::int64_t ports = pe_read_ports(ceil_div(extent, qn), pe_pixel_channels(g), extent);
  return ports * (2 * ceil_log2(g.kernel) + 1);
}

/// Flip-flops of a conv layer's Tm accumulators (c<m>_acc, accumulator_ffs each; Tm = lanes_used(tm, M)); the
/// classifier's are its output registers (pe_output_ffs).
inline std::int64_t pe_accumulator_ffs(const layer_geometry& g, std::int64_t tm) noexcept {
  return g.is_classifier ? 0 : lanes_used(tm, g.out_channels) * accumulator_ffs(accumulator_bits(g));
}

/// Flip-flops of a layer's output registers at Tm, as the RTL declares them. A conv layer (rtl::conv_module): out_data
/// (M out bits), the tiles waiting for the last (asm_r, (qm - 1) Tm out bits), and with 2x2 pooling the even column's
/// tiles (hreg, qm Tm out bits) and the pool's row read register (pr3, Tm out bits) when the row buffer is kept in
/// logic (in block RAM the block's output latch holds it). The classifier (rtl::classifier_module): its accumulators
/// (accs, qm Tm acc bits: it reads its input once, in order, so it keeps every class's), the finished tile (fin, Tm
/// acc), the logits (M acc), the running argmax's value and index (acc + ceil(log2 M)) and the class (ceil(log2 M)).
/// qm = ceil(M / Tm), Tm = lanes_used(tm, M).
inline std::int64_t pe_output_ffs(const layer_geometry& g, std::int64_t tm) noexcept {
  const std::int64_t M = g.out_channels;
  tm = lanes_used(tm, M);
  const std::int64_t qm = ceil_div(M, tm);
  if (g.is_classifier) {
    const std::int64_t acc = accumulator_bits(g), cb = std::max(1, ceil_log2(M));
    return (qm * tm + tm + M + 1) * acc + 2 * cb;
  }
  std::int64_t codes = M + (qm - 1) * tm;
  if (g.pool == 2)
    codes += qm * tm + (memory_in_logic(std::max<std::int64_t>(std::int64_t{g.pooled_width} * qm, 1), false) ? tm : 0);
  return codes * g.out_bits;
}

/// The memories of layer `g` at (Tn, Tm) as the generated RTL declares them (rtl/verilog.hpp), each placed by
/// place_memory: the weight ROM (qm qn words of Tn Tm w bits), the input buffer (a conv layer's line buffer of
/// pe_buffer_rows rows of W pixels, one copy per read port; the classifier's pe_classifier_buffer_pixels pixels of
/// C a bits, always in logic: its flip-flops, a read multiplexer and a read register per port), and the pool's row of
/// pairs' maxima (W/2 qm words of Tm out bits). Read ports are counted at the least Tn with the same passes
/// (lanes_used), the Tn the exporter builds for any Tn of that class.
inline placed_memory pe_layer_memories(const device_info& d, const layer_geometry& g, std::int64_t tn,
                                       std::int64_t tm) {
  const std::int64_t extent = reduction_length(g);
  const std::int64_t qn = ceil_div(extent, tn), qm = ceil_div(g.out_channels, tm);
  placed_memory t;
  auto add = [&](const placed_memory& m) {
    t.bram_units += m.bram_units;
    t.luts += m.luts;
    t.ffs += m.ffs;
  };
  add(place_memory(d, qm * qn, tn * tm * g.weight_bits, true));
  const std::int64_t channels = pe_pixel_channels(g), width = channels * g.act_bits;
  const std::int64_t ports = pe_read_ports(ceil_div(extent, qn), channels, extent);
  if (!g.is_classifier) {
    add(place_memory(d, std::int64_t{pe_buffer_rows(g)} * g.in_width, width, false, ports));
  } else {
    const std::int64_t pixels = pe_classifier_buffer_pixels(ports);
    add({0, ports * width * mux_bit_luts(d.family, pixels), (pixels + ports) * width});
  }
  if (g.pool == 2) add(place_memory(d, std::max<std::int64_t>(std::int64_t{g.pooled_width} * qm, 1), tm * g.out_bits, false));
  return t;
}

/// LUTs of layer `g`'s lane selection at Tn (the least Tn with its passes, lanes_used): each of Tn lanes picks its
/// a-bit activation among the pe_lane_offsets channel offsets of the passes (lane_select_bit_luts per bit, masked by
/// the ports' padding in a conv layer); none when every pass starts at the same channel (Tn a multiple of the
/// pixel's channels, or one pass).
inline std::int64_t pe_lane_select_luts(const device_info& d, const layer_geometry& g, std::int64_t tn) noexcept {
  const std::int64_t extent = reduction_length(g);
  const std::int64_t used = lanes_used(tn, extent);
  return used * g.act_bits *
         lane_select_bit_luts(d.family, pe_lane_offsets(used, pe_pixel_channels(g), extent), !g.is_classifier);
}

/// The cost of layer `g` with a Tn x Tm array, Tn over the N*K*K products of an output value (the input channels
/// and the window), Tm over the M output channels (see the file comment; docs/cost-models.md#pipelined-pe).
inline pe_layer_cost pe_layer(const device_info& d, const layer_geometry& g, std::int64_t tn,
                              std::int64_t tm) {
  const int a = g.act_bits, w = g.weight_bits, ob = g.out_bits;
  const auto arr = pe_array(d.family, tn, tm, a, w, accumulator_bits(g), ob);
  const std::int64_t qn = ceil_div(reduction_length(g), tn), qm = ceil_div(g.out_channels, tm);
  const auto shell = pe_layer_shell(d.family, g);
  const auto mem = pe_layer_memories(d, g, tn, tm);
  const auto weights = place_memory(d, qm * qn, tn * tm * g.weight_bits, true);  // the first of mem's
  pe_layer_cost c;
  c.weight_brams = weights.bram_units;
  c.weight_luts = weights.luts;
  c.memory_luts = mem.luts;
  c.memory_ffs = mem.ffs;
  c.select_luts = pe_lane_select_luts(d, g, tn);
  c.luts = arr.luts + shell.luts + mem.luts + c.select_luts;
  // the products' and accumulators' registers (no registered requantizer output: the pixel registers follow)
  c.ffs = product_register_ffs(d.family, tn, tm, a, w) + pe_accumulator_ffs(g, tm) + pe_output_ffs(g, tm) +
          pe_port_ffs(g, tn) + shell.ffs + mem.ffs;
  if (g.pool == 2) c.luts += tm * max_pool_luts(d.family, ob);
  // compute, or read the input one pixel per cycle, whichever takes longer
  c.compute = qm * qn * (g.is_classifier ? 1 : std::int64_t{g.out_height} * g.out_width);
  c.cycles = std::max(c.compute, read_cycles(g));
  c.brams = mem.bram_units;
  if (g.is_classifier) {
    const std::int64_t channels = pe_pixel_channels(g), extent = reduction_length(g);
    const std::int64_t first = std::min(qn - 1, (extent - channels) / ceil_div(extent, qn));  // first pass reading it
    c.tail = (qn - first) * qm;
    c.buffer_pixels = pe_classifier_buffer_pixels(pe_read_ports(ceil_div(extent, qn), channels, extent));
  } else {
    std::int64_t rows = 0;  // output rows whose window reaches the last input row
    for (std::int64_t oy = 0; oy < g.out_height; ++oy)
      rows += std::min<std::int64_t>(oy * g.stride - g.pad_top + g.kernel - 1, g.in_height - 1) == g.in_height - 1;
    c.tail = rows * g.out_width * qm * qn;
    c.buffer_pixels = std::int64_t{pe_buffer_rows(g)} * g.in_width;
  }
  return c;
}

/// Cycles the exported hardware spends between layers beyond their passes: a layer's pipeline registers (the
/// reads, the products, the accumulator, the output register; rtl::layer_registers) and a shared stage's handoff
/// from one group's layer to the next (the last pass leaving the array, the owner changing, the first issue).
inline constexpr std::int64_t pe_layer_pipeline_cycles = 4;
inline constexpr std::int64_t pe_handoff_cycles = 3;
/// The margin (percent) pe_grouped_interval adds to its max-plus estimate so that the figure bounds the hardware's
/// interval: the largest excess measured over 120 random grouped designs was 2.8 % (docs/cost-models.md).
inline constexpr std::int64_t pe_grouped_margin_pct = 4;


/// The FIFO at a group boundary after layer g (rtl::boundary_module): its whole (pooled) output map, one pixel (all
/// M channels, W = M out bits) per word, P = pooled H x W words, the rate at which the next group's first layer
/// reads it. In block RAM (units) when P > logic_ram_max_depth, with the bypass yosys adds where the block cannot
/// return the old word (bram_bypass_ffs, and a W-bit 2:1 multiplexer choosing the bypassed word); in logic
/// otherwise (place_memory). Its control: write and read pointers (ceil(log2 P) bits each), the word count
/// (ceil(log2 (P + 1))) and the output flag; about 6 LUT4s per pointer bit and 6 more (increment, wrap, full and
/// empty tests). Fitted on synth_ice40 of the two FIFOs of a three-group reference CNN (196 x 64 and 49 x 128
/// words: 118 and 170 LUT4s, 163 and 283 flip-flops; the model gives the same); LUT6 at lut6_per_lut4_x100.
inline placed_memory pe_boundary(const device_info& d, const layer_geometry& g) noexcept {
  const std::int64_t P = std::int64_t{g.pooled_height} * g.pooled_width, W = std::int64_t{g.out_channels} * g.out_bits;
  std::int64_t aw = 1, nw = 1;
  while ((std::int64_t{1} << aw) < P) ++aw;
  while ((std::int64_t{1} << nw) < P + 1) ++nw;
  placed_memory c;
  if (memory_in_logic(P, false)) {
    c = place_memory(d, P, W, false);
  } else {
    c.bram_units = bram_units(d, P, W);
    if (!d.bram_reads_old_data) {
      c.ffs = bram_bypass_ffs(P, W, 1);
      c.luts = W;
    }
  }
  std::int64_t control = 6 * aw + 6;
  if (d.family == lut_family::lut6) control = control * detail_shell::lut6_per_lut4_x100 / 100;
  c.luts += control;
  c.ffs += 2 * aw + nw + 1;
  return c;
}


/// A layer on a shared stage: its cost without its weight memory, which the stage holds (pe_stage_weights).
inline void without_weights(pe_layer_cost& c) noexcept {
  c.brams -= c.weight_brams;
  c.luts -= c.weight_luts;
  c.memory_luts -= c.weight_luts;
  c.weight_brams = c.weight_luts = 0;
}

/// The groups of a mapping: which layers run together, and the stage (position in its group) of every layer. The
/// t-th layer of every group runs on stage t, one physical PE array (docs/cost-models.md#static-groups).
struct pe_partition {
  std::vector<int> group;                        ///< per layer
  std::vector<int> stage;                        ///< per layer: its position in its group
  std::vector<std::vector<std::size_t>> served;  ///< per stage: the layers it runs, one per group that reaches it
  std::vector<std::size_t> first, last;          ///< per group: its first and last layer
};

inline pe_partition make_partition(const std::vector<int>& group) {
  pe_partition p;
  p.group = group;
  p.stage.resize(group.size());
  for (std::size_t l = 0; l < group.size(); ++l) {
    if (l == 0 || group[l] != group[l - 1]) {
      p.first.push_back(l);
      p.last.push_back(l);
    }
    p.last.back() = l;
    p.stage[l] = static_cast<int>(l - p.first.back());
    if (p.served.size() <= static_cast<std::size_t>(p.stage[l])) p.served.emplace_back();
    p.served[static_cast<std::size_t>(p.stage[l])].push_back(l);
  }
  return p;
}

/// The FIFOs at every group boundary of partition p, added up (pe_boundary).
inline placed_memory pe_boundaries(const device_info& d, const std::vector<layer_geometry>& g, const pe_partition& p) {
  placed_memory sum;
  for (std::size_t k = 0; k + 1 < p.first.size(); ++k) {
    const auto b = pe_boundary(d, g[p.last[k]]);
    sum.bram_units += b.bram_units;
    sum.luts += b.luts;
    sum.ffs += b.ffs;
  }
  return sum;
}

namespace detail_grouped {
inline constexpr std::int64_t none = INT64_MIN / 4;

/// What a layer's stage holds it for: its passes, or the input it still reads beyond its buffer's prefetch.
inline std::int64_t job(const layer_geometry& g, const pe_layer_cost& c) noexcept {
  return std::max(c.compute, read_cycles(g) - c.buffer_pixels);
}

/// One frame through the max-plus system of pe_grouped_interval: the finish of every layer (none when nothing
/// reaches it), given when each stage's first layer of the frame may start (`start`, none: not before its data
/// and the layers before it on the stage) and, with `pace` > 0, the frame's input pixels arriving spread over
/// `pace` cycles from time 0 (the first layer's window and last pixel; without it the input is there).
inline std::vector<std::int64_t> frame(const std::vector<layer_geometry>& g, const pe_partition& p,
                                       const std::vector<pe_layer_cost>& c, const std::vector<std::int64_t>& start,
                                       std::int64_t pace) {
  const std::size_t n = g.size();
  const std::int64_t reg = pe_layer_pipeline_cycles, hand = pe_handoff_cycles;
  std::vector<std::int64_t> S(n, none), A(n, none), X(n, none), F(n, none);
  for (std::size_t l = 0; l < n; ++l) {
    const auto t = static_cast<std::size_t>(p.stage[l]);
    if (p.served[t].front() == l) S[l] = start[t];
    for (std::size_t k = l; k-- > 0;)  // the layer before it on its stage hands the stage over
      if (p.stage[k] == p.stage[l]) {
        if (F[k] > none) S[l] = std::max(S[l], F[k] + hand);
        break;
      }
    if (l == 0) {
      if (pace > 0) A[0] = ceil_div(g[0].pixels_to_first_output * pace, std::max<std::int64_t>(read_cycles(g[0]), 1));
    } else if (X[l - 1] > none) {
      const auto& prod = g[l - 1];
      const std::int64_t pixels = std::max<std::int64_t>(std::int64_t{prod.pooled_height} * prod.pooled_width, 1);
      A[l] = X[l - 1] + ceil_div(g[l].pixels_to_first_output * job(g[l - 1], c[l - 1]), pixels) + reg;
    }
    X[l] = std::max(S[l], A[l]);
    if (X[l] > none) F[l] = X[l] + job(g[l], c[l]) + reg;
    if (l == 0 && pace > 0) F[0] = std::max(F[0], pace + c[0].tail + reg);
    if (l > 0 && F[l - 1] > none)
      F[l] = std::max(F[l], F[l - 1] + c[l].tail + reg + (p.group[l] != p.group[l - 1] ? 1 : 0));
  }
  return F;
}
}  // namespace detail_grouped

/// The frame interval of a mapping with several groups on shared stages, as the exported hardware runs it: each
/// stage serves its layers one after another, one frame each, while the groups' data flow through them, so the
/// interval is the largest mean cycle of a max-plus system (docs/cost-models.md#grouped-interval). Per layer l of a
/// frame: it starts (S) when its stage is handed over, its input window is there (A) when its producer (the layer
/// before it; for a group's first layer the last layer of the previous group, through the boundary map) has emitted
/// the pixels its first output needs at the producer's mean rate, it computes from max(S, A) for its job (its
/// passes, or the input it still has to read beyond its buffer's prefetch, whichever is longer) and it finishes (F)
/// no earlier than its producer's finish plus its tail. A stage's last layer of a frame hands the stage to its first
/// layer of the next. The interval is the largest cycle mean over the stages (Karp's algorithm on the stage graph
/// whose edge t -> u is the longest path of one frame from the start of t's first layer to the finish of u's last),
/// and at least every layer's input read (one pixel per cycle). The mean rates make the cycle mean an estimate,
/// not a bound (a producer emits its pixels unevenly): the figure returned is the estimate plus
/// pe_grouped_margin_pct, which makes it an upper bound on every design measured.
/// Checked against Verilator on random grouped designs (tests/rtl/test_verilog.cpp; 120 designs, 1..4 layers on
/// 1..3 stages): the measured interval lies from 27 % below the estimate to 2.8 % above it, so from about 30 % below
/// the figure returned to 1 % below it (docs/cost-models.md#grouped-interval).
inline std::int64_t pe_grouped_interval(const std::vector<layer_geometry>& g, const pe_partition& p,
                                        const std::vector<pe_layer_cost>& c) {
  using detail_grouped::none;
  const std::int64_t hand = pe_handoff_cycles;
  std::int64_t reads = 0;
  for (std::size_t l = 0; l < g.size(); ++l) reads = std::max(reads, read_cycles(g[l]));
  auto longest = [&](std::size_t from) {
    std::vector<std::int64_t> start(p.served.size(), none);
    start[static_cast<std::size_t>(p.stage[from])] = 0;
    return detail_grouped::frame(g, p, c, start, 0);
  };
  const std::size_t stages = p.served.size();
  std::vector<std::vector<std::int64_t>> w(stages, std::vector<std::int64_t>(stages, none));
  for (std::size_t t = 0; t < stages; ++t) {
    const auto F = longest(p.served[t].front());
    for (std::size_t u = 0; u < stages; ++u)
      if (F[p.served[u].back()] > none) w[t][u] = F[p.served[u].back()] + hand;
  }
  // Karp: the largest mean weight of a cycle, from walks of exactly k edges
  std::vector<std::vector<std::int64_t>> D(stages + 1, std::vector<std::int64_t>(stages, none));
  for (auto& x : D[0]) x = 0;
  for (std::size_t k = 1; k <= stages; ++k)
    for (std::size_t v = 0; v < stages; ++v)
      for (std::size_t u = 0; u < stages; ++u)
        if (w[u][v] > none && D[k - 1][u] > none) D[k][v] = std::max(D[k][v], D[k - 1][u] + w[u][v]);
  double mean = 0;
  for (std::size_t v = 0; v < stages; ++v) {
    if (D[stages][v] <= none) continue;
    double worst = 1e300;
    for (std::size_t k = 0; k < stages; ++k)
      if (D[k][v] > none)
        worst = std::min(worst, static_cast<double>(D[stages][v] - D[k][v]) / static_cast<double>(stages - k));
    if (worst < 1e300) mean = std::max(mean, worst);
  }
  const auto estimate = static_cast<std::int64_t>(std::ceil(mean - 1e-9));
  return std::max(reads, ceil_div(estimate * (100 + pe_grouped_margin_pct), 100));
}

/// The latency of a grouped mapping run at `interval` cycles per frame (pe_grouped_interval or more): from a frame's
/// first input pixel, its pixels spread over the interval, to its class, through the same max-plus system. A stage
/// is free for the frame's first layer on it once the previous frame's last layer on it, `interval` earlier, has
/// handed it over (iterated to the fixed point).
inline std::int64_t pe_grouped_latency(const std::vector<layer_geometry>& g, const pe_partition& p,
                                       const std::vector<pe_layer_cost>& c, std::int64_t interval) {
  const std::size_t stages = p.served.size();
  std::vector<std::int64_t> start(stages, 0), F;
  for (std::size_t round = 0; round < 4 * stages + 4; ++round) {
    F = detail_grouped::frame(g, p, c, start, interval);
    bool moved = false;
    for (std::size_t t = 0; t < stages; ++t) {
      const std::int64_t free = std::max<std::int64_t>(0, F[p.served[t].back()] + pe_handoff_cycles - interval);
      if (free > start[t]) {
        start[t] = free;
        moved = true;
      }
    }
    if (!moved) break;
  }
  return F.back();
}

/// A stage's physical array: Tn x Tm sized for the largest of the layers it serves, each bit width the largest of
/// theirs. One layer (one group): the layer's own array, accumulators, requantizers and pool lanes (pe_array).
/// Serving L > 1 layers (one per group) it is what rtl::stage_module builds: the products and their adder trees, an
/// L:1 choice of the Tn input activations, and one weight memory holding its layers' weights one after another
/// (pe_stage_weights); each layer keeps its own Tm accumulators, requantizers and pool lanes (at its Tm, lanes_used)
/// beside its shell.
struct pe_stage_cost {
  std::int64_t luts = 0, ffs = 0;
  std::int64_t brams = 0;  ///< a shared stage's weight memory (block RAM units); a one-layer stage's is its layer's
};

/// What a stage's cost depends on besides (Tn, Tm): the largest widths of the layers it serves, whether any pools,
/// how many it serves, the shells of those layers (each keeps its own control and output registers), and each
/// one's accumulator, output and extents.
struct pe_stage_shape {
  int a = 0, w = 0, acc = 0, out = 0;
  bool pool = false;
  std::int64_t served = 1;
  pe_shell_cost shell;
  struct layer {
    std::int64_t extent = 1, m = 1;
    int acc = 0, out = 0, w = 0;
    bool pool = false;
  };
  std::vector<layer> layers;
};

inline pe_stage_shape stage_shape(const device_info& d, const std::vector<layer_geometry>& g,
                                  const std::vector<std::size_t>& served) {
  pe_stage_shape sh;
  for (const auto l : served) {
    sh.a = std::max(sh.a, g[l].act_bits);
    sh.w = std::max(sh.w, g[l].weight_bits);
    sh.acc = std::max(sh.acc, accumulator_bits(g[l]));
    sh.out = std::max(sh.out, g[l].out_bits);
    sh.pool = sh.pool || g[l].pool == 2;
    const auto c = pe_layer_shell(d.family, g[l]);
    sh.shell.luts += c.luts;
    sh.shell.ffs += c.ffs;
    sh.layers.push_back({reduction_length(g[l]), g[l].out_channels, accumulator_bits(g[l]), g[l].out_bits,
                         g[l].weight_bits, g[l].pool == 2});
  }
  sh.served = static_cast<std::int64_t>(served.size());
  return sh;
}

/// Bits of a shared stage's column sum: the products (a + w) and a bit per adder-tree level (rtl::stage_plan).
constexpr int shared_sum_bits(int a, int w, std::int64_t tn) noexcept {
  int levels = 0;
  while ((std::int64_t{1} << levels) < tn) ++levels;
  return a + w + levels;
}

/// LUTs of one of a stage's Tm columns at Tn. One layer: Tn multipliers, the accumulating sum, the requantizer and
/// the pool lane. Shared: the Tn multipliers and their sum only (the layers accumulate it: stage_luts). A stage's
/// LUTs are Tm of these plus the rest (stage_luts).
inline std::int64_t stage_column_luts(const device_info& d, const pe_stage_shape& sh, std::int64_t tn) noexcept {
  if (sh.served > 1)
    return pe_column_luts(d.family, tn, sh.a, sh.w, shared_sum_bits(sh.a, sh.w, tn), 0, requantizer_default_shift(sh.w));
  return pe_array(d.family, tn, 1, sh.a, sh.w, sh.acc, sh.out).luts + (sh.pool ? max_pool_luts(d.family, sh.out) : 0);
}
/// A stage's LUTs but its weight memory: Tm columns, the shells, and when shared the activations' L:1 choice and
/// every layer's accumulators, requantizers and pool lanes at its Tm (lanes_used).
inline std::int64_t stage_luts(const device_info& d, const pe_stage_shape& sh, std::int64_t tn, std::int64_t tm,
                               std::int64_t column_luts) noexcept {
  std::int64_t luts = tm * column_luts + sh.shell.luts;
  if (sh.served > 1) {
    luts += mux_bit_luts(d.family, sh.served) * tn * sh.a;
    for (const auto& x : sh.layers)
      luts += lanes_used(tm, x.m) * (adder_luts(d.family, x.acc) +
                                     requantizer_luts(d.family, x.acc, x.out, requantizer_default_shift(x.w)) +
                                     (x.pool ? max_pool_luts(d.family, x.out) : 0));
  }
  return luts;
}

/// A shared stage's weight memory at (Tn, Tm): its layers' qm qn words one after another, Tn Tm w bits each
/// (rtl::stage_plan), placed as the RTL declares it (place_memory).
inline placed_memory pe_stage_weights(const device_info& d, const pe_stage_shape& sh, std::int64_t tn,
                                      std::int64_t tm) {
  std::int64_t words = 0;
  for (const auto& x : sh.layers)
    words += ceil_div(x.extent, lanes_used(tn, x.extent)) * ceil_div(x.m, lanes_used(tm, x.m));
  return place_memory(d, words, tn * tm * sh.w, true);
}

inline pe_stage_cost pe_stage(const device_info& d, const std::vector<layer_geometry>& g,
                              const std::vector<std::size_t>& served, std::int64_t tn, std::int64_t tm) {
  const auto sh = stage_shape(d, g, served);
  pe_stage_cost c;
  c.luts = stage_luts(d, sh, tn, tm, stage_column_luts(d, sh, tn));
  // the products' registers, and each layer's accumulators at its Tm and output pixel registers (pe_output_ffs)
  c.ffs = product_register_ffs(d.family, tn, tm, sh.a, sh.w) + sh.shell.ffs;
  for (std::size_t k = 0; k < served.size(); ++k)
    c.ffs += pe_accumulator_ffs(g[served[k]], tm) + pe_output_ffs(g[served[k]], tm) +
             pe_port_ffs(g[served[k]], lanes_used(tn, reduction_length(g[served[k]])));
  if (sh.served == 1) return c;
  const auto rom = pe_stage_weights(d, sh, tn, tm);
  c.luts += rom.luts;
  c.ffs += rom.ffs;
  c.brams = rom.bram_units;
  return c;
}

struct pe_totals {
  std::int64_t luts = 0, ffs = 0, brams = 0, cycles = 0, latency = 0;
  std::int64_t boundary_luts = 0, boundary_ffs = 0;  ///< of luts and ffs: the FIFOs between groups (pe_boundary)
};

/// Everything a mapping of stage dimensions (Tn_t, Tm_t) costs. A layer on stage t uses lanes_used(Tn_t, N*K*K) x
/// lanes_used(Tm_t, M) of it (the passes of the whole array clipped to its extents, on the fewest lanes that take
/// them); the stage's array is the largest of those. `layers` and `stages` receive each one's cost when not null.
/// LUTs/FFs: the stages add (one static bitstream holds them all). Cycles: groups run one after another, each at its
/// slowest layer; BRAMs: every layer's memories and a feature map at each group boundary; latency: each group's
/// interval plus its layers' fills.
inline pe_totals pe_cost(const device_info& d, const std::vector<layer_geometry>& g, const pe_partition& p,
                         const std::vector<std::int64_t>& stage_tn, const std::vector<std::int64_t>& stage_tm,
                         std::vector<pe_layer_cost>* layers = nullptr,
                         std::vector<pe_stage_cost>* stages = nullptr) {
  pe_totals t;
  if (layers) layers->assign(g.size(), {});
  if (stages) stages->assign(p.served.size(), {});
  for (std::size_t s = 0; s < p.served.size(); ++s) {
    std::int64_t tn = 1, tm = 1;
    for (const auto l : p.served[s]) {
      tn = std::max(tn, lanes_used(stage_tn[s], reduction_length(g[l])));
      tm = std::max(tm, lanes_used(stage_tm[s], g[l].out_channels));
    }
    const auto c = pe_stage(d, g, p.served[s], tn, tm);
    t.luts += c.luts;
    t.ffs += c.ffs;
    t.brams += c.brams;
    if (stages) (*stages)[s] = c;
  }
  for (std::size_t k = 0; k < p.first.size(); ++k) {
    std::int64_t interval = 0;
    for (std::size_t l = p.first[k]; l <= p.last[k]; ++l) {
      const auto s = static_cast<std::size_t>(p.stage[l]);
      auto c = pe_layer(d, g[l], lanes_used(stage_tn[s], reduction_length(g[l])),
                        lanes_used(stage_tm[s], g[l].out_channels));
      if (p.served[s].size() > 1) without_weights(c);  // the stage holds them (pe_stage)
      interval = std::max(interval, c.cycles);
      t.brams += c.brams;
      // the stage's cost (pe_stage) has the arrays, not the layers' memories and lane selection
      t.luts += c.own_luts();
      t.ffs += c.memory_ffs;
      if (layers) (*layers)[l] = c;
    }
    t.cycles += interval;
    t.latency += streaming_latency(g, p.first[k], p.last[k], interval);
    if (k + 1 < p.first.size()) {
      const auto b = pe_boundary(d, g[p.last[k]]);
      t.brams += b.bram_units;
      t.luts += b.luts;
      t.ffs += b.ffs;
      t.boundary_luts += b.luts;
      t.boundary_ffs += b.ffs;
    }
  }
  // Several groups: the stages' handoffs and the groups' drains can make the frame longer than the sum of the
  // groups' intervals (pe_grouped_interval); the figure is the larger of the two, so that the sum stays a bound
  // the search may prune with.
  if (p.first.size() > 1) {
    std::vector<pe_layer_cost> own;
    const std::vector<pe_layer_cost>* c = layers;
    if (!c) {
      for (std::size_t l = 0; l < g.size(); ++l) {
        const auto s = static_cast<std::size_t>(p.stage[l]);
        own.push_back(pe_layer(d, g[l], lanes_used(stage_tn[s], reduction_length(g[l])),
                               lanes_used(stage_tm[s], g[l].out_channels)));
      }
      c = &own;
    }
    t.cycles = std::max(t.cycles, pe_grouped_interval(g, p, *c));
    t.latency = std::max(t.latency, pe_grouped_latency(g, p, *c, t.cycles));
  }
  return t;
}

/// The stage dimensions a mapping implies: per stage the largest Tn and Tm it gives a layer the stage serves.
inline void stage_dims(const pe_partition& p, const pe_mapping& m, std::vector<std::int64_t>& tn,
                       std::vector<std::int64_t>& tm) {
  tn.assign(p.served.size(), 1);
  tm.assign(p.served.size(), 1);
  for (std::size_t s = 0; s < p.served.size(); ++s)
    for (const auto l : p.served[s]) {
      tn[s] = std::max<std::int64_t>(tn[s], m.layers[l].tn);
      tm[s] = std::max<std::int64_t>(tm[s], m.layers[l].tm);
    }
}

/// Throws hwnas::invalid_argument unless `m` is a valid mapping of `g`. With `stages` (the static bitstream) the
/// groups must form an S-stage pipeline; reconfigured groups may have any sizes.
inline void check_mapping(const std::vector<layer_geometry>& g, const pe_mapping& m, bool stages = true) {
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
  if (!stages) return;
  // An S-stage pipeline: every group but the last has S layers, the last at most S.
  std::vector<std::size_t> sizes;
  for (std::size_t l = 0; l < g.size(); ++l) {
    if (l == 0 || m.layers[l].group != m.layers[l - 1].group) sizes.push_back(0);
    ++sizes.back();
  }
  for (std::size_t k = 1; k < sizes.size(); ++k)
    if (k + 1 < sizes.size() ? sizes[k] != sizes[0] : sizes[k] > sizes[0])
      throw invalid_argument("pipelined_pe mapping: group " + std::to_string(k) + " has " + std::to_string(sizes[k]) +
                             " layers, group 0 has " + std::to_string(sizes[0]) +
                             ": the groups share S physical stages, so every group has S layers and the last at "
                             "most S (docs/cost-models.md#static-groups)");
}

/// The mapping of stage dimensions under a partition (every layer on its stage's array, clipped).
inline pe_mapping mapping_of(const std::vector<layer_geometry>& g, const pe_partition& p,
                             const std::vector<std::int64_t>& tn, const std::vector<std::int64_t>& tm) {
  pe_mapping m;
  for (std::size_t l = 0; l < g.size(); ++l) {
    const auto s = static_cast<std::size_t>(p.stage[l]);
    m.layers.push_back({static_cast<int>(lanes_used(tn[s], reduction_length(g[l]))),
                        static_cast<int>(lanes_used(tm[s], g[l].out_channels)), p.group[l]});
  }
  return m;
}

/// (LUTs, cycles, BRAMs) -- or with `fastest` (cycles, LUTs, BRAMs) -- lexicographically smaller.
inline bool pe_better(const pe_totals& x, const pe_totals& y, bool fastest) noexcept {
  return fastest ? std::tie(x.cycles, x.luts, x.brams) < std::tie(y.cycles, y.luts, y.brams)
                 : std::tie(x.luts, x.cycles, x.brams) < std::tie(y.luts, y.cycles, y.brams);
}

/// One stage dimension choice, with what it costs and what it makes of the layers the stage serves.
struct pe_stage_option {
  std::int64_t tn = 1, tm = 1, luts = 0, brams = 0;
  std::vector<std::int64_t> cycles;  ///< per served layer (one per group the stage reaches)
  std::vector<pe_layer_cost> layers;  ///< per served layer: its cost on this stage
};

/// The same in the search's flat form: the cycles of the served layers at `at` in the stage's cycle array.
struct pe_stage_choice {
  std::int64_t tn = 1, tm = 1, luts = 0, brams = 0;
  std::size_t at = 0;
};

/// Per layer, pe_layer at each (Tn, Tm) pair of its quotient candidates, computed once per search.
struct pe_layer_table {
  std::vector<int> tn, tm;
  std::vector<pe_layer_cost> cost;  ///< [index of Tn * tm.size() + index of Tm]
};

/// The pe_layer_table of every layer (both searches, static and reconfigured, start from these).
inline std::vector<pe_layer_table> pe_layer_tables(const device_info& d, const std::vector<layer_geometry>& g) {
  std::vector<pe_layer_table> table(g.size());
  for (std::size_t l = 0; l < g.size(); ++l) {
    auto& t = table[l];
    t.tn = quotient_candidates(reduction_length(g[l]));
    t.tm = quotient_candidates(g[l].out_channels);
    for (const int tn : t.tn)
      for (const int tm : t.tm) t.cost.push_back(pe_layer(d, g[l], tn, tm));
  }
  return table;
}

/// Least-LUT (or, with `fastest`, least-cycle) mapping within `lim` as an S-stage pipeline for each S = n..1, by
/// branch and bound over the stages' (Tn, Tm). A stage's Tn is tried among the quotient candidates of its layers'
/// N*K*K (any other Tn gives every layer the passes of the largest candidate below it, at no lower cost), Tm
/// likewise over their M. Stages are visited in order, options by rising LUTs. A branch is cut by exact bounds: its
/// LUTs plus the least LUTs of the stages left over the ceiling (or over the best found); its BRAMs likewise; and its
/// cycles and latency, where each group's interval is at least what the stages left can give it within the LUTs
/// still free (the fastest option of each stage that fits in its least LUTs plus the slack).
/// With `min_stages` = n only the one-group pipeline (every layer on its own array) is searched.
inline std::optional<pe_mapping> pe_search(const device_info& d, const std::vector<layer_geometry>& g,
                                           const limits& lim, bool fastest, std::size_t min_stages = 1) {
  const std::size_t n = g.size();
  const std::int64_t ccap = fastest ? unlimited : std::min(lim.cycles, lim.latency_cycles);
  const std::int64_t lcap = fastest ? unlimited : lim.latency_cycles;
  const auto table = pe_layer_tables(d, g);
  std::optional<pe_mapping> best;
  pe_totals best_t;
  for (std::size_t stages = n; stages >= std::max<std::size_t>(min_stages, 1); --stages) {  // one group first: the bound
    std::vector<int> group(n);
    for (std::size_t l = 0; l < n; ++l) group[l] = static_cast<int>(l / stages);
    const auto p = make_partition(group);
    const std::size_t groups = p.first.size();
    const auto fifos = pe_boundaries(d, g, p);  // the group boundaries' FIFOs: fixed by the partition
    const std::int64_t base_brams = fifos.bram_units, base_luts = fifos.luts;
    if (base_brams > lim.brams) continue;
    std::vector<std::vector<pe_stage_choice>> opts(stages);
    std::vector<std::vector<std::int64_t>> cyc(stages);  // cyc[s][o.at + i]: cycles of the i-th layer stage s serves
    // A stage's LUTs rise with Tn and Tm, so its least is at 1 x 1; no option may exceed the LUT budget (the ceiling,
    // or the best mapping found) less the other stages' least.
    std::vector<std::int64_t> least(stages);
    std::int64_t least_sum = 0;
    for (std::size_t s = 0; s < stages; ++s) {
      const auto sh = stage_shape(d, g, p.served[s]);
      least_sum += least[s] = stage_luts(d, sh, 1, 1, stage_column_luts(d, sh, 1));
    }
    const std::int64_t lut_budget = ((!fastest && best) ? std::min(lim.luts, best_t.luts) : lim.luts) - base_luts;
    if (least_sum > lut_budget) continue;
    bool empty = false;
    for (std::size_t s = 0; s < stages && !empty; ++s) {
      const auto& served = p.served[s];
      std::vector<int> tns, tms;
      for (const auto l : served) {
        tns.insert(tns.end(), table[l].tn.begin(), table[l].tn.end());
        tms.insert(tms.end(), table[l].tm.begin(), table[l].tm.end());
      }
      std::sort(tns.begin(), tns.end());
      tns.erase(std::unique(tns.begin(), tns.end()), tns.end());
      std::sort(tms.begin(), tms.end());
      tms.erase(std::unique(tms.begin(), tms.end()), tms.end());
      auto& v = opts[s];
      auto& cs = cyc[s];
      const std::size_t ns = served.size();
      const auto sh = stage_shape(d, g, served);
      // per served layer, the index in its table of the lanes it uses at each candidate Tn, Tm
      std::vector<std::vector<std::size_t>> in(served.size()), im(served.size());
      for (std::size_t i = 0; i < served.size(); ++i) {
        const auto& t = table[served[i]];
        for (const int tn : tns)
          in[i].push_back(static_cast<std::size_t>(
              std::lower_bound(t.tn.begin(), t.tn.end(), lanes_used(tn, reduction_length(g[served[i]]))) - t.tn.begin()));
        for (const int tm : tms)
          im[i].push_back(static_cast<std::size_t>(
              std::lower_bound(t.tm.begin(), t.tm.end(), lanes_used(tm, g[served[i]].out_channels)) - t.tm.begin()));
      }
      const std::int64_t cap = lut_budget - (least_sum - least[s]);
      for (std::size_t x = 0; x < tns.size(); ++x) {
        const std::int64_t column = stage_column_luts(d, sh, tns[x]);
        if (stage_luts(d, sh, tns[x], tms.front(), column) > cap) break;  // rises with Tn
        for (std::size_t y = 0; y < tms.size(); ++y) {
          pe_stage_choice o;
          o.tn = tns[x];
          o.tm = tms[y];
          o.luts = stage_luts(d, sh, o.tn, o.tm, column);
          if (o.luts > cap) break;  // the array rises with Tm (the memories in logic need not: added below)
          o.at = cs.size();
          bool over = false;
          if (ns > 1) {  // the stage's weight memory instead of its layers' own
            const auto rom = pe_stage_weights(d, sh, o.tn, o.tm);
            o.brams += rom.bram_units;
            o.luts += rom.luts;
          }
          for (std::size_t i = 0; i < ns; ++i) {
            const auto& t = table[served[i]];
            auto c = t.cost[in[i][x] * t.tm.size() + im[i][y]];
            if (ns > 1) without_weights(c);
            o.brams += c.brams;
            o.luts += c.own_luts();
            cs.push_back(c.cycles);
            over = over || c.cycles > ccap;
          }
          if (!over && o.brams <= lim.brams && o.luts <= cap)
            v.push_back(o);
          else
            cs.resize(o.at);
        }
      }
      if (v.empty()) {
        empty = true;
        break;
      }
      if (ns == 1) {  // drop options another beats in LUTs, cycles and BRAMs (3-D staircase)
        std::vector<frontier_point> f;
        for (std::size_t k = 0; k < v.size(); ++k) {
          frontier_point q;
          q.k[0] = v[k].luts;
          q.k[1] = cs[v[k].at];
          q.k[2] = v[k].brams;
          q.a = static_cast<std::int32_t>(k);
          f.push_back(q);
        }
        pareto_filter(f, 3);  // sorts by (LUTs, cycles, BRAMs)
        std::vector<pe_stage_choice> kept;
        for (const auto& q : f) kept.push_back(v[static_cast<std::size_t>(q.a)]);
        v = std::move(kept);
      } else {
        std::sort(v.begin(), v.end(), [](const pe_stage_choice& x, const pe_stage_choice& y) {
          return std::tie(x.luts, x.brams) < std::tie(y.luts, y.brams);
        });
      }
    }
    if (empty) continue;
    // Bounds: least LUTs and BRAMs of the stages s..end; per stage and served layer the least cycles of its
    // options 0..k (by rising LUTs).
    std::vector<std::int64_t> min_luts(stages + 1, 0), min_brams(stages + 1, 0);
    std::vector<std::vector<std::vector<std::int64_t>>> prefix_c(stages);
    for (std::size_t s = stages; s-- > 0;) {
      std::int64_t mb = INT64_MAX;
      for (const auto& o : opts[s]) mb = std::min(mb, o.brams);
      min_luts[s] = min_luts[s + 1] + opts[s].front().luts;
      min_brams[s] = min_brams[s + 1] + mb;
      prefix_c[s].assign(p.served[s].size(), {});
      for (std::size_t i = 0; i < p.served[s].size(); ++i) {
        std::int64_t m = INT64_MAX;
        for (const auto& o : opts[s]) prefix_c[s][i].push_back(m = std::min(m, cyc[s][o.at + i]));
      }
    }
    if (base_brams + min_brams[0] > lim.brams) continue;
    std::vector<std::int64_t> tn_pick(stages, 1), tm_pick(stages, 1), group_c(groups, 0), lb(groups, 0);
    std::vector<std::vector<std::int64_t>> saved(stages, std::vector<std::int64_t>(groups));
    if (groups == 1) {
      // No sharing: every layer its own stage, all streaming at once. A frontier DP over the stages on (LUT sum,
      // cycles max[, BRAM sum]) is exact (both combinations are monotone in every key) and, unlike the branch and
      // bound, stays small when block RAM binds. The latency is a rising function of the interval here.
      const std::int64_t tcap = std::min(ccap, interval_for_latency(g, lcap));
      // One DP run: with `bram_key` BRAM is a third key and a ceiling; `lut_cap`, `cycle_cap` bound the others.
      // Fills tn_pick/tm_pick and returns true when a mapping exists.
      // Per stage, its options as a (LUTs, cycles) staircase for the two-key runs (a = option index).
      std::vector<std::vector<frontier_point>> stair(stages);
      for (std::size_t st = 0; st < stages; ++st) {
        for (std::size_t y = 0; y < opts[st].size(); ++y) {
          frontier_point q;
          q.k[0] = opts[st][y].luts;
          q.k[1] = cyc[st][opts[st][y].at];
          q.a = static_cast<std::int32_t>(y);
          stair[st].push_back(q);
        }
        pareto_filter(stair[st], 2);
      }
      auto dp = [&](bool bram_key, std::int64_t lut_cap, std::int64_t cycle_cap) {
        std::vector<std::vector<frontier_point>> f(stages + 1);
        f[0].push_back(frontier_point{});
        for (std::size_t st = 0; st < stages; ++st) {
          if (!bram_key) {
            // (sum L, max C) of two staircases: for each threshold T, the least-LUT point of each with C <= T;
            // walk both by rising C (the lists rise in L, fall in C)
            const auto& prev = f[st];
            const auto& o = stair[st];
            std::size_t ip = prev.size(), io = o.size(), cp = prev.size(), co = o.size();
            while (ip > 0 || io > 0) {
              const std::int64_t next_p = ip > 0 ? prev[ip - 1].k[1] : INT64_MAX;
              const std::int64_t next_o = io > 0 ? o[io - 1].k[1] : INT64_MAX;
              const std::int64_t t = std::min(next_p, next_o);
              if (next_p == t) cp = --ip;
              if (next_o == t) co = --io;
              if (cp < prev.size() && co < o.size()) {
                frontier_point q;
                q.k[0] = prev[cp].k[0] + o[co].k[0];
                q.k[1] = std::max(prev[cp].k[1], o[co].k[1]);
                q.a = static_cast<std::int32_t>(cp);
                q.b = o[co].a;
                if (q.k[0] + min_luts[st + 1] <= lut_cap && q.k[1] <= cycle_cap) f[st + 1].push_back(q);
              }
            }
            pareto_filter(f[st + 1], 2);
            if (f[st + 1].empty()) return false;
            continue;
          }
          for (std::size_t x = 0; x < f[st].size(); ++x)
            for (std::size_t y = 0; y < opts[st].size(); ++y) {
              const auto& o = opts[st][y];
              frontier_point q;
              q.k[0] = f[st][x].k[0] + o.luts;
              q.k[1] = std::max(f[st][x].k[1], cyc[st][o.at]);
              q.k[2] = bram_key ? f[st][x].k[2] + o.brams : 0;
              if (q.k[0] + min_luts[st + 1] > lut_cap || q.k[1] > cycle_cap ||
                  (bram_key && q.k[2] + min_brams[st + 1] > lim.brams))
                continue;
              q.a = static_cast<std::int32_t>(x);
              q.b = static_cast<std::int32_t>(y);
              f[st + 1].push_back(q);
            }
          pareto_filter(f[st + 1], bram_key ? 3 : 2);
          if (f[st + 1].empty()) return false;
        }
        std::size_t pick = 0;  // f is sorted by (LUTs, cycles, BRAMs)
        if (fastest)
          for (std::size_t i = 1; i < f[stages].size(); ++i)
            if (std::tie(f[stages][i].k[1], f[stages][i].k[0], f[stages][i].k[2]) <
                std::tie(f[stages][pick].k[1], f[stages][pick].k[0], f[stages][pick].k[2]))
              pick = i;
        for (std::size_t st = stages; st-- > 0;) {
          const auto& q = f[st + 1][pick];
          tn_pick[st] = opts[st][static_cast<std::size_t>(q.b)].tn;
          tm_pick[st] = opts[st][static_cast<std::size_t>(q.b)].tm;
          pick = static_cast<std::size_t>(q.a);
        }
        return true;
      };
      // First without BRAM (two keys, small frontiers): if that optimum fits the BRAM ceiling it is the optimum.
      // Otherwise with BRAM, under a ceiling on the objective raised 25 % at a time from the relaxed optimum (a lower
      // bound): the first ceiling with a solution holds the optimum, and tight ceilings keep the frontiers small.
      if (!dp(false, lim.luts, tcap)) continue;
      auto t = pe_cost(d, g, p, tn_pick, tm_pick);
      if (t.brams > lim.brams) {
        bool found = false;
        if (!fastest) {
          for (std::int64_t u = t.luts;; u = std::min(lim.luts, u + u / 4 + 1)) {
            if ((found = dp(true, u, tcap))) break;
            if (u >= lim.luts) break;
          }
        } else {
          for (std::int64_t c = t.cycles;; c = std::min(tcap, c + c / 4 + 1)) {
            if ((found = dp(true, lim.luts, c))) break;
            if (c >= tcap) break;
          }
        }
        if (!found) continue;
        t = pe_cost(d, g, p, tn_pick, tm_pick);
      }
      if (!best || pe_better(t, best_t, fastest)) {
        best_t = t;
        best = mapping_of(g, p, tn_pick, tm_pick);
      }
      continue;
    }
    auto visit = [&](auto&& self, std::size_t s, std::int64_t luts, std::int64_t brams) -> void {
      const std::int64_t budget = (!fastest && best) ? std::min(lim.luts, best_t.luts) : lim.luts;
      const std::int64_t slack = budget - luts - min_luts[s];
      if (slack < 0 || brams + min_brams[s] > lim.brams) return;
      // each group's interval: at least its layers' cycles so far, and what each stage left can give it within
      // its least LUTs plus the slack
      for (std::size_t k = 0; k < groups; ++k) lb[k] = group_c[k];
      for (std::size_t t = s; t < stages; ++t) {
        const auto& v = opts[t];
        const std::int64_t cap = v.front().luts + slack;
        const auto last = static_cast<std::size_t>(
            std::upper_bound(v.begin(), v.end(), cap, [](std::int64_t c, const pe_stage_choice& o) { return c < o.luts; }) -
            v.begin());
        for (std::size_t i = 0; i < p.served[t].size(); ++i) {
          const auto k = static_cast<std::size_t>(p.group[p.served[t][i]]);
          lb[k] = std::max(lb[k], prefix_c[t][i][last - 1]);
        }
      }
      std::int64_t cycles = 0, latency = 0;
      for (std::size_t k = 0; k < groups; ++k) {
        cycles += lb[k];
        if (lcap < unlimited) latency += streaming_latency(g, p.first[k], p.last[k], lb[k]);
      }
      if (cycles > ccap || latency > lcap) return;
      if (best && (fastest ? (cycles > best_t.cycles) : (luts + min_luts[s] == best_t.luts && cycles > best_t.cycles)))
        return;
      if (s == stages) {
        const auto t = pe_cost(d, g, p, tn_pick, tm_pick);
        if (t.luts > lim.luts || t.brams > lim.brams || t.cycles > ccap || t.latency > lcap) return;
        if (!best || pe_better(t, best_t, fastest)) {
          best_t = t;
          best = mapping_of(g, p, tn_pick, tm_pick);
        }
        return;
      }
      auto& keep = saved[s];
      keep = group_c;
      const std::size_t ns = p.served[s].size();
      for (const auto& o : opts[s]) {
        if (luts + o.luts + min_luts[s + 1] > budget) break;  // options by rising LUTs
        for (std::size_t i = 0; i < ns; ++i) {
          const auto k = static_cast<std::size_t>(p.group[p.served[s][i]]);
          group_c[k] = std::max(keep[k], cyc[s][o.at + i]);
        }
        tn_pick[s] = o.tn;
        tm_pick[s] = o.tm;
        self(self, s + 1, luts + o.luts, brams + o.brams);
        group_c = keep;
      }
    };
    visit(visit, 0, base_luts, base_brams);
  }
  return best;
}

/// Exhaustive twin of pe_search: every S-stage pipeline and, per stage, every Tn in 1..max N*K*K and Tm in 1..max M
/// of the layers it serves. For small instances only (throws hwnas::invalid_argument over ~5e7 mappings).
inline std::optional<pe_mapping> pe_search_ref(const device_info& d, const std::vector<layer_geometry>& g,
                                               const limits& lim, bool fastest) {
  const std::size_t n = g.size();
  auto partition = [&](std::size_t stages) {
    std::vector<int> group(n);
    for (std::size_t l = 0; l < n; ++l) group[l] = static_cast<int>(l / stages);
    return make_partition(group);
  };
  double count = 0;
  for (std::size_t stages = 1; stages <= n; ++stages) {
    const auto p = partition(stages);
    double c = 1;
    for (const auto& served : p.served) {
      std::int64_t dn = 1, dm = 1;
      for (const auto l : served) {
        dn = std::max(dn, reduction_length(g[l]));
        dm = std::max<std::int64_t>(dm, g[l].out_channels);
      }
      c *= static_cast<double>(dn) * static_cast<double>(dm);
    }
    count += c;
  }
  if (count > 5e7)
    throw invalid_argument("pipelined_pe brute force: " + std::to_string(count) +
                           " mappings are too many; use it on small architectures only");
  std::optional<pe_mapping> best;
  pe_totals best_t;
  for (std::size_t stages = 1; stages <= n; ++stages) {
    const auto p = partition(stages);
    const std::size_t groups = p.first.size();
    const auto fifos = pe_boundaries(d, g, p);
    const std::int64_t base_brams = fifos.bram_units, base_luts = fifos.luts;
    // Every (Tn, Tm) of every stage, costed once (pe_cost's arithmetic, tabulated for the enumeration).
    std::vector<std::vector<pe_stage_option>> all(stages);
    for (std::size_t s = 0; s < stages; ++s) {
      std::int64_t dn = 1, dm = 1;
      for (const auto l : p.served[s]) {
        dn = std::max(dn, reduction_length(g[l]));
        dm = std::max<std::int64_t>(dm, g[l].out_channels);
      }
      for (std::int64_t tm = 1; tm <= dm; ++tm)
        for (std::int64_t tn = 1; tn <= dn; ++tn) {
          pe_stage_option o;
          o.tn = tn;
          o.tm = tm;
          std::vector<pe_layer_cost> layers;
          std::vector<pe_stage_cost> cost;
          std::vector<std::int64_t> one_tn(stages, 1), one_tm(stages, 1);
          one_tn[s] = tn;
          one_tm[s] = tm;
          pe_cost(d, g, p, one_tn, one_tm, &layers, &cost);
          o.luts = cost[s].luts;
          o.brams = cost[s].brams;
          for (const auto l : p.served[s]) {
            // the layers' memories in logic and lane selection (not in the stage's cost)
            o.luts += layers[l].own_luts();
            o.brams += layers[l].brams;
            o.cycles.push_back(layers[l].cycles);
            o.layers.push_back(layers[l]);
          }
          all[s].push_back(std::move(o));
        }
    }
    std::vector<std::size_t> pick(stages, 0);
    std::vector<std::int64_t> interval(groups);
    std::vector<pe_layer_cost> chosen(n);
    while (true) {
      pe_totals t;
      t.brams = base_brams;
      t.luts = base_luts;
      std::fill(interval.begin(), interval.end(), 0);
      for (std::size_t s = 0; s < stages; ++s) {
        const auto& o = all[s][pick[s]];
        t.luts += o.luts;
        t.brams += o.brams;
        for (std::size_t i = 0; i < o.cycles.size(); ++i) {
          const auto k = static_cast<std::size_t>(p.group[p.served[s][i]]);
          interval[k] = std::max(interval[k], o.cycles[i]);
        }
      }
      for (std::size_t k = 0; k < groups; ++k) {
        t.cycles += interval[k];
        t.latency += streaming_latency(g, p.first[k], p.last[k], interval[k]);
      }
      if (groups > 1) {  // as pe_cost
        for (std::size_t s = 0; s < stages; ++s)
          for (std::size_t i = 0; i < p.served[s].size(); ++i) chosen[p.served[s][i]] = all[s][pick[s]].layers[i];
        t.cycles = std::max(t.cycles, pe_grouped_interval(g, p, chosen));
        t.latency = std::max(t.latency, pe_grouped_latency(g, p, chosen, t.cycles));
      }
      const bool ok = t.luts <= lim.luts && t.brams <= lim.brams &&
                      (fastest || (t.cycles <= lim.cycles && t.latency <= lim.latency_cycles));
      if (ok && (!best || pe_better(t, best_t, fastest))) {
        best_t = t;
        std::vector<std::int64_t> tn(stages), tm(stages);
        for (std::size_t s = 0; s < stages; ++s) {
          tn[s] = all[s][pick[s]].tn;
          tm[s] = all[s][pick[s]].tm;
        }
        best = mapping_of(g, p, tn, tm);
      }
      std::size_t s = 0;
      while (s < stages && ++pick[s] == all[s].size()) pick[s++] = 0;
      if (s == stages) break;
    }
  }
  return best;
}


// ------------------------------------------------------------------------------------------------------------
// Reconfigured groups (NAQS's accounting, an explicit option): each group is its own bitstream, loaded in turn.

/// What reconfiguring between groups costs: `cycles`, one full configuration at the design clock, amortized over
/// `batch` frames (each group runs on the whole batch before the next is loaded).
struct pe_reconfiguration {
  std::int64_t batch = 0;   ///< frames per batch (>= 1)
  std::int64_t cycles = 0;  ///< design-clock cycles of one configuration
};

/// Design-clock cycles of loading a full bitstream: config_bits / (config_port_bits x config_clock) seconds.
inline std::int64_t configuration_cycles(const device_info& d, double clock_mhz) {
  const double seconds = static_cast<double>(d.config_bits) /
                         (static_cast<double>(d.config_port_bits) * d.config_clock_mhz * 1e6);
  // (the tolerance keeps an exact quotient, 28,571,136 bits / 8 bits at equal clocks, from rounding up a cycle)
  return static_cast<std::int64_t>(std::ceil(seconds * clock_mhz * 1e6 * (1 - goal_tolerance)));
}

/// Totals of a reconfigured mapping: every layer its own array inside its group's bitstream (LUTs/FFs/BRAMs add in
/// a group, the largest group counts: the fabric and the block RAM hold one group at a time); group boundary maps
/// go off chip (reconfiguration wipes block RAM). One group is the static design. G > 1 groups: a batch of B frames
/// takes sum_g B x interval_g + G configurations, so cycles per frame = sum_g interval_g + ceil(G R / B); latency =
/// the batch's span to its last class, sum_g (B interval_g + fills_g) + (G - 1) R (every frame of the batch is
/// classified within it).
inline pe_totals pe_reconfigured_totals(const std::vector<layer_geometry>& g, const pe_partition& p,
                                        const std::vector<pe_layer_cost>& c, const pe_reconfiguration& rc) {
  pe_totals t;
  const auto groups = static_cast<std::int64_t>(p.first.size());
  for (std::size_t k = 0; k < p.first.size(); ++k) {
    pe_totals x;
    std::int64_t interval = 0;
    for (std::size_t l = p.first[k]; l <= p.last[k]; ++l) {
      x.luts += c[l].luts;
      x.ffs += c[l].ffs;
      x.brams += c[l].brams;
      interval = std::max(interval, c[l].cycles);
    }
    t.luts = std::max(t.luts, x.luts);
    t.ffs = std::max(t.ffs, x.ffs);
    t.brams = std::max(t.brams, x.brams);
    t.cycles += interval;
    t.latency += groups == 1 ? streaming_latency(g, p.first[k], p.last[k], interval)
                             : rc.batch * interval + streaming_latency(g, p.first[k], p.last[k], interval) - interval;
  }
  if (groups > 1) {
    t.cycles += ceil_div(groups * rc.cycles, rc.batch);
    t.latency += (groups - 1) * rc.cycles;
  }
  return t;
}

/// Per layer, the indices of the (Tn, Tm) options no other option beats in cycles, LUTs and BRAMs together,
/// ascending in cycles: the only ones an optimal group can use.
inline std::vector<std::vector<std::size_t>> pe_layer_pareto(const std::vector<pe_layer_table>& table) {
  std::vector<std::vector<std::size_t>> out(table.size());
  for (std::size_t l = 0; l < table.size(); ++l) {
    std::vector<frontier_point> f;
    for (std::size_t o = 0; o < table[l].cost.size(); ++o) {
      frontier_point q;
      q.k[0] = table[l].cost[o].cycles;
      q.k[1] = table[l].cost[o].luts;
      q.k[2] = table[l].cost[o].brams;
      q.a = static_cast<std::int32_t>(o);
      f.push_back(q);
    }
    pareto_filter(f, 3);  // sorted by cycles
    for (const auto& q : f) out[l].push_back(static_cast<std::size_t>(q.a));
  }
  return out;
}

/// One group's staircase: for each frame interval T it can reach (ascending), the least LUTs of its layers' arrays
/// with every layer's cycles <= T and the group's block RAM within `brams_cap`, and the (Tn, Tm) index per layer.
struct pe_group_step {
  std::int64_t interval = 0, luts = 0, brams = 0;
  std::vector<std::size_t> pick;  ///< per layer of the group: index into its pe_layer_table cost
};

inline std::vector<pe_group_step> pe_group_staircase(const std::vector<pe_layer_table>& table,
                                                     const std::vector<std::vector<std::size_t>>& pareto,
                                                     std::size_t first, std::size_t last, std::int64_t luts_cap,
                                                     std::int64_t brams_cap) {
  const std::size_t n = last - first + 1;
  std::int64_t least_luts = 0, least_brams = 0;  // no interval does better than each layer's least
  std::vector<std::int64_t> ts;
  for (std::size_t l = first; l <= last; ++l) {
    std::int64_t ml = INT64_MAX, mb = INT64_MAX;
    for (const auto o : pareto[l]) {
      const auto& c = table[l].cost[o];
      ml = std::min(ml, c.luts);
      mb = std::min(mb, c.brams);
      ts.push_back(c.cycles);
    }
    least_luts += ml;
    least_brams += mb;
  }
  if (least_luts > luts_cap || least_brams > brams_cap) return {};
  std::sort(ts.begin(), ts.end());
  ts.erase(std::unique(ts.begin(), ts.end()), ts.end());
  std::vector<pe_group_step> out;
  for (const auto t : ts) {
    // per layer, its options within T as a (LUTs, BRAMs) staircase
    std::vector<std::vector<frontier_point>> lay(n);
    bool empty = false;
    for (std::size_t i = 0; i < n && !empty; ++i) {
      for (const auto o : pareto[first + i]) {
        const auto& c = table[first + i].cost[o];
        if (c.cycles > t) break;  // ascending
        if (c.luts > luts_cap || c.brams > brams_cap) continue;
        frontier_point q;
        q.k[0] = c.luts;
        q.k[1] = c.brams;
        q.a = static_cast<std::int32_t>(o);
        lay[i].push_back(q);
      }
      pareto_filter(lay[i], 2);
      empty = lay[i].empty();
    }
    if (empty) continue;
    pe_group_step s;
    s.interval = t;
    s.pick.resize(n);
    std::int64_t fast_brams = 0;  // each layer at its least LUTs: the answer when the BRAMs fit
    for (std::size_t i = 0; i < n; ++i) fast_brams += lay[i].front().k[1];
    if (fast_brams <= brams_cap) {
      for (std::size_t i = 0; i < n; ++i) {
        s.luts += lay[i].front().k[0];
        s.pick[i] = static_cast<std::size_t>(lay[i].front().a);
      }
      s.brams = fast_brams;
      if (s.luts > luts_cap) continue;  // even the least LUTs at this interval are over
    } else {  // block RAM binds: a frontier DP over the group's layers on (LUTs, BRAMs)
      std::vector<std::vector<frontier_point>> f(n + 1);
      f[0].push_back(frontier_point{});
      for (std::size_t i = 0; i < n; ++i) {
        for (std::size_t x = 0; x < f[i].size(); ++x)
          for (std::size_t y = 0; y < lay[i].size(); ++y) {
            frontier_point q;
            q.k[0] = f[i][x].k[0] + lay[i][y].k[0];
            q.k[1] = f[i][x].k[1] + lay[i][y].k[1];
            if (q.k[0] > luts_cap || q.k[1] > brams_cap) continue;
            q.a = static_cast<std::int32_t>(x);
            q.b = static_cast<std::int32_t>(y);
            f[i + 1].push_back(q);
          }
        pareto_filter(f[i + 1], 2);
      }
      if (f[n].empty()) continue;
      s.luts = f[n].front().k[0];
      s.brams = f[n].front().k[1];
      std::size_t idx = 0;
      for (std::size_t i = n; i-- > 0;) {
        const auto& q = f[i + 1][idx];
        s.pick[i] = static_cast<std::size_t>(lay[i][static_cast<std::size_t>(q.b)].a);
        idx = static_cast<std::size_t>(q.a);
      }
    }
    if (!out.empty() && s.luts >= out.back().luts) continue;  // a longer interval that saves nothing
    out.push_back(std::move(s));
  }
  return out;
}

/// Least-LUT (or, with `fastest`, least-cycle) reconfigured mapping within `lim`, exact. For every consecutive
/// partition into groups each group runs at the shortest interval its staircase reaches under a LUT ceiling L (the
/// frame's cycles and latency both rise with every group's interval, so that choice is best for both); feasibility
/// rises with L, so the least L is found by bisection over the staircases' LUT values. `fastest`: L = the LUT limit,
/// the partition with the fewest cycles (ties: fewer LUTs).
inline std::optional<pe_mapping> pe_search_reconfigured(const device_info& d, const std::vector<layer_geometry>& g,
                                                        const limits& lim, bool fastest,
                                                        const pe_reconfiguration& rc) {
  const std::size_t n = g.size();
  if (n > 20)
    throw invalid_argument("pipelined_pe with reconfigured groups: " + std::to_string(n) +
                           " layers give too many groupings to search exactly (at most 20)");
  const auto table = pe_layer_tables(d, g);
  // staircases of every group [i, j]
  const auto pareto = pe_layer_pareto(table);
  std::vector<std::vector<std::vector<pe_group_step>>> stair(n, std::vector<std::vector<pe_group_step>>(n));
  std::vector<std::int64_t> levels;
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = i; j < n; ++j) {
      stair[i][j] = pe_group_staircase(table, pareto, i, j, lim.luts, lim.brams);
      for (const auto& s : stair[i][j]) levels.push_back(s.luts);
    }
  std::sort(levels.begin(), levels.end());
  levels.erase(std::unique(levels.begin(), levels.end()), levels.end());
  struct choice {
    pe_totals t;
    std::uint32_t mask = 0;  ///< bit l set: a group ends after layer l (l < n - 1)
    std::vector<const pe_group_step*> steps;
  };
  // The best partition under LUT ceiling L (fewest cycles, then fewest LUTs), or none meeting the goals.
  auto best_under = [&](std::int64_t L, bool goals) {
    std::optional<choice> best;
    for (std::uint32_t mask = 0; mask < (std::uint32_t{1} << (n - 1)); ++mask) {
      choice c;
      c.mask = mask;
      std::int64_t groups = 0, fills = 0;
      bool ok = true;
      for (std::size_t i = 0; i < n && ok;) {
        std::size_t j = i;
        while (j + 1 < n && !(mask >> j & 1U)) ++j;
        const auto& st = stair[i][j];
        const auto it = std::find_if(st.begin(), st.end(), [&](const pe_group_step& s) { return s.luts <= L; });
        if (it == st.end()) {
          ok = false;
          break;
        }
        c.steps.push_back(&*it);
        ++groups;
        c.t.luts = std::max(c.t.luts, it->luts);
        c.t.brams = std::max(c.t.brams, it->brams);
        c.t.cycles += it->interval;
        fills += streaming_latency(g, i, j, it->interval) - it->interval;
        i = j + 1;
      }
      if (!ok) continue;
      if (groups == 1) {  // the static design: pe_reconfigured_totals' arithmetic
        c.t.latency = c.t.cycles + fills;
      } else {
        c.t.latency = rc.batch * c.t.cycles + fills + (groups - 1) * rc.cycles;
        c.t.cycles += ceil_div(groups * rc.cycles, rc.batch);
      }
      if (goals && (c.t.cycles > lim.cycles || c.t.latency > lim.latency_cycles)) continue;
      if (!best || std::tie(c.t.cycles, c.t.luts, c.t.brams) < std::tie(best->t.cycles, best->t.luts, best->t.brams))
        best = std::move(c);
    }
    return best;
  };
  std::optional<choice> found;
  if (fastest) {
    found = best_under(lim.luts, false);
  } else {
    std::size_t lo = 0, hi = levels.size();  // the least level with a feasible partition, in [lo, hi)
    while (lo < hi) {
      const std::size_t mid = (lo + hi) / 2;
      if (best_under(levels[mid], true))
        hi = mid;
      else
        lo = mid + 1;
    }
    if (lo < levels.size()) found = best_under(levels[lo], true);
  }
  if (!found) return std::nullopt;
  pe_mapping m;
  int group = 0;
  std::size_t k = 0;
  for (std::size_t i = 0; i < n; ++group, ++k) {
    std::size_t j = i;
    while (j + 1 < n && !(found->mask >> j & 1U)) ++j;
    for (std::size_t l = i; l <= j; ++l) {
      const auto& t = table[l];
      const std::size_t o = found->steps[k]->pick[l - i];
      m.layers.push_back({t.tn[o / t.tm.size()], t.tm[o % t.tm.size()], group});
    }
    i = j + 1;
  }
  return m;
}

/// Exhaustive twin of pe_search_reconfigured: every grouping, every Tn in 1..N*K*K and Tm in 1..M per layer (small
/// instances only; throws hwnas::invalid_argument over ~5e7 mappings).
inline std::optional<pe_mapping> pe_search_reconfigured_ref(const device_info& d, const std::vector<layer_geometry>& g,
                                                            const limits& lim, bool fastest,
                                                            const pe_reconfiguration& rc) {
  const std::size_t n = g.size();
  double count = std::pow(2.0, static_cast<double>(n) - 1);
  std::vector<std::vector<std::pair<int, int>>> dims(n);
  std::vector<std::vector<pe_layer_cost>> cost(n);
  for (std::size_t l = 0; l < n; ++l) {
    for (std::int64_t tm = 1; tm <= g[l].out_channels; ++tm)
      for (std::int64_t tn = 1; tn <= reduction_length(g[l]); ++tn) {
        dims[l].emplace_back(static_cast<int>(tn), static_cast<int>(tm));
        cost[l].push_back(pe_layer(d, g[l], tn, tm));
      }
    count *= static_cast<double>(dims[l].size());
  }
  if (count > 5e7)
    throw invalid_argument("pipelined_pe brute force: " + std::to_string(count) +
                           " mappings are too many; use it on small architectures only");
  std::optional<pe_mapping> best;
  pe_totals best_t;
  std::vector<pe_layer_cost> c(n);
  for (std::uint32_t mask = 0; mask < (std::uint32_t{1} << (n - 1)); ++mask) {
    std::vector<int> group(n, 0);
    for (std::size_t l = 1; l < n; ++l) group[l] = group[l - 1] + static_cast<int>(mask >> (l - 1) & 1U);
    const auto p = make_partition(group);
    std::vector<std::size_t> pick(n, 0);
    while (true) {
      for (std::size_t l = 0; l < n; ++l) c[l] = cost[l][pick[l]];
      const auto t = pe_reconfigured_totals(g, p, c, rc);
      const bool ok = t.luts <= lim.luts && t.brams <= lim.brams &&
                      (fastest || (t.cycles <= lim.cycles && t.latency <= lim.latency_cycles));
      if (ok && (!best || pe_better(t, best_t, fastest))) {
        best_t = t;
        pe_mapping m;
        for (std::size_t l = 0; l < n; ++l) m.layers.push_back({dims[l][pick[l]].first, dims[l][pick[l]].second, group[l]});
        best = std::move(m);
      }
      std::size_t l = 0;
      while (l < n && ++pick[l] == cost[l].size()) pick[l++] = 0;
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

  /// The same model with NAQS's accounting (Lu'19): groups are not stages of one static bitstream but bitstreams of
  /// their own, loaded in turn, so the fabric and the block RAM hold one group at a time (LUTs, flip-flops and BRAMs
  /// are the largest group's; group boundary maps go off chip). Each group runs on a batch of `batch_frames` frames
  /// before the next is loaded, and every load (the device's config_bits over its configuration port) is charged:
  /// cycles per frame = sum of the groups' intervals + ceil(G x configuration / batch); latency = the batch's span,
  /// sum_g (batch x interval_g + fills) + (G - 1) configurations. One group is the static design.
  /// Throws hwnas::invalid_argument when batch_frames < 1 or the device gives no configuration figures.
  pipelined_pe reconfigure_groups(std::int64_t batch_frames) const {
    const auto d = device();
    if (batch_frames < 1)
      throw invalid_argument("pipelined_pe::reconfigure_groups: a batch of " + std::to_string(batch_frames) +
                             " frames; give at least 1 (frames run per group before the next bitstream loads)");
    if (d.config_bits <= 0 || d.config_port_bits <= 0 || d.config_clock_mhz <= 0)
      throw invalid_argument("pipelined_pe::reconfigure_groups: the " + std::string(d.name) +
                             " gives no configuration figures; add config_bits, config_port_bits and "
                             "config_clock_mhz to the device (docs/cost-models.md#reconfigured-groups)");
    pipelined_pe m = *this;
    m.reconf_ = {batch_frames, detail::configuration_cycles(d, this->clock_mhz())};
    return m;
  }
  /// Frames per batch when groups are reconfigured, 0 for the static bitstream (the default).
  std::int64_t reconfiguration_batch() const noexcept { return reconf_.batch; }

  /// The report of one given mapping, judged against `s`.
  hw_report evaluate(const architecture& a, const mapping_type& m, const spec& s = {}) const {
    if (reconf_.batch > 0) return evaluate_reconfigured(a, m, s);
    const auto g = detail::quantized_geometry(a, name);
    const auto lim = this->resolved(s);
    detail::check_mapping(g, m);
    std::vector<int> group;
    for (const auto& x : m.layers) group.push_back(x.group);
    const auto p = detail::make_partition(group);
    std::vector<std::int64_t> tn, tm;
    detail::stage_dims(p, m, tn, tm);
    std::vector<detail::pe_layer_cost> layers;
    std::vector<detail::pe_stage_cost> stages;
    const auto t = detail::pe_cost(device(), g, p, tn, tm, &layers, &stages);
    hw_report r;
    r.model = std::string(name);
    r.device = std::string(D::name);
    r.clock_mhz = this->clock_mhz();
    const auto eff = detail::mapping_of(g, p, tn, tm);
    for (std::size_t l = 0; l < g.size(); ++l) {
      const auto st = static_cast<std::size_t>(p.stage[l]);
      const bool owner = p.served[st].front() == l;  // a shared stage's array is listed at its first layer
      layer_report lr;
      lr.name = detail::layer_name(g[l], l);
      lr.parallelism = {{"Tn", eff.layers[l].tn}, {"Tm", eff.layers[l].tm}, {"group", p.group[l]},
                        {"stage", p.stage[l]}};
      // its array (if it owns it), its memories, its lane selection
      lr.luts = (owner ? stages[st].luts : 0) + layers[l].own_luts();
      lr.ffs = (owner ? stages[st].ffs : 0) + layers[l].memory_ffs;
      lr.brams = detail::blocks(device(), layers[l].brams + (owner ? stages[st].brams : 0));
      lr.cycles = layers[l].cycles;
      r.layers.push_back(std::move(lr));
    }
    r.boundary_luts = t.boundary_luts;  // the FIFOs between groups, in no layer
    r.boundary_ffs = t.boundary_ffs;
    r.luts = t.luts;
    r.ffs = t.ffs;
    r.brams = detail::blocks(device(), t.brams);
    r.dsps = 0;
    r.cycles = t.cycles;
    r.latency_cycles = t.latency;
    r.assumptions = {
        {"arrays", "one static bitstream: " +
                       (p.first.size() == 1
                            ? std::string("every layer its own PE array, all streaming at once")
                            : "an S-stage pipeline (S = " + std::to_string(p.served.size()) +
                                  "), its stages shared by the " + std::to_string(p.first.size()) +
                                  " groups, each sized for its largest layer plus multiplexers") +
                       "; no reconfiguration"},
        {"read ports", "one input pixel (all its channels) per cycle into every layer; boundary maps stored one "
                       "pixel per word"},
        {"multipliers", "LUTs (no DSPs), as Lu et al. 2019"},
        {"memories", "as the exported RTL declares them: block RAM, a copy per read port, except ROMs of <= " +
                         std::to_string(logic_rom_max_depth) + " words and RAMs of <= " +
                         std::to_string(logic_ram_max_depth) + " words and the classifier's few input pixels, kept "
                         "in logic (LUTs, flip-flops); block RAM counted as yosys's memory_libmap maps it (one block "
                         "mode, words folded to its rows, the least cost)"},
        {"latency", "first input pixel to class at the design's rate: each group's interval plus its layers' fills"}};
    detail::finish_report(r, device(), s, lim);
    return r;
  }

  /// The least-LUT mapping meeting `s` (ties: fewer cycles, then fewer BRAMs), or nullopt when none exists.
  std::optional<mapping_type> best_mapping(const architecture& a, const spec& s = {}) const {
    return search(a, this->resolved(s), false, false);
  }
  /// The fastest mapping within the resource limits of `s` (its rate/latency goals ignored), or nullopt.
  std::optional<mapping_type> fastest_mapping(const architecture& a, const spec& s = {}) const {
    return search(a, this->resolved(s), true, false);
  }
  /// The least-LUT mapping meeting `s` with one group: every layer on its own PE array (S = n, the design
  /// rtl::generate_verilog builds), or nullopt when no such mapping meets it. Static bitstream accounting.
  std::optional<mapping_type> best_one_group_mapping(const architecture& a, const spec& s = {}) const {
    const auto g = detail::quantized_geometry(a, name);
    return detail::pe_search(device(), g, this->resolved(s), false, g.size());
  }
  /// Brute-force twins of best_mapping / fastest_mapping (small architectures only).
  std::optional<mapping_type> best_mapping_ref(const architecture& a, const spec& s = {}) const {
    return search(a, this->resolved(s), false, true);
  }
  std::optional<mapping_type> fastest_mapping_ref(const architecture& a, const spec& s = {}) const {
    return search(a, this->resolved(s), true, true);
  }

  /// Maps `a` onto the device: the least-LUT mapping meeting `s`; when none exists, the fastest mapping within the
  /// resource limits (or, if even that does not exist, the least-LUT mapping) with feasible == false and the
  /// violated constraints.
  hw_report map(const architecture& a, const spec& s = {}) const {
    return this->map_in_steps(*this, a, s,
                              {"mapping",
                               reconf_.batch > 0 ? "exact search over reconfigured groupings (no shared stages)"
                                                 : "exact search over S-stage pipelines",
                               "exact search", ", even with Tn = Tm = 1"},
                              [&] { return search(a, limits{}, false, false); });
  }

 private:
  detail::pe_reconfiguration reconf_{};  // batch 0: the static bitstream

  std::optional<mapping_type> search(const architecture& a, const limits& lim, bool fastest, bool brute) const {
    const auto g = detail::quantized_geometry(a, name);
    if (reconf_.batch > 0)
      return brute ? detail::pe_search_reconfigured_ref(device(), g, lim, fastest, reconf_)
                   : detail::pe_search_reconfigured(device(), g, lim, fastest, reconf_);
    return brute ? detail::pe_search_ref(device(), g, lim, fastest) : detail::pe_search(device(), g, lim, fastest);
  }

  hw_report evaluate_reconfigured(const architecture& a, const mapping_type& m, const spec& s) const {
    const auto g = detail::quantized_geometry(a, name);
    const auto lim = this->resolved(s);
    detail::check_mapping(g, m, false);
    std::vector<int> group;
    std::vector<detail::pe_layer_cost> layers;
    for (std::size_t l = 0; l < g.size(); ++l) {
      group.push_back(m.layers[l].group);
      layers.push_back(detail::pe_layer(device(), g[l], m.layers[l].tn, m.layers[l].tm));
    }
    const auto p = detail::make_partition(group);
    const auto t = detail::pe_reconfigured_totals(g, p, layers, reconf_);
    hw_report r;
    r.model = std::string(name);
    r.device = std::string(D::name);
    r.clock_mhz = this->clock_mhz();
    for (std::size_t l = 0; l < g.size(); ++l) {
      layer_report lr;
      lr.name = detail::layer_name(g[l], l);
      lr.parallelism = {{"Tn", m.layers[l].tn}, {"Tm", m.layers[l].tm}, {"group", m.layers[l].group}};
      lr.luts = layers[l].luts;
      lr.ffs = layers[l].ffs;
      lr.brams = detail::blocks(device(), layers[l].brams);
      lr.cycles = layers[l].cycles;
      r.layers.push_back(std::move(lr));
    }
    r.luts = t.luts;
    r.ffs = t.ffs;
    r.brams = detail::blocks(device(), t.brams);
    r.cycles = t.cycles;
    r.latency_cycles = t.latency;
    const auto groups = p.first.size();
    r.reconfiguration = {reconf_.batch, static_cast<std::int64_t>(groups), reconf_.cycles};
    const double config_ms = static_cast<double>(reconf_.cycles) / (this->clock_mhz() * 1e3);
    r.assumptions = {
        {"arrays", groups == 1 ? std::string("one group: one static bitstream, every layer its own PE array (nothing "
                                             "is reconfigured)")
                               : "reconfigured (NAQS's accounting): each of the " + std::to_string(groups) +
                                     " groups is a bitstream of its own, loaded in turn; LUTs, flip-flops and block "
                                     "RAMs are the largest group's; group boundary maps are kept off chip"},
        {"reconfiguration", "a full configuration takes " + detail::format_number(config_ms) + " ms (" +
                                std::to_string(reconf_.cycles) + " cycles; the " + std::string(D::name) + "'s " +
                                std::to_string(device().config_bits) + " bits over " +
                                std::to_string(device().config_port_bits) + " bits at " +
                                detail::format_number(device().config_clock_mhz) + " MHz)" +
                                (groups == 1 ? std::string("; with one group none is needed")
                                             : "; each group runs on a batch of " + std::to_string(reconf_.batch) +
                                                   " frames, so a frame pays ceil(" + std::to_string(groups) +
                                                   " x configuration / batch) = " +
                                                   std::to_string(ceil_div(static_cast<std::int64_t>(groups) *
                                                                               reconf_.cycles,
                                                                           reconf_.batch)) +
                                                   " cycles")},
        {"read ports", "one input pixel (all its channels) per cycle into every layer"},
        {"multipliers", "LUTs (no DSPs), as Lu et al. 2019"},
        {"latency", groups == 1 ? std::string("first input pixel to class: the interval plus every layer's fill")
                                : std::string("a batch's span to its last class: per group the batch's intervals "
                                              "and its layers' fills, plus the configurations between groups")}};
    detail::finish_report(r, device(), s, lim);
    return r;
  }

};

static_assert(CostModel<pipelined_pe<>>);

}  // namespace hwnas::fpga
