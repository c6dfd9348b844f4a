// hwnas-export: writes the Verilog of a trained integer network under a pipelined_pe mapping — the accelerator the
// cost model prices — with its weight memory files, lints it with Verilator, and optionally simulates it on
// Fashion-MNIST test images bit for bit against the integer network (docs/hardware.md).
//
//   hwnas-train --bits 4 --save-integer cnn4.json
//   hwnas-export --network cnn4.json --min-fps 3000 --out cnn4_rtl                # least-LUT mapping
//   hwnas-export --network cnn4.json --mapping report.json --out cnn4_rtl --simulate 1000
//
// The mapping is a pipelined_pe report (hwnas-estimate --json) or {"layers": [{"Tn": 8, "Tm": 4}, ...]}; without
// one, the least-LUT mapping meeting the spec options is used (its groups may share PE arrays). The output
// directory must be new, empty, or an earlier export: nothing else is ever overwritten.
//
// Exit codes: 0 written (and, with --simulate, equal to the integer network), 3 no mapping meets the spec
// (nothing written) or the given --mapping breaks the spec or the device (written anyway), 2 bad input (options,
// files, directory), 1 a bug (lint warnings, a simulation that differs: please report) or anything unexpected.

#include <CLI/CLI.hpp>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "../common/cli_main.hpp"
#include "../common/spec_options.hpp"
#include "hwnas/core/atomic_file.hpp"
#include "hwnas/core/error.hpp"
#include "hwnas/fpga/estimate.hpp"
#include "hwnas/fpga/pipelined_pe.hpp"
#include "hwnas/io/architecture_json.hpp"
#include "hwnas/io/fashion_mnist.hpp"
#include "hwnas/nn/integer_network_file.hpp"
#include "hwnas/rtl/export.hpp"

namespace {

struct options {
  std::string network_file, mapping_file, out_dir, data_dir, top = "hwnas_top";
  std::string device = "cyclone-iv-e115";
  double clock_mhz = 100.0;
  hwnas::examples::spec_options spec;
  std::size_t simulate = 0;
};

/// Reads a mapping file: a pipelined_pe report (layers[i].parallelism.{Tn, Tm, group}) or {"layers": [{"Tn", "Tm"
/// [, "group"]}]}.
hwnas::fpga::pe_mapping load_mapping(const std::string& path, const std::string& device, double clock_mhz) {
  using hwnas::invalid_argument;
  const auto j = hwnas::io::detail::parse_json_strict(
      hwnas::io::detail::read_user_file(path, std::size_t{16} << 20, "a mapping file"), path);
  if (j.is_object() && j.contains("format") && j["format"].is_string() && j["format"] != "")
    throw invalid_argument(path + ": this is a " + j["format"].get<std::string>() + " file, not a mapping; " +
                           (j["format"] == "hwnas-integer-network" ? "give it as --network, and as --mapping " : "give ") +
                           "an hwnas-estimate --json report or {\"layers\": [{\"Tn\": .., \"Tm\": ..}, ...]}");
  if (!j.is_object() || !j.contains("layers") || !j["layers"].is_array())
    throw invalid_argument(path + ": a mapping file has \"layers\": an array with Tn and Tm per layer (or is the "
                           "JSON report of hwnas-estimate --json)");
  if (j.contains("model") && j["model"] != "pipelined_pe")
    throw invalid_argument(path + ": the report is of the " + j["model"].dump() +
                           " model; the exporter builds pipelined_pe designs (hwnas-estimate --model pipelined_pe)");
  const bool is_report = j.contains("model");
  if (!is_report) hwnas::io::detail::only_keys(j, "the mapping", {"layers"}, path + ": ");
  // a report was priced on one device at one clock: the export prices it the same way, or says how to
  if (is_report) {
    const auto made_on = j.value("device", nlohmann::json(device)), made_at = j.value("clock_mhz", nlohmann::json(clock_mhz));
    if (made_on != device || !made_at.is_number() || made_at.get<double>() != clock_mhz)
      throw invalid_argument(path + ": the report was made for " + made_on.dump() + " at " + made_at.dump() +
                             " MHz; pass --device " + (made_on.is_string() ? made_on.get<std::string>() : made_on.dump()) + " --clock-mhz " + made_at.dump() +
                             " to export it as it was priced");
  }
  hwnas::fpga::pe_mapping m;
  std::size_t with_group = 0;  // layers that give a "group"
  for (std::size_t l = 0; l < j["layers"].size(); ++l) {
    const auto& x = j["layers"][l];
    const bool report = x.is_object() && x.contains("parallelism");
    const auto& f = report ? x["parallelism"] : x;
    if (f.is_object())
      for (const auto& [k, v] : f.items())
        if (k != "Tn" && k != "Tm" && k != "group" && !(report && k == "stage"))
          throw invalid_argument(path + ": layers[" + std::to_string(l) + "] has an unknown key \"" + k +
                                 "\" (known: Tn, Tm, group)");
    auto get = [&](const char* k, bool required, std::int64_t lo) -> int {  // Tn, Tm from 1; group from 0
      if (!f.is_object() || !f.contains(k)) {
        if (required)
          throw invalid_argument(path + ": layers[" + std::to_string(l) + "] has no \"" + k + "\"");
        return 0;
      }
      const auto& v = f[k];
      if (!v.is_number_integer() || v.get<std::int64_t>() < lo || v.get<std::int64_t>() > 1000000000)
        throw invalid_argument(path + ": layers[" + std::to_string(l) + "]." + k + " = " + v.dump() +
                               " is not an integer in " + std::to_string(lo) + "..10^9 (written without a point)");
      return static_cast<int>(v.get<std::int64_t>());
    };
    m.layers.push_back({get("Tn", true, 1), get("Tm", true, 1), get("group", false, 0)});
    with_group += f.is_object() && f.contains("group");
  }
  // "group" is optional (one group), but on every layer or on none: a layer without one among layers with one is
  // more likely a slip than group 0
  if (with_group != 0 && with_group != j["layers"].size())
    throw invalid_argument(path + ": " + std::to_string(with_group) + " of the " + std::to_string(j["layers"].size()) +
                           " layers have a \"group\": give it on every layer (numbered 0, 1, ... in order) or on none "
                           "(one group)");
  if (is_report && j.contains("reconfiguration") && !j["reconfiguration"].is_null())
    throw invalid_argument(path + ": the report is of reconfigured groups (hwnas-estimate --reconfigure-groups), "
                           "one bitstream per group; the exporter builds one static bitstream: price the mapping "
                           "without --reconfigure-groups");
  return m;
}

int run(const options& o) {
  using hwnas::examples::percent;
  using namespace hwnas;
  namespace fs = std::filesystem;
  // 1. Inputs first, outputs after: nothing is written when an input is bad.
  const fs::path out(o.out_dir);
  rtl::check_export_dir(out, "--out");
  const auto net = nn::load_integer_network(o.network_file);
  const auto& arch = net.arch();
  const spec s = o.spec.spec();
  validate(s);
  std::optional<io::split_data> data;
  if (o.simulate > 0) {
    data = io::fashion_mnist(o.data_dir, 0, 0);
    rtl::check_simulation_data(net, data->test, o.simulate);
  }
  // 2. The mapping: given, or the least-LUT mapping meeting the spec; priced on the chosen device.
  fpga::pe_mapping mapping;
  fpga::hw_report report;
  fpga::device_info device_info;
  const bool mapped = fpga::resolve_device(o.device, [&](auto d) {
    using device = typename decltype(d)::type;
    device_info = fpga::info_of<device>();
    const fpga::pipelined_pe<device> model(o.clock_mhz);
    if (!o.mapping_file.empty()) {
      mapping = load_mapping(o.mapping_file, o.device, o.clock_mhz);
    } else {
      if (o.clock_mhz > device::fmax_mhz) {  // no mapping can run there: say so, not "no mapping meets the spec"
        std::cerr << "hwnas-export: " << o.clock_mhz << " MHz is above the clock ceiling of " << o.device << " ("
                  << device::fmax_mhz << " MHz, docs/cost-models.md#devices); pass --clock-mhz " << device::fmax_mhz
                  << " or lower; nothing was written\n";
        return false;
      }
      const auto m = model.best_mapping(arch, s);
      if (!m) {
        const auto least = model.best_mapping(arch, {});
        std::cerr << "hwnas-export: no mapping of this network meets "
                  << (least ? "the spec" : "the device's own limits (LUTs, block RAM, flip-flops)") << " on "
                  << o.device << " at " << o.clock_mhz << " MHz; nothing was written\n";
        if (least) {  // what the least-LUT mapping within the device misses: the constraint to relax
          std::cerr << "  the least-LUT mapping within the device breaks:\n";
          for (const auto& v : model.evaluate(arch, *least, s).violations) std::cerr << "    " << v.message << "\n";
        }
        return false;
      }
      mapping = *m;
    }
    report = model.evaluate(arch, mapping, s);
    return true;
  });
  if (!mapped) return 3;
  // 3. The design.
  const auto design = rtl::generate_verilog(net, mapping, {.top = o.top});
  report = rtl::priced_as_built(design, device_info, report, s);  // what the trained network fixes, judged again
  rtl::prepare_export_dir(out, o.top);  // from here on the directory is an export: a failure can be repeated into it
  rtl::write_design(design, out);
  std::cout << "hwnas-export: " << design.files.size() << " files in " << out.string() << " (top module " << design.top
            << ")\n";
  std::cout << report;
  // a layer on a shared stage runs on the stage's array (the largest Tn, Tm its layers ask for, clipped to the
  // layer's extents): say where that is more than the mapping gave it (the model prices it so too)
  for (std::size_t l = 0; l < design.plan.layers.size(); ++l) {
    const auto& L = design.plan.layers[l];
    const auto& st = design.plan.stages[static_cast<std::size_t>(L.stage)];
    if (st.shared() && (L.tn > mapping.layers[l].tn || L.tm > mapping.layers[l].tm))
      std::cout << "note: " << report.layers[l].name << " runs on shared stage " << L.stage << " (a " << st.tn << " x "
                << st.tm << " array): Tn " << mapping.layers[l].tn << " -> " << L.tn << ", Tm " << mapping.layers[l].tm
                << " -> " << L.tm << "\n";
  }
  nlohmann::json manifest = {{"format", "hwnas-export"},
                             {"version", 1},
                             {"top", design.top},
                             {"network", fs::absolute(o.network_file).string()},
                             {"files", nlohmann::json::array()},
                             {"plan", rtl::to_json(design.plan)},
                             {"model", fpga::to_json(report)}};
  for (const auto& f : design.files) manifest["files"].push_back(f.name);
  const std::string warnings = rtl::lint(design, out);
  manifest["lint"] = warnings.empty() ? "verilator --lint-only -Wall: no warnings" : warnings;
  std::cout << (warnings.empty() ? "lint: verilator --lint-only -Wall, no warnings\n" : "lint warnings:\n" + warnings);
  int code = 0;
  if (!warnings.empty()) {
    std::cerr << "hwnas-export: Verilator finds fault with the generated Verilog (a bug: please report it with "
              << out.string() << ")\n";
    code = 1;
  }
  if (o.simulate > 0) {
    std::cout << "simulating " << std::min(o.simulate, data->test.size()) << " test images in Verilator...\n"
              << std::flush;
    const auto sum = rtl::simulate_on(design, out, net, data->test, o.simulate, report);
    manifest["simulation"] = rtl::to_json(sum);
    std::cout << "simulation: " << sum.images << " images, logits equal to the integer network's in "
              << sum.images - sum.logit_mismatches << "; accuracy in hardware " << percent(sum.hardware_accuracy)
              << " (integer network " << percent(sum.integer_accuracy) << ")\n"
              << "  interval " << sum.interval << " cycles (model " << (sum.interval_exact ? "" : "bound ")
              << sum.model_interval << "), latency "
              << sum.latency << " cycles (model " << sum.model_latency << ", bound with the pipeline's registers "
              << sum.latency_bound << ")\n";
    if (!sum.as_expected()) {
      std::cerr << "hwnas-export: the simulation differs from the integer network or the model (a bug: please "
                   "report it with "
                << out.string() << ")\n";
      code = 1;
    }
  }
  write_file_atomically(out / rtl::export_manifest, manifest.dump(2) + "\n");
  if (code == 0 && !report.feasible) {
    std::cerr << "hwnas-export: written, but this mapping does not meet the spec or the device (see INFEASIBLE above)\n";
    for (const auto& v : report.violations)
      if (v.constraint == "device_fmax")
        std::cerr << "hwnas-export: " << v.message << "; export again with a lower --clock-mhz\n";
    return 3;
  }
  return code;
}

}  // namespace

int main(int argc, char** argv) {
  options o;
  CLI::App app{"Writes the Verilog of a trained integer network (hwnas-train --save-integer) under a pipelined_pe "
               "mapping, lints it, and optionally simulates it bit for bit in Verilator. Exit codes: 0 done, 3 no "
               "mapping meets the spec (or --mapping breaks it), 2 bad input, 1 a bug.",
               "hwnas-export"};
  app.add_option("--network", o.network_file, "integer network file (hwnas-train --save-integer)")->required();
  app.add_option("--mapping", o.mapping_file,
                 "pipelined_pe mapping: hwnas-estimate --json report, or {\"layers\": [{\"Tn\": .., \"Tm\": .., "
                 "\"group\": ..}]} (group optional: 0, 1, ... in layer order; groups share PE arrays, "
                 "docs/hardware.md#groups) [default: the least-LUT mapping meeting the spec]");
  app.add_option("--out", o.out_dir, "output directory: new, empty, or an earlier export")->required();
  app.add_option("--top", o.top, "name of the top module")->capture_default_str();
  app.add_option("--device", o.device,
                 "device the mapping is priced on: " + hwnas::names_of(hwnas::fpga::devices))
      ->check(CLI::IsMember(hwnas::name_list(hwnas::fpga::devices)))
      ->capture_default_str();
  app.add_option("--clock-mhz", o.clock_mhz, "clock frequency in MHz (1..2000)")->capture_default_str();
  hwnas::examples::add_spec_options(app, o.spec, {.dsps = false, .luts_default = "", .fps_default = ""});
  app.add_option("--simulate", o.simulate,
                 "simulate this many Fashion-MNIST test images in Verilator and compare with the integer network")
      ->check(CLI::Range(std::size_t{2}, std::size_t{10000}));
  app.add_option("--data", o.data_dir, "Fashion-MNIST directory (default: $HWNAS_DATA, else the Debian package's)");
  return hwnas::examples::cli_main("hwnas-export", app, argc, argv, [&] { return run(o); });
}
