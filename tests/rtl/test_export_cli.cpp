// hwnas-train --save-integer and hwnas-export end to end: a network trained on Fashion-MNIST is exported, linted and
// simulated on 1,000 test images, bit for bit equal to the integer network; bad input gets exit code 2 (or 3 for an
// unmeetable spec) and leaves the user's files alone.

#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "../common/files.hpp"
#include "../common/run_program.hpp"
#include "hwnas/fpga/devices.hpp"
#include "hwnas/io/fashion_mnist.hpp"
#include "hwnas/nn/integer_network_file.hpp"

namespace {
namespace fs = std::filesystem;
using hwnas::test::run_program;

fs::path fresh(const std::string& name) {
  const fs::path d = fs::path(HWNAS_BINARY_DIR) / "rtl_tests" / name;
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

/// A small 4-bit network trained for one epoch on 5,000 images (a few seconds), saved as an integer network file.
fs::path trained_network(const fs::path& dir) {
  const fs::path net = dir / "cnn4.json";
  const auto r = run_program("hwnas-train", "--bits 4 --epochs 1 --train-subset 5000 --quiet --save-integer " +
                                                net.string());
  INFO(r.out);
  REQUIRE(r.code == 0);
  REQUIRE(fs::exists(net));
  return net;
}

}  // namespace

TEST_CASE("hwnas-export: a trained network simulates bit-exact on 1,000 Fashion-MNIST test images") {
  const auto dir = fresh("export_trained");
  const auto net_file = trained_network(dir);
  const auto out = dir / "rtl";
  const auto r = run_program("hwnas-export", "--network " + net_file.string() + " --min-fps 3000 --out " +
                                                 out.string() + " --simulate 1000");
  INFO(r.out);
  REQUIRE(r.code == 0);
  const auto manifest = nlohmann::json::parse(hwnas::test::slurp(out / "export.json"));
  CHECK(manifest["lint"] == "verilator --lint-only -Wall: no warnings");
  const auto& sim = manifest["simulation"];
  CHECK(sim["images"] == 1000);
  CHECK(sim["logit_mismatches"] == 0);
  CHECK(sim["class_mismatches"] == 0);
  CHECK(sim["interval_cycles"] == manifest["model"]["cycles"]);
  CHECK(sim["latency_cycles"].get<std::int64_t>() <= sim["latency_bound_cycles"].get<std::int64_t>());
  // the hardware's accuracy is the integer network's, computed here independently on the same 1,000 images
  const auto net = hwnas::nn::load_integer_network(net_file);
  const auto data = hwnas::io::fashion_mnist("", 0, 0);
  std::vector<std::int32_t> pred(1000);
  net.predict(data.test.images.data(), 1000, pred.data());
  std::size_t right = 0;
  for (std::size_t i = 0; i < 1000; ++i) right += pred[i] == data.test.labels(i);
  CHECK(sim["hardware_accuracy"].get<double>() == doctest::Approx(static_cast<double>(right) / 1000.0).epsilon(1e-12));
  CHECK(sim["hardware_accuracy"].get<double>() > 0.5);
  // every file the manifest lists exists, the top first
  for (const auto& f : manifest["files"]) CHECK(fs::exists(out / f.get<std::string>()));
  CHECK(manifest["files"][0] == "hwnas_top.v");
  // exporting again into the same directory (an earlier export) is allowed
  const auto again = run_program("hwnas-export", "--network " + net_file.string() + " --min-fps 3000 --out " + out.string());
  CHECK(again.code == 0);
}

TEST_CASE("hwnas-export: bad input gets a clear message and exit code 2 (3 for an unmeetable spec), nothing is "
          "overwritten") {
  const auto dir = fresh("export_bad");
  // unsigned options refuse a sign (CLI11 alone wrapped hwnas-train --seed -1 to 2^64 - 1 and recorded that)
  for (const char* bad : {"--seed -1", "--init-seed -5", "--slices -1", "--batch -1"}) {
    CAPTURE(bad);
    const auto r = run_program("hwnas-train", bad);
    CHECK(r.code == 2);
    CHECK(r.out.find("must not be negative") != std::string::npos);
  }
  // hwnas-train writes over its own earlier outputs only: not over the architecture it reads, not over a user's file
  {
    const auto arch_copy = dir / "mine_arch.json", notes = dir / "notes.txt";
    std::filesystem::copy_file(std::string(HWNAS_SOURCE_DIR) + "/examples/architectures/reference_cnn_4bit.json",
                               arch_copy);
    std::ofstream(notes) << "my notes\n";
    const auto before = hwnas::test::slurp(arch_copy);
    auto r = run_program("hwnas-train", "--arch " + arch_copy.string() + " --save-integer " + arch_copy.string());
    CHECK(r.code == 2);
    CHECK(r.out.find("is the architecture file this run reads") != std::string::npos);
    r = run_program("hwnas-train", "--bits 4 --json " + notes.string());
    CHECK(r.code == 2);
    CHECK(r.out.find("is not an output of hwnas-train") != std::string::npos);
    CHECK(hwnas::test::slurp(arch_copy) == before);
    CHECK(hwnas::test::slurp(notes) == "my notes\n");
  }
  // a tiny quantized network file written directly (no training needed for these cases)
  hwnas::architecture a;
  a.input = {1, 6, 6};
  a.classes = 3;
  hwnas::conv_layer l;
  l.filters = 2;
  l.kernel = 3;
  l.weight_format = hwnas::qformat::weight(0, 3);
  l.activation_format = hwnas::qformat::activation(1, 3);
  a.layers = {l, l};
  a.classifier.weight_format = hwnas::qformat::weight(0, 3);
  std::vector<hwnas::nn::integer_layer> layers;
  hwnas::qformat in = a.effective_input_format();
  for (const auto& g : hwnas::geometry(a)) {
    hwnas::nn::integer_layer L;
    L.input_format = in;
    L.weight_format = hwnas::qformat::weight(0, 3);
    L.output_format = g.is_classifier ? hwnas::qformat::activation(0, 8) : hwnas::qformat::activation(1, 3);
    L.weights.assign(static_cast<std::size_t>(g.weight_count()), 1);
    L.bias.assign(static_cast<std::size_t>(g.out_channels), 0);
    in = L.output_format;
    layers.push_back(L);
  }
  const auto net = dir / "net.json";
  hwnas::nn::save_integer_network(hwnas::nn::integer_network(a, layers), net);
  auto write = [&](const std::string& name, const std::string& text) {
    std::ofstream(dir / name) << text;
    return (dir / name).string();
  };
  auto export_ = [&](const std::string& args) { return run_program("hwnas-export", "--network " + net.string() + " " + args); };

  SUBCASE("an output directory holding other files is refused and left untouched") {
    const auto user = dir / "mine";
    fs::create_directories(user);
    std::ofstream(user / "notes.txt") << "keep me";
    const auto r = export_("--out " + user.string());
    CHECK(r.code == 2);
    CHECK(r.out.find("not empty") != std::string::npos);
    CHECK(hwnas::test::names_in(user) == std::set<std::string>{"notes.txt"});
    CHECK(hwnas::test::slurp(user / "notes.txt") == "keep me");
  }
  SUBCASE("an export.json that is not an export's is someone else's: refused, nothing touched") {
    const auto user = dir / "theirs";
    fs::create_directories(user);
    std::ofstream(user / "export.json") << "{\"my\": \"own\"}";
    std::ofstream(user / "hwnas_top.v") << "precious";
    const auto r = export_("--out " + user.string());
    CHECK(r.code == 2);
    CHECK(hwnas::test::slurp(user / "hwnas_top.v") == "precious");
    CHECK(hwnas::test::slurp(user / "export.json") == "{\"my\": \"own\"}");
  }
  SUBCASE("a path Verilator's make cannot build in is refused before any work") {
    const auto r = export_("--simulate 2 --out '" + (dir / "my rtl").string() + "'");
    CHECK(r.code == 2);
    CHECK(r.out.find("spaces") != std::string::npos);
    CHECK_FALSE(fs::exists(dir / "my rtl"));
    CHECK(export_("--out ''").code == 2);
  }
  SUBCASE("exporting over an earlier export replaces it whole: no stale module is left") {
    const auto out = dir / "again";
    REQUIRE(export_("--out " + out.string()).code == 0);
    REQUIRE(fs::exists(out / "hwnas_top_l0.v"));
    REQUIRE(export_("--top other --out " + out.string()).code == 0);
    CHECK_FALSE(fs::exists(out / "hwnas_top_l0.v"));
    CHECK(fs::exists(out / "other_l0.v"));
    // an export stopped half-way (its manifest says so) can be repeated into the same directory
    std::ofstream(out / "export.json") << R"({"format": "hwnas-export", "version": 1, "status": "in progress"})";
    CHECK(export_("--out " + out.string()).code == 0);
    // a user's files beside an export, even named like ours, stay; what an export and verify-design write goes
    fs::create_directories(out / "verify");
    const char* const mine[] = {"results_final.txt", "stimulus_mine.bin", "build_notes.log", "lint_review.log",
                                "hwnas_top_notes.v", "verify/my.ys"};
    for (const char* f : mine) std::ofstream(out / f) << "mine";
    std::ofstream(out / "verify" / "stat_ice40.json") << "{}";
    std::ofstream(out / "hwnas_top_l7.v") << "module stale; endmodule";
    REQUIRE(export_("--out " + out.string()).code == 0);
    for (const char* f : mine) {
      CAPTURE(f);
      CHECK(hwnas::test::slurp(out / f) == "mine");
    }
    CHECK_FALSE(fs::exists(out / "verify" / "stat_ice40.json"));
    CHECK_FALSE(fs::exists(out / "hwnas_top_l7.v"));
    CHECK(fs::exists(out / "hwnas_top_l0.v"));
    // a damaged manifest naming ".", "..", a user's file or a path out of the directory removes none of them
    std::ofstream(dir / "canary.txt") << "mine";
    std::ofstream(out / "export.json") << R"({"format": "hwnas-export", "version": 1, "top": "..",
                                             "files": [".", "..", "results_final.txt", "../canary.txt", ""]})";
    REQUIRE(export_("--out " + out.string()).code == 0);
    CHECK(hwnas::test::slurp(dir / "canary.txt") == "mine");
    CHECK(hwnas::test::slurp(out / "results_final.txt") == "mine");
    CHECK(fs::exists(out / "hwnas_top_l0.v"));
  }
  SUBCASE("an iCE40 part: priced in its EBRs at a clock it routes at; above its ceiling the export says which clock") {
    auto r = export_("--device ice40-hx8k --out " + (dir / "hx_fast").string());  // the default 100 MHz
    CHECK(r.code == 3);
    CHECK(r.out.find("100 MHz is above the clock ceiling of ice40-hx8k") != std::string::npos);
    // the device's measured ceiling (include/hwnas/fpga/devices.hpp), a whole number of MHz
    const auto ceiling = static_cast<int>(hwnas::fpga::ice40_hx8k::fmax_mhz);
    REQUIRE(ceiling == hwnas::fpga::ice40_hx8k::fmax_mhz);
    CHECK(r.out.find("pass --clock-mhz " + std::to_string(ceiling) + " or lower") != std::string::npos);
    CHECK_FALSE(fs::exists(dir / "hx_fast" / "export.json"));
    r = export_("--device ice40-up5k --clock-mhz 10 --out " + (dir / "up").string());
    INFO(r.out);
    REQUIRE(r.code == 0);
    const auto model = nlohmann::json::parse(hwnas::test::slurp(dir / "up" / "export.json"))["model"];
    CHECK(model["device"] == "ice40-up5k");
    CHECK(model["clock_mhz"] == 10.0);
    CHECK(model["feasible"] == true);
  }
  SUBCASE("a given mapping that breaks the spec is written, with exit code 3") {
    const auto m = write("slow.json", R"({"layers": [{"Tn": 1, "Tm": 1}, {"Tn": 1, "Tm": 1}, {"Tn": 1, "Tm": 1}]})");
    const auto r = export_("--mapping " + m + " --max-luts 10 --out " + (dir / "o15").string());
    CHECK(r.code == 3);
    CHECK(fs::exists(dir / "o15" / "hwnas_top.v"));
  }
  SUBCASE("the output is a file") {
    const auto f = write("afile", "x");
    CHECK(export_("--out " + f).code == 2);
    CHECK(hwnas::test::slurp(f) == "x");
  }
  SUBCASE("a missing network file, a file that is not one, a directory") {
    CHECK(run_program("hwnas-export", "--network " + (dir / "none.json").string() + " --out " + (dir / "o1").string()).code == 2);
    const auto r = run_program("hwnas-export", "--network " + write("arch.json", "{\"classes\": 10}") + " --out " +
                                                   (dir / "o2").string());
    CHECK(r.code == 2);
    CHECK(r.out.find("not an hwnas integer network file") != std::string::npos);
    CHECK(run_program("hwnas-export", "--network " + dir.string() + " --out " + (dir / "o3").string()).code == 2);
    CHECK_FALSE(fs::exists(dir / "o2"));
  }
  SUBCASE("mappings that do not fit") {
    const auto two_groups = write("m2.json", R"({"layers": [{"Tn": 1, "Tm": 1, "group": 0}, {"Tn": 1, "Tm": 1, "group": 1},
                                                            {"Tn": 1, "Tm": 1, "group": 1}]})");
    auto r = export_("--mapping " + two_groups + " --out " + (dir / "o4").string());
    CHECK(r.code == 2);
    CHECK(r.out.find("group") != std::string::npos);
    r = export_("--mapping " + write("m3.json", R"({"layers": [{"Tn": 1, "Tm": 1}]})") + " --out " + (dir / "o5").string());
    CHECK(r.code == 2);
    CHECK(r.out.find("layers") != std::string::npos);
    r = export_("--mapping " + write("m4.json", R"({"layers": [{"Tn": 1}, {"Tn": 1, "Tm": 1}, {"Tn": 1, "Tm": 1}]})") +
                " --out " + (dir / "o6").string());
    CHECK(r.code == 2);
    CHECK(r.out.find("\"Tm\"") != std::string::npos);
    r = export_("--mapping " + write("m5.json", R"({"layers": [{"Tn": -3, "Tm": 1}, {"Tn": 1, "Tm": 1}, {"Tn": 1, "Tm": 1}]})") +
                " --out " + (dir / "o7").string());
    CHECK(r.code == 2);
    CHECK(r.out.find("in 1..10^9") != std::string::npos);  // Tn counts lanes: from 1
    r = export_("--mapping " + write("m6.json", R"({"model": "dataflow", "layers": []})") + " --out " + (dir / "o8").string());
    CHECK(r.code == 2);
    CHECK(r.out.find("dataflow") != std::string::npos);
    r = export_("--mapping " + write("m7.json", "not json") + " --out " + (dir / "o9").string());
    CHECK(r.code == 2);
    r = export_("--mapping " + write("m9.json", R"({"layers": [{"Tn": 1, "Tk": 1}, {"Tn": 1, "Tm": 1}, {"Tn": 1, "Tm": 1}]})") +
                " --out " + (dir / "o9").string());
    CHECK(r.code == 2);
    CHECK(r.out.find("unknown key \"Tk\"") != std::string::npos);
    r = export_("--mapping " + dir.string() + " --out " + (dir / "o9").string());
    CHECK(r.code == 2);
    CHECK(r.out.find("is a directory") != std::string::npos);
    r = export_("--mapping " + write("m10.json", R"({"layers": [], "Layers": []})") + " --out " + (dir / "o9").string());
    CHECK(r.code == 2);
    CHECK(r.out.find("unknown key \"Layers\"") != std::string::npos);
    // a report priced on another device or at another clock is not silently re-priced
    r = export_("--mapping " +
                write("m11.json", R"({"model": "pipelined_pe", "device": "xc7z020", "clock_mhz": 200, "layers": []})") +
                " --out " + (dir / "o9").string());
    CHECK(r.code == 2);
    CHECK(r.out.find("pass --device xc7z020 --clock-mhz 200") != std::string::npos);
    // "group" on some layers only: a slip, not group 0
    r = export_("--mapping " +
                write("m12.json", R"({"layers": [{"Tn": 1, "Tm": 1, "group": 0}, {"Tn": 1, "Tm": 1, "group": 1}, {"Tn": 1, "Tm": 1}]})") +
                " --out " + (dir / "o9").string());
    CHECK(r.code == 2);
    CHECK(r.out.find("2 of the 3 layers have a \"group\"") != std::string::npos);
    // a report of reconfigured groups is not built as one static bitstream without a word
    r = export_("--mapping " +
                write("m13.json", R"({"model": "pipelined_pe", "device": "cyclone-iv-e115", "clock_mhz": 100,
                                      "reconfiguration": {"batch_frames": 100, "groups": 3}, "layers": []})") +
                " --out " + (dir / "o9").string());
    CHECK(r.code == 2);
    CHECK(r.out.find("reconfigured groups") != std::string::npos);
    // the integer network given as the mapping
    r = export_("--mapping " + net.string() + " --out " + (dir / "o9").string());
    CHECK(r.code == 2);
    CHECK(r.out.find("hwnas-integer-network file, not a mapping; give it as --network") != std::string::npos);
    for (const char* o : {"o4", "o5", "o6", "o7", "o8", "o9"}) CHECK_FALSE(fs::exists(dir / o));
  }
  SUBCASE("a Verilator that is not there is said to be missing, not a bug in the Verilog") {
    ::setenv("HWNAS_VERILATOR", "/nonexistent/verilator", 1);
    const auto r = export_("--out " + (dir / "nov").string());
    ::unsetenv("HWNAS_VERILATOR");
    CHECK(r.code != 0);
    CHECK(r.code != 1);  // 1 is "a bug"
    CHECK(r.out.find("HWNAS_VERILATOR") != std::string::npos);
    CHECK(r.out.find("a bug") == std::string::npos);
  }
  SUBCASE("an unmeetable spec is exit 3 with nothing written; a bad spec or name is exit 2") {
    auto r = export_("--min-fps 1e9 --out " + (dir / "o10").string());
    CHECK(r.code == 3);
    CHECK(r.out.find("no mapping of this network meets") != std::string::npos);
    CHECK(r.out.find("breaks:") != std::string::npos);  // which constraint to relax
    CHECK(r.out.find("min_fps") != std::string::npos);
    CHECK_FALSE(fs::exists(dir / "o10"));
    CHECK(export_("--max-luts -5 --out " + (dir / "o11").string()).code == 2);
    CHECK(export_("--top 9bad --out " + (dir / "o12").string()).code == 2);
    CHECK(export_("--simulate 1 --out " + (dir / "o13").string()).code == 2);
  }
  SUBCASE("a design with a hand-written mapping exports and lints clean") {
    const auto m = write("m8.json", R"({"layers": [{"Tn": 3, "Tm": 2}, {"Tn": 6, "Tm": 1}, {"Tn": 12, "Tm": 3}]})");
    const auto r = export_("--mapping " + m + " --out " + (dir / "o14").string());
    INFO(r.out);
    CHECK(r.code == 0);
    const auto manifest = nlohmann::json::parse(hwnas::test::slurp(dir / "o14" / "export.json"));
    CHECK(manifest["lint"] == "verilator --lint-only -Wall: no warnings");
    CHECK(manifest["plan"]["layers"][1]["Tn"] == 6);
  }
  SUBCASE("a grouped mapping: the layers run on the shared stage's array, and the export says where that is larger") {
    const auto m = write("m14.json", R"({"layers": [{"Tn": 3, "Tm": 2, "group": 0}, {"Tn": 6, "Tm": 1, "group": 1},
                                                    {"Tn": 12, "Tm": 3, "group": 2}]})");
    const auto r = export_("--mapping " + m + " --out " + (dir / "o16").string());
    INFO(r.out);
    CHECK(r.code == 0);
    CHECK(fs::exists(dir / "o16" / "hwnas_top_s0.v"));
    CHECK(fs::exists(dir / "o16" / "hwnas_top_b1.v"));
    const auto manifest = nlohmann::json::parse(hwnas::test::slurp(dir / "o16" / "export.json"));
    CHECK(manifest["lint"] == "verilator --lint-only -Wall: no warnings");
    const auto tn0 = manifest["plan"]["layers"][0]["Tn"].get<int>();
    CHECK(tn0 > 3);  // conv0 on the stage sized for fc's Tn 12
    const auto note = r.out.find("note: conv0 runs on shared stage 0 (a ");
    REQUIRE(note != std::string::npos);
    CHECK(r.out.find("array): Tn 3 -> " + std::to_string(tn0) + ",", note) != std::string::npos);
    CHECK(r.out.find("note: fc runs on shared stage") == std::string::npos);  // fc's own Tn and Tm
  }
}
