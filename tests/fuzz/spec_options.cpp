// Fuzzes the spec and its command-line options as the programs read them (examples/common/spec_options.hpp, with
// cli_main's decimal-integer rule), through to the exact mapping search. The input is a command line, one argument
// per line: "--max-luts\n300\n--min-fps\n1e308\n--model\ndataflow". Every input either is refused (a CLI11 parse error,
// hwnas::invalid_argument from the spec's validation, the clock, or an unknown model or device name) or gives
//   - a spec that survives a round trip: written back as options (17 digits) and parsed again, the same spec;
//   - a report from fpga::estimate on a small quantized CNN that is consistent with the spec: a feasible report meets
//     every limit the spec sets, an infeasible one says why.
// Anything else (another exception, a crash, a sanitizer report, a hang) is a finding.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "../../examples/common/cli_main.hpp"
#include "../../examples/common/spec_options.hpp"
#include "hwnas/fpga/estimate.hpp"
#include "hwnas/io/architecture_json.hpp"

namespace {

struct command_line {
  hwnas::examples::spec_options spec;
  std::string model = "pipelined_pe", device = "cyclone-iv-e115";
  double clock_mhz = 100;
  std::int64_t reconfigure_batch = 0;
};

/// Parses `args` with the options hwnas-estimate declares; throws CLI::ParseError.
command_line parse(std::vector<std::string> args) {
  command_line c;
  CLI::App app{"fuzz", "fuzz"};
  hwnas::examples::add_spec_options(app, c.spec);
  app.add_option("--model", c.model);
  app.add_option("--device", c.device);
  app.add_option("--clock-mhz", c.clock_mhz);
  app.add_option("--reconfigure-groups", c.reconfigure_batch)
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{1000000000000}));
  hwnas::examples::decimal_integers_only(app);
  std::reverse(args.begin(), args.end());  // CLI11 takes a vector of arguments last first
  app.parse(args);
  return c;
}

std::string seventeen_digits(double x) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", x);
  return buf;
}

/// The spec written back as options.
std::vector<std::string> as_options(const hwnas::spec& s) {
  std::vector<std::string> a;
  if (s.max_luts) a.insert(a.end(), {"--max-luts", std::to_string(*s.max_luts)});
  if (s.max_dsps) a.insert(a.end(), {"--max-dsps", std::to_string(*s.max_dsps)});
  if (s.max_brams) a.insert(a.end(), {"--max-brams", std::to_string(*s.max_brams)});
  if (s.min_fps) a.insert(a.end(), {"--min-fps", seventeen_digits(*s.min_fps)});
  if (s.max_latency_ms) a.insert(a.end(), {"--max-latency-ms", seventeen_digits(*s.max_latency_ms)});
  return a;
}

const hwnas::architecture& small_cnn() {
  static const hwnas::architecture a = hwnas::io::parse_architecture(R"({
    "input": {"channels": 1, "height": 12, "width": 12, "format": "u0.8"},
    "classes": 10,
    "layers": [{"type": "conv", "filters": 4, "kernel": 3, "stride": 1, "pool": 2,
                "weights": "s0.3", "activations": "u1.3"}],
    "classifier": {"weights": "s0.3"}})");
  return a;
}

/// A feasible report meets every limit the spec sets (rates within the one goal tolerance of fpga/spec.hpp).
bool meets(const hwnas::fpga::hw_report& r, const hwnas::spec& s) {
  const double tol = 1e-9;
  return (!s.max_luts || r.luts <= *s.max_luts) && (!s.max_dsps || r.dsps <= *s.max_dsps) &&
         (!s.max_brams || r.brams <= static_cast<double>(*s.max_brams)) &&
         (!s.min_fps || r.fps >= *s.min_fps * (1 - tol)) &&
         (!s.max_latency_ms || r.latency_ms <= *s.max_latency_ms * (1 + tol));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > 4096) return 0;
  std::vector<std::string> args(1);
  for (std::size_t i = 0; i < size; ++i) {
    if (data[i] == '\n') {
      if (args.size() == 32) return 0;
      args.emplace_back();
    } else {
      args.back() += static_cast<char>(data[i]);
    }
  }
  command_line c;
  try {
    c = parse(args);
  } catch (const CLI::ParseError&) {
    return 0;
  }
  const hwnas::spec s = c.spec.spec();
  try {
    hwnas::fpga::validate(s);
  } catch (const hwnas::invalid_argument&) {
    return 0;
  }
  // round trip: what was accepted reads back the same
  try {
    if (parse(as_options(s)).spec.spec() != s) std::abort();
  } catch (const CLI::ParseError&) {
    std::abort();
  }
  try {
    const auto r = hwnas::fpga::estimate(c.model, c.device, c.clock_mhz, small_cnn(), s, c.reconfigure_batch);
    if (r.feasible ? !meets(r, s) : r.violations.empty()) std::abort();
    if (r.feasible && !(r.cycles > 0 && std::isfinite(r.fps) && r.fps > 0)) std::abort();
  } catch (const hwnas::invalid_argument&) {
  }
  return 0;
}
