// The memories of the generated Verilog against the cost model: every memory states where synthesis puts it
// (rom_style / ram_style, fpga::memory_in_logic), the model's block RAM is what the Verilog declares (each block
// memory's blocks times its read ports), and yosys's synth_ice40 uses exactly that many SB_RAM40_4K.

#include <doctest/doctest.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "hwnas/fpga/pipelined_pe.hpp"
#include "hwnas/rtl/verilog.hpp"
#include "rtl_test_util.hpp"

namespace {
namespace fs = std::filesystem;
using namespace hwnas;

struct declared_memory {
  std::string name;
  bool rom = false, logic = false;
  std::int64_t width = 0, depth = 0, read_ports = 0;
};

/// The memories a module's text declares, with the reads (`<= name[`) of each.
std::vector<declared_memory> memories_of(const std::string& text) {
  std::vector<declared_memory> out;
  static const std::regex decl(R"re(\(\* (rom|ram)_style = "(logic|block)" \*\) reg \[(\d+):0\] (\w+) \[0:(\d+)\];)re");
  for (std::sregex_iterator it(text.begin(), text.end(), decl), end; it != end; ++it) {
    declared_memory m;
    m.rom = (*it)[1] == "rom";
    m.logic = (*it)[2] == "logic";
    m.width = std::stoll((*it)[3]) + 1;
    m.name = (*it)[4];
    m.depth = std::stoll((*it)[5]) + 1;
    const std::string read = "<= " + m.name + "[";
    for (auto p = text.find(read); p != std::string::npos; p = text.find(read, p + 1)) ++m.read_ports;
    out.push_back(m);
  }
  return out;
}

/// Every `reg ... [0:n]` array of the text, with or without an attribute.
std::size_t arrays_in(const std::string& text) {
  static const std::regex arr(R"re(reg \[\d+:0\] \w+ \[0:\d+\];)re");
  return static_cast<std::size_t>(std::distance(std::sregex_iterator(text.begin(), text.end(), arr), std::sregex_iterator()));
}

/// Block RAM units the declared memories take on `d`: each block memory's (packed) units times its read ports.
std::int64_t declared_units(const fpga::device_info& d, const std::vector<declared_memory>& mems) {
  std::int64_t u = 0;
  for (const auto& m : mems)
    if (!m.logic) u += m.read_ports * fpga::bram_units_packed(d, m.depth, m.width);
  return u;
}

}  // namespace

TEST_CASE("every memory of the generated Verilog states its placement, and the model's block RAM is what it declares") {
  hwnas::rng g(20261201);
  const auto ice = fpga::info_of<fpga::ice40_hx8k>(), x7 = fpga::info_of<fpga::xc7z020>();
  int logic_roms = 0, block_roms = 0, multi_port = 0, straddling = 0;
  for (int trial = 0; trial < 60; ++trial) {
    const auto a = test::random_rtl_arch(g, 3);
    const auto net = test::random_integer_network(g, a);
    const auto map = test::random_mapping(g, a);
    const auto d = rtl::generate_verilog(net, map);
    const auto geo = geometry(a);
    REQUIRE(d.files.size() == geo.size() + 1 + geo.size());  // top, one module and one memory file per layer
    for (std::size_t l = 0; l < geo.size(); ++l) {
      const auto& L = d.plan.layers[l];
      const std::string text = test::layer_module_text(d, geo[l], l);
      REQUIRE(!text.empty());
      const auto mems = memories_of(text);
      CAPTURE(trial);
      CAPTURE(l);
      CHECK(mems.size() == arrays_in(text));  // no memory without its attribute
      for (const auto& m : mems) {
        CAPTURE(m.name);
        CHECK(m.read_ports >= 1);
        if (m.name == "lb" && geo[l].is_classifier) {
          CHECK(m.logic);  // the classifier's few pixels: in logic, their flip-flops and read registers priced
          for (const auto& dev : {ice, x7})
            CHECK(fpga::detail::pe_layer(dev, geo[l], map.layers[l].tn, map.layers[l].tm).memory_ffs ==
                  (m.depth + m.read_ports) * m.width);
        } else {
          CHECK(m.logic == fpga::memory_in_logic(m.depth, m.rom));
        }
        if (m.name == "lb") {
          CHECK(m.read_ports == L.read_ports);
          multi_port += m.read_ports > 1;
          straddling += m.read_ports > fpga::ceil_div(L.tn, L.channels);
        }
        if (m.rom) (m.logic ? logic_roms : block_roms) += 1;
      }
      for (const auto& dev : {ice, x7}) {
        const auto c = fpga::detail::pe_layer(dev, geo[l], map.layers[l].tn, map.layers[l].tm);
        CHECK(c.brams == declared_units(dev, mems));
      }
    }
  }
  // the trials reach both placements and the ports a pass straddles
  CHECK(logic_roms > 10);
  CHECK(block_roms > 3);
  CHECK(multi_port > 5);
  CHECK(straddling > 2);
}

TEST_CASE("yosys synth_ice40 uses exactly the block RAMs the model counts") {
  REQUIRE_MESSAGE(std::system("yosys -V > /dev/null 2>&1") == 0, "yosys is not installed: run scripts/setup");
  hwnas::rng g(4711);
  const auto ice = fpga::info_of<fpga::ice40_hx8k>();
  std::int64_t total = 0;
  int designs = 0;
  for (int trial = 0; designs < 3 && trial < 40; ++trial) {
    const auto a = test::random_rtl_arch(g, 2);
    const auto net = test::random_integer_network(g, a);
    const auto map = test::random_mapping(g, a);
    const auto report = fpga::pipelined_pe<fpga::ice40_hx8k>().evaluate(a, map, {});
    const auto units = static_cast<std::int64_t>(report.brams);
    if (units < 2 || report.luts > 4000) continue;  // block RAM to count, and a quick synthesis
    ++designs;
    const auto d = rtl::generate_verilog(net, map);
    const fs::path dir = fs::path(HWNAS_BINARY_DIR) / "rtl_tests" / ("yosys_" + std::to_string(trial));
    fs::remove_all(dir);
    rtl::write_design(d, dir);
    std::string reads;
    for (const auto& f : rtl::verilog_sources(d)) reads += " " + f;
    const std::string cmd = "cd " + dir.string() + " && yosys -q -p 'read_verilog" + reads +
                            "; synth_ice40 -top hwnas_top; tee -o stat.txt stat' > yosys.log 2>&1";
    REQUIRE_MESSAGE(std::system(cmd.c_str()) == 0, "yosys failed: see " << (dir / "yosys.log").string());
    std::ifstream in(dir / "stat.txt");
    std::stringstream ss;
    ss << in.rdbuf();
    const std::string stat = ss.str();
    std::int64_t ebr = 0;
    const std::regex cell(R"(SB_RAM40_4K\s+(\d+))");
    std::smatch m;
    if (std::regex_search(stat, m, cell)) ebr = std::stoll(m[1]);
    CAPTURE(trial);
    CHECK(ebr == units);
    total += ebr;
    std::int64_t layer_units = 0;
    for (std::size_t l = 0; l < geometry(a).size(); ++l)
      layer_units += fpga::detail::pe_layer(ice, geometry(a)[l], map.layers[l].tn, map.layers[l].tm).brams;
    CHECK(layer_units == units);
  }
  CHECK(designs == 3);
  CHECK(total >= 6);
}
