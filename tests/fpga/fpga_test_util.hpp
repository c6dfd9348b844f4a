#pragma once
// Helpers shared by the fpga tests: small random quantized architectures (small enough for the brute-force twins),
// random specs placed around the cost of a random mapping, so that both feasible and infeasible cases occur, and the
// conformance check every exact mapping search passes against its brute-force twin.

#include <cstdint>
#include <optional>
#include <string>

#include <doctest/doctest.h>

#include "hwnas/core/architecture.hpp"
#include "hwnas/core/qformat.hpp"
#include "hwnas/core/rng.hpp"
#include "hwnas/fpga/hw_report.hpp"
#include "hwnas/fpga/spec.hpp"

namespace hwnas::fpga::test {

inline int pick(rng& r, int lo, int hi) {
  return lo + static_cast<int>(r.below(static_cast<std::uint64_t>(hi - lo + 1)));
}

/// Weights s0.(b-1) (b >= 1), activations u1.(b-1) (or u0.0+1 for b = 1: u1.0).
inline qformat weight_bits(int b) { return qformat::weight(0, b - 1); }
inline qformat act_bits(int b) { return qformat::activation(1, b - 1); }

/// A random architecture of 1..max_convs conv layers on a small input, every format random in 1..max_bits.
/// `size` scales the extents (1: tiny, for the brute forces).
inline architecture random_small_architecture(rng& r, int max_convs = 2, int max_bits = 8) {
  architecture a;
  a.input = {pick(r, 1, 2), pick(r, 3, 6), pick(r, 3, 6)};
  a.classes = pick(r, 2, 3);
  a.input_format = qformat::activation(0, pick(r, 1, max_bits));
  const int convs = pick(r, 1, max_convs);
  int h = a.input.height, w = a.input.width;
  for (int i = 0; i < convs; ++i) {
    conv_layer l;
    l.filters = pick(r, 1, 4);
    l.kernel = r.below(3) == 0 ? 1 : 3;
    l.stride = r.below(5) == 0 ? 2 : 1;
    l.pool = (r.below(3) == 0 && (h + l.stride - 1) / l.stride >= 2 && (w + l.stride - 1) / l.stride >= 2) ? 2 : 1;
    l.weight_format = weight_bits(pick(r, 1, max_bits));
    l.activation_format = act_bits(pick(r, 1, max_bits));
    h = (h + l.stride - 1) / l.stride / l.pool;
    w = (w + l.stride - 1) / l.stride / l.pool;
    a.layers.push_back(l);
  }
  a.classifier.weight_format = weight_bits(pick(r, 1, max_bits));
  return a;
}

/// A random spec around report `x` (the cost of some mapping): each constraint present with probability 1/2 and
/// set to the mapping's value times a factor in [0.6, 1.6]; sometimes a spec with nothing but max_brams or
/// max_dsps tight, to make those dimensions bind.
inline spec random_spec_around(rng& r, const hw_report& x) {
  spec s;
  auto f = [&] { return r.uniform(0.6, 1.6); };
  if (r.below(2)) s.max_luts = static_cast<std::int64_t>(static_cast<double>(x.luts) * f());
  if (r.below(3) == 0) s.max_dsps = static_cast<std::int64_t>(static_cast<double>(x.dsps) * f());
  if (r.below(2)) s.max_brams = static_cast<std::int64_t>(static_cast<double>(x.brams) * f());
  if (r.below(2)) s.min_fps = x.fps * f();
  if (r.below(4) == 0) s.max_latency_ms = x.latency_ms * f();
  return s;
}

/// Whether `r` lists a violation of `constraint` ("max_luts", "min_fps", ...).
inline bool has_violation(const hw_report& r, const std::string& constraint) {
  for (const auto& v : r.violations)
    if (v.constraint == constraint) return true;
  return false;
}

/// What check_searches_against_brute_force saw: specs with a mapping, without one, and with block RAM within 80% of
/// its ceiling at the optimum.
struct search_tally {
  int feasible = 0, infeasible = 0, bram_tight = 0;
};

/// The conformance check of a cost model's exact searches: on `trials` random architectures
/// (random_architecture(rng&, trial)), each with a random spec around the cost of a random mapping
/// (random_mapping(rng&, geometry)), best_mapping and fastest_mapping agree with their brute-force twins
/// best_mapping_ref and fastest_mapping_ref (same existence, LUTs and cycles), the best mapping meets the spec, and
/// map() reports infeasible exactly when no mapping exists. Trials alternate between two models (say a LUT4 and a
/// LUT6 device). A user's CostModel with brute-force twins can run it too.
template <class ModelA, class ModelB, class RandomArchitecture, class RandomMapping>
search_tally check_searches_against_brute_force(const ModelA& even_trials, const ModelB& odd_trials,
                                                std::uint64_t seed, int trials,
                                                RandomArchitecture&& random_architecture,
                                                RandomMapping&& random_mapping) {
  rng r(seed);
  search_tally tally;
  for (int trial = 0; trial < trials; ++trial) {
    const architecture a = random_architecture(r, trial);
    const auto g = geometry(a);
    auto check = [&](const auto& model) {
      const spec s = random_spec_around(r, model.evaluate(a, random_mapping(r, g)));
      CAPTURE(trial);
      const auto best = model.best_mapping(a, s), best_ref = model.best_mapping_ref(a, s);
      REQUIRE(best.has_value() == best_ref.has_value());
      if (best) {
        const auto x = model.evaluate(a, *best, s), y = model.evaluate(a, *best_ref, s);
        CHECK(x.feasible);
        CHECK(x.luts == y.luts);
        CHECK(x.cycles == y.cycles);
        ++tally.feasible;
        if (s.max_brams && x.brams * 10 > *s.max_brams * 8) ++tally.bram_tight;
      } else {
        ++tally.infeasible;
        CHECK_FALSE(model.map(a, s).feasible);
      }
      const auto fast = model.fastest_mapping(a, s), fast_ref = model.fastest_mapping_ref(a, s);
      REQUIRE(fast.has_value() == fast_ref.has_value());
      if (fast) {
        const auto x = model.evaluate(a, *fast, s), y = model.evaluate(a, *fast_ref, s);
        CHECK(x.cycles == y.cycles);
        CHECK(x.luts == y.luts);
      }
    };
    if (trial % 2 == 0)
      check(even_trials);
    else
      check(odd_trials);
  }
  MESSAGE("feasible " << tally.feasible << ", infeasible " << tally.infeasible << ", BRAM-tight " << tally.bram_tight);
  return tally;
}

}  // namespace hwnas::fpga::test
