#pragma once
/// @file
/// Internals of quantization-aware training (nn/network.hpp): the exactness bound that lets a quantized layer run
/// on the float kernels, and the QAT epilogue that turns exact accumulators into the next layer's activation codes
/// (bias in the accumulator's format, ReLU, requantization: round half away from zero, saturation) together with
/// the straight-through estimator's mask. Not public API. The argument is in docs/training.md#qat-exactness.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>

#include <xsimd/xsimd.hpp>

#include "hwnas/core/qformat.hpp"

namespace hwnas::nn::detail {

/// Largest accumulator magnitude (in codes, i.e. units of 2^-acc_frac) for which float arithmetic is exact:
/// every partial sum of products of codes is an integer below 2^24, so a float holds it exactly whatever the
/// summation order (FMA or not, any blocking).
inline constexpr double float_exact_limit = 16777216.0;  // 2^24

/// Bound on |sum of products| of a layer: fan_in * max|activation code| * max|weight code|.
constexpr double accumulator_bound(std::int64_t fan_in, const qformat& in, const qformat& w) noexcept {
  const double a = std::max(std::abs(double(in.max_code())), std::abs(double(in.min_code())));
  const double b = std::max(std::abs(double(w.max_code())), std::abs(double(w.min_code())));
  return static_cast<double>(fan_in) * a * b;
}

/// Range of the bias codes (accumulator format) of a layer on the float kernels: below 2^29, so that the SIMD
/// epilogue's int32 arithmetic (accumulator < 2^24, + bias, + rounding half < 2^24) cannot overflow.
inline constexpr std::int32_t bias_code_limit = (std::int32_t{1} << 29) - 1;
/// Range of the bias codes of a layer on the integer kernels (int32 bias codes, int64 epilogue).
inline constexpr std::int32_t wide_bias_code_limit = std::numeric_limits<std::int32_t>::max();

/// Scalar twin of round_to_format: values[i] = hwnas::quantize(x[i], f) * 2^-F (a latent weight rounded to its
/// format, as a float: exact, since codes have at most 16 bits), codes[i] = the code when `codes` is not null.
inline void round_to_format_ref(const float* x, std::size_t n, const qformat& f, float* values,
                                std::int16_t* codes) noexcept {
  const float step = static_cast<float>(f.step());
  for (std::size_t i = 0; i < n; ++i) {
    const std::int32_t q = quantize(static_cast<double>(x[i]), f);
    values[i] = static_cast<float>(q) * step;
    if (codes) codes[i] = static_cast<std::int16_t>(q);
  }
}

/// round_to_format_ref on xsimd batches (bit for bit the same): s = x * 2^F is exact; |s| is rounded half away from
/// zero as floor(|s|) + (|s| - floor(|s|) >= 0.5), where the subtraction is exact; the result saturates to the
/// code range; NaN gives 0.
template <class Arch = xsimd::default_arch>
void round_to_format(const float* x, std::size_t n, const qformat& f, float* values, std::int16_t* codes) noexcept {
  if (f.bipolar()) {  // the sign, +-1: weights only, so the scalar loop costs nothing that matters
    round_to_format_ref(x, n, f, values, codes);
    return;
  }
  if constexpr (!Arch::supported()) {
    round_to_format_ref(x, n, f, values, codes);
  } else {
    using fb = xsimd::batch<float, Arch>;
    constexpr std::size_t w = fb::size;
    const fb scale(std::ldexp(1.0f, f.frac_bits)), step(static_cast<float>(f.step()));
    const fb lo(static_cast<float>(f.min_code())), hi(static_cast<float>(f.max_code()));
    const fb half(0.5f), one(1.0f), zero(0.0f);
    alignas(64) float tmp[w];
    std::size_t i = 0;
    for (; i + w <= n; i += w) {
      const fb raw = fb::load_unaligned(x + i) * scale;
      const fb s = xsimd::min(xsimd::max(raw, lo), hi);  // saturate first: rounding is monotone
      const fb a = xsimd::abs(s), fl = xsimd::floor(a);
      const fb r = fl + xsimd::select((a - fl) >= half, one, zero);
      const fb q = xsimd::select(raw == raw, xsimd::select(s < zero, zero - r, r), zero);  // NaN -> 0
      (q * step).store_unaligned(values + i);
      if (codes) {
        q.store_aligned(tmp);
        for (std::size_t j = 0; j < w; ++j) codes[i + j] = static_cast<std::int16_t>(tmp[j]);
      }
    }
    round_to_format_ref(x + i, n - i, f, values + i, codes ? codes + i : nullptr);
  }
}

/// Requantization constants of one quantized layer (accumulator with `acc_frac` fraction bits -> format `out`).
struct epilogue_params {
  int shift = 0;                ///< acc_frac - out.frac_bits; > 0 shifts right with rounding, < 0 shifts left
  std::int32_t max_code = 0;    ///< out.max_code()
  std::int32_t left_limit = 0;  ///< shift < 0: largest t with t << -shift <= max_code
  std::int32_t mask_limit = 0;  ///< STE passes the gradient iff 0 < t < mask_limit (pre-activation < max value)
  float acc_scale = 1.0f;       ///< 2^acc_frac: float pre-activation -> accumulator code
  float out_step = 1.0f;        ///< 2^-out.frac_bits: code -> value

  epilogue_params() = default;
  epilogue_params(int acc_frac, const qformat& out) noexcept
      : shift(acc_frac - out.frac_bits),
        max_code(out.max_code()),
        acc_scale(std::ldexp(1.0f, acc_frac)),
        out_step(std::ldexp(1.0f, -out.frac_bits)) {
    const std::int64_t max = out.max_code();
    if (shift >= 0) {
      const std::int64_t lim = shift >= 40 ? std::numeric_limits<std::int64_t>::max() : max << shift;
      mask_limit = static_cast<std::int32_t>(std::min<std::int64_t>(lim, std::numeric_limits<std::int32_t>::max()));
      left_limit = 0;
    } else {
      // t * 2^-shift < max  <=>  t <= (max - 1) >> -shift
      mask_limit = static_cast<std::int32_t>(((max - 1) >> -shift) + 1);
      left_limit = static_cast<std::int32_t>(max >> -shift);
    }
  }

  /// requantize(t, acc_frac, out) for the ReLU'd (unsigned) output, in int32: t <= 0 gives 0.
  constexpr std::int32_t code(std::int32_t t) const noexcept {
    if (t <= 0) return 0;
    if (shift > 0) {
      const std::int32_t q = static_cast<std::int32_t>((static_cast<std::int64_t>(t) + (std::int64_t{1} << (shift - 1))) >> shift);
      return std::min(q, max_code);
    }
    if (shift == 0) return std::min(t, max_code);
    return t > left_limit ? max_code : t << -shift;
  }
};

/// Scalar twin of qat_epilogue (the definition): for each of `count` elements of `channels` planes of `pixels`,
/// t = z * 2^acc_frac + bias[channel] (exact), value = code(t) * 2^-F, mask = (0 < t < mask_limit).
inline void qat_epilogue_ref(const float* z, std::size_t images, std::size_t channels, std::size_t pixels,
                             const std::int32_t* bias, const epilogue_params& p, float* value, float* mask) noexcept {
  for (std::size_t b = 0; b < images; ++b)
    for (std::size_t c = 0; c < channels; ++c) {
      const std::size_t base = (b * channels + c) * pixels;
      for (std::size_t i = 0; i < pixels; ++i) {
        const std::int32_t t = static_cast<std::int32_t>(z[base + i] * p.acc_scale) + bias[c];
        value[base + i] = static_cast<float>(p.code(t)) * p.out_step;
        mask[base + i] = (t > 0 && t < p.mask_limit) ? 1.0f : 0.0f;
      }
    }
}

/// As qat_epilogue_ref, from exact integer accumulators (the integer-kernel path of wide formats), in int64:
/// t = acc + bias (bias may be null), value = requantize(t, acc_frac, out) * 2^-F, mask = (0 < t < max * 2^shift).
template <class Acc>
void qat_epilogue_int(const Acc* acc, std::size_t images, std::size_t channels, std::size_t pixels,
                      const std::int32_t* bias, const epilogue_params& p, float* value, float* mask) noexcept {
  const std::int64_t max = p.max_code;
  // the mask limit in int64: t < limit <=> t * 2^-shift < max
  const std::int64_t limit = p.shift >= 0 ? (p.shift >= 40 ? std::numeric_limits<std::int64_t>::max() : max << p.shift)
                                          : ((max - 1) >> -p.shift) + 1;
  for (std::size_t b = 0; b < images; ++b)
    for (std::size_t c = 0; c < channels; ++c) {
      const std::size_t base = (b * channels + c) * pixels;
      for (std::size_t i = 0; i < pixels; ++i) {
        const std::int64_t t = static_cast<std::int64_t>(acc[base + i]) + (bias ? bias[c] : 0);
        std::int64_t q;
        if (t <= 0) q = 0;
        else if (p.shift > 0) q = std::min((t + (std::int64_t{1} << (p.shift - 1))) >> p.shift, max);
        else if (p.shift == 0) q = std::min(t, max);
        else q = t > (max >> -p.shift) ? max : t << -p.shift;
        value[base + i] = static_cast<float>(q) * p.out_step;
        mask[base + i] = (t > 0 && t < limit) ? 1.0f : 0.0f;
      }
    }
}

/// The QAT epilogue on xsimd batches of `Arch` (same results as qat_epilogue_ref, bit for bit).
template <class Arch = xsimd::default_arch>
void qat_epilogue(const float* z, std::size_t images, std::size_t channels, std::size_t pixels,
                  const std::int32_t* bias, const epilogue_params& p, float* value, float* mask) noexcept {
  if constexpr (!Arch::supported()) {
    qat_epilogue_ref(z, images, channels, pixels, bias, p, value, mask);
  } else {
    using fb = xsimd::batch<float, Arch>;
    using ib = xsimd::batch<std::int32_t, Arch>;
    constexpr std::size_t w = fb::size;
    const fb scale(p.acc_scale), step(p.out_step);
    const ib zero(0), one_i(1), maxc(p.max_code), mlim(p.mask_limit), llim(p.left_limit);
    const std::int32_t half = p.shift > 0 ? (std::int32_t{1} << (p.shift - 1)) : 0;
    const ib halfv(half);
    for (std::size_t b = 0; b < images; ++b)
      for (std::size_t c = 0; c < channels; ++c) {
        const std::size_t base = (b * channels + c) * pixels;
        const ib bv(bias[c]);
        std::size_t i = 0;
        for (; i + w <= pixels; i += w) {
          const fb zv = fb::load_unaligned(z + base + i);
          const ib t = xsimd::batch_cast<std::int32_t>(zv * scale) + bv;
          ib q;
          if (p.shift > 0) {
            q = xsimd::min((xsimd::max(t, zero) + halfv) >> p.shift, maxc);
          } else if (p.shift == 0) {
            q = xsimd::min(xsimd::max(t, zero), maxc);
          } else {
            // t > left_limit saturates: clamp to left_limit + 1 first, so the shift cannot overflow, then to max.
            // (No integer xsimd::select: xsimd 8.1's AVX512BW select fails to compile for int32 at -O0/-O1.)
            q = xsimd::min(xsimd::min(xsimd::max(t, zero), llim + one_i) << (-p.shift), maxc);
          }
          (xsimd::batch_cast<float>(q) * step).store_unaligned(value + base + i);
          // STE pass-through mask 0 < t < mask_limit, as 0/1 integers: min(t+, 1) & min(limit - min(t+, limit), 1)
          const ib tp = xsimd::max(t, zero);
          const ib pass = xsimd::min(tp, one_i) & xsimd::min(mlim - xsimd::min(tp, mlim), one_i);
          xsimd::batch_cast<float>(pass).store_unaligned(mask + base + i);
        }
        for (; i < pixels; ++i) {
          const std::int32_t t = static_cast<std::int32_t>(z[base + i] * p.acc_scale) + bias[c];
          value[base + i] = static_cast<float>(p.code(t)) * p.out_step;
          mask[base + i] = (t > 0 && t < p.mask_limit) ? 1.0f : 0.0f;
        }
      }
  }
}

}  // namespace hwnas::nn::detail
