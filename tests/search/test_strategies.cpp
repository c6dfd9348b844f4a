// search/concepts.hpp, search/strategies.hpp, search/pareto.hpp: reproducible strategies whose genomes fit the
// layout, random search uniform, regularized evolution mutating one gene of a tournament winner and beating random
// search on a toy problem, aging, bad arguments; every learning strategy (evolution, reinforce, nsga2) beating random
// search at the same budget; the Pareto archive against a brute-force filter.

#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <set>
#include <vector>

#include "hwnas/core/error.hpp"
#include "hwnas/core/rng.hpp"
#include "hwnas/search/concepts.hpp"
#include "hwnas/search/nsga2.hpp"
#include "hwnas/search/pareto.hpp"
#include "hwnas/search/reinforce.hpp"
#include "hwnas/search/strategies.hpp"

// One namespace per file, so that the file's helpers keep their short names in a unity build.
namespace test_strategies {

namespace hs = hwnas::search;

static_assert(hs::Strategy<hs::random_search>);
static_assert(hs::Strategy<hs::regularized_evolution>);
static_assert(hs::Strategy<hs::reinforce>);
static_assert(hs::Strategy<hs::nsga2>);
static_assert(hs::Strategy<hs::strategy_archetype>);
static_assert(!hs::Strategy<int>);
static_assert(!hs::Strategy<hs::random_search::state>);  // a state is not a policy: it has no start()
static_assert(hs::StrategyState<hs::random_search::state>);
static_assert(!hs::MultiObjectiveState<hs::random_search::state>);
static_assert(hs::MultiObjectiveState<hs::nsga2::state>);
static_assert(hs::Evaluator<hs::evaluator_archetype>);
static_assert(!hs::Evaluator<hs::random_search::state>);

namespace {
const std::vector<int> layout{3, 1, 4, 2, 7, 4, 4, 5};

bool fits(const hwnas::genome& g, const std::vector<int>& l) {
  if (g.size() != l.size()) return false;
  for (std::size_t i = 0; i < g.size(); ++i)
    if (g[i] < 0 || g[i] >= l[i]) return false;
  return true;
}

/// OneMax with a hidden target: the fraction of genes equal to the target's.
double matches(const hwnas::genome& g, const hwnas::genome& target) {
  int n = 0;
  for (std::size_t i = 0; i < g.size(); ++i) n += g[i] == target[i];
  return static_cast<double>(n) / static_cast<double>(g.size());
}

template <class S>
double best_of(S s, const hwnas::genome& target, int trials) {
  double best = 0;
  for (int t = 0; t < trials; ++t) {
    const auto g = s.ask();
    const double r = matches(g, target);
    best = std::max(best, r);
    s.tell(g, r);
  }
  return best;
}

/// best_of through search::tell, which gives each state the richest form it takes: an outcome whose only objective is
/// the reward for a multi-objective state (nsga2), the reward for a scalar one.
template <class S>
double best_told_outcomes(S s, const hwnas::genome& target, int trials) {
  double best = 0;
  for (int t = 0; t < trials; ++t) {
    const auto g = s.ask();
    const double r = matches(g, target);
    best = std::max(best, r);
    hs::tell(s, g, hs::outcome{r, {r}, true});
  }
  return best;
}
}  // namespace

TEST_CASE_TEMPLATE("strategies: genomes fit the layout, and the same seed gives the same run", S, hs::random_search,
                   hs::regularized_evolution) {
  auto a = S{}.start(layout, 7), b = S{}.start(layout, 7), c = S{}.start(layout, 8);
  bool differs = false;
  for (int t = 0; t < 400; ++t) {
    const auto ga = a.ask(), gb = b.ask(), gc = c.ask();
    REQUIRE(fits(ga, layout));
    CHECK(ga == gb);
    differs = differs || ga != gc;
    const double r = static_cast<double>(ga[0] + ga[4]);
    a.tell(ga, r);
    b.tell(gb, r);
    c.tell(gc, static_cast<double>(gc[0] + gc[4]));
  }
  CHECK(differs);
  CHECK_THROWS_AS(S{}.start(std::vector<int>{2, 0, 3}, 1), hwnas::invalid_argument);
  CHECK_THROWS_AS(S{}.start(std::vector<int>{}, 1), hwnas::invalid_argument);
}

TEST_CASE("random_search: every value of a gene comes up about as often") {
  auto s = hs::random_search{}.start(layout, 3);
  std::vector<int> count(7, 0);
  const int n = 7000;
  for (int t = 0; t < n; ++t) ++count[static_cast<std::size_t>(s.ask()[4])];
  for (const int c : count) CHECK(std::abs(c - n / 7) < n / 7 / 10);  // within 10% of 1000 each
}

TEST_CASE("regularized_evolution: a child is a tournament winner with one gene changed, the oldest dies") {
  const std::vector<int> l{4, 4, 4, 4, 4, 4};
  auto s = hs::regularized_evolution{.population = 8, .sample = 3}.start(l, 5);
  std::vector<hwnas::genome> told;
  for (int t = 0; t < 8; ++t) {  // filling the population: random genomes
    const auto g = s.ask();
    told.push_back(g);
    s.tell(g, static_cast<double>(t));
  }
  CHECK(s.size() == 8);
  for (int t = 0; t < 100; ++t) {
    const auto child = s.ask();
    const std::vector<hwnas::genome> alive(told.end() - 8, told.end());
    const bool one_gene_from_a_member = std::any_of(alive.begin(), alive.end(), [&](const hwnas::genome& m) {
      int diff = 0;
      for (std::size_t i = 0; i < m.size(); ++i) diff += m[i] != child[i];
      return diff == 1;
    });
    CHECK(one_gene_from_a_member);
    told.push_back(child);
    s.tell(child, static_cast<double>(8 + t));
    CHECK(s.size() == 8);
  }
  CHECK_THROWS_AS(s.tell(hwnas::genome{9, 0, 0, 0, 0, 0}, 1.0), hwnas::invalid_argument);
  CHECK_THROWS_AS(s.tell(hwnas::genome{0, 0, 0, 0, 0, 0}, std::nan("")), hwnas::invalid_argument);
  CHECK_THROWS_AS((hs::regularized_evolution{.population = 1, .sample = 1}.start(l, 1)), hwnas::invalid_argument);
  CHECK_THROWS_AS((hs::regularized_evolution{.population = 4, .sample = 5}.start(l, 1)), hwnas::invalid_argument);
}

TEST_CASE("regularized_evolution: finds a hidden genome that random search does not, in the same trials") {
  const std::vector<int> l(24, 4);
  hwnas::rng r(42);
  hwnas::genome target(l.size());
  for (auto& g : target) g = static_cast<int>(r.below(4));
  const double evolved = best_of(hs::regularized_evolution{.population = 32, .sample = 8}.start(l, 1), target, 2000);
  const double random = best_of(hs::random_search{}.start(l, 1), target, 2000);
  MESSAGE("best fraction of matching genes after 2000 trials: evolution " << evolved << ", random " << random);
  CHECK(evolved == 1.0);
  CHECK(random < 0.8);
}

TEST_CASE_TEMPLATE("every strategy beats random search on a synthetic task with a known optimum at the same budget", S,
                   hs::regularized_evolution, hs::reinforce, hs::nsga2) {
  // OneMax with a hidden target: 16 genes of 4 values, 400 trials; the optimum (reward 1) is the target.
  const std::vector<int> l(16, 4);
  double learned = 0, random = 0;
  const int seeds = 3;
  for (std::uint64_t seed = 1; seed <= seeds; ++seed) {
    hwnas::rng r(1000 + seed);
    hwnas::genome target(l.size());
    for (auto& g : target) g = static_cast<int>(r.below(4));
    learned += best_told_outcomes(S{}.start(l, seed), target, 400) / seeds;
    random += best_told_outcomes(hs::random_search{}.start(l, seed), target, 400) / seeds;
  }
  MESSAGE(S::name << ": mean best fraction of matching genes after 400 trials " << learned << ", random search "
                  << random);
  CHECK(learned > random + 0.15);
  CHECK(learned >= 0.85);
}

TEST_CASE("pareto_archive: keeps exactly the non-dominated values, the first design of each") {
  hwnas::rng r(9);
  for (int trial = 0; trial < 50; ++trial) {
    hs::pareto_archive<3, int> archive;
    std::vector<std::array<double, 3>> all;
    for (int i = 0; i < 60; ++i) {
      // a small grid, so that ties and repeats happen
      const std::array<double, 3> v{static_cast<double>(r.below(6)), static_cast<double>(r.below(6)),
                                    -static_cast<double>(r.below(6))};
      all.push_back(v);
      archive.insert(v, i);
    }
    std::set<std::array<double, 3>> expect;
    for (const auto& v : all)
      if (std::none_of(all.begin(), all.end(), [&](const auto& w) { return hs::pareto_archive<3, int>::dominates(w, v); }))
        expect.insert(v);
    std::set<std::array<double, 3>> got;
    for (const auto& e : archive.entries()) {
      got.insert(e.value);
      // the payload is the first index that reached this value
      CHECK(e.payload == std::find(all.begin(), all.end(), e.value) - all.begin());
    }
    CHECK(got == expect);
    CHECK(archive.size() == expect.size());
  }
  hs::pareto_archive<2, int> a;
  CHECK(a.insert({1, 1}, 0));
  CHECK_FALSE(a.insert({1, 1}, 1));  // equal: the first stays
  CHECK_FALSE(a.insert({0, 1}, 2));  // dominated
  CHECK(a.insert({2, 0}, 3));        // a trade-off
  CHECK(a.insert({2, 1}, 4));        // dominates both
  CHECK(a.size() == 1);
  CHECK_THROWS_AS(a.insert({std::numeric_limits<double>::quiet_NaN(), 0}, 5), hwnas::invalid_argument);
}

}  // namespace test_strategies
