#pragma once
/// @file
/// Verilog-2005 for an integer network under a pipelined_pe mapping: the accelerator the cost model
/// describes (docs/cost-models.md#pipelined-pe, docs/hardware.md), generated from rtl::design_plan.
///
/// Per conv layer: a circular line buffer of input rows (one pixel of N channels per word, one read port per pixel a
/// pass reads), a weight ROM of qm qn words of Tn Tm w bits (`$readmemh`), each memory with the placement attribute
/// the cost model prices (memory_style: block RAM, or logic when shallow, fpga::memory_in_logic), and a Tn x Tm
/// PE array: registered products, per column an adder tree whose levels grow a bit each, an accumulator that starts
/// from the bias, and a requantizer (round half away from zero, ReLU, saturate; docs/fixed-point.md); then the 2x2
/// max-pool (a register of one output pixel's tiles and a row buffer of half a row) and a registered output pixel.
/// The classifier streams: it keeps a few pixels, its M accumulators take every pass in turn, and it emits the
/// logits (signed, `logit_bits` wide) and their argmax (first maximum). Interfaces are valid/ready; a layer emits at
/// most one pixel per cycle and takes one per cycle.
///
/// Pipeline of a layer, in cycles after a pass is issued: 1 the buffer and weight reads, 2 the products, 3 the
/// accumulator, 4 the requantized (pooled) output register. A layer issues one pass per cycle when its window is in
/// the buffer and its output register is free.
///
/// Several groups: the t-th layer of every group runs on stage t. A stage serving more than one layer is a module
/// of its own (stage_module: the array and one weight memory for its layers), owned by one layer at a time for a
/// whole frame, in group order; a whole-map FIFO (boundary_module) sits between groups (docs/hardware.md#groups).

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "hwnas/core/atomic_file.hpp"
#include "hwnas/core/error.hpp"
#include "hwnas/rtl/plan.hpp"

// GCC 12 reports a false -Wrestrict in std::string's operator+ (PR 105651) when this file's string building is
// inlined; the code is plain string concatenation.
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ == 12
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wrestrict"
#define HWNAS_RTL_RESTRICT_PUSHED
#endif

namespace hwnas::rtl {

/// Options of the generator.
struct verilog_options {
  /// Name of the top module; the layers are `<top>_l<i>` and `<top>_fc`, the memory files `<top>_l<i>_w.mem`.
  std::string top = "hwnas_top";
};

/// One file of a generated design.
struct design_file {
  std::string name;  ///< file name, no directory
  std::string text;
};

/// A generated design: the plan it implements and its files (the Verilog, one weight memory file per layer).
struct verilog_design {
  std::string top;
  design_plan plan;
  std::vector<design_file> files;
  /// Width of the input port: one pixel, input_channels codes of input_bits each, channel 0 in the low bits.
  int input_width() const noexcept { return plan.input_channels * plan.input_bits; }
  /// Width of the logits port: classes signed numbers of logit_bits each, class 0 in the low bits.
  int logits_width() const noexcept { return plan.classes * plan.logit_bits; }
  /// Width of the class port.
  int class_width() const noexcept { return counter_bits(plan.classes - 1); }
};

namespace detail {

inline std::string ud(int width, std::int64_t v) { return std::to_string(width) + std::string("'d") + std::to_string(v); }

/// The synthesis attribute that places a memory of `depth` words where the cost model prices it
/// (fpga::memory_in_logic, fpga::place_memory): `rom_style` / `ram_style` "logic" or "block", as yosys reads them
/// (memory_libmap), then a space. Vivado reads the same names with "block" but spells logic "registers" (RAM) or
/// "distributed" (ROM); Quartus reads `ramstyle` (docs/hardware.md#taking-it-to-a-vendor-flow).
inline std::string memory_style(std::int64_t depth, bool rom, bool force_logic = false) {
  const bool logic = force_logic || fpga::memory_in_logic(depth, rom);
  return std::string("(* ") + (rom ? "rom_style" : "ram_style") + " = \"" + (logic ? "logic" : "block") + "\" *) ";
}

/// `expr` (a simple name, `from` bits wide) as a `to`-bit expression: zero-extended or its low bits.
inline std::string fit(const std::string& expr, int from, int to) {
  if (from == to) return expr;
  if (from < to) return std::string("{") + std::to_string(to - from) + "'d0, " + expr + "}";
  return expr + std::string("[") + std::to_string(to - 1) + ":0]";
}

/// Two's complement of v in `width` bits as hex digits (width may exceed 64: sign-filled).
inline std::string hex_word(const std::vector<std::int64_t>& fields, int field_bits) {
  // fields[0] in the low bits
  const std::size_t bits = fields.size() * static_cast<std::size_t>(field_bits);
  const std::size_t digits = (bits + 3) / 4;
  std::string out(digits, '0');
  for (std::size_t d = 0; d < digits; ++d) {
    int nibble = 0;
    for (int b = 0; b < 4; ++b) {
      const std::size_t bit = d * 4 + static_cast<std::size_t>(b);
      if (bit >= bits) break;
      const std::size_t f = bit / static_cast<std::size_t>(field_bits);
      const int k = static_cast<int>(bit % static_cast<std::size_t>(field_bits));
      const std::uint64_t v = static_cast<std::uint64_t>(fields[f]);
      const int bitval = k < 64 ? static_cast<int>((v >> k) & 1u) : static_cast<int>((v >> 63) & 1u);
      nibble |= bitval << b;
    }
    out[digits - 1 - d] = "0123456789abcdef"[nibble];
  }
  return out;
}

/// A Verilog literal of `width` bits holding the fields (each `field_bits` wide, two's complement).
inline std::string hex_literal(const std::vector<std::int64_t>& fields, int field_bits) {
  return std::to_string(fields.size() * static_cast<std::size_t>(field_bits)) + "'h" + hex_word(fields, field_bits);
}

/// The weight code a hardware memory stores: two's complement in w bits; a bipolar 1-bit weight (+1 / -1) as 1 / 0.
inline std::int64_t stored_weight(std::int64_t code, int w) { return w == 1 ? (code > 0 ? 1 : 0) : code; }

/// Where lane i of pass p reads: the port (pixel of the pass) and the channel, or -1 past the reduction.
struct lane_source {
  int port = -1, channel = 0;
};
inline lane_source lane_of(std::int64_t p, std::int64_t i, std::int64_t tn, std::int64_t channels,
                           std::int64_t extent) {
  const std::int64_t r = p * tn + i;
  if (r >= extent) return {};
  const std::int64_t first_pixel = p * tn / channels;
  return {static_cast<int>(r / channels - first_pixel), static_cast<int>(r % channels)};
}

/// The per-column PE datapath shared by conv layers and the classifier, for column `m` (its names prefixed by `P`):
/// registered products of the lane activations `acts` and the column's weights in `w1`, the adder tree, and the sum
/// `<P>s` (tree_bits wide). Constant slices only (no generate loops: yosys 0.23 rejects a genvar in a +: select
/// inside an always block).
inline void emit_column(std::ostringstream& v, const layer_plan& L, int m, const std::string& P, int& tree_bits) {
  const int A = L.g.act_bits, WB = L.g.weight_bits, TN = L.tn;
  const int PB = A + WB;  // a bipolar a x 1 product is a + 1 bits, like any a x w
  for (int i = 0; i < TN; ++i) v << "  reg signed [" << PB - 1 << ":0] " << P << "pr" << i << ";\n";
  v << "  always @(posedge clk) if (en) begin\n";
  for (int i = 0; i < TN; ++i) {
    const std::string a = "acts[" + std::to_string(i * A + A - 1) + ":" + std::to_string(i * A) + "]";
    const int lo = (m * TN + i) * WB;
    const std::string w = WB == 1 ? "w1[" + std::to_string(lo) + "]"
                                  : "w1[" + std::to_string(lo + WB - 1) + ":" + std::to_string(lo) + "]";
    if (WB == 1) {
      v << "    " << P << "pr" << i << " <= " << w << " ? $signed({1'b0, " << a << "}) : -$signed({1'b0, " << a << "});\n";
    } else {
      // both operands extended to the product's width: the product is exact there
      v << "    " << P << "pr" << i << " <= $signed({" << WB << "'d0, " << a << "}) * $signed({{" << A << "{w1["
        << lo + WB - 1 << "]}}, " << w << "});\n";
    }
  }
  v << "  end\n";
  // adder tree: level k adds (PB + k - 1)-bit pairs into PB + k bits; an odd element passes on sign-extended
  std::vector<std::string> names;
  for (int i = 0; i < TN; ++i) names.push_back(P + "pr" + std::to_string(i));
  int bits = PB, level = 0;
  while (names.size() > 1) {
    std::vector<std::string> next;
    for (std::size_t i = 0; i + 1 < names.size(); i += 2) {
      const std::string nm = P + "t" + std::to_string(level + 1) + "_" + std::to_string(i / 2);
      v << "  wire signed [" << bits << ":0] " << nm << " = {" << names[i] << "[" << bits - 1 << "], " << names[i]
        << "} + {" << names[i + 1] << "[" << bits - 1 << "], " << names[i + 1] << "};\n";
      next.push_back(nm);
    }
    if (names.size() % 2) {
      const std::string nm = P + "t" + std::to_string(level + 1) + "_" + std::to_string(names.size() / 2);
      v << "  wire signed [" << bits << ":0] " << nm << " = {" << names.back() << "[" << bits - 1 << "], "
        << names.back() << "};\n";
      next.push_back(nm);
    }
    names = std::move(next);
    ++bits;
    ++level;
  }
  v << "  wire signed [" << bits - 1 << ":0] " << P << "s = " << names[0] << ";\n";
  tree_bits = bits;
}

/// Sign-extension of the column sum `<P>s` (tree_bits) to `acc` bits.
inline std::string extend_sum(const std::string& P, int tree_bits, int acc) {
  if (tree_bits == acc) return P + "s";
  return "{{" + std::to_string(acc - tree_bits) + "{" + P + "s[" + std::to_string(tree_bits - 1) + "]}}, " + P + "s}";
}

/// The requantizer of one column: signed `<P>acc` (ACC bits) to an unsigned OB-bit `<P>q`, shift right with
/// rounding half away from zero (or left when shift <= 0), ReLU, saturation (docs/fixed-point.md; hwnas::requantize).
inline void emit_requantizer(std::ostringstream& v, const std::string& P, int ACC, int OB, int shift) {
  const std::int64_t max_code = (std::int64_t{1} << OB) - 1;
  const std::string acc = P + "acc";
  if (shift >= ACC) {  // every non-negative accumulator rounds to 0
    v << "  wire [" << OB - 1 << ":0] " << P << "q = " << OB << "'d0;\n";
    v << "  wire " << P << "unused_acc = &{1'b0, " << acc << "};\n";
    return;
  }
  if (shift > 0) {
    const int QB = ACC + 1 - shift;  // (acc + 2^(shift-1)) >>> shift fits in QB bits, sign included
    v << "  wire signed [" << ACC << ":0] " << P << "r = {" << acc << "[" << ACC - 1 << "], " << acc << "} + " << ACC + 1
      << "'sd" << (std::int64_t{1} << (shift - 1)) << ";\n";
    v << "  wire [" << QB - 1 << ":0] " << P << "qs = " << P << "r[" << ACC << ":" << shift << "];\n";
    if (QB - 1 > OB) {
      v << "  wire " << P << "ovf = |" << P << "qs[" << QB - 2 << ":" << OB << "];\n";
      v << "  wire [" << OB - 1 << ":0] " << P << "q = " << acc << "[" << ACC - 1 << "] ? " << OB << "'d0 : " << P
        << "ovf ? " << OB << "'d" << max_code << " : " << P << "qs[" << OB - 1 << ":0];\n";
    } else {
      const std::string low = P + "qs[" + std::to_string(QB - 2) + ":0]";
      const std::string ext = QB - 1 == OB ? low : "{" + std::to_string(OB - (QB - 1)) + "'d0, " + low + "}";
      v << "  wire [" << OB - 1 << ":0] " << P << "q = " << acc << "[" << ACC - 1 << "] ? " << OB << "'d0 : " << ext
        << ";\n";
    }
    v << "  wire " << P << "unused_r = &{1'b0, " << P << "r[" << shift - 1 << ":0], " << P << "qs[" << QB - 1 << "]};\n";
    return;
  }
  // shift <= 0: the code is acc * 2^ls, saturated
  const int ls = -shift;
  const int MB = ACC - 1;  // magnitude bits of a non-negative acc
  const std::int64_t lim = max_code >> ls;
  v << "  wire [" << MB - 1 << ":0] " << P << "mag = " << acc << "[" << MB - 1 << ":0];\n";
  if (MB >= 63 || lim < (std::int64_t{1} << MB) - 1)
    v << "  wire " << P << "ovf = " << P << "mag > " << MB << "'d" << lim << ";\n";
  else
    v << "  wire " << P << "ovf = 1'b0;\n";
  const int SB = MB + ls;  // bits of mag << ls
  const std::string shifted = ls ? "{" + P + "mag, " + std::to_string(ls) + "'d0}" : P + "mag";
  v << "  wire [" << SB - 1 << ":0] " << P << "shl = " << shifted << ";\n";
  const std::string low = SB >= OB ? P + "shl[" + std::to_string(OB - 1) + ":0]"
                                   : "{" + std::to_string(OB - SB) + "'d0, " + P + "shl}";
  v << "  wire [" << OB - 1 << ":0] " << P << "q = " << acc << "[" << ACC - 1 << "] ? " << OB << "'d0 : " << P << "ovf ? "
    << OB << "'d" << max_code << " : " << low << ";\n";
  if (SB > OB) v << "  wire " << P << "unused_shl = &{1'b0, " << P << "shl[" << SB - 1 << ":" << OB << "]};\n";
}

/// `sel ? a : b` lane-wise maximum of two Tm-lane vectors of OB-bit codes, into `out`.
inline void emit_lane_max(std::ostringstream& v, const std::string& out, const std::string& a, const std::string& b,
                          int TM, int OB) {
  v << "  wire [" << TM * OB - 1 << ":0] " << out << ";\n";
  for (int m = 0; m < TM; ++m) {
    const std::string sl = std::string("[") + std::to_string(m * OB + OB - 1) + std::string(":") + std::to_string(m * OB) + "]";
    v << "  assign " << out << sl << " = " << a << sl << " > " << b << sl << " ? " << a << sl << " : " << b << sl
      << ";\n";
  }
}

/// `name` = tile j of `base` (tiles of tile_bits, tile 0 in the low bits): a case over j, one multiplexer input per
/// tile. (A variable part-select `base[j*B +: B]` costs far more: yosys 0.23 builds it as a barrel shifter over the
/// whole vector, ceil(log2) levels of tiles x tile_bits 2:1 multiplexers; measured on a classifier of 10
/// accumulators: 1,493 LUT4s against 793 with the case and write_tile.)
inline void read_tile(std::ostringstream& v, const std::string& name, const std::string& base, const std::string& j,
                      int jw, std::int64_t tiles, int tile_bits) {
  if (tiles == 1) {
    v << "  wire [" << tile_bits - 1 << ":0] " << name << " = " << base << ";\n";
    return;
  }
  v << "  reg [" << tile_bits - 1 << ":0] " << name << ";\n  always @* begin\n    " << name << " = " << tile_bits
    << "'d0;\n    case (" << j << ")\n";
  for (std::int64_t t = 0; t < tiles; ++t)
    v << "      " << ud(jw, t) << ": " << name << " = " << base << "[" << (t + 1) * tile_bits - 1 << ":" << t * tile_bits
      << "];\n";
  v << "      default: ;\n    endcase\n  end\n";
}

/// `base`'s tile j <= value when `cond`: one enable per tile (a flip-flop with enable; no multiplexer), tiles
/// 0..tiles-1.
inline void write_tile(std::ostringstream& v, const std::string& cond, const std::string& base, const std::string& j,
                       int jw, std::int64_t tiles, int tile_bits, const std::string& value) {
  if (tiles == 1) {
    v << "  always @(posedge clk) if (" << cond << ") " << base << " <= " << value << ";\n";
    return;
  }
  for (std::int64_t t = 0; t < tiles; ++t)
    v << "  always @(posedge clk) if (" << cond << " && " << j << " == " << ud(jw, t) << ") " << base << "["
      << (t + 1) * tile_bits - 1 << ":" << t * tile_bits << "] <= " << value << ";\n";
}

/// Channel offsets c0 = (p Tn) mod channels the passes start at: lane i of a pass reads element c0 + i of its ports'
/// concatenated pixels, so a lane chooses among these few values, not among every pass.
inline std::vector<std::int64_t> pass_offsets(const layer_plan& L) {
  std::vector<std::int64_t> out;
  for (std::int64_t p = 0; p < L.passes; ++p) out.push_back(p * L.tn % L.channels);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

/// Lane selection: lane i's activation for the pass in stage 1 is element c01 + i of the read ports' pixels
/// (port 0 in the low bits, a padded port reads zeros); lanes past the reduction in the last pass read 0.
inline void emit_lane_select(std::ostringstream& v, const layer_plan& L, std::int64_t extent, int C0W) {
  const int A = L.g.act_bits, TN = L.tn, CH = L.channels, PORTS = L.read_ports;
  const int EW = PORTS * CH * A;
  v << "  wire [" << EW - 1 << ":0] elems = {";
  for (int q = PORTS - 1; q >= 0; --q)
    v << "padr[" << q << "] ? " << CH * A << "'d0 : rq" << q << (q ? ", " : "");
  v << "};\n";
  const std::int64_t rem = extent - (L.passes - 1) * TN;  // lanes of the last pass
  const auto offsets = pass_offsets(L);
  v << "  wire unused_elems = &{1'b0, elems, c01};  // lanes read a window of the ports' pixels\n";
  v << "  wire [" << TN * A - 1 << ":0] acts;\n";
  for (int i = 0; i < TN; ++i) {
    v << "  reg [" << A - 1 << ":0] act" << i << ";\n";
    v << "  always @* begin\n    act" << i << " = " << A << "'d0;\n";
    if (offsets.size() == 1) {
      if (i == 0) v << "    // one offset: c01 is always " << offsets[0] << "\n";
      const std::int64_t e = offsets[0] + i;
      if ((e + 1) * A <= EW) v << "    act" << i << " = elems[" << (e + 1) * A - 1 << ":" << e * A << "];\n";
    } else {
      v << "    case (c01)\n";
      for (const auto c0 : offsets) {
        const std::int64_t e = c0 + i;
        if ((e + 1) * A > EW) continue;  // only the last pass reaches past the ports, and masks the lane
        v << "      " << ud(C0W, c0) << ": act" << i << " = elems[" << (e + 1) * A - 1 << ":" << e * A << "];\n";
      }
      v << "      default: act" << i << " = " << A << "'d0;\n    endcase\n";
    }
    if (i >= rem) v << "    if (last1) act" << i << " = " << A << "'d0;\n";
    v << "  end\n  assign acts[" << i * A + A - 1 << ":" << i * A << "] = act" << i << ";\n";
  }
}

/// Bias words of the tiles: tile j's Tm bias codes (ACC bits each), lanes past M hold 0.
inline std::vector<std::string> bias_words(const layer_plan& L, const std::vector<std::int32_t>& bias) {
  std::vector<std::string> out;
  for (std::int64_t j = 0; j < L.tiles; ++j) {
    std::vector<std::int64_t> f;
    for (int m = 0; m < L.tm; ++m) {
      const std::int64_t c = j * L.tm + m;
      f.push_back(c < L.g.out_channels ? bias[static_cast<std::size_t>(c)] : 0);
    }
    out.push_back(hex_literal(f, L.acc_bits));
  }
  return out;
}

/// The weight memory file: word (j, p) at address j*qn + p (conv) or p*qm + j (classifier), lane (i, m) at bits
/// ((m*Tn + i)*w). `weight_at(m, r)` is the code of output m and reduction index r (tap-major order). On a shared
/// stage the words are the stage's (st: its Tn x Tm lanes of its w bits; the layer's lanes first, the others 0, a
/// narrower weight sign-extended and a bipolar one stored as +1 / -1 when the stage's weights are wider).
template <class WeightAt>
std::string weight_memory(const layer_plan& L, bool pass_major, WeightAt weight_at, const stage_plan* st = nullptr) {
  const std::int64_t extent = fpga::detail::reduction_length(L.g);
  std::string out;
  const int lane_tn = st ? st->tn : L.tn, lane_tm = st ? st->tm : L.tm;
  const int w = st ? st->weight_bits : L.g.weight_bits;
  auto word = [&](std::int64_t j, std::int64_t p) {
    std::vector<std::int64_t> f;
    for (int m = 0; m < lane_tm; ++m)
      for (int i = 0; i < lane_tn; ++i) {
        const std::int64_t mm = j * L.tm + m, r = p * L.tn + i;
        const bool in = m < L.tm && i < L.tn && mm < L.g.out_channels && r < extent;
        f.push_back(in ? stored_weight(weight_at(mm, r), w) : 0);
      }
    out += hex_word(f, w);
    out += '\n';
  };
  if (pass_major) {
    for (std::int64_t p = 0; p < L.passes; ++p)
      for (std::int64_t j = 0; j < L.tiles; ++j) word(j, p);
  } else {
    for (std::int64_t j = 0; j < L.tiles; ++j)
      for (std::int64_t p = 0; p < L.passes; ++p) word(j, p);
  }
  return out;
}

/// A layer on a shared stage (stage_plan::shared) hands its array work to the stage module: these are the ports it
/// adds (grant from the stage; release, its lanes' activations, its weight address and its pipeline enable to it;
/// the stage's column sums back), `waw` the bits of its weight address.
inline std::string shared_ports(const stage_plan* st, int waw) {
  if (!st) return {};
  return "  input wire grant,\n  output wire rel_o,\n  output wire [" + std::to_string(st->tn * st->act_bits - 1) +
         ":0] acts_o,\n  output wire [" + std::to_string(waw - 1) + ":0] wa_o,\n  output wire en_o,\n  input wire [" +
         std::to_string(st->tm * st->sum_bits() - 1) + ":0] sum,\n";
}

/// The issue condition of a layer on a shared stage: it issues only while the stage is granted to it, and once its
/// frame's last pass has gone (`done`: frame_end or the classifier's last pass) it waits for the grant to leave.
inline void emit_issued_decl(std::ostringstream& v, const stage_plan* st) {
  if (st) v << "  reg issued;  // this frame's passes have all gone: wait for the stage to come back\n";
}
inline void emit_grant(std::ostringstream& v, const stage_plan* st, const std::string& done) {
  if (!st) return;
  v << "  always @(posedge clk) begin\n    if (rst) issued <= 1'b0;\n    else if (" << done
    << ") issued <= 1'b1;\n    else if (!grant) issued <= 1'b0;\n  end\n";
}

/// What a layer on a shared stage gives the stage once its pipeline registers exist: release (its last pass has
/// left the array), its weight address and enable, and its Tn lanes' activations zero-extended to the stage's width
/// (lanes past its Tn read 0).
inline void emit_shared_outputs(std::ostringstream& v, const layer_plan& L, const stage_plan* st) {
  if (!st) return;
  const int A = L.g.act_bits, AS = st->act_bits;
  v << "  assign rel_o = issued && !v1 && !v2;\n  assign wa_o = wa;\n  assign en_o = en;\n";
  v << "  assign acts_o = {";
  for (int i = st->tn - 1; i >= 0; --i) {
    if (i >= L.tn) v << AS << "'d0";
    else if (AS > A) v << "{" << AS - A << "'d0, acts[" << i * A + A - 1 << ":" << i * A << "]}";
    else v << "acts[" << i * A + A - 1 << ":" << i * A << "]";
    v << (i ? ", " : "};\n");
  }
  v << "  wire unused_sum = &{1'b0, sum};  // columns past Tm, bits past the accumulator\n";
}

/// Column m's sum `<P>s`: the layer's own products and adder tree (emit_column), or the shared stage's sum.
inline void emit_column_sum(std::ostringstream& v, const layer_plan& L, const stage_plan* st, int m,
                            const std::string& P, int& tree_bits) {
  if (!st) return emit_column(v, L, m, P, tree_bits);
  // the stage's sum is sum_bits wide; a pass of this layer fits its accumulator: the low bits are the value
  const int SB = st->sum_bits();
  tree_bits = std::min(SB, L.acc_bits);
  v << "  wire signed [" << tree_bits - 1 << ":0] " << P << "s = sum[" << m * SB + tree_bits - 1 << ":" << m * SB
    << "];\n";
}

/// A layer on a shared stage reads its weights from the stage; a layer with its own array reads them here: the
/// ROM and its read register w1.
inline void emit_own_weights(std::ostringstream& v, const layer_plan& L, const stage_plan* st,
                             const std::string& mem_file) {
  if (st) return;
  const std::int64_t words = L.passes * L.tiles;
  v << "  " << memory_style(words, true) << "reg [" << L.weight_width - 1 << ":0] wrom [0:" << words - 1 << "];\n";
  v << "  initial $readmemh(\"" << mem_file << "\", wrom);\n";
  v << "  reg [" << L.weight_width - 1 << ":0] w1;\n  always @(posedge clk) if (en) w1 <= wrom[wa];\n";
}

/// A conv layer's module.
inline std::string conv_module(const std::string& name, const std::string& mem_file, const layer_plan& L,
                               const std::vector<std::int32_t>& bias, const stage_plan* st = nullptr) {
  const auto& g = L.g;
  const int N = L.channels, A = g.act_bits, M = g.out_channels, OB = g.out_bits, WB = g.weight_bits;
  const int H = g.in_height, W = g.in_width, K = g.kernel, S = g.stride, PT = g.pad_top, PL = g.pad_left;
  const int R = g.out_height, C = g.out_width, TN = L.tn, TM = L.tm, ACC = L.acc_bits;
  const std::int64_t QN = L.passes, QM = L.tiles, KR = L.buffer_rows;
  const int PORTS = L.read_ports;
  const bool pool = g.pool == 2;
  const std::int64_t extent = fpga::detail::reduction_length(g);
  const int OUTW = M * OB;
  // widths
  const int CW = counter_bits(W - 1), SW = counter_bits(KR - 1), DW = counter_bits(KR);
  const int AW = counter_bits(KR * W - 1);
  const int YW = std::max(counter_bits(std::int64_t{R} * S + K + PT + H + KR), DW);
  const int DSW = YW + 1;  // D, signed
  const int XW = std::max(counter_bits(std::int64_t{C} * S + K + PL + W), CW);
  const int OYW = counter_bits(R - 1), OXW = counter_bits(C - 1);
  const int PW = counter_bits(QN - 1), JW = counter_bits(QM - 1), WAW = counter_bits(QN * QM - 1);
  const std::int64_t delta_frame = H - std::int64_t{R - 1} * S;  // rows the top slot moves at a new frame
  std::ostringstream v;
  v << "// conv layer: " << N << "x" << H << "x" << W << " -> " << M << " channels, " << K << "x" << K << " kernel, stride "
    << S << (pool ? ", 2x2 max-pool" : "") << "; array Tn=" << TN << " x Tm=" << TM << ", " << QN << " passes x " << QM
    << " tiles per output pixel\n";
  v << "// activations u" << A << " bits, weights s" << WB << " bits" << (WB == 1 ? " (bipolar)" : "") << ", accumulator "
    << ACC << " bits, requantizer shift " << L.shift << ", outputs " << OB << " bits; line buffer " << KR << " rows x "
    << W << " pixels, " << PORTS << " read port(s)\n";
  v << "module " << name << " (\n  input wire clk,\n  input wire rst,\n  input wire in_valid,\n  output wire in_ready,\n"
    << "  input wire [" << N * A - 1 << ":0] in_data,\n" << shared_ports(st, WAW)
    << "  output reg out_valid,\n  input wire out_ready,\n  output reg [" << OUTW - 1 << ":0] out_data\n);\n";
  v << "  wire en = !out_valid || out_ready;  // the pipeline moves unless a finished pixel waits\n\n";
  emit_issued_decl(v, st);
  // ---- writer
  v << "  // line buffer: a circular buffer of " << KR << " rows; D = rows from the oldest row still needed to the row "
       "being written\n  // (signed: negative while the writer still fills rows no window reads, once the compute has "
       "moved past them)\n";
  v << "  " << memory_style(std::int64_t{KR} * W, false) << "reg [" << N * A - 1 << ":0] lb [0:" << KR * W - 1 << "];\n";
  v << "  reg [" << CW - 1 << ":0] wr_col;\n  reg [" << SW - 1 << ":0] wr_slot;\n  reg signed [" << DSW - 1 << ":0] D;\n";
  v << "  wire [" << YW - 1 << ":0] freed_rows;\n";
  v << "  assign in_ready = D < " << DSW << "'sd" << KR << ";\n";
  v << "  wire wr_fire = in_valid && in_ready;\n";
  v << "  wire row_done = wr_fire && wr_col == " << ud(CW, W - 1) << ";\n";
  v << "  wire [" << AW - 1 << ":0] wr_addr = " << (AW > SW ? std::string("{") + std::to_string(AW - SW) + "'d0, wr_slot}" : "wr_slot")
    << " * " << ud(AW, W) << " + " << (AW > CW ? std::string("{") + std::to_string(AW - CW) + "'d0, wr_col}" : "wr_col") << ";\n";
  v << "  always @(posedge clk) if (wr_fire) lb[wr_addr] <= in_data;\n";
  v << "  always @(posedge clk) begin\n    if (rst) begin\n      wr_col <= " << ud(CW, 0) << ";\n      wr_slot <= "
    << ud(SW, 0) << ";\n      D <= " << DSW << "'sd0;\n    end else begin\n";
  v << "      if (wr_fire) wr_col <= row_done ? " << ud(CW, 0) << " : wr_col + " << ud(CW, 1) << ";\n";
  v << "      if (row_done) wr_slot <= wr_slot == " << ud(SW, KR - 1) << " ? " << ud(SW, 0) << " : wr_slot + " << ud(SW, 1)
    << ";\n";
  v << "      D <= D + $signed({" << DSW - 1 << "'d0, row_done}) - $signed({1'b0, freed_rows});\n    end\n  end\n\n";
  // ---- issue
  v << "  // issue: one pass per cycle over output pixels (oy, ox), tiles j, passes p\n";
  v << "  reg [" << OYW - 1 << ":0] oy;\n  reg [" << OXW - 1 << ":0] ox;\n  reg [" << YW - 1 << ":0] iy0;  // oy*S\n"
    << "  reg [" << XW - 1 << ":0] ix0;  // ox*S\n  reg [" << SW - 1 << ":0] top_slot;  // slot of input row oy*S - PT\n"
    << "  reg [" << PW - 1 << ":0] p;\n  reg [" << JW - 1 << ":0] j;\n  reg [" << WAW - 1 << ":0] wa;\n";
  // unsigned min / max against a constant (a bound of 0 makes the comparison constant: left out)
  auto umin = [](const std::string& x, int w, std::int64_t c) {
    return c == 0 ? ud(w, 0) : "(" + x + " < " + ud(w, c) + " ? " + x + " : " + ud(w, c) + ")";
  };
  auto umax = [](const std::string& x, int w, std::int64_t c) {
    return c == 0 ? x : "(" + x + " > " + ud(w, c) + " ? " + x + " : " + ud(w, c) + ")";
  };
  // The window test reads registers only (need_r, lastcol_r: the current output row's and column's last input row
  // and column), so that the issue decision is a comparison, not an adder chain: the values of the next row and
  // column are computed from the counters beside it and loaded when the pixel advances.
  auto first_of = [&](std::int64_t iy) { return std::max<std::int64_t>(iy, PT) - PT; };  // iy = oy*S
  auto last_of = [&](std::int64_t iy) { return std::min<std::int64_t>(iy + K - 1, PT + H - 1) - PT; };
  auto lastcol_of = [&](std::int64_t ix) { return std::min<std::int64_t>(ix + K - 1, PL + W - 1) - PL; };
  auto first_v = [&](const std::string& iy) { return "(" + umax(iy, YW, PT) + " - " + ud(YW, PT) + ")"; };
  auto last_v = [&](const std::string& iy) {
    return "(" + umin("(" + iy + " + " + ud(YW, K - 1) + ")", YW, PT + H - 1) + " - " + ud(YW, PT) + ")";
  };
  v << "  reg [" << YW - 1 << ":0] need_r;     // last row the window needs, from the oldest row held\n"
    << "  reg [" << XW - 1 << ":0] lastcol_r;  // last column the window needs\n"
    << "  reg [" << YW - 1 << ":0] freed_r;    // rows freed when this output row ends (not the frame's last)\n";
  v << "  wire [" << YW - 1 << ":0] iy1 = iy0 + " << ud(YW, S) << ", iy2 = iy0 + " << ud(YW, 2 * S) << ";\n";
  v << "  wire [" << XW - 1 << ":0] ix1 = ix0 + " << ud(XW, S) << ";\n";
  if (PL + W - 1 == 0) v << "  wire unused_ix1 = &{1'b0, ix1};  // one input column: the last column is 0\n";
  v << "  wire [" << YW - 1 << ":0] need_next = " << last_v("iy1") << " - " << first_v("iy1") << ";\n";
  v << "  wire [" << YW - 1 << ":0] freed_next = " << first_v("iy2") << " - " << first_v("iy1") << ";\n";
  v << "  wire [" << XW - 1 << ":0] lastcol_next = " << umin("(ix1 + " + ud(XW, K - 1) + ")", XW, PL + W - 1) << " - "
    << ud(XW, PL) << ";\n";
  v << "  wire signed [" << DSW - 1 << ":0] need_s = $signed({1'b0, need_r});\n";
  v << "  wire [" << XW - 1 << ":0] colx = " << (XW > CW ? std::string("{") + std::to_string(XW - CW) + "'d0, wr_col}" : "wr_col")
    << ";\n";
  v << "  wire window_in = D > need_s || (D == need_s && colx > lastcol_r);\n";
  v << "  wire pixel_start = p == " << ud(PW, 0) << " && j == " << ud(JW, 0) << ";\n";
  v << "  wire go = en" << (st ? " && grant && !issued" : "") << " && (!pixel_start || window_in);\n";
  v << "  wire pixel_end = go && p == " << ud(PW, QN - 1) << " && j == " << ud(JW, QM - 1) << ";\n";
  v << "  wire row_end = pixel_end && ox == " << ud(OXW, C - 1) << ";\n";
  v << "  wire frame_end = row_end && oy == " << ud(OYW, R - 1) << ";\n";
  emit_grant(v, st, "frame_end");
  const std::int64_t need0 = last_of(0) - first_of(0), lastcol0 = lastcol_of(0);
  const std::int64_t freed0 = R > 1 ? first_of(S) - first_of(0) : 0;
  const std::int64_t freed_frame = H - first_of(std::int64_t{R - 1} * S);
  v << "  assign freed_rows = frame_end ? " << ud(YW, freed_frame) << " : row_end ? freed_r : " << ud(YW, 0) << ";\n";
  v << "  always @(posedge clk) begin\n    if (rst) begin\n      need_r <= " << ud(YW, need0) << ";\n      lastcol_r <= "
    << ud(XW, lastcol0) << ";\n      freed_r <= " << ud(YW, freed0) << ";\n    end else begin\n"
    << "      if (pixel_end) lastcol_r <= row_end ? " << ud(XW, lastcol0) << " : lastcol_next;\n"
    << "      if (row_end) begin\n        need_r <= frame_end ? " << ud(YW, need0) << " : need_next;\n"
    << "        freed_r <= frame_end ? " << ud(YW, freed0) << " : freed_next;\n      end\n    end\n  end\n";
  auto slot_add = [&](const std::string& a, std::int64_t inc) {
    inc %= KR;
    // (a + inc) mod KR for a < KR: one conditional subtraction
    return "(" + a + " >= " + ud(SW, KR - inc) + " ? " + a + " - " + ud(SW, KR - inc) + " : " + a + " + " + ud(SW, inc) +
           ")";
  };
  v << "  always @(posedge clk) begin\n    if (rst) begin\n      oy <= " << ud(OYW, 0) << ";\n      ox <= " << ud(OXW, 0)
    << ";\n      iy0 <= " << ud(YW, 0) << ";\n      ix0 <= " << ud(XW, 0) << ";\n      top_slot <= "
    << ud(SW, (KR - PT % KR) % KR) << ";\n      p <= " << ud(PW, 0) << ";\n      j <= " << ud(JW, 0) << ";\n      wa <= "
    << ud(WAW, 0) << ";\n    end else if (go) begin\n";
  v << "      p <= p == " << ud(PW, QN - 1) << " ? " << ud(PW, 0) << " : p + " << ud(PW, 1) << ";\n";
  v << "      if (p == " << ud(PW, QN - 1) << ") j <= j == " << ud(JW, QM - 1) << " ? " << ud(JW, 0) << " : j + " << ud(JW, 1)
    << ";\n";
  v << "      wa <= pixel_end ? " << ud(WAW, 0) << " : wa + " << ud(WAW, 1) << ";\n";
  v << "      if (pixel_end) begin\n        ox <= row_end ? " << ud(OXW, 0) << " : ox + " << ud(OXW, 1)
    << ";\n        ix0 <= row_end ? " << ud(XW, 0) << " : ix0 + " << ud(XW, S) << ";\n      end\n";
  v << "      if (row_end) begin\n        oy <= frame_end ? " << ud(OYW, 0) << " : oy + " << ud(OYW, 1)
    << ";\n        iy0 <= frame_end ? " << ud(YW, 0) << " : iy0 + " << ud(YW, S) << ";\n        top_slot <= frame_end ? "
    << slot_add("top_slot", delta_frame) << " : " << slot_add("top_slot", S) << ";\n      end\n    end\n  end\n\n";
  // ---- ports: pass p starts at tap t0 = (p Tn) / N, channel c0 = (p Tn) mod N, and reads taps t0 .. t0+PORTS-1
  const int KB = counter_bits(K - 1), TW = counter_bits(std::int64_t{K} * K - 1), C0W = counter_bits(N - 1);
  const std::int64_t tap_step = TN / N, c0_step = TN % N;
  v << "  reg [" << TW - 1 << ":0] t0;\n  reg [" << C0W - 1 << ":0] c0;\n";
  v << "  wire [" << C0W << ":0] c0_sum = {1'b0, c0} + " << ud(C0W + 1, c0_step) << ";\n";
  v << "  wire c0_carry = c0_sum >= " << ud(C0W + 1, N) << ";\n";
  v << "  wire [" << C0W << ":0] c0_wrap = c0_sum - " << ud(C0W + 1, N) << ";\n";
  v << "  always @(posedge clk) begin\n    if (rst) begin\n      t0 <= " << ud(TW, 0) << ";\n      c0 <= " << ud(C0W, 0)
    << ";\n    end else if (go) begin\n      if (p == " << ud(PW, QN - 1) << ") begin\n        t0 <= " << ud(TW, 0)
    << ";\n        c0 <= " << ud(C0W, 0) << ";\n      end else begin\n        t0 <= t0 + " << ud(TW, tap_step % (std::int64_t{1} << TW))
    << " + " << fit("c0_carry", 1, TW) << ";\n        c0 <= c0_carry ? c0_wrap[" << C0W - 1 << ":0] : c0_sum[" << C0W - 1
    << ":0];\n      end\n    end\n  end\n";
  v << "  wire unused_c0 = &{1'b0, c0_sum[" << C0W << "], c0_wrap[" << C0W << "]};\n";
  v << "  reg [" << PORTS - 1 << ":0] padr;\n";
  for (int q = 0; q < PORTS; ++q) {
    v << "  reg [" << KB - 1 << ":0] kh" << q << ", kw" << q << ";\n  reg use" << q << ";\n";
    v << "  always @* begin\n    kh" << q << " = " << ud(KB, 0) << ";\n    kw" << q << " = " << ud(KB, 0) << ";\n    use"
      << q << " = 1'b0;\n    case (t0)\n";
    for (std::int64_t t = 0; t < std::int64_t{K} * K; ++t) {
      if (t + q >= std::int64_t{K} * K) continue;
      v << "      " << ud(TW, t) << ": begin kh" << q << " = " << ud(KB, (t + q) / K) << "; kw" << q << " = "
        << ud(KB, (t + q) % K) << "; use" << q << " = 1'b1; end\n";
    }
    v << "      default: ;\n    endcase\n  end\n";
    v << "  wire [" << YW - 1 << ":0] row" << q << " = iy0 + {" << YW - KB << "'d0, kh" << q << "};\n";
    v << "  wire [" << XW - 1 << ":0] col" << q << " = ix0 + {" << XW - KB << "'d0, kw" << q << "};\n";
    v << "  wire pd" << q << " = !use" << q << (PT > 0 ? std::string(" || row") + std::to_string(q) + " < " + ud(YW, PT) : "")
      << " || row" << q << " >= " << ud(YW, PT + H) << (PL > 0 ? std::string(" || col") + std::to_string(q) + " < " + ud(XW, PL) : "")
      << " || col" << q << " >= " << ud(XW, PL + W) << ";\n";
    v << "  wire [" << SW - 1 << ":0] kslot" << q << " = {" << (SW > KB ? std::to_string(SW - KB) + "'d0, " : "") << "kh"
      << q << "};\n";
    // slot = (top_slot + kh) mod KR; kh < K <= KR
    v << "  wire [" << SW << ":0] slot_sum" << q << " = {1'b0, top_slot} + {1'b0, kslot" << q << "};\n";
    v << "  wire [" << SW << ":0] slot_w" << q << " = slot_sum" << q << " >= " << ud(SW + 1, KR) << " ? slot_sum" << q
      << " - " << ud(SW + 1, KR) << " : slot_sum" << q << ";\n";
    v << "  wire [" << XW - 1 << ":0] colr" << q << " = pd" << q << " ? " << ud(XW, 0) << " : col" << q << " - "
      << ud(XW, PL) << ";\n";
    v << "  wire [" << AW - 1 << ":0] ra" << q << " = " << fit(std::string("slot_w") + std::to_string(q), SW + 1, AW) << " * "
      << ud(AW, W) << " + " << fit(std::string("colr") + std::to_string(q), XW, AW) << ";\n";
    if (SW + 1 > AW) v << "  wire unused_slot" << q << " = &{1'b0, slot_w" << q << "[" << SW << ":" << AW << "]};\n";
    if (XW > AW) v << "  wire unused_colr" << q << " = &{1'b0, colr" << q << "[" << XW - 1 << ":" << AW << "]};\n";
    v << "  reg [" << N * A - 1 << ":0] rq" << q << ";\n";
    v << "  always @(posedge clk) if (en) rq" << q << " <= lb[ra" << q << "];\n";
    v << "  wire unused_rq" << q << " = &{1'b0, rq" << q << "};  // a port may read only some channels\n";
    v << "  always @(posedge clk) if (en) padr[" << q << "] <= pd" << q << ";\n";
  }
  // ---- weights
  v << "\n  // weights: word j*" << QN << " + p holds the Tn x Tm codes of tile j, pass p\n";
  emit_own_weights(v, L, st, mem_file);
  // ---- stage registers
  v << "  reg v1, v2, v3, first1, first2, last1, last2;\n  reg [" << C0W - 1 << ":0] c01;\n  reg [" << JW - 1 << ":0] j1, j2, j3;\n"
    << "  reg [" << OXW - 1 << ":0] ox1, ox2, ox3;\n  reg oy1, oy2, oy3;  // parity of the output row\n";
  v << "  always @(posedge clk) begin\n    if (rst) begin\n      v1 <= 1'b0;\n      v2 <= 1'b0;\n      v3 <= 1'b0;\n"
    << "    end else if (en) begin\n      v1 <= go;\n      v2 <= v1;\n      v3 <= v2 && last2;\n    end\n"
    << "    if (en) begin\n      c01 <= c0;\n      first1 <= p == " << ud(PW, 0) << ";\n      last1 <= p == " << ud(PW, QN - 1)
    << ";\n      j1 <= j;\n      ox1 <= ox;\n      oy1 <= oy[0];\n"
    << "      first2 <= first1;\n      last2 <= last1;\n      j2 <= j1;\n      ox2 <= ox1;\n      oy2 <= oy1;\n"
    << "      j3 <= j2;\n      ox3 <= ox2;\n      oy3 <= oy2;\n    end\n  end\n";
  emit_lane_select(v, L, extent, C0W);
  emit_shared_outputs(v, L, st);
  // bias of the tile in stage 2
  const auto bw = bias_words(L, bias);
  v << "  reg [" << TM * ACC - 1 << ":0] bias2;\n  always @* begin\n    bias2 = " << TM * ACC << "'d0;\n    case (j2)\n";
  for (std::int64_t j = 0; j < QM; ++j) v << "      " << ud(JW, j) << ": bias2 = " << bw[static_cast<std::size_t>(j)] << ";\n";
  v << "      default: ;\n    endcase\n  end\n";
  // ---- columns
  v << "  wire [" << TM * OB - 1 << ":0] qv;  // the tile's requantized outputs\n";
  for (int m = 0; m < TM; ++m) {
    const std::string P = "c" + std::to_string(m) + "_";
    v << "  // column " << m << "\n";
    int tree_bits = 0;
    emit_column_sum(v, L, st, m, P, tree_bits);
    v << "  reg signed [" << ACC - 1 << ":0] " << P << "acc;\n";
    v << "  always @(posedge clk) if (en && v2) " << P << "acc <= (first2 ? bias2[" << (m + 1) * ACC - 1 << ":" << m * ACC
      << "] : " << P << "acc) + " << extend_sum(P, tree_bits, ACC) << ";\n";
    emit_requantizer(v, P, ACC, OB, L.shift);
    v << "  assign qv[" << (m + 1) * OB - 1 << ":" << m * OB << "] = " << P << "q;\n";
  }
  v << "\n";
  // ---- pool and output
  const int TB = TM * OB;
  std::string otile = "qv";
  std::string store = "v3", emit = "v3 && j3 == " + ud(JW, QM - 1);
  if (pool) {
    const int CP = C / 2;
    const int PAW = counter_bits(std::max<std::int64_t>(std::int64_t{CP} * QM - 1, 1));
    v << "  // 2x2 max-pool: hreg keeps the tiles of an even column, prow the pairs' maxima of an even row\n";
    v << "  reg [" << QM * TB - 1 << ":0] hreg;\n";
    const std::int64_t prow_depth = std::max<std::int64_t>(std::int64_t{CP} * QM, 1);
    v << "  " << memory_style(prow_depth, false) << "reg [" << TB - 1 << ":0] prow [0:" << prow_depth - 1 << "];\n";
    // address (ox/2)*QM + j
    for (const char* st : {"2", "3"}) {
      const std::string oxs = std::string("ox") + st, js = std::string("j") + st;
      std::string half = ud(PAW, 0);
      if (OXW >= 2 && OXW - 1 >= PAW) half = oxs + std::string("[") + std::to_string(PAW) + ":1]";
      else if (OXW >= 2) half = std::string("{") + std::to_string(PAW - OXW + 1) + "'d0, " + oxs + std::string("[") + std::to_string(OXW - 1) + ":1]}";
      v << "  wire [" << PAW - 1 << ":0] pa" << st << " = " << half << ";\n";
      if (OXW >= 2 && OXW - 1 > PAW) v << "  wire unused_ox" << st << " = &{1'b0, " << oxs << "[" << OXW - 1 << ":" << PAW + 1 << "]};\n";
      v << "  wire [" << PAW - 1 << ":0] prow_" << (st[0] == '2' ? "ra" : "wa") << " = ";
      if (CP == 1)  // one pooled column: pa is 0 (and QM may not fit PAW bits)
        v << fit(js, JW, PAW) << ";\n  wire unused_pa" << st << " = &{1'b0, pa" << st << "};\n";
      else v << "pa" << st << " * " << ud(PAW, QM) << " + " << fit(js, JW, PAW) << ";\n";
    }
    v << "  reg [" << TB - 1 << ":0] pr3;\n  always @(posedge clk) if (en) pr3 <= prow[prow_ra];\n";
    read_tile(v, "hsel", "hreg", "j3", JW, QM, TB);
    emit_lane_max(v, "hm", "hsel", "qv", TM, OB);
    emit_lane_max(v, "pm", "hm", "pr3", TM, OB);
    write_tile(v, "en && v3 && !ox3[0]", "hreg", "j3", JW, QM, TB, "qv");
    v << "  always @(posedge clk) if (en && v3 && ox3[0] && !oy3) prow[prow_wa] <= hm;\n";
    otile = "pm";
    store = "v3 && ox3[0] && oy3";
    emit = store + " && j3 == " + ud(JW, QM - 1);
  }
  if (QM > 1) {
    // the tiles before the last wait here; the pixel leaves with the last tile beside them (no multiplexer)
    v << "  reg [" << (QM - 1) * TB - 1 << ":0] asm_r;  // tiles 0..QM-2 of the pixel being finished\n";
    write_tile(v, "en && " + store, "asm_r", "j3", JW, QM - 1, TB, otile);
    v << "  wire [" << QM * TB - 1 << ":0] merged = {" << otile << ", asm_r};\n";
  } else {
    v << "  wire [" << TB - 1 << ":0] merged = " << otile << ";\n";
  }
  if (QM * TB > OUTW) v << "  wire unused_merged = &{1'b0, merged[" << QM * TB - 1 << ":" << OUTW << "]};\n";
  v << "  always @(posedge clk) begin\n    if (rst) out_valid <= 1'b0;\n    else if (en && " << emit
    << ") out_valid <= 1'b1;\n    else if (out_ready) out_valid <= 1'b0;\n"
    << "    if (en && " << emit << ") out_data <= merged[" << OUTW - 1 << ":0];\n  end\n";
  if (!pool) v << "  wire unused_parity = &{1'b0, oy3, ox3};\n";
  v << "endmodule\n";
  return v.str();
}

/// The classifier's module: streams its input pixels, M accumulators, logits and argmax.
inline std::string classifier_module(const std::string& name, const std::string& mem_file, const layer_plan& L,
                                     const std::vector<std::int32_t>& bias, const stage_plan* st = nullptr) {
  const int CH = L.channels, A = L.g.act_bits, M = L.g.out_channels, TN = L.tn, TM = L.tm, ACC = L.acc_bits;
  const std::int64_t P = std::int64_t{L.in_h} * L.in_w, QN = L.passes, QM = L.tiles, RB = L.buffer_rows;
  const int PORTS = L.read_ports;
  const std::int64_t extent = fpga::detail::reduction_length(L.g);
  const int SW = counter_bits(RB - 1), DW = counter_bits(RB), PW = counter_bits(QN - 1), JW = counter_bits(QM - 1);
  const int WAW = counter_bits(QN * QM - 1), CB = counter_bits(M - 1);
  auto px_lo = [&](std::int64_t p) { return p * TN / CH; };
  auto px_hi = [&](std::int64_t p) { return (std::min(extent, p * TN + TN) - 1) / CH; };
  std::ostringstream v;
  v << "// classifier: " << CH << " channels x " << L.in_h << "x" << L.in_w << " pixels -> " << M
    << " logits; array Tn=" << TN << " x Tm=" << TM << ", " << QN << " passes x " << QM << " tiles, accumulator " << ACC
    << " bits; buffer of " << RB << " pixels, " << PORTS << " read port(s)\n";
  v << "module " << name << " (\n  input wire clk,\n  input wire rst,\n  input wire in_valid,\n  output wire in_ready,\n"
    << "  input wire [" << CH * A - 1 << ":0] in_data,\n" << shared_ports(st, WAW)
    << "  output reg out_valid,\n  input wire out_ready,\n"
    << "  output reg [" << M * ACC - 1 << ":0] out_logits,\n  output reg [" << CB - 1 << ":0] out_class\n);\n";
  v << "  wire en = !out_valid || out_ready;\n";
  emit_issued_decl(v, st);
  v << "  " << memory_style(RB, false, true) << "reg [" << CH * A - 1 << ":0] lb [0:" << RB - 1 << "];\n  reg [" << SW - 1 << ":0] wr_slot, lo_slot;\n  reg ["
    << DW - 1 << ":0] D;  // pixels from the oldest one still needed to the one being written\n";
  v << "  wire [" << DW - 1 << ":0] freed;\n  assign in_ready = D < " << ud(DW, RB) << ";\n";
  v << "  wire wr_fire = in_valid && in_ready;\n";
  v << "  always @(posedge clk) if (wr_fire) lb[wr_slot] <= in_data;\n";
  auto slot_add = [&](const std::string& a, const std::string& inc) {
    return "(" + a + " + " + inc + " >= " + ud(SW + 1, RB) + " ? " + a + " + " + inc + " - " + ud(SW + 1, RB) + " : " +
           a + " + " + inc + ")";
  };
  v << "  reg [" << PW - 1 << ":0] p;\n  reg [" << JW - 1 << ":0] j;\n  reg [" << WAW - 1 << ":0] wa;\n";
  // pass p starts at pixel (p Tn) / C, channel c0 = (p Tn) mod C: the pixels it reads past its first (span) and the
  // pixels it frees when it ends (adv) follow from c0; the last pass's are constants
  const int C0W = counter_bits(CH - 1);
  const std::int64_t span_base = (TN - 1) / CH, span_rem = (TN - 1) % CH, adv_base = TN / CH, adv_rem = TN % CH;
  const std::int64_t span_last = px_hi(QN - 1) - px_lo(QN - 1), adv_last = P - px_lo(QN - 1);
  v << "  reg [" << C0W - 1 << ":0] c0;\n";
  v << "  wire [" << C0W << ":0] c0_sum = {1'b0, c0} + " << ud(C0W + 1, adv_rem) << ";\n";
  v << "  wire c0_carry = c0_sum >= " << ud(C0W + 1, CH) << ";\n";
  v << "  wire [" << C0W << ":0] c0_wrap = c0_sum - " << ud(C0W + 1, CH) << ";\n";
  v << "  wire [" << C0W << ":0] c0_span = {1'b0, c0} + " << ud(C0W + 1, span_rem) << ";\n";
  v << "  wire unused_c0 = &{1'b0, c0_wrap[" << C0W << "]};\n";
  v << "  wire last_pass = p == " << ud(PW, QN - 1) << ";\n";
  v << "  wire [" << DW - 1 << ":0] span = last_pass ? " << ud(DW, span_last) << " : " << ud(DW, span_base) << " + "
    << fit("(c0_span >= " + ud(C0W + 1, CH) + ")", 1, DW) << ";\n";
  v << "  wire [" << DW - 1 << ":0] adv = last_pass ? " << ud(DW, adv_last) << " : " << ud(DW, adv_base) << " + "
    << fit("c0_carry", 1, DW) << ";\n";
  v << "  wire pass_start = j == " << ud(JW, 0) << ";\n  wire go = en" << (st ? " && grant && !issued" : "")
    << " && (!pass_start || D > span);\n";
  v << "  wire pass_end = go && j == " << ud(JW, QM - 1) << ";\n";
  emit_grant(v, st, "pass_end && last_pass");
  v << "  assign freed = pass_end ? adv : " << ud(DW, 0) << ";\n";
  v << "  wire [" << SW << ":0] wr_next = {1'b0, wr_slot} + " << ud(SW + 1, 1) << ";\n";
  v << "  wire [" << SW << ":0] lo_next = {1'b0, lo_slot} + " << fit("adv", DW, SW + 1) << ";\n";
  const std::int64_t rb_low = RB % (std::int64_t{1} << SW);  // lo_next - RB modulo 2^SW
  v << "  wire [" << SW - 1 << ":0] lo_wrap = lo_next[" << SW - 1 << ":0] - " << ud(SW, rb_low) << ";\n";
  v << "  always @(posedge clk) begin\n    if (rst) begin\n      wr_slot <= " << ud(SW, 0) << ";\n      lo_slot <= "
    << ud(SW, 0) << ";\n      D <= " << ud(DW, 0) << ";\n      p <= " << ud(PW, 0) << ";\n      j <= " << ud(JW, 0)
    << ";\n      wa <= " << ud(WAW, 0) << ";\n      c0 <= " << ud(C0W, 0) << ";\n    end else begin\n";
  v << "      if (wr_fire) wr_slot <= wr_next >= " << ud(SW + 1, RB) << " ? " << ud(SW, 0) << " : wr_next[" << SW - 1
    << ":0];\n";
  v << "      D <= D + {" << DW - 1 << "'d0, wr_fire} - freed;\n";
  v << "      if (go) begin\n        j <= j == " << ud(JW, QM - 1) << " ? " << ud(JW, 0) << " : j + " << ud(JW, 1) << ";\n";
  v << "        wa <= wa == " << ud(WAW, QN * QM - 1) << " ? " << ud(WAW, 0) << " : wa + " << ud(WAW, 1) << ";\n";
  v << "      end\n      if (pass_end) begin\n        p <= p == " << ud(PW, QN - 1) << " ? " << ud(PW, 0) << " : p + "
    << ud(PW, 1) << ";\n        lo_slot <= lo_next >= " << ud(SW + 1, RB) << " ? lo_wrap : lo_next[" << SW - 1 << ":0];\n"
    << "        c0 <= last_pass ? " << ud(C0W, 0) << " : c0_carry ? c0_wrap[" << C0W - 1 << ":0] : c0_sum[" << C0W - 1
    << ":0];\n      end\n    end\n  end\n";
  (void)slot_add;
  // ports
  v << "  reg [" << PORTS - 1 << ":0] padr;\n";
  for (int q = 0; q < PORTS; ++q) {
    v << "  wire [" << SW << ":0] s" << q << " = {1'b0, lo_slot} + " << ud(SW + 1, q) << ";\n";
    v << "  wire [" << SW - 1 << ":0] sw" << q << " = s" << q << "[" << SW - 1 << ":0] - " << ud(SW, rb_low) << ";\n";
    v << "  wire [" << SW - 1 << ":0] ra" << q << " = s" << q << " >= " << ud(SW + 1, RB) << " ? sw" << q << " : s" << q
      << "[" << SW - 1 << ":0];\n";
    v << "  reg [" << CH * A - 1 << ":0] rq" << q << ";\n  always @(posedge clk) if (en) rq" << q << " <= lb[ra" << q
      << "];\n";
    v << "  wire unused_rq" << q << " = &{1'b0, rq" << q << "};  // a port may read only some channels\n";
    v << "  always @(posedge clk) if (en) padr[" << q << "] <= 1'b0;\n";
  }
  emit_own_weights(v, L, st, mem_file);
  v << "  reg v1, v2, v3, first1, first2, last1, last2;\n  reg [" << C0W - 1 << ":0] c01;\n  reg [" << JW - 1
    << ":0] j1, j2, j3;\n";
  v << "  always @(posedge clk) begin\n    if (rst) begin\n      v1 <= 1'b0;\n      v2 <= 1'b0;\n      v3 <= 1'b0;\n"
    << "    end else if (en) begin\n      v1 <= go;\n      v2 <= v1;\n      v3 <= v2 && last2;\n    end\n"
    << "    if (en) begin\n      c01 <= c0;\n      first1 <= p == " << ud(PW, 0) << ";\n      last1 <= p == " << ud(PW, QN - 1)
    << ";\n      j1 <= j;\n      first2 <= first1;\n      last2 <= last1;\n      j2 <= j1;\n      j3 <= j2;\n    end\n  end\n";
  emit_lane_select(v, L, extent, C0W);
  emit_shared_outputs(v, L, st);
  const auto bw = bias_words(L, bias);
  v << "  reg [" << TM * ACC - 1 << ":0] bias2;\n  always @* begin\n    bias2 = " << TM * ACC << "'d0;\n    case (j2)\n";
  for (std::int64_t j = 0; j < QM; ++j) v << "      " << ud(JW, j) << ": bias2 = " << bw[static_cast<std::size_t>(j)] << ";\n";
  v << "      default: ;\n    endcase\n  end\n";
  const int TB = TM * ACC;
  v << "  reg [" << QM * TB - 1 << ":0] accs;  // the M accumulators, tile by tile\n";
  read_tile(v, "acc_old", "accs", "j2", JW, QM, TB);
  v << "  wire [" << TB - 1 << ":0] acc_new;\n";
  for (int m = 0; m < TM; ++m) {
    const std::string P = "c" + std::to_string(m) + "_";
    v << "  // column " << m << "\n";
    int tree_bits = 0;
    emit_column_sum(v, L, st, m, P, tree_bits);
    const std::string sl = "[" + std::to_string((m + 1) * ACC - 1) + ":" + std::to_string(m * ACC) + "]";
    v << "  wire signed [" << ACC - 1 << ":0] " << P << "base = first2 ? bias2" << sl << " : acc_old" << sl << ";\n";
    v << "  assign acc_new" << sl << " = " << P << "base + " << extend_sum(P, tree_bits, ACC) << ";\n";
  }
  write_tile(v, "en && v2", "accs", "j2", JW, QM, TB, "acc_new");
  // argmax (first maximum) as the last pass ends, one tile a cycle: the tile's finished values (fin, registered
  // from acc_new) meet in a tournament of ceil(log2 Tm) levels, the right operand winning only when strictly greater
  // (the left holds the lower classes), and the tile's best meets the running best of the tiles before it. Neither
  // a tournament over all M logits (the clock's critical path before) nor its M - 1 comparators.
  {
    v << "  reg [" << TB - 1 << ":0] fin;  // tile j3's finished logits\n";
    v << "  always @(posedge clk) if (en && v2 && last2) fin <= acc_new;\n";
    const std::int64_t last_valid = M - (QM - 1) * TM;  // columns of the last tile that hold classes
    std::vector<std::pair<std::string, std::string>> nodes;  // (value, index within the tile)
    std::vector<std::string> valid;
    for (int m = 0; m < TM; ++m) {
      const std::string vn = "am0_" + std::to_string(m);
      v << "  wire signed [" << ACC - 1 << ":0] " << vn << " = fin[" << (m + 1) * ACC - 1 << ":" << m * ACC << "];\n";
      nodes.push_back({vn, ud(CB, m)});
      valid.push_back(m < last_valid ? "1'b1" : "(j3 != " + ud(JW, QM - 1) + ")");
    }
    int level = 0;
    while (nodes.size() > 1) {
      ++level;
      std::vector<std::pair<std::string, std::string>> next;
      std::vector<std::string> next_valid;
      for (std::size_t i = 0; i + 1 < nodes.size(); i += 2) {
        const std::string vn = "am" + std::to_string(level) + "_" + std::to_string(i / 2);
        const std::string in = "ai" + std::to_string(level) + "_" + std::to_string(i / 2);
        const auto& [lv, li] = nodes[i];
        const auto& [rv, ri] = nodes[i + 1];
        // the columns that hold classes are a prefix: a valid right operand has a valid left one
        v << "  wire " << vn << "_r = " << valid[i + 1] << " && " << rv << " > " << lv << ";\n";
        v << "  wire signed [" << ACC - 1 << ":0] " << vn << " = " << vn << "_r ? " << rv << " : " << lv << ";\n";
        v << "  wire [" << CB - 1 << ":0] " << in << " = " << vn << "_r ? " << ri << " : " << li << ";\n";
        next.push_back({vn, in});
        next_valid.push_back(valid[i]);
      }
      if (nodes.size() % 2) {
        next.push_back(nodes.back());
        next_valid.push_back(valid.back());
      }
      nodes = std::move(next);
      valid = std::move(next_valid);
    }
    v << "  reg signed [" << ACC - 1 << ":0] best_v;\n  reg [" << CB - 1 << ":0] best_i;\n";
    v << "  wire take = j3 == " << ud(JW, 0) << " || " << nodes[0].first << " > best_v;\n";
    v << "  wire [" << CB - 1 << ":0] tile_i = ";
    if (QM == 1) v << nodes[0].second << ";\n";  // (TM = M may not fit CB bits; with tiles, TM < M does)
    else v << fit("j3", JW, CB) << " * " << ud(CB, TM) << " + " << nodes[0].second << ";\n";
    v << "  always @(posedge clk) if (en && v3 && take) begin\n    best_v <= " << nodes[0].first
      << ";\n    best_i <= tile_i;\n  end\n";
    v << "  wire [" << CB - 1 << ":0] best = take ? tile_i : best_i;\n";
  }
  v << "  wire done = v3 && j3 == " << ud(JW, QM - 1) << ";\n";
  v << "  always @(posedge clk) begin\n    if (rst) out_valid <= 1'b0;\n    else if (en && done) out_valid <= 1'b1;\n"
    << "    else if (out_ready) out_valid <= 1'b0;\n    if (en && done) begin\n      out_logits <= accs[" << M * ACC - 1
    << ":0];\n      out_class <= best;\n    end\n  end\n";
  if (QM * TB > M * ACC) v << "  wire unused_accs = &{1'b0, accs[" << QM * TB - 1 << ":" << M * ACC << "]};\n";
  v << "endmodule\n";
  return v.str();
}

/// A shared stage's module (stage_plan::shared): its PE array, Tn x Tm products of its widths with their adder
/// trees, and the weight memory of all its layers. The array belongs to one layer at a time (`own`, from the first
/// group's): the owner's lanes, weight address (plus its first word) and enable drive it, and its column sums go to
/// every layer, each accumulating them only for its own passes. The owner releases the array when its frame's last
/// pass has left it, and the next group's layer gets it (docs/hardware.md#groups).
inline std::string stage_module(const std::string& name, const std::string& mem_file, const stage_plan& st,
                                const design_plan& plan) {
  const int L = static_cast<int>(st.served.size()), OW = counter_bits(L - 1);
  const int TN = st.tn, TM = st.tm, AS = st.act_bits, SB = st.sum_bits();
  const int WAS = counter_bits(st.weight_words - 1);
  std::ostringstream v;
  v << "// shared stage: array Tn=" << TN << " x Tm=" << TM << ", activations u" << AS << ", weights s" << st.weight_bits
    << (st.weight_bits == 1 ? " (bipolar)" : "") << ", serving layers";
  for (const int l : st.served) v << " " << l;
  v << " (one per group) in turn; weight memory " << st.weight_words << " words x " << st.weight_width << " bits\n";
  v << "module " << name << " (\n  input wire clk,\n  input wire rst,\n  output wire [" << L - 1 << ":0] grant,\n"
    << "  input wire [" << L - 1 << ":0] rel,\n  input wire [" << L - 1 << ":0] en_i,\n";
  for (int k = 0; k < L; ++k) {
    const auto& Lk = plan.layers[static_cast<std::size_t>(st.served[static_cast<std::size_t>(k)])];
    v << "  input wire [" << TN * AS - 1 << ":0] acts" << k << ",\n  input wire ["
      << counter_bits(Lk.passes * Lk.tiles - 1) - 1 << ":0] wa" << k << ",\n";
  }
  v << "  output wire [" << TM * SB - 1 << ":0] sum\n);\n";
  v << "  reg [" << OW - 1 << ":0] own;  // the layer the array belongs to\n";
  v << "  reg own_rel, en;\n  reg [" << TN * AS - 1 << ":0] acts;\n  reg [" << WAS - 1 << ":0] wa;\n";
  v << "  always @* begin\n    own_rel = 1'b0;\n    en = 1'b0;\n    acts = " << TN * AS << "'d0;\n    wa = " << ud(WAS, 0)
    << ";\n    case (own)\n";
  for (int k = 0; k < L; ++k) {
    const auto& Lk = plan.layers[static_cast<std::size_t>(st.served[static_cast<std::size_t>(k)])];
    const int wk = counter_bits(Lk.passes * Lk.tiles - 1);
    const std::string addr = fit("wa" + std::to_string(k), wk, WAS);
    const auto base = st.weight_base[static_cast<std::size_t>(k)];
    v << "      " << ud(OW, k) << ": begin\n        own_rel = rel[" << k << "];\n        en = en_i[" << k
      << "];\n        acts = acts" << k << ";\n        wa = " << (base ? ud(WAS, base) + " + " + addr : addr)
      << ";\n      end\n";
  }
  v << "      default: ;\n    endcase\n  end\n";
  v << "  always @(posedge clk) begin\n    if (rst) own <= " << ud(OW, 0) << ";\n    else if (own_rel) own <= own == "
    << ud(OW, L - 1) << " ? " << ud(OW, 0) << " : own + " << ud(OW, 1) << ";\n  end\n";
  for (int k = 0; k < L; ++k) v << "  assign grant[" << k << "] = own == " << ud(OW, k) << ";\n";
  v << "  " << memory_style(st.weight_words, true) << "reg [" << st.weight_width - 1 << ":0] wrom [0:"
    << st.weight_words - 1 << "];\n";
  v << "  initial $readmemh(\"" << mem_file << "\", wrom);\n";
  v << "  reg [" << st.weight_width - 1 << ":0] w1;\n  always @(posedge clk) if (en) w1 <= wrom[wa];\n";
  layer_plan array;  // the columns at the stage's widths
  array.g.act_bits = AS;
  array.g.weight_bits = st.weight_bits;
  array.tn = TN;
  for (int m = 0; m < TM; ++m) {
    const std::string P = "c" + std::to_string(m) + "_";
    int tree_bits = 0;
    emit_column(v, array, m, P, tree_bits);
    v << "  assign sum[" << (m + 1) * SB - 1 << ":" << m * SB << "] = " << P << "s;\n";
  }
  v << "endmodule\n";
  return v.str();
}

/// The map at a group boundary (boundary_plan): a first-in first-out buffer of the whole map, one pixel per word,
/// with a registered output (valid/ready on both sides). A read and a write never meet at one address: the reader
/// takes only words written before, the writer only free ones.
inline std::string boundary_module(const std::string& name, const boundary_plan& b) {
  const std::int64_t P = b.depth;
  const int W = static_cast<int>(b.width), AW = counter_bits(P - 1), NW = counter_bits(P);
  std::ostringstream v;
  v << "// group boundary after layer " << b.after << ": the whole map, " << P << " pixels x " << W << " bits\n";
  v << "module " << name << " (\n  input wire clk,\n  input wire rst,\n  input wire in_valid,\n  output wire in_ready,\n"
    << "  input wire [" << W - 1 << ":0] in_data,\n  output reg out_valid,\n  input wire out_ready,\n  output reg ["
    << W - 1 << ":0] out_data\n);\n";
  v << "  " << memory_style(P, false) << "reg [" << W - 1 << ":0] mem [0:" << P - 1 << "];\n";
  v << "  reg [" << AW - 1 << ":0] wp, rp;\n  reg [" << NW - 1 << ":0] n;  // words held, not counting out_data\n";
  v << "  assign in_ready = n != " << ud(NW, P) << ";\n  wire wr = in_valid && in_ready;\n";
  v << "  wire rd = n != " << ud(NW, 0) << " && (!out_valid || out_ready);\n";
  v << "  always @(posedge clk) if (wr) mem[wp] <= in_data;\n";
  v << "  always @(posedge clk) if (rd) out_data <= mem[rp];\n";
  v << "  always @(posedge clk) begin\n    if (rst) begin\n      wp <= " << ud(AW, 0) << ";\n      rp <= " << ud(AW, 0)
    << ";\n      n <= " << ud(NW, 0) << ";\n      out_valid <= 1'b0;\n    end else begin\n";
  v << "      if (wr) wp <= wp == " << ud(AW, P - 1) << " ? " << ud(AW, 0) << " : wp + " << ud(AW, 1) << ";\n";
  v << "      if (rd) rp <= rp == " << ud(AW, P - 1) << " ? " << ud(AW, 0) << " : rp + " << ud(AW, 1) << ";\n";
  v << "      n <= n + " << fit("wr", 1, NW) << " - " << fit("rd", 1, NW) << ";\n";
  v << "      if (rd) out_valid <= 1'b1;\n      else if (out_ready) out_valid <= 1'b0;\n    end\n  end\n";
  v << "endmodule\n";
  return v.str();
}

/// Verilog-2005 and SystemVerilog keywords (IEEE 1364-2005 annex B, IEEE 1800-2017 annex B): not module names.
inline bool is_hdl_keyword(const std::string& s) {
  static const char* const words[] = {
      "always", "and", "assign", "automatic", "begin", "buf", "bufif0", "bufif1", "case", "casex", "casez", "cell",
      "cmos", "config", "deassign", "default", "defparam", "design", "disable", "edge", "else", "end", "endcase",
      "endconfig", "endfunction", "endgenerate", "endmodule", "endprimitive", "endspecify", "endtable", "endtask",
      "event", "for", "force", "forever", "fork", "function", "generate", "genvar", "highz0", "highz1", "if",
      "ifnone", "incdir", "include", "initial", "inout", "input", "instance", "integer", "join", "large", "liblist",
      "library", "localparam", "macromodule", "medium", "module", "nand", "negedge", "nmos", "nor",
      "noshowcancelled", "not", "notif0", "notif1", "or", "output", "parameter", "pmos", "posedge", "primitive",
      "pull0", "pull1", "pulldown", "pullup", "pulsestyle_ondetect", "pulsestyle_onevent", "rcmos", "real",
      "realtime", "reg", "release", "repeat", "rnmos", "rpmos", "rtran", "rtranif0", "rtranif1", "scalared",
      "showcancelled", "signed", "small", "specify", "specparam", "strong0", "strong1", "supply0", "supply1",
      "table", "task", "time", "tran", "tranif0", "tranif1", "tri", "tri0", "tri1", "triand", "trior", "trireg",
      "unsigned", "use", "uwire", "vectored", "wait", "wand", "weak0", "weak1", "while", "wire", "wor", "xnor", "xor",
      // SystemVerilog
      "alias", "always_comb", "always_ff", "always_latch", "assert", "assume", "before", "bind", "bins", "binsof",
      "bit", "break", "byte", "chandle", "checker", "class", "clocking", "const", "constraint", "context",
      "continue", "cover", "covergroup", "coverpoint", "cross", "dist", "do", "endchecker", "endclass",
      "endclocking", "endgroup", "endinterface", "endpackage", "endprogram", "endproperty", "endsequence", "enum",
      "expect", "export", "extends", "extern", "final", "first_match", "foreach", "forkjoin", "iff", "ignore_bins",
      "illegal_bins", "implements", "implies", "import", "inside", "int", "interconnect", "interface",
      "intersect", "join_any", "join_none", "let", "local", "logic", "longint", "matches", "modport", "new",
      "nettype", "null", "package", "packed", "priority", "program", "property", "protected", "pure", "rand",
      "randc", "randcase", "randsequence", "ref", "restrict", "return", "sequence", "shortint", "shortreal",
      "soft", "solve", "static", "string", "struct", "super", "tagged", "this", "throughout", "timeprecision",
      "timeunit", "type", "typedef", "union", "unique", "unique0", "var", "virtual", "void", "wait_order",
      "wildcard", "with", "within"};
  for (const char* w : words)
    if (s == w) return true;
  return false;
}

}  // namespace detail

/// Generates the Verilog and memory files of `net` under `mapping`.
/// @throws hwnas::invalid_argument from make_plan (a mapping that does not fit the network, groups that cannot share
///         stages: every group but the last as long as the first) or for a top
///         name that is not a Verilog identifier
inline verilog_design generate_verilog(const nn::integer_network& net, const fpga::pe_mapping& mapping,
                                       const verilog_options& options = {}) {
  const auto& top = options.top;
  const bool ident = !top.empty() && top.size() <= 64 && std::isalpha(static_cast<unsigned char>(top[0])) &&
                     std::all_of(top.begin(), top.end(),
                                 [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; });
  if (!ident)
    throw invalid_argument("rtl export: the top module name '" + top +
                           "' is not a Verilog identifier (a letter, then letters, digits and '_', at most 64)");
  if (top.find("__") != std::string::npos || top.back() == '_')
    throw invalid_argument("rtl export: the top module name '" + top +
                           "' has '__' or ends with '_', which Verilator renames in its C++ model; choose another");
  if (detail::is_hdl_keyword(top))
    throw invalid_argument("rtl export: the top module name '" + top + "' is a Verilog/SystemVerilog keyword");
  verilog_design d;
  d.top = top;
  d.plan = make_plan(net, mapping);
  const auto& plan = d.plan;
  const auto& layers = net.layers();
  const bool grouped = !plan.boundaries.empty();
  const std::string header = std::string("// Generated by hwnas from an integer network and a ") +
                             (grouped ? "pipelined_pe mapping of " + std::to_string(plan.boundaries.size() + 1) + " groups"
                                      : std::string("one-group pipelined_pe mapping")) +
                             " (include/hwnas/rtl/verilog.hpp, docs/hardware.md).\n`default_nettype none\n\n";
  std::vector<std::string> mods;
  std::vector<std::string> stage_words(plan.stages.size());  // a shared stage's weight memory, layer by layer
  for (std::size_t l = 0; l < plan.layers.size(); ++l) {
    const auto& L = plan.layers[l];
    const auto& IL = layers[l];
    const bool fc = L.g.is_classifier;
    const auto& S = plan.stages[static_cast<std::size_t>(L.stage)];
    const stage_plan* st = S.shared() ? &S : nullptr;
    const std::string name = fc ? top + "_fc" : top + std::string("_l") + std::to_string(l);
    const std::string mem = name + "_w.mem";
    std::string text, words;
    if (fc) {
      // the integer network's classifier weights are (M, C*H*W) in CHW order; the hardware reads pixel-major
      const std::int64_t hw = std::int64_t{L.in_h} * L.in_w, ch = L.channels, n = L.g.in_channels;
      words = detail::weight_memory(L, true, [&](std::int64_t m, std::int64_t r) {
                const std::int64_t pix = r / ch, c = r % ch;
                return std::int64_t{IL.weights[static_cast<std::size_t>(m * n + c * hw + pix)]};
              }, st);
      text = detail::classifier_module(name, mem, L, IL.bias, st);
    } else {
      const std::int64_t N = L.channels, K = L.g.kernel;
      words = detail::weight_memory(L, false, [&](std::int64_t m, std::int64_t r) {
                const std::int64_t tap = r / N, c = r % N;
                return std::int64_t{IL.weights[static_cast<std::size_t>(((m * N + c) * K + tap / K) * K + tap % K)]};
              }, st);
      text = detail::conv_module(name, mem, L, IL.bias, st);
    }
    if (st) stage_words[static_cast<std::size_t>(L.stage)] += words;
    else d.files.push_back({mem, words});
    d.files.push_back({name + ".v", header + text + "\n`default_nettype wire\n"});
    mods.push_back(name);
  }
  for (std::size_t t = 0; t < plan.stages.size(); ++t) {
    if (!plan.stages[t].shared()) continue;
    const std::string name = top + "_s" + std::to_string(t);
    d.files.push_back({name + "_w.mem", stage_words[t]});
    d.files.push_back({name + ".v", header + detail::stage_module(name, name + "_w.mem", plan.stages[t], plan) +
                                        "\n`default_nettype wire\n"});
  }
  for (std::size_t k = 0; k < plan.boundaries.size(); ++k) {
    const std::string name = top + "_b" + std::to_string(k);
    d.files.push_back({name + ".v", header + detail::boundary_module(name, plan.boundaries[k]) + "\n`default_nettype wire\n"});
  }
  std::ostringstream v;
  v << header << "// Interface: one input pixel per cycle (valid/ready), " << plan.input_channels << " channel(s) of "
    << plan.input_bits << " bits, channel 0 in the low bits; per frame the " << plan.classes << " logits (signed, "
    << plan.logit_bits << " bits each, class 0 in the low bits) and their argmax (first maximum). Synchronous "
    << "active-high reset.\n";
  // top
  const int IW = d.input_width(), LW = d.logits_width(), CB = d.class_width();
  v << "module " << top << " (\n  input wire clk,\n  input wire rst,\n  input wire in_valid,\n  output wire in_ready,\n"
    << "  input wire [" << IW - 1 << ":0] in_pixel,\n  output wire out_valid,\n  input wire out_ready,\n"
    << "  output wire [" << LW - 1 << ":0] out_logits,\n  output wire [" << CB - 1 << ":0] out_class\n);\n";
  for (std::size_t l = 0; l + 1 < plan.layers.size(); ++l) {
    const auto& L = plan.layers[l];
    v << "  wire v" << l << ", r" << l << ";\n  wire [" << L.g.out_channels * L.g.out_bits - 1 << ":0] d" << l << ";\n";
  }
  // a group boundary's map: written by its group's last layer (v, r, d of that layer), read by the next group's first
  for (std::size_t k = 0; k < plan.boundaries.size(); ++k) {
    const auto& b = plan.boundaries[k];
    v << "  wire bv" << k << ", br" << k << ";\n  wire [" << b.width - 1 << ":0] bd" << k << ";\n";
    v << "  " << top << "_b" << k << " ub" << k << " (.clk(clk), .rst(rst), .in_valid(v" << b.after << "), .in_ready(r"
      << b.after << "), .in_data(d" << b.after << "), .out_valid(bv" << k << "), .out_ready(br" << k << "), .out_data(bd"
      << k << "));\n";
  }
  for (std::size_t t = 0; t < plan.stages.size(); ++t) {
    const auto& st = plan.stages[t];
    if (!st.shared()) continue;
    const std::string T = std::to_string(t);
    v << "  wire [" << st.tm * st.sum_bits() - 1 << ":0] sum" << T << ";\n";
    std::string grant, rel, en;
    for (std::size_t k = st.served.size(); k-- > 0;) {
      const std::string l = std::to_string(st.served[k]);
      v << "  wire g" << l << ", rl" << l << ", e" << l << ";\n  wire [" << st.tn * st.act_bits - 1 << ":0] a" << l
        << ";\n  wire [" << counter_bits(plan.layers[static_cast<std::size_t>(st.served[k])].passes *
                                         plan.layers[static_cast<std::size_t>(st.served[k])].tiles - 1) - 1
        << ":0] wa" << l << ";\n";
      grant += "g" + l + (k ? ", " : "");
      rel += "rl" + l + (k ? ", " : "");
      en += "e" + l + (k ? ", " : "");
    }
    v << "  " << top << "_s" << T << " us" << T << " (.clk(clk), .rst(rst), .grant({" << grant << "}), .rel({" << rel
      << "}), .en_i({" << en << "}), ";
    for (std::size_t k = 0; k < st.served.size(); ++k)
      v << ".acts" << k << "(a" << st.served[k] << "), .wa" << k << "(wa" << st.served[k] << "), ";
    v << ".sum(sum" << T << "));\n";
  }
  std::size_t boundary = 0;
  for (std::size_t l = 0; l < plan.layers.size(); ++l) {
    const bool after_boundary = l > 0 && plan.layers[l].group != plan.layers[l - 1].group;
    const std::string src = after_boundary ? "b" : "";
    const std::string idx = after_boundary ? std::to_string(boundary++) : std::to_string(l - 1);
    const std::string in_v = l == 0 ? "in_valid" : src + "v" + idx;
    const std::string in_r = l == 0 ? "in_ready" : src + "r" + idx;
    const std::string in_d = l == 0 ? "in_pixel" : src + "d" + idx;
    v << "  " << mods[l] << " u" << l << " (.clk(clk), .rst(rst), .in_valid(" << in_v << "), .in_ready(" << in_r
      << "), .in_data(" << in_d << "), ";
    const auto t = static_cast<std::size_t>(plan.layers[l].stage);
    if (plan.stages[t].shared()) {
      const std::string L = std::to_string(l);
      v << ".grant(g" << L << "), .rel_o(rl" << L << "), .acts_o(a" << L << "), .wa_o(wa" << L << "), .en_o(e" << L
        << "), .sum(sum" << t << "), ";
    }
    if (l + 1 < plan.layers.size())
      v << ".out_valid(v" << l << "), .out_ready(r" << l << "), .out_data(d" << l << "));\n";
    else
      v << ".out_valid(out_valid), .out_ready(out_ready), .out_logits(out_logits), .out_class(out_class));\n";
  }
  v << "endmodule\n\n`default_nettype wire\n";
  d.files.insert(d.files.begin(), {top + ".v", v.str()});
  return d;
}

/// The Verilog files of a design, the top first (for tool command lines).
inline std::vector<std::string> verilog_sources(const verilog_design& d) {
  std::vector<std::string> out;
  for (const auto& f : d.files)
    if (f.name.size() > 2 && f.name.compare(f.name.size() - 2, 2, ".v") == 0) out.push_back(f.name);
  return out;
}

/// Distinct non-constant bit columns of a ROM given as its memory file's text (one hex word per line, as
/// $readmemh reads it; `width` bits a word, the low bit last): what yosys keeps of a ROM in logic, one LUT function
/// and one register of the registered read per column (it drops constant columns and merges equal ones);
/// fpga::logic_rom_columns is the bound without the contents. 0 for fewer than two words.
/// @throws hwnas::invalid_argument when a line is not a hex word
inline std::int64_t rom_columns(const std::string& mem_text, std::int64_t width) {
  std::vector<std::string> words;  // each as `width` characters '0'/'1', bit 0 first
  std::istringstream in(mem_text);
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    std::string bits(static_cast<std::size_t>(std::max<std::int64_t>(width, 0)), '0');
    std::int64_t b = 0;
    for (auto it = line.rbegin(); it != line.rend(); ++it) {
      const char c = *it;
      int v = 0;
      if (c >= '0' && c <= '9') v = c - '0';
      else if (c >= 'a' && c <= 'f') v = c - 'a' + 10;
      else if (c >= 'A' && c <= 'F') v = c - 'A' + 10;
      else throw invalid_argument("rtl: a memory file's line is not a hex word: '" + line + "'");
      for (int k = 0; k < 4; ++k, ++b)
        if (b < width && ((v >> k) & 1)) bits[static_cast<std::size_t>(b)] = '1';
    }
    words.push_back(std::move(bits));
  }
  if (words.size() < 2) return 0;
  std::vector<std::string> columns;
  for (std::int64_t b = 0; b < width; ++b) {
    std::string col(words.size(), '0');
    for (std::size_t w = 0; w < words.size(); ++w) col[w] = words[w][static_cast<std::size_t>(b)];
    if (col.find('0') == std::string::npos || col.find('1') == std::string::npos) continue;  // a constant
    columns.push_back(std::move(col));
  }
  std::sort(columns.begin(), columns.end());
  return static_cast<std::int64_t>(std::unique(columns.begin(), columns.end()) - columns.begin());
}

/// Writes the design's files into `dir` (created if missing), each atomically.
/// @throws hwnas::io_error when the directory cannot be created or a file cannot be written
inline void write_design(const verilog_design& d, const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw io_error("rtl export: cannot create " + dir.string() + ": " + ec.message());
  for (const auto& f : d.files) write_file_atomically(dir / f.name, f.text);
}

}  // namespace hwnas::rtl

#ifdef HWNAS_RTL_RESTRICT_PUSHED
#pragma GCC diagnostic pop
#undef HWNAS_RTL_RESTRICT_PUSHED
#endif
