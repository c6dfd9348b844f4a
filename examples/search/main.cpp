// hwnas-search: a hardware/software co-design search on Fashion-MNIST. Every candidate is a CNN with its own
// per-layer fixed-point formats; it is first mapped onto an Intel Cyclone IV EP4CE115 at 100 MHz by the exact
// pipelined_pe search (NAQS's accelerator model), and only if the best mapping meets the spec is it trained (QAT
// proxy training) and ranked by validation accuracy. Prints a line per trial, then the Pareto front (accuracy, LUTs,
// fps) and the best design's hardware report.
//
//   hwnas-search --trials 30 --max-luts 30000 --min-fps 1000
//   hwnas-search --strategy random --trials 100 --train-images 5000 --epochs 1 --csv trials.csv --svg front.svg
//   hwnas-search --best best.json && hwnas-train --arch best.json     # retrain the winner in full
//   hwnas-search --trials 200 --journal run.jsonl      # interrupt it at any time; the same command resumes it
//
// The search space (fixed here; compose your own with the headers, docs/search-space.md):
//   1..3 conv layers x filters {8, 16, 32} x kernels {3, 5} x pooling {none, 2x2},
//   weights s I.F and activations u I.F per layer with I in 0..2, F in 2..6.
//
// Exit codes: 0 at least one design met the spec and was trained, 3 none did, 2 bad input, 1 anything else.

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <optional>
#include <iostream>
#include <string>

#include <CLI/CLI.hpp>

#include "../common/cli_main.hpp"
#include "hwnas/core/parallel.hpp"
#include "hwnas/fpga/devices.hpp"
#include "hwnas/fpga/hw_report.hpp"
#include "hwnas/fpga/pipelined_pe.hpp"
#include "hwnas/io/architecture_json.hpp"
#include "hwnas/io/fashion_mnist.hpp"
#include "hwnas/quant/fixed_point.hpp"
#include "hwnas/search/evaluator.hpp"
#include "hwnas/search/journal.hpp"
#include "hwnas/search/report.hpp"
#include "hwnas/search/run.hpp"
#include "hwnas/search/strategies.hpp"
#include "hwnas/space/layerwise.hpp"
#include "hwnas/space/quantized.hpp"

namespace {

namespace sp = hwnas::space;
namespace qn = hwnas::quant;
namespace hs = hwnas::search;

using layers = sp::layerwise<sp::depth<1, 3>, sp::filters<8, 16, 32>, sp::kernels<3, 5>, sp::pooling<1, 2>>;
using formats = qn::fixed_point<qn::int_bits<0, 2>, qn::frac_bits<2, 6>>;
using codesign = sp::quantized<layers, formats>;
using hardware = hwnas::fpga::pipelined_pe<hwnas::fpga::cyclone_iv_ep4ce115, hwnas::fpga::clock_mhz<100>>;

struct options {
  std::string data_dir, csv_file, svg_file, best_file, journal_file, strategy = "evolution";
  std::size_t trials = 30, threads = 0, validation = 5000;
  double seconds = 0;
  std::uint64_t seed = 1;
  bool quiet = false;
  hwnas::spec spec;
  hs::proxy_config proxy = [] {
    hs::proxy_config p;
    p.train_images = 10000;
    p.train.epochs = 2;
    return p;
  }();
};

std::string layers_summary(const hwnas::architecture& a) {
  std::string s;
  for (const auto& l : a.layers) {
    if (!s.empty()) s += " ";
    s += std::to_string(l.filters) + "x" + std::to_string(l.kernel) + (l.pool == 2 ? "p" : "") + "(" +
         hwnas::to_string(*l.weight_format) + "/" + hwnas::to_string(*l.activation_format) + ")";
  }
  return s;
}

template <class Strategy>
hs::search_result search(const options& o, const hwnas::io::split_data& data, hwnas::thread_pool& pool,
                         hs::journal* log) {
  hs::two_stage_evaluator<codesign, hardware> evaluator(hardware(), o.spec, data.train, data.validation, o.proxy, pool);
  auto strategy = Strategy{}.start(codesign::layout, o.seed);
  auto cb = [&](const hs::trial& t, std::size_t i, const hs::search_result& r) {
                   if (o.quiet) return true;
                   std::printf("[%3zu/%zu] %-10s", i + 1, o.trials, hs::to_string(t.status));
                   if (t.accuracy)
                     std::printf(" acc %6.2f%%  LUTs %6lld  fps %8.0f  map %.1f ms, train %.1f s%s", 100.0 * *t.accuracy,
                                 static_cast<long long>(t.hardware->luts), t.hardware->fps, 1e3 * t.mapping_seconds,
                                 t.training_seconds, r.best && *r.best == i ? "  best so far" : "");
                   else
                     std::printf(" %s", t.reason.substr(0, 100).c_str());
                   std::printf("%s%s\n", t.repeated ? "  (repeat)" : "",
                               log && i < log->entries().size() ? "  (from the journal)" : "");
                   std::fflush(stdout);
                   return true;
                 };
  if (log) return hs::run(evaluator, strategy, hs::budget{o.trials, o.seconds}, cb, *log);
  return hs::run(evaluator, strategy, hs::budget{o.trials, o.seconds}, cb);
}

int run(const options& o) {
  hwnas::thread_pool pool(o.threads ? o.threads : hwnas::thread_pool::default_threads());
  const auto data = hwnas::io::fashion_mnist(o.data_dir, o.validation, o.seed);
  std::printf("hwnas-search: %.3g genomes (%zu genes); %zu trials, %s; %s at %.0f MHz; proxy: %d epochs on %zu images\n",
              codesign::points(), codesign::layout.size(), o.trials, o.strategy.c_str(),
              std::string(hardware::device().name).c_str(), hardware().clock_mhz(), o.proxy.train.epochs,
              o.proxy.train_images ? std::min(o.proxy.train_images, data.train.size()) : data.train.size());
  std::optional<hs::journal> log;
  if (!o.journal_file.empty()) {
    log.emplace(o.journal_file, nlohmann::json{{"seed", o.seed}, {"strategy", o.strategy}});
    if (!log->entries().empty())
      std::printf("resuming: %zu trials from %s (same seed and options as the journaled run)\n",
                  log->entries().size(), o.journal_file.c_str());
  }
  hs::journal* journal = log ? &*log : nullptr;
  const auto r = o.strategy == "random" ? search<hs::random_search>(o, data, pool, journal)
                                        : search<hs::regularized_evolution>(o, data, pool, journal);
  if (!o.csv_file.empty()) {
    std::ofstream out(o.csv_file);
    if (!out) throw hwnas::io_error("cannot write " + o.csv_file);
    hs::write_csv(out, r);
  }
  if (!o.svg_file.empty()) {
    std::ofstream out(o.svg_file);
    if (!out) throw hwnas::io_error("cannot write " + o.svg_file);
    hs::write_svg(out, r, "hwnas-search: " + std::to_string(r.trials.size()) + " trials on Fashion-MNIST, " +
                              std::string(hardware::device().name));
  }
  std::size_t trained = 0;
  for (const auto& t : r.trials) trained += t.status == hs::trial_status::trained;
  std::printf("\n%zu trials in %.1f s: %zu trained, %zu rejected before training%s\n", r.trials.size(), r.seconds,
              trained, r.trials.size() - trained, r.stopped ? " (stopped)" : "");
  if (!r.best) {
    std::printf("no design met the spec; loosen it or widen the search space\n");
    return 3;
  }
  auto front = r.front.entries();
  std::sort(front.begin(), front.end(), [](const auto& a, const auto& b) { return a.value[0] > b.value[0]; });
  std::printf("\nPareto front (accuracy, LUTs, fps):\n  trial  accuracy    LUTs  DSPs  BRAMs       fps  layers\n");
  for (const auto& e : front) {
    const auto& t = r.trials[e.payload];
    std::printf("  %5zu  %7.2f%%  %6lld  %4lld  %5lld  %8.0f  %s\n", e.payload + 1, 100.0 * t.reward,
                static_cast<long long>(t.hardware->luts), static_cast<long long>(t.hardware->dsps),
                static_cast<long long>(t.hardware->brams), t.hardware->fps, layers_summary(t.arch).c_str());
  }
  const auto& best = r.trials[*r.best];
  std::printf("\nbest: trial %zu, validation accuracy %.2f%% after the proxy training\n%s", *r.best + 1,
              100.0 * best.reward, hwnas::fpga::to_table(*best.hardware).c_str());
  if (!o.best_file.empty()) {
    hwnas::io::save_architecture(best.arch, o.best_file);
    std::printf("architecture written to %s (retrain it in full with hwnas-train --arch %s)\n", o.best_file.c_str(),
                o.best_file.c_str());
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  options o;
  CLI::App app{"hwnas-search: hardware/software co-design search (architecture, fixed-point formats and FPGA mapping "
               "together) on Fashion-MNIST"};
  app.add_option("--trials", o.trials, "trials to run")->capture_default_str()->check(CLI::Range(1, 1000000));
  app.add_option("--seconds", o.seconds, "stop after this many seconds (0: no limit)")->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  app.add_option("--strategy", o.strategy, "evolution (regularized evolution) or random")->capture_default_str()
      ->check(CLI::IsMember({"evolution", "random"}));
  app.add_option("--seed", o.seed, "data split, strategy and training order")->capture_default_str();
  app.add_option("--epochs", o.proxy.train.epochs, "proxy training epochs per candidate")->capture_default_str();
  app.add_option("--train-images", o.proxy.train_images, "proxy training subset (0: all)")->capture_default_str();
  app.add_option("--lr", o.proxy.train.learning_rate, "proxy training peak learning rate")->capture_default_str();
  app.add_option("--max-luts", o.spec.max_luts, "LUT ceiling");
  app.add_option("--max-dsps", o.spec.max_dsps, "DSP ceiling");
  app.add_option("--max-brams", o.spec.max_brams, "block RAM ceiling");
  app.add_option("--min-fps", o.spec.min_fps, "throughput floor, frames per second");
  app.add_option("--max-latency-ms", o.spec.max_latency_ms, "latency ceiling, milliseconds");
  app.add_option("--data", o.data_dir, "Fashion-MNIST directory (default: $HWNAS_DATA, else the Debian package's)");
  app.add_option("--validation", o.validation, "validation images split off the training set")->capture_default_str();
  app.add_option("--csv", o.csv_file, "write one row per trial to this file");
  app.add_option("--svg", o.svg_file, "plot accuracy against LUTs, with the Pareto front, to this SVG file");
  app.add_option("--best", o.best_file, "write the best architecture (JSON) to this file");
  app.add_option("--journal", o.journal_file,
                 "record every trial in this file (JSON lines) and resume from it when it exists");
  app.add_option("--threads", o.threads, "threads (0: all cores)");
  app.add_flag("--quiet", o.quiet, "no line per trial");
  return hwnas::examples::cli_main("hwnas-search", app, argc, argv, [&] {
    hwnas::fpga::validate(o.spec);
    return run(o);
  });
}
