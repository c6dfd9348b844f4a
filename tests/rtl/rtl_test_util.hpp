#pragma once
// Random integer networks and mappings for the RTL tests: every code drawn within its format.

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <regex>
#include <stdexcept>
#include <string>
#include <vector>

#include "hwnas/core/architecture.hpp"
#include "hwnas/core/rng.hpp"
#include "hwnas/fpga/detail/common.hpp"
#include "hwnas/fpga/pipelined_pe.hpp"
#include "hwnas/nn/integer_network.hpp"
#include "hwnas/rtl/verilog.hpp"
#include "../common/files.hpp"

namespace hwnas::test {

/// Cells of a yosys `stat` text whose type matches `types` (a regex alternative, e.g. "SB_LUT4|LUT[1-6]"), summed.
inline std::int64_t cells_in(const std::string& stat, const std::string& types) {
  std::int64_t n = 0;
  const std::regex cell("\\s(" + types + ")\\s+(\\d+)");
  for (std::sregex_iterator it(stat.begin(), stat.end(), cell), e; it != e; ++it) n += std::stoll((*it)[2]);
  return n;
}
/// Runs yosys in `dir` on `sources` (file names in dir, space-separated) with `synth` (e.g. "synth_ice40 -top t")
/// and returns its `stat` text. @throws std::runtime_error naming yosys.log when yosys fails
inline std::string yosys_stat(const std::filesystem::path& dir, const std::string& sources, const std::string& synth) {
  const std::string cmd = "cd " + dir.string() + " && yosys -q -p 'read_verilog " + sources + "; " + synth +
                          "; tee -q -o stat.txt stat' > yosys.log 2>&1";
  if (std::system(cmd.c_str()) != 0) throw std::runtime_error("yosys failed: see " + (dir / "yosys.log").string());
  return slurp(dir / "stat.txt");
}

/// LUT cells (SB_LUT4, or LUT1..LUT6) of a yosys `stat` text.
inline std::int64_t luts_in(const std::string& stat) { return cells_in(stat, "SB_LUT4|LUT[1-6]"); }
/// Flip-flop cells (SB_DFF*, FD*) of a yosys `stat` text.
inline std::int64_t ffs_in(const std::string& stat) { return cells_in(stat, "SB_DFF\\w*|FD[RSCP]E?"); }

inline int uniform_int(hwnas::rng& g, int lo, int hi) {  // inclusive
  return lo + static_cast<int>(g() % static_cast<std::uint64_t>(hi - lo + 1));
}

/// A random small fully quantized architecture: 1..max_layers conv layers (kernel 1..5, stride 1..2, pool 1..2),
/// widths 1..8 bits, on a small input map.
inline architecture random_rtl_arch(hwnas::rng& g, int max_layers = 3) {
  architecture a;
  a.input = {uniform_int(g, 1, 3), uniform_int(g, 5, 12), uniform_int(g, 5, 12)};
  a.classes = uniform_int(g, 2, 6);
  a.input_format = qformat::activation(uniform_int(g, 0, 1), uniform_int(g, 1, 7));
  const int n = uniform_int(g, 1, max_layers);
  int h = a.input.height, w = a.input.width;
  for (int i = 0; i < n; ++i) {
    conv_layer l;
    l.filters = uniform_int(g, 1, 6);
    l.kernel = uniform_int(g, 1, 5);
    l.stride = (h >= 6 && w >= 6) ? uniform_int(g, 1, 2) : 1;
    int nh = (h + l.stride - 1) / l.stride, nw = (w + l.stride - 1) / l.stride;
    l.pool = (nh >= 2 && nw >= 2 && uniform_int(g, 0, 1)) ? 2 : 1;
    if (l.pool == 2) nh /= 2, nw /= 2;
    const int wb = uniform_int(g, 1, 8), ab = uniform_int(g, 1, 8);
    l.weight_format = qformat::weight(0, wb - 1);
    const int ai = uniform_int(g, 0, 1);
    l.activation_format = qformat::activation(ai, ab - ai);
    a.layers.push_back(l);
    h = nh, w = nw;
  }
  a.classifier.weight_format = qformat::weight(0, uniform_int(g, 1, 8) - 1);
  return a;
}

/// Random codes for every layer of `a`; biases up to a few products' worth.
inline nn::integer_network random_integer_network(hwnas::rng& g, const architecture& a) {
  const auto geo = geometry(a);
  std::vector<nn::integer_layer> layers;
  qformat in = a.effective_input_format();
  for (std::size_t l = 0; l < geo.size(); ++l) {
    const bool fc = geo[l].is_classifier;
    nn::integer_layer L;
    L.input_format = in;
    L.weight_format = fc ? *a.classifier.weight_format : *a.layers[l].weight_format;
    L.output_format = fc ? qformat::activation(0, 8) : *a.layers[l].activation_format;
    for (std::int64_t i = 0; i < geo[l].weight_count(); ++i) {
      if (L.weight_format.bits() == 1) L.weights.push_back(uniform_int(g, 0, 1) ? 1 : -1);
      else L.weights.push_back(static_cast<std::int16_t>(uniform_int(g, L.weight_format.min_code(), L.weight_format.max_code())));
    }
    const std::int64_t prod = std::int64_t{in.max_code()} << std::max(0, L.weight_format.bits() - 1);
    const int span = static_cast<int>(std::min<std::int64_t>(prod * 3, 1 << 20));
    for (int m = 0; m < geo[l].out_channels; ++m) L.bias.push_back(uniform_int(g, -span, span));
    if (!fc) in = *a.layers[l].activation_format;
    layers.push_back(std::move(L));
  }
  return nn::integer_network(a, std::move(layers));
}

/// A random one-group mapping: every layer's Tn and Tm among its quotient candidates.
inline fpga::pe_mapping random_mapping(hwnas::rng& g, const architecture& a) {
  fpga::pe_mapping m;
  for (const auto& lg : geometry(a)) {
    const auto tn = fpga::detail::quotient_candidates(fpga::detail::reduction_length(lg));
    const auto tm = fpga::detail::quotient_candidates(lg.out_channels);
    m.layers.push_back({tn[g() % tn.size()], tm[g() % tm.size()], 0});
  }
  return m;
}

/// A random mapping of at least two groups (when `a` has at least two compute layers): S-stage groups, S drawn in
/// 1..n-1, every layer's Tn and Tm among its quotient candidates.
inline fpga::pe_mapping random_grouped_mapping(hwnas::rng& g, const architecture& a) {
  auto m = random_mapping(g, a);
  const int n = static_cast<int>(m.layers.size());
  if (n < 2) return m;
  const int stages = uniform_int(g, 1, n - 1);
  for (int l = 0; l < n; ++l) m.layers[static_cast<std::size_t>(l)].group = l / stages;
  return m;
}

/// The Verilog text of layer l's module in a generated design (hwnas_top_l<l>.v, the classifier's hwnas_top_fc.v);
/// empty when the design has no such file.
inline std::string layer_module_text(const rtl::verilog_design& d, const layer_geometry& g, std::size_t l) {
  const std::string name = g.is_classifier ? "hwnas_top_fc.v" : "hwnas_top_l" + std::to_string(l) + ".v";
  for (const auto& f : d.files)
    if (f.name == name) return f.text;
  return {};
}

/// Random images (count, C, H, W) in [0, 1].
inline std::vector<float> random_images(hwnas::rng& g, const architecture& a, std::size_t count) {
  std::vector<float> x(count * static_cast<std::size_t>(a.input.size()));
  for (auto& v : x) v = static_cast<float>(g() % 1001) / 1000.0f;
  return x;
}

}  // namespace hwnas::test
