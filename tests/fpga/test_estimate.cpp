#include <doctest/doctest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "hwnas/fpga/estimate.hpp"
#include "../common/run_program.hpp"

// One namespace per file, so that the file's helpers keep their short names in a unity build.
namespace test_estimate {

using namespace hwnas;
using namespace hwnas::fpga;

TEST_CASE("estimate: run-time names pick the same model and device") {
  const auto a = with_uniform_bits(reference_cnn(), 4);
  const spec s{.max_luts = 30000, .min_fps = 1000};
  CHECK(estimate("pipelined_pe", "cyclone-iv-e115", 100, a, s).luts ==
        pipelined_pe<cyclone_iv_ep4ce115>().map(a, s).luts);
  CHECK(estimate("tiled_engine", "xc7z020", 150, a, s).cycles == tiled_engine<xc7z020>(150).map(a, s).cycles);
  CHECK(estimate("dataflow", "xc7z020", 100, a, s).luts == dataflow<xc7z020>().map(a, s).luts);
  CHECK_THROWS_WITH_AS(estimate("systolic", "xc7z020", 100, a, s), doctest::Contains("pipelined_pe, tiled_engine"),
                       hwnas::invalid_argument);
  CHECK_THROWS_WITH_AS(estimate("dataflow", "vu9p", 100, a, s), doctest::Contains("cyclone-iv-e115, xc7z020"),
                       hwnas::invalid_argument);
}

TEST_CASE("estimate: a goal equal to the figure a report prints admits that design (one tolerance rule)") {
  // The issue's case: a 1x11x16 input, one 1x1 conv of 2 filters: 176 cycles = 568,181.8181... fps at 100 MHz.
  architecture a;
  a.input = {1, 11, 16};
  a.classes = 2;
  a.input_format = qformat::activation(0, 8);
  conv_layer c;
  c.filters = 2;
  c.kernel = 1;
  c.weight_format = qformat::weight(0, 3);
  c.activation_format = qformat::activation(1, 3);
  a.layers = {c};
  a.classifier.weight_format = qformat::weight(0, 3);
  for (const auto& [model, clock] : {std::pair{"pipelined_pe", 100.0}, {"tiled_engine", 150.0}, {"dataflow", 123.0},
                                     {"pipelined_pe", 99.7}}) {
    CAPTURE(model);
    CAPTURE(clock);
    const auto fastest = estimate(model, "xc7z020", clock, a, spec{.min_fps = 1e12});  // the fastest mapping
    REQUIRE(!fastest.feasible);
    const spec exact{.min_fps = fastest.fps, .max_latency_ms = fastest.latency_ms};
    const auto r = estimate(model, "xc7z020", clock, a, exact);
    CHECK(r.feasible);
    CHECK(r.cycles == fastest.cycles);
    // One cycle faster than the design can go stays infeasible: the tolerance is far below a cycle.
    const double hz = clock * 1e6;
    CHECK(!estimate(model, "xc7z020", clock, a, spec{.min_fps = hz / double(fastest.cycles - 1)}).feasible);
  }
}

namespace {
hwnas::test::program_result run(const std::string& args) { return hwnas::test::run_program("hwnas-estimate", args); }
}  // namespace

TEST_CASE("hwnas-estimate: exit codes 0 feasible, 3 infeasible, 2 bad input") {
  namespace fs = std::filesystem;
  if (!fs::exists(hwnas::test::example_program("hwnas-estimate"))) {
    WARN_MESSAGE(false, "hwnas-estimate is not built; build the target to run this test");
    return;
  }
  const std::string arch = std::string(HWNAS_SOURCE_DIR) + "/examples/architectures/reference_cnn_4bit.json";
  const std::string float_arch = std::string(HWNAS_SOURCE_DIR) + "/examples/architectures/reference_cnn.json";
  auto ok = run("--arch " + arch + " --max-luts 30000 --min-fps 1000");
  CHECK(ok.code == 0);
  CHECK(ok.out.find("conv0") != std::string::npos);
  CHECK(ok.out.find("feasible: meets the spec") != std::string::npos);
  auto json = run("--arch " + arch + " --model dataflow --device xc7z020 --min-fps 5000 --json");
  CHECK(json.code == 0);
  const auto j = nlohmann::json::parse(json.out);
  for (const char* key : {"feasible", "luts", "dsps", "brams", "fps", "latency_ms", "layers", "violations"})
    CHECK(j.contains(key));
  CHECK(j["fps"].get<double>() >= 5000);
  auto slow = run("--arch " + arch + " --model tiled_engine --max-luts 2000 --max-dsps 0 --min-fps 1e6");
  CHECK(slow.code == 3);
  CHECK(slow.out.find("min_fps") != std::string::npos);
  CHECK(run("--arch " + float_arch).code == 2);
  CHECK(run("--arch /nonexistent/net.json").code == 2);
  CHECK(run("--arch " + arch + " --max-luts -5").code == 2);
  CHECK(run("--arch " + arch + " --clock-mhz 0").code == 2);
  CHECK(run("--arch " + arch + " --model systolic").code == 2);
  CHECK(run("--max-luts 5").code == 2);
  // NAQS's accounting: reconfigured groups, their configuration time in the report; pipelined_pe only
  auto reconf = run("--arch " + arch + " --min-fps 100 --reconfigure-groups 100000");
  CHECK(reconf.code == 0);
  CHECK(reconf.out.find("reconfiguration: a full configuration takes 35.71 ms") != std::string::npos);
  auto other = run("--arch " + arch + " --model dataflow --reconfigure-groups 10");
  CHECK(other.code == 2);
  CHECK(other.out.find("pipelined_pe's option") != std::string::npos);
  CHECK(run("--arch " + arch + " --reconfigure-groups 0").code == 2);
  const auto word = run("--arch " + arch + " --reconfigure-groups abc");
  CHECK(word.code == 2);
  CHECK(word.out.find("not a whole decimal number") != std::string::npos);  // not "not in range"
  // integers are plain decimal and fit 64 bits: no octal "010", no hex, no silent "no limit" past the range
  for (const char* bad : {"010", "0x10", "18446744073709551616", "1e3"}) {
    CAPTURE(bad);
    CHECK(run("--arch " + arch + " --max-luts " + bad).code == 2);
  }
  // real numbers are decimal: an empty value is not "unset", hex is not read, no stray spaces
  for (const char* bad : {"''", "0x10", "' 5'", "'5 '", "1e", "."}) {
    CAPTURE(bad);
    const auto r = run("--arch " + arch + " --min-fps " + bad);
    CHECK(r.code == 2);
    CHECK(r.out.find("is not a decimal number") != std::string::npos);
    CHECK(run("--arch " + arch + " --max-latency-ms " + bad).code == 2);
    CHECK(run("--arch " + arch + " --clock-mhz " + bad).code == 2);
  }
  CHECK(run("--arch " + arch + " --min-fps 1.5e3 --max-latency-ms .5").code == 0);
  // a number in the architecture too large for a double is bad input (exit 2), named by file
  const auto huge = fs::temp_directory_path() / "hwnas_estimate_huge.json";
  std::ofstream(huge) << R"({"input": {"channels": 1, "height": 28, "width": 28, "format": "u0.8"}, "classes": 10,)"
                      << R"( "layers": [{"type": "conv", "filters": 1e400, "kernel": 3}]})";
  const auto h = run("--arch " + huge.string());
  CHECK(h.code == 2);
  CHECK(h.out.find(huge.string()) != std::string::npos);
  fs::remove(huge);
}

}  // namespace test_estimate
