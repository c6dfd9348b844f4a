// hwnas-estimate: maps a quantized CNN (architecture JSON) onto an FPGA with one of hwnas's cost models and prints
// the per-layer hardware table, or the report as JSON. The mapping is the least-LUT one that meets the spec, found
// by an exact search; when none exists it says which constraint fails and by how much.
//
//   hwnas-estimate --arch examples/architectures/reference_cnn_4bit.json
//   hwnas-estimate --arch net.json --model dataflow --device xc7z020 --max-luts 20000 --min-fps 5000
//   hwnas-estimate --arch net.json --max-luts 30000 --min-fps 1000 --json
//   hwnas-estimate --arch net.json --max-luts 1000 --min-fps 1000 --reconfigure-groups 100000   (NAQS's accounting)
//
// Exit codes: 0 the mapping meets the spec, 3 no mapping meets it (the reason is printed), 2 bad input (options,
// architecture file, spec), 1 anything else.

#include <CLI/CLI.hpp>
#include <cstdint>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "hwnas/core/error.hpp"
#include "../common/cli_main.hpp"
#include "../common/spec_options.hpp"
#include "hwnas/fpga/estimate.hpp"
#include "hwnas/io/architecture_json.hpp"

namespace {

struct options {
  std::string arch_file;
  std::string model = "pipelined_pe";
  std::string device = "cyclone-iv-e115";
  double clock_mhz = 100.0;
  hwnas::examples::spec_options spec;
  std::int64_t reconfigure_batch = 0;
  bool json = false;
};

int run(const options& o) {
  using namespace hwnas;
  // 1. The architecture, with its fixed-point formats (every layer needs them: a datapath has a width).
  const architecture arch = io::load_architecture(o.arch_file);
  // 2. The spec: every limit optional; the device's capacity applies on top.
  const spec s = o.spec.spec();
  // 3. The exact mapping search of the chosen model on the chosen device.
  const fpga::hw_report report = fpga::estimate(o.model, o.device, o.clock_mhz, arch, s, o.reconfigure_batch);
  // 4. The report: a table for people, JSON for programs.
  if (o.json)
    std::cout << fpga::to_json(report).dump(2) << "\n";
  else
    std::cout << report;
  if (!report.feasible) {
    std::cerr << "hwnas-estimate: infeasible:";
    for (const auto& v : report.violations) std::cerr << " " << v.message << ";";
    std::cerr << "\n";
    return 3;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  options o;
  CLI::App app{
      "Maps a quantized CNN (architecture JSON) onto an FPGA with a hwnas cost model: the least-LUT "
      "mapping meeting the spec, or why none exists. Exit codes: 0 feasible, 3 infeasible, 2 bad input.",
      "hwnas-estimate"};
  app.add_option("--arch", o.arch_file, "architecture JSON with fixed-point formats (docs/architecture-json.md)")
      ->required();
  app.add_option("--model", o.model, "cost model: pipelined_pe (Lu'19), tiled_engine (FNAS), dataflow (FINN-style)")
      ->check(CLI::IsMember({"pipelined_pe", "tiled_engine", "dataflow"}))
      ->capture_default_str();
  app.add_option("--device", o.device, "device: " + hwnas::names_of(hwnas::fpga::devices))
      ->check(CLI::IsMember(hwnas::name_list(hwnas::fpga::devices)))
      ->capture_default_str();
  app.add_option("--clock-mhz", o.clock_mhz, "clock frequency in MHz (1..2000)")->capture_default_str();
  hwnas::examples::add_spec_options(app, o.spec);
  app.add_option("--reconfigure-groups", o.reconfigure_batch,
                 "pipelined_pe only: NAQS's accounting, each group its own bitstream loaded in turn for a batch of "
                 "this many frames (the configuration time is charged; docs/cost-models.md#reconfigured-groups) "
                 "[default: one static bitstream]")
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{1000000000000}));
  app.add_flag("--json", o.json, "print the report as JSON instead of a table");
  return hwnas::examples::cli_main("hwnas-estimate", app, argc, argv, [&] { return run(o); });
}
