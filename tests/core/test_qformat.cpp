#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>

#include "hwnas/core/qformat.hpp"

using hwnas::qformat;

// Compile-time: the arithmetic is constexpr, so formats can be template arguments and tables.
static_assert(qformat::weight(1, 2).bits() == 4);
static_assert(qformat::activation(1, 3).bits() == 4);
static_assert(qformat::weight(0, 3).max_code() == 7 && qformat::weight(0, 3).min_code() == -8);
static_assert(qformat::activation(2, 2).max_code() == 15 && qformat::activation(2, 2).min_code() == 0);
static_assert(hwnas::quantize(0.3, qformat::weight(1, 2)) == 1);

TEST_CASE("qformat: bits, code range and validity") {
  CHECK(qformat::weight(3, 12).bits() == 16);
  CHECK(qformat::weight(3, 12).valid());
  CHECK_FALSE(qformat::weight(4, 12).valid());       // 17 bits
  CHECK_FALSE(qformat::activation(0, 0).valid());    // 0 bits
  CHECK(qformat::weight(0, 0).valid());              // a 1-bit weight: bipolar {-1, +1}
  CHECK_FALSE(qformat{-1, 3, true}.valid());
  CHECK(qformat::activation(0, 16).max_code() == 65535);
  CHECK(qformat::weight(0, 15).min_code() == -32768);
  CHECK(qformat::activation(1, 1).max_value() == doctest::Approx(1.5));
  CHECK(hwnas::to_string(qformat::weight(1, 2)) == "s1.2");
  CHECK(hwnas::to_string(qformat::activation(0, 4)) == "u0.4");
  CHECK_THROWS_AS(hwnas::check(qformat::weight(8, 8), "layer 3 weights"), hwnas::invalid_argument);
  CHECK_THROWS_WITH(hwnas::check(qformat::weight(8, 8), "layer 3 weights"),
                    doctest::Contains("layer 3 weights"));
}

TEST_CASE("qformat: quantize rounds half away from zero and saturates") {
  const auto w = qformat::weight(1, 2);  // codes -8..7, step 0.25
  CHECK(hwnas::quantize(0.125, w) == 1);    // exactly half: away from zero
  CHECK(hwnas::quantize(-0.125, w) == -1);
  CHECK(hwnas::quantize(0.124, w) == 0);
  CHECK(hwnas::quantize(0.375, w) == 2);    // 1.5 -> 2
  CHECK(hwnas::quantize(-0.375, w) == -2);
  CHECK(hwnas::quantize(1.75, w) == 7);
  CHECK(hwnas::quantize(100.0, w) == 7);    // saturate high
  CHECK(hwnas::quantize(-100.0, w) == -8);  // saturate low
  CHECK(hwnas::quantize(INFINITY, w) == 7);
  CHECK(hwnas::quantize(-INFINITY, w) == -8);
  CHECK(hwnas::quantize(NAN, w) == 0);
  const auto a = qformat::activation(0, 4);
  CHECK(hwnas::quantize(-0.3, a) == 0);     // unsigned: negatives clamp to 0 (the ReLU)
  CHECK(hwnas::quantize(0.5, a) == 8);
  CHECK(hwnas::dequantize(8, a) == 0.5);
  CHECK(hwnas::round_to(0.26, w) == 0.25);
}

TEST_CASE("qformat: quantize agrees with a reference formula on a dense sweep") {
  for (int i = 0; i <= 3; ++i)
    for (int f = 0; f <= 6; ++f)
      for (bool s : {true, false}) {
        const qformat q{i, f, s};
        if (!q.valid()) continue;
        for (double x = -20.0; x <= 20.0; x += 0.0371) {
          const double scaled = x * std::ldexp(1.0, f);
          double r = std::copysign(std::floor(std::fabs(scaled) + 0.5), scaled);
          r = std::fmin(std::fmax(r, q.min_code()), q.max_code());
          if (q.bipolar()) r = x >= 0 ? 1.0 : -1.0;  // s0.0: the sign
          REQUIRE(hwnas::quantize(x, q) == static_cast<std::int32_t>(r));
        }
      }
}

TEST_CASE("qformat: shift_round and requantize are the hardware's rescaling") {
  CHECK(hwnas::shift_round(5, 1) == 3);     // 2.5 -> 3
  CHECK(hwnas::shift_round(-5, 1) == -3);   // -2.5 -> -3
  CHECK(hwnas::shift_round(4, 1) == 2);
  CHECK(hwnas::shift_round(7, 2) == 2);     // 1.75 -> 2
  CHECK(hwnas::shift_round(-6, 2) == -2);   // -1.5 -> -2
  CHECK(hwnas::shift_round(3, 0) == 3);
  CHECK(hwnas::shift_round(3, -2) == 12);   // left shift when the output has more fraction bits
  // requantize == quantize of the exact real value, for every accumulator in a range.
  const auto out = qformat::activation(1, 3);
  for (std::int64_t acc = -3000; acc <= 3000; ++acc) {
    const double real = static_cast<double>(acc) / 64.0;  // 6 fraction bits in the accumulator
    REQUIRE(hwnas::requantize(acc, 6, out) == hwnas::quantize(real, out));
  }
}

TEST_CASE("qformat: one-bit weights are bipolar {-1, +1}, the sign of the latent weight") {
  constexpr auto b = qformat::weight(0, 0);
  static_assert(b.bipolar() && !qformat::weight(0, 1).bipolar() && !qformat::activation(1, 0).bipolar());
  static_assert(b.max_code() == 1 && b.min_code() == -1);
  CHECK(b.max_value() == 1.0);
  CHECK(b.min_value() == -1.0);
  CHECK(hwnas::quantize(0.3, b) == 1);
  CHECK(hwnas::quantize(0.0, b) == 1);  // the sign bit clear: +1
  CHECK(hwnas::quantize(-1e-9, b) == -1);
  CHECK(hwnas::quantize(-7.0, b) == -1);
  CHECK(hwnas::quantize(1e9, b) == 1);
  CHECK(hwnas::quantize(std::nan(""), b) == 0);  // never invented: the caller reports the NaN
  for (double x : {-2.0, -0.4, 0.0, 0.2, 5.0}) CHECK(hwnas::round_to(x, b) == (x >= 0 ? 1.0 : -1.0));
}
