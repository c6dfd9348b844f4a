#include <doctest/doctest.h>

#include <map>
#include <string>

#include "hwnas/fpga/hw_report.hpp"
#include "hwnas/fpga/dataflow.hpp"
#include "hwnas/fpga/pipelined_pe.hpp"
#include "hwnas/fpga/tiled_engine.hpp"
#include "fpga_test_util.hpp"

using namespace hwnas;
using namespace hwnas::fpga;
using hwnas::fpga::test::has_violation;

TEST_CASE("hw_report: JSON carries the totals, the layers and the violations") {
  const pipelined_pe<> model;
  const auto a = with_uniform_bits(reference_cnn(), 4);
  const auto ok = model.map(a, spec{.max_luts = 30000, .min_fps = 1000});
  const auto j = to_json(ok);
  for (const char* key : {"feasible", "luts", "dsps", "brams", "fps", "latency_ms", "layers", "violations", "model",
                          "device", "clock_mhz", "cycles", "utilization"})
    CHECK(j.contains(key));
  CHECK(j["feasible"] == true);
  CHECK(j["luts"] == ok.luts);
  CHECK(j["brams"] == ok.brams);
  CHECK(j["fps"].get<double>() == doctest::Approx(ok.fps));
  CHECK(j["layers"].size() == 3);
  CHECK(j["layers"][0]["parallelism"]["Tn"] == ok.layers[0].parallelism[0].second);
  CHECK(j["layers"][2]["name"] == "fc");
  CHECK(j["violations"].empty());
  CHECK(j["utilization"]["luts"].get<double>() == doctest::Approx(static_cast<double>(ok.luts) / 114480));

  const auto bad = model.map(a, spec{.max_luts = 2000, .min_fps = 1e6});
  const auto jb = to_json(bad);
  CHECK(jb["feasible"] == false);
  REQUIRE(jb["violations"].size() == 1);
  CHECK(jb["violations"][0]["constraint"] == "min_fps");
  CHECK(jb["violations"][0]["limit"].get<double>() == 1e6);
  CHECK(jb["violations"][0]["excess"].get<double>() > 0.9);
}

TEST_CASE("hw_report: the table shows every layer, the totals and the reasons") {
  const pipelined_pe<> model;
  const auto a = with_uniform_bits(reference_cnn(), 4);
  const auto ok = to_table(model.map(a, spec{.max_luts = 30000, .min_fps = 1000}));
  for (const char* s : {"conv0", "conv1", "fc", "total", "Tn=", "Tm=", "group=", "throughput", "utilization",
                        "feasible: meets the spec"})
    CHECK(ok.find(s) != std::string::npos);
  const auto bad = to_table(model.map(a, spec{.max_luts = 10}));
  CHECK(bad.find("INFEASIBLE") != std::string::npos);
  CHECK(bad.find("max_luts: LUTs") != std::string::npos);
  // the factors are explained; a layer on a shared stage points to it; group-boundary maps have their own BRAM row,
  // so the BRAM column adds up to the total
  CHECK(ok.find("where\n  Tn: ") != std::string::npos);
  CHECK(ok.find("  stage: the physical PE array") != std::string::npos);
  const auto shared = model.evaluate(a, pe_mapping{{{1, 4, 0}, {4, 2, 1}, {2, 1, 2}}});
  const auto t = to_table(shared);
  CHECK(t.find("(stage 0)") != std::string::npos);
  // ... beside the layer's own logic (its lane selection, memories in logic) when it has some
  for (std::size_t l = 1; l < shared.layers.size(); ++l)
    if (shared.layers[l].luts > 0)
      CHECK(t.find(std::to_string(shared.layers[l].luts) + " + (stage 0)") != std::string::npos);
  CHECK(t.find("boundaries") != std::string::npos);
  std::int64_t sum = 0;
  for (const auto& l : shared.layers) sum += l.brams;
  CHECK(t.find("group maps") != std::string::npos);
  CHECK(shared.brams > sum);
  CHECK(to_table(model.map(a, spec{.max_luts = 0})).find("(none allowed)") != std::string::npos);
}

TEST_CASE("hw_report: violation excess") {
  violation over{"max_luts", 100, 150, ""};
  CHECK(over.excess() == doctest::Approx(0.5));
  violation slow{"min_fps", 1000, 800, ""};
  CHECK(slow.excess() == doctest::Approx(0.2));
  violation none{"max_brams", 0, 3, ""};
  CHECK(std::isinf(none.excess()));
  // a frame rate above the clock leaves no whole cycle per frame: said so, not "at most 0 allowed"
  const auto a = with_uniform_bits(reference_cnn(), 4);
  const auto r = pipelined_pe<>().evaluate(a, pe_mapping{{{1, 1, 0}, {1, 1, 0}, {1, 1, 0}}}, spec{.min_fps = 1e9});
  REQUIRE(has_violation(r, "min_fps"));
  for (const auto& v : r.violations)
    if (v.constraint == "min_fps") CHECK(v.message.find("less than one cycle per frame is left at 100 MHz") != std::string::npos);
}

TEST_CASE("hw_report: every model states its assumptions, in the table and the JSON") {
  const auto a = with_uniform_bits(reference_cnn(), 4);
  const auto check = [](const hw_report& r, const char* arrays) {
    std::map<std::string, std::string> m(r.assumptions.begin(), r.assumptions.end());
    for (const char* topic : {"arrays", "read ports", "clock", "LUT costs", "latency", "block RAM", "multipliers"})
      CHECK_MESSAGE(m.count(topic) == 1, topic);
    CHECK(m["arrays"].find(arrays) != std::string::npos);
    const auto j = to_json(r);
    CHECK(j["assumptions"]["arrays"] == m["arrays"]);
    CHECK(to_table(r).find("assumptions:\n  arrays: ") != std::string::npos);
  };
  check(pipelined_pe<>().map(a, spec{.max_luts = 5000, .min_fps = 3000}), "static bitstream");
  check(dataflow<xc7z020>().map(a), "its own matrix-vector unit");
  check(tiled_engine<>().map(a), "one Tm x Tn engine");
  const auto r = pipelined_pe<>().map(a);
  std::map<std::string, std::string> m(r.assumptions.begin(), r.assumptions.end());
  CHECK(m["clock"].find("274 MHz") != std::string::npos);
  CHECK(m["LUT costs"].find("synth_ice40") != std::string::npos);  // LUT4 with carry chains
  const auto x = dataflow<xc7z020>().map(a);
  CHECK(std::map<std::string, std::string>(x.assumptions.begin(), x.assumptions.end())["LUT costs"].find("synth_xilinx") !=
        std::string::npos);
}

TEST_CASE("hw_report: group-boundary block RAM is in the JSON too, and huge excesses print as numbers") {
  const auto a = with_uniform_bits(reference_cnn(), 4);
  // S = 1: three groups on one stage, two boundary maps in block RAM
  const auto r = pipelined_pe<xc7z020>().evaluate(a, pe_mapping{{{1, 1, 0}, {1, 1, 1}, {1, 1, 2}}});
  double layers = 0;
  for (const auto& l : r.layers) layers += l.brams;
  const auto j = to_json(r);
  CHECK(j["boundary_brams"].get<double>() > 0);
  CHECK(j["boundary_brams"].get<double>() == doctest::Approx(r.brams - layers));
  // their FIFOs' logic (pointers, count) is theirs too, in no layer
  CHECK(r.boundary_luts > 0);
  CHECK(j["boundary_luts"] == r.boundary_luts);
  CHECK(j["boundary_ffs"] == r.boundary_ffs);
  CHECK(to_table(r).find("group maps  " ) != std::string::npos);
  CHECK(to_table(r).find("boundaries") != std::string::npos);
  // a latency goal of 1e-300 ms is 1e302 % short: printed with an exponent, not as a cut-off row of digits
  const auto tiny = pipelined_pe<>().map(a, spec{.max_latency_ms = 1e-300});
  std::string message;
  for (const auto& v : tiny.violations)
    if (v.constraint == "max_latency_ms") message = v.message;
  CHECK(message.find("e+") != std::string::npos);
  CHECK(message.find("%)") != std::string::npos);
  CHECK(fpga::detail::format_percent(0.25) == "+25.0%");
}
