#include <doctest/doctest.h>

#include <map>
#include <string>

#include "fpga_test_util.hpp"
#include "hwnas/fpga/pipelined_pe.hpp"

using namespace hwnas;
using namespace hwnas::fpga;
using hwnas::fpga::test::has_violation;

namespace {

/// A random S-stage mapping: groups of S layers (the last may have fewer), random Tn in 1..N*K*K and Tm in 1..M.
pe_mapping random_pe_mapping(rng& r, const std::vector<layer_geometry>& g) {
  pe_mapping m;
  const std::size_t stages = 1 + r.below(g.size());
  for (std::size_t l = 0; l < g.size(); ++l) {
    const int group = static_cast<int>(l / stages);
    const int tn_max = static_cast<int>(fpga::detail::reduction_length(g[l]));  // N*K*K: the window may unroll
    m.layers.push_back({fpga::test::pick(r, 1, tn_max), fpga::test::pick(r, 1, g[l].out_channels), group});
  }
  return m;
}

}  // namespace

TEST_CASE("pipelined_pe: one layer's cost follows the formulas") {
  architecture a;
  a.input = {3, 8, 8};
  a.classes = 4;
  a.input_format = qformat::activation(0, 6);
  conv_layer c;
  c.filters = 10;
  c.kernel = 3;
  c.pool = 2;
  c.weight_format = qformat::weight(0, 4);          // 5 bits
  c.activation_format = qformat::activation(1, 3);  // 4 bits
  a.layers = {c};
  a.classifier.weight_format = qformat::weight(0, 3);
  const auto g = geometry(a);
  const auto d = info_of<cyclone_iv_ep4ce115>();
  const int tn = 2, tm = 4;
  const auto cost = fpga::detail::pe_layer(d, g[0], tn, tm);
  // cycles = max(ceil(M/Tm) ceil(N K^2/Tn) R C, H W): Tn = 2 over the 3*9 = 27 products of a window
  CHECK(cost.cycles == 3 * 14 * 8 * 8);
  // LUTs: Tm columns of (Tn multipliers + the accumulating sum of Tn products + requantizer) + Tm pool lanes
  const int acc = 6 + 5 + ceil_log2(3 * 9 + 1);
  CHECK(fpga::detail::accumulator_bits(g[0]) == acc);
  const auto column = pe_column_luts(lut_family::lut4, tn, 6, 5, acc, 4, requantizer_default_shift(5));
  // ... plus the layer's shell (control and output registers; pe_layer_shell), whatever Tn and Tm
  const auto shell = fpga::detail::pe_layer_shell(lut_family::lut4, g[0]);
  CHECK(shell.luts > 0);
  // ... and the memories kept in logic: here the weight ROM, 3 * 14 = 42 words (<= logic_rom_max_depth) of Tn Tm w
  // bits, 5 LUT4s per bit (logic_rom_bit_luts), and its registered read, a flip-flop per bit (42 words: no bound)
  CHECK(cost.memory_luts == 2 * 4 * 5 * 5);
  CHECK(cost.memory_ffs == 2 * 4 * 5);
  // ... and the lane selection: Tn = 2 over N = 3 channels, passes start at channels 0, 2, 1 (3 offsets), each of the
  // 2 lanes' 6 activation bits a 3-arm choice masked by the ports' padding (lane_select_bit_luts: 3 LUT4s)
  CHECK(fpga::detail::pe_lane_offsets(2, 3, 27) == 3);
  CHECK(lane_select_bit_luts(lut_family::lut4, 3, true) == 3);
  CHECK(cost.select_luts == 2 * 6 * 3);
  CHECK(cost.luts == tm * column + tm * max_pool_luts(lut_family::lut4, 4) + shell.luts + cost.memory_luts +
                         cost.select_luts);
  // BRAM, as the RTL declares it: the line buffer (pe_buffer_rows = 4 rows of W = 8 pixels of N a bits), one copy
  // per read port (Tn = 2 over N = 3 channels: the pass over products 2..3 reads pixels 0 and 1, 2 ports), and the
  // pool's row (W/2 ceil(M/Tm) = 12 words of Tm out bits); the weights are in logic
  const auto shapes = d.bram_shapes;
  CHECK(fpga::detail::pe_buffer_rows(g[0]) == 4);
  CHECK(cost.brams == 2 * bram_blocks(shapes, 4 * 8, 3 * 6) + bram_blocks(shapes, 4 * 3, 4 * 4));
  // Tn = 9 > N = 3 unrolls the window: 3 pixels per cycle from 3 copies of the line buffer
  const auto wide = fpga::detail::pe_layer(d, g[0], 9, tm);
  CHECK(wide.cycles == 3 * 3 * 8 * 8);
  CHECK(wide.brams == 3 * bram_blocks(shapes, 4 * 8, 3 * 6) + bram_blocks(shapes, 4 * 3, 4 * 4));
  // Tn = 5 is not a multiple of N: the pass over products 5..9 straddles pixels 1, 2 and 3, 3 ports where
  // ceil(Tn / N) = 2; the weight ROM (6 x 3 = 18 words) is in logic; Tn = 6 (aligned) reads 2 pixels a pass
  CHECK(fpga::detail::pe_read_ports(5, 3, 27) == 3);
  CHECK(fpga::detail::pe_layer(d, g[0], 5, tm).brams == 3 * bram_blocks(shapes, 4 * 8, 3 * 6) + bram_blocks(shapes, 4 * 3, 4 * 4));
  CHECK(fpga::detail::pe_layer(d, g[0], 6, tm).brams == 2 * bram_blocks(shapes, 4 * 8, 3 * 6) + bram_blocks(shapes, 4 * 3, 4 * 4));
  // with Tn = 1 the weight ROM is 3 * 27 = 81 words deep: block RAM
  CHECK(fpga::detail::pe_layer(d, g[0], 1, tm).brams ==
        bram_blocks(shapes, 3 * 27, 4 * 5) + bram_blocks(shapes, 4 * 8, 3 * 6) + bram_blocks(shapes, 4 * 3, 4 * 4));
  // Fully unrolled, reading the 64 input pixels one per cycle binds: 3 passes * 64 outputs = 192 > 64; with Tm = M,
  // one pass: max(64, 64)
  CHECK(fpga::detail::pe_layer(d, g[0], 27, 10).cycles == 64);
}

TEST_CASE("pipelined_pe: one static bitstream: stages add LUTs, groups add cycles, a shared stage fits its largest layer") {
  const auto a = with_uniform_bits(reference_cnn(), 4);
  const auto g = geometry(a);
  const pipelined_pe<> model;
  const auto d = model.device();
  pe_mapping one_group{{{1, 4, 0}, {4, 2, 0}, {2, 1, 0}}};
  pe_mapping three_groups{{{1, 4, 0}, {4, 2, 1}, {2, 1, 2}}};
  std::int64_t sum_l = 0, sum_c = 0, max_c = 0, brams = 0;
  for (std::size_t l = 0; l < 3; ++l) {
    const auto c = fpga::detail::pe_layer(d, g[l], one_group.layers[l].tn, one_group.layers[l].tm);
    sum_l += c.luts;
    max_c = std::max(max_c, c.cycles);
    brams += c.brams;
  }
  // One group: every layer its own array, all streaming at once.
  const auto r1 = model.evaluate(a, one_group);
  CHECK(r1.luts == sum_l);
  CHECK(r1.cycles == max_c);
  CHECK(r1.brams == brams);
  CHECK(r1.dsps == 0);
  CHECK(r1.fps == doctest::Approx(100e6 / static_cast<double>(max_c)));
  // Three groups of one layer: one stage serves all three, sized for the largest (Tn 4, Tm 4, widest bits), with a
  // 3:1 multiplexer on its Tn inputs and one weight memory for the three; every layer runs on the whole array
  // (clipped) and keeps its own accumulators, requantizers and pool lanes (rtl::stage_module).
  const auto r3 = model.evaluate(a, three_groups);
  REQUIRE(r3.layers.size() == 3);
  // conv0 has 9 products per output (N = 1, 3x3): 4 lanes take 3 passes, which 3 lanes take too
  CHECK(fpga::detail::lanes_used(4, 9) == 3);
  CHECK(r3.layers[0].parallelism[0] == factor{"Tn", 3});
  CHECK(r3.layers[1].parallelism[1] == factor{"Tm", 4});
  CHECK(r3.layers[2].parallelism[1] == factor{"Tm", 4});
  CHECK(r3.layers[1].parallelism[3] == factor{"stage", 0});
  std::int64_t shared_brams = 0, memory_luts = 0, words = 0;
  std::vector<fpga::detail::pe_layer_cost> costs;
  for (std::size_t l = 0; l < 3; ++l) {
    const auto tn = fpga::detail::lanes_used(4, fpga::detail::reduction_length(g[l]));
    const auto tm = fpga::detail::lanes_used(4, g[l].out_channels);
    auto c = fpga::detail::pe_layer(d, g[l], tn, tm);
    CHECK(r3.layers[l].cycles == c.cycles);
    sum_c += c.cycles;
    // the layer's weights move to the stage's memory
    fpga::detail::without_weights(c);
    shared_brams += c.brams;
    memory_luts += c.own_luts();  // each layer's memories kept in logic (place_memory) and its lane selection
    words += fpga::ceil_div(fpga::detail::reduction_length(g[l]), tn) * fpga::ceil_div(g[l].out_channels, tm);
    costs.push_back(c);
  }
  // the frame: at least the groups' intervals one after another, more where the handoffs and drains add
  const auto part = fpga::detail::make_partition({0, 1, 2});
  CHECK(r3.cycles == std::max(sum_c, fpga::detail::pe_grouped_interval(g, part, costs)));
  CHECK(r3.cycles >= sum_c);
  const auto rom = fpga::place_memory(d, words, 4 * 4 * 4, true);  // 4 x 4 lanes of 4-bit weights
  CHECK(r3.brams == fpga::detail::blocks(d, shared_brams + rom.bram_units + fpga::detail::pe_boundary(d, g[0]).bram_units +
                                                fpga::detail::pe_boundary(d, g[1]).bram_units));
  REQUIRE(g[0].act_bits == 8);  // the 8-bit input image: the stage's activations are 8 bits wide
  // Tm columns of Tn 8 x 4 products and their sum (8 + 4 + 2 levels), no accumulator or requantizer
  const auto columns = 4 * fpga::pe_column_luts(lut_family::lut4, 4, 8, 4, 14, 0, 3);
  const std::int64_t mux = 2 * (4 * 8);  // 3:1 per bit = 2 LUT4s, on the 4 x 8 input bits
  // every layer keeps its own shell (control and output registers), accumulators, requantizers and pool lanes
  std::int64_t shells = 0, own = 0;
  for (std::size_t l = 0; l < 3; ++l) {
    shells += fpga::detail::pe_layer_shell(lut_family::lut4, g[l]).luts;
    const int acc = fpga::detail::accumulator_bits(g[l]);
    own += fpga::detail::lanes_used(4, g[l].out_channels) *
           (fpga::adder_luts(lut_family::lut4, acc) + fpga::requantizer_luts(lut_family::lut4, acc, g[l].out_bits, 3) +
            (g[l].pool == 2 ? max_pool_luts(lut_family::lut4, 4) : 0));
  }
  // and a FIFO of the whole map at each group boundary, in the report's boundary figures
  const auto b0 = fpga::detail::pe_boundary(d, g[0]), b1 = fpga::detail::pe_boundary(d, g[1]);
  CHECK(r3.luts == columns + mux + own + shells + memory_luts + rom.luts + b0.luts + b1.luts);
  CHECK(r3.boundary_luts == b0.luts + b1.luts);
  CHECK(r3.boundary_ffs == b0.ffs + b1.ffs);
  // the array is listed at the stage's first layer, each layer's memories at the layer
  std::int64_t listed = r3.boundary_luts;
  for (const auto& lr : r3.layers) listed += lr.luts;
  CHECK(listed == r3.luts);
  CHECK(r3.layers[0].luts > r3.layers[1].luts + r3.layers[2].luts);
  // NAQS's "largest group" would be the largest single layer: less than what one bitstream must hold
  std::int64_t naqs = 0;
  for (std::size_t l = 0; l < 3; ++l)
    naqs = std::max(naqs, fpga::detail::pe_layer(d, g[l], three_groups.layers[l].tn, three_groups.layers[l].tm).luts);
  CHECK(r3.luts > naqs);
  // latency: each group's interval plus its layers' fills (the input up to the first pooled output, as a
  // fraction of the frame: conv0 59 of 28*28 pixels, conv1 31 of 14*14, the classifier none)
  CHECK(g[0].pixels_to_first_output == 2 * 28 + 3);
  CHECK(g[1].pixels_to_first_output == 2 * 14 + 3);
  CHECK(g[2].pixels_to_first_output == 0);
  const auto fill = [&](std::size_t l, std::int64_t t) {
    return (t * g[l].pixels_to_first_output + g[l].in_pixels - 1) / g[l].in_pixels;
  };
  CHECK(r1.latency_cycles == max_c + fill(0, max_c) + fill(1, max_c));
  CHECK(r1.latency_ms == doctest::Approx(1e3 * static_cast<double>(r1.latency_cycles) / 100e6));
  std::int64_t lat3 = 0;
  for (std::size_t l = 0; l < 3; ++l) lat3 += r3.layers[l].cycles + fill(l, r3.layers[l].cycles);
  CHECK(r3.latency_cycles == std::max(lat3, fpga::detail::pe_grouped_latency(g, part, costs, r3.cycles)));
  CHECK(r1.layers[2].name == "fc");
}

TEST_CASE("pipelined_pe: a conv layer's flip-flops are its registers as the RTL declares them") {
  const auto a = with_uniform_bits(reference_cnn(), 4);
  const auto g = geometry(a);
  const auto d = info_of<xc7z020>();
  const auto& c0 = g[0];  // 16 filters of 4 bits, pooled: 14 pooled columns
  REQUIRE(c0.out_channels == 16);
  REQUIRE(c0.pool == 2);
  // out_data (16 x 4) + asm_r ((qm - 1) Tm x 4) + hreg (qm Tm x 4); the pool row (14 qm words) is block RAM, whose
  // output latch holds its read register
  CHECK(fpga::detail::pe_output_ffs(c0, 16) == (16 + 0 + 16) * 4);
  CHECK(fpga::detail::pe_output_ffs(c0, 3) == (16 + 5 * 3 + 6 * 3) * 4);  // Tm 3: 6 tiles
  CHECK(fpga::detail::pe_output_ffs(c0, 5) == fpga::detail::pe_output_ffs(c0, 4));  // Tm 5 takes 4 tiles, as Tm 4
  // the classifier (10 classes): accs (qm Tm acc), fin (Tm acc), the logits (M acc), best_v (acc), best_i and the
  // class (4 bits each); no separate accumulators
  const auto& fc = g.back();
  const std::int64_t acc = fpga::detail::accumulator_bits(fc);
  CHECK(fpga::detail::pe_output_ffs(fc, 4) == (3 * 4 + 4 + 10 + 1) * acc + 2 * 4);
  CHECK(fpga::detail::pe_output_ffs(fc, 10) == (10 + 10 + 10 + 1) * acc + 2 * 4);
  CHECK(fpga::detail::pe_accumulator_ffs(fc, 4) == 0);
  CHECK(fpga::detail::pe_accumulator_ffs(c0, 3) == 3 * accumulator_ffs(fpga::detail::accumulator_bits(c0)));
  // a pool row of at most 4 words stays in logic: its read register too
  auto narrow = c0;
  narrow.pooled_width = 2;
  CHECK(fpga::detail::pe_output_ffs(narrow, 16) == (16 + 0 + 16 + 16) * 4);
  // the read ports' window registers: 2 ceil(log2 K) + 1 per port while the passes move over the window
  CHECK(fpga::detail::pe_port_ffs(c0, 1) == 1 * (2 * 2 + 1));  // 9 passes, one port
  CHECK(fpga::detail::pe_port_ffs(c0, 4) == 3 * (2 * 2 + 1));  // Tn 4 takes 3 passes of 3 taps: 3 ports
  CHECK(fpga::detail::pe_port_ffs(c0, 9) == 0);                // one pass: every port reads a fixed tap
  // the whole layer: products, Tm accumulators, the pixel, the ports, the shell's control, the memories in logic
  for (const std::int64_t tn : {1, 3, 9})
    for (const std::int64_t tm : {1, 2, 16}) {
      const auto c = fpga::detail::pe_layer(d, c0, tn, tm);
      CHECK(c.ffs == product_register_ffs(d.family, tn, tm, c0.act_bits, c0.weight_bits) +
                         fpga::detail::pe_accumulator_ffs(c0, tm) + fpga::detail::pe_output_ffs(c0, tm) +
                         fpga::detail::pe_port_ffs(c0, tn) +
                         fpga::detail::pe_layer_shell(d.family, c0).ffs + c.memory_ffs);
    }
}

TEST_CASE("pipelined_pe: every layer's shell is priced: control and output registers, the classifier's M accumulators") {
  // The hardware rtl::generate_verilog builds keeps, besides the PE array, each layer's control, and the classifier
  // all M accumulators and the M logits (docs/fidelity.md#the-layer-shell: 12 designs' layers synthesized); a conv
  // layer's output pixel registers depend on Tm (pe_output_ffs, below).
  const auto a = with_uniform_bits(reference_cnn(), 4);
  const auto g = geometry(a);
  const pipelined_pe<> model;
  const auto d = model.device();
  std::int64_t shell_luts = 0, shell_ffs = 0;
  for (const auto& l : g) {
    const auto s = fpga::detail::pe_layer_shell(d.family, l);
    shell_luts += s.luts;
    shell_ffs += s.ffs;
    CHECK(s.ffs > 0);  // the control
    if (l.is_classifier) CHECK(fpga::detail::pe_output_ffs(l, 1) >= 2 * std::int64_t{l.out_channels} * fpga::detail::accumulator_bits(l));
    else CHECK(fpga::detail::pe_output_ffs(l, 1) >= 2 * std::int64_t{l.out_channels} * l.out_bits);
    // it does not depend on the mapping: every (Tn, Tm) pays the same on top of its array
    const auto base = fpga::detail::pe_layer(d, l, 1, 1), other = fpga::detail::pe_layer(d, l, 2, 2);
    const auto arr1 = pe_array(d.family, 1, 1, l.act_bits, l.weight_bits, fpga::detail::accumulator_bits(l), l.out_bits);
    const auto arr2 = pe_array(d.family, 2, 2, l.act_bits, l.weight_bits, fpga::detail::accumulator_bits(l), l.out_bits);
    CHECK(base.luts - base.own_luts() - arr1.luts - (other.luts - other.own_luts() - arr2.luts) ==
          (l.pool == 2 ? -max_pool_luts(d.family, l.out_bits) : 0));
    // LUT6 fabric takes fewer LUTs for the same logic
    CHECK(fpga::detail::pe_layer_shell(lut_family::lut6, l).luts < s.luts);
  }
  // the least design holds every shell: a LUT budget below their sum admits no mapping, even Tn = Tm = 1
  const auto least = model.map(a, spec{});
  REQUIRE(least.feasible);
  CHECK(least.luts > shell_luts);
  CHECK(least.ffs > shell_ffs);
  CHECK_FALSE(model.best_mapping(a, spec{.max_luts = shell_luts}).has_value());
  CHECK(model.best_mapping(a, spec{.max_luts = least.luts}).has_value());
  // and the report says what its LUTs cover
  bool said = false;
  for (const auto& [key, text] : least.assumptions)
    said = said || (key == "LUT coverage" && text.find("shell") != std::string::npos);
  CHECK(said);
}

TEST_CASE("pipelined_pe: the issue's example: a tight LUT budget no longer admits the larger group's LUTs") {
  // hwnas-estimate --arch examples/architectures/reference_cnn_4bit.json --max-luts 1000 --min-fps 1000 was
  // "feasible at 870 LUTs, the larger of its two groups"; one bitstream must hold both.
  const auto a = with_uniform_bits(reference_cnn(), 4);
  const pipelined_pe<> model;
  const auto r = model.map(a, spec{.max_luts = 1000, .min_fps = 1000});
  if (r.feasible) {
    // whatever it found, it is a design one bitstream holds: its stages' arrays add up to its LUTs
    std::int64_t sum = 0;
    for (const auto& l : r.layers) sum += l.luts;
    CHECK(sum == r.luts);
    CHECK(r.luts <= 1000);
  }
  const auto best = model.map(a, spec{.min_fps = 1000});
  REQUIRE(best.feasible);
  std::int64_t sum = 0;
  for (const auto& l : best.layers) sum += l.luts;
  CHECK(sum == best.luts);
}

TEST_CASE("pipelined_pe: the grouping and stage search equals brute force on random small architectures and specs") {
  const auto t = fpga::test::check_searches_against_brute_force(
      pipelined_pe<>(), pipelined_pe<xc7z020, clock_mhz<150>>(), 20240601, 100,
      [](rng& r, int trial) { return fpga::test::random_small_architecture(r, trial % 5 == 0 ? 3 : 2, 8); },
      random_pe_mapping);
  CHECK(t.feasible > 20);
  CHECK(t.infeasible > 10);
}

TEST_CASE("pipelined_pe: the search is exact when block RAM binds") {
  rng r(77);
  const pipelined_pe<> model;
  int binding = 0;
  for (int trial = 0; trial < 60; ++trial) {
    const auto a = fpga::test::random_small_architecture(r, 2, 8);
    const auto g = geometry(a);
    const auto anchor = model.evaluate(a, random_pe_mapping(r, g));
    spec s;
    s.max_brams = static_cast<std::int64_t>(static_cast<double>(anchor.brams) * r.uniform(0.8, 1.1));
    if (r.below(2)) s.min_fps = anchor.fps * r.uniform(0.5, 1.2);
    const auto dp = model.best_mapping(a, s);
    const auto bf = model.best_mapping_ref(a, s);
    CAPTURE(trial);
    REQUIRE(dp.has_value() == bf.has_value());
    if (dp) {
      const auto x = model.evaluate(a, *dp, s), y = model.evaluate(a, *bf, s);
      CHECK(x.feasible);
      CHECK(x.luts == y.luts);
      CHECK(x.cycles == y.cycles);
      // would the least-LUT mapping without the BRAM ceiling break it? then BRAM really bound
      const auto free = model.best_mapping(a, spec{.min_fps = s.min_fps});
      if (free && model.evaluate(a, *free).brams > *s.max_brams) ++binding;
    }
  }
  MESSAGE("instances where BRAM changed the answer: " << binding);
  CHECK(binding > 3);
}

TEST_CASE("pipelined_pe: a larger LUT budget never lowers the best reachable fps") {
  rng r(5);
  const pipelined_pe<> model;
  for (int trial = 0; trial < 8; ++trial) {
    architecture a = with_uniform_bits(reference_cnn(), fpga::test::pick(r, 2, 8));
    a.layers[0].filters = fpga::test::pick(r, 4, 16);
    a.layers[1].filters = fpga::test::pick(r, 4, 24);
    double last_fps = 0;
    bool reached = false;
    for (std::int64_t budget = 200; budget <= 40000; budget = budget * 3 / 2) {
      const auto m = model.fastest_mapping(a, spec{.max_luts = budget});
      if (!m) {
        CHECK_FALSE(reached);  // once reachable, always reachable
        continue;
      }
      reached = true;
      const auto rep = model.evaluate(a, *m);
      CHECK(rep.luts <= budget);
      CHECK(rep.fps >= last_fps);
      last_fps = rep.fps;
    }
    CHECK(reached);
  }
}

TEST_CASE("pipelined_pe: more bits never lower the LUTs") {
  rng r(11);
  const pipelined_pe<> model;
  for (int bits = 1; bits < 12; ++bits) {
    const auto lo = with_uniform_bits(reference_cnn(), std::max(bits, 2));
    const auto hi = with_uniform_bits(reference_cnn(), std::max(bits, 2) + 1);
    for (double fps : {100.0, 1000.0, 5000.0}) {
      const spec s{.min_fps = fps};
      const auto ml = model.best_mapping(lo, s), mh = model.best_mapping(hi, s);
      REQUIRE(ml.has_value());
      REQUIRE(mh.has_value());
      CHECK(model.evaluate(lo, *ml).luts <= model.evaluate(hi, *mh).luts);
      // and the same mapping costs no fewer LUTs with more bits
      CHECK(model.evaluate(lo, *mh).luts <= model.evaluate(hi, *mh).luts);
    }
  }
  // one layer's bits at a time, on random architectures
  for (int trial = 0; trial < 30; ++trial) {
    auto a = fpga::test::random_small_architecture(r, 2, 7);
    auto b = a;
    const auto l = r.below(a.layers.size() + 1);
    if (l == a.layers.size()) {
      b.classifier.weight_format = fpga::test::weight_bits(a.classifier.weight_format->bits() + 1);
    } else if (r.below(2)) {
      b.layers[l].weight_format = fpga::test::weight_bits(a.layers[l].weight_format->bits() + 1);
    } else {
      b.layers[l].activation_format = fpga::test::act_bits(a.layers[l].activation_format->bits() + 1);
    }
    const auto ma = model.best_mapping(a), mb = model.best_mapping(b);
    REQUIRE(ma);
    REQUIRE(mb);
    CHECK(model.evaluate(a, *ma).luts <= model.evaluate(b, *mb).luts);
    CHECK(model.evaluate(a, *mb).luts <= model.evaluate(b, *mb).luts);
  }
}

TEST_CASE("pipelined_pe: infeasible reports name the failing constraint and by how much") {
  const pipelined_pe<> model;
  const auto a = with_uniform_bits(reference_cnn(), 4);
  SUBCASE("too few LUTs for even Tn = Tm = 1") {
    const auto r = model.map(a, spec{.max_luts = 20});
    CHECK_FALSE(r.feasible);
    REQUIRE(has_violation(r, "max_luts"));
    CHECK(r.violations.front().actual > 20);
    CHECK(r.violations.front().excess() > 0);
    CHECK(r.violations.front().message.find("max_luts") != std::string::npos);
  }
  SUBCASE("a rate no mapping within the LUTs reaches") {
    const auto r = model.map(a, spec{.max_luts = 2000, .min_fps = 1e6});
    CHECK_FALSE(r.feasible);
    REQUIRE(r.violations.size() == 1);
    CHECK(r.violations[0].constraint == "min_fps");
    CHECK(r.violations[0].limit == 1e6);
    CHECK(r.violations[0].actual == doctest::Approx(r.fps));
    CHECK(r.violations[0].excess() == doctest::Approx((1e6 - r.fps) / 1e6));
    CHECK(r.luts <= 2000);  // shown: the fastest mapping within the budget
    const auto best = model.fastest_mapping(a, spec{.max_luts = 2000});
    REQUIRE(best);
    CHECK(model.evaluate(a, *best).cycles == r.cycles);
  }
  SUBCASE("a latency bound") {
    const auto r = model.map(a, spec{.max_luts = 2000, .max_latency_ms = 0.001});
    CHECK_FALSE(r.feasible);
    CHECK(has_violation(r, "max_latency_ms"));
  }
  SUBCASE("no block RAM at all") {
    const auto r = model.map(a, spec{.max_brams = 0});
    CHECK_FALSE(r.feasible);
    CHECK(has_violation(r, "max_brams"));
  }
  SUBCASE("the device itself is too small") {
    architecture big = a;
    big.input = {1, 64, 64};
    big.layers[1].filters = 512;
    big.classes = 1000;  // 512*16*16 x 1000 weights of 4 bits: far over 432 M9K
    const auto r = model.map(big);
    CHECK_FALSE(r.feasible);
    CHECK(has_violation(r, "device_brams"));
    CHECK(r.bram_utilization > 1.0);
  }
  SUBCASE("a feasible spec has no violations") {
    const auto r = model.map(a, spec{.max_luts = 30000, .min_fps = 1000});
    CHECK(r.feasible);
    CHECK(r.violations.empty());
    CHECK(r.fps >= 1000);
    CHECK(r.luts <= 30000);
  }
}

TEST_CASE("pipelined_pe: bad input is rejected with a clear message") {
  const pipelined_pe<> model;
  const auto a = with_uniform_bits(reference_cnn(), 4);
  CHECK_THROWS_WITH_AS(model.map(a, spec{.max_luts = -1}), doctest::Contains("max_luts"), hwnas::invalid_argument);
  CHECK_THROWS_WITH_AS(model.map(reference_cnn()), doctest::Contains("fully quantized"), hwnas::invalid_argument);
  CHECK_THROWS_AS(pipelined_pe<>(0.0), hwnas::invalid_argument);
  CHECK_THROWS_WITH_AS(model.evaluate(a, pe_mapping{{{1, 1, 0}}}), doctest::Contains("compute layers"),
                       hwnas::invalid_argument);
  CHECK_THROWS_WITH_AS(model.evaluate(a, pe_mapping{{{10, 1, 0}, {1, 1, 0}, {1, 1, 0}}}),
                       doctest::Contains("Tn = 10 must be in 1..N*K*K = 9"), hwnas::invalid_argument);
  CHECK_NOTHROW(model.evaluate(a, pe_mapping{{{9, 1, 0}, {1, 1, 0}, {1, 1, 0}}}));
  CHECK_THROWS_WITH_AS(model.evaluate(a, pe_mapping{{{1, 1, 0}, {1, 1, 2}, {1, 1, 2}}}), doctest::Contains("group"),
                       hwnas::invalid_argument);
  // groups of 1 then 2 layers cannot share one set of stages
  CHECK_THROWS_WITH_AS(model.evaluate(a, pe_mapping{{{1, 1, 0}, {1, 1, 1}, {1, 1, 1}}}),
                       doctest::Contains("group 1 has 2 layers, group 0 has 1"), hwnas::invalid_argument);
  CHECK_NOTHROW(model.evaluate(a, pe_mapping{{{1, 1, 0}, {1, 1, 0}, {1, 1, 1}}}));
}

TEST_CASE("pipelined_pe: the clock scales fps, not cycles") {
  const auto a = with_uniform_bits(reference_cnn(), 4);
  const pe_mapping m{{{1, 4, 0}, {4, 2, 1}, {2, 1, 2}}};
  const auto r100 = pipelined_pe<cyclone_iv_ep4ce115, clock_mhz<100>>().evaluate(a, m);
  const auto r50 = pipelined_pe<cyclone_iv_ep4ce115>(50.0).evaluate(a, m);
  CHECK(r100.cycles == r50.cycles);
  CHECK(r50.fps == doctest::Approx(r100.fps / 2));
  CHECK(r50.clock_mhz == 50.0);
}

TEST_CASE("pipelined_pe: reading the input takes time too (one pixel per cycle)") {
  // The case: a 1x1 conv with stride 2 on a 4x32x32 input, 4 filters, pool 2, 4-bit. Computing takes
  // 16*16 = 256 cycles with Tn = N, Tm = M; reading the 1,024 input pixels takes 1,024: at most 97,656 fps.
  architecture a;
  a.input = {4, 32, 32};
  a.classes = 2;
  a.input_format = qformat::activation(0, 4);
  conv_layer c;
  c.filters = 4;
  c.kernel = 1;
  c.stride = 2;
  c.pool = 2;
  c.weight_format = qformat::weight(0, 3);
  c.activation_format = qformat::activation(1, 3);
  a.layers = {c};
  a.classifier.weight_format = qformat::weight(0, 3);
  const pipelined_pe<> model;
  const auto r = model.map(a, spec{.min_fps = 300000});
  CHECK_FALSE(r.feasible);
  CHECK(r.cycles >= 1024);
  CHECK(r.fps <= 100e6 / 1024 + 1e-6);
  CHECK(model.map(a, spec{.min_fps = 97000}).feasible);
}

TEST_CASE("pipelined_pe: unrolling the window lifts the first layer's cap (N = 1)") {
  // Without window unrolling the first layer (N = 1, 3x3) needs 28*28*9 = 7,056 cycles at best: 14,172 fps on
  // 100 MHz. Tn over N*K*K reaches 20,000 fps on the XC7Z020.
  const auto a = with_uniform_bits(reference_cnn(), 4);
  const pipelined_pe<xc7z020> model;
  const auto r = model.map(a, spec{.min_fps = 20000});
  CHECK(r.feasible);
  CHECK(r.layers[0].parallelism[0].second > 1);  // Tn > N = 1
  CHECK(r.fps >= 20000);
}

TEST_CASE("pipelined_pe: a latency ceiling is met exactly (equals brute force)") {
  rng r(4242);
  const pipelined_pe<> model;
  int bound = 0;
  for (int trial = 0; trial < 40; ++trial) {
    const auto a = fpga::test::random_small_architecture(r, 2, 6);
    const auto g = geometry(a);
    const auto x = model.evaluate(a, random_pe_mapping(r, g));
    const spec s{.max_luts = static_cast<std::int64_t>(static_cast<double>(x.luts) * r.uniform(0.8, 2.0)),
                 .max_latency_ms = x.latency_ms * r.uniform(0.5, 1.2)};
    const auto best = model.best_mapping(a, s), ref = model.best_mapping_ref(a, s);
    CAPTURE(trial);
    REQUIRE(best.has_value() == ref.has_value());
    if (!best) continue;
    const auto rb = model.evaluate(a, *best, s), rr = model.evaluate(a, *ref, s);
    CHECK(rb.feasible);
    CHECK(rb.luts == rr.luts);
    CHECK(rb.cycles == rr.cycles);
    // the ceiling binds when the least-LUT mapping without it would break it
    const auto free = model.best_mapping(a, spec{.max_luts = s.max_luts});
    if (free && model.evaluate(a, *free).latency_ms > *s.max_latency_ms) ++bound;
  }
  CHECK(bound > 3);
}

namespace {
/// A random grouping of any sizes (reconfigured groups need no S-stage shape), random Tn and Tm.
pe_mapping random_any_grouping(rng& r, const std::vector<layer_geometry>& g) {
  pe_mapping m;
  int group = 0;
  for (std::size_t l = 0; l < g.size(); ++l) {
    if (l > 0 && r.below(2) == 1) ++group;
    const int tn_max = static_cast<int>(fpga::detail::reduction_length(g[l]));
    m.layers.push_back({fpga::test::pick(r, 1, tn_max), fpga::test::pick(r, 1, g[l].out_channels), group});
  }
  return m;
}
}  // namespace

TEST_CASE("pipelined_pe reconfigure_groups: NAQS's accounting, its search equals brute force") {
  for (const std::int64_t batch : {1000, 100000, 10000000}) {
    CAPTURE(batch);
    const auto t = fpga::test::check_searches_against_brute_force(
        pipelined_pe<>().reconfigure_groups(batch), pipelined_pe<xc7z020, clock_mhz<150>>().reconfigure_groups(batch),
        777 + static_cast<std::uint64_t>(batch), 40, [](rng& r, int) { return fpga::test::random_small_architecture(r, 2, 8); },
        random_any_grouping);
    CHECK(t.feasible > 8);
    CHECK(t.infeasible > 2);
  }
}

TEST_CASE("pipelined_pe reconfigure_groups: the largest group's resources, the configurations charged per batch") {
  const auto a = with_uniform_bits(reference_cnn(), 4);
  const auto g = geometry(a);
  const auto d = info_of<cyclone_iv_ep4ce115>();
  // 28,571,136 bits over 8 bits at 100 MHz: 35.7 ms, 3,571,392 cycles at 100 MHz
  CHECK(fpga::detail::configuration_cycles(d, 100) == 3571392);
  const pe_mapping two_groups{{{1, 4, 0}, {8, 4, 1}, {16, 2, 1}}};
  const std::int64_t batch = 1000;
  const auto model = pipelined_pe<>().reconfigure_groups(batch);
  CHECK(model.reconfiguration_batch() == batch);
  const auto r = model.evaluate(a, two_groups);
  std::vector<fpga::detail::pe_layer_cost> c;
  for (std::size_t l = 0; l < g.size(); ++l)
    c.push_back(fpga::detail::pe_layer(d, g[l], two_groups.layers[l].tn, two_groups.layers[l].tm));
  CHECK(r.luts == std::max(c[0].luts, c[1].luts + c[2].luts));  // one group on the fabric at a time
  CHECK(r.brams == static_cast<double>(std::max(c[0].brams, c[1].brams + c[2].brams)));  // maps off chip
  const std::int64_t interval0 = c[0].cycles, interval1 = std::max(c[1].cycles, c[2].cycles);
  CHECK(r.cycles == interval0 + interval1 + ceil_div(2 * 3571392, batch));
  const std::int64_t fills = fpga::detail::streaming_latency(g, 0, 0, interval0) - interval0 +
                             fpga::detail::streaming_latency(g, 1, 2, interval1) - interval1;
  CHECK(r.latency_cycles == batch * (interval0 + interval1) + fills + 3571392);
  std::map<std::string, std::string> m(r.assumptions.begin(), r.assumptions.end());
  CHECK(m["arrays"].find("reconfigured") != std::string::npos);
  CHECK(m["reconfiguration"].find("35.71 ms") != std::string::npos);
  const auto j = to_json(r)["reconfiguration"];
  CHECK(j["batch_frames"] == batch);
  CHECK(j["groups"] == 2);
  CHECK(j["configuration_cycles"] == 3571392);
  CHECK(to_json(pipelined_pe<>().evaluate(a, pe_mapping{{{1, 4, 0}, {8, 4, 0}, {16, 2, 0}}}))["reconfiguration"].is_null());
  // groups of 1 and 2 layers are no S-stage pipeline, so no static bitstream; reconfigured groups may have any
  // sizes. One frame per batch pays two whole configurations.
  CHECK_THROWS_AS(pipelined_pe<>().evaluate(a, two_groups), invalid_argument);
  const auto one = pipelined_pe<>().reconfigure_groups(1).evaluate(a, two_groups);
  CHECK(one.cycles == interval0 + interval1 + 2 * 3571392);
  CHECK(one.fps < 15);
  // one group is the static design, figure for figure
  const pe_mapping one_group{{{1, 4, 0}, {8, 4, 0}, {16, 2, 0}}};
  const auto x = model.evaluate(a, one_group), y = pipelined_pe<>().evaluate(a, one_group);
  CHECK(x.luts == y.luts);
  CHECK(x.cycles == y.cycles);
  CHECK(x.latency_cycles == y.latency_cycles);
  CHECK(x.brams == y.brams);
}

TEST_CASE("pipelined_pe reconfigure_groups: the issue's example under NAQS's accounting, and its price") {
  // hwnas-estimate --arch examples/architectures/reference_cnn_4bit.json --max-luts 1000 --min-fps 1000
  const auto a = with_uniform_bits(reference_cnn(), 4);
  const spec s{.max_luts = 1000, .min_fps = 1000};
  const auto reconf = pipelined_pe<>().reconfigure_groups(1000000).map(a, s);
  const auto stat = pipelined_pe<>().map(a, s);
  if (stat.feasible) CHECK(reconf.luts <= stat.luts);  // a reconfigured fabric never needs more
  // with small batches the configurations eat the frame rate: no grouping reaches 1,000 fps
  const auto small = pipelined_pe<>().reconfigure_groups(10).map(a, spec{.min_fps = 1000});
  bool grouped = false;
  for (const auto& l : small.layers)
    for (const auto& [k, v] : l.parallelism) grouped = grouped || (k == "group" && v > 0);
  CHECK_FALSE(grouped);  // at 10 frames per batch only the one-group (static) design reaches it
}

namespace {
/// A Cyclone IV that does not say how it is configured.
struct no_config : cyclone_iv_ep4ce115 {
  static constexpr std::string_view name = "no-config";
  static constexpr std::int64_t config_bits = 0;
};
}  // namespace

TEST_CASE("pipelined_pe reconfigure_groups: bad input is refused") {
  CHECK_THROWS_WITH_AS(pipelined_pe<>().reconfigure_groups(0), doctest::Contains("at least 1"), invalid_argument);
  CHECK_THROWS_WITH_AS(pipelined_pe<no_config>().reconfigure_groups(10), doctest::Contains("config_bits"),
                       invalid_argument);
}

TEST_CASE("pipelined_pe: a group boundary's FIFO as synth_ice40 builds it") {
  // The two FIFOs of the reference CNN in three groups (rtl::boundary_module; docs/fidelity.md#shared-stages):
  // conv0's 14 x 14 pooled map of 16 4-bit channels and conv1's 7 x 7 of 32, measured 118 and 170 LUT4s, 163 and
  // 283 flip-flops, 4 and 8 EBRs.
  const auto d = info_of<ice40_hx8k>();
  hwnas::layer_geometry g0, g1;
  g0.pooled_height = g0.pooled_width = 14;
  g0.out_channels = 16;
  g0.out_bits = 4;
  g1.pooled_height = g1.pooled_width = 7;
  g1.out_channels = 32;
  g1.out_bits = 4;
  const auto b0 = fpga::detail::pe_boundary(d, g0), b1 = fpga::detail::pe_boundary(d, g1);
  CHECK(b0.luts == 118);
  CHECK(b0.ffs == 163);
  CHECK(b1.luts == 170);
  CHECK(b1.ffs == 283);
  CHECK(fpga::detail::blocks(d, b0.bram_units) == 4);
  CHECK(fpga::detail::blocks(d, b1.bram_units) == 8);
  // a map of at most logic_ram_max_depth pixels stays in flip-flops, as the RTL declares it
  g1.pooled_height = g1.pooled_width = 2;
  const auto small = fpga::detail::pe_boundary(d, g1);
  CHECK(small.bram_units == 0);
  CHECK(small.ffs >= 4 * 32 * 4);
  // a device whose block RAM returns the old word needs no bypass
  const auto x = info_of<xc7z020>();
  CHECK(fpga::detail::pe_boundary(x, g0).ffs == 2 * 8 + 8 + 1);
}
