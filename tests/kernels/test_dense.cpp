#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <span>
#include <vector>

#include <hwnas/core/error.hpp>
#include <hwnas/core/rng.hpp>
#include <hwnas/kernels/dense.hpp>

#include "kernel_test_support.hpp"

// One namespace per file, so that the file's helpers keep their short names in a unity build.
namespace test_dense {

namespace hk = hwnas::kernels;
using hk::dense_shape;
using namespace hwnas::kernels::test;

namespace {

std::vector<dense_shape> dense_shapes() {
  std::vector<dense_shape> shapes = {{32, 1568, 10}, {1, 1, 1}, {1, 7, 1}, {1, 1, 9}, {3, 17, 5}, {64, 33, 31}};
  hwnas::rng r(20);
  for (int i = 0; i < 12; ++i) shapes.push_back({1 + r.below(40), 1 + r.below(100), 1 + r.below(40)});
  return shapes;
}

constexpr double tolerance = 2e-5;

}  // namespace

TEST_CASE_TEMPLATE("dense: fast kernels match their _ref twins", Arch, xsimd::default_arch, sse2_arch) {
  hwnas::rng r(21);
  for (const auto& s : dense_shapes()) {
    CAPTURE(s.batch);
    CAPTURE(s.in_features);
    CAPTURE(s.out_features);
    const auto in = random_vector(s.input_size(), r);
    const auto w = random_vector(s.weight_size(), r);
    const auto b = random_vector(s.bias_size(), r);
    const auto dout = random_vector(s.output_size(), r);

    std::vector<float> out(s.output_size(), NAN), out_ref(s.output_size());
    hk::dense_forward<Arch>(s, in, w, b, out);
    hk::dense_forward_ref(s, in, w, b, out_ref);
    CHECK(max_rel_error(out, out_ref) < tolerance);
    hk::dense_forward<Arch>(s, in, w, {}, out);
    hk::dense_forward_ref(s, in, w, {}, out_ref);
    CHECK(max_rel_error(out, out_ref) < tolerance);

    std::vector<float> din(s.input_size(), NAN), din_ref(s.input_size());
    hk::dense_backward_data<Arch>(s, dout, w, din);
    hk::dense_backward_data_ref(s, dout, w, din_ref);
    CHECK(max_rel_error(din, din_ref) < tolerance);

    std::vector<float> dw(s.weight_size(), NAN), db(s.bias_size(), NAN), dw_ref(s.weight_size()),
        db_ref(s.bias_size());
    hk::dense_backward_weights<Arch>(s, in, dout, dw, db);
    hk::dense_backward_weights_ref(s, in, dout, dw_ref, db_ref);
    CHECK(max_rel_error(dw, dw_ref) < tolerance);
    CHECK(max_rel_error(db, db_ref) < tolerance);
    hk::dense_backward_weights<Arch>(s, in, dout, dw, db, 0.5f);
    hk::dense_backward_weights_ref(s, in, dout, dw_ref, db_ref, 0.5f);
    CHECK(max_rel_error(dw, dw_ref) < tolerance);
    CHECK(max_rel_error(db, db_ref) < tolerance);
  }
}

TEST_CASE("dense: backward-weights accumulates slices of a batch (beta = 1)") {
  hwnas::rng r(22);
  const dense_shape whole{7, 30, 6}, first{3, 30, 6}, second{4, 30, 6};
  const auto in = random_vector(whole.input_size(), r);
  const auto dout = random_vector(whole.output_size(), r);
  std::vector<float> dw(whole.weight_size()), db(whole.bias_size());
  hk::dense_backward_weights(whole, in, dout, dw, db);
  std::vector<float> dw2(whole.weight_size(), NAN), db2(whole.bias_size(), NAN);
  hk::dense_backward_weights(first, std::span(in).first(first.input_size()),
                             std::span(dout).first(first.output_size()), dw2, db2);
  hk::dense_backward_weights(second, std::span(in).subspan(first.input_size()),
                             std::span(dout).subspan(first.output_size()), dw2, db2, 1.0f);
  CHECK(max_rel_error(dw2, dw) < tolerance);
  CHECK(max_rel_error(db2, db) < tolerance);
  const dense_shape empty{0, 30, 6};
  hk::dense_backward_weights(empty, {}, {}, dw2, db2, 0.0f);
  CHECK(std::all_of(dw2.begin(), dw2.end(), [](float v) { return v == 0.0f; }));
  CHECK(std::all_of(db2.begin(), db2.end(), [](float v) { return v == 0.0f; }));
}

TEST_CASE("dense: finite-difference gradient checks (input, weights, bias)") {
  // L = sum(output * r) is linear in each argument: a large central step is exact up to rounding
  hwnas::rng r(23);
  const dense_shape s{4, 37, 9};
  auto in = random_vector(s.input_size(), r);
  auto w = random_vector(s.weight_size(), r);
  auto b = random_vector(s.bias_size(), r);
  const auto proj = random_vector(s.output_size(), r);
  std::vector<float> out(s.output_size()), din(s.input_size()), dw(s.weight_size()), db(s.bias_size());
  auto loss = [&] {
    hk::dense_forward(s, in, w, b, out);
    return dot(out, proj);
  };
  hk::dense_backward_data(s, proj, w, din);
  hk::dense_backward_weights(s, in, proj, dw, db);
  constexpr float step = 0.5f;
  auto check = [&](std::vector<float>& x, const std::vector<float>& grad, const char* what) {
    CAPTURE(what);
    for (std::size_t i = 0; i < x.size(); i += 1 + x.size() / 40) {
      const float saved = x[i];
      x[i] = saved + step;
      const double up = loss();
      x[i] = saved - step;
      const double down = loss();
      x[i] = saved;
      const double numeric = (up - down) / (2.0 * step);
      CHECK(std::abs(numeric - grad[i]) <= 1e-4 * (1.0 + std::abs(numeric)));
    }
  };
  check(in, din, "input");
  check(w, dw, "weights");
  check(b, db, "bias");
}

TEST_CASE("dense: bad shapes and sizes throw invalid_argument") {
  const dense_shape s{2, 3, 4};
  std::vector<float> in(6), w(12), b(4), out(8), wrong(5);
  CHECK_NOTHROW(hk::dense_forward(s, in, w, b, out));
  CHECK_THROWS_WITH_AS(hk::dense_forward(s, in, wrong, b, out), doctest::Contains("weights"),
                       hwnas::invalid_argument);
  CHECK_THROWS_WITH_AS(hk::dense_forward_ref(dense_shape{2, 0, 4}, in, w, b, out),
                       doctest::Contains("in_features"), hwnas::invalid_argument);
  CHECK_THROWS_AS(hk::dense_backward_data(s, out, w, wrong), hwnas::invalid_argument);
  CHECK_THROWS_WITH_AS(hk::dense_backward_weights(s, in, out, w, wrong), doctest::Contains("grad_bias"),
                       hwnas::invalid_argument);
}

}  // namespace test_dense
