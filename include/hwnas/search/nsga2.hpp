#pragma once
/// @file
/// search::nsga2: NSGA-II (Deb, Pratap, Agarwal & Meyarivan, IEEE TEC 6(2), 2002) over genomes, learning from the
/// whole outcome of a trial (search/trial.hpp): its objectives (any number, all maximized: accuracy, -LUTs, fps by
/// default) and whether it is feasible. Models search::Strategy, its state search::MultiObjectiveState.
///
/// - Fronts: fast non-dominated sorting (Deb 2002, section III-A) under constraint-domination (section VI): a
///   feasible outcome dominates every infeasible one; two feasible ones compare by Pareto dominance of their
///   objectives; two infeasible ones by reward (the higher dominates; equal rewards tie). Every infeasible outcome
///   therefore ranks below every feasible one.
/// - Crowding distance (section III-B) within a front, over the objectives normalized by their range in the front.
/// - Elitism (section III-C): once `population` offspring are told, parents and offspring together are sorted and
///   the best `population` (whole fronts, the last one cut by crowding distance, larger first) become the parents.
/// - Each asked genome: two binary tournaments on (rank, then crowding distance) pick two parents; uniform
///   crossover with probability `crossover` (else a copy of the first), then each gene changes to another of its
///   values with probability `mutation_rate`.
///
/// Until the first `population` outcomes are told it asks uniform random genomes. ask may be called any number of
/// times between tells: offspring are collected in the order told, whenever they were asked.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <numeric>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "hwnas/core/error.hpp"
#include "hwnas/core/rng.hpp"
#include "hwnas/search/concepts.hpp"
#include "hwnas/search/strategies.hpp"
#include "hwnas/search/trial.hpp"
#include "hwnas/space/genome.hpp"

namespace hwnas::search {

/// a >= b in every objective and a > b in one (all maximized; a and b of equal size).
inline bool pareto_dominates(std::span<const double> a, std::span<const double> b) noexcept {
  bool better = false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i] < b[i]) return false;
    better = better || a[i] > b[i];
  }
  return better;
}

/// Deb's constraint-domination (2002, section VI) over outcomes: feasible beats infeasible; two feasible compare by
/// pareto_dominates on their objectives; two infeasible by reward (higher dominates).
inline bool constrained_dominates(const outcome& a, const outcome& b) noexcept {
  if (a.feasible != b.feasible) return a.feasible;
  if (!a.feasible) return a.reward > b.reward;
  return pareto_dominates(a.objectives, b.objectives);
}

/// Fast non-dominated sorting (Deb 2002, section III-A) of `n` items under `dominates(i, j)` (a strict partial
/// order): front 0 holds the items nothing dominates, front k the items dominated only by items of fronts < k.
/// Indices ascend within each front. O(n^2) calls of dominates.
template <class Dominates>
std::vector<std::vector<std::size_t>> non_dominated_sort(std::size_t n, Dominates&& dominates) {
  std::vector<std::vector<std::size_t>> beats(n), fronts;  // beats[p]: the items p dominates
  std::vector<std::size_t> beaten_by(n, 0);                // how many items dominate p
  std::vector<std::size_t> current;
  for (std::size_t p = 0; p < n; ++p) {
    for (std::size_t q = 0; q < n; ++q) {
      if (p == q) continue;
      if (dominates(p, q))
        beats[p].push_back(q);
      else if (dominates(q, p))
        ++beaten_by[p];
    }
    if (beaten_by[p] == 0) current.push_back(p);
  }
  while (!current.empty()) {
    std::sort(current.begin(), current.end());
    std::vector<std::size_t> next;
    for (const std::size_t p : current)
      for (const std::size_t q : beats[p])
        if (--beaten_by[q] == 0) next.push_back(q);
    fronts.push_back(std::move(current));
    current = std::move(next);
  }
  return fronts;
}

namespace detail {
inline void check_points(std::span<const std::vector<double>> points, const char* who) {
  for (std::size_t i = 0; i < points.size(); ++i) {
    if (points[i].size() != points[0].size())
      throw invalid_argument(std::string(who) + ": point " + std::to_string(i) + " has " +
                             std::to_string(points[i].size()) + " objectives, point 0 " +
                             std::to_string(points[0].size()));
    for (const double v : points[i])
      if (std::isnan(v)) throw invalid_argument(std::string(who) + ": point " + std::to_string(i) + " has a NaN");
  }
}
}  // namespace detail

/// The Pareto fronts of `points` (each a vector of objectives, all maximized), as indices into points.
/// @throws hwnas::invalid_argument when the points have different numbers of objectives or one holds a NaN
inline std::vector<std::vector<std::size_t>> non_dominated_sort(std::span<const std::vector<double>> points) {
  detail::check_points(points, "hwnas::search::non_dominated_sort");
  return non_dominated_sort(points.size(),
                            [&](std::size_t a, std::size_t b) { return pareto_dominates(points[a], points[b]); });
}

/// Crowding distance (Deb 2002, section III-B) of each point of `front` (indices into points), in the order of
/// front: for each objective, the front is ordered by value (ties by their position in front); the first and last
/// get +infinity, every other point adds (next - previous) / (max - min) of that objective. An objective equal
/// across the front adds nothing. A front of one or two points is all +infinity. NSGA-II prefers larger distances:
/// points in sparse regions of the front.
/// @throws hwnas::invalid_argument as non_dominated_sort, or for an index out of range
inline std::vector<double> crowding_distance(std::span<const std::vector<double>> points,
                                             std::span<const std::size_t> front) {
  detail::check_points(points, "hwnas::search::crowding_distance");
  for (const std::size_t i : front)
    if (i >= points.size())
      throw invalid_argument("hwnas::search::crowding_distance: index " + std::to_string(i) + " of " +
                             std::to_string(points.size()) + " points");
  constexpr double inf = std::numeric_limits<double>::infinity();
  const std::size_t n = front.size();
  std::vector<double> d(n, 0.0);
  if (n <= 2) return std::vector<double>(n, inf);
  std::vector<std::size_t> order(n);  // positions in front
  for (std::size_t m = 0; m < points[front[0]].size(); ++m) {
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t a, std::size_t b) { return points[front[a]][m] < points[front[b]][m]; });
    const double lo = points[front[order.front()]][m], hi = points[front[order.back()]][m];
    if (!(hi > lo)) continue;
    d[order.front()] = d[order.back()] = inf;
    for (std::size_t k = 1; k + 1 < n; ++k)
      d[order[k]] += (points[front[order[k + 1]]][m] - points[front[order[k - 1]]][m]) / (hi - lo);
  }
  return d;
}

/// NSGA-II over genomes: `search::nsga2{.population = 24, .crossover = 0.9}`.
struct nsga2 {
  static constexpr std::string_view name = "nsga2";
  std::size_t population = 24;  ///< parents kept, and offspring told per generation, >= 2
  double crossover = 0.9;       ///< probability of uniform crossover, in [0, 1] (Deb 2002 used 0.9)
  double mutation_rate = 0.0;   ///< probability that each gene mutates, in [0, 1]; 0: 1/genes (Deb 2002)

  /// The running search: the parents (ranked), the offspring told since the last selection, the random stream.
  class state {
   public:
    /// A genome with what it was told, its front (0 best) and crowding distance in the last selection.
    struct member {
      genome g;
      outcome o;
      std::size_t rank = 0;
      double crowding = 0.0;
    };

    /// @throws hwnas::invalid_argument for a bad layout, population < 2, or a probability outside [0, 1]
    state(std::span<const int> layout, std::uint64_t seed, std::size_t population, double crossover,
          double mutation_rate)
        : layout_(detail::checked_layout(layout, "hwnas::search::nsga2")),
          rng_(seed),
          population_(population),
          crossover_(crossover),
          mutation_(mutation_rate) {
      if (population < 2)
        throw invalid_argument("hwnas::search::nsga2: population must be >= 2, got " + std::to_string(population));
      if (!(crossover >= 0.0 && crossover <= 1.0))
        throw invalid_argument("hwnas::search::nsga2: crossover is a probability in [0, 1], got " +
                               std::to_string(crossover));
      if (!(mutation_rate >= 0.0 && mutation_rate <= 1.0))
        throw invalid_argument("hwnas::search::nsga2: mutation_rate is a probability in [0, 1] (0: 1/genes), got " +
                               std::to_string(mutation_rate));
      if (mutation_ == 0.0) mutation_ = 1.0 / static_cast<double>(layout_.size());
    }

    /// A random genome until the first population is told; then a mutated crossover of two tournament winners.
    genome ask() {
      if (parents_.empty()) return detail::random_genome(layout_, rng_);
      const member& a = tournament();
      const member& b = tournament();
      genome child = a.g;
      if (rng_.uniform() < crossover_)
        for (std::size_t i = 0; i < child.size(); ++i)
          if (rng_.uniform() < 0.5) child[i] = b.g[i];
      for (std::size_t i = 0; i < child.size(); ++i)
        if (layout_[i] > 1 && rng_.uniform() < mutation_) {
          const int shift = 1 + static_cast<int>(rng_.below(static_cast<std::uint64_t>(layout_[i] - 1)));
          child[i] = (child[i] + shift) % layout_[i];  // another value of gene i, uniformly
        }
      return child;
    }

    /// Records the outcome of g; after `population` of them, the environmental selection makes the next parents.
    /// @throws hwnas::invalid_argument for a genome that does not fit the layout, a NaN reward, a feasible outcome
    ///         with no objectives, a non-finite objective, or another number of objectives than earlier ones
    void tell(const genome& g, const outcome& o) {
      space::check_genome(g, layout_, "hwnas::search::nsga2::tell");
      if (std::isnan(o.reward)) throw invalid_argument("hwnas::search::nsga2::tell: the reward is NaN");
      if (o.feasible) {
        if (o.objectives.empty())
          throw invalid_argument("hwnas::search::nsga2::tell: a feasible outcome needs at least one objective");
        for (const double v : o.objectives)
          if (!std::isfinite(v))
            throw invalid_argument("hwnas::search::nsga2::tell: an objective is " + std::to_string(v) +
                                   "; tell a failed design as infeasible");
        if (objectives_ == 0) objectives_ = o.objectives.size();
        if (o.objectives.size() != objectives_)
          throw invalid_argument("hwnas::search::nsga2::tell: " + std::to_string(o.objectives.size()) +
                                 " objectives, earlier outcomes had " + std::to_string(objectives_));
      }
      offspring_.push_back({g, o, 0, 0.0});
      if (offspring_.size() >= population_) select();
    }

    /// One objective: the reward, always feasible (so nsga2 works where only a scalar reward is told).
    void tell(const genome& g, double reward) { tell(g, outcome{reward, {reward}, true}); }

    /// The parents of the current generation, best first (by rank, then crowding distance); empty until the first
    /// population is told.
    const std::vector<member>& parents() const noexcept { return parents_; }
    /// Outcomes told since the last selection.
    std::size_t pending() const noexcept { return offspring_.size(); }
    /// Selections done (0 until the first population is told).
    std::size_t generation() const noexcept { return generation_; }

   private:
    /// Binary tournament by Deb's crowded comparison: lower rank, then larger crowding distance; ties: the first.
    const member& tournament() {
      const member& a = parents_[rng_.below(parents_.size())];
      const member& b = parents_[rng_.below(parents_.size())];
      if (b.rank < a.rank || (b.rank == a.rank && b.crowding > a.crowding)) return b;
      return a;
    }

    /// Parents and offspring together, sorted; the best `population` become the parents.
    void select() {
      std::vector<member> all = std::move(parents_);
      for (auto& m : offspring_) all.push_back(std::move(m));
      offspring_.clear();
      const auto fronts = non_dominated_sort(
          all.size(), [&](std::size_t a, std::size_t b) { return constrained_dominates(all[a].o, all[b].o); });
      std::vector<std::vector<double>> points(all.size());
      for (std::size_t i = 0; i < all.size(); ++i)
        if (all[i].o.feasible) points[i] = all[i].o.objectives;
      parents_.clear();
      for (std::size_t r = 0; r < fronts.size() && parents_.size() < population_; ++r) {
        const auto& front = fronts[r];
        // A front is all feasible or all infeasible (feasible dominates infeasible); infeasible ones tie on
        // reward, so no objective spreads them: distance 0.
        std::vector<double> d(front.size(), 0.0);
        if (all[front[0]].o.feasible) {
          std::vector<std::vector<double>> fp;
          for (const std::size_t i : front) fp.push_back(points[i]);
          std::vector<std::size_t> idx(front.size());
          std::iota(idx.begin(), idx.end(), std::size_t{0});
          d = crowding_distance(fp, idx);
        }
        std::vector<std::size_t> order(front.size());
        std::iota(order.begin(), order.end(), std::size_t{0});
        std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return d[a] > d[b]; });
        for (const std::size_t k : order) {
          if (parents_.size() == population_) break;
          member m = std::move(all[front[k]]);
          m.rank = r;
          m.crowding = d[k];
          parents_.push_back(std::move(m));
        }
      }
      ++generation_;
    }

    std::vector<int> layout_;
    rng rng_;
    std::size_t population_;
    double crossover_, mutation_;
    std::size_t objectives_ = 0;  // of feasible outcomes, fixed by the first one told
    std::vector<member> parents_, offspring_;
    std::size_t generation_ = 0;
  };

  /// @throws hwnas::invalid_argument for an empty layout, a gene with no choice, population < 2, or a probability
  ///         outside [0, 1]
  state start(std::span<const int> layout, std::uint64_t seed) const {
    return state(layout, seed, population, crossover, mutation_rate);
  }

  /// The hyper-parameters, for reports and the journal's header.
  nlohmann::json hyper_parameters() const {
    return {{"population", population}, {"crossover", crossover}, {"mutation_rate", mutation_rate}};
  }
};

static_assert(Strategy<nsga2>);
static_assert(MultiObjectiveState<nsga2::state>);

}  // namespace hwnas::search
