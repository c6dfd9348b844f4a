// search/nsga2.hpp: non-dominated sorting and crowding distance against brute force on random grids (ties
// included); constraint-domination (an infeasible outcome never ranks above a feasible one, infeasible ones by
// reward); elitist selection and offspring built from the parents; more of a known Pareto front than random search
// in the same trials; reproducible by seed; ask-ask-tell-tell; bad arguments throw.

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>
#include <string>
#include <vector>

#include "hwnas/core/error.hpp"
#include "hwnas/core/rng.hpp"
#include "hwnas/search/concepts.hpp"
#include "hwnas/search/nsga2.hpp"
#include "hwnas/search/strategies.hpp"

namespace hs = hwnas::search;

static_assert(hs::Strategy<hs::nsga2>);
static_assert(hs::MultiObjectiveState<hs::nsga2::state>);

namespace {
std::vector<std::vector<double>> random_points(hwnas::rng& r, std::size_t n, std::size_t objectives, int grid) {
  std::vector<std::vector<double>> p(n, std::vector<double>(objectives));
  for (auto& v : p)
    for (auto& x : v) x = static_cast<double>(r.below(static_cast<std::uint64_t>(grid))) * 0.5 - 1.0;
  return p;
}

/// Fronts by peeling: the points no remaining point dominates, removed, again.
std::vector<std::vector<std::size_t>> peel(const std::vector<std::vector<double>>& p) {
  std::vector<std::vector<std::size_t>> fronts;
  std::vector<bool> gone(p.size(), false);
  std::size_t left = p.size();
  while (left > 0) {
    std::vector<std::size_t> front;
    for (std::size_t i = 0; i < p.size(); ++i) {
      if (gone[i]) continue;
      bool dominated = false;
      for (std::size_t j = 0; j < p.size() && !dominated; ++j) {
        if (gone[j]) continue;
        bool ge = true, gt = false;
        for (std::size_t m = 0; m < p[i].size(); ++m) {
          ge = ge && p[j][m] >= p[i][m];
          gt = gt || p[j][m] > p[i][m];
        }
        dominated = ge && gt;
      }
      if (!dominated) front.push_back(i);
    }
    for (const auto i : front) gone[i] = true;
    left -= front.size();
    fronts.push_back(front);
  }
  return fronts;
}

/// Crowding distance point by point: its neighbours in the order (value, position in front) found by scanning.
std::vector<double> crowding_brute(const std::vector<std::vector<double>>& p, const std::vector<std::size_t>& front) {
  const double inf = std::numeric_limits<double>::infinity();
  const std::size_t n = front.size();
  if (n <= 2) return std::vector<double>(n, inf);
  std::vector<double> d(n, 0.0);
  for (std::size_t m = 0; m < p[front[0]].size(); ++m) {
    double lo = inf, hi = -inf;
    for (const auto i : front) lo = std::min(lo, p[i][m]), hi = std::max(hi, p[i][m]);
    if (hi == lo) continue;
    const auto before = [&](std::size_t a, std::size_t b) {  // positions a, b in front
      return p[front[a]][m] < p[front[b]][m] || (p[front[a]][m] == p[front[b]][m] && a < b);
    };
    for (std::size_t a = 0; a < n; ++a) {
      std::size_t prev = n, next = n;
      for (std::size_t b = 0; b < n; ++b) {
        if (b == a) continue;
        if (before(b, a) && (prev == n || before(prev, b))) prev = b;
        if (before(a, b) && (next == n || before(b, next))) next = b;
      }
      if (prev == n || next == n)
        d[a] = inf;
      else if (d[a] != inf)
        d[a] += (p[front[next]][m] - p[front[prev]][m]) / (hi - lo);
    }
  }
  return d;
}

/// The toy two-objective problem: genes of 4 values; maximize the count of 1s and the count of 2s. The Pareto
/// front is every genome of 1s and 2s only: objective vectors (k, n - k), k = 0..n, n + 1 of them.
std::vector<double> ones_and_twos(const hwnas::genome& g) {
  double ones = 0, twos = 0;
  for (const int v : g) ones += v == 1, twos += v == 2;
  return {ones, twos};
}

/// How many of the n + 1 front points a strategy finds in `trials`.
template <class S>
std::size_t front_points_found(S s, std::size_t genes, int trials) {
  std::set<std::vector<double>> found;
  for (int t = 0; t < trials; ++t) {
    const auto g = s.ask();
    const auto f = ones_and_twos(g);
    if (f[0] + f[1] == static_cast<double>(genes)) found.insert(f);
    hs::tell(s, g, hs::outcome{f[0] + f[1], f, true});
  }
  return found.size();
}

template <class F>
bool throws_naming_nsga2(F&& f) {
  try {
    f();
  } catch (const hwnas::invalid_argument& e) {
    return std::string(e.what()).find("nsga2") != std::string::npos;
  }
  return false;
}
}  // namespace

TEST_CASE("nsga2: non_dominated_sort equals peeling by brute force, ties included") {
  hwnas::rng r(17);
  for (int trial = 0; trial < 200; ++trial) {
    const std::size_t n = 1 + r.below(40), objectives = 1 + r.below(4);
    const auto p = random_points(r, n, objectives, 2 + static_cast<int>(r.below(5)));  // small grids: many ties
    const auto fronts = hs::non_dominated_sort(p);
    CHECK(fronts == peel(p));
  }
  CHECK(hs::non_dominated_sort(std::vector<std::vector<double>>{}).empty());
  CHECK(hs::non_dominated_sort(std::vector<std::vector<double>>{{1, 1}, {1, 1}}) ==
        std::vector<std::vector<std::size_t>>{{0, 1}});  // equal points: one front
  CHECK_THROWS_AS(hs::non_dominated_sort(std::vector<std::vector<double>>{{1, 2}, {1}}), hwnas::invalid_argument);
  CHECK_THROWS_AS(hs::non_dominated_sort(std::vector<std::vector<double>>{{std::nan(""), 2}}),
                  hwnas::invalid_argument);
}

TEST_CASE("nsga2: crowding_distance equals its definition computed point by point, ties included") {
  hwnas::rng r(23);
  std::size_t finite = 0;
  for (int trial = 0; trial < 200; ++trial) {
    const std::size_t n = 1 + r.below(30), objectives = 1 + r.below(3);
    const auto p = random_points(r, n, objectives, 2 + static_cast<int>(r.below(6)));
    std::vector<std::size_t> front;  // a random subset, in random order
    for (std::size_t i = 0; i < n; ++i)
      if (r.uniform() < 0.7) front.push_back(i);
    hwnas::shuffle(front.begin(), front.end(), r);
    const auto got = hs::crowding_distance(p, front);
    const auto expect = crowding_brute(p, front);
    REQUIRE(got.size() == expect.size());
    for (std::size_t k = 0; k < got.size(); ++k) {
      if (std::isinf(expect[k])) {
        CHECK(std::isinf(got[k]));
      } else {
        CHECK(got[k] == doctest::Approx(expect[k]).epsilon(1e-12));
        finite += expect[k] > 0;
      }
    }
  }
  CHECK(finite > 100);  // interior points were compared, not only boundaries
  // 4 points on a line: ends infinite; interior (next - previous) / range summed over both objectives
  const std::vector<std::vector<double>> line{{0, 3}, {1, 2}, {3, 0}, {2, 1}};
  const auto d = hs::crowding_distance(line, std::vector<std::size_t>{0, 1, 2, 3});
  CHECK(std::isinf(d[0]));
  CHECK(std::isinf(d[2]));
  CHECK(d[1] == doctest::Approx(2.0 / 3 + 2.0 / 3));
  CHECK(d[3] == doctest::Approx(2.0 / 3 + 2.0 / 3));
}

TEST_CASE("nsga2: an infeasible outcome never ranks above a feasible one, infeasible ones rank by reward") {
  const hs::outcome feasible_low{0.1, {0.0, 0.0}, true}, infeasible_high{0.9, {}, false},
      infeasible_low{0.2, {}, false};
  CHECK(hs::constrained_dominates(feasible_low, infeasible_high));
  CHECK_FALSE(hs::constrained_dominates(infeasible_high, feasible_low));
  CHECK(hs::constrained_dominates(infeasible_high, infeasible_low));
  CHECK_FALSE(hs::constrained_dominates(infeasible_low, infeasible_low));

  const std::vector<int> layout(6, 5);
  auto s = hs::nsga2{.population = 10}.start(layout, 3);
  hwnas::rng r(4);
  std::size_t feasible_told = 0;
  for (int t = 0; t < 300; ++t) {
    const auto g = s.ask();
    hs::outcome o;
    o.feasible = r.uniform() < 0.2;  // mostly infeasible
    o.reward = static_cast<double>(r.below(5));
    if (o.feasible) o.objectives = {r.uniform(), r.uniform()};
    feasible_told += o.feasible;
    s.tell(g, o);
    if (s.pending() != 0) continue;  // a selection just ran
    const auto& parents = s.parents();
    REQUIRE(parents.size() == 10);
    std::size_t feasible = 0, worst_feasible = 0, best_infeasible = std::numeric_limits<std::size_t>::max();
    for (const auto& m : parents) {
      if (m.o.feasible)
        ++feasible, worst_feasible = std::max(worst_feasible, m.rank);
      else
        best_infeasible = std::min(best_infeasible, m.rank);
    }
    CHECK(feasible == std::min<std::size_t>(10, feasible_told));  // elitism keeps every feasible one it can
    if (feasible > 0 && feasible < 10) CHECK(worst_feasible < best_infeasible);
    for (std::size_t i = 1; i < parents.size(); ++i) {  // best first; infeasible: a lower rank has a higher reward
      CHECK(parents[i - 1].rank <= parents[i].rank);
      if (!parents[i - 1].o.feasible && parents[i - 1].rank < parents[i].rank)
        CHECK(parents[i - 1].o.reward > parents[i].o.reward);
    }
  }
  CHECK(s.generation() == 30);
}

TEST_CASE("nsga2: random genomes until the first population is told, then children of the parents") {
  const std::vector<int> layout{3, 4, 2, 5, 3, 4};
  auto s = hs::nsga2{.population = 8, .crossover = 1.0, .mutation_rate = 1e-300}.start(layout, 5);
  hwnas::rng r(8);
  for (int t = 0; t < 8; ++t) {
    CHECK(s.parents().empty());
    const auto g = s.ask();
    s.tell(g, hs::outcome{0, {r.uniform(), r.uniform()}, true});
  }
  CHECK(s.generation() == 1);
  CHECK(s.parents().size() == 8);
  for (int t = 0; t < 50; ++t) {  // no mutation: every gene of a child is that gene of some parent
    const auto child = s.ask();
    for (std::size_t i = 0; i < layout.size(); ++i)
      CHECK(std::any_of(s.parents().begin(), s.parents().end(), [&](const auto& m) { return m.g[i] == child[i]; }));
  }
}

TEST_CASE("nsga2: finds more of a known Pareto front than random search in the same trials") {
  const std::size_t genes = 10;  // front: 11 objective vectors out of 4^10 genomes, 1 in 1024 on it
  const std::vector<int> layout(genes, 4);
  std::size_t evolved = 0, random = 0;
  for (std::uint64_t seed = 1; seed <= 3; ++seed) {
    evolved += front_points_found(hs::nsga2{}.start(layout, seed), genes, 480);
    random += front_points_found(hs::random_search{}.start(layout, seed), genes, 480);
  }
  MESSAGE("front points found in 480 trials (of 11, summed over 3 seeds): nsga2 " << evolved << ", random "
                                                                                   << random);
  CHECK(evolved >= 3 * 6);  // more than half of the front, on average
  CHECK(evolved >= 3 * random + 6);
}

TEST_CASE("nsga2: the same seed and outcomes give the same genomes, another seed others, ask, ask, tell, tell") {
  const std::vector<int> layout{3, 1, 4, 2, 7, 4};
  auto a = hs::nsga2{.population = 6}.start(layout, 7), b = hs::nsga2{.population = 6}.start(layout, 7),
       c = hs::nsga2{.population = 6}.start(layout, 8);
  const auto score = [](const hwnas::genome& g) {
    return hs::outcome{static_cast<double>(g[0]), {static_cast<double>(g[0]), static_cast<double>(-g[4])}, g[2] != 3};
  };
  bool differs = false;
  for (int round = 0; round < 20; ++round) {
    std::vector<hwnas::genome> ga, gb, gc;
    for (int k = 0; k < 4; ++k) ga.push_back(a.ask()), gb.push_back(b.ask()), gc.push_back(c.ask());
    CHECK(ga == gb);
    differs = differs || ga != gc;
    for (int k = 3; k >= 0; --k) {  // told in the reverse order
      const auto i = static_cast<std::size_t>(k);
      for (std::size_t j = 0; j < layout.size(); ++j) REQUIRE((ga[i][j] >= 0 && ga[i][j] < layout[j]));
      a.tell(ga[i], score(ga[i]));
      b.tell(gb[i], score(gb[i]));
      c.tell(gc[i], score(gc[i]));
    }
  }
  CHECK(differs);
  CHECK(a.generation() == 80 / 6);
  CHECK(a.pending() == 80 % 6);
  // the scalar tell is one always-feasible objective
  auto s = hs::nsga2{.population = 2}.start(layout, 1);
  s.tell(s.ask(), 0.3);
  s.tell(s.ask(), 0.7);
  REQUIRE(s.parents().size() == 2);
  CHECK(s.parents()[0].o.objectives == std::vector<double>{0.7});
  CHECK(s.parents()[0].rank == 0);
  CHECK(s.parents()[1].rank == 1);
  const auto hp = hs::nsga2{.population = 40, .crossover = 0.5}.hyper_parameters();
  CHECK(hp["population"] == 40);
  CHECK(hp["crossover"] == 0.5);
  CHECK(hp["mutation_rate"] == 0.0);
}

TEST_CASE("nsga2: bad genomes, outcomes and hyper-parameters throw, naming the strategy") {
  const std::vector<int> layout{3, 2};
  auto s = hs::nsga2{}.start(layout, 1);
  CHECK(throws_naming_nsga2([&] { s.tell(hwnas::genome{0, 2}, hs::outcome{1, {1}, true}); }));
  CHECK(throws_naming_nsga2([&] { s.tell(hwnas::genome{0}, hs::outcome{1, {1}, true}); }));
  CHECK(throws_naming_nsga2([&] { s.tell(hwnas::genome{0, 1}, std::nan("")); }));
  CHECK(throws_naming_nsga2([&] { s.tell(hwnas::genome{0, 1}, hs::outcome{1, {}, true}); }));
  CHECK(throws_naming_nsga2([&] { s.tell(hwnas::genome{0, 1}, hs::outcome{1, {std::nan(""), 1}, true}); }));
  s.tell(hwnas::genome{0, 1}, hs::outcome{1, {1, 2}, true});
  s.tell(hwnas::genome{0, 1}, hs::outcome{0, {}, false});  // infeasible: no objectives needed
  CHECK(throws_naming_nsga2([&] { s.tell(hwnas::genome{0, 1}, hs::outcome{1, {1, 2, 3}, true}); }));
  CHECK(s.pending() == 2);
  CHECK(throws_naming_nsga2([&] { (void)hs::nsga2{.population = 1}.start(layout, 1); }));
  CHECK(throws_naming_nsga2([&] { (void)hs::nsga2{.crossover = 1.5}.start(layout, 1); }));
  CHECK(throws_naming_nsga2([&] { (void)hs::nsga2{.mutation_rate = -0.1}.start(layout, 1); }));
  CHECK(throws_naming_nsga2([&] { (void)hs::nsga2{}.start(std::vector<int>{2, 0}, 1); }));
  CHECK(throws_naming_nsga2([&] { (void)hs::nsga2{}.start(std::vector<int>{}, 1); }));
}
