// rtl/verilog.hpp and rtl/simulate.hpp: the generated Verilog is lint-clean (verilator --lint-only -Wall), and
// Verilator runs it bit for bit equal to nn::integer_network, at the cost model's frame interval exactly, with a
// first-pixel-to-class latency within the model's figure plus the pipeline's registers (rtl::pipeline_cycles).

#include <doctest/doctest.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "hwnas/fpga/pipelined_pe.hpp"
#include "hwnas/rtl/simulate.hpp"
#include "rtl_test_util.hpp"

namespace {
namespace fs = std::filesystem;
using namespace hwnas;

fs::path scratch_dir(const std::string& name) {
  const fs::path d = fs::path(HWNAS_BINARY_DIR) / "rtl_tests" / name;
  fs::remove_all(d);
  return d;
}

struct checked {
  std::int64_t interval = 0, latency = 0;  ///< paced at the model's interval
  std::int64_t unpaced_interval = 0;
};

/// Exports, lints, simulates `frames` random images unpaced and paced at the model's interval, and checks the
/// logits, the classes, the interval and the latency. Returns the measured interval and latency.
/// One group (`exact`): the interval equals the model's. Several: the model's interval (pe_grouped_interval) is an
/// upper bound, which the measured interval must not exceed.
checked export_and_check(const nn::integer_network& net, const fpga::pe_mapping& map, const fs::path& dir,
                         const float* images, std::size_t frames, bool exact = true) {
  const auto& a = net.arch();
  const auto d = rtl::generate_verilog(net, map);
  rtl::write_design(d, dir);
  CHECK_MESSAGE(rtl::lint(d, dir).empty(), "verilator --lint-only -Wall warns:\n" << rtl::lint(d, dir));
  const auto sim = rtl::build_simulator(d, dir);
  rtl::write_stimulus(dir / "stimulus.bin", net, images, frames);
  const auto report = fpga::pipelined_pe<fpga::cyclone_iv_ep4ce115>().evaluate(a, map, {});
  const auto trace = net.trace(images, frames);
  checked out;
  for (const std::int64_t pace : {std::int64_t{0}, report.cycles}) {
    const auto res = rtl::run_simulator(sim, dir / "stimulus.bin", dir / "results.txt", pace);
    REQUIRE(res.size() == frames);
    std::size_t wrong = 0;
    for (std::size_t f = 0; f < frames; ++f) {
      REQUIRE(res[f].logits.size() == static_cast<std::size_t>(a.classes));
      std::size_t best = 0;
      for (int m = 0; m < a.classes; ++m) {
        const auto want = trace.logits[f * static_cast<std::size_t>(a.classes) + static_cast<std::size_t>(m)];
        wrong += res[f].logits[static_cast<std::size_t>(m)] != want;
        if (want > trace.logits[f * static_cast<std::size_t>(a.classes) + best]) best = static_cast<std::size_t>(m);
      }
      wrong += res[f].predicted != static_cast<int>(best);
    }
    CHECK(wrong == 0);
    // steady state: the interval between the last two frames' classes
    const std::int64_t interval = res[frames - 1].out - res[frames - 2].out;
    if (exact) CHECK(interval == report.cycles);
    else CHECK(interval <= report.cycles);
    if (pace == 0) out.unpaced_interval = interval;
    if (pace > 0) {
      out.interval = interval;
      out.latency = res[frames - 1].out - res[frames - 1].first_in;
      CHECK(out.latency <= report.latency_cycles + rtl::pipeline_cycles(d.plan));
    }
  }
  return out;
}

}  // namespace

TEST_CASE("random small networks and mappings simulate bit-exact at the model's interval") {
  // widths 1..8 bits, 1..3 conv layers (kernels 1..5, strides 1..2, pooling or not), random Tn, Tm
  // HWNAS_RTL_SEED, HWNAS_RTL_TRIALS run others and more (docs/fidelity.md: 30 networks at seed 4242)
  const auto env = [](const char* name, int otherwise) {
    const char* v = std::getenv(name);
    return v ? std::atoi(v) : otherwise;
  };
  hwnas::rng g(static_cast<std::uint64_t>(env("HWNAS_RTL_SEED", 20261130)));
  int bipolar = 0, left_shift = 0, unrolled = 0, tiled = 0;
  const int trials = env("HWNAS_RTL_TRIALS", 5);
  for (int trial = 0; trial < trials; ++trial) {
    auto a = test::random_rtl_arch(g);
    if (trial == 1)  // bipolar weights everywhere
      for (auto& l : a.layers) l.weight_format = qformat::weight(0, 0);
    if (trial == 1) a.classifier.weight_format = qformat::weight(0, 0);
    const auto net = test::random_integer_network(g, a);
    const auto map = test::random_mapping(g, a);
    const auto plan = rtl::make_plan(net, map);
    for (const auto& L : plan.layers) {
      bipolar += L.g.weight_bits == 1;
      left_shift += !L.g.is_classifier && L.shift <= 0;
      unrolled += L.read_ports > 1;
      tiled += L.tiles > 1;
    }
    const auto x = test::random_images(g, a, 5);
    CAPTURE(trial);
    export_and_check(net, map, scratch_dir("random" + std::to_string(trial)), x.data(), 5);
  }
  CHECK(bipolar > 0);
  CHECK(unrolled > 0);
  CHECK(tiled > 0);
  MESSAGE("layers with bipolar weights " << bipolar << ", left-shift requantizers " << left_shift
                                         << ", unrolled windows " << unrolled << ", several tiles " << tiled);
}

TEST_CASE("grouped mappings: stages shared between groups simulate bit-exact within the model's interval") {
  // 1..3 conv layers and the classifier in 2..4 groups of S stages (S random), random Tn, Tm per layer
  const auto env = [](const char* name, int otherwise) {
    const char* v = std::getenv(name);
    return v ? std::atoi(v) : otherwise;
  };
  hwnas::rng g(static_cast<std::uint64_t>(env("HWNAS_RTL_SEED", 20261201)));
  const int trials = env("HWNAS_RTL_TRIALS", 4);
  int shared = 0, mixed = 0;
  double worst_over = -1, worst_under = 1;  // (measured - model) / model
  for (int trial = 0; trial < trials; ++trial) {
    architecture a;
    do a = test::random_rtl_arch(g, 3);
    while (a.layers.empty());
    const auto net = test::random_integer_network(g, a);
    const auto map = test::random_grouped_mapping(g, a);
    const auto plan = rtl::make_plan(net, map);
    REQUIRE(plan.boundaries.size() >= 1);
    for (const auto& st : plan.stages) {
      shared += st.shared();
      for (std::size_t k = 1; k < st.served.size(); ++k) {
        const auto& x = plan.layers[static_cast<std::size_t>(st.served[k])].g;
        const auto& y = plan.layers[static_cast<std::size_t>(st.served[0])].g;
        mixed += x.act_bits != y.act_bits || x.weight_bits != y.weight_bits;
      }
    }
    const auto x = test::random_images(g, a, 5);
    CAPTURE(trial);
    const auto c = export_and_check(net, map, scratch_dir("grouped" + std::to_string(trial)), x.data(), 5, false);
    const auto model = fpga::pipelined_pe<fpga::cyclone_iv_ep4ce115>().evaluate(a, map, {}).cycles;
    const double r = static_cast<double>(c.unpaced_interval - model) / static_cast<double>(model);
    if (std::getenv("HWNAS_RTL_VERBOSE"))  // HWNAS_RTL_VERBOSE=1: every trial's figures
      MESSAGE("trial " << trial << ": measured interval " << c.unpaced_interval << " cycles, model " << model);
    worst_over = std::max(worst_over, r);
    worst_under = std::min(worst_under, r);
  }
  CHECK(shared > 0);
  MESSAGE("shared stages " << shared << " (layers of other widths on one: " << mixed << "); measured interval "
                           << 100 * worst_under << " .. " << 100 * worst_over << " % from the model's bound");
}

TEST_CASE("pipeline_cycles counts the registers a layer adds to its passes") {
  hwnas::rng g(7);
  const auto a = test::random_rtl_arch(g);
  const auto net = test::random_integer_network(g, a);
  const auto plan = rtl::make_plan(net, test::random_mapping(g, a));
  std::int64_t want = 0;
  for (const auto& L : plan.layers) want += L.passes * L.tiles + rtl::layer_registers;
  CHECK(rtl::pipeline_cycles(plan) == want);
}

TEST_CASE("the exporter refuses what it cannot build, naming the reason") {
  hwnas::rng g(3);
  const auto a = test::random_rtl_arch(g, 2);
  const auto net = test::random_integer_network(g, a);
  auto map = test::random_mapping(g, a);
  SUBCASE("groups that cannot share stages") {
    // groups of 1 and 2 layers: the second group's second layer would have no stage
    if (map.layers.size() >= 3) {
      for (std::size_t l = 1; l < map.layers.size(); ++l) map.layers[l].group = 1;
      CHECK_THROWS_WITH_AS(rtl::generate_verilog(net, map), doctest::Contains("groups"), hwnas::invalid_argument);
    }
  }
  SUBCASE("a mapping of another network") {
    map.layers.pop_back();
    CHECK_THROWS_AS(rtl::generate_verilog(net, map), hwnas::invalid_argument);
  }
  SUBCASE("Tn past the reduction") {
    map.layers[0].tn = 100000;
    CHECK_THROWS_WITH_AS(rtl::generate_verilog(net, map), doctest::Contains("Tn"), hwnas::invalid_argument);
  }
  SUBCASE("a top name that is not a Verilog identifier") {
    for (const std::string& bad : std::vector<std::string>{"", "1top", "_top", "top-level", "a b", std::string(65, 'a')})
      CHECK_THROWS_WITH_AS(rtl::generate_verilog(net, map, {.top = bad}), doctest::Contains("identifier"),
                           hwnas::invalid_argument);
    CHECK_NOTHROW(rtl::generate_verilog(net, map, {.top = "my_cnn_2"}));
    // keywords would not compile; '__' and a trailing '_' are renamed in Verilator's C++ model
    for (const char* bad : {"module", "wire", "logic", "input", "always_ff"})
      CHECK_THROWS_WITH_AS(rtl::generate_verilog(net, map, {.top = bad}), doctest::Contains("keyword"),
                           hwnas::invalid_argument);
    for (const char* bad : {"a__b", "top_"})
      CHECK_THROWS_WITH_AS(rtl::generate_verilog(net, map, {.top = bad}), doctest::Contains("Verilator"),
                           hwnas::invalid_argument);
  }
}

TEST_CASE("weight memory words hold every code at its lane, tap-major") {
  // Decode the conv layers' memory files back into (M, N, K, K) codes: the hardware's order is a permutation.
  hwnas::rng g(11);
  for (int trial = 0; trial < 20; ++trial) {
    const auto a = test::random_rtl_arch(g);
    const auto net = test::random_integer_network(g, a);
    const auto map = test::random_mapping(g, a);
    const auto d = rtl::generate_verilog(net, map);
    for (std::size_t l = 0; l + 1 < d.plan.layers.size(); ++l) {
      const auto& L = d.plan.layers[l];
      const std::string name = d.top + "_l" + std::to_string(l) + "_w.mem";
      const auto it = std::find_if(d.files.begin(), d.files.end(), [&](const auto& f) { return f.name == name; });
      REQUIRE(it != d.files.end());
      std::istringstream in(it->text);
      std::vector<std::string> words;
      for (std::string w; in >> w;) words.push_back(w);
      REQUIRE(words.size() == static_cast<std::size_t>(L.weight_words));
      const int wb = L.g.weight_bits, N = L.channels, K = L.g.kernel;
      const std::int64_t extent = std::int64_t{N} * K * K;
      auto bit = [&](const std::string& hex, std::int64_t b) {
        const std::size_t digit = hex.size() - 1 - static_cast<std::size_t>(b / 4);
        const int v = std::stoi(std::string(1, hex[digit]), nullptr, 16);
        return (v >> (b % 4)) & 1;
      };
      std::size_t wrong = 0;
      for (std::int64_t j = 0; j < L.tiles; ++j)
        for (std::int64_t p = 0; p < L.passes; ++p)
          for (int m = 0; m < L.tm; ++m)
            for (int i = 0; i < L.tn; ++i) {
              const std::int64_t mm = j * L.tm + m, r = p * L.tn + i;
              if (mm >= L.g.out_channels || r >= extent) continue;
              const auto& word = words[static_cast<std::size_t>(j * L.passes + p)];
              std::int64_t code = 0;
              for (int b = 0; b < wb; ++b) code |= std::int64_t{bit(word, (std::int64_t{m} * L.tn + i) * wb + b)} << b;
              if (wb == 1) code = code ? 1 : -1;
              else if (code >> (wb - 1)) code -= std::int64_t{1} << wb;
              const std::int64_t tap = r / N, c = r % N;
              wrong += code != net.layers()[l].weights[static_cast<std::size_t>(((mm * N + c) * K + tap / K) * K + tap % K)];
            }
      CHECK(wrong == 0);
    }
  }
}
