#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include <hwnas/core/error.hpp>
#include <hwnas/core/rng.hpp>
#include <hwnas/kernels/conv2d.hpp>

#include "kernel_test_support.hpp"

// One namespace per file, so that the file's helpers keep their short names in a unity build.
namespace test_conv2d {

using hwnas::kernels::conv2d_shape;
using namespace hwnas::kernels::test;
namespace hk = hwnas::kernels;

namespace {

std::string describe(const conv2d_shape& s) {
  return "batch " + std::to_string(s.batch) + ", " + std::to_string(s.in_channels) + "x" +
         std::to_string(s.in_height) + "x" + std::to_string(s.in_width) + " -> " + std::to_string(s.out_channels) +
         ", kernel " + std::to_string(s.kernel) + ", stride " + std::to_string(s.stride);
}

/// Shapes every comparison runs on: the reference CNN's two layers, the edge shapes of the issue, and random ones.
std::vector<conv2d_shape> test_shapes() {
  std::vector<conv2d_shape> shapes = {
      {2, 1, 28, 28, 16, 3, 1},  // reference conv1
      {2, 16, 14, 14, 32, 3, 1},  // reference conv2
      {1, 1, 1, 1, 1, 1, 1},     // 1x1 image, 1x1 kernel
      {1, 2, 1, 1, 3, 3, 1},     // 1x1 image, kernel larger than the image
      {1, 3, 2, 3, 2, 7, 1},     // kernel 7 > image
      {2, 2, 5, 7, 5, 7, 3},     // kernel 7, stride 3, odd sizes
      {1, 3, 7, 9, 4, 4, 3},     // even kernel: padding after > before
      {3, 2, 9, 6, 6, 2, 2},     // even kernel, stride 2
      {1, 1, 1, 1, 2, 5, 3},     // 1x1 image, stride 3
      {1, 5, 6, 6, 7, 1, 1},     // 1x1 convolution
      {2, 3, 11, 13, 9, 1, 2},   // 1x1 convolution, stride 2
      {1, 4, 3, 17, 5, 5, 1},    // wide
      // stride 1 with channel counts the direct kernels take (multiples of 4, or 7, 8, 10...)
      {2, 4, 7, 9, 8, 4, 1},     // even kernel: padding after > before
      {1, 8, 5, 3, 4, 7, 1},     // kernel 7 > image
      {3, 4, 1, 1, 4, 2, 1},     // 1x1 image
      {1, 7, 6, 5, 12, 5, 1},    // padding channels in both directions (7 -> 8)
      {2, 12, 9, 10, 7, 1, 1},   // 1x1 kernel
      {2, 64, 7, 7, 16, 5, 1},   // a search candidate's layer: 4 vectors of flat positions at 16 lanes
      {1, 3, 7, 7, 4, 3, 1},     // 27 taps: 6-tap backward-weights tiles and a 3-tap remainder
  };
  // planes of 1 to 7 vectors of flat positions (at 4, 8 and 16 lanes): every remainder of the register tiles
  for (std::size_t h = 1; h <= 16; h += 3) shapes.push_back({1, 4, h, 6, 4, 3, 1});
  hwnas::rng r(42);
  for (int i = 0; i < 30; ++i) {
    conv2d_shape s;
    s.batch = 1 + r.below(3);
    s.in_channels = 1 + r.below(5);
    s.in_height = 1 + r.below(12);
    s.in_width = 1 + r.below(12);
    s.out_channels = 1 + r.below(i % 2 ? 9 : 16);
    s.kernel = 1 + r.below(7);
    s.stride = 1 + r.below(3);
    shapes.push_back(s);
  }
  return shapes;
}

constexpr double tolerance = 2e-5;

}  // namespace

TEST_CASE("conv2d_shape: TensorFlow 'same' geometry") {
  const conv2d_shape ref1{64, 1, 28, 28, 16, 3, 1};
  CHECK(ref1.out_height() == 28);
  CHECK(ref1.out_width() == 28);
  CHECK(ref1.pad_top() == 1);
  CHECK(ref1.pad_bottom() == 1);
  CHECK(ref1.patch_size() == 9);
  CHECK(ref1.output_size() == 64u * 16 * 28 * 28);
  CHECK(ref1.flops() == doctest::Approx(2.0 * 64 * 16 * 784 * 9));

  const conv2d_shape odd{1, 1, 5, 6, 1, 4, 2};  // out 3x3; totals 3 and 2
  CHECK(odd.out_height() == 3);
  CHECK(odd.out_width() == 3);
  CHECK(odd.pad_top() == 1);
  CHECK(odd.pad_bottom() == 2);  // the odd pixel goes after
  CHECK(odd.pad_left() == 1);
  CHECK(odd.pad_right() == 1);

  const conv2d_shape tiny{1, 1, 1, 1, 1, 7, 3};  // out 1; total 6
  CHECK(tiny.out_height() == 1);
  CHECK(tiny.pad_top() == 3);
  CHECK(tiny.pad_bottom() == 3);

  const conv2d_shape no_pad{1, 1, 6, 6, 1, 1, 3};  // out 2; (2-1)*3 + 1 - 6 < 0 -> 0
  CHECK(no_pad.out_height() == 2);
  CHECK(no_pad.pad_height() == 0);
}

TEST_CASE("conv2d: bad shapes and buffer sizes throw invalid_argument naming the problem") {
  hk::workspace ws;
  conv2d_shape s{1, 2, 4, 4, 3, 3, 1};
  std::vector<float> in(s.input_size()), w(s.weight_size()), b(s.bias_size()), out(s.output_size());
  CHECK_NOTHROW(hk::conv2d_forward(s, in, w, b, out, ws));
  CHECK_THROWS_WITH_AS(hk::conv2d_forward(s, in, w, std::vector<float>(2), out, ws),
                       doctest::Contains("bias"), hwnas::invalid_argument);
  CHECK_THROWS_WITH_AS(hk::conv2d_forward_ref(s, std::vector<float>(3), w, b, out), doctest::Contains("input"),
                       hwnas::invalid_argument);
  CHECK_THROWS_WITH_AS(hk::conv2d_backward_data(s, out, std::vector<float>(1), in, ws),
                       doctest::Contains("weights"), hwnas::invalid_argument);
  std::vector<float> five(5);
  CHECK_THROWS_WITH_AS(hk::conv2d_backward_weights(s, in, out, w, five, ws),
                       doctest::Contains("grad_bias"), hwnas::invalid_argument);
  for (auto field : {&conv2d_shape::in_channels, &conv2d_shape::in_height, &conv2d_shape::in_width,
                     &conv2d_shape::out_channels, &conv2d_shape::kernel, &conv2d_shape::stride}) {
    conv2d_shape bad = s;
    bad.*field = 0;
    CHECK_THROWS_WITH_AS(hk::conv2d_forward_ref(bad, in, w, b, out), doctest::Contains("is 0"),
                         hwnas::invalid_argument);
  }
  conv2d_shape huge = s;
  huge.in_height = std::size_t{1} << 40;
  CHECK_THROWS_AS(hk::conv2d_forward(huge, in, w, b, out, ws), hwnas::invalid_argument);
}

TEST_CASE_TEMPLATE("conv2d: fast kernels match their _ref twins", Arch, xsimd::default_arch, avx2_arch,
                   sse2_arch) {
  hwnas::rng r(7);
  hk::workspace ws;
  for (const auto& s : test_shapes()) {
    CAPTURE(describe(s));
    const auto in = random_vector(s.input_size(), r);
    const auto w = random_vector(s.weight_size(), r);
    const auto b = random_vector(s.bias_size(), r);
    const auto dout = random_vector(s.output_size(), r);

    std::vector<float> out(s.output_size(), NAN), out_ref(s.output_size());
    hk::conv2d_forward<Arch>(s, in, w, b, out, ws);
    hk::conv2d_forward_ref(s, in, w, b, out_ref);
    CHECK(max_rel_error(out, out_ref) < tolerance);
    hk::conv2d_forward<Arch>(s, in, w, {}, out, ws);  // no bias
    hk::conv2d_forward_ref(s, in, w, {}, out_ref);
    CHECK(max_rel_error(out, out_ref) < tolerance);

    std::vector<float> din(s.input_size(), NAN), din_ref(s.input_size());
    hk::conv2d_backward_data<Arch>(s, dout, w, din, ws);
    hk::conv2d_backward_data_ref(s, dout, w, din_ref);
    CHECK(max_rel_error(din, din_ref) < tolerance);

    std::vector<float> dw(s.weight_size(), NAN), db(s.bias_size(), NAN);
    std::vector<float> dw_ref(s.weight_size()), db_ref(s.bias_size());
    hk::conv2d_backward_weights<Arch>(s, in, dout, dw, db, ws);  // beta 0 ignores the NaNs
    hk::conv2d_backward_weights_ref(s, in, dout, dw_ref, db_ref);
    CHECK(max_rel_error(dw, dw_ref) < tolerance);
    CHECK(max_rel_error(db, db_ref) < tolerance);

    // beta = 0.5: both scale the old gradient and add
    hk::conv2d_backward_weights<Arch>(s, in, dout, dw, db, ws, 0.5f);
    hk::conv2d_backward_weights_ref(s, in, dout, dw_ref, db_ref, 0.5f);
    CHECK(max_rel_error(dw, dw_ref) < tolerance);
    CHECK(max_rel_error(db, db_ref) < tolerance);
    hk::conv2d_backward_weights<Arch>(s, in, dout, dw, {}, ws);  // no bias gradient
    CHECK(max_rel_error(dw, std::vector<float>(dw_ref.size(), 0.0f)) > 0.0);  // it wrote something
  }
}

TEST_CASE_TEMPLATE("conv2d: backward-weights accumulates slices of a batch (beta = 1)", Arch, xsimd::default_arch,
                   avx2_arch, sse2_arch) {
  hwnas::rng r(11);
  hk::workspace ws;
  for (const std::size_t stride : {1, 2}) {
    const conv2d_shape whole{5, 3, 9, 8, 6, 3, stride};
    const auto in = random_vector(whole.input_size(), r);
    const auto dout = random_vector(whole.output_size(), r);
    std::vector<float> dw(whole.weight_size()), db(whole.bias_size());
    hk::conv2d_backward_weights<Arch>(whole, in, dout, dw, db, ws);

    // slices of 2 and 3 images, the second accumulating into the first
    conv2d_shape first = whole, second = whole;
    first.batch = 2;
    second.batch = 3;
    std::vector<float> dw_split(whole.weight_size(), NAN), db_split(whole.bias_size(), NAN);
    hk::conv2d_backward_weights<Arch>(first, std::span(in).first(first.input_size()),
                                      std::span(dout).first(first.output_size()), dw_split, db_split, ws, 0.0f);
    hk::conv2d_backward_weights<Arch>(second, std::span(in).subspan(first.input_size()),
                                      std::span(dout).subspan(first.output_size()), dw_split, db_split, ws, 1.0f);
    CHECK(max_rel_error(dw_split, dw) < tolerance);
    CHECK(max_rel_error(db_split, db) < tolerance);

    // an empty slice scales by beta: keeps with beta 1, clears with beta 0
    conv2d_shape empty = whole;
    empty.batch = 0;
    hk::conv2d_backward_weights<Arch>(empty, {}, {}, dw_split, db_split, ws, 1.0f);
    CHECK(max_rel_error(dw_split, dw) < tolerance);
    hk::conv2d_backward_weights<Arch>(empty, {}, {}, dw_split, db_split, ws, 0.0f);
    CHECK(std::all_of(dw_split.begin(), dw_split.end(), [](float v) { return v == 0.0f; }));
    CHECK(std::all_of(db_split.begin(), db_split.end(), [](float v) { return v == 0.0f; }));
  }
}

TEST_CASE("conv2d: finite-difference gradient checks (input, weights, bias)") {
  // L = sum(output * r). The convolution is linear in each argument, so a central difference with a large step is
  // exact up to rounding: it checks the backward kernels against the forward kernel, not against another formula.
  hwnas::rng r(3);
  hk::workspace ws;
  for (const conv2d_shape& s : {conv2d_shape{2, 3, 6, 5, 4, 3, 1}, conv2d_shape{1, 2, 7, 7, 3, 4, 2},
                                conv2d_shape{2, 2, 5, 4, 3, 5, 3}, conv2d_shape{1, 16, 14, 14, 32, 3, 1}}) {
    CAPTURE(describe(s));
    auto in = random_vector(s.input_size(), r);
    auto w = random_vector(s.weight_size(), r);
    auto b = random_vector(s.bias_size(), r);
    const auto proj = random_vector(s.output_size(), r);
    std::vector<float> out(s.output_size());
    auto loss = [&] {
      hk::conv2d_forward(s, in, w, b, out, ws);
      return dot(out, proj);
    };
    std::vector<float> din(s.input_size()), dw(s.weight_size()), db(s.bias_size());
    hk::conv2d_backward_data(s, proj, w, din, ws);
    hk::conv2d_backward_weights(s, in, proj, dw, db, ws);

    constexpr float step = 0.5f;
    auto check = [&](std::vector<float>& x, const std::vector<float>& grad, const char* what) {
      CAPTURE(what);
      for (int trial = 0; trial < 12; ++trial) {
        const std::size_t i = r.below(x.size());
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
}

TEST_CASE("conv2d: the workspace stops growing once it has seen a layer") {
  hwnas::rng r(5);
  hk::workspace ws;
  for (const std::size_t stride : {1, 2}) {
    const conv2d_shape s{4, 16, 14, 14, 32, 3, stride};
    const auto in = random_vector(s.input_size(), r);
    const auto w = random_vector(s.weight_size(), r);
    const auto dout = random_vector(s.output_size(), r);
    std::vector<float> out(s.output_size()), din(s.input_size()), dw(s.weight_size()), db(s.bias_size());
    auto step = [&] {
      hk::conv2d_forward(s, in, w, {}, out, ws);
      hk::conv2d_backward_data(s, dout, w, din, ws);
      hk::conv2d_backward_weights(s, in, dout, dw, db, ws);
    };
    step();
    const std::size_t after_first = ws.allocations();
    CHECK(after_first >= 1);
    step();
    step();
    CHECK(ws.allocations() == after_first);
  }
}

}  // namespace test_conv2d
