// search/pareto.hpp: hypervolume, exact against a brute-force count of unit cells on small integer grids (1 to 4
// objectives), on cases known by hand, and on an archive's front; points not strictly better than the reference add
// nothing; a NaN is an error.

#include <doctest/doctest.h>

#include <array>
#include <cmath>
#include <cstddef>
#include <limits>
#include <vector>

#include "hwnas/core/error.hpp"
#include "hwnas/core/rng.hpp"
#include "hwnas/search/pareto.hpp"

namespace hs = hwnas::search;

namespace {
/// The number of unit cells [c, c + 1) of the grid, c >= reference, that some point dominates (p >= c + 1
/// everywhere): the hypervolume of integer points, counted one cell at a time.
template <std::size_t N>
double brute_force(const std::vector<std::array<double, N>>& points, const std::array<double, N>& ref, int hi) {
  std::array<int, N> c{};
  for (std::size_t i = 0; i < N; ++i) c[i] = static_cast<int>(ref[i]);
  double cells = 0;
  while (true) {
    for (const auto& p : points) {
      bool covers = true;
      for (std::size_t i = 0; i < N; ++i) covers = covers && p[i] >= c[i] + 1;
      if (covers) {
        ++cells;
        break;
      }
    }
    std::size_t i = 0;
    for (; i < N; ++i) {
      if (++c[i] < hi) break;
      c[i] = static_cast<int>(ref[i]);
    }
    if (i == N) return cells;
  }
}

template <std::size_t N>
void check_against_brute_force(std::uint64_t seed) {
  hwnas::rng g(seed);
  for (int round = 0; round < 60; ++round) {
    const int hi = 5;
    std::array<double, N> ref{};
    for (auto& r : ref) r = static_cast<double>(static_cast<int>(g.below(3)) - 1);  // -1, 0 or 1
    std::vector<std::array<double, N>> pts(1 + g.below(7));
    for (auto& p : pts)
      for (auto& x : p) x = static_cast<double>(static_cast<int>(g.below(hi + 2)) - 1);  // -1..hi, some below ref
    CAPTURE(round);
    CHECK(hs::hypervolume(pts, ref) == brute_force(pts, ref, hi));
  }
}
}  // namespace

TEST_CASE("hypervolume: equals a brute-force count of unit cells, 1 to 4 objectives") {
  check_against_brute_force<1>(1);
  check_against_brute_force<2>(2);
  check_against_brute_force<3>(3);
  check_against_brute_force<4>(4);
}

TEST_CASE("hypervolume: known cases") {
  using p2 = std::array<double, 2>;
  using p3 = std::array<double, 3>;
  // one point: its box
  CHECK(hs::hypervolume(std::vector<p3>{{0.5, 2, 4}}, p3{0, 0, 0}) == doctest::Approx(4.0));
  // two points of a staircase: 2*1 + 1*2 - 1*1
  CHECK(hs::hypervolume(std::vector<p2>{{2, 1}, {1, 2}}, p2{0, 0}) == doctest::Approx(3.0));
  // a dominated point and a repeat change nothing
  CHECK(hs::hypervolume(std::vector<p2>{{2, 1}, {1, 2}, {1, 1}, {2, 1}}, p2{0, 0}) == doctest::Approx(3.0));
  // three corners of the unit cube's faces: 3 slabs, pairwise overlaps, a common core (inclusion-exclusion)
  const std::vector<p3> corners{{1, 1, 0.5}, {1, 0.5, 1}, {0.5, 1, 1}};
  CHECK(hs::hypervolume(corners, p3{0, 0, 0}) == doctest::Approx(3 * 0.5 - 3 * 0.25 + 0.125));
  // minimized objectives negated (-LUTs): the reference is minus the ceiling
  CHECK(hs::hypervolume(std::vector<p3>{{0.9, -1000, 500}}, p3{0, -3000, 0}) == doctest::Approx(0.9 * 2000 * 500));
  // nothing strictly better than the reference: zero, also for a point equal to it in one objective
  CHECK(hs::hypervolume(std::vector<p3>{}, p3{0, 0, 0}) == 0.0);
  CHECK(hs::hypervolume(std::vector<p3>{{1, 1, 0}, {0, 5, 5}}, p3{0, 0, 0}) == 0.0);
  CHECK(hs::hypervolume(std::vector<p3>{{1, 1, 0}, {2, 2, 2}}, p3{0, 0, 0}) == doctest::Approx(8.0));
  CHECK(hs::hypervolume(std::vector<p2>{{-1, 5}}, p2{0, 0}) == 0.0);
}

TEST_CASE("hypervolume: of an archive, the same as of its points, NaN and infinities are errors") {
  hs::pareto_archive<3, int> front;
  front.insert({0.8, -2000, 1000}, 0);
  front.insert({0.9, -5000, 800}, 1);
  front.insert({0.7, -1000, 3000}, 2);
  front.insert({0.6, -6000, 100}, 3);  // dominated: not kept
  std::vector<std::array<double, 3>> pts{{0.8, -2000, 1000}, {0.9, -5000, 800}, {0.7, -1000, 3000}};
  const std::array<double, 3> ref{0, -10000, 0};
  CHECK(hs::hypervolume(front, ref) == doctest::Approx(hs::hypervolume(pts, ref)));
  CHECK(hs::hypervolume(front, ref) > 0);
  const double nan = std::numeric_limits<double>::quiet_NaN();
  CHECK_THROWS_AS(hs::hypervolume(std::vector<std::array<double, 2>>{{nan, 1}}, {0, 0}), hwnas::invalid_argument);
  CHECK_THROWS_AS(hs::hypervolume(std::vector<std::array<double, 2>>{{1, 1}}, {0, -INFINITY}), hwnas::invalid_argument);
}
