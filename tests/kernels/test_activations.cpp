#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include <hwnas/core/error.hpp>
#include <hwnas/core/rng.hpp>
#include <hwnas/kernels/activations.hpp>

#include "kernel_test_support.hpp"

namespace hk = hwnas::kernels;
using namespace hwnas::kernels::test;

TEST_CASE_TEMPLATE("relu: fast kernels match their _ref twins, in place too", Arch, xsimd::default_arch,
                   sse2_arch) {
  hwnas::rng r(1);
  for (std::size_t n : {0, 1, 3, 4, 7, 8, 9, 16, 17, 100, 1001}) {
    CAPTURE(n);
    const auto x = random_vector(n, r);
    const auto dy = random_vector(n, r);
    std::vector<float> y(n, NAN), y_ref(n);
    hk::relu_forward<Arch>(x, y);
    hk::relu_forward_ref(x, y_ref);
    CHECK(y == y_ref);
    for (std::size_t i = 0; i < n; ++i) CHECK(y_ref[i] == (x[i] > 0 ? x[i] : 0.0f));

    std::vector<float> dx(n, NAN), dx_ref(n);
    hk::relu_backward<Arch>(y, dy, dx);
    hk::relu_backward_ref(y, dy, dx_ref);
    CHECK(dx == dx_ref);
    for (std::size_t i = 0; i < n; ++i) CHECK(dx_ref[i] == (x[i] > 0 ? dy[i] : 0.0f));

    auto inplace = x;
    hk::relu_forward<Arch>(inplace, inplace);
    CHECK(inplace == y_ref);
    auto g = dy;
    hk::relu_backward<Arch>(y, g, g);
    CHECK(g == dx_ref);
  }
}

TEST_CASE("relu: the derivative at 0 is 0, and -0 / NaN-free behaviour at the kink") {
  const std::vector<float> x = {0.0f, -0.0f, 1e-30f, -1e-30f};
  std::vector<float> y(4), dx(4);
  const std::vector<float> dy = {1, 1, 1, 1};
  hk::relu_forward(x, y);
  hk::relu_backward(y, dy, dx);
  CHECK(dx == std::vector<float>{0, 0, 1, 0});
}

TEST_CASE("relu: finite-difference gradient check") {
  hwnas::rng r(2);
  const std::size_t n = 200;
  auto x = random_vector(n, r);
  for (auto& v : x)
    if (std::abs(v) < 0.05f) v = 0.5f;  // keep away from the kink, where the derivative is not defined
  const auto proj = random_vector(n, r);
  std::vector<float> y(n), dx(n);
  auto loss = [&] {
    hk::relu_forward(x, y);
    return dot(y, proj);
  };
  hk::relu_forward(x, y);
  hk::relu_backward(y, proj, dx);
  constexpr float step = 0.01f;
  for (std::size_t i = 0; i < n; ++i) {
    const float saved = x[i];
    x[i] = saved + step;
    const double up = loss();
    x[i] = saved - step;
    const double down = loss();
    x[i] = saved;
    CHECK((up - down) / (2 * step) == doctest::Approx(dx[i]).epsilon(1e-3));
  }
}

TEST_CASE("relu: size mismatches throw invalid_argument") {
  std::vector<float> a(5), b(4);
  CHECK_THROWS_AS(hk::relu_forward(a, b), hwnas::invalid_argument);
  CHECK_THROWS_AS(hk::relu_forward_ref(a, b), hwnas::invalid_argument);
  CHECK_THROWS_WITH_AS(hk::relu_backward(a, a, b), doctest::Contains("grad_x"), hwnas::invalid_argument);
  CHECK_THROWS_WITH_AS(hk::relu_backward_ref(a, b, a), doctest::Contains("grad_y"), hwnas::invalid_argument);
}
