#pragma once
/// @file
/// report.html: one self-contained page a person reads a finished co-design run in: a summary (spec, device, cost
/// model, strategy, counts, wall time per stage, the best design's accuracies), the best design's per-layer hardware
/// table, the retrained top-k, the Pareto plot (pareto.svg, inline) and the table of every trial. Inline CSS, no
/// JavaScript, no network (no external style sheet, font or image): it opens from a file, offline, in any browser,
/// and prints. Every string from the run (names, reasons, settings) is escaped.

#include <cstddef>
#include <cstdint>
#include <ostream>
#include <sstream>
#include <string>
#include <vector>

#include "hwnas/fpga/hw_report.hpp"
#include "hwnas/report/codesign_report.hpp"
#include "hwnas/report/json.hpp"
#include "hwnas/report/pareto_svg.hpp"
#include "hwnas/report/text.hpp"
#include "hwnas/search/trial.hpp"

namespace hwnas::report {

namespace detail {
inline constexpr const char* html_style = R"css(
:root { color-scheme: light; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", Helvetica, Arial, sans-serif;
       color: #1d1d1f; background: #fafafa; margin: 0; }
main { max-width: 1180px; margin: 0 auto; padding: 24px 28px 48px; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 32px 0 10px; padding-bottom: 4px; border-bottom: 1px solid #ddd; }
p.sub { color: #555; margin: 0 0 12px; }
.verdict { display: inline-block; padding: 4px 10px; border-radius: 4px; font-weight: 600; }
.verdict.ok { background: #e3f4e6; color: #1b5e20; }
.verdict.fail { background: #fde8e8; color: #a61b1b; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(340px, 1fr)); gap: 16px; }
.card { background: white; border: 1px solid #e2e2e2; border-radius: 6px; padding: 12px 16px; }
.card h3 { font-size: 14px; margin: 0 0 8px; color: #444; text-transform: uppercase; letter-spacing: .04em; }
table { border-collapse: collapse; background: white; }
th, td { padding: 4px 10px; text-align: left; vertical-align: top; }
table.data { border: 1px solid #e2e2e2; width: 100%; }
table.data th { background: #f0f0f2; border-bottom: 1px solid #d0d0d4; position: sticky; top: 0; }
table.data tr:nth-child(even) td { background: #f8f8fa; }
table.kv th { color: #555; font-weight: normal; padding-left: 0; white-space: nowrap; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.total td { font-weight: 600; border-top: 1px solid #bbb; }
td.arch { white-space: normal; overflow-wrap: anywhere; min-width: 16em; }
td.reason { white-space: normal; overflow-wrap: anywhere; min-width: 18em; max-width: 32em; }
.hscroll { overflow-x: auto; }
td.arch, td.reason { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 12px; }
td.reason { color: #8a1c1c; }
.status-trained { color: #1b5e20; }
.status-infeasible, .status-ill-formed { color: #777; }
.status-failed { color: #a61b1b; }
.figure { background: white; border: 1px solid #e2e2e2; border-radius: 6px; padding: 8px; overflow-x: auto; }
.figure svg { max-width: 100%; height: auto; display: block; margin: 0 auto; }
.scroll { max-height: 640px; overflow: auto; border: 1px solid #e2e2e2; }
.scroll table.data { border: 0; }
pre { background: white; border: 1px solid #e2e2e2; padding: 10px; overflow-x: auto; font-size: 12px; }
ul.violations { color: #a61b1b; margin: 6px 0; }
footer { color: #777; margin-top: 36px; font-size: 12px; }
)css";

/// A <tr> of a key-value table.
inline std::string kv_row(const std::string& key, const std::string& escaped_value) {
  return "<tr><th>" + escape(key) + "</th><td>" + escaped_value + "</td></tr>\n";
}

inline std::string factors_line(const std::vector<fpga::factor>& fs) {
  std::string s;
  for (const auto& [k, v] : fs) s += (s.empty() ? "" : " ") + k + "=" + std::to_string(v);
  return s;
}

/// The per-layer hardware table of `hw`, with totals, throughput, latency, utilization and any violations.
inline void hardware_table(std::ostream& s, const fpga::hw_report& hw) {
  s << "<table class=\"data hw\"><thead><tr><th>layer</th><th>parallelism</th><th class=\"num\">LUTs</th>"
       "<th class=\"num\">FFs</th><th class=\"num\">DSPs</th><th class=\"num\">BRAMs</th>"
       "<th class=\"num\">cycles</th><th class=\"num\">% cycles</th></tr></thead><tbody>\n";
  std::int64_t cycle_sum = 0;
  for (const auto& l : hw.layers) cycle_sum += l.cycles;
  const auto res = [&](std::int64_t v) { return hw.shared_engine ? std::string("(engine)") : std::to_string(v); };
  for (const auto& l : hw.layers) {
    const double share = cycle_sum > 0 ? 100.0 * static_cast<double>(l.cycles) / static_cast<double>(cycle_sum) : 0;
    s << "<tr><td>" << escape(l.name) << "</td><td>" << escape(factors_line(l.parallelism))
      << "</td><td class=\"num\">" << res(l.luts) << "</td><td class=\"num\">" << res(l.ffs)
      << "</td><td class=\"num\">" << res(l.dsps) << "</td><td class=\"num\">"
      << (hw.shared_engine ? std::string("(engine)") : fpga::detail::format_blocks(l.brams))
      << "</td><td class=\"num\">" << l.cycles << "</td><td class=\"num\">" << fixed(share, 1) << "</td></tr>\n";
  }
  s << "<tr class=\"total\"><td>total</td><td>" << escape(factors_line(hw.engine)) << "</td><td class=\"num\">"
    << hw.luts << "</td><td class=\"num\">" << hw.ffs << "</td><td class=\"num\">" << hw.dsps
    << "</td><td class=\"num\">" << hw.brams << "</td><td class=\"num\">" << hw.cycles
    << "</td><td></td></tr>\n</tbody></table>\n";
  s << "<p>" << escape(hw.model) << " on " << escape(hw.device) << " at " << number(hw.clock_mhz) << " MHz: <b>"
    << number(hw.fps) << " fps</b> (" << hw.cycles << " cycles per frame), latency <b>" << number(hw.latency_ms)
    << " ms</b> (" << hw.latency_cycles << " cycles); utilization: LUTs " << fixed(100 * hw.lut_utilization)
    << "%, FFs " << fixed(100 * hw.ff_utilization) << "%, DSPs " << fixed(100 * hw.dsp_utilization)
    << "%, BRAMs " << fixed(100 * hw.bram_utilization) << "%. "
    << (hw.feasible ? "Meets the spec." : "<b>Does not meet the spec:</b>") << "</p>\n";
  if (!hw.violations.empty()) {
    s << "<ul class=\"violations\">";
    for (const auto& v : hw.violations) s << "<li>" << escape(v.message) << "</li>";
    s << "</ul>\n";
  }
  if (!hw.note.empty()) s << "<p class=\"sub\">" << escape(hw.note) << "</p>\n";
}
/// The "Best design in hardware" section: the export's directory, lint, simulation and synthesis beside the model.
inline void hardware_export_section(std::ostream& s, const nlohmann::json& x) {
  auto str = [](const nlohmann::json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); };
  s << "<h2 id=\"hardware\">Best design in hardware</h2>\n<table class=\"kv\">\n";
  if (x.contains("directory")) s << kv_row("Verilog", "<code>" + escape(str(x["directory"])) + "</code>");
  if (x.contains("top")) s << kv_row("top module", "<code>" + escape(str(x["top"])) + "</code>");
  if (x.contains("lint")) s << kv_row("lint", escape(str(x["lint"])));
  if (x.contains("note")) s << kv_row("note", escape(str(x["note"])));
  if (x.contains("simulation") && x["simulation"].is_object()) {
    const auto& m = x["simulation"];
    s << kv_row("simulated", escape(str(m.value("images", nlohmann::json(0)))) + " test images in Verilator");
    s << kv_row("logits", m.value("logit_mismatches", 1) == 0 ? "equal to the integer network's, bit for bit"
                                                                : "<b>differ</b> in " + str(m["logit_mismatches"]));
    s << kv_row("accuracy", percent(m.value("hardware_accuracy", 0.0)) + " in hardware, " +
                                percent(m.value("integer_accuracy", 0.0)) + " integer network");
    s << kv_row("interval", str(m.value("interval_cycles", nlohmann::json(0))) + " cycles (model " +
                                (m.value("model_interval_is", std::string("exact")) == "exact" ? "" : "bound ") +
                                str(m.value("model_interval_cycles", nlohmann::json(0))) + "): " +
                                escape(m.value("interval", std::string())));
    s << kv_row("latency", str(m.value("latency_cycles", nlohmann::json(0))) + " cycles (model " +
                               str(m.value("model_latency_cycles", nlohmann::json(0))) + ", bound " +
                               str(m.value("latency_bound_cycles", nlohmann::json(0))) + ")");
  }
  s << "</table>\n";
  if (x.contains("synthesis") && x["synthesis"].is_object() && x["synthesis"].contains("flows")) {
    const auto& v = x["synthesis"];
    s << "<table class=\"data\"><thead><tr><th>yosys flow</th><th class=\"num\">LUTs model</th>"
         "<th class=\"num\">measured</th><th class=\"num\">FFs model</th><th class=\"num\">measured</th>"
         "<th class=\"num\">BRAMs model</th><th class=\"num\">measured</th></tr></thead><tbody>\n";
    const auto& model = v["model"];
    for (const auto& [flow, f] : v["flows"].items())
      s << "<tr><td>" << escape(flow) << "</td><td class=\"num\">" << str(model["luts"]) << "</td><td class=\"num\">"
        << str(f["luts"]) << "</td><td class=\"num\">" << str(model["ffs"]) << "</td><td class=\"num\">"
        << str(f["ffs"]) << "</td><td class=\"num\">" << str(model["brams"]) << "</td><td class=\"num\">"
        << str(f["brams"]) << "</td></tr>\n";
    s << "</tbody></table>\n<p>docs/fidelity.md explains the gap between the model and synthesis.</p>\n";
  }
}

}  // namespace detail

/// Writes report.html of `r` (above).
inline void write_html(std::ostream& out, const codesign_report& r) {
  using detail::escape;
  using detail::fixed;
  using detail::number;
  using detail::percent;
  const auto c = counts(r);
  const retrained_design* best = r.best && *r.best < r.top.size() ? &r.top[*r.best] : nullptr;
  std::ostringstream s;

  const std::string headline = (r.strategy.empty() ? std::string("search") : r.strategy) +
                               (r.device.empty() ? std::string() : " on " + r.device);
  s << "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
       "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
    << "<title>hwnas report: " << escape(headline) << "</title>\n<style>" << detail::html_style
    << "</style>\n</head>\n<body>\n<main>\n";
  s << "<h1>hwnas co-design report</h1>\n<p class=\"sub\">" << escape(headline) << ", "
    << escape(r.dataset.empty() ? std::string("(dataset not named)") : r.dataset) << "; spec: "
    << escape(detail::spec_line(r.spec)) << "</p>\n";
  if (best)
    s << "<p class=\"verdict ok\">Met the spec: trial " << best->trial + 1 << ", "
      << percent(best->test_accuracy_integer) << " test accuracy (integer inference), " << best->hw.luts
      << " LUTs, " << number(best->hw.fps, 5) << " fps</p>\n";
  else if (r.search.best && r.search.trials.at(*r.search.best).hardware) {
    const auto& t = r.search.trials.at(*r.search.best);
    s << "<p class=\"verdict ok\">Met the spec: trial " << *r.search.best + 1 << ", "
      << percent(t.accuracy.value_or(0.0)) << " proxy validation accuracy (not retrained), " << t.hardware->luts
      << " LUTs, " << number(t.hardware->fps, 5) << " fps</p>\n";
  } else {
    s << "<p class=\"verdict fail\">No design met the spec.</p>\n";
  }

  // Summary: the run, the results.
  s << "<h2 id=\"summary\">Summary</h2>\n<div class=\"cards\">\n<div class=\"card\"><h3>Run</h3><table class=\"kv\">\n";
  s << detail::kv_row("spec", escape(detail::spec_line(r.spec)));
  s << detail::kv_row("device", escape(r.device));
  s << detail::kv_row("clock", number(r.clock_mhz) + " MHz");
  s << detail::kv_row("cost model", escape(r.cost_model));
  s << detail::kv_row("strategy", escape(r.strategy));
  s << detail::kv_row("search space", escape(r.space));
  s << detail::kv_row("quantizer", escape(r.quantizer));
  s << detail::kv_row("dataset", escape(r.dataset));
  s << detail::kv_row("seed", std::to_string(r.seed));
  s << detail::kv_row("hwnas", escape(r.version));
  s << "</table></div>\n<div class=\"card\"><h3>Trials</h3><table class=\"kv\">\n";
  s << detail::kv_row("trials", std::to_string(c.trials) + (r.search.stopped ? " (stopped by a hook)" : ""));
  s << detail::kv_row("trained", std::to_string(c.trained));
  s << detail::kv_row("rejected before training",
                      std::to_string(c.pruned()) + " (" + std::to_string(c.infeasible) + " infeasible, " +
                          std::to_string(c.ill_formed) + " ill-formed)");
  s << detail::kv_row("failed in training", std::to_string(c.failed));
  s << detail::kv_row("repeated genomes", std::to_string(c.repeated));
  if (r.search.replayed) s << detail::kv_row("replayed from the journal", std::to_string(r.search.replayed));
  s << detail::kv_row("trained but infeasible", std::to_string(c.infeasible_trained) + " (must be 0)");
  s << detail::kv_row("Pareto front", std::to_string(r.search.front.size()) + " designs");
  s << detail::kv_row("hypervolume", fixed(r.hypervolume, 4) + " (LUT ceiling " +
                                         number(r.hypervolume_lut_ceiling) + ", fps scale " +
                                         number(r.hypervolume_fps_scale) + ")");
  s << "</table></div>\n<div class=\"card\"><h3>Best design</h3><table class=\"kv\">\n";
  if (best) {
    s << detail::kv_row("trial", std::to_string(best->trial + 1));
    s << detail::kv_row("proxy accuracy (search)", percent(best->proxy_accuracy));
    s << detail::kv_row("validation accuracy (retrained)", percent(best->validation_accuracy));
    s << detail::kv_row("test accuracy, QAT", percent(best->test_accuracy_qat));
    s << detail::kv_row("test accuracy, integer", percent(best->test_accuracy_integer));
    s << detail::kv_row("LUTs / DSPs / BRAMs", std::to_string(best->hw.luts) + " / " + std::to_string(best->hw.dsps) +
                                                   " / " + fpga::detail::format_blocks(best->hw.brams));
    s << detail::kv_row("throughput, latency",
                        number(best->hw.fps) + " fps, " + number(best->hw.latency_ms) + " ms");
  } else {
    s << detail::kv_row("", "none met the spec");
  }
  s << "</table></div>\n<div class=\"card\"><h3>Wall time</h3><table class=\"kv\">\n";
  double total = 0;
  for (const auto& [stage, seconds] : r.seconds) {
    s << detail::kv_row(stage, detail::duration(seconds));
    total += seconds;
  }
  if (!r.seconds.empty()) s << detail::kv_row("total", "<b>" + detail::duration(total) + "</b>");
  s << "</table></div>\n</div>\n";

  // The best design's hardware.
  s << "<h2 id=\"best\">Best design: per-layer hardware</h2>\n";
  if (best) {
    s << "<p>Trial " << best->trial + 1 << ": <code>" << escape(detail::architecture_line(best->arch))
      << "</code></p>\n";
    detail::hardware_table(s, best->hw);
  } else {
    s << "<p>No design met the spec, so none was retrained.</p>\n";
  }

  // The best design in hardware (hwnas-codesign --export).
  if (!r.hardware_export.is_null()) detail::hardware_export_section(s, r.hardware_export);

  // The retrained top-k.
  s << "<h2 id=\"top\">Top " << r.top.size() << ", retrained</h2>\n";
  if (r.top.empty()) {
    s << "<p>None.</p>\n";
  } else {
    s << "<div class=\"hscroll\"><table class=\"data top\"><thead><tr><th class=\"num\">rank</th>"
         "<th class=\"num\">trial</th><th class=\"num\">proxy acc.</th><th class=\"num\">validation acc.</th>"
         "<th class=\"num\">test QAT</th>"
         "<th class=\"num\">test integer</th><th class=\"num\">LUTs</th><th class=\"num\">DSPs</th>"
         "<th class=\"num\">BRAMs</th><th class=\"num\">fps</th><th class=\"num\">latency ms</th>"
         "<th class=\"num\">epochs</th><th class=\"num\">time</th><th>architecture</th></tr></thead><tbody>\n";
    for (std::size_t k = 0; k < r.top.size(); ++k) {
      const auto& d = r.top[k];
      s << "<tr" << (best == &d ? " class=\"best\"" : "") << "><td class=\"num\">" << k + 1
        << (best == &d ? " &#9733;" : "") << "</td><td class=\"num\">" << d.trial + 1 << "</td><td class=\"num\">"
        << percent(d.proxy_accuracy) << "</td><td class=\"num\">" << percent(d.validation_accuracy)
        << "</td><td class=\"num\">" << percent(d.test_accuracy_qat) << "</td><td class=\"num\">"
        << percent(d.test_accuracy_integer) << "</td><td class=\"num\">" << d.hw.luts << "</td><td class=\"num\">"
        << d.hw.dsps << "</td><td class=\"num\">" << d.hw.brams << "</td><td class=\"num\">" << number(d.hw.fps, 5)
        << "</td><td class=\"num\">" << number(d.hw.latency_ms, 4) << "</td><td class=\"num\">" << d.epochs
        << "</td><td class=\"num\">" << detail::duration(d.seconds) << "</td><td class=\"arch\">"
        << escape(detail::architecture_line(d.arch)) << "</td></tr>\n";
    }
    s << "</tbody></table></div>\n";
  }

  // The plot.
  s << "<h2 id=\"plot\">Accuracy against LUTs</h2>\n<div class=\"figure\">\n" << pareto_svg(r) << "</div>\n";

  // Every trial.
  std::vector<bool> on_front(r.search.trials.size(), false);
  for (const auto& e : r.search.front.entries())
    if (e.payload < on_front.size()) on_front[e.payload] = true;
  s << "<h2 id=\"trials\">All " << r.search.trials.size() << " trials</h2>\n<div class=\"scroll\">"
    << "<table class=\"data trials\"><thead><tr><th class=\"num\">trial</th><th>status</th>"
       "<th class=\"num\">accuracy</th><th class=\"num\">LUTs</th><th class=\"num\">DSPs</th>"
       "<th class=\"num\">BRAMs</th><th class=\"num\">fps</th><th class=\"num\">latency ms</th><th>front</th>"
       "<th>architecture</th><th>reason</th></tr></thead><tbody>\n";
  for (std::size_t i = 0; i < r.search.trials.size(); ++i) {
    const auto& t = r.search.trials[i];
    const std::string status = search::to_string(t.status);
    s << "<tr><td class=\"num\">" << i + 1 << "</td><td class=\"status-" << status << "\">" << status
      << (t.repeated ? " (repeat)" : "") << "</td><td class=\"num\">"
      << (t.accuracy ? percent(*t.accuracy) : std::string()) << "</td>";
    if (t.hardware)
      s << "<td class=\"num\">" << t.hardware->luts << "</td><td class=\"num\">" << t.hardware->dsps
        << "</td><td class=\"num\">" << t.hardware->brams << "</td><td class=\"num\">" << number(t.hardware->fps, 5)
        << "</td><td class=\"num\">" << number(t.hardware->latency_ms, 4) << "</td>";
    else
      s << "<td></td><td></td><td></td><td></td><td></td>";
    s << "<td>" << (on_front[i] ? "&#9679;" : "") << "</td><td class=\"arch\">"
      << escape(detail::architecture_line(t.arch)) << "</td><td class=\"reason\">" << escape(t.reason)
      << "</td></tr>\n";
  }
  s << "</tbody></table></div>\n";

  s << "<h2 id=\"settings\">Settings</h2>\n<details><summary>Everything that pins the trials (as the journal's "
       "header holds it)</summary>\n<pre>"
    << escape(r.settings.is_null() ? std::string("{}")
                                   : r.settings.dump(2, ' ', false, nlohmann::json::error_handler_t::replace))
    << "</pre></details>\n";
  s << "<footer>Written by hwnas " << escape(r.version)
    << ". Accuracies are fractions of the validation or test images; trial numbers count from 1, as in "
       "trials.csv and report.json.</footer>\n</main>\n</body>\n</html>\n";
  out << s.str();
}

/// report.html of `r` as a string.
inline std::string to_html(const codesign_report& r) {
  std::ostringstream out;
  write_html(out, r);
  return out.str();
}

}  // namespace hwnas::report
