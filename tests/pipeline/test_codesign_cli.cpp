// examples/codesign (hwnas-codesign, the main job) end to end on a small learnable synthetic data directory in the
// Fashion-MNIST file layout: exit codes 0 / 3 / 2, the four outputs, a journal never overwritten without --resume,
// and a run killed with SIGKILL in the middle that resumes to the same trials, report and best design as an
// uninterrupted run with the same seed.

#include <doctest/doctest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "../common/bars.hpp"
#include "../common/run_program.hpp"
#include "../io/io_test_util.hpp"

namespace {
namespace fs = std::filesystem;

hwnas::test::program_result run(const std::string& args) { return hwnas::test::run_program("hwnas-codesign", args); }

/// The bars task (4 classes of 12x12 images, tests/common/bars.hpp) as IDX files: 600 training, 100 test images.
void write_data(const fs::path& dir) {
  using namespace hwnas_test;
  auto write = [&](const std::string& prefix, std::size_t n, std::uint64_t seed) {
    const auto d = hwnas::test::bars(n, seed);
    std::vector<std::uint8_t> pixels(n * 144), labels(n);
    for (std::size_t i = 0; i < pixels.size(); ++i)
      pixels[i] = static_cast<std::uint8_t>(std::lround(255.0f * std::min(1.0f, d.images.data()[i])));
    for (std::size_t i = 0; i < n; ++i) labels[i] = d.labels(i);
    write_file((dir / (prefix + "-images-idx3-ubyte.gz")).string(),
               idx_bytes({static_cast<std::uint32_t>(n), 12, 12}, pixels), true);
    write_file((dir / (prefix + "-labels-idx1-ubyte.gz")).string(), idx_bytes({static_cast<std::uint32_t>(n)}, labels),
               true);
  };
  write("train", 600, 1);
  write("t10k", 100, 2);
}

std::string read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::size_t lines_of(const fs::path& p) {
  const std::string s = read(p);
  return static_cast<std::size_t>(std::count(s.begin(), s.end(), '\n'));
}

/// Runs `command` (a shell command line) in the background, waits until `journal` has `lines` lines (at most two
/// minutes), sends `signo`, and returns the wait status.
int interrupt_when_journaled(const std::string& command, const fs::path& journal, std::size_t lines, int signo) {
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    const std::string cmd = "exec " + command;
    ::execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  const auto t0 = std::chrono::steady_clock::now();
  while ((!fs::exists(journal) || lines_of(journal) < lines) &&
         std::chrono::steady_clock::now() - t0 < std::chrono::seconds(120))
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  ::kill(pid, signo);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return status;
}

/// report.json without what legitimately differs between two runs of the same search: wall times, and how many
/// trials came from the journal.
nlohmann::json comparable(const fs::path& report) {
  auto j = nlohmann::json::parse(read(report));
  const auto strip = [](auto& self, nlohmann::json& v) -> void {
    if (v.is_object()) {
      for (const char* key : {"seconds", "replayed", "training_seconds", "mapping_seconds"}) v.erase(key);
      for (auto& [k, x] : v.items()) self(self, x);
    } else if (v.is_array()) {
      for (auto& x : v) self(self, x);
    }
  };
  strip(strip, j);
  return j;
}
}  // namespace

TEST_CASE("hwnas-codesign: a new run never writes over a user's files in --out, best_integer_network.json too") {
  if (!fs::exists(hwnas::test::example_program("hwnas-codesign"))) {
    WARN_MESSAGE(false, "hwnas-codesign is not built; build the target to run this test");
    return;
  }
  hwnas_test::temp_dir dir;
  write_data(dir.path());
  for (const char* f : {"report.json", "trials.csv", "pareto.svg", "report.html", "best_integer_network.json"}) {
    CAPTURE(f);
    const auto out = dir.path() / (std::string("out_") + f);
    fs::create_directories(out);
    {
      std::ofstream user(out / f);
      user << "USER DATA";
    }
    const auto r = run("--data " + dir.path().string() + " --validation 100 --train-subset 300 --epochs 1 " +
                       "--retrain-epochs 1 --top-k 1 --threads 1 --trials 2 --out " + out.string());
    CAPTURE(r.out);
    CHECK(r.code == 2);
    CHECK(r.out.find("is not from a run journaled there") != std::string::npos);
    CHECK(read(out / f) == "USER DATA");
    CHECK_FALSE(fs::exists(out / "journal.jsonl"));
  }
}

TEST_CASE("hwnas-codesign: exit codes 0 with the four outputs, 3 when nothing fits, 2 on bad input") {
  if (!fs::exists(hwnas::test::example_program("hwnas-codesign"))) {
    WARN_MESSAGE(false, "hwnas-codesign is not built; build the target to run this test");
    return;
  }
  hwnas_test::temp_dir dir;
  write_data(dir.path());
  const auto out = dir.path() / "out";
  const std::string common = "--data " + dir.path().string() +
                             " --validation 100 --train-subset 300 --epochs 1 --retrain-epochs 1 --top-k 2 --threads 2 ";
  const auto ok = run(common + "--trials 6 --strategy random --out " + out.string());
  CAPTURE(ok.out);
  REQUIRE(ok.code == 0);
  for (const char* f : {"report.json", "report.html", "pareto.svg", "trials.csv", "journal.jsonl"})
    CHECK(fs::exists(out / f));
  CHECK(lines_of(out / "trials.csv") == 7);     // header + 6 trials
  CHECK(lines_of(out / "journal.jsonl") == 7);  // header + 6 trials
  CHECK(ok.out.find("report: ") != std::string::npos);
  CHECK(ok.out.find("test accuracy") != std::string::npos);
  const auto rep = nlohmann::json::parse(read(out / "report.json"));
  CHECK(rep["counts"]["trials"] == 6);
  CHECK(rep["counts"]["infeasible_trained"] == 0);
  CHECK(rep["spec"]["max_luts"] == 5000);  // the default spec
  CHECK(rep["spec"]["min_fps"] == 3000);
  REQUIRE(rep["best"].is_object());
  CHECK(rep["best"]["test_accuracy_qat"] == rep["best"]["test_accuracy_integer"]);

  // The journal is never overwritten: a second run into the same directory without --resume is refused.
  const auto journal_before = read(out / "journal.jsonl");
  const auto again = run(common + "--trials 6 --strategy random --out " + out.string());
  CHECK(again.code == 2);
  CHECK(again.out.find("--resume") != std::string::npos);
  CHECK(read(out / "journal.jsonl") == journal_before);
  // --resume with other settings is refused, naming the field; nothing is written.
  const auto other = run(common + "--trials 6 --strategy random --seed 9 --max-luts 4000 --resume --out " + out.string());
  CHECK(other.code == 2);
  CHECK(other.out.find("seed") != std::string::npos);
  CHECK(other.out.find("max_luts") != std::string::npos);  // every field that differs, not only the first
  CHECK(other.out.find("repeat the original command's options") != std::string::npos);
  CHECK(read(out / "journal.jsonl") == journal_before);
  // --resume with a larger budget extends the run, training only the new trials.
  const auto more = run(common + "--trials 8 --strategy random --resume --out " + out.string());
  CHECK(more.code == 0);
  CHECK(more.out.find("6 from the journal") != std::string::npos);
  CHECK(lines_of(out / "journal.jsonl") == 9);

  const auto none = run(common + "--trials 3 --max-luts 10 --out " + (dir.path() / "none").string());
  CHECK(none.code == 3);
  CHECK(none.out.find("no design met the spec") != std::string::npos);
  CHECK(fs::exists(dir.path() / "none" / "report.html"));  // the report says why, even then

  CHECK(run(common + "--max-luts -5 --out " + (dir.path() / "a").string()).code == 2);
  CHECK(run(common + "--min-fps nan --out " + (dir.path() / "b").string()).code == 2);
  const auto device = run(common + "--device virtex --out " + (dir.path() / "c").string());
  CHECK(device.code == 2);
  CHECK(device.out.find("known: cyclone-iv-e115, xc7z020") != std::string::npos);
  CHECK(run(common + "--strategy annealing --out " + (dir.path() / "d").string()).code == 2);
  CHECK(run(common + "--clock-mhz -1 --out " + (dir.path() / "e").string()).code == 2);
  CHECK(run(common + "--validation 0 --out " + (dir.path() / "e1").string()).code == 2);  // nothing to score on
  CHECK(run(common + "--seconds -1 --out " + (dir.path() / "e1").string()).out.find("e+308") == std::string::npos);
  // goals nothing can meet are refused before the search: a clock above the device's fmax, a rate above reading the
  // 12x12 image at one pixel per cycle (694,444 fps at 100 MHz)
  const auto fast_clock = run(common + "--clock-mhz 1000 --out " + (dir.path() / "e2").string());
  CHECK(fast_clock.code == 2);
  CHECK(fast_clock.out.find("fmax of 274 MHz") != std::string::npos);
  const auto fast = run(common + "--min-fps 1e30 --out " + (dir.path() / "e3").string());
  CHECK(fast.code == 2);
  CHECK(fast.out.find("no design can reach it") != std::string::npos);
  CHECK_FALSE(fs::exists(dir.path() / "e3" / "journal.jsonl"));
  CHECK(run("--data " + (dir.path() / "nowhere").string() + " --out " + (dir.path() / "f").string()).code == 2);
  CHECK(run(common + "--resume --out " + (dir.path() / "g").string()).code == 2);  // nothing to resume
  CHECK_FALSE(fs::exists(dir.path() / "a" / "journal.jsonl"));

  const auto help = run("--help");
  CHECK(help.code == 0);
  for (const char* flag : {"--max-luts", "--max-dsps", "--max-brams", "--min-fps", "--max-latency-ms", "--device",
                           "--model", "--clock-mhz", "--strategy", "--trials", "--seconds", "--epochs",
                           "--train-subset", "--top-k", "--seed", "--threads", "--data", "--out", "--resume"})
    CHECK_MESSAGE(help.out.find(flag) != std::string::npos, flag);
  CHECK(help.out.find("5000") != std::string::npos);  // the default spec is stated
  CHECK(help.out.find("3000") != std::string::npos);
}

TEST_CASE("hwnas-codesign: killed with SIGKILL mid-search and resumed, the same trials, report and best design") {
  const auto program = hwnas::test::example_program("hwnas-codesign");
  if (!fs::exists(program)) {
    WARN_MESSAGE(false, "hwnas-codesign is not built; build the target to run this test");
    return;
  }
  hwnas_test::temp_dir dir;
  write_data(dir.path());
  const std::string common = "--data " + dir.path().string() +
                             " --validation 100 --train-subset 0 --epochs 2 --retrain-epochs 1 --top-k 2 --threads 1 "
                             "--trials 14 --strategy evolution --seed 3 ";
  const auto whole = dir.path() / "whole", killed = dir.path() / "killed";
  REQUIRE(run(common + "--out " + whole.string()).code == 0);

  // Start the same run, kill it with SIGKILL once a few trials are journaled, then resume it.
  const auto journal = killed / "journal.jsonl";
  const int status = interrupt_when_journaled(
      program.string() + " " + common + "--out " + killed.string() + " > /dev/null 2>&1", journal, 5, SIGKILL);
  REQUIRE(WIFSIGNALED(status));
  CHECK(WTERMSIG(status) == SIGKILL);
  const std::size_t journaled = lines_of(journal) - 1;
  MESSAGE("killed after " << journaled << " journaled trials");
  CHECK(journaled >= 4);
  CHECK(journaled < 14);
  CHECK_FALSE(fs::exists(killed / "report.json"));

  const auto resumed = run(common + "--resume --out " + killed.string());
  CAPTURE(resumed.out);
  REQUIRE(resumed.code == 0);
  CHECK(resumed.out.find(std::to_string(journaled) + " from the journal") != std::string::npos);
  CHECK(read(whole / "trials.csv") == read(killed / "trials.csv"));
  CHECK(comparable(whole / "report.json") == comparable(killed / "report.json"));
  CHECK(lines_of(killed / "journal.jsonl") == 15);
}

TEST_CASE("examples/custom_strategy: a user strategy in one struct, plugged into a pipeline type, runs on Fashion-MNIST") {
  if (!fs::exists(hwnas::test::example_program("hwnas-custom_strategy"))) {
    WARN_MESSAGE(false, "hwnas-custom_strategy is not built; build the target to run this test");
    return;
  }
  const auto r = hwnas::test::run_program("hwnas-custom_strategy", "");  // Fashion-MNIST (scripts/setup installs it)
  CAPTURE(r.out);
  CHECK(r.code == 0);
  CHECK(r.out.find("hill-climber: 12 trials") != std::string::npos);
  CHECK(r.out.find("(integer) = ") != std::string::npos);
  // its strategy is under 60 lines, as the issue asks of a user strategy
  const std::string source = read(fs::path(HWNAS_SOURCE_DIR) / "examples/custom_strategy/main.cpp");
  const auto begin = source.find("struct hill_climber {"), end = source.find("\n};", begin);
  REQUIRE(begin != std::string::npos);
  CHECK(std::count(source.begin() + static_cast<std::ptrdiff_t>(begin), source.begin() + static_cast<std::ptrdiff_t>(end),
                   '\n') < 60);
}

TEST_CASE("hwnas-codesign: Ctrl-C says how to continue, and --resume continues") {
  const auto program = hwnas::test::example_program("hwnas-codesign");
  if (!fs::exists(program)) {
    WARN_MESSAGE(false, "hwnas-codesign is not built; build the target to run this test");
    return;
  }
  hwnas_test::temp_dir dir;
  write_data(dir.path());
  const std::string common = "--data " + dir.path().string() +
                             " --validation 100 --train-subset 0 --epochs 2 --retrain-epochs 1 --top-k 1 --threads 1 "
                             "--trials 12 --strategy random --seed 5 ";
  const auto out = dir.path() / "run";
  const auto err = dir.path() / "stderr.txt";
  const int status = interrupt_when_journaled(
      program.string() + " " + common + "--out " + out.string() + " > /dev/null 2> " + err.string(),
      out / "journal.jsonl", 3, SIGINT);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 130);
  std::ifstream in(err);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CHECK(text.find("interrupted") != std::string::npos);
  CHECK(text.find("--resume") != std::string::npos);
  CHECK(text.find((out / "journal.jsonl").string()) != std::string::npos);
  const auto resumed = run(common + "--resume --out " + out.string());
  CAPTURE(resumed.out);
  CHECK(resumed.code == 0);
  CHECK(fs::exists(out / "report.json"));
}

TEST_CASE("hwnas-codesign: killed with SIGKILL at 20 random moments and resumed each time, the uninterrupted result") {
  const auto program = hwnas::test::example_program("hwnas-codesign");
  if (!fs::exists(program)) {
    WARN_MESSAGE(false, "hwnas-codesign is not built; build the target to run this test");
    return;
  }
  hwnas_test::temp_dir dir;
  write_data(dir.path());
  const std::string common = "--data " + dir.path().string() +
                             " --validation 100 --train-subset 0 --epochs 2 --retrain-epochs 1 --top-k 2 --threads 1 "
                             "--trials 24 --strategy evolution --seed 11 ";
  const auto whole = dir.path() / "whole", killed = dir.path() / "killed";
  const auto t0 = std::chrono::steady_clock::now();
  REQUIRE(run(common + "--out " + whole.string()).code == 0);
  const auto full_us = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0);

  // Kill at moments drawn from [0, a third (later an eighth) of the whole run's time) after each (re)start: process start, data loading,
  // replaying, training, mapping, journal appends, retraining, report writing. Resume when a journal exists.
  std::uint64_t state = 2026;  // splitmix64: reproducible moments
  auto next = [&] {
    std::uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  };
  const auto journal = killed / "journal.jsonl";
  auto command = [&] {
    return program.string() + " " + common + (fs::exists(journal) ? "--resume " : "") + "--out " + killed.string() +
           " > /dev/null 2>&1";
  };
  // One kill at a random moment of a (re)started run; false when the run ended before the moment came.
  auto kill_at_random_moment = [&] {
    // a resumed run of a finished search (replay, retraining, reports) is short: moments within an eighth
    const std::int64_t divisor = fs::exists(journal) && lines_of(journal) >= 25 ? 8 : 3;
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      ::execl("/bin/sh", "sh", "-c", ("exec " + command()).c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    std::this_thread::sleep_for(
        std::chrono::microseconds(next() % static_cast<std::uint64_t>(full_us.count() / divisor + 1)));
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    if (!WIFSIGNALED(status)) CHECK(WEXITSTATUS(status) == 0);
    return WIFSIGNALED(status);
  };
  // 12 kills from the start (the search, and whatever follows if it ends), one once the search is over (in the
  // retraining or the reports), 7 more in resumed runs of the finished search (replay, retraining, reports).
  int kills = 0, attempts = 0;
  while (kills < 12 && ++attempts < 200) kills += kill_at_random_moment();
  if (lines_of(journal) < 25) {
    const int status = interrupt_when_journaled(command(), journal, 25, SIGKILL);
    kills += WIFSIGNALED(status) ? 1 : 0;
  }
  REQUIRE(lines_of(journal) == 25);  // header + 24 trials: the search is over
  while (kills < 20 && ++attempts < 200) kills += kill_at_random_moment();
  MESSAGE(kills << " kills in " << attempts << " starts");
  CHECK(kills >= 19);  // (the kill once the search is over may come after that run ended)
  // Finish it, then compare with the uninterrupted run: none lost, repeated or corrupted.
  const auto last = run(common + (fs::exists(killed / "journal.jsonl") ? "--resume " : "") + "--out " + killed.string());
  CAPTURE(last.out);
  REQUIRE(last.code == 0);
  CHECK(lines_of(killed / "journal.jsonl") == 25);
  CHECK(read(whole / "journal.jsonl").size() > 0);
  CHECK(read(whole / "trials.csv") == read(killed / "trials.csv"));
  CHECK(comparable(whole / "report.json") == comparable(killed / "report.json"));
}

TEST_CASE("hwnas-codesign --export: the best design as Verilog, simulated bit-exact, in report.json and report.html") {
  if (!fs::exists(hwnas::test::example_program("hwnas-codesign"))) {
    WARN_MESSAGE(false, "hwnas-codesign is not built; build the target to run this test");
    return;
  }
  hwnas_test::temp_dir dir;
  write_data(dir.path());
  const auto out = dir.path() / "out";
  const std::string common = "--data " + dir.path().string() +
                             " --validation 100 --train-subset 300 --epochs 1 --retrain-epochs 1 --top-k 1 --threads 2 "
                             "--trials 4 --strategy random --no-synthesis --export-images 40 ";
  // bad export requests are refused before any training, and nothing is written
  const auto other_model = run(common + "--model dataflow --export " + (dir.path() / "x1").string() + " --out " +
                               (dir.path() / "o1").string());
  CHECK(other_model.code == 2);
  CHECK(other_model.out.find("--model pipelined_pe") != std::string::npos);
  fs::create_directories(dir.path() / "mine");
  std::ofstream(dir.path() / "mine" / "keep.txt") << "mine";
  const auto busy = run(common + "--export " + (dir.path() / "mine").string() + " --out " + (dir.path() / "o2").string());
  CHECK(busy.code == 2);
  CHECK(read(dir.path() / "mine" / "keep.txt") == "mine");
  CHECK_FALSE(fs::exists(dir.path() / "o2" / "journal.jsonl"));
  CHECK(run(common + "--export '' --out " + (dir.path() / "o3").string()).code == 2);
  const auto proc = run(common + "--export /proc/hwnas_x --out " + (dir.path() / "o4").string());
  CHECK(proc.code == 2);  // found before the search, not after it
  CHECK_FALSE(fs::exists(dir.path() / "o4" / "journal.jsonl"));
  // no design meets the spec: the export directory says so (not "in progress", which reads as an interrupted export)
  const auto none = run(common + "--max-luts 10 --export " + (dir.path() / "x5").string() + " --out " +
                        (dir.path() / "o5").string());
  CHECK(none.code == 3);
  CHECK(none.out.find("--export: nothing exported") != std::string::npos);
  const auto empty = nlohmann::json::parse(read(dir.path() / "x5" / "export.json"));
  CHECK(empty["status"] == "nothing exported");
  CHECK(empty["reason"].get<std::string>().find("no design met the spec") != std::string::npos);

  const auto r = run(common + "--export " + (out / "rtl").string() + " --out " + out.string());
  CAPTURE(r.out);
  REQUIRE(r.code == 0);
  CHECK(r.out.find("hardware: ") != std::string::npos);
  const auto rep = nlohmann::json::parse(read(out / "report.json"));
  const auto& x = rep["hardware_export"];
  REQUIRE(x.is_object());
  CHECK(x["lint"] == "verilator --lint-only -Wall: no warnings");
  CHECK(x["simulation"]["images"] == 40);
  CHECK(x["simulation"]["logit_mismatches"] == 0);
  CHECK(x["simulation"]["hardware_accuracy"] == x["simulation"]["integer_accuracy"]);
  // one group: the model's interval exactly; stages shared between groups: within the model's bound
  if (x["simulation"]["model_interval_is"] == "exact")
    CHECK(x["simulation"]["interval_cycles"] == x["simulation"]["model_interval_cycles"]);
  else
    CHECK(x["simulation"]["interval_cycles"] <= x["simulation"]["model_interval_cycles"]);
  CHECK(x["simulation"]["latency_cycles"] <= x["simulation"]["latency_bound_cycles"]);
  CHECK(fs::exists(out / "rtl" / "hwnas_top.v"));
  CHECK(fs::exists(out / "best_integer_network.json"));
  CHECK(read(out / "report.html").find("Best design in hardware") != std::string::npos);
}
