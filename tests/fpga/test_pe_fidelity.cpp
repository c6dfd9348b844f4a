// Fidelity of the pipelined_pe LUT model against real synthesis: the LUT estimate of a Tn x Tm PE array
// (pe_array, what pipelined_pe charges a layer before pooling) versus yosys on the same array, from
// tools/calibration/pe_array_<flow>.csv (the arrays the model is fitted on, `tools/calibrate --only pe-array`) and
// pe_heldout_<flow>.csv (more arrays, random Tn 1..64, Tm 1..8, a and w 1..8, never used by the fit). Goal on the
// held-out arrays (issue 8): median |error| <= 8 %, worst <= 20 %, flip-flops exact; on the fit set median <= 10 %,
// worst <= 25 %. The tables printed here are the ones in docs/calibration.md#pe-array-fit.

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "hwnas/fpga/calibration_tables.hpp"
#include "hwnas/fpga/primitives.hpp"

using namespace hwnas::fpga;

namespace {

struct row {
  int tn, tm, a, w, acc, out;
  long luts, ffs;
};

/// Reads the CSV by column name; empty when the file is missing.
std::vector<row> read_pe_csv(const std::filesystem::path& path) {
  std::vector<row> rows;
  std::ifstream in(path);
  if (!in) return rows;
  std::string line;
  std::getline(in, line);
  std::map<std::string, std::size_t> col;
  {
    std::stringstream ss(line);
    std::string name;
    for (std::size_t i = 0; std::getline(ss, name, ','); ++i) col[name] = i;
  }
  for (const std::string c : {"tn", "tm", "a", "w", "acc_bits", "out_bits", "luts", "ffs"})
    REQUIRE_MESSAGE(col.count(c) == 1, path.string() << " has no column " << c);
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    std::vector<long> v;
    std::stringstream ss(line);
    std::string cell;
    while (std::getline(ss, cell, ',')) v.push_back(std::stol(cell));
    rows.push_back({static_cast<int>(v[col["tn"]]), static_cast<int>(v[col["tm"]]), static_cast<int>(v[col["a"]]),
                    static_cast<int>(v[col["w"]]), static_cast<int>(v[col["acc_bits"]]),
                    static_cast<int>(v[col["out_bits"]]), v[col["luts"]], v[col["ffs"]]});
  }
  return rows;
}

struct summary {
  double median = 0, worst = 0;
  std::size_t n = 0;
};

/// The Lu'19 (NAQS) way of costing the same array, for comparison: separate pairwise adders per tree level and the
/// standalone accumulator, with the same multiplier and requantizer primitives.
std::int64_t pairwise_estimate(lut_family family, const row& r) {
  const int p = product_bits(r.a, r.w);
  return std::int64_t{r.tm} *
         (r.tn * multiplier_luts(family, r.a, r.w) + adder_tree_luts(family, r.tn, p) +
          accumulator_luts(family, r.acc) + requantizer_luts(family, r.acc, r.out, requantizer_default_shift(r.w)));
}

summary summarize(std::vector<double> errors, std::string& table) {
  summary s;
  s.n = errors.size();
  if (errors.empty()) return s;
  std::sort(errors.begin(), errors.end());
  s.median = s.n % 2 ? errors[s.n / 2] : (errors[s.n / 2 - 1] + errors[s.n / 2]) / 2;
  s.worst = errors.back();
  char buf[160];
  std::snprintf(buf, sizeof buf, "median |error| %.1f %%, worst %.1f %% over %zu\n", 100 * s.median, 100 * s.worst,
                s.n);
  table += buf;
  return s;
}

summary compare(lut_family family, const std::vector<row>& rows, std::string& table) {
  std::vector<double> errors, pairwise;
  char buf[240];
  table +=
      "| Tn | Tm | a | w | acc | out | yosys LUTs | hwnas | error | Lu'19-style | error |\n"
      "|---|---|---|---|---|---|---|---|---|---|---|\n";
  for (const auto& r : rows) {
    const auto est = pe_array(family, r.tn, r.tm, r.a, r.w, r.acc, r.out).luts;
    const auto old = pairwise_estimate(family, r);
    const double y = static_cast<double>(r.luts);
    const double err = (static_cast<double>(est) - y) / y, err_old = (static_cast<double>(old) - y) / y;
    errors.push_back(std::abs(err));
    pairwise.push_back(std::abs(err_old));
    std::snprintf(buf, sizeof buf, "| %d | %d | %d | %d | %d | %d | %ld | %lld | %+.1f %% | %lld | %+.1f %% |\n", r.tn,
                  r.tm, r.a, r.w, r.acc, r.out, r.luts, static_cast<long long>(est), 100 * err,
                  static_cast<long long>(old), 100 * err_old);
    table += buf;
  }
  table += "Lu'19-style: ";
  summarize(pairwise, table);
  table += "hwnas: ";
  return summarize(errors, table);
}

/// The requantizer primitive against tools/calibration/requantizer_<flow>.csv (acc_bits,out_bits,shift,luts).
summary compare_requantizers(lut_family family, const std::filesystem::path& path, std::string& table) {
  std::ifstream in(path);
  std::vector<double> errors;
  if (!in) return {};
  std::string line;
  std::getline(in, line);
  REQUIRE_MESSAGE(line.rfind("acc_bits,out_bits,shift,luts", 0) == 0, path.string() << ": unexpected columns");
  char buf[160];
  while (std::getline(in, line)) {
    int acc = 0, out = 0, shift = 0;
    long luts = 0;
    if (std::sscanf(line.c_str(), "%d,%d,%d,%ld", &acc, &out, &shift, &luts) != 4) continue;
    const auto est = requantizer_luts(family, acc, out, shift);
    const double err = (static_cast<double>(est) - static_cast<double>(luts)) / static_cast<double>(luts);
    errors.push_back(std::abs(err));
    std::snprintf(buf, sizeof buf, "requantizer %d -> %d, shift %d: yosys %ld, hwnas %lld (%+.1f %%)\n", acc, out,
                  shift, luts, static_cast<long long>(est), 100 * err);
    table += buf;
  }
  return summarize(errors, table);
}

}  // namespace

namespace {
struct flow_files {
  lut_family family;
  const char* flow;  // the CSV suffix
};
constexpr flow_files flows[] = {{lut_family::lut4, "ice40"}, {lut_family::lut6, "lut6"}, {lut_family::lut4_nocarry, "lut4"}};
}  // namespace

TEST_CASE("fidelity: PE-array LUTs against yosys synthesis, on arrays held out of the fit (median <= 8 %, worst <= 20 %)") {
  namespace fs = std::filesystem;
  const fs::path dir = fs::path(HWNAS_SOURCE_DIR) / "tools" / "calibration";
  for (const auto& f : flows) {
    const auto fit = read_pe_csv(dir / (std::string("pe_array_") + f.flow + ".csv"));
    const auto held = read_pe_csv(dir / (std::string("pe_heldout_") + f.flow + ".csv"));
    const std::string flow = f.flow;
    CAPTURE(flow);
    REQUIRE(!fit.empty());
    REQUIRE(!held.empty());
    CHECK(held.size() > fit.size());  // more arrays held out than fitted on
    std::string table;
    const auto s = compare(f.family, fit, table);
    MESSAGE("pe_array_" << f.flow << ".csv (fit)\n" << table);
    CHECK(s.median <= 0.10);
    CHECK(s.worst <= 0.25);  // the fit set includes its hardest arrays (64 x 1 at 2 bits); the goal is held out
    std::string held_table;
    const auto h = compare(f.family, held, held_table);
    MESSAGE("pe_heldout_" << f.flow << ".csv (held out)\n" << held_table);
    CHECK(h.median <= 0.08);
    CHECK(h.worst <= 0.20);
    for (const auto* rows : {&fit, &held})
      for (const auto& r : *rows) {
        CAPTURE(r.tn);
        CAPTURE(r.tm);
        CHECK(pe_array(f.family, r.tn, r.tm, r.a, r.w, r.acc, r.out).ffs == r.ffs);  // flip-flops exact
      }
    std::string rq;
    const auto q = compare_requantizers(f.family, dir / (std::string("requantizer_") + f.flow + ".csv"), rq);
    MESSAGE(rq);
    REQUIRE(q.n > 0);
    CHECK(q.worst <= 0.20);
  }
}
