// hwnas-codesign: the main job. Searches a CNN's architecture, its per-layer fixed-point formats and its FPGA
// mapping together on Fashion-MNIST, against a hardware spec; retrains the most accurate designs that fit in full,
// tests them with integer-only inference, and writes a report a program (report.json) and a person (report.html,
// pareto.svg, trials.csv) can read. Every trial is journaled: the same command with --resume continues a run that
// was stopped (Ctrl-C, SIGKILL, a power cut) with nothing lost and nothing trained twice.
//
//   hwnas-codesign                                          # the default spec, space, device and budget
//   hwnas-codesign --max-luts 30000 --min-fps 1000 --trials 200 --out runs/big
//   hwnas-codesign --model dataflow --device xc7z020 --strategy nsga2
//   hwnas-codesign --max-luts 30000 --min-fps 1000 --trials 200 --out runs/big --resume   # continue it
//   hwnas-codesign --export runs/codesign/rtl                # also the best design as Verilog, simulated (docs/hardware.md)
//
// The search space is pipeline_defaults (Lu et al. 2019): 2-4 conv layers, filters {8, 16, 32, 64}, kernels
// {1, 3, 5, 7}, strides {1, 2}, pooling {none, 2x2}; per layer, weights s(1+I+F) and activations uI.F with integer
// bits I in 0..3 and fraction bits F in 0..6. Compose your own in C++: docs/tutorial.md.
//
// Exit codes: 0 a design met the spec, 3 none did, 2 bad input, 1 anything else; 130 (143) when Ctrl-C (SIGTERM)
// stopped it: every finished trial is journaled, and the message says how to continue.

#include <signal.h>
#include <unistd.h>

#include <climits>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>

#include "../common/cli_main.hpp"
#include "../common/spec_options.hpp"
#include "hwnas/fpga/registry.hpp"
#include "hwnas/io/fashion_mnist.hpp"
#include "hwnas/nn/integer_network_file.hpp"
#include "hwnas/rtl/export.hpp"
#include "hwnas/pipeline.hpp"
#include "hwnas/report/text.hpp"
#include "hwnas/report/write.hpp"
#include "hwnas/search/progress.hpp"
#include "hwnas/search/registry.hpp"
#ifdef HWNAS_HAVE_MPI
#include "hwnas/search/mpi_evaluator.hpp"  // --mpi
#endif

namespace {

namespace fs = std::filesystem;

/// The default spec: it binds (docs/codesign.md shows how many candidates it rejects before training, and that
/// the most accurate design of an unconstrained run breaks it).
constexpr std::int64_t default_max_luts = 5000;
constexpr double default_min_fps = 3000;

struct options {
  std::string data_dir, out_dir = "runs/codesign", device = "cyclone-iv-e115", model = "pipelined_pe",
                        strategy = "evolution", export_dir;
  std::size_t export_images = 1000;
  bool export_synthesis = true;
  double clock_mhz = 100;
  std::size_t trials = 400, train_subset = 10000, top_k = 3, threads = 0, validation = 5000, in_flight = 2,
              trial_threads = 0;
  double seconds = 0;
  int epochs = 2, retrain_epochs = 25;
  std::uint64_t seed = 1;
  bool resume = false, unconstrained = false, quiet = false, mpi = false;
  int rank = 0, ranks = 1;  ///< under --mpi: this process's MPI rank, and how many there are
  hwnas::examples::spec_options limits;

  hwnas::spec spec() const {
    return unconstrained ? limits.spec() : limits.spec({.max_luts = default_max_luts, .min_fps = default_min_fps});
  }
};

/// The mapping a report describes (pipelined_pe: Tn, Tm and group per layer).
hwnas::fpga::pe_mapping mapping_of(const hwnas::fpga::hw_report& hw) {
  hwnas::fpga::pe_mapping m;
  for (const auto& l : hw.layers) {
    hwnas::fpga::pe_layer_mapping x;
    for (const auto& [k, v] : l.parallelism) {
      if (k == "Tn") x.tn = static_cast<int>(v);
      if (k == "Tm") x.tm = static_cast<int>(v);
      if (k == "group") x.group = static_cast<int>(v);
    }
    m.layers.push_back(x);
  }
  return m;
}

/// --export: the best design as Verilog in o.export_dir, linted, simulated on test images, and synthesized with
/// tools/verify-design when it and yosys are at hand. Returns the manifest for the report.
nlohmann::json export_best(const hwnas::report::retrained_design& best, const options& o,
                           const hwnas::io::split_data& data) {
  namespace rtl = hwnas::rtl;
  const auto net = hwnas::nn::integer_network_from_json(best.integer_network);
  nlohmann::json x = {{"directory", fs::absolute(o.export_dir).string()}};
  const auto mapping = mapping_of(best.hw);  // its groups, if several, share PE arrays (rtl::stage_module)
  const auto design = rtl::generate_verilog(net, mapping);
  // the search's report, with the weight ROMs kept in logic priced from the trained contents
  const hwnas::fpga::hw_report hw = hwnas::fpga::resolve_device(best.hw.device, [&](auto d) {
    return rtl::priced_as_built(design, hwnas::fpga::info_of<typename decltype(d)::type>(), best.hw, o.spec());
  });
  rtl::write_design(design, o.export_dir);
  nlohmann::json manifest = {{"format", "hwnas-export"}, {"version", 1}, {"top", design.top},
                             {"network", fs::absolute(fs::path(o.out_dir) / "best_integer_network.json").string()},
                             {"files", nlohmann::json::array()},
                             {"plan", rtl::to_json(design.plan)}, {"model", hwnas::fpga::to_json(hw)}};
  for (const auto& f : design.files) manifest["files"].push_back(f.name);
  const auto warnings = rtl::lint(design, o.export_dir);
  manifest["lint"] = warnings.empty() ? "verilator --lint-only -Wall: no warnings" : warnings;
  std::fprintf(stderr, "hwnas-codesign: exported the best design to %s; simulating %zu test images...\n",
               o.export_dir.c_str(), std::min(o.export_images, data.test.size()));
  const auto sum = rtl::simulate_on(design, o.export_dir, net, data.test, o.export_images, hw);
  manifest["simulation"] = rtl::to_json(sum);
  hwnas::write_file_atomically(fs::path(o.export_dir) / rtl::export_manifest, manifest.dump(2) + "\n");
  x["top"] = design.top;
  x["lint"] = manifest["lint"];
  x["simulation"] = manifest["simulation"];
  // synthesis beside the model, when the tool and yosys are here (a source tree with scripts/setup run)
  const fs::path tool = fs::path(HWNAS_SOURCE_DIR) / "tools" / "verify-design";
  if (o.export_synthesis && fs::exists(tool) && std::system("command -v yosys > /dev/null 2>&1") == 0) {
    std::fprintf(stderr, "hwnas-codesign: synthesizing it with yosys (synth_ice40)...\n");
    using hwnas::rtl::detail::shell_quote;
    const auto log = fs::absolute(o.export_dir) / "verify.log";
    const std::string cmd = shell_quote(tool.string()) + " " + shell_quote(fs::absolute(o.export_dir).string()) +
                            " --flow ice40 > " + shell_quote(log.string()) + " 2>&1";
    if (std::system(cmd.c_str()) == 0) {
      std::ifstream in(fs::path(o.export_dir) / "verify.json");
      x["synthesis"] = nlohmann::json::parse(in, nullptr, false);
      if (x["synthesis"].is_discarded()) x.erase("synthesis");
    }
    if (!x.contains("synthesis")) {
      x["synthesis_error"] = "tools/verify-design failed; see " + log.string();
      std::fprintf(stderr, "hwnas-codesign: the synthesis failed; see %s\n", log.string().c_str());
    }
  }
  return x;
}

/// Prints the export's outcome; false when the hardware differs from the integer network (a bug).
bool print_export(const nlohmann::json& x) {
  if (x.contains("simulation")) {
    const auto& m = x["simulation"];
    const auto images = m["images"].get<std::int64_t>(), wrong = m["logit_mismatches"].get<std::int64_t>();
    std::printf("\nhardware: %s (Verilog); %lld test images simulated, logits equal in %lld, accuracy in hardware "
                "%.2f%%; interval %lld cycles (model %s%lld)\n",
                x["directory"].get<std::string>().c_str(), static_cast<long long>(images),
                static_cast<long long>(images - wrong), 100 * m["hardware_accuracy"].get<double>(),
                static_cast<long long>(m["interval_cycles"].get<std::int64_t>()),
                m.value("model_interval_is", std::string("exact")) == "exact" ? "" : "bound ",
                static_cast<long long>(m["model_interval_cycles"].get<std::int64_t>()));
    if (x.contains("note")) std::printf("  %s\n", x["note"].get<std::string>().c_str());
    if (x.contains("synthesis") && x["synthesis"].contains("flows") && x["synthesis"]["flows"].contains("ice40")) {
      const auto& f = x["synthesis"]["flows"]["ice40"];
      const auto& m = x["synthesis"]["model"];
      std::printf("  synth_ice40: %s LUTs (model %s), %s flip-flops (model %s); docs/fidelity.md\n",
                  f["luts"].dump().c_str(), m["luts"].dump().c_str(), f["ffs"].dump().c_str(), m["ffs"].dump().c_str());
    } else if (x.contains("synthesis_error")) {
      std::printf("  synthesis: %s\n", x["synthesis_error"].get<std::string>().c_str());
    }
    return wrong == 0;
  }
  if (x.contains("note")) std::printf("\nhardware: %s\n", x["note"].get<std::string>().c_str());
  return true;
}

template <class Pipeline>
int report_run(const Pipeline& p, const hwnas::report::codesign_report& rep, const options& o,
               const hwnas::io::split_data& data);

template <class Pipeline>
int run_pipeline(Pipeline p, const options& o, const hwnas::io::split_data& data) {
  namespace hs = hwnas::search;
  const hwnas::spec s = o.spec();
  const fs::path out = o.out_dir;
  p.settings.seed = o.seed;
  p.settings.proxy.train.epochs = o.epochs;
  p.settings.proxy.train_images = o.train_subset;
  p.settings.top_k = o.top_k;
  p.settings.retrain.epochs = o.retrain_epochs;
  p.settings.threads = o.threads;
  p.settings.in_flight = o.in_flight;
  p.settings.concurrency.threads_per_trial = o.trial_threads;
  p.settings.dataset = "fashion-mnist";
  p.settings.journal = (out / "journal.jsonl").string();

  if (o.rank == 0)
  std::fprintf(stderr,
               "hwnas-codesign: %.3g candidates (%zu genes), %zu trials with %s; %s on %s at %g MHz; spec: %s; proxy: "
               "%d epochs on %zu images; then the top %zu retrained for %d epochs\n",
               Pipeline::points(), Pipeline::layout.size(), o.trials, std::string(Pipeline::strategy_type::name).c_str(),
               std::string(Pipeline::cost_model_type::name).c_str(), o.device.c_str(), o.clock_mhz,
               hwnas::report::spec_line(s).c_str(), o.epochs, std::min(o.train_subset ? o.train_subset : data.train.size(), data.train.size()),
               o.top_k, o.retrain_epochs);
  hs::progress_bar progress;
  const hs::budget budget{.trials = o.trials, .seconds = o.seconds};
#ifdef HWNAS_HAVE_MPI
  if (o.mpi) {
    if (o.rank == 0)
      std::fprintf(stderr, "hwnas-codesign: MPI: %d ranks, rank 0 runs the search, %d train candidates\n", o.ranks,
                   o.ranks - 1);
    const hs::mpi_farm farm;
    const auto rep = p.run(data, s, budget, farm, progress);
    if (!farm.coordinator()) return 0;  // a worker: the coordinator reports
    return report_run(p, rep, o, data);
  }
#endif
  return report_run(p, p.run(data, s, budget, progress), o, data);
}

/// Writes and prints what a run found; the exit code.
template <class Pipeline>
int report_run(const Pipeline& p, const hwnas::report::codesign_report& rep, const options& o,
               const hwnas::io::split_data& data) {
  namespace hs = hwnas::search;
  const hwnas::spec s = o.spec();
  const fs::path out = o.out_dir;
  hwnas::report::write_outputs(out, rep);

  if (rep.journal_torn_line_dropped)
    std::printf("\nthe journal's last line was incomplete (a run ended while writing it) and was dropped: that trial "
                "was run again\n");
  const auto c = hs::count(rep.search);
  std::printf("\n%zu trials in %.0f s: %zu trained, %zu rejected before training (%zu infeasible, %zu ill-formed), "
              "%zu failed, %zu repeats%s\n",
              c.trials, rep.search.seconds, c.trained, c.pruned(), c.infeasible, c.ill_formed, c.failed, c.repeated,
              rep.search.replayed ? (" (" + std::to_string(rep.search.replayed) + " from the journal)").c_str() : "");
  if (!rep.met_spec()) {
    std::printf("no design met the spec (%s); loosen it, widen the search space, or give more trials\n"
                "report: %s\n",
                hwnas::report::spec_line(s).c_str(), (out / "report.html").string().c_str());
    if (!o.export_dir.empty()) {  // the directory was marked "in progress": say why it stays empty
      hwnas::rtl::mark_nothing_exported(o.export_dir,
                                        "no design met the spec (" + hwnas::report::spec_line(s) + ")");
      std::printf("--export: nothing exported to %s (no design met the spec)\n", o.export_dir.c_str());
    }
    return 3;
  }
  if (rep.top.empty()) {  // --top-k 0: the search's best, by proxy accuracy
    const auto& t = rep.search.trials[*rep.search.best];
    std::printf("\nbest of the search: trial %zu, proxy validation accuracy %.2f%% (not retrained: --top-k 0), %s\n%s",
                *rep.search.best + 1, 100 * t.accuracy.value_or(0), hwnas::report::architecture_line(t.arch).c_str(),
                hwnas::fpga::to_table(*t.hardware).c_str());
    std::printf("\nreport: %s\n", fs::absolute(out / "report.html").string().c_str());
    return 0;
  }
  std::printf("\n  trial  proxy   valid.  test QAT  test int     LUTs       fps  layers\n");
  for (const auto& d : rep.top)
    std::printf("  %5zu  %5.2f%%  %5.2f%%  %6.2f%%   %6.2f%%  %7lld  %8.0f  %s\n", d.trial + 1, 100 * d.proxy_accuracy,
                100 * d.validation_accuracy, 100 * d.test_accuracy_qat, 100 * d.test_accuracy_integer,
                static_cast<long long>(d.hw.luts), d.hw.fps, hwnas::report::architecture_line(d.arch).c_str());
  const auto& best = rep.top[*rep.best];
  std::printf("\nbest: trial %zu, test accuracy %.2f%% (integer-only inference; QAT %.2f%%)\n%s", best.trial + 1,
              100 * best.test_accuracy_integer, 100 * best.test_accuracy_qat, hwnas::fpga::to_table(best.hw).c_str());
  if (!best.integer_network.is_null())
    hwnas::write_file_atomically(out / "best_integer_network.json", best.integer_network.dump() + "\n");
  if (!o.export_dir.empty()) {
    if constexpr (requires { p.cost_model().best_one_group_mapping(best.arch, s); }) {
      auto with_export = rep;
      with_export.hardware_export = export_best(best, o, data);
      hwnas::report::write_outputs(out, with_export);
      if (!print_export(with_export.hardware_export)) return 1;
    }
  }
  std::printf("\nreport: %s\n", fs::absolute(out / "report.html").string().c_str());
  return 0;
}

/// What Ctrl-C (or SIGTERM) prints before the process ends: the journal keeps every finished trial (each appended and
/// synced as it ends; a torn last line is dropped on resume), so ending at once loses at most the trial in progress.
/// Before the journal exists (interrupted while the data load), there is nothing to resume: the other message.
char interrupted_message[1024], interrupted_before_journal[512], journal_path[PATH_MAX];

extern "C" void on_interrupt(int signo) {
  const char* message = ::access(journal_path, F_OK) == 0 ? interrupted_message : interrupted_before_journal;
  if (::write(STDERR_FILENO, message, std::strlen(message)) < 0) {
  }
  ::_exit(128 + signo);
}

void explain_interruptions(const std::string& out_dir) {
  std::snprintf(interrupted_message, sizeof interrupted_message,
                "\nhwnas-codesign: interrupted; every finished search trial is in %s/journal.jsonl: run the same "
                "command with --resume to continue (finished trials are not trained again; the retraining of the "
                "top designs, if it had begun, starts over)\n",
                out_dir.c_str());
  std::snprintf(interrupted_before_journal, sizeof interrupted_before_journal,
                "\nhwnas-codesign: interrupted before the first trial; nothing was recorded in %s: run the command "
                "again (without --resume)\n",
                out_dir.c_str());
  std::snprintf(journal_path, sizeof journal_path, "%s/journal.jsonl", out_dir.c_str());
  struct sigaction sa {};
  sa.sa_handler = on_interrupt;
  sigemptyset(&sa.sa_mask);
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
}

int run(const options& o) {
  const hwnas::spec s = o.spec();
  hwnas::fpga::validate(s);
  if (!(o.seconds >= 0)) throw hwnas::invalid_argument("--seconds must be a number >= 0 (0: no time limit)");
  hwnas::fpga::check_clock_mhz(o.clock_mhz);
  // Under --mpi only rank 0 writes: the output directory, the journal and the export are its.
  const bool worker = o.mpi && o.rank != 0;
  if (!worker) {
    const fs::path journal = fs::path(o.out_dir) / "journal.jsonl";
    if (!o.resume && fs::exists(journal))
      throw hwnas::invalid_argument(journal.string() + " exists: pass --resume to continue that run, or choose another "
                                    "--out (nothing was changed)");
    // A new run never replaces files it did not write: outputs in --out without a journal belong to someone else.
    if (!o.resume)
      for (const char* f : {hwnas::report::output_files[0], hwnas::report::output_files[1],
                            hwnas::report::output_files[2], hwnas::report::output_files[3],
                            "best_integer_network.json"})
        if (fs::exists(fs::path(o.out_dir) / f))
          throw hwnas::invalid_argument((fs::path(o.out_dir) / f).string() +
                                        " exists and is not from a run journaled there: choose another --out "
                                        "(nothing was changed)");
    if (o.resume && !fs::exists(journal))
      throw hwnas::invalid_argument("--resume: " + journal.string() + " does not exist; there is no run to continue in " +
                                    o.out_dir);
    if (!o.export_dir.empty()) {
      if (o.model != "pipelined_pe")
        throw hwnas::invalid_argument("--export builds the pipelined_pe accelerator; it needs --model pipelined_pe");
      if (o.top_k == 0) throw hwnas::invalid_argument("--export needs a retrained design: --top-k 1 or more");
      hwnas::rtl::check_export_dir(o.export_dir, "--export");
    }
  }
  // Names are resolved before the data are loaded, so a typo costs nothing.
  hwnas::fpga::resolve_model(o.model, o.device, [](auto) { return 0; });
  hwnas::search::resolve_strategy(o.strategy, [](auto) { return 0; });
  const auto data = hwnas::io::fashion_mnist(o.data_dir, o.validation, /*seed*/ 0);
  // Goals no design of this space can meet are bad input, not a search that rejects every candidate.
  hwnas::fpga::resolve_model(o.model, o.device, [&](auto m) {
    using Model = typename decltype(m)::type;
    const double fmax = Model::device().fmax_mhz;
    if (o.clock_mhz > fmax)
      throw hwnas::invalid_argument("--clock-mhz " + hwnas::report::detail::number(o.clock_mhz) + ": above the " + o.device +
                                    " datapath's fmax of " + hwnas::report::detail::number(fmax) +
                                    " MHz (docs/cost-models.md#devices); choose a clock up to that");
    const double pixels = static_cast<double>(data.train.height() * data.train.width());
    if (Model::name != "tiled_engine" && s.min_fps && *s.min_fps > o.clock_mhz * 1e6 / pixels)
      throw hwnas::invalid_argument("--min-fps " + hwnas::report::detail::number(*s.min_fps) +
                                    ": no design can reach it: reading a " + std::to_string(data.train.height()) +
                                    "x" + std::to_string(data.train.width()) + " image at one pixel per cycle takes " +
                                    hwnas::report::detail::number(pixels) + " cycles, at most " +
                                    hwnas::report::detail::number(o.clock_mhz * 1e6 / pixels) + " fps at " +
                                    hwnas::report::detail::number(o.clock_mhz) + " MHz");
    return 0;
  });
  if (!worker) {
    std::error_code ec;
    fs::create_directories(o.out_dir, ec);
    if (ec) throw hwnas::io_error("cannot create the output directory " + o.out_dir + ": " + ec.message());
    // the export directory is made (and marked as an export) now, so that an unwritable one stops the run before
    // the search, not after it
    if (!o.export_dir.empty()) hwnas::rtl::prepare_export_dir(o.export_dir);
    explain_interruptions(o.out_dir);
  }
  return hwnas::fpga::resolve_model(o.model, o.device, [&](auto m) {
    using Model = typename decltype(m)::type;
    return hwnas::search::resolve_strategy(o.strategy, [&](auto st) {
      using Strategy = typename decltype(st)::type;
      return run_pipeline(hwnas::make_pipeline(Model(o.clock_mhz), Strategy{}), o, data);
    });
  });
}

}  // namespace

int main(int argc, char** argv) {
  options o;
  CLI::App app{"hwnas-codesign: hardware/software co-design search on Fashion-MNIST: a CNN's layers, its per-layer "
               "fixed-point formats and its FPGA mapping together, against a spec. Default spec: <= " +
               std::to_string(default_max_luts) + " LUTs and >= " + std::to_string(static_cast<int>(default_min_fps)) +
               " fps (override any limit, or --unconstrained)."};
  hwnas::examples::add_spec_options(app, o.limits,
                                    {.dsps = true,
                                     .luts_default = std::to_string(default_max_luts) + ", the default spec",
                                     .fps_default = std::to_string(static_cast<int>(default_min_fps)) + ", the default spec"});
  app.add_flag("--unconstrained", o.unconstrained, "drop the default spec (limits given as flags still apply)");
  app.add_option("--device", o.device, "FPGA: " + hwnas::names_of(hwnas::fpga::devices))->capture_default_str();
  app.add_option("--model", o.model, "cost model: " + hwnas::names_of(hwnas::fpga::cost_models))
      ->capture_default_str();
  app.add_option("--clock-mhz", o.clock_mhz, "clock, MHz")->capture_default_str();
  app.add_option("--strategy", o.strategy, "search strategy: " + hwnas::names_of(hwnas::search::strategies))
      ->capture_default_str();
  app.add_option("--trials", o.trials, "candidates to evaluate")->capture_default_str()->check(CLI::Range(1, 10000000));
  app.add_option("--seconds", o.seconds, "stop the search after this many seconds (0: no limit)")
      ->capture_default_str()->check(CLI::Range(0.0, 1e9));
  app.add_option("--epochs", o.epochs, "proxy training epochs per candidate")->capture_default_str()
      ->check(CLI::Range(1, 1000));
  app.add_option("--train-subset", o.train_subset, "proxy training images per candidate (0: all)")->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  app.add_option("--top-k", o.top_k, "designs retrained in full and tested after the search")->capture_default_str()
      ->check(CLI::Range(0, 1000));
  app.add_option("--retrain-epochs", o.retrain_epochs, "epochs of the full retraining")->capture_default_str()
      ->check(CLI::Range(1, 1000));
  app.add_option("--seed", o.seed, "the strategy's seed and the retraining's data order")->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  app.add_option("--threads", o.threads, "threads (0: all cores)")->capture_default_str()->check(CLI::Range(0, 1024));
  app.add_option("--in-flight", o.in_flight,
                 "trials asked and not yet told, at most: the search's window (the trials of a seed depend on it, "
                 "not on how many run at once)")
      ->capture_default_str()
      ->check(CLI::Range(1, 1024));
  app.add_option("--trial-threads", o.trial_threads,
                 "threads per training: 0 gives each training every core (one trial at a time, measured fastest on 2 "
                 "cores); N trains cores/N trials of the window at once")
      ->capture_default_str()
      ->check(CLI::Range(0, 1024));
  app.add_option("--data", o.data_dir, "Fashion-MNIST directory (default: $HWNAS_DATA, else the Debian package's)");
  app.add_option("--validation", o.validation,
                 "validation images split off the training set (the search scores candidates on them)")
      ->capture_default_str()
      ->check(CLI::Range(std::size_t{1}, std::size_t{59999}));
  app.add_option("--out", o.out_dir, "output directory: journal.jsonl, report.json, report.html, pareto.svg, trials.csv")
      ->capture_default_str();
  app.add_option("--export", o.export_dir,
                 "also write the best design as Verilog into this directory (new, empty, or an earlier export), "
                 "lint and simulate it, and synthesize it when yosys is here (docs/hardware.md)");
  app.add_option("--export-images", o.export_images, "test images the exported design is simulated on")
      ->capture_default_str()
      ->check(CLI::Range(std::size_t{2}, std::size_t{10000}));
  app.add_flag("!--no-synthesis", o.export_synthesis, "--export without the yosys synthesis (lint and simulation only)");
  app.add_flag("--resume", o.resume, "continue the run journaled in --out (same settings; refused otherwise)");
  app.add_flag("--mpi", o.mpi,
               "run under mpirun -np N (N >= 2): rank 0 searches and writes, the other ranks train the candidates "
               "(docs/scale.md)");
#ifdef HWNAS_HAVE_MPI
  std::optional<hwnas::search::mpi_environment> mpi;
#endif
  bool finished = false;
  const int rc = hwnas::examples::cli_main("hwnas-codesign", app, argc, argv, [&] {
    if (app.count("--export") && o.export_dir.empty()) throw hwnas::invalid_argument("--export needs a directory");
    if (o.mpi) {
#ifdef HWNAS_HAVE_MPI
      mpi.emplace(argc, argv);
      o.rank = hwnas::search::mpi_environment::rank();
      o.ranks = hwnas::search::mpi_environment::size();
      if (o.ranks < 2)
        throw hwnas::invalid_argument("--mpi needs workers: start it as mpirun -np N hwnas-codesign --mpi ... with "
                                      "N >= 2 (rank 0 searches, the others train)");
#else
      throw hwnas::invalid_argument("--mpi: this hwnas-codesign was built without MPI; install Open MPI "
                                    "(libopenmpi-dev, openmpi-bin) and build again");
#endif
    }
    const int code = run(o);
    finished = true;
    return code;
  });
#ifdef HWNAS_HAVE_MPI
  // An error on one rank leaves the others waiting for it: end them all.
  if (mpi && !finished && o.ranks > 1) MPI_Abort(MPI_COMM_WORLD, rc ? rc : 1);
#endif
  return rc;
}
