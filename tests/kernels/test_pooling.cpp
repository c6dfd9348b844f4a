#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <vector>

#include <hwnas/core/error.hpp>
#include <hwnas/core/rng.hpp>
#include <hwnas/kernels/pooling.hpp>

#include "kernel_test_support.hpp"

namespace hk = hwnas::kernels;
using hk::pool2x2_shape;
using namespace hwnas::kernels::test;

namespace {

std::vector<pool2x2_shape> pool_shapes() {
  std::vector<pool2x2_shape> shapes = {{2, 16, 28, 28}, {2, 32, 14, 14}, {1, 1, 2, 2}, {1, 1, 3, 3},
                                       {1, 2, 2, 9},    {3, 1, 7, 5},    {1, 3, 17, 33}, {2, 2, 15, 16}};
  hwnas::rng r(8);
  for (int i = 0; i < 20; ++i)
    shapes.push_back({1 + r.below(3), 1 + r.below(4), 2 + r.below(30), 2 + r.below(40)});
  return shapes;
}

/// Values with many ties, as after a ReLU: zeros and a few small integers.
std::vector<float> tie_heavy(std::size_t n, hwnas::rng& r) {
  std::vector<float> v(n);
  for (auto& x : v) x = r.below(3) == 0 ? static_cast<float>(r.below(3)) : 0.0f;
  return v;
}

}  // namespace

TEST_CASE("pool2x2_shape: floor for odd sizes, images smaller than the window throw") {
  const pool2x2_shape s{2, 3, 7, 5};
  CHECK(s.out_height() == 3);
  CHECK(s.out_width() == 2);
  CHECK(s.output_size() == 2u * 3 * 3 * 2);
  std::vector<float> in(3), out(0);
  std::vector<std::int32_t> arg;
  CHECK_THROWS_WITH_AS(hk::maxpool2x2_forward(pool2x2_shape{1, 1, 1, 3}, in, out, arg),
                       doctest::Contains("smaller than the 2x2"), hwnas::invalid_argument);
  CHECK_THROWS_WITH_AS(hk::maxpool2x2_forward_ref(pool2x2_shape{1, 0, 2, 2}, in, out, arg),
                       doctest::Contains("channels"), hwnas::invalid_argument);
  std::vector<float> four(4), one(1);
  std::vector<std::int32_t> two(2);
  CHECK_THROWS_WITH_AS(hk::maxpool2x2_forward(pool2x2_shape{1, 1, 2, 2}, four, one, two),
                       doctest::Contains("argmax"), hwnas::invalid_argument);
}

TEST_CASE_TEMPLATE("maxpool2x2: fast kernels match their _ref twins exactly, ties included", Arch,
                   xsimd::default_arch, avx2_arch, sse2_arch) {
  hwnas::rng r(9);
  for (const auto& s : pool_shapes())
    for (const bool ties : {false, true}) {
      CAPTURE(s.batch);
      CAPTURE(s.channels);
      CAPTURE(s.in_height);
      CAPTURE(s.in_width);
      CAPTURE(ties);
      const auto in = ties ? tie_heavy(s.input_size(), r) : random_vector(s.input_size(), r);
      std::vector<float> out(s.output_size(), NAN), out_ref(s.output_size());
      std::vector<std::int32_t> arg(s.output_size(), -1), arg_ref(s.output_size());
      hk::maxpool2x2_forward<Arch>(s, in, out, arg);
      hk::maxpool2x2_forward_ref(s, in, out_ref, arg_ref);
      CHECK(out == out_ref);
      CHECK(arg == arg_ref);
      // the definition: each output is its window's maximum, found at argmax
      const std::size_t oh = s.out_height(), ow = s.out_width(), w = s.in_width, plane = s.in_height * w;
      bool all_max = true;
      for (std::size_t p = 0; p < s.planes(); ++p)
        for (std::size_t y = 0; y < oh; ++y)
          for (std::size_t x = 0; x < ow; ++x) {
            const float* base = in.data() + p * plane + 2 * y * w + 2 * x;
            const float m = std::max({base[0], base[1], base[w], base[w + 1]});
            const std::size_t o = (p * oh + y) * ow + x;
            all_max = all_max && out_ref[o] == m && in[p * plane + static_cast<std::size_t>(arg_ref[o])] == m;
          }
      CHECK(all_max);

      std::vector<float> out2(s.output_size(), NAN);
      hk::maxpool2x2_forward<Arch>(s, in, out2, {});  // inference: no argmax
      CHECK(out2 == out_ref);

      const auto dout = random_vector(s.output_size(), r);
      std::vector<float> din(s.input_size(), NAN), din_ref(s.input_size());
      hk::maxpool2x2_backward<Arch>(s, dout, arg, din);
      hk::maxpool2x2_backward_ref(s, dout, arg_ref, din_ref);
      CHECK(din == din_ref);
      const double in_sum = std::accumulate(din.begin(), din.end(), 0.0);
      const double out_sum = std::accumulate(dout.begin(), dout.end(), 0.0);
      CHECK(in_sum == doctest::Approx(out_sum).epsilon(1e-5));  // every gradient goes somewhere, once
    }
}

TEST_CASE("maxpool2x2: the tie rule (top before bottom, then left before right)") {
  const pool2x2_shape s{1, 1, 2, 2};
  std::vector<float> out(1);
  std::vector<std::int32_t> arg(1), arg_ref(1);
  // a00=1 a01=2 / a10=2 a11=0: the column winners are a10 (2) and a01 (2): equal, so the left one (index 2)
  for (const auto& in :
       {std::vector<float>{1, 2, 2, 0}, std::vector<float>{0, 0, 0, 0}, std::vector<float>{3, 5, 5, 4}}) {
    hk::maxpool2x2_forward(s, in, out, arg);
    hk::maxpool2x2_forward_ref(s, in, out, arg_ref);
    CHECK(arg == arg_ref);
  }
  hk::maxpool2x2_forward_ref(s, std::vector<float>{1, 2, 2, 0}, out, arg_ref);
  CHECK(arg_ref[0] == 2);
  hk::maxpool2x2_forward_ref(s, std::vector<float>{0, 0, 0, 0}, out, arg_ref);
  CHECK(arg_ref[0] == 0);
}

TEST_CASE("maxpool2x2: finite-difference gradient check") {
  hwnas::rng r(10);
  const pool2x2_shape s{2, 3, 9, 8};
  // distinct values 0.01 apart, shuffled, so a step of 0.002 never changes a window's winner
  std::vector<float> in(s.input_size());
  for (std::size_t i = 0; i < in.size(); ++i) in[i] = 0.01f * static_cast<float>(i);
  hwnas::shuffle(in.begin(), in.end(), r);
  const auto proj = random_vector(s.output_size(), r);
  std::vector<float> out(s.output_size()), din(s.input_size());
  std::vector<std::int32_t> arg(s.output_size());
  auto loss = [&] {
    hk::maxpool2x2_forward(s, in, out, {});
    return dot(out, proj);
  };
  hk::maxpool2x2_forward(s, in, out, arg);
  hk::maxpool2x2_backward(s, proj, arg, din);
  constexpr float step = 0.002f;
  for (std::size_t i = 0; i < in.size(); ++i) {
    const float saved = in[i];
    in[i] = saved + step;
    const double up = loss();
    in[i] = saved - step;
    const double down = loss();
    in[i] = saved;
    CHECK((up - down) / (2 * step) == doctest::Approx(din[i]).epsilon(1e-3).scale(1.0));
  }
}

TEST_CASE_TEMPLATE("maxpool2x2: an argmax outside its window is dropped, never written out of bounds", Arch,
                   xsimd::default_arch, avx2_arch, sse2_arch) {
  const pool2x2_shape s{1, 1, 4, 4};
  const std::vector<float> dout = {1.0f, 2.0f, 3.0f, 4.0f};
  for (const std::int32_t bad : {-1, 0, 16, 1000, 1 << 30}) {
    const std::vector<std::int32_t> arg = {0, 2, 8, bad};  // the last window is pixels 10, 11, 14, 15
    std::vector<float> din(16, NAN), din_ref(16, NAN);
    hk::maxpool2x2_backward<Arch>(s, dout, arg, din);
    hk::maxpool2x2_backward_ref(s, dout, arg, din_ref);
    CHECK(din == din_ref);
    std::vector<float> want(16, 0.0f);
    want[0] = 1.0f;
    want[2] = 2.0f;
    want[8] = 3.0f;
    CHECK(din == want);
  }
}
