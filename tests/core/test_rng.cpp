#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "hwnas/core/rng.hpp"

TEST_CASE("rng: the same seed gives the same stream, different seeds differ") {
  hwnas::rng a(42), b(42), c(43);
  int same = 0, differ = 0;
  for (int i = 0; i < 1000; ++i) {
    const auto x = a(), y = b(), z = c();
    same += x == y;
    differ += x != z;
  }
  CHECK(same == 1000);
  CHECK(differ == 1000);
}

TEST_CASE("rng: uniform, below and normal have the right moments and ranges") {
  hwnas::rng g(7);
  double sum = 0, sum2 = 0;
  const int n = 200000;
  for (int i = 0; i < n; ++i) {
    const double u = g.uniform();
    REQUIRE(u >= 0.0);
    REQUIRE(u < 1.0);
    sum += u;
  }
  CHECK(sum / n == doctest::Approx(0.5).epsilon(0.01));
  std::vector<int> counts(10);
  for (int i = 0; i < n; ++i) ++counts[g.below(10)];
  for (int c : counts) CHECK(c == doctest::Approx(n / 10).epsilon(0.05));
  sum = 0;
  for (int i = 0; i < n; ++i) {
    const double x = g.normal();
    sum += x;
    sum2 += x * x;
  }
  CHECK(std::fabs(sum / n) < 0.02);
  CHECK(sum2 / n == doctest::Approx(1.0).epsilon(0.02));
}

TEST_CASE("rng: shuffle is a reproducible permutation") {
  std::vector<int> v(100), w;
  std::iota(v.begin(), v.end(), 0);
  w = v;
  hwnas::rng g1(3), g2(3);
  hwnas::shuffle(v.begin(), v.end(), g1);
  hwnas::shuffle(w.begin(), w.end(), g2);
  CHECK(v == w);
  CHECK_FALSE(std::is_sorted(v.begin(), v.end()));
  std::sort(v.begin(), v.end());
  for (int i = 0; i < 100; ++i) CHECK(v[i] == i);
}
