// examples/search (hwnas-search) end to end on a small synthetic Fashion-MNIST-format directory: exit code 0 and
// the per-trial CSV and best architecture when a design meets the spec, 3 when none can, 2 on bad input.

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "hwnas/io/architecture_json.hpp"
#include "../common/run_program.hpp"
#include "../io/io_test_util.hpp"

namespace {
namespace fs = std::filesystem;

hwnas::test::program_result run(const std::string& args) { return hwnas::test::run_program("hwnas-search", args); }

/// 400 training and 50 test images of 12x12 pixels, 10 classes, in the Fashion-MNIST file layout.
void write_data(const fs::path& dir) {
  using namespace hwnas_test;
  auto labels = [](std::size_t n) {
    std::vector<std::uint8_t> l(n);
    for (std::size_t i = 0; i < n; ++i) l[i] = static_cast<std::uint8_t>(i % 10);
    return l;
  };
  write_file((dir / "train-images-idx3-ubyte.gz").string(), idx_bytes({400, 12, 12}, pattern_bytes(400 * 144, 1)), true);
  write_file((dir / "train-labels-idx1-ubyte.gz").string(), idx_bytes({400}, labels(400)), true);
  write_file((dir / "t10k-images-idx3-ubyte.gz").string(), idx_bytes({50, 12, 12}, pattern_bytes(50 * 144, 2)), true);
  write_file((dir / "t10k-labels-idx1-ubyte.gz").string(), idx_bytes({50}, labels(50)), true);
}
}  // namespace

TEST_CASE("hwnas-search: exit codes 0 with a CSV and the best design, 3 when nothing fits, 2 on bad input") {
  if (!fs::exists(hwnas::test::example_program("hwnas-search"))) {
    WARN_MESSAGE(false, "hwnas-search is not built; build the target to run this test");
    return;
  }
  hwnas_test::temp_dir dir;
  write_data(dir.path());
  const std::string common = "--data " + dir.path().string() + " --validation 100 --train-images 200 --epochs 1 ";
  const auto csv = dir.path() / "trials.csv", best = dir.path() / "best.json";
  const auto svg = dir.path() / "front.svg";
  const auto ok = run(common + "--trials 5 --max-luts 30000 --csv " + csv.string() + " --best " + best.string() +
                      " --svg " + svg.string());
  CHECK(ok.code == 0);
  CHECK(ok.out.find("Pareto front") != std::string::npos);
  CHECK(ok.out.find("[  5/5]") != std::string::npos);
  std::ifstream in(csv);
  std::string line;
  int rows = 0;
  while (std::getline(in, line)) ++rows;
  CHECK(rows == 6);  // header + 5 trials
  CHECK(fs::file_size(svg) > 500);
  const auto arch = hwnas::io::load_architecture(best.string());
  CHECK(arch.fully_quantized());
  CHECK(arch.input == hwnas::tensor_shape{1, 12, 12});

  const auto none = run(common + "--trials 3 --max-luts 10");
  CHECK(none.code == 3);
  CHECK(none.out.find("max_luts") != std::string::npos);
  CHECK(none.out.find("no design met the spec") != std::string::npos);

  // Interrupted (a budget of 3), then resumed to 5 by the same command with a larger budget: 5 journal lines.
  const auto journal = dir.path() / "run.jsonl";
  CHECK(run(common + "--trials 3 --max-luts 30000 --journal " + journal.string()).code == 0);
  const auto resumed = run(common + "--trials 5 --max-luts 30000 --journal " + journal.string());
  CHECK(resumed.code == 0);
  CHECK(resumed.out.find("resuming: 3 trials") != std::string::npos);
  CHECK(resumed.out.find("(from the journal)") != std::string::npos);
  std::ifstream jl(journal);
  int lines = 0;
  while (std::getline(jl, line)) ++lines;
  CHECK(lines == 5);

  CHECK(run(common + "--max-luts -5").code == 2);
  CHECK(run(common + "--strategy annealing").code == 2);
  CHECK(run("--data " + (dir.path() / "nowhere").string()).code == 2);
}
