#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <span>
#include <vector>

#include <hwnas/core/error.hpp>
#include <hwnas/core/rng.hpp>
#include <hwnas/kernels/softmax_xent.hpp>

#include "kernel_test_support.hpp"

namespace hk = hwnas::kernels;
using namespace hwnas::kernels::test;

namespace {

std::vector<std::int32_t> random_labels(std::size_t batch, std::size_t classes, hwnas::rng& r) {
  std::vector<std::int32_t> l(batch);
  for (auto& v : l) v = static_cast<std::int32_t>(r.below(classes));
  return l;
}

}  // namespace

TEST_CASE_TEMPLATE("softmax_cross_entropy: fast kernel matches its _ref twin", Arch, xsimd::default_arch,
                   sse2_arch) {
  hwnas::rng r(30);
  for (std::size_t classes : {1, 2, 3, 7, 8, 9, 10, 16, 17, 40})
    for (std::size_t batch : {1, 5, 32})
      for (const double scale : {1.0, 30.0}) {
        CAPTURE(classes);
        CAPTURE(batch);
        CAPTURE(scale);
        const auto logits = random_vector(batch * classes, r, -scale, scale);
        const auto labels = random_labels(batch, classes, r);
        std::vector<float> g(batch * classes, NAN), g_ref(batch * classes);
        const float loss = hk::softmax_cross_entropy<Arch>(batch, classes, logits, labels, g);
        const float loss_ref = hk::softmax_cross_entropy_ref(batch, classes, logits, labels, g_ref);
        CHECK(loss == doctest::Approx(loss_ref).epsilon(1e-5));
        CHECK(max_rel_error(g, g_ref) < 1e-6);
        CHECK(hk::softmax_cross_entropy<Arch>(batch, classes, logits, labels, {}) == loss);  // loss only
      }
}

TEST_CASE("softmax_cross_entropy: known values, stability and gradient rows summing to zero") {
  // equal logits: p = 1/C, loss = log C, grad = (1/C - onehot) / B
  const std::size_t batch = 4, classes = 10;
  const std::vector<float> flat(batch * classes, 3.0f);
  const std::vector<std::int32_t> labels = {0, 9, 3, 3};
  std::vector<float> g(batch * classes);
  CHECK(hk::softmax_cross_entropy(batch, classes, flat, labels, g) == doctest::Approx(std::log(10.0)));
  CHECK(g[0] == doctest::Approx((0.1 - 1.0) / 4));
  CHECK(g[1] == doctest::Approx(0.1 / 4));

  // huge logits do not overflow: a confident, correct row costs ~0; a confident, wrong one costs the margin
  const std::vector<float> big = {1000.0f, -1000.0f, 0.0f, 2000.0f, 1000.0f, 0.0f};
  const std::vector<std::int32_t> l2 = {0, 1};
  std::vector<float> g2(6), g2_ref(6);
  const float loss = hk::softmax_cross_entropy(2, 3, big, l2, g2);
  const float loss_ref = hk::softmax_cross_entropy_ref(2, 3, big, l2, g2_ref);
  CHECK(std::isfinite(loss));
  CHECK(loss == doctest::Approx(1000.0 / 2));
  CHECK(loss_ref == doctest::Approx(1000.0 / 2));
  for (float v : g2) CHECK(std::isfinite(v));
  for (std::size_t b = 0; b < 2; ++b) {
    double row = 0;
    for (std::size_t c = 0; c < 3; ++c) row += g2[b * 3 + c];
    CHECK(row == doctest::Approx(0.0).scale(1.0));
  }
  // one class: the loss is 0 and so is the gradient
  std::vector<float> g1(2);
  CHECK(hk::softmax_cross_entropy(2, 1, std::vector<float>{5.0f, -7.0f}, std::vector<std::int32_t>{0, 0}, g1) == 0.0f);
  CHECK(g1 == std::vector<float>{0.0f, 0.0f});
}

TEST_CASE("softmax_cross_entropy: finite-difference gradient check") {
  hwnas::rng r(31);
  const std::size_t batch = 3, classes = 11;
  auto logits = random_vector(batch * classes, r, -3.0, 3.0);
  const auto labels = random_labels(batch, classes, r);
  std::vector<float> g(batch * classes);
  hk::softmax_cross_entropy(batch, classes, logits, labels, g);
  constexpr float step = 1e-2f;
  for (std::size_t i = 0; i < logits.size(); ++i) {
    const float saved = logits[i];
    logits[i] = saved + step;
    const double up = hk::softmax_cross_entropy_ref(batch, classes, logits, labels, {});
    logits[i] = saved - step;
    const double down = hk::softmax_cross_entropy_ref(batch, classes, logits, labels, {});
    logits[i] = saved;
    CHECK((up - down) / (2 * step) == doctest::Approx(g[i]).epsilon(2e-3).scale(0.01));
  }
}

TEST_CASE("softmax_cross_entropy: slices of a batch add up with total_batch") {
  hwnas::rng r(32);
  const std::size_t classes = 10;
  const auto logits = random_vector(8 * classes, r, -2.0, 2.0);
  const auto labels = random_labels(8, classes, r);
  std::vector<float> g(8 * classes), g_split(8 * classes);
  const float whole = hk::softmax_cross_entropy(8, classes, logits, labels, g);
  const float a = hk::softmax_cross_entropy(5, classes, std::span(logits).first(5 * classes),
                                            std::span(labels).first(5), std::span(g_split).first(5 * classes), 8);
  const float b = hk::softmax_cross_entropy(3, classes, std::span(logits).subspan(5 * classes),
                                            std::span(labels).subspan(5), std::span(g_split).subspan(5 * classes), 8);
  CHECK(a + b == doctest::Approx(whole).epsilon(1e-6));
  CHECK(max_rel_error(g_split, g) < 1e-7);
}

TEST_CASE("softmax_cross_entropy: bad labels and sizes throw invalid_argument") {
  const std::vector<float> logits(6);
  std::vector<float> g(6);
  CHECK_THROWS_WITH_AS(hk::softmax_cross_entropy(2, 3, logits, std::vector<std::int32_t>{0, 3}, g),
                       doctest::Contains("label 3"), hwnas::invalid_argument);
  CHECK_THROWS_WITH_AS(hk::softmax_cross_entropy_ref(2, 3, logits, std::vector<std::int32_t>{-1, 0}, g),
                       doctest::Contains("label -1"), hwnas::invalid_argument);
  CHECK_THROWS_WITH_AS(hk::softmax_cross_entropy(3, 3, logits, std::vector<std::int32_t>{0, 0, 0}, g),
                       doctest::Contains("logits"), hwnas::invalid_argument);
  CHECK_THROWS_WITH_AS(hk::softmax_cross_entropy(2, 3, logits, std::vector<std::int32_t>{0, 0}, g, 1),
                       doctest::Contains("total_batch"), hwnas::invalid_argument);
  CHECK_THROWS_AS(hk::softmax_cross_entropy(2, 0, {}, std::vector<std::int32_t>{0, 0}, {}), hwnas::invalid_argument);
}
