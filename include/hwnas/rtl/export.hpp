#pragma once
/// @file
/// The export as a user runs it (hwnas-export, hwnas-codesign --export): write the design into a directory that is
/// either new, empty, or an earlier export (never a directory of other files), lint it, optionally simulate it on
/// test images, and describe everything in `export.json` beside the Verilog (docs/hardware.md).

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "hwnas/core/atomic_file.hpp"
#include "hwnas/core/error.hpp"
#include "hwnas/fpga/hw_report.hpp"
#include "hwnas/fpga/pipelined_pe.hpp"
#include "hwnas/io/dataset.hpp"
#include "hwnas/rtl/simulate.hpp"

namespace hwnas::rtl {

/// The manifest an export writes; its presence marks a directory as an hwnas export that may be rewritten.
inline constexpr const char* export_manifest = "export.json";

namespace detail {
/// Whether `dir` holds a manifest written by an export (its "format" is "hwnas-export").
inline bool holds_export(const std::filesystem::path& dir) {
  std::ifstream in(dir / export_manifest);
  if (!in) return false;
  const auto j = nlohmann::json::parse(in, nullptr, false);
  return j.is_object() && j.contains("format") && j["format"] == "hwnas-export";
}
}  // namespace detail

/// Throws hwnas::io_error unless `dir` can take an export: missing (it is created), empty, or holding an earlier
/// export (an export.json whose "format" is "hwnas-export"). A directory of other files, or with an export.json of
/// someone else's, is never written into. `option` names the command-line option in the message.
inline void check_export_dir(const std::filesystem::path& dir, const std::string& option = "--out") {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (dir.empty()) throw io_error(option + " is empty; give a directory for the Verilog");
  // Verilator builds its simulator with GNU make, which cannot work in a path with spaces or quotes
  for (const char c : fs::absolute(dir).string())
    if (c == ' ' || c == '\'' || c == '"' || c == '\\' || c == '$' || c == '`' || c == '\t' || c == '\n')
      throw io_error(option + " " + dir.string() + ": a path with spaces, quotes, '\\', '$' or '`' cannot be built "
                     "by Verilator's make; choose another directory (nothing was written)");
  if (fs::is_symlink(dir, ec) && !fs::exists(dir, ec))
    throw io_error(option + " " + dir.string() + " is a dangling symbolic link; choose another directory");
  if (!fs::exists(dir, ec)) return;
  if (!fs::is_directory(dir, ec))
    throw io_error(option + " " + dir.string() + " exists and is not a directory; choose another directory");
  if (detail::holds_export(dir)) return;
  if (fs::exists(dir / export_manifest))
    throw io_error(option + " " + dir.string() + " holds an " + std::string(export_manifest) +
                   " that is not an hwnas export's; nothing was written: choose a new or empty directory");
  if (fs::directory_iterator(dir, ec) != fs::directory_iterator())
    throw io_error(option + " " + dir.string() + " is not empty and holds no earlier export (" +
                   std::string(export_manifest) + "); nothing was written: choose a new or empty directory");
  if (ec) throw io_error(dir.string() + ": " + ec.message());
}

namespace detail {
/// Whether `name` (a file in an export directory) is one an export of top module `top` writes: the Verilog and
/// memory files (<top>.v, <top>_l<i>.v, <top>_fc.v, <top>_s<t>.v, <top>_b<k>.v, their _w.mem), the simulation's
/// (obj_<top>/, sim_<top>, tb_<top>.cpp, lint_/build_<top>.log, stimulus*.bin, results*.txt and their .log) and
/// tools/verify-design's verify.json. Exact names only: a user's file beside them is never taken for ours.
inline bool written_by_export(const std::string& name, const std::string& top) {
  for (const char* f : {"stimulus.bin", "stimulus_paced.bin", "results.txt", "results.txt.log", "results_paced.txt",
                        "results_paced.txt.log", "verify.json"})
    if (name == f) return true;
  if (top.empty()) return false;
  for (const std::string& f : {"obj_" + top, "sim_" + top, "tb_" + top + ".cpp", "lint_" + top + ".log",
                               "build_" + top + ".log", top + ".v", top + "_fc.v", top + "_fc_w.mem"})
    if (name == f) return true;
  // <top>_<l|s|b><digits>.v and <top>_<l|s><digits>_w.mem
  if (name.size() <= top.size() + 3 || name.compare(0, top.size() + 1, top + "_") != 0) return false;
  const std::string rest = name.substr(top.size() + 1);
  const char kind = rest[0];
  std::size_t i = 1;
  while (i < rest.size() && std::isdigit(static_cast<unsigned char>(rest[i]))) ++i;
  if (i == 1 || (kind != 'l' && kind != 's' && kind != 'b')) return false;
  const std::string tail = rest.substr(i);
  return tail == ".v" || (kind != 'b' && tail == "_w.mem");
}

/// Whether `name` in an export's verify/ directory is one tools/verify-design writes.
inline bool written_by_verify(const std::string& name) {
  for (const char* prefix : {"stat_", "netlist_", "synth_", "pnr_", "nextpnr_"})
    if (name.rfind(prefix, 0) == 0) return true;
  const auto ends = [&](const std::string& x) {
    return name.size() >= x.size() && name.compare(name.size() - x.size(), x.size(), x) == 0;
  };
  return ends("_pnr.v") || ends(".asc");
}
}  // namespace detail

/// Makes `dir` ready for an export of top module `top` (check_export_dir first): creates it, removes what an
/// earlier export wrote there (the files an export of its manifest's top module or of `top` writes, by exact name:
/// detail::written_by_export, never a name the manifest merely lists; in verify/, tools/verify-design's files, and verify/
/// itself when that leaves it empty), and marks it as an export at once with a provisional manifest ("status": "in
/// progress", the top), so that an export that fails or is stopped can be repeated into the same directory. Files
/// of the user's beside them stay.
/// @throws hwnas::io_error when the directory cannot be created or written
inline void prepare_export_dir(const std::filesystem::path& dir, const std::string& top = "hwnas_top") {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw io_error("rtl export: cannot create " + dir.string() + ": " + ec.message());
  if (detail::holds_export(dir)) {
    std::ifstream in(dir / export_manifest);
    const auto old = nlohmann::json::parse(in, nullptr, false);
    // a name, not a path (nor "." or ".."): a damaged manifest must never name a way out of the directory
    const auto plain = [](const std::string& f) {
      return !f.empty() && f != "." && f != ".." && f.find_first_of("/\\") == std::string::npos;
    };
    std::vector<std::string> tops = {top};
    if (old.is_object() && old.contains("top") && old["top"].is_string() && plain(old["top"].get<std::string>()))
      tops.push_back(old["top"].get<std::string>());
    // only the names an export of these tops writes (exact names), whatever the manifest's "files" says: a damaged
    // or edited manifest cannot make the export remove a user's file
    std::vector<fs::path> remove;
    for (const auto& e : fs::directory_iterator(dir, ec)) {
      const auto n = e.path().filename().string();
      if (std::any_of(tops.begin(), tops.end(), [&](const std::string& t) { return detail::written_by_export(n, t); }))
        remove.push_back(e.path());
    }
    if (fs::is_directory(dir / "verify", ec)) {
      for (const auto& e : fs::directory_iterator(dir / "verify", ec))
        if (detail::written_by_verify(e.path().filename().string())) remove.push_back(e.path());
    }
    for (const auto& p : remove) fs::remove_all(p, ec);
    if (fs::is_directory(dir / "verify", ec) && fs::is_empty(dir / "verify", ec)) fs::remove(dir / "verify", ec);
  }
  write_file_atomically(dir / export_manifest, nlohmann::json{{"format", "hwnas-export"},
                                                              {"version", 1},
                                                              {"status", "in progress"},
                                                              {"top", top}}
                                                   .dump(2) +
                                                   "\n");
}

/// Marks a directory prepared by prepare_export_dir as holding no design, with the reason (e.g. no design met the
/// spec), so that it does not read as an interrupted export ("in progress").
inline void mark_nothing_exported(const std::filesystem::path& dir, const std::string& reason) {
  write_file_atomically(dir / export_manifest,
                        nlohmann::json{{"format", "hwnas-export"}, {"version", 1}, {"status", "nothing exported"},
                                       {"reason", reason}}
                                .dump(2) +
                            "\n");
}

/// What a simulation of the exported design on test images measured, beside what it is compared with.
struct simulation_summary {
  std::size_t images = 0;
  std::size_t logit_mismatches = 0;   ///< logits differing from nn::integer_network's (must be 0)
  std::size_t class_mismatches = 0;   ///< hardware argmax differing from the integer network's prediction
  double hardware_accuracy = 0;       ///< fraction of the images the hardware classifies correctly
  double integer_accuracy = 0;        ///< the same for nn::integer_network
  std::int64_t interval = 0;          ///< measured cycles between classes, steady state (input as fast as taken)
  std::int64_t model_interval = 0;    ///< the cost model's cycles per frame
  /// One group: the model's interval is the hardware's, exactly. Several (stages shared between groups): it is an
  /// upper bound (pe_grouped_interval), which the measured interval must not exceed.
  bool interval_exact = true;
  std::int64_t latency = 0;           ///< measured first pixel to class, input paced at the model's interval
  std::int64_t model_latency = 0;     ///< the cost model's latency in cycles
  std::int64_t latency_bound = 0;     ///< model_latency + pipeline_cycles(plan)

  /// The interval is what the model says: equal to it (one group) or within its bound (several groups).
  bool interval_as_modelled() const noexcept {
    return interval_exact ? interval == model_interval : interval <= model_interval;
  }
  /// Logits and classes equal to the integer network's, the interval and the latency as the model says.
  bool as_expected() const noexcept {
    return logit_mismatches == 0 && class_mismatches == 0 && interval_as_modelled() && latency <= latency_bound;
  }
};

/// Throws hwnas::invalid_argument unless `test` can drive a simulation of `net` on `count` images: at least 2 (the
/// interval is measured between classes) and the network's input shape. Call it before writing anything.
inline void check_simulation_data(const nn::integer_network& net, const io::dataset& test, std::size_t count) {
  const auto& a = net.arch();
  if (std::min(count, test.size()) < 2)
    throw invalid_argument("rtl simulation: needs at least 2 test images (the interval is measured between classes); "
                           "the data have " + std::to_string(test.size()));
  if (test.channels() != static_cast<std::size_t>(a.input.channels) ||
      test.height() != static_cast<std::size_t>(a.input.height) || test.width() != static_cast<std::size_t>(a.input.width))
    throw invalid_argument("rtl simulation: the test images are " + std::to_string(test.channels()) + "x" +
                           std::to_string(test.height()) + "x" + std::to_string(test.width()) + ", the network takes " +
                           std::to_string(a.input.channels) + "x" + std::to_string(a.input.height) + "x" +
                           std::to_string(a.input.width));
}

/// Simulates the first `count` images of `test` on the design in `dir` (written by write_design) and compares.
/// Two runs: input as fast as the design takes it (logits, classes, interval), then paced at the model's interval
/// (latency; the model's latency assumes each frame spread over its interval).
/// @throws hwnas::io_error when Verilator fails; hwnas::invalid_argument when the data do not fit the network
inline simulation_summary simulate_on(const verilog_design& d, const std::filesystem::path& dir,
                                      const nn::integer_network& net, const io::dataset& test, std::size_t count,
                                      const fpga::hw_report& model) {
  check_simulation_data(net, test, count);
  count = std::min(count, test.size());
  const auto& a = net.arch();
  const auto sim = build_simulator(d, dir);
  write_stimulus(dir / "stimulus.bin", net, test.images.data(), count);
  const auto trace = net.trace(test.images.data(), count);
  simulation_summary s;
  s.images = count;
  s.model_interval = model.cycles;
  s.interval_exact = d.plan.boundaries.empty();
  s.model_latency = model.latency_cycles;
  s.latency_bound = model.latency_cycles + pipeline_cycles(d.plan);
  const auto k = static_cast<std::size_t>(a.classes);
  std::size_t hw_right = 0, int_right = 0;
  const auto fast = run_simulator(sim, dir / "stimulus.bin", dir / "results.txt", 0);
  if (fast.size() != count) throw io_error(std::string("rtl simulation: the simulator returned ") + std::to_string(fast.size()) +
                                           std::string(" frames for ") + std::to_string(count) + " images");
  for (std::size_t f = 0; f < count; ++f) {
    const std::int64_t* z = trace.logits.data() + f * k;
    const auto predicted = static_cast<int>(std::max_element(z, z + k) - z);
    bool same = fast[f].logits.size() == k;
    for (std::size_t m = 0; same && m < k; ++m) same = fast[f].logits[m] == z[m];
    s.logit_mismatches += !same;
    s.class_mismatches += fast[f].predicted != predicted;
    hw_right += fast[f].predicted == test.labels(f);
    int_right += predicted == test.labels(f);
  }
  s.hardware_accuracy = static_cast<double>(hw_right) / static_cast<double>(count);
  s.integer_accuracy = static_cast<double>(int_right) / static_cast<double>(count);
  s.interval = fast[count - 1].out - fast[count - 2].out;
  const std::size_t paced_frames = std::min<std::size_t>(count, 4);
  write_stimulus(dir / "stimulus_paced.bin", net, test.images.data(), paced_frames);
  const auto paced = run_simulator(sim, dir / "stimulus_paced.bin", dir / "results_paced.txt", model.cycles);
  s.latency = paced.back().out - paced.back().first_in;
  return s;
}

/// A weight ROM of a design kept in logic: its layer (or the first layer of its shared stage, where the report lists
/// the stage), its shape, the model's column bound without the contents (fpga::logic_rom_columns) and the columns its
/// memory file really has (rom_columns).
struct logic_rom {
  std::size_t layer = 0;
  std::string file;
  std::int64_t words = 0, width = 0, bound = 0, columns = 0;
};

/// The weight ROMs of `d` kept in logic (fpga::memory_in_logic), with their columns counted from the contents.
inline std::vector<logic_rom> logic_roms(const verilog_design& d) {
  auto text_of = [&](const std::string& name) -> const std::string& {
    for (const auto& f : d.files)
      if (f.name == name) return f.text;
    throw invalid_argument("rtl: the design has no file " + name);
  };
  std::vector<logic_rom> out;
  auto add = [&](std::size_t layer, std::string file, std::int64_t words, std::int64_t width) {
    if (!fpga::memory_in_logic(words, true)) return;
    const std::int64_t columns = rom_columns(text_of(file), width);
    out.push_back({layer, std::move(file), words, width, fpga::logic_rom_columns(words, width), columns});
  };
  for (std::size_t l = 0; l < d.plan.layers.size(); ++l) {
    const auto& L = d.plan.layers[l];
    if (d.plan.stages[static_cast<std::size_t>(L.stage)].shared()) continue;
    add(l, (L.g.is_classifier ? d.top + "_fc" : d.top + "_l" + std::to_string(l)) + "_w.mem", L.weight_words,
        L.weight_width);
  }
  for (std::size_t t = 0; t < d.plan.stages.size(); ++t) {
    const auto& st = d.plan.stages[t];
    if (!st.shared()) continue;
    add(static_cast<std::size_t>(st.served.front()), d.top + "_s" + std::to_string(t) + "_w.mem", st.weight_words,
        st.weight_width);
  }
  return out;
}

/// Low accumulator bits synth_xilinx removes from conv layer `L` (per column): with one pass per output (passes 1) the
/// accumulator is loaded, never added to, and the requantizer's round half away, (acc + 2^(shift-1)) >> shift, reads
/// no bit below shift - 1, so those registers go (measured on the XC7Z020: 5 of 16 bits at shift 6, 2 of 18 at shift
/// 3); synth_ice40 keeps them (its carry chain is mapped over every bit). 0 otherwise.
inline std::int64_t unread_accumulator_bits(const layer_plan& L, fpga::lut_family family) noexcept {
  if (family != fpga::lut_family::lut6 || L.g.is_classifier || L.passes != 1 || L.shift <= 1) return 0;
  return std::min<std::int64_t>(L.shift - 1, L.acc_bits);
}

/// Bits of each output code of conv layer `L` its requantizer makes equal: with a left shift (shift < 0) the low
/// min(-shift, out_bits) bits are all the saturation flag (zeros, or the saturated code's ones), so synthesis keeps
/// one register for them wherever a code is held (opt_merge): min(-shift, out_bits) - 1 fewer per code, in the
/// layer's output pixel registers (fpga::detail::pe_output_ffs) and in the next layer's input buffer when that is
/// logic (the classifier's, always). Measured on the XC7Z020 and the iCE40 (a 1x1 conv layer at shift -3: 2 of each
/// 6-bit code's registers gone, in asm_r, out_data and the classifier's buffer). 0 otherwise.
inline std::int64_t repeated_code_bits(const layer_plan& L) noexcept {
  if (L.g.is_classifier || L.shift >= 0 || L.g.out_bits <= 1) return 0;
  return std::min<std::int64_t>(-std::int64_t{L.shift}, L.g.out_bits) - 1;
}

/// The model's report `r` of design `d` on device `dev` priced as built, with what the trained network fixes and the
/// search cannot know: the weight ROMs kept in logic from their contents (the search prices them at a bound, every
/// column distinct, fpga::logic_rom_columns; synthesis keeps one LUT function and one register per distinct
/// non-constant column, which the memory file gives exactly: trained weights repeat their sign bits, a 16-word ROM of
/// 1,152 bits kept 729 on the XC7Z020, the flip-flops exactly), on LUT6 fabric the accumulator bits the
/// requantizer's shift leaves unread (unread_accumulator_bits), the output codes' bits a left shift makes equal
/// (repeated_code_bits), and accumulators the trained bias widens beyond the model's width (their registers and
/// adders, adder_luts). Changes the layers' and the totals' LUTs and flip-flops by those, says so in the
/// assumptions ("as built"), and judges the spec `s` and the device again on the figures as built.
inline fpga::hw_report priced_as_built(const verilog_design& d, const fpga::device_info& dev, fpga::hw_report r,
                                       const fpga::spec& s = {}) {
  std::int64_t bound = 0, columns = 0, luts = 0, acc = 0, repeated = 0, wide_ffs = 0, wide_luts = 0;
  auto lower = [&](std::size_t layer, std::int64_t l, std::int64_t f) {
    if (layer < r.layers.size()) {
      r.layers[layer].luts -= l;
      r.layers[layer].ffs -= f;
    }
    r.luts -= l;
    r.ffs -= f;
  };
  for (const auto& rom : logic_roms(d)) {
    const std::int64_t extra = rom.bound - rom.columns;
    const std::int64_t extra_luts = extra * fpga::logic_rom_bit_luts(dev.family, rom.words);
    lower(rom.layer, extra_luts, extra);
    bound += rom.bound;
    columns += rom.columns;
    luts += extra_luts;
  }
  for (std::size_t l = 0; l < d.plan.layers.size(); ++l) {
    const auto& L = d.plan.layers[l];
    // a shared stage's layers' accumulators and pixel registers are listed with the stage, at its first layer
    const auto& st = d.plan.stages[static_cast<std::size_t>(L.stage)];
    const std::size_t at = st.shared() ? static_cast<std::size_t>(st.served.front()) : l;
    const std::int64_t unread = L.tm * unread_accumulator_bits(L, dev.family);
    lower(at, 0, unread);
    acc += unread;
    if (L.acc_bits > L.model_acc_bits) {  // a bias wider than the model's accumulator: every accumulator register
      const std::int64_t more = L.acc_bits - L.model_acc_bits;
      // the classifier's accs, finished tile, logits and best value (pe_output_ffs); a conv layer's Tm columns
      const std::int64_t M = L.g.out_channels, qm = fpga::ceil_div(M, L.tm);
      const std::int64_t regs = L.g.is_classifier ? qm * L.tm + L.tm + M + 1 : L.tm;
      const std::int64_t l6 = L.tm * (fpga::adder_luts(dev.family, L.acc_bits) -
                                      fpga::adder_luts(dev.family, L.model_acc_bits));
      lower(at, -l6, -regs * more);
      wide_ffs += regs * more;
      wide_luts += l6;
    }
    const std::int64_t k = repeated_code_bits(L);
    if (k == 0) continue;
    const std::int64_t pixel = fpga::detail::pe_output_ffs(L.g, L.tm) / L.g.out_bits * k;
    lower(at, 0, pixel);
    repeated += pixel;
    if (l + 1 < d.plan.layers.size()) {  // the next layer's input buffer, where it is flip-flops
      const auto& N = d.plan.layers[l + 1];
      std::int64_t codes = 0;
      if (N.g.is_classifier) codes = std::int64_t{N.buffer_rows + N.read_ports} * N.channels;
      else if (fpga::memory_in_logic(N.buffer_words, false)) codes = N.buffer_words * N.channels;
      lower(l + 1, 0, codes * k);
      repeated += codes * k;
    }
  }
  if (bound == 0 && acc == 0 && repeated == 0 && wide_ffs == 0) return r;
  std::vector<std::string> parts;
  if (bound > 0)
    parts.push_back("the weight ROMs kept in logic keep " + std::to_string(columns) + " of at most " +
                    std::to_string(bound) + " columns (distinct and not constant: one LUT function and one register "
                    "each), " + std::to_string(luts) + " LUTs and " + std::to_string(bound - columns) +
                    " flip-flops fewer");
  if (acc > 0)
    parts.push_back(std::to_string(acc) + " accumulator flip-flops fewer: bits the requantizers never read (one "
                    "pass per output)");
  if (repeated > 0)
    parts.push_back(std::to_string(repeated) + " flip-flops fewer: output code bits a left shift makes equal");
  if (wide_ffs > 0)
    parts.push_back(std::to_string(wide_ffs) + " flip-flops and " + std::to_string(wide_luts) +
                    " LUTs more: accumulators the trained bias widens");
  std::string text = "priced with the trained network:";
  for (std::size_t i = 0; i < parts.size(); ++i) text += (i ? "; " : " ") + parts[i];
  // the spec and the device judged on the figures as built (finish_report states its assumptions again: keep ours)
  const auto assumptions = r.assumptions;
  fpga::detail::finish_report(r, dev, s, fpga::resolve(s, dev, r.clock_mhz));
  r.assumptions = assumptions;
  r.assumptions.emplace_back("as built", text);
  return r;
}

/// JSON of a plan: per layer the array, loops, accumulator and memories.
inline nlohmann::json to_json(const design_plan& p) {
  nlohmann::json layers = nlohmann::json::array();
  for (std::size_t l = 0; l < p.layers.size(); ++l) {
    const auto& L = p.layers[l];
    const auto shell = fpga::detail::pe_layer_shell(fpga::lut_family::lut4, L.g);
    layers.push_back({{"name", L.g.is_classifier ? std::string("fc") : std::string("conv") + std::to_string(l)},
                      {"Tn", L.tn},
                      {"Tm", L.tm},
                      {"passes", L.passes},
                      {"tiles", L.tiles},
                      {"accumulator_bits", L.acc_bits},
                      {"model_accumulator_bits", L.model_acc_bits},
                      {"requantizer_shift", L.g.is_classifier ? nlohmann::json(nullptr) : nlohmann::json(L.shift)},
                      {"buffer", {{"words", L.buffer_words}, {"width", L.buffer_width}, {"read_ports", L.read_ports},
                                  {L.g.is_classifier ? "pixels" : "rows", L.buffer_rows}}},
                      {"weights", {{"words", L.weight_words}, {"width", L.weight_width}}},
                      // what tools/fit-layer-shell reads: the layer's shape and the model's shell on LUT4 fabric
                      {"geometry", {{"pixel_channels", L.channels},
                                    {"act_bits", L.g.act_bits},
                                    {"out_channels", L.g.out_channels},
                                    {"out_bits", L.g.out_bits},
                                    {"pool", L.g.pool},
                                    {"classifier", L.g.is_classifier}}},
                      {"shell_lut4", {{"luts", shell.luts}, {"ffs", shell.ffs}}}});
  }
  return {{"input", {{"channels", p.input_channels}, {"bits", p.input_bits}}},
          {"classes", p.classes},
          {"logit_bits", p.logit_bits},
          {"layers", layers}};
}

inline nlohmann::json to_json(const simulation_summary& s) {
  return {{"images", s.images},
          {"logit_mismatches", s.logit_mismatches},
          {"class_mismatches", s.class_mismatches},
          {"hardware_accuracy", s.hardware_accuracy},
          {"integer_accuracy", s.integer_accuracy},
          {"interval_cycles", s.interval},
          {"model_interval_cycles", s.model_interval},
          {"latency_cycles", s.latency},
          {"model_latency_cycles", s.model_latency},
          {"latency_bound_cycles", s.latency_bound},
          {"model_interval_is", s.interval_exact ? "exact" : "an upper bound (stages shared between groups)"},
          {"interval", s.interval_exact ? (s.interval == s.model_interval ? "equal to the model" : "differs from the model")
                                        : (s.interval <= s.model_interval ? "within the model's bound" : "over the model's bound")},
          {"latency", s.latency <= s.latency_bound ? "within the model's latency plus the pipeline's registers"
                                                    : "over the bound"}};
}

}  // namespace hwnas::rtl
