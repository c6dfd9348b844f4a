// Tests of kernels/integer.hpp: every fast kernel against its scalar twin (random and edge shapes, every bit width),
// requantization against hwnas::requantize, and a conv against a float computation on dequantized values.

#include <doctest/doctest.h>

#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#include "hwnas/core/parallel.hpp"
#include "hwnas/core/qformat.hpp"
#include "hwnas/core/rng.hpp"
#include "hwnas/kernels/integer.hpp"

namespace {

namespace k = hwnas::kernels;
using hwnas::qformat;

// The default architecture (AVX2 intrinsics here) and, where available, an older one that takes the portable
// xsimd path, so both code paths are tested on this machine.
#if XSIMD_WITH_SSE4_2 && !XSIMD_WITH_AVX512BW
#define HWNAS_TEST_ARCHES xsimd::default_arch, xsimd::sse4_2
#else
#define HWNAS_TEST_ARCHES xsimd::default_arch
#endif

/// A random unsigned activation format of exactly `bits` bits.
qformat act_format(int bits, hwnas::rng& g) {
  const int f = static_cast<int>(g.below(static_cast<std::uint64_t>(bits) + 1));
  return qformat::activation(bits - f, f);
}
/// A random signed weight format of exactly `bits` bits.
qformat weight_format(int bits, hwnas::rng& g) {
  const int f = static_cast<int>(g.below(static_cast<std::uint64_t>(bits)));
  return qformat::weight(bits - 1 - f, f);
}
/// Random codes in [lo, hi], a quarter of them pinned to lo or hi so that extremes are always present.
template <class T>
std::vector<T> random_codes(std::size_t n, std::int64_t lo, std::int64_t hi, hwnas::rng& g) {
  std::vector<T> v(n);
  for (auto& x : v) {
    const auto r = g.below(8);
    x = static_cast<T>(r == 0 ? lo : r == 1 ? hi : lo + static_cast<std::int64_t>(g.below(static_cast<std::uint64_t>(hi - lo + 1))));
  }
  return v;
}

struct conv_case {
  k::int_conv_shape s;
  qformat in_fmt, w_fmt, out_fmt;
  bool max_codes = false;  // every activation at max_code, every weight at min_code: the worst-case bound
};

/// Runs every conv variant of Arch on one case with activation type A, output type O, and checks it equals the twin.
template <class Arch, class A, class O>
void check_conv_case(const conv_case& c, hwnas::rng& g) {
  const auto& s = c.s;
  CAPTURE(s.batch); CAPTURE(s.in_channels); CAPTURE(s.height); CAPTURE(s.width); CAPTURE(s.out_channels);
  CAPTURE(s.kernel); CAPTURE(s.stride);
  const std::string fmts = hwnas::to_string(c.in_fmt) + " x " + hwnas::to_string(c.w_fmt) + " -> " + hwnas::to_string(c.out_fmt);
  CAPTURE(fmts);
  const std::size_t wn = static_cast<std::size_t>(s.out_channels) * s.in_channels * s.kernel * s.kernel;
  std::vector<A> in = c.max_codes ? std::vector<A>(s.input_size(), static_cast<A>(c.in_fmt.max_code()))
                                  : random_codes<A>(s.input_size(), 0, c.in_fmt.max_code(), g);
  std::vector<std::int16_t> w = c.max_codes ? std::vector<std::int16_t>(wn, static_cast<std::int16_t>(c.w_fmt.min_code()))
                                            : random_codes<std::int16_t>(wn, c.w_fmt.min_code(), c.w_fmt.max_code(), g);
  // Bias: a few accumulator LSBs to a few output LSBs, either sign.
  const std::int64_t span = std::int64_t{1} << std::min(30, c.in_fmt.frac_bits + c.w_fmt.frac_bits + 3);
  std::vector<std::int32_t> bias = random_codes<std::int32_t>(static_cast<std::size_t>(s.out_channels), -span, span, g);
  const k::packed_weights pw(w.data(), s.out_channels, s.in_channels, s.kernel, c.w_fmt);

  std::vector<O> out(s.output_size(), O{7}), ref(s.output_size(), O{9});
  k::int_conv2d<Arch>(s, in.data(), c.in_fmt, pw, bias.data(), out.data(), c.out_fmt);
  k::int_conv2d_ref(s, in.data(), c.in_fmt, w.data(), c.w_fmt, bias.data(), ref.data(), c.out_fmt);
  CHECK(out == ref);

  std::vector<std::int64_t> acc64(s.output_size(), 1), ref64(s.output_size(), 2);
  k::int_conv2d_acc<Arch>(s, in.data(), c.in_fmt, pw, bias.data(), acc64.data());
  k::int_conv2d_acc_ref(s, in.data(), c.in_fmt, w.data(), c.w_fmt, bias.data(), ref64.data());
  CHECK(acc64 == ref64);

  std::vector<std::int32_t> acc32(s.output_size(), 1);
  const bool wide = k::needs_int64_accumulator(s.reduction(), c.in_fmt, c.w_fmt, k::detail::int_max_abs(bias.data(), s.out_channels));
  if (wide) {
    CHECK_THROWS_AS(k::int_conv2d_acc<Arch>(s, in.data(), c.in_fmt, pw, bias.data(), acc32.data()), hwnas::invalid_argument);
  } else {
    k::int_conv2d_acc<Arch>(s, in.data(), c.in_fmt, pw, bias.data(), acc32.data());
    CHECK(std::vector<std::int64_t>(acc32.begin(), acc32.end()) == ref64);
  }
  // Fused with a 2x2 max-pool: the same codes as the reference conv, then the reference pool.
  const std::size_t pooled = static_cast<std::size_t>(s.batch) * s.out_channels * (s.out_height() / 2) * (s.out_width() / 2);
  std::vector<O> pool_out(pooled, O{5}), pool_ref(pooled, O{6});
  k::int_conv2d_maxpool2<Arch>(s, in.data(), c.in_fmt, pw, bias.data(), pool_out.data(), c.out_fmt);
  k::int_maxpool2_ref(s.batch, s.out_channels, s.out_height(), s.out_width(), ref.data(), pool_ref.data());
  CHECK(pool_out == pool_ref);

  // Without bias too (nullptr means zero bias).
  k::int_conv2d<Arch>(s, in.data(), c.in_fmt, pw, nullptr, out.data(), c.out_fmt);
  k::int_conv2d_ref(s, in.data(), c.in_fmt, w.data(), c.w_fmt, static_cast<const std::int32_t*>(nullptr), ref.data(), c.out_fmt);
  CHECK(out == ref);
}

template <class Arch>
void check_conv_any(const conv_case& c, hwnas::rng& g) {
  const bool in8 = c.in_fmt.bits() <= 8, out8 = c.out_fmt.bits() <= 8;
  if (in8 && out8) check_conv_case<Arch, std::uint8_t, std::uint8_t>(c, g);
  if (in8 && !out8) check_conv_case<Arch, std::uint8_t, std::uint16_t>(c, g);
  if (!in8 && out8) check_conv_case<Arch, std::uint16_t, std::uint8_t>(c, g);
  check_conv_case<Arch, std::uint16_t, std::uint16_t>(c, g);  // 16-bit storage takes any format
}

template <class Arch, class A, class O>
void check_dense_case(int batch, int n, int m, qformat in_fmt, qformat w_fmt, qformat out_fmt, bool max_codes,
                      hwnas::rng& g) {
  CAPTURE(batch); CAPTURE(n); CAPTURE(m);
  const std::string fmts = hwnas::to_string(in_fmt) + " x " + hwnas::to_string(w_fmt) + " -> " + hwnas::to_string(out_fmt);
  CAPTURE(fmts);
  const std::size_t ni = static_cast<std::size_t>(batch) * n, wn = static_cast<std::size_t>(m) * n;
  std::vector<A> in = max_codes ? std::vector<A>(ni, static_cast<A>(in_fmt.max_code())) : random_codes<A>(ni, 0, in_fmt.max_code(), g);
  std::vector<std::int8_t> w8;
  std::vector<std::int16_t> w = max_codes ? std::vector<std::int16_t>(wn, static_cast<std::int16_t>(w_fmt.min_code()))
                                          : random_codes<std::int16_t>(wn, w_fmt.min_code(), w_fmt.max_code(), g);
  const std::int64_t span = std::int64_t{1} << std::min(30, in_fmt.frac_bits + w_fmt.frac_bits + 3);
  std::vector<std::int32_t> bias = random_codes<std::int32_t>(static_cast<std::size_t>(m), -span, span, g);
  // int8 weights pack to the same thing as int16 ones when they fit.
  const k::packed_weights pw = [&] {
    if (w_fmt.bits() <= 8) {
      w8.assign(w.begin(), w.end());
      return k::packed_weights(w8.data(), m, n, 1, w_fmt);
    }
    return k::packed_weights(w.data(), m, n, 1, w_fmt);
  }();
  std::vector<O> out(static_cast<std::size_t>(batch) * m, O{3}), ref(out.size(), O{4});
  k::int_dense<Arch>(batch, in.data(), in_fmt, pw, bias.data(), out.data(), out_fmt);
  k::int_dense_ref(batch, n, m, in.data(), in_fmt, w.data(), w_fmt, bias.data(), ref.data(), out_fmt);
  CHECK(out == ref);
  std::vector<std::int64_t> acc64(out.size(), 1), ref64(out.size(), 2);
  k::int_dense_acc<Arch>(batch, in.data(), in_fmt, pw, bias.data(), acc64.data());
  k::int_dense_acc_ref(batch, n, m, in.data(), in_fmt, w.data(), w_fmt, bias.data(), ref64.data());
  CHECK(acc64 == ref64);
  if (!k::needs_int64_accumulator(n, in_fmt, w_fmt, k::detail::int_max_abs(bias.data(), m))) {
    std::vector<std::int32_t> acc32(out.size(), 1);
    k::int_dense_acc<Arch>(batch, in.data(), in_fmt, pw, bias.data(), acc32.data());
    CHECK(std::vector<std::int64_t>(acc32.begin(), acc32.end()) == ref64);
  }
}

}  // namespace

TEST_CASE("integer: requantize_row equals hwnas::requantize for every shift and output format") {
  hwnas::rng g(11);
  std::vector<std::int32_t> acc;
  for (std::int64_t v : {0LL, 1LL, -1LL, 2LL, -2LL, 3LL, 127LL, 128LL, 255LL, 256LL, 65535LL, 65536LL,
                         2147483647LL, -2147483648LL, 2147483646LL, 1073741824LL, 1073741823LL, -1073741824LL})
    acc.push_back(static_cast<std::int32_t>(v));
  for (int i = 0; i < 400; ++i) acc.push_back(static_cast<std::int32_t>(g()));
  for (int i = 0; i < 400; ++i) acc.push_back(static_cast<std::int32_t>(g.below(1 << 20)) - (1 << 19));
  int checked = 0;
  for (int bits = 1; bits <= 16; ++bits)
    for (int f = 0; f <= bits; ++f) {
      const qformat out = qformat::activation(bits - f, f);
      for (int acc_frac = 0; acc_frac <= 31; ++acc_frac) {
        // Add the exact rounding ties of this shift: (2j+1) * 2^(s-1).
        std::vector<std::int32_t> a = acc;
        const int s = acc_frac - f;
        if (s > 0)
          for (std::int64_t j = -3; j <= 3; ++j) {
            const std::int64_t tie = (2 * j + 1) * (std::int64_t{1} << (s - 1));
            if (tie >= INT32_MIN && tie <= INT32_MAX) a.push_back(static_cast<std::int32_t>(tie));
          }
        std::vector<std::uint16_t> got(a.size());
        k::detail::requantize_row(a.data(), a.size(), k::detail::make_requant(acc_frac, out), got.data());
        for (std::size_t i = 0; i < a.size(); ++i) {
          if (got[i] != hwnas::requantize(a[i], acc_frac, out)) {
            CAPTURE(a[i]); CAPTURE(acc_frac); CAPTURE(hwnas::to_string(out));
            REQUIRE(got[i] == hwnas::requantize(a[i], acc_frac, out));
          }
          ++checked;
        }
      }
    }
  CHECK(checked > 100000);
  // The semantics themselves: ties round away from zero, negatives give 0 (ReLU), large values saturate.
  const qformat u4 = qformat::activation(2, 2);
  CHECK(hwnas::requantize(6, 3, u4) == 3);    // 6/8 = 0.75 is code 3 of Q2.2, exactly
  CHECK(hwnas::requantize(5, 3, u4) == 3);    // 2.5 -> 3 (half away from zero)
  CHECK(hwnas::requantize(-5, 3, u4) == 0);   // negative -> ReLU
  CHECK(hwnas::requantize(1000, 3, u4) == 15);
}

TEST_CASE_TEMPLATE("integer: the GEMM epilogue's vector requantization equals hwnas::requantize", Arch,
                   HWNAS_TEST_ARCHES) {
  using V = k::detail::int_ops<Arch>;
  using reg = typename V::reg;
  constexpr std::size_t L = V::width;
  hwnas::rng g(12);
  std::vector<std::int32_t> acc{0, 1, -1, 2, 3, 255, 256, 65535, 65536, INT32_MAX, INT32_MIN, INT32_MAX - 1, 1 << 30};
  for (int i = 0; i < 300; ++i) acc.push_back(static_cast<std::int32_t>(g()));
  for (int i = 0; i < 300; ++i) acc.push_back(static_cast<std::int32_t>(g.below(1 << 18)) - (1 << 17));
  std::size_t checked = 0;
  for (int bits = 1; bits <= 16; ++bits)
    for (int f = 0; f <= bits; ++f) {
      const qformat out = qformat::activation(bits - f, f);
      for (int acc_frac = 0; acc_frac <= 31; ++acc_frac) {
        std::vector<std::int32_t> a = acc;
        if (const int s = acc_frac - f; s > 0)
          for (std::int64_t j = -2; j <= 2; ++j) a.push_back(static_cast<std::int32_t>((2 * j + 1) << (s - 1) >> 0));
        while (a.size() % (2 * L)) a.push_back(0);
        const auto c = k::detail::make_requant_constants(acc_frac, out);
        std::vector<std::uint16_t> got16(a.size());
        std::vector<std::uint8_t> got8(a.size());
        for (std::size_t i = 0; i < a.size(); i += 2 * L) {
          const reg r[2] = {V::requant(V::load(a.data() + i), c), V::requant(V::load(a.data() + i + L), c)};
          V::store_codes(got16.data() + i, r);
          if (bits <= 8) V::store_codes(got8.data() + i, r);
        }
        // the GEMM's epilogue (which takes the shorter requant_right for a pure right shift) and requant_right itself
        std::vector<std::uint16_t> block(a.size()), right(a.size());
        const bool pure_right = k::detail::is_right_shift(c);
        for (std::size_t i = 0; i < a.size(); i += 2 * L) {
          const reg v[2] = {V::load(a.data() + i), V::load(a.data() + i + L)};
          if (pure_right)
            k::detail::requantize_tile<V, true>(v, c, block.data() + i);
          else
            k::detail::requantize_tile<V, false>(v, c, block.data() + i);
        }
        CHECK(pure_right == (acc_frac > f));
        if (pure_right)
          for (std::size_t i = 0; i < a.size(); i += 2 * L) {
            const reg r[2] = {V::requant_right(V::load(a.data() + i), c), V::requant_right(V::load(a.data() + i + L), c)};
            V::store_codes(right.data() + i, r);
          }
        for (std::size_t i = 0; i < a.size(); ++i) {
          const std::int32_t expect = hwnas::requantize(a[i], acc_frac, out);
          if (got16[i] != expect || (bits <= 8 && got8[i] != expect) || block[i] != expect ||
              (pure_right && right[i] != expect)) {
            CAPTURE(a[i]); CAPTURE(acc_frac); CAPTURE(hwnas::to_string(out));
            REQUIRE(got16[i] == expect);
            if (bits <= 8) REQUIRE(got8[i] == expect);
            REQUIRE(block[i] == expect);
            if (pure_right) REQUIRE(right[i] == expect);
          }
          ++checked;
        }
      }
    }
  CHECK(checked > 100000);
}

TEST_CASE_TEMPLATE("integer: conv2d equals its scalar twin on random shapes", Arch, HWNAS_TEST_ARCHES) {
  hwnas::rng g(2024);
  for (int it = 0; it < 120; ++it) {
    conv_case c;
    c.s.batch = 1 + static_cast<int>(g.below(3));
    c.s.in_channels = 1 + static_cast<int>(g.below(it % 4 == 0 ? 40 : 9));
    c.s.height = 1 + static_cast<int>(g.below(13));
    c.s.width = 1 + static_cast<int>(g.below(13));
    c.s.out_channels = 1 + static_cast<int>(g.below(11));
    c.s.kernel = 1 + static_cast<int>(g.below(7));
    c.s.stride = 1 + static_cast<int>(g.below(3));
    c.in_fmt = act_format(1 + static_cast<int>(g.below(it % 3 == 0 ? 16 : 8)), g);
    c.w_fmt = weight_format(1 + static_cast<int>(g.below(it % 3 == 1 ? 16 : 8)), g);
    c.out_fmt = act_format(1 + static_cast<int>(g.below(it % 2 ? 16 : 8)), g);
    check_conv_any<Arch>(c, g);
  }
}

TEST_CASE_TEMPLATE("integer: conv2d edge shapes", Arch, HWNAS_TEST_ARCHES) {
  hwnas::rng g(7);
  const qformat a8 = qformat::activation(2, 6), w8 = qformat::weight(1, 6), o8 = qformat::activation(3, 5);
  for (const k::int_conv_shape s : {
           k::int_conv_shape{1, 1, 1, 1, 1, 1, 1},   // 1x1 image, 1x1 kernel
           k::int_conv_shape{1, 2, 1, 1, 3, 7, 1},   // kernel larger than the image (direct path)
           k::int_conv_shape{2, 3, 2, 3, 5, 7, 2},   // kernel larger than the image, strided
           k::int_conv_shape{1, 4, 7, 8, 4, 3, 3},   // stride 3
           k::int_conv_shape{1, 1, 28, 28, 16, 3, 1},  // reference conv 1 (odd N: im2col)
           k::int_conv_shape{2, 16, 14, 14, 32, 3, 1}, // reference conv 2 (even N: direct)
           k::int_conv_shape{1, 5, 9, 31, 6, 5, 1},  // wide rows, odd channels
           k::int_conv_shape{1, 6, 5, 33, 7, 1, 1},  // 1x1 kernel, direct path, row longer than a tile
           k::int_conv_shape{3, 2, 17, 3, 9, 4, 2},  // even kernel (asymmetric padding)
           k::int_conv_shape{1, 2, 3, 3, 1, 6, 3},
       })
    check_conv_any<Arch>({s, a8, w8, o8}, g);
  // Zero images in a batch is a no-op, not an error.
  const std::vector<std::int16_t> w(9, 1);
  const k::packed_weights pw(w.data(), 1, 1, 3, w8);
  k::int_conv2d<Arch>(k::int_conv_shape{0, 1, 4, 4, 1, 3, 1}, static_cast<const std::uint8_t*>(nullptr), a8, pw, nullptr,
                      static_cast<std::uint8_t*>(nullptr), o8);
}

TEST_CASE_TEMPLATE("integer: max codes at every bit width (saturation and the int64 path)", Arch, HWNAS_TEST_ARCHES) {
  hwnas::rng g(99);
  int wide_layers = 0, narrow_layers = 0;
  for (int bits = 1; bits <= 16; ++bits) {
    const qformat a = qformat::activation(bits / 2, bits - bits / 2);
    const qformat w = bits == 1 ? qformat::weight(0, 0) : qformat::weight((bits - 1) / 2, bits - 1 - (bits - 1) / 2);
    const qformat o = qformat::activation(bits - bits / 3, bits / 3);
    for (const k::int_conv_shape s : {k::int_conv_shape{1, 2, 5, 6, 3, 3, 1}, k::int_conv_shape{1, 33, 4, 4, 5, 5, 2},
                                      k::int_conv_shape{1, 64, 3, 3, 4, 3, 1}}) {
      conv_case c{s, a, w, o, true};
      (k::needs_int64_accumulator(s.reduction(), a, w, 0) ? wide_layers : narrow_layers)++;
      check_conv_any<Arch>(c, g);
      c.max_codes = false;
      check_conv_any<Arch>(c, g);
    }
    for (int n : {1, 3, 17, 63, 65, 1568}) {
      check_dense_case<Arch, std::uint16_t, std::uint16_t>(2, n, 10, a, w, o, true, g);
      check_dense_case<Arch, std::uint16_t, std::uint16_t>(2, n, 10, a, w, o, false, g);
    }
  }
  CHECK(wide_layers > 0);
  CHECK(narrow_layers > 0);
  // All-max codes with all-min weights give the most negative sum: every requantized output is 0 (the ReLU) ...
  const k::int_conv_shape s{1, 4, 3, 3, 2, 3, 1};
  const qformat a = qformat::activation(0, 8), w = qformat::weight(0, 7), o = qformat::activation(0, 8);
  std::vector<std::uint8_t> in(s.input_size(), 255), out(s.output_size(), 1);
  std::vector<std::int16_t> wn(2 * 4 * 9, -128), wp(2 * 4 * 9, 127);
  k::int_conv2d<Arch>(s, in.data(), a, k::packed_weights(wn.data(), 2, 4, 3, w), nullptr, out.data(), o);
  CHECK(out == std::vector<std::uint8_t>(out.size(), 0));
  // ... and all-max weights saturate every output at the max code.
  k::int_conv2d<Arch>(s, in.data(), a, k::packed_weights(wp.data(), 2, 4, 3, w), nullptr, out.data(), o);
  CHECK(out == std::vector<std::uint8_t>(out.size(), 255));
}

TEST_CASE("integer: the int64 path is chosen from the formats and the bias") {
  const qformat a8 = qformat::activation(0, 8), w8 = qformat::weight(0, 7);
  CHECK(k::accumulator_bound(144, a8, w8, 0) == 144LL * 255 * 128);
  CHECK_FALSE(k::needs_int64_accumulator(144, a8, w8, 0));
  CHECK_FALSE(k::needs_int64_accumulator(65000, a8, w8, 0));
  CHECK(k::needs_int64_accumulator(66000, a8, w8, 0));                          // 66000*255*128 > 2^31
  CHECK(k::needs_int64_accumulator(1, a8, w8, std::numeric_limits<std::int32_t>::max()));  // bias alone
  CHECK(k::needs_int64_accumulator(1, qformat::activation(0, 16), w8, 0));      // 16-bit activations
  CHECK_FALSE(k::needs_int64_accumulator(1, qformat::activation(0, 15), qformat::weight(0, 15), 0));
}

TEST_CASE_TEMPLATE("integer: dense equals its scalar twin", Arch, HWNAS_TEST_ARCHES) {
  hwnas::rng g(5);
  for (int it = 0; it < 60; ++it) {
    const int batch = 1 + static_cast<int>(g.below(4));
    const int n = 1 + static_cast<int>(g.below(it % 5 == 0 ? 2000 : 70));
    const int m = 1 + static_cast<int>(g.below(13));
    const qformat a = act_format(1 + static_cast<int>(g.below(8)), g);
    const qformat w = weight_format(1 + static_cast<int>(g.below(it % 2 ? 16 : 8)), g);
    const qformat o = act_format(1 + static_cast<int>(g.below(8)), g);
    check_dense_case<Arch, std::uint8_t, std::uint8_t>(batch, n, m, a, w, o, false, g);
  }
  // The reference classifier: 1568 -> 10 at 4 and 8 bits.
  for (int bits : {4, 8}) {
    const qformat a = qformat::activation(bits / 2, bits - bits / 2), w = qformat::weight(1, bits - 2);
    check_dense_case<Arch, std::uint8_t, std::uint8_t>(32, 1568, 10, a, w, a, false, g);
  }
}

TEST_CASE_TEMPLATE("integer: a thread pool splits the batch without changing the result", Arch, HWNAS_TEST_ARCHES) {
  hwnas::rng g(3);
  hwnas::thread_pool pool(2);
  const k::int_conv_shape s{7, 16, 9, 9, 8, 3, 1};
  const qformat a = qformat::activation(1, 3), w = qformat::weight(1, 2), o = qformat::activation(2, 2);
  const auto in = random_codes<std::uint8_t>(s.input_size(), 0, a.max_code(), g);
  const auto wc = random_codes<std::int8_t>(8 * 16 * 9, w.min_code(), w.max_code(), g);
  const auto bias = random_codes<std::int32_t>(8, -100, 100, g);
  const k::packed_weights pw(wc.data(), 8, 16, 3, w);
  std::vector<std::uint8_t> one(s.output_size()), two(s.output_size());
  k::int_conv2d<Arch>(s, in.data(), a, pw, bias.data(), one.data(), o);
  k::int_conv2d<Arch>(s, in.data(), a, pw, bias.data(), two.data(), o, &pool);
  CHECK(one == two);
  std::vector<std::uint8_t> ref(s.output_size());
  k::int_conv2d_ref(s, in.data(), a, wc.data(), w, bias.data(), ref.data(), o);
  CHECK(two == ref);
  const k::packed_weights dw(wc.data(), 8, 144, 1, w);
  std::vector<std::int32_t> d1(7 * 8), d2(7 * 8);
  k::int_dense_acc<Arch>(7, in.data(), a, dw, bias.data(), d1.data());
  k::int_dense_acc<Arch>(7, in.data(), a, dw, bias.data(), d2.data(), &pool);
  CHECK(d1 == d2);
}

TEST_CASE_TEMPLATE("integer: conv2d equals a float computation on the dequantized values", Arch, HWNAS_TEST_ARCHES) {
  // The integer path computes exactly quantize(relu(bias + sum a*w), out) on the real values: the accumulator is the
  // exact real sum scaled by 2^(F_a+F_w), and requantize rounds it as hwnas::quantize rounds the real number.
  hwnas::rng g(17);
  const qformat a = qformat::activation(2, 4), w = qformat::weight(1, 4), o = qformat::activation(2, 3);
  for (const k::int_conv_shape s : {k::int_conv_shape{2, 3, 6, 5, 4, 3, 1}, k::int_conv_shape{1, 2, 7, 7, 3, 5, 2}}) {
    const auto in = random_codes<std::uint8_t>(s.input_size(), 0, a.max_code(), g);
    const auto wc = random_codes<std::int8_t>(static_cast<std::size_t>(s.out_channels) * s.in_channels * s.kernel * s.kernel,
                                              w.min_code(), w.max_code(), g);
    const auto bias = random_codes<std::int32_t>(static_cast<std::size_t>(s.out_channels), -2000, 2000, g);
    std::vector<std::uint8_t> out(s.output_size());
    k::int_conv2d<Arch>(s, in.data(), a, k::packed_weights(wc.data(), s.out_channels, s.in_channels, s.kernel, w),
                        bias.data(), out.data(), o);
    const double bias_step = std::ldexp(1.0, -(a.frac_bits + w.frac_bits));
    const int ho = s.out_height(), wo = s.out_width(), pt = s.pad_top(), pl = s.pad_left();
    int saturated = 0, zero = 0, mid = 0;
    for (int b = 0; b < s.batch; ++b)
      for (int m = 0; m < s.out_channels; ++m)
        for (int y = 0; y < ho; ++y)
          for (int x = 0; x < wo; ++x) {
            double v = bias[m] * bias_step;
            for (int n = 0; n < s.in_channels; ++n)
              for (int kh = 0; kh < s.kernel; ++kh)
                for (int kw = 0; kw < s.kernel; ++kw) {
                  const int iy = y * s.stride + kh - pt, ix = x * s.stride + kw - pl;
                  if (iy < 0 || iy >= s.height || ix < 0 || ix >= s.width) continue;
                  const double av = hwnas::dequantize(in[((b * s.in_channels + n) * s.height + iy) * s.width + ix], a);
                  const double wv = hwnas::dequantize(wc[((m * s.in_channels + n) * s.kernel + kh) * s.kernel + kw], w);
                  v += av * wv;
                }
            const std::int32_t expect = hwnas::quantize(std::max(v, 0.0), o);
            const std::uint8_t got = out[((b * s.out_channels + m) * ho + y) * wo + x];
            CHECK(got == expect);
            (expect == 0 ? zero : expect == o.max_code() ? saturated : mid)++;
          }
    CHECK(mid > 0);  // the case exercises rounding, not only the clamps
    CHECK(zero > 0);
  }
}

TEST_CASE_TEMPLATE("integer: max-pool equals its scalar twin", Arch, HWNAS_TEST_ARCHES) {
  hwnas::rng g(8);
  for (const auto [b, c, h, w] : {std::array{1, 1, 1, 1}, std::array{1, 1, 2, 2}, std::array{2, 3, 5, 7},
                                  std::array{1, 16, 28, 28}, std::array{2, 2, 9, 67}, std::array{1, 1, 4, 130},
                                  std::array{1, 2, 3, 33}}) {
    CAPTURE(h); CAPTURE(w);
    const std::size_t n = static_cast<std::size_t>(b) * c * h * w, no = static_cast<std::size_t>(b) * c * (h / 2) * (w / 2);
    const auto in8 = random_codes<std::uint8_t>(n, 0, 255, g);
    std::vector<std::uint8_t> o8(no + 1, 77), r8(no + 1, 77);
    k::int_maxpool2<Arch>(b, c, h, w, in8.data(), o8.data());
    k::int_maxpool2_ref(b, c, h, w, in8.data(), r8.data());
    CHECK(o8 == r8);  // including the untouched guard element past the end
    const auto in16 = random_codes<std::uint16_t>(n, 0, 65535, g);
    std::vector<std::uint16_t> o16(no + 1, 77), r16(no + 1, 77);
    k::int_maxpool2<Arch>(b, c, h, w, in16.data(), o16.data());
    k::int_maxpool2_ref(b, c, h, w, in16.data(), r16.data());
    CHECK(o16 == r16);
  }
  // Known values: each output is the max of its 2x2 window; the odd last row and column are dropped.
  const std::vector<std::uint8_t> in{1, 5, 2, 9, /**/ 3, 0, 4, 1, /**/ 8, 8, 8, 8};  // 3x4
  std::vector<std::uint8_t> out(2);
  k::int_maxpool2<Arch>(1, 1, 3, 4, in.data(), out.data());
  CHECK(out == std::vector<std::uint8_t>{5, 9});
}

TEST_CASE_TEMPLATE("integer: quantize_input equals hwnas::quantize", Arch, HWNAS_TEST_ARCHES) {
  hwnas::rng g(4);
  std::vector<float> x;
  for (int i = 0; i < 3000; ++i) x.push_back(static_cast<float>(g.uniform(-0.2, 1.3)));
  for (int f = 0; f <= 16; ++f)
    for (int j = -2; j < 40; ++j) x.push_back(static_cast<float>(std::ldexp(j + 0.5, -f)));  // exact ties
  for (float v : {0.0f, -0.0f, 1.0f, 0.49999997f, 0.5f, std::nextafter(0.5f, 0.0f), 255.0f / 256.0f,
                  std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity(),
                  -std::numeric_limits<float>::infinity(), std::numeric_limits<float>::max(),
                  std::numeric_limits<float>::denorm_min(), 1e30f})
    x.push_back(v);
  for (int bits = 1; bits <= 16; ++bits)
    for (int f = 0; f <= bits; ++f) {
      const qformat q = qformat::activation(bits - f, f);
      std::vector<std::uint16_t> got(x.size()), ref(x.size());
      k::quantize_input<Arch>(x.data(), x.size(), q, got.data());
      k::quantize_input_ref(x.data(), x.size(), q, ref.data());
      REQUIRE(got == ref);
      for (std::size_t i = 0; i < x.size(); i += 97) CHECK(ref[i] == hwnas::quantize(x[i], q));
      if (bits <= 8) {
        std::vector<std::uint8_t> g8(x.size());
        k::quantize_input<Arch>(x.data(), x.size(), q, g8.data());
        CHECK(std::vector<std::uint16_t>(g8.begin(), g8.end()) == ref);
      }
    }
}

TEST_CASE("integer: bad input throws a clear hwnas::invalid_argument") {
  const qformat a = qformat::activation(0, 8), w = qformat::weight(0, 7);
  const std::vector<std::int16_t> wc(2 * 3 * 9, 1);
  const k::packed_weights pw(wc.data(), 2, 3, 3, w);
  std::vector<std::uint8_t> in(3 * 16), out(2 * 16);
  const k::int_conv_shape s{1, 3, 4, 4, 2, 3, 1};
  // A signed activation format, and a 9-bit format in 8-bit storage.
  CHECK_THROWS_AS(k::int_conv2d(s, in.data(), qformat::weight(0, 7), pw, nullptr, out.data(), a), hwnas::invalid_argument);
  CHECK_THROWS_WITH_AS(k::int_conv2d(s, in.data(), qformat::activation(1, 8), pw, nullptr, out.data(), a),
                       doctest::Contains("std::uint16_t"), hwnas::invalid_argument);
  // Weights that do not match the shape.
  CHECK_THROWS_WITH_AS(k::int_conv2d(k::int_conv_shape{1, 3, 4, 4, 3, 3, 1}, in.data(), a, pw, nullptr, out.data(), a),
                       doctest::Contains("weights are (2, 3, 3, 3)"), hwnas::invalid_argument);
  // Bad geometry.
  CHECK_THROWS_AS(k::int_conv2d(k::int_conv_shape{1, 3, 4, 4, 2, 3, 4}, in.data(), a, pw, nullptr, out.data(), a),
                  hwnas::invalid_argument);
  // Packing: an unsigned format, a code out of range.
  CHECK_THROWS_AS(k::packed_weights(wc.data(), 2, 3, 3, qformat::activation(0, 8)), hwnas::invalid_argument);
  std::vector<std::int16_t> big(wc);
  big[5] = 128;
  CHECK_THROWS_WITH_AS(k::packed_weights(big.data(), 2, 3, 3, w), doctest::Contains("outside s0.7"), hwnas::invalid_argument);
  // Dense weights packed as a conv, and int32 logits of a layer whose bound exceeds int32.
  std::vector<std::int32_t> logits(2);
  CHECK_THROWS_AS(k::int_dense_acc(1, in.data(), a, pw, nullptr, logits.data()), hwnas::invalid_argument);
  const std::vector<std::int16_t> dw(2 * 3, 1);
  const k::packed_weights dpw(dw.data(), 2, 3, 1, qformat::weight(0, 15));
  const std::vector<std::uint16_t> in16(3, 1);
  CHECK_THROWS_WITH_AS(k::int_dense_acc(1, in16.data(), qformat::activation(0, 16), dpw, nullptr, logits.data()),
                       doctest::Contains("std::int64_t"), hwnas::invalid_argument);
  std::vector<std::int64_t> logits64(2);
  k::int_dense_acc(1, in16.data(), qformat::activation(0, 16), dpw, nullptr, logits64.data());
  CHECK(logits64 == std::vector<std::int64_t>{3, 3});
}
