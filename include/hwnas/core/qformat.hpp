#pragma once
/// @file
/// Fixed-point formats and the one arithmetic hwnas uses everywhere (training, integer inference, cost models).
///
/// - Weights are signed two's complement Q(I.F): bits = 1 + I + F, value = code * 2^-F. One-bit weights (s0.0) are
///   bipolar, {-1, +1} (the sign of the latent weight, as BinaryConnect, XNOR-Net and FINN): a two's complement bit
///   would be {-1, 0}, which has no positive weight, so no ReLU after it could ever fire.
/// - Activations (after ReLU) are unsigned Q(I.F): bits = I + F >= 1.
/// - Quantization rounds half away from zero, then saturates to the format's code range.
/// - Requantization of an accumulator is an arithmetic shift with the same rounding and saturation.
/// See docs/fixed-point.md.

#include <cstdint>
#include <limits>
#include <string>

#include "hwnas/core/error.hpp"

namespace hwnas {

/// A fixed-point format Q(I.F), signed or unsigned, of at most 16 bits.
struct qformat {
  int int_bits = 0;        ///< I: bits left of the binary point (excluding the sign bit)
  int frac_bits = 0;       ///< F: bits right of the binary point
  bool is_signed = true;   ///< weights are signed, activations unsigned

  static constexpr int max_bits = 16;

  /// A signed weight format Q(I.F), 1 + I + F bits.
  static constexpr qformat weight(int i, int f) noexcept { return {i, f, true}; }
  /// An unsigned activation format Q(I.F), I + F bits.
  static constexpr qformat activation(int i, int f) noexcept { return {i, f, false}; }

  /// Total bits including the sign bit.
  constexpr int bits() const noexcept { return (is_signed ? 1 : 0) + int_bits + frac_bits; }
  /// A one-bit weight format: codes -1 and +1 (no 0).
  constexpr bool bipolar() const noexcept { return is_signed && int_bits == 0 && frac_bits == 0; }
  /// Largest and smallest integer codes.
  constexpr std::int32_t max_code() const noexcept {
    if (bipolar()) return 1;
    return is_signed ? (std::int32_t{1} << (bits() - 1)) - 1 : (std::int32_t{1} << bits()) - 1;
  }
  constexpr std::int32_t min_code() const noexcept { return is_signed ? -(std::int32_t{1} << (bits() - 1)) : 0; }
  /// The value of one least significant bit, 2^-F.
  constexpr double step() const noexcept { return 1.0 / static_cast<double>(std::int64_t{1} << frac_bits); }
  constexpr double max_value() const noexcept { return max_code() * step(); }
  constexpr double min_value() const noexcept { return min_code() * step(); }

  /// True when the format is representable: I, F >= 0, 1 <= bits <= 16.
  constexpr bool valid() const noexcept {
    return int_bits >= 0 && frac_bits >= 0 && bits() >= 1 && bits() <= max_bits;
  }

  friend constexpr bool operator==(const qformat&, const qformat&) = default;
};

/// "s1.2" for a signed Q1.2, "u0.4" for an unsigned Q0.4.
inline std::string to_string(const qformat& f) {
  std::string s(1, f.is_signed ? 's' : 'u');
  s.append(std::to_string(f.int_bits)).append(1, '.').append(std::to_string(f.frac_bits));
  return s;
}

/// Throws hwnas::invalid_argument naming `what` unless the format is valid.
inline void check(const qformat& f, const std::string& what) {
  if (!f.valid())
    throw invalid_argument(what + ": fixed-point format " + to_string(f) + " has " + std::to_string(f.bits()) +
                           " bits; need int_bits >= 0, frac_bits >= 0 and 1..16 bits in all");
}

namespace detail {
constexpr double floor_positive(double x) noexcept {  // x >= 0, x < 2^62
  const auto i = static_cast<std::int64_t>(x);
  return static_cast<double>(i);
}
}  // namespace detail

/// Saturates an integer to the code range of `f`.
constexpr std::int32_t saturate(std::int64_t code, qformat f) noexcept {
  return code > f.max_code() ? f.max_code() : code < f.min_code() ? f.min_code() : static_cast<std::int32_t>(code);
}

/// Rounds x * 2^F half away from zero and saturates: the integer code of x in format f.
/// NaN maps to 0 (the caller that can see a NaN must report it; quantize never invents a value).
/// A bipolar format (s0.0) takes the sign: +1 for x >= 0, -1 below.
constexpr std::int32_t quantize(double x, qformat f) noexcept {
  if (!(x == x)) return 0;
  if (f.bipolar()) return x >= 0 ? 1 : -1;
  const double scaled = x * static_cast<double>(std::int64_t{1} << f.frac_bits);
  if (scaled >= static_cast<double>(f.max_code())) return f.max_code();
  if (scaled <= static_cast<double>(f.min_code())) return f.min_code();
  const double mag = detail::floor_positive((scaled < 0 ? -scaled : scaled) + 0.5);
  return saturate(static_cast<std::int64_t>(scaled < 0 ? -mag : mag), f);
}

/// The real value of a code.
constexpr double dequantize(std::int32_t code, qformat f) noexcept { return code * f.step(); }

/// Rounds x to the nearest value representable in f (quantize, then dequantize).
constexpr double round_to(double x, qformat f) noexcept { return dequantize(quantize(x, f), f); }

/// Arithmetic shift right by `shift` (left when negative) with rounding half away from zero: the hardware's
/// rescaling of an accumulator. No saturation here; see requantize.
constexpr std::int64_t shift_round(std::int64_t acc, int shift) noexcept {
  if (shift <= 0) return acc * (std::int64_t{1} << -shift);
  const std::int64_t half = std::int64_t{1} << (shift - 1);
  return acc >= 0 ? (acc + half) >> shift : -((-acc + half) >> shift);
}

/// Requantizes an accumulator holding `acc_frac_bits` fraction bits into format `out`: shift with rounding half
/// away from zero, then saturate. This is the step between two layers of the integer (hardware) path.
constexpr std::int32_t requantize(std::int64_t acc, int acc_frac_bits, qformat out) noexcept {
  return saturate(shift_round(acc, acc_frac_bits - out.frac_bits), out);
}

}  // namespace hwnas
