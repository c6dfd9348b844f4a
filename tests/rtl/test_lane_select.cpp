// The lane selection of the generated Verilog against the cost model: each lane's case has the arms the model
// counts (fpga::detail::pe_lane_offsets), and yosys builds the emitted selection in about the LUTs the model
// prices (fpga::lane_select_bit_luts per activation bit).

#include <doctest/doctest.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>

#include "hwnas/fpga/pipelined_pe.hpp"
#include "hwnas/rtl/verilog.hpp"
#include "rtl_test_util.hpp"

namespace {
namespace fs = std::filesystem;
using namespace hwnas;

std::size_t count_of(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto p = text.find(what); p != std::string::npos; p = text.find(what, p + 1)) ++n;
  return n;
}

/// The arms (non-default) of lane 0's case over c01 in a module's text; 0 when lane 0 has no case.
std::int64_t lane0_arms(const std::string& text) {
  const auto at = text.find("reg [");
  const auto start = text.find("always @* begin\n    act0 =", at == std::string::npos ? 0 : at);
  if (start == std::string::npos) return -1;
  const auto end = text.find("  end\n", start);
  const std::string body = text.substr(start, end - start);
  if (body.find("case (c01)") == std::string::npos) return 0;
  return static_cast<std::int64_t>(count_of(body, ": act0 = elems["));
}

}  // namespace

TEST_CASE("each lane of the generated Verilog picks among the channel offsets the model counts") {
  hwnas::rng g(20261202);
  const auto ice = fpga::info_of<fpga::ice40_hx8k>(), x7 = fpga::info_of<fpga::xc7z020>();
  int with_case = 0, without = 0;
  for (int trial = 0; trial < 40; ++trial) {
    const auto a = test::random_rtl_arch(g, 3);
    const auto net = test::random_integer_network(g, a);
    const auto map = test::random_mapping(g, a);
    const auto d = rtl::generate_verilog(net, map);
    const auto geo = geometry(a);
    for (std::size_t l = 0; l < geo.size(); ++l) {
      const auto& L = d.plan.layers[l];
      const std::string text = test::layer_module_text(d, geo[l], l);
      REQUIRE(!text.empty());
      CAPTURE(trial);
      CAPTURE(l);
      const std::int64_t extent = fpga::detail::reduction_length(geo[l]);
      const std::int64_t k = fpga::detail::pe_lane_offsets(L.tn, L.channels, extent);
      CHECK(k == static_cast<std::int64_t>(rtl::detail::pass_offsets(L).size()));
      const auto arms = lane0_arms(text);
      CHECK(arms == (k > 1 ? k : 0));
      CHECK(count_of(text, "case (c01)") == (k > 1 ? static_cast<std::size_t>(L.tn) : 0u));
      (k > 1 ? with_case : without) += 1;
      for (const auto& dev : {ice, x7}) {
        const auto c = fpga::detail::pe_layer(dev, geo[l], map.layers[l].tn, map.layers[l].tm);
        CHECK(c.select_luts == std::int64_t{L.tn} * geo[l].act_bits *
                                   fpga::lane_select_bit_luts(dev.family, k, !geo[l].is_classifier));
      }
    }
  }
  CHECK(with_case > 10);
  CHECK(without > 10);
}

TEST_CASE("yosys builds the emitted lane selection in the LUTs the model prices") {
  REQUIRE_MESSAGE(std::system("yosys -V > /dev/null 2>&1") == 0, "yosys is not installed: run scripts/setup");
  // (Tn, pixel channels, activation bits, read ports, masked): 4 to 32 offsets; a conv layer's ports carry a
  // padding flag (masked), the classifier's do not
  struct cfg {
    int tn, channels, a, ports;
    bool masked;
  };
  for (const cfg c : {cfg{3, 8, 4, 2, true}, cfg{7, 8, 6, 2, true}, cfg{3, 32, 4, 1, true}, cfg{3, 12, 4, 1, true},
                      cfg{10, 16, 6, 2, false}, cfg{2, 32, 5, 1, false}}) {
    rtl::layer_plan L;
    L.tn = c.tn;
    L.channels = c.channels;
    L.read_ports = c.ports;
    L.g.act_bits = c.a;
    const std::int64_t extent = std::int64_t{c.channels} * 9;
    L.passes = fpga::ceil_div(extent, c.tn);
    const int c0w = rtl::counter_bits(c.channels - 1);
    std::ostringstream v;
    const int ew = c.channels * c.a;
    v << "module ls(input wire clk, ";
    if (c.masked) v << "input wire [" << c.ports - 1 << ":0] padr, ";
    v << "input wire [" << c0w - 1 << ":0] c01, input wire last1";
    for (int q = 0; q < c.ports; ++q) v << ", input wire [" << ew - 1 << ":0] rq" << q;
    v << ", output reg [" << c.tn * c.a - 1 << ":0] q);\n";
    if (!c.masked) v << "  wire [" << c.ports - 1 << ":0] padr = 0;\n";  // the classifier's: never padding
    rtl::detail::emit_lane_select(v, L, extent, c0w);
    v << "  always @(posedge clk) q <= acts;\nendmodule\n";
    const std::int64_t k = fpga::detail::pe_lane_offsets(c.tn, c.channels, extent);
    const fs::path dir = fs::path(HWNAS_BINARY_DIR) / "rtl_tests" /
                         ("lane_select_" + std::to_string(c.tn) + "_" + std::to_string(c.channels));
    fs::remove_all(dir);
    fs::create_directories(dir);
    std::ofstream(dir / "ls.v") << v.str();
    for (const auto family : {fpga::lut_family::lut4, fpga::lut_family::lut6}) {
      const std::string synth = family == fpga::lut_family::lut4
                                    ? "synth_ice40 -top ls"
                                    : "synth_xilinx -family xc7 -top ls -nodsp -noiopad -noclkbuf";
      const auto measured = test::luts_in(test::yosys_stat(dir, "ls.v", synth));
      const auto model = std::int64_t{c.tn} * c.a * fpga::lane_select_bit_luts(family, k, c.masked);
      CAPTURE(c.tn);
      CAPTURE(c.channels);
      CAPTURE(k);
      CAPTURE(c.masked);
      CAPTURE(fpga::to_string(family));
      CAPTURE(measured);
      CAPTURE(model);
      // within a third (the per-bit cost varies with Tn and the ports by that much, lane_select_bit_luts), and
      // above a multiplexer of half the arms (the term's scale)
      CHECK(std::abs(measured - model) * 3 <= model);
      CHECK(measured > std::int64_t{c.tn} * c.a * fpga::lane_select_bit_luts(family, (k + 1) / 2, c.masked));
    }
  }
}
