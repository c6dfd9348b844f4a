#pragma once
/// @file
/// What a cost model says about a mapped architecture: per layer its parallelism, LUTs, flip-flops, DSPs, block RAMs
/// and cycles; the totals; frames per second and latency; utilization of the device; and whether it meets the spec,
/// with every failed constraint and by how much. Printable as a table (`to_table`) and as JSON (`to_json`).

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "hwnas/fpga/devices.hpp"
#include "hwnas/fpga/spec.hpp"

namespace hwnas::fpga {

/// A named parallelism or tiling factor of a layer or an engine: {"Tn", 4}, {"PE", 8}, {"group", 0}...
using factor = std::pair<std::string, std::int64_t>;

/// One compute layer (a conv layer or the classifier) as mapped.
struct layer_report {
  std::string name;                 ///< "conv0", "conv1", ..., "fc"
  std::vector<factor> parallelism;  ///< model-specific factors, in the model's order
  std::int64_t luts = 0, ffs = 0, dsps = 0;
  /// Block RAMs, in the device's blocks (M9K, BRAM36); 0.5 for an XC7 half block (RAMB18E1), as Vivado counts.
  double brams = 0;
  std::int64_t cycles = 0;  ///< clock cycles this layer takes per frame
};

/// A constraint a mapping fails: the spec's (max_luts, max_dsps, max_brams, min_fps, max_latency_ms) or the device's
/// capacity (device_luts, device_dsps, device_brams).
struct violation {
  std::string constraint;
  double limit = 0;     ///< the bound (fps for min_fps, ms for max_latency_ms, a count otherwise)
  double actual = 0;    ///< what the mapping reaches, in the same unit
  std::string message;  ///< readable: what, the numbers and the relative excess
  /// How far off, relative to the bound: 0.25 = 25 % over a ceiling (or 25 % short of min_fps).
  double excess() const noexcept {
    if (limit == 0) return actual > 0 ? INFINITY : 0.0;
    return constraint == "min_fps" ? (limit - actual) / limit : (actual - limit) / limit;
  }
};

/// The hardware report of one mapped architecture.
struct hw_report {
  std::string model;   ///< "pipelined_pe", "tiled_engine", "dataflow"
  std::string device;  ///< the device's name
  double clock_mhz = 0;
  std::vector<layer_report> layers;
  /// Factors shared by all layers (the tiled engine's <Tm, Tn, Tr, Tc>); empty for per-layer models.
  std::vector<factor> engine;
  /// True when the per-layer luts/ffs/dsps/brams are 0 because the layers share one engine (tiled_engine).
  bool shared_engine = false;
  std::int64_t luts = 0, ffs = 0, dsps = 0;
  /// Block RAMs, in the device's blocks (M9K, BRAM36); halves count 0.5 (XC7's RAMB18E1), as Vivado counts.
  double brams = 0;
  std::int64_t lutram_luts = 0;     ///< of the LUTs, those used as distributed RAM (small memories)
  /// Of luts and ffs: the FIFOs holding the feature map at group boundaries (pipelined_pe), in no layer.
  std::int64_t boundary_luts = 0, boundary_ffs = 0;
  /// pipelined_pe's reconfigured groups (reconfigure_groups): frames per batch (0: one static bitstream), the
  /// bitstreams loaded in turn, and one configuration's cycles at the design clock.
  struct reconfiguration_figures {
    std::int64_t batch_frames = 0, groups = 0, configuration_cycles = 0;
  } reconfiguration;
  std::int64_t cycles = 0;          ///< frame interval in clock cycles: fps = clock / cycles
  std::int64_t latency_cycles = 0;  ///< one frame from first input to last output
  double fps = 0;
  double latency_ms = 0;
  /// Fractions of the device in use (0..1, above 1 when over capacity).
  double lut_utilization = 0, ff_utilization = 0, dsp_utilization = 0, bram_utilization = 0;
  bool feasible = false;
  std::vector<violation> violations;  ///< empty when feasible
  std::string note;                   ///< what the search did, e.g. why this mapping is shown when infeasible
  /// What the figures assume, topic -> statement: how arrays are shared (static or reconfigured), the read ports,
  /// where the clock limit comes from, which synthesis flow the LUT numbers follow, what latency means.
  std::vector<std::pair<std::string, std::string>> assumptions;
};

namespace detail {

/// Block RAM units (bram_units in fpga/primitives.hpp) as the device's blocks: 9 halves are 4.5 BRAM36.
inline double blocks(const device_info& d, std::int64_t units) noexcept {
  return static_cast<double>(units) / static_cast<double>(d.bram_units_per_block());
}

/// A block count as the reports print it: "4" or "4.5".
inline std::string format_blocks(double b) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.10g", b);
  return buf;
}

inline std::string format_number(double v, int precision = 4) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*g", precision, v);
  return buf;
}
inline std::string format_percent(double fraction) {
  char buf[64];
  const double pct = fraction * 100.0;
  // beyond a million percent, three digits and an exponent (a latency goal of 1e-300 ms is 1e302 % short)
  std::snprintf(buf, sizeof buf, std::abs(pct) < 1e6 ? "%+.1f%%" : "%+.3g%%", pct);
  return buf;
}

/// Fills totals-derived fields (fps, latency, utilization) and the violations against `lim` and the spec values.
inline void finish_report(hw_report& r, const device_info& dev, const spec& s, const limits& lim) {
  r.assumptions.emplace_back("clock", "at most " + format_number(dev.fmax_mhz) + " MHz, the " +
                                          std::string(dev.name) +
                                          "'s clock ceiling for this datapath (docs/cost-models.md#devices: the "
                                          "block RAM's datasheet fmax, or on the iCE40 parts the slowest routed "
                                          "design's); a faster clock is a violation, and synthesis may close lower");
  r.assumptions.emplace_back(
      "LUT coverage",
      r.model == "pipelined_pe"
          ? "the datapath (multipliers, adder trees, accumulators, requantizers, pools), the memories, each lane's "
            "selection among the passes' channel offsets, and each layer's shell (control, registers, output pixel, "
            "the classifier's M accumulators; fitted on synthesized layers of hwnas's generated designs, "
            "docs/fidelity.md)"
          : "the datapath (multipliers, adder trees, accumulators, requantizers, pools) and the memories; not the "
            "layers' control and output registers (on hwnas's generated pipelined_pe designs, these were most of "
            "the LUTs of small designs before that model priced them, docs/fidelity.md): on a small part, leave "
            "room");
  r.assumptions.emplace_back(
      "LUT costs",
      dev.family == lut_family::lut4
          ? "yosys 0.23 synth_ice40 tables (LUT4 cells with carry chains, the LUT4 family's arithmetic mode; "
            "PE arrays fitted on synthesized arrays, docs/calibration.md)"
      : dev.family == lut_family::lut6
          ? "yosys 0.23 synth_xilinx tables (LUT6 with CARRY4 chains; PE arrays fitted on synthesized arrays)"
          : "yosys 0.23 synth_intel tables (LUT4 without carry chains: adders cost about twice a carry chain's, a "
            "pessimistic bound)");
  r.assumptions.emplace_back("block RAM", dev.bram_half_shapes.empty()
                                              ? "a memory in block RAM takes whole blocks of the device's shapes"
                                              : "a memory in block RAM takes the fewest halves (RAMB18, 0.5 each) "
                                                "or whole blocks");
  const double hz = r.clock_mhz * 1e6;
  r.fps = r.cycles > 0 ? hz / static_cast<double>(r.cycles) : 0.0;
  r.latency_ms = static_cast<double>(r.latency_cycles) / hz * 1e3;
  auto frac = [](std::int64_t used, std::int64_t cap) {
    return cap > 0 ? static_cast<double>(used) / static_cast<double>(cap) : (used > 0 ? INFINITY : 0.0);
  };
  r.lut_utilization = frac(r.luts, dev.luts);
  r.ff_utilization = frac(r.ffs, dev.flip_flops);
  r.dsp_utilization = frac(r.dsps, dev.dsps);
  // block RAM is judged in units (halves on the XC7) and shown in blocks
  const std::int64_t per_block = dev.bram_units_per_block();
  const auto bram_units = static_cast<std::int64_t>(std::llround(r.brams * static_cast<double>(per_block)));
  r.bram_utilization = frac(bram_units, dev.brams * per_block);
  r.violations.clear();
  // `used` in 1/per of the unit `cap` counts (per > 1 only for block RAM halves)
  auto ceiling = [&](const char* name, const char* what, std::int64_t used, std::int64_t cap, std::int64_t per = 1) {
    if (used <= cap * per) return;
    const double actual = static_cast<double>(used) / static_cast<double>(per);
    violation v{name, static_cast<double>(cap), actual, {}};
    v.message = std::string(name) + ": " + what + " " + format_blocks(actual) + " > " + std::to_string(cap) + " (" +
                (cap > 0 ? format_percent(v.excess()) : std::string("none allowed")) + ")";
    r.violations.push_back(std::move(v));
  };
  // The spec's own ceiling is named when it is the tighter one, the device's otherwise.
  auto resource = [&](const char* spec_name, const char* device_name, const char* what, std::int64_t used,
                      const std::optional<std::int64_t>& spec_cap, std::int64_t device_cap, std::int64_t per = 1) {
    if (spec_cap && *spec_cap <= device_cap)
      ceiling(spec_name, what, used, *spec_cap, per);
    else
      ceiling(device_name, what, used, device_cap, per);
  };
  resource("max_luts", "device_luts", "LUTs", r.luts, s.max_luts, dev.luts);
  resource("max_dsps", "device_dsps", "DSP units", r.dsps, s.max_dsps, dev.dsps);
  resource("max_brams", "device_brams", "block RAMs", bram_units, s.max_brams, dev.brams, per_block);
  ceiling("device_ffs", "flip-flops", r.ffs, dev.flip_flops);  // no spec field: only the device's capacity
  if (r.lutram_luts > 0) ceiling("device_lutram", "LUTs used as RAM", r.lutram_luts, dev.lutram_luts);
  if (r.clock_mhz > dev.fmax_mhz) {
    violation v{"device_fmax", dev.fmax_mhz, r.clock_mhz, {}};
    v.message = "device_fmax: the clock " + format_number(r.clock_mhz, 10) + " MHz > " + format_number(dev.fmax_mhz) +
                " MHz, the " + std::string(dev.name) + " datapath's fmax (" + format_percent(v.excess()) +
                "); lower --clock-mhz";
    r.violations.push_back(std::move(v));
  }
  if (s.min_fps && r.cycles > lim.cycles) {
    violation v{"min_fps", *s.min_fps, r.fps, {}};
    v.message = "min_fps: " + format_number(r.fps, 6) + " fps < " + format_number(*s.min_fps, 6) + " fps (" +
                format_percent(-v.excess()) + "; " + std::to_string(r.cycles) + " cycles per frame, " +
                (lim.cycles >= 1 ? "at most " + std::to_string(lim.cycles) + " allowed"
                                 : std::string("less than one cycle per frame is left")) +
                " at " + format_number(r.clock_mhz) + " MHz)";
    r.violations.push_back(std::move(v));
  }
  if (s.max_latency_ms && r.latency_cycles > lim.latency_cycles) {
    violation v{"max_latency_ms", *s.max_latency_ms, r.latency_ms, {}};
    v.message = "max_latency_ms: " + format_number(r.latency_ms, 6) + " ms > " + format_number(*s.max_latency_ms, 6) +
                " ms (" + format_percent(v.excess()) + ")";
    r.violations.push_back(std::move(v));
  }
  r.feasible = r.violations.empty();
}

}  // namespace detail

/// The report as JSON: model, device, clock_mhz, feasible, luts, ffs, dsps, brams (blocks; 0.5 per XC7 half),
/// lutram_luts, reconfiguration {batch_frames, groups, configuration_cycles, configuration_ms} or null,
/// boundary_brams, boundary_luts, boundary_ffs (the FIFOs of group-boundary maps), cycles, fps, latency_ms,
/// latency_cycles, utilization{luts, ffs, dsps, brams}, engine{...}, layers[{name, parallelism{...}, luts, ffs, dsps,
/// brams, cycles}], violations[{constraint, limit, actual, excess, message}], note, assumptions{topic: statement}.
inline nlohmann::json to_json(const hw_report& r) {
  using nlohmann::json;
  auto factors = [](const std::vector<factor>& fs) {
    json j = json::object();
    for (const auto& [k, v] : fs) j[k] = v;
    return j;
  };
  json layers = json::array();
  for (const auto& l : r.layers)
    layers.push_back({{"name", l.name},
                      {"parallelism", factors(l.parallelism)},
                      {"luts", l.luts},
                      {"ffs", l.ffs},
                      {"dsps", l.dsps},
                      {"brams", l.brams},
                      {"cycles", l.cycles}});
  json violations = json::array();
  for (const auto& v : r.violations)
    violations.push_back({{"constraint", v.constraint},
                          {"limit", v.limit},
                          {"actual", v.actual},
                          {"excess", std::isfinite(v.excess()) ? json(v.excess()) : json(nullptr)},
                          {"message", v.message}});
  return json{{"model", r.model},
              {"device", r.device},
              {"clock_mhz", r.clock_mhz},
              {"feasible", r.feasible},
              {"luts", r.luts},
              {"ffs", r.ffs},
              {"dsps", r.dsps},
              {"brams", r.brams},
              {"lutram_luts", r.lutram_luts},
              {"reconfiguration", r.reconfiguration.batch_frames > 0
                                      ? json{{"batch_frames", r.reconfiguration.batch_frames},
                                             {"groups", r.reconfiguration.groups},
                                             {"configuration_cycles", r.reconfiguration.configuration_cycles},
                                             {"configuration_ms", static_cast<double>(r.reconfiguration.configuration_cycles) /
                                                                      (r.clock_mhz * 1e3)}}
                                      : json(nullptr)},
              {"boundary_brams", [&] {  // feature maps stored at group boundaries (pipelined_pe), not in a layer
                 double layers_sum = 0;
                 for (const auto& l : r.layers) layers_sum += l.brams;
                 return r.shared_engine ? 0.0 : std::max(0.0, r.brams - layers_sum);
               }()},
              {"boundary_luts", r.boundary_luts},
              {"boundary_ffs", r.boundary_ffs},
              {"cycles", r.cycles},
              {"fps", r.fps},
              {"latency_cycles", r.latency_cycles},
              {"latency_ms", r.latency_ms},
              {"utilization",
               {{"luts", r.lut_utilization},
                {"ffs", r.ff_utilization},
                {"dsps", r.dsp_utilization},
                {"brams", r.bram_utilization}}},
              {"engine", factors(r.engine)},
              {"shared_engine", r.shared_engine},
              {"layers", layers},
              {"violations", violations},
              {"note", r.note},
              {"assumptions", [&] {
                 json j = json::object();
                 for (const auto& [topic, text] : r.assumptions) j[topic] = text;
                 return j;
               }()}};
}

/// A readable per-layer table with totals, throughput, utilization and, when infeasible, the violations.
inline std::string to_table(const hw_report& r) {
  auto factors = [](const std::vector<factor>& fs) {
    std::string s;
    for (const auto& [k, v] : fs) s += (s.empty() ? "" : " ") + k + "=" + std::to_string(v);
    return s;
  };
  std::vector<std::vector<std::string>> rows;
  rows.push_back({"layer", "parallelism", "LUTs", "FFs", "DSPs", "BRAMs", "cycles", "% frame"});
  auto res = [&](std::int64_t v) { return r.shared_engine ? std::string("(engine)") : std::to_string(v); };
  double layer_brams = 0;
  std::vector<std::int64_t> stages_listed;  // stages whose array an earlier layer lists
  for (const auto& l : r.layers) {
    // a layer's cycles as a share of the frame interval: 100 for the layer that sets the rate of its group
    const double share = r.cycles > 0 ? 100.0 * static_cast<double>(l.cycles) / static_cast<double>(r.cycles) : 0;
    char pct[32];
    std::snprintf(pct, sizeof pct, "%.1f", share);
    std::string luts = res(l.luts), ffs = res(l.ffs);
    // a layer on a stage an earlier layer owns: its array is listed there, its own logic (memories, lane
    // selection) here
    for (const auto& [k, v] : l.parallelism)
      if (k == "stage" && !r.shared_engine) {
        if (std::find(stages_listed.begin(), stages_listed.end(), v) == stages_listed.end()) {
          stages_listed.push_back(v);
        } else {
          const std::string at = "(stage " + std::to_string(v) + ")";
          luts = l.luts == 0 ? at : std::to_string(l.luts) + " + " + at;
          ffs = l.ffs == 0 ? at : std::to_string(l.ffs) + " + " + at;
        }
      }
    layer_brams += l.brams;
    rows.push_back({l.name, factors(l.parallelism), luts, ffs, res(l.dsps),
                    r.shared_engine ? res(0) : detail::format_blocks(l.brams), std::to_string(l.cycles), pct});
  }
  if (!r.shared_engine && (r.brams > layer_brams || r.boundary_luts > 0))  // feature maps stored at group boundaries
    rows.push_back({"boundaries", "group maps", std::to_string(r.boundary_luts), std::to_string(r.boundary_ffs), "0",
                    detail::format_blocks(r.brams - layer_brams), "", ""});
  rows.push_back({"total", factors(r.engine), std::to_string(r.luts), std::to_string(r.ffs), std::to_string(r.dsps),
                  detail::format_blocks(r.brams), std::to_string(r.cycles), ""});
  std::vector<std::size_t> width(rows.front().size(), 0);
  for (const auto& row : rows)
    for (std::size_t c = 0; c < row.size(); ++c) width[c] = std::max(width[c], row[c].size());
  std::string out = r.model + " on " + r.device + " at " + detail::format_number(r.clock_mhz) + " MHz\n";
  for (std::size_t i = 0; i < rows.size(); ++i) {
    if (i == 1 || i + 1 == rows.size()) {
      std::size_t total = 0;
      for (auto w : width) total += w + 2;
      out += std::string(total, '-') + "\n";
    }
    for (std::size_t c = 0; c < rows[i].size(); ++c) {
      const auto& cell = rows[i][c];
      const std::string pad(width[c] - cell.size(), ' ');
      out += c <= 1 ? cell + pad + "  " : pad + cell + "  ";
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    out += "\n";
  }
  // what the parallelism factors mean, for those present
  static const std::pair<const char*, const char*> legend[] = {
      {"Tn", "products of one output computed at once (input channels, then the kernel window)"},
      {"Tm", "output channels computed at once"},
      {"group", "layers that stream together; groups run one after another"},
      {"stage", "the physical PE array the layer runs on (shared by the groups)"},
      {"PE", "output channels computed at once"},
      {"SIMD", "products of one output computed at once (input channels, then the kernel window)"},
      {"dsp", "1: multipliers in DSP units, 0: in LUTs"},
      {"lutram", "1: the layer's memories of <= 128 words in LUT RAM (in its LUTs), 0: all in block RAM"},
      {"Tr", "output rows per tile"},
      {"Tc", "output columns per tile"}};
  std::string keys;
  for (const auto& [name, meaning] : legend) {
    bool present = false;
    for (const auto& f : r.engine) present = present || f.first == name;
    for (const auto& l : r.layers)
      for (const auto& f : l.parallelism) present = present || f.first == name;
    if (present) keys += std::string("  ") + name + ": " + meaning + "\n";
  }
  if (!keys.empty()) out += "where\n" + keys;
  char buf[256];
  std::snprintf(buf, sizeof buf, "throughput %.6g fps (%lld cycles/frame), latency %.6g ms\n", r.fps,
                static_cast<long long>(r.cycles), r.latency_ms);
  out += buf;
  if (r.lutram_luts > 0)
    out += "LUT RAM: " + std::to_string(r.lutram_luts) + " of the " + std::to_string(r.luts) +
           " LUTs hold memories (layers with lutram=1)\n";
  std::snprintf(buf, sizeof buf, "utilization: LUTs %.1f%%, FFs %.1f%%, DSPs %.1f%%, BRAMs %.1f%%\n",
                100 * r.lut_utilization, 100 * r.ff_utilization, 100 * r.dsp_utilization, 100 * r.bram_utilization);
  out += buf;
  out += r.feasible ? "feasible: meets the spec\n" : "INFEASIBLE:\n";
  for (const auto& v : r.violations) out += "  " + v.message + "\n";
  if (!r.note.empty()) out += "note: " + r.note + "\n";
  if (!r.assumptions.empty()) {
    out += "assumptions:\n";
    for (const auto& [topic, text] : r.assumptions) out += "  " + topic + ": " + text + "\n";
  }
  return out;
}

/// Prints to_table(r).
inline std::ostream& operator<<(std::ostream& os, const hw_report& r) { return os << to_table(r); }

}  // namespace hwnas::fpga
