// The memories of the generated Verilog against the cost model: every memory states where synthesis puts it
// (rom_style / ram_style, fpga::memory_in_logic), the model's block RAM is what the Verilog declares (each block
// memory's blocks times its read ports), and yosys's synth_ice40 uses exactly that many SB_RAM40_4K; a ROM kept in
// logic keeps its distinct non-constant columns, which the model bounds and the contents count.

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
#include "hwnas/rtl/export.hpp"
#include "hwnas/rtl/verilog.hpp"
#include "rtl_test_util.hpp"

#include <nlohmann/json.hpp>

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
          // (and the registered read of its weight ROM, when that is logic too)
          const std::int64_t rom = fpga::memory_in_logic(L.weight_words, true)
                                       ? fpga::logic_rom_columns(L.weight_words, L.weight_width) : 0;
          for (const auto& dev : {ice, x7})
            CHECK(fpga::detail::pe_layer(dev, geo[l], map.layers[l].tn, map.layers[l].tm).memory_ffs ==
                  (m.depth + m.read_ports) * m.width + rom);
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
    const std::string stat = test::yosys_stat(dir, reads, "synth_ice40 -top hwnas_top");
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


TEST_CASE("yosys keeps a logic ROM's distinct non-constant columns: the contents count them, the model bounds them") {
  REQUIRE_MESSAGE(std::system("yosys -V > /dev/null 2>&1") == 0, "yosys is not installed: run scripts/setup");
  const auto ice = fpga::info_of<fpga::ice40_hx8k>(), x7 = fpga::info_of<fpga::xc7z020>();
  hwnas::rng g(20261202);
  // (words, fields, bits per field, magnitude bits): trained weights repeat their sign bits (magnitude < bits - 1)
  struct shape { int words, fields, bits, magnitude; };
  const shape shapes[] = {{4, 36, 4, 2}, {2, 20, 3, 2}, {8, 30, 6, 3}, {16, 40, 5, 3}, {6, 10, 8, 4}, {40, 6, 4, 3}, {12, 20, 4, 4}};
  int merged = 0;
  for (std::size_t s = 0; s < std::size(shapes); ++s) {
    const auto& sh = shapes[s];
    const std::int64_t width = std::int64_t{sh.fields} * sh.bits;
    std::ostringstream mem;
    for (int w = 0; w < sh.words; ++w) {
      std::vector<std::int64_t> f(static_cast<std::size_t>(sh.fields));
      for (auto& x : f) x = test::uniform_int(g, -(1 << (sh.magnitude - 1)), (1 << (sh.magnitude - 1)) - 1);
      mem << rtl::detail::hex_word(f, sh.bits) << "\n";
    }
    const std::int64_t exact = rtl::rom_columns(mem.str(), width);
    const int aw = std::max(1, hwnas::rtl::counter_bits(sh.words - 1));
    std::ostringstream v;
    v << "module rom_t(input wire clk, input wire en, input wire [" << aw - 1 << ":0] wa, output wire [" << width - 1
      << ":0] q);\n  " << rtl::detail::memory_style(sh.words, true) << "reg [" << width - 1 << ":0] wrom [0:"
      << sh.words - 1 << "];\n  initial $readmemh(\"rom.mem\", wrom);\n  reg [" << width - 1
      << ":0] w1;\n  always @(posedge clk) if (en) w1 <= wrom[wa];\n  assign q = w1;\nendmodule\n";
    const fs::path dir = fs::path(HWNAS_BINARY_DIR) / "rtl_tests" / ("logic_rom_" + std::to_string(s));
    fs::remove_all(dir);
    fs::create_directories(dir);
    std::ofstream(dir / "rom.mem") << mem.str();
    std::ofstream(dir / "rom_t.v") << v.str();
    CAPTURE(s);
    CAPTURE(exact);
    REQUIRE(fpga::memory_in_logic(sh.words, true));
    merged += exact < fpga::logic_rom_columns(sh.words, width);
    for (const auto& [flow, dev] : {std::pair<std::string, fpga::device_info>{"synth_ice40", ice},
                                    {"synth_xilinx -family xc7 -nodsp -noiopad -noclkbuf", x7}}) {
      CAPTURE(flow);
      const std::string stat = test::yosys_stat(dir, "rom_t.v", flow + " -top rom_t");
      const auto placed = fpga::place_memory(dev, sh.words, width, true);
      CHECK(test::ffs_in(stat) == exact);   // one register per distinct column
      CHECK(exact <= placed.ffs);           // the model's bound
      CHECK(test::luts_in(stat) <= placed.luts + 1);  // the columns' LUTs, at most one of glue more
    }
  }
  CHECK(merged >= 4);  // narrow weights merge columns: the bound is not the count
}

TEST_CASE("rom_columns counts a memory file's distinct non-constant columns") {
  // words 0x5, 0x6, 0x7, 0x4 (3 bits): bit 0 = 1,0,1,0; bit 1 = 0,1,1,0; bit 2 constant 1
  CHECK(rtl::rom_columns("5\n6\n7\n4\n", 3) == 2);
  CHECK(rtl::rom_columns("3\n0\n", 2) == 1);         // bits 0 and 1 equal in every word: one column
  CHECK(rtl::rom_columns("ff\n", 8) == 0);           // one word: constants
  CHECK(rtl::rom_columns("1\n2\n", 8) == 2);         // bits above the digits are 0 (constant)
  CHECK(rtl::rom_columns("A\n5\n", 4) == 2);         // 1010, 0101: two patterns
  CHECK(rtl::rom_columns("a\nB\n", 4) == 1);         // either case: only bit 0 differs
  CHECK_THROWS_AS(rtl::rom_columns("12\nxz\n", 8), hwnas::invalid_argument);
}

TEST_CASE("priced_as_built lowers the model by the ROM columns, unread accumulator bits and repeated code bits") {
  hwnas::rng g(977);
  const auto x7 = fpga::info_of<fpga::xc7z020>(), ice = fpga::info_of<fpga::ice40_hx8k>();
  int lowered = 0, unchanged = 0, unread_seen = 0, repeated_seen = 0, widened_seen = 0;
  for (int trial = 0; trial < 30; ++trial) {
    const auto a = test::random_rtl_arch(g, 3);
    const auto net = test::random_integer_network(g, a);
    const auto map = test::uniform_int(g, 0, 1) ? test::random_grouped_mapping(g, a) : test::random_mapping(g, a);
    const auto d = rtl::generate_verilog(net, map);
    for (const auto& dev : {x7, ice}) {
      const auto before = dev.family == x7.family ? fpga::pipelined_pe<fpga::xc7z020>().evaluate(a, map, {})
                                                  : fpga::pipelined_pe<fpga::ice40_hx8k>().evaluate(a, map, {});
      const auto after = rtl::priced_as_built(d, dev, before);
      std::int64_t ffs = 0, luts = 0;
      for (const auto& rom : rtl::logic_roms(d)) {
        CAPTURE(rom.file);
        CHECK(fpga::memory_in_logic(rom.words, true));
        CHECK(rom.bound == fpga::logic_rom_columns(rom.words, rom.width));
        CHECK(rom.columns <= rom.bound);
        ffs += rom.bound - rom.columns;
        luts += (rom.bound - rom.columns) * fpga::logic_rom_bit_luts(dev.family, rom.words);
      }
      std::int64_t unread = 0, repeated = 0;
      for (std::size_t l = 0; l < d.plan.layers.size(); ++l) {
        const auto& L = d.plan.layers[l];
        const auto u = rtl::unread_accumulator_bits(L, dev.family);
        // LUT6 only, a conv layer of one pass, below the requantizer's rounding bit
        if (u > 0) {
          CHECK(dev.family == fpga::lut_family::lut6);
          CHECK(L.passes == 1);
          CHECK(u == L.shift - 1);
        }
        unread += L.tm * u;
        // a bias the model's accumulator cannot hold widens every accumulator register (and its adder)
        if (L.acc_bits > L.model_acc_bits) {
          const std::int64_t M = L.g.out_channels, qm = fpga::ceil_div(M, L.tm);
          const std::int64_t more = L.acc_bits - L.model_acc_bits;
          ffs -= (L.g.is_classifier ? qm * L.tm + L.tm + M + 1 : L.tm) * more;
          luts -= L.tm * (fpga::adder_luts(dev.family, L.acc_bits) - fpga::adder_luts(dev.family, L.model_acc_bits));
          ++widened_seen;
        }
        // a left shift: the low bits of each code held are one register; the classifier's buffer holds codes too
        const auto k = rtl::repeated_code_bits(L);
        if (k > 0) {
          CHECK(L.shift < 0);
          CHECK(k < L.g.out_bits);
          repeated += fpga::detail::pe_output_ffs(L.g, L.tm) / L.g.out_bits * k;
          const auto& N = d.plan.layers[l + 1];
          if (N.g.is_classifier) repeated += std::int64_t{N.buffer_rows + N.read_ports} * N.channels * k;
          else if (fpga::memory_in_logic(N.buffer_words, false)) repeated += N.buffer_words * N.channels * k;
        }
      }
      unread_seen += unread > 0;
      repeated_seen += repeated > 0;
      ffs += repeated;
      CHECK(after.ffs == before.ffs - ffs - unread);
      CHECK(after.luts == before.luts - luts);
      std::int64_t layer_ffs = 0, before_layer_ffs = 0;
      for (const auto& l : after.layers) layer_ffs += l.ffs;
      for (const auto& l : before.layers) before_layer_ffs += l.ffs;
      CHECK(layer_ffs == before_layer_ffs - ffs - unread);
      CHECK(after.brams == before.brams);
      CHECK(after.cycles == before.cycles);
      CHECK(after.feasible == before.feasible);
      (ffs + unread != 0 ? lowered : unchanged) += 1;
    }
  }
  CHECK(lowered > 3);  // random weights of few words repeat columns
  CHECK(unchanged > 3);
  CHECK(unread_seen > 0);
  CHECK(repeated_seen > 0);
  MESSAGE("accumulators widened by the bias: ", widened_seen);
  // a bias far beyond the products' range: the plan widens the first layer's accumulators, and so does the report
  const auto a = test::random_rtl_arch(g, 1);
  const auto base = test::random_integer_network(g, a);
  auto layers = base.layers();
  layers[0].bias[0] = (1 << 30) - 1;
  const nn::integer_network net(a, layers);
  const auto map = test::random_mapping(g, a);
  const auto d = rtl::generate_verilog(net, map);
  const auto& L = d.plan.layers[0];
  REQUIRE(L.acc_bits > L.model_acc_bits);
  const auto before = fpga::pipelined_pe<fpga::ice40_hx8k>().evaluate(a, map, {});
  const auto wide = rtl::priced_as_built(d, ice, before);
  // against the same network with its own bias (same weights, same ROMs): the difference is the widening alone
  const auto dn = rtl::generate_verilog(base, map);
  const auto narrow = rtl::priced_as_built(dn, ice, before);
  const auto& Ln = dn.plan.layers[0];
  REQUIRE(L.acc_bits > Ln.acc_bits);
  CHECK(wide.layers[0].ffs - narrow.layers[0].ffs == L.tm * (L.acc_bits - Ln.acc_bits));
  CHECK(wide.layers[0].luts - narrow.layers[0].luts ==
        L.tm * (fpga::adder_luts(ice.family, L.acc_bits) - fpga::adder_luts(ice.family, Ln.acc_bits)));
  CHECK(wide.ffs - narrow.ffs == L.tm * (L.acc_bits - Ln.acc_bits));
}

namespace {

/// Flip-flop cells of a flattened yosys JSON netlist, by the register their output net is named after (instance
/// path and register name, the bit index dropped: "u0.c0_acc").
std::map<std::string, std::int64_t> registers_of(const fs::path& netlist) {
  std::ifstream in(netlist);
  const auto j = nlohmann::json::parse(in);
  std::map<std::string, std::int64_t> out;
  for (const auto& [name, mod] : j.at("modules").items()) {
    if (!mod.contains("attributes") || !mod["attributes"].contains("top")) continue;
    std::map<std::int64_t, std::string> bit_name;
    for (const auto& [net, v] : mod.at("netnames").items()) {
      if (v.value("hide_name", 0) != 0) continue;
      for (const auto& b : v.at("bits"))
        if (b.is_number_integer()) bit_name.emplace(b.get<std::int64_t>(), net);
    }
    for (const auto& [cell, c] : mod.at("cells").items()) {
      const auto type = c.at("type").get<std::string>();
      if (type.rfind("FD", 0) != 0) continue;
      const auto q = c.at("connections").at("Q").at(0);
      const auto it = q.is_number_integer() ? bit_name.find(q.get<std::int64_t>()) : bit_name.end();
      std::string reg = it == bit_name.end() ? "?" : it->second;
      if (const auto br = reg.find('['); br != std::string::npos) reg.resize(br);
      out[reg] += 1;
    }
  }
  return out;
}

}  // namespace

TEST_CASE("synth_xilinx keeps a conv layer's datapath registers as the model counts them") {
  REQUIRE_MESSAGE(std::system("yosys -V > /dev/null 2>&1") == 0, "yosys is not installed: run scripts/setup");
  // one conv layer of one pass per output (Tn = N K^2 = 9) and 65 filters on one lane, so that its weights (65 words)
  // are in block RAM (no trained column merges them), then the classifier
  architecture a;
  a.input = {1, 4, 4};
  a.classes = 2;
  a.input_format = qformat::activation(0, 8);
  conv_layer l;
  l.filters = 65;
  l.kernel = 3;
  l.weight_format = qformat::weight(0, 3);
  l.activation_format = qformat::activation(0, 3);
  a.layers.push_back(l);
  a.classifier.weight_format = qformat::weight(0, 3);
  hwnas::rng g(31);
  const auto net = test::random_integer_network(g, a);
  const fpga::pe_mapping map{{{9, 1, 0}, {4, 1, 0}}};
  const auto d = rtl::generate_verilog(net, map);
  const auto& L = d.plan.layers[0];
  REQUIRE(L.passes == 1);
  REQUIRE(L.shift == 8);
  REQUIRE_FALSE(fpga::memory_in_logic(L.weight_words, true));
  const fs::path dir = fs::path(HWNAS_BINARY_DIR) / "rtl_tests" / "xilinx_registers";
  fs::remove_all(dir);
  rtl::write_design(d, dir);
  std::string reads;
  for (const auto& f : rtl::verilog_sources(d)) reads += " " + f;
  const std::string cmd = "cd " + dir.string() + " && yosys -q -p 'read_verilog" + reads +
                          "; synth_xilinx -family xc7 -nodsp -noiopad -noclkbuf -flatten -top hwnas_top; write_json net.json' "
                          "> yosys.log 2>&1";
  REQUIRE_MESSAGE(std::system(cmd.c_str()) == 0, "yosys failed: see " << (dir / "yosys.log").string());
  const auto regs = registers_of(dir / "net.json");
  auto count = [&](const std::string& reg) { return regs.count(reg) ? regs.at(reg) : std::int64_t{0}; };
  const auto geo = geometry(a);
  // products: Tn Tm (a + w) (fpga::product_register_ffs)
  std::int64_t products = 0;
  for (int i = 0; i < 9; ++i) products += count("u0.c0_pr" + std::to_string(i));
  CHECK(products == fpga::product_register_ffs(fpga::lut_family::lut6, 9, 1, 8, 4));
  // the accumulator, less the bits below the requantizer's rounding bit (rtl::unread_accumulator_bits)
  CHECK(count("u0.c0_acc") == L.acc_bits - rtl::unread_accumulator_bits(L, fpga::lut_family::lut6));
  CHECK(rtl::unread_accumulator_bits(L, fpga::lut_family::lut6) == 7);
  // the output pixel: out_data and the 64 tiles waiting for the last (fpga::detail::pe_output_ffs), named at the top
  CHECK(count("u0.asm_r") == 64 * 3);
  CHECK(count("d0") == 65 * 3);
  CHECK(count("u0.asm_r") + count("d0") == fpga::detail::pe_output_ffs(geo[0], 1));
}
