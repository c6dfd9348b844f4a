// report/write.hpp: write_outputs writes report.json, trials.csv, pareto.svg and report.html (each the writer's
// output, the JSON parseable), creates the directory, replaces old files, leaves no temporary file, and fails with
// io_error on a directory that cannot exist, touching nothing. Also: the sample page the Chromium check opens.

#include <doctest/doctest.h>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "hwnas/report/write.hpp"
#include "../common/files.hpp"
#include "sample_report.hpp"

namespace fs = std::filesystem;
namespace rp = hwnas::report;

namespace {
using hwnas::test::names_in;
using hwnas::test::slurp;
const std::set<std::string> four{"pareto.svg", "report.html", "report.json", "trials.csv"};
}  // namespace

TEST_CASE("write_outputs: the four files in a new directory, each the writer's output, nothing else") {
  const fs::path root = fs::temp_directory_path() / ("hwnas_report_write_" + std::to_string(::getpid()));
  fs::remove_all(root);
  const fs::path dir = root / "runs" / "a";
  const auto r = hwnas::test::sample_report();
  rp::write_outputs(dir, r);
  CHECK(names_in(dir) == four);
  const auto j = nlohmann::json::parse(slurp(dir / "report.json"));
  CHECK(j == rp::to_json(r));
  std::ostringstream csv;
  rp::write_trials_csv(csv, r);
  CHECK(slurp(dir / "trials.csv") == csv.str());
  CHECK(slurp(dir / "pareto.svg") == rp::pareto_svg(r));
  CHECK(slurp(dir / "report.html") == rp::to_html(r));

  // again, over the old files: replaced, still nothing else
  auto r2 = r;
  r2.seed = 7;
  rp::write_outputs(dir, r2);
  CHECK(nlohmann::json::parse(slurp(dir / "report.json"))["seed"] == 7);
  CHECK(names_in(dir) == four);
  fs::remove_all(root);
}

TEST_CASE("write_outputs: an impossible directory is an io_error, nothing written, no temporary file") {
  const fs::path root = fs::temp_directory_path() / ("hwnas_report_fail_" + std::to_string(::getpid()));
  fs::remove_all(root);
  fs::create_directories(root);
  { std::ofstream(root / "plain") << "a file, not a directory"; }
  const auto r = hwnas::test::sample_report();
  CHECK_THROWS_WITH_AS(rp::write_outputs(root / "plain", r), doctest::Contains("cannot create the report directory"),
                       hwnas::io_error);
  CHECK_THROWS_WITH_AS(rp::write_outputs(root / "plain" / "sub", r), doctest::Contains("plain/sub"), hwnas::io_error);
  CHECK(names_in(root) == std::set<std::string>{"plain"});
  CHECK(slurp(root / "plain") == "a file, not a directory");
  fs::remove_all(root);
}

// The page tests/report/html_in_chromium.sh opens: written only when HWNAS_REPORT_SAMPLE_DIR names a directory
// (the ctest "report: report.html renders in headless Chromium" sets it).
TEST_CASE("write_outputs: the sample report for the browser check") {
  const char* dir = std::getenv("HWNAS_REPORT_SAMPLE_DIR");
  if (!dir || !*dir) return;
  rp::write_outputs(dir, hwnas::test::sample_report());
  CHECK(names_in(dir).count("report.html") == 1);
  MESSAGE("wrote the sample report to " << dir);
}
