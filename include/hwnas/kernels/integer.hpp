#pragma once
/// @file
/// Integer (hardware-arithmetic) kernels: conv2d and dense on unsigned activation codes and signed weight codes,
/// exact integer accumulation, bias in the accumulator's format, then ReLU + requantization to the next layer's
/// activation format; raw-accumulator variants (classifier logits); 2x2 max-pool on codes; input quantization.
/// Every result is bit-identical to the scalar `*_ref` twin and to hwnas::requantize / hwnas::quantize
/// (core/qformat.hpp), which define the arithmetic. See docs/fixed-point.md.
///
/// Layouts as the float kernels: activations (B, N, H, W) row-major, weights (M, N, K, K), dense inputs (B, N),
/// dense weights (M, N). TF 'same' padding: out = ceil(in / stride), pad_total = max((out-1)*stride + K - in, 0),
/// pad_before = pad_total / 2, padding value 0. Kernels 1..7, strides 1..3.
///
/// Storage: activation codes are `std::uint8_t` (formats of <= 8 bits) or `std::uint16_t` (<= 16 bits); weight codes
/// int8/int16/int32 before packing. Preconditions not re-checked per call (they would cost a pass over the data):
/// every activation code lies in its format's range [0, max_code].
///
/// Accumulator: int32 when the worst case K*N*K * max_code(act) * 2^(wbits-1) + max|bias| fits int32 and the
/// activation format has at most 15 bits; otherwise an exact int64 path is taken automatically (slower, scalar).
/// The raw-accumulator variants with an int32 output reject such a layer with hwnas::invalid_argument; ask for
/// int64_t accumulators there.

#include <algorithm>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#include <xsimd/xsimd.hpp>

#include "hwnas/kernels/detail/unroll.hpp"
#include "hwnas/core/error.hpp"
#include "hwnas/core/parallel.hpp"
#include "hwnas/core/qformat.hpp"
#include "hwnas/kernels/detail/integer_gemm.hpp"

namespace hwnas::kernels {

/// An activation code type: uint8 (formats of <= 8 bits) or uint16 (<= 16 bits).
template <class T>
concept ActivationCode = std::same_as<T, std::uint8_t> || std::same_as<T, std::uint16_t>;
/// A weight code type accepted by packed_weights and the reference kernels.
template <class T>
concept WeightCode = std::same_as<T, std::int8_t> || std::same_as<T, std::int16_t> || std::same_as<T, std::int32_t>;
/// A raw accumulator type: int32 (rejected when the layer's bound exceeds it) or int64 (always exact).
template <class T>
concept AccumulatorCode = std::same_as<T, std::int32_t> || std::same_as<T, std::int64_t>;

/// Geometry of one integer conv2d call: input (batch, in_channels, height, width), weights (out_channels,
/// in_channels, kernel, kernel), output (batch, out_channels, out_height(), out_width()).
struct int_conv_shape {
  int batch = 1;
  int in_channels = 1;   ///< N
  int height = 1;        ///< H
  int width = 1;         ///< W
  int out_channels = 1;  ///< M
  int kernel = 1;        ///< K, 1..7
  int stride = 1;        ///< 1..3

  constexpr int out_height() const noexcept { return (height + stride - 1) / stride; }
  constexpr int out_width() const noexcept { return (width + stride - 1) / stride; }
  /// TF 'same' padding before the first row / column.
  constexpr int pad_top() const noexcept { return std::max((out_height() - 1) * stride + kernel - height, 0) / 2; }
  constexpr int pad_left() const noexcept { return std::max((out_width() - 1) * stride + kernel - width, 0) / 2; }
  constexpr std::size_t input_size() const noexcept {
    return static_cast<std::size_t>(batch) * in_channels * height * width;
  }
  constexpr std::size_t output_size() const noexcept {
    return static_cast<std::size_t>(batch) * out_channels * out_height() * out_width();
  }
  /// Products summed per output: N * K * K.
  constexpr std::int64_t reduction() const noexcept { return std::int64_t{in_channels} * kernel * kernel; }
  friend constexpr bool operator==(const int_conv_shape&, const int_conv_shape&) = default;
};

/// Throws hwnas::invalid_argument unless the shape is supported: batch >= 0, every dim >= 1 and <= 65536, kernel 1..7,
/// stride 1..3.
inline void check(const int_conv_shape& s) {
  auto bad = [](const std::string& what) { throw invalid_argument("integer conv2d: " + what); };
  if (s.batch < 0) bad("batch must be >= 0, got " + std::to_string(s.batch));
  if (s.in_channels < 1 || s.height < 1 || s.width < 1 || s.out_channels < 1)
    bad("in_channels, height, width and out_channels must be >= 1");
  if (s.in_channels > 65536 || s.height > 65536 || s.width > 65536 || s.out_channels > 65536)
    bad("dims over 65536 are not supported");
  if (s.kernel < 1 || s.kernel > 7) bad("kernel must be in 1..7, got " + std::to_string(s.kernel));
  if (s.stride < 1 || s.stride > 3) bad("stride must be in 1..3, got " + std::to_string(s.stride));
}

/// Signed weight codes of one layer, validated and packed once for the kernels (reuse it for every call).
/// A dense layer is packed with kernel = 1 and in_channels = its input features.
class packed_weights {
 public:
  packed_weights() = default;

  /// @param codes  (out_channels, in_channels, kernel, kernel) row-major integer codes in `format`
  /// @throws hwnas::invalid_argument on an unsigned or invalid format, bad dims, or a code outside the format's range
  template <WeightCode W>
  packed_weights(const W* codes, int out_channels, int in_channels, int kernel, qformat format)
      : m_(out_channels), n_(in_channels), k_(kernel), format_(format) {
    hwnas::check(format, "packed_weights");
    if (!format.is_signed) throw invalid_argument("packed_weights: weight formats are signed (use s I.F), got " + to_string(format));
    if (out_channels < 1 || in_channels < 1 || kernel < 1 || kernel > 7)
      throw invalid_argument("packed_weights: need out_channels >= 1, in_channels >= 1 and kernel in 1..7, got (" +
                             std::to_string(out_channels) + ", " + std::to_string(in_channels) + ", " +
                             std::to_string(kernel) + ")");
    if (!codes) throw invalid_argument("packed_weights: null weight codes");
    const std::size_t taps = static_cast<std::size_t>(kernel) * kernel;
    const std::size_t per_row = static_cast<std::size_t>(in_channels) * taps;
    const std::size_t n2 = (static_cast<std::size_t>(in_channels) + 1) / 2;
    rows_ = detail::int_round_up(static_cast<std::size_t>(out_channels), detail::gemm_mr);
    flat_stride_ = detail::int_round_up((per_row + 1) / 2, 16);
    tap_stride_ = detail::int_round_up(taps * n2, 16);
    flat_.assign(rows_ * flat_stride_, 0);
    tap_.assign(rows_ * tap_stride_, 0);
    for (int m = 0; m < out_channels; ++m) {
      const W* row = codes + m * per_row;
      for (std::size_t k = 0; k < per_row; ++k) {
        const std::int64_t c = row[k];
        if (c < format.min_code() || c > format.max_code())
          throw invalid_argument("packed_weights: code " + std::to_string(c) + " at (" + std::to_string(m) + ", " +
                                 std::to_string(k / taps) + ", " + std::to_string(k % taps / kernel) + ", " +
                                 std::to_string(k % kernel) + ") is outside " + to_string(format) + "'s range [" +
                                 std::to_string(format.min_code()) + ", " + std::to_string(format.max_code()) +
                                 "]; quantize the weights with hwnas::quantize first");
      }
      for (std::size_t kp = 0; kp < (per_row + 1) / 2; ++kp) {
        const std::int32_t lo = static_cast<std::int32_t>(row[2 * kp]);
        const std::int32_t hi = 2 * kp + 1 < per_row ? static_cast<std::int32_t>(row[2 * kp + 1]) : 0;
        flat_[m * flat_stride_ + kp] = detail::pack_pair(lo, hi);
      }
      for (std::size_t t = 0; t < taps; ++t)
        for (std::size_t np = 0; np < n2; ++np) {
          const std::size_t c0 = 2 * np, c1 = 2 * np + 1;
          const std::int32_t lo = static_cast<std::int32_t>(row[c0 * taps + t]);
          const std::int32_t hi = c1 < static_cast<std::size_t>(in_channels) ? static_cast<std::int32_t>(row[c1 * taps + t]) : 0;
          tap_[m * tap_stride_ + t * n2 + np] = detail::pack_pair(lo, hi);
        }
    }
  }

  int out_channels() const noexcept { return m_; }
  int in_channels() const noexcept { return n_; }
  int kernel() const noexcept { return k_; }
  qformat format() const noexcept { return format_; }
  bool empty() const noexcept { return m_ == 0; }
  /// The largest |code| the format allows, 2^(bits-1): the weight term of the accumulator bound.
  std::int64_t max_abs_code() const noexcept { return -std::int64_t{format_.min_code()}; }

  /// @name Internal layouts (used by the kernels; stable only within one hwnas version)
  /// Rows are padded to a multiple of 4 with zero rows; row strides are multiples of 16 words.
  /// @{
  /// Word kp of row m packs flattened taps 2kp, 2kp+1 of the (n, kh, kw) order (im2col and dense layout).
  const std::int32_t* flat_data() const noexcept { return flat_.data(); }
  std::size_t flat_stride() const noexcept { return flat_stride_; }
  /// Word t*ceil(N/2) + np of row m packs channels 2np, 2np+1 at tap t = kh*K + kw (stride-1 layout).
  const std::int32_t* tap_data() const noexcept { return tap_.data(); }
  std::size_t tap_stride() const noexcept { return tap_stride_; }
  std::size_t padded_rows() const noexcept { return rows_; }
  /// @}

 private:
  int m_ = 0, n_ = 0, k_ = 0;
  qformat format_{};
  std::size_t rows_ = 0, flat_stride_ = 0, tap_stride_ = 0;
  std::vector<std::int32_t> flat_, tap_;
};

/// Worst-case |accumulator| of a layer that sums `reduction` products of activations in `act` and weights in
/// `weight`, plus a bias of magnitude at most `max_abs_bias`: reduction * max_code(act) * 2^(wbits-1) + max_abs_bias.
constexpr std::int64_t accumulator_bound(std::int64_t reduction, qformat act, qformat weight,
                                         std::int64_t max_abs_bias) noexcept {
  return reduction * act.max_code() * -std::int64_t{weight.min_code()} + max_abs_bias;
}

/// True when the layer runs on the exact int64 path: its accumulator bound exceeds int32, or its activations have
/// 16 bits (too wide for the 16x16-bit signed multipliers of the int32 path).
constexpr bool needs_int64_accumulator(std::int64_t reduction, qformat act, qformat weight,
                                       std::int64_t max_abs_bias) noexcept {
  return act.bits() > 15 ||
         accumulator_bound(reduction, act, weight, max_abs_bias) > std::numeric_limits<std::int32_t>::max();
}

namespace detail {

inline std::int64_t int_max_abs(const std::int32_t* bias, int m) noexcept {
  std::int64_t r = 0;
  if (bias)
    for (int i = 0; i < m; ++i) r = std::max(r, std::abs(std::int64_t{bias[i]}));
  return r;
}

template <class A>
void int_check_activation(qformat f, const char* kernel, const char* what) {
  hwnas::check(f, std::string(kernel) + ": " + what + " format");
  if (f.is_signed)
    throw invalid_argument(std::string(kernel) + ": " + what + " format " + to_string(f) +
                           " is signed; activation codes are unsigned (use u I.F)");
  if (f.bits() > static_cast<int>(8 * sizeof(A)))
    throw invalid_argument(std::string(kernel) + ": " + what + " format " + to_string(f) + " has " +
                           std::to_string(f.bits()) + " bits but its codes are stored in " +
                           std::to_string(8 * sizeof(A)) + "-bit integers; use std::uint16_t codes");
}

template <class P>
void int_check_pointer(const P* p, const char* kernel, const char* what) {
  if (!p) throw invalid_argument(std::string(kernel) + ": null " + what);
}

inline void int_check_weights(const packed_weights& w, int m, int n, int k, const char* kernel) {
  if (w.empty()) throw invalid_argument(std::string(kernel) + ": packed_weights is empty");
  if (w.out_channels() != m || w.in_channels() != n || w.kernel() != k)
    throw invalid_argument(std::string(kernel) + ": weights are (" + std::to_string(w.out_channels()) + ", " +
                           std::to_string(w.in_channels()) + ", " + std::to_string(w.kernel()) + ", " +
                           std::to_string(w.kernel()) + ") but the layer needs (" + std::to_string(m) + ", " +
                           std::to_string(n) + ", " + std::to_string(k) + ", " + std::to_string(k) + ")");
}

template <class T>
void int_check_int32_fits(bool wide, const char* kernel) {
  if (std::is_same_v<T, std::int32_t> && wide)
    throw invalid_argument(std::string(kernel) +
                           ": the accumulator bound of this layer exceeds int32 (or its activations have 16 bits); "
                           "ask for std::int64_t accumulators");
}

/// Runs body(lo, hi) on [0, batch), split across `pool` when there is one.
template <class Body>
void int_over_batch(int batch, thread_pool* pool, Body&& body) {
  if (batch <= 0) return;
  if (pool && pool->size() > 1 && batch > 1)
    parallel_for(*pool, 0, static_cast<std::size_t>(batch),
                 [&](std::size_t lo, std::size_t hi, std::size_t) { body(static_cast<int>(lo), static_cast<int>(hi)); });
  else
    body(0, batch);
}

/// The exact int64 path of conv2d for images [b0, b1): im2col into pair words, then 64-bit sums of the decoded
/// halves. plane(b, m, const int64_t* acc, ldq) receives the (out_height, out_width) accumulators of channel m,
/// row y at acc + y*ldq.
template <class A, class Plane>
void conv_wide(const int_conv_shape& s, const A* in, const packed_weights& w, const std::int32_t* bias, int b0, int b1,
               Plane&& plane) {
  const int ho = s.out_height(), wo = s.out_width();
  const std::size_t q = static_cast<std::size_t>(ho) * wo;
  const std::size_t kp_count = (static_cast<std::size_t>(s.reduction()) + 1) / 2;
  auto& ws = int_thread_workspace();
  std::int32_t* col = int_grow(ws.operand, kp_count * q);
  std::int64_t* acc = int_grow(ws.wide, q);
  const std::size_t in_image = static_cast<std::size_t>(s.in_channels) * s.height * s.width;
  const int hp = s.height + std::max((ho - 1) * s.stride + s.kernel - s.height, 0);
  const int wp = s.width + std::max((wo - 1) * s.stride + s.kernel - s.width, 0);
  A* padded = scratch_padded<A>(static_cast<std::size_t>(s.in_channels) * hp * wp);
  for (int b = b0; b < b1; ++b) {
    build_padded_image(in + b * in_image, s.in_channels, s.height, s.width, s.pad_top(), s.pad_left(), hp, wp, padded);
    build_im2col_pairs(padded, s.in_channels, hp, wp, s.kernel, s.stride, ho, wo, q, col);
    for (int m = 0; m < s.out_channels; ++m) {
      std::fill(acc, acc + q, bias ? std::int64_t{bias[m]} : 0);
      const std::int32_t* wr = w.flat_data() + m * w.flat_stride();
      for (std::size_t kp = 0; kp < kp_count; ++kp) {
        const std::int64_t wl = weight_lo(wr[kp]), wh = weight_hi(wr[kp]);
        const std::int32_t* c = col + kp * q;
        for (std::size_t i = 0; i < q; ++i) acc[i] += act_lo(c[i]) * wl + act_hi(c[i]) * wh;
      }
      plane(b, m, static_cast<const std::int64_t*>(acc), static_cast<std::size_t>(wo));
    }
  }
}

/// The int32 path of conv2d for images [b0, b1) with ops V. plane(b, m, const O* values, ldq) receives the
/// (out_height, out_width) values of channel m, row y at values + y*ldq (ldq >= out_width): the raw accumulators
/// (bias included) when O is int32_t, else the requantized codes (rq must then be given).
template <class V, class O, class A, class Plane>
void conv_int32(const int_conv_shape& s, const A* in, const packed_weights& w, const std::int32_t* bias, int b0,
                int b1, const requant_constants* rq, Plane&& plane) {
  constexpr std::size_t tile = gemm_nr * V::width;
  const int n = s.in_channels, h = s.height, wd = s.width, k = s.kernel;
  const int ho = s.out_height(), wo = s.out_width();
  const std::size_t in_image = static_cast<std::size_t>(n) * h * wd;
  auto& ws = int_thread_workspace();
  const std::size_t mp = w.padded_rows();
  std::int32_t* biasp = int_grow(ws.bias, mp);
  for (std::size_t m = 0; m < mp; ++m) biasp[m] = bias && m < static_cast<std::size_t>(s.out_channels) ? bias[m] : 0;

  // Stride 1 with an even channel count reads the operand straight from a padded channel-pair image (no im2col):
  // output (y, x) is computed at q = y*wp + x, the columns x >= wo being discarded.
  const bool direct = s.stride == 1 && n % 2 == 0;
  std::size_t kp_count, ldq, q, qpad, operand_words;
  const std::int32_t* wdata;
  std::size_t wstride;
  int hp = 0, wp = 0;
  if (direct) {
    const int n2 = n / 2;
    hp = h + k - 1;
    wp = wd + k - 1;
    ldq = static_cast<std::size_t>(wp);
    q = static_cast<std::size_t>(ho) * wp;
    qpad = int_round_up(q, tile);
    kp_count = static_cast<std::size_t>(k) * k * n2;
    std::ptrdiff_t* off = int_grow(ws.offsets, kp_count);
    for (int t = 0; t < k * k; ++t)
      for (int np = 0; np < n2; ++np)
        off[t * n2 + np] = static_cast<std::ptrdiff_t>(np) * hp * wp + static_cast<std::ptrdiff_t>(t / k) * wp + t % k;
    operand_words = static_cast<std::size_t>(n2) * hp * wp + (qpad - q) + static_cast<std::size_t>(k) + 16;
    wdata = w.tap_data();
    wstride = w.tap_stride();
  } else {
    ldq = static_cast<std::size_t>(wo);
    q = static_cast<std::size_t>(ho) * wo;
    qpad = int_round_up(q, tile);
    kp_count = (static_cast<std::size_t>(s.reduction()) + 1) / 2;
    std::ptrdiff_t* off = int_grow(ws.offsets, kp_count);
    for (std::size_t kp = 0; kp < kp_count; ++kp) off[kp] = static_cast<std::ptrdiff_t>(kp * qpad);
    operand_words = kp_count * qpad;
    wdata = w.flat_data();
    wstride = w.flat_stride();
    hp = h + std::max((ho - 1) * s.stride + k - h, 0);
    wp = wd + std::max((wo - 1) * s.stride + k - wd, 0);
  }
  A* padded = direct ? nullptr : scratch_padded<A>(static_cast<std::size_t>(n) * hp * wp);
  std::int32_t* operand = int_grow(ws.operand, operand_words);
  O* values = [&] {
    if constexpr (std::is_same_v<O, std::int32_t>)
      return int_grow(ws.acc, mp * qpad);
    else
      return scratch_codes<O>(mp * qpad);
  }();
  const std::ptrdiff_t* off = ws.offsets.data();
  for (int b = b0; b < b1; ++b) {
    const A* img = in + b * in_image;
    if (direct)
      build_pair_image(img, n, h, wd, s.pad_top(), s.pad_left(), hp, wp, operand_words - static_cast<std::size_t>(n / 2) * hp * wp,
                       operand);
    else {
      build_padded_image(img, n, h, wd, s.pad_top(), s.pad_left(), hp, wp, padded);
      build_im2col_pairs(padded, n, hp, wp, k, s.stride, ho, wo, qpad, operand);
    }
    if constexpr (!std::is_same_v<O, std::int32_t>) {
      if (kp_count <= short_kp_max) {  // short reduction: requantization fused, no accumulator block
        gemm_pairs_requant_short_dispatch<V>(kp_count, wdata, wstride, static_cast<std::size_t>(s.out_channels), operand,
                                             off, biasp, qpad, *rq, values);
        for (int m = 0; m < s.out_channels; ++m) plane(b, m, static_cast<const O*>(values + m * qpad), ldq);
        continue;
      }
    }
    // The epilogues capture by value: gemm_pairs holds them in registers, not behind a reference that every
    // store might alias.
    using reg = typename V::reg;
    if constexpr (std::is_same_v<O, std::int32_t>) {
      gemm_pairs<V>(wdata, wstride, mp, kp_count, operand, off, biasp, qpad,
                    [values, qpad](std::size_t m, std::size_t q0, const reg(&acc)[gemm_nr]) {
                      HWNAS_UNROLL
                      for (std::size_t j = 0; j < gemm_nr; ++j) V::store(values + m * qpad + q0 + j * V::width, acc[j]);
                    });
    } else {
      // ReLU + requantization fused into the tile epilogue: the codes go out, the int32 block never does.
      // The constants are read through an opaque pointer in the epilogue itself: hoisted out of the loops, their
      // vectors would take registers from the inner loop, which then spills (2x slower).
      auto fused = [&]<bool Right>(std::bool_constant<Right>) {
        gemm_pairs<V>(wdata, wstride, mp, kp_count, operand, off, biasp, qpad,
                      [values, qpad, rq](std::size_t m, std::size_t q0, const reg(&acc)[gemm_nr]) {
                        requantize_tile<V, Right>(acc, *opaque(rq), values + m * qpad + q0);
                      });
      };
      if (is_right_shift(*rq))
        fused(std::true_type{});
      else
        fused(std::false_type{});
    }
    for (int m = 0; m < s.out_channels; ++m) plane(b, m, static_cast<const O*>(values + m * qpad), ldq);
  }
}

/// dst[0, n) = src[0, n) for the short rows of a conv output (a library memmove call per row costs more than the
/// copy): 8-byte chunks, the last one overlapping (the regions do not overlap each other).
template <class T>
void copy_short_row(const T* src, int n, T* dst) noexcept {
  const std::size_t bytes = static_cast<std::size_t>(n) * sizeof(T);
  if (bytes < 8) {
    std::copy_n(src, n, dst);
    return;
  }
  const auto* s = reinterpret_cast<const unsigned char*>(src);
  auto* d = reinterpret_cast<unsigned char*>(dst);
  std::uint64_t v;
  std::size_t i = 0;
  for (; i + 8 <= bytes; i += 8) {
    std::memcpy(&v, s + i, 8);
    std::memcpy(d + i, &v, 8);
  }
  if (i < bytes) {
    std::memcpy(&v, s + bytes - 8, 8);
    std::memcpy(d + bytes - 8, &v, 8);
  }
}

/// Shared driver of the conv2d variants: picks the path, splits the batch. plane32 / plane64 as above.
template <class Arch, class O, class A, class Plane32, class Plane64>
void conv_dispatch(const int_conv_shape& s, const A* in, const packed_weights& w, const std::int32_t* bias, bool wide,
                   const requant_constants* rq, thread_pool* pool, Plane32&& plane32, Plane64&& plane64) {
  int_over_batch(s.batch, pool, [&](int b0, int b1) {
    if (wide)
      conv_wide(s, in, w, bias, b0, b1, plane64);
    else
      conv_int32<int_ops<Arch>, O>(s, in, w, bias, b0, b1, rq, plane32);
  });
}

template <class A>
void int_check_conv(const char* name, const int_conv_shape& s, const A* in, qformat in_fmt, const packed_weights& w) {
  check(s);
  int_check_activation<A>(in_fmt, name, "input");
  int_check_weights(w, s.out_channels, s.in_channels, s.kernel, name);
  if (s.batch > 0) int_check_pointer(in, name, "input");
}

}  // namespace detail

namespace detail {

/// The body of int_conv2d and int_conv2d_maxpool2 after their checks: conv + bias + ReLU + requantization, each
/// output plane handed to emit(b, m, const O* codes, ldq) as (out_height, out_width) codes with row stride ldq.
template <class Arch, class A, class O, class Emit>
void int_conv2d_planes(const int_conv_shape& s, const A* in, qformat in_fmt, const packed_weights& w,
                       const std::int32_t* bias, qformat out_fmt, thread_pool* pool, Emit&& emit) {
  const bool wide = needs_int64_accumulator(s.reduction(), in_fmt, w.format(), int_max_abs(bias, s.out_channels));
  const int acc_frac = in_fmt.frac_bits + w.format().frac_bits;
  const auto rq = make_requant_constants(acc_frac, out_fmt);
  const int ho = s.out_height(), wo = s.out_width();
  conv_dispatch<Arch, O>(
      s, in, w, bias, wide, &rq, pool, emit,  // the int32 path requantizes in the GEMM's epilogue
      [&](int b, int m, const std::int64_t* acc, std::size_t ldq) {
        O* codes = scratch_plane<O>(static_cast<std::size_t>(ho) * wo);
        for (int y = 0; y < ho; ++y)
          for (int x = 0; x < wo; ++x)
            codes[y * wo + x] = static_cast<O>(requantize(acc[y * ldq + x], acc_frac, out_fmt));
        emit(b, m, static_cast<const O*>(codes), static_cast<std::size_t>(wo));
      });
}

}  // namespace detail

/// Integer conv2d + bias + ReLU + requantization: out = requantize(bias + sum a*w, F_in + F_w, out_fmt), i.e. a shift
/// with rounding half away from zero and saturation to [0, max_code] (the saturation at 0 is the ReLU).
/// @param in    (B, N, H, W) codes in `in_fmt` (unsigned)
/// @param bias  (M) codes in the accumulator format (F_in + F_w fraction bits), or nullptr for none
/// @param out   (B, M, Ho, Wo) codes in `out_fmt` (unsigned)
/// @param pool  splits the batch across its threads when given; nullptr runs on the calling thread
template <class Arch = xsimd::default_arch, ActivationCode A, ActivationCode O>
void int_conv2d(const int_conv_shape& s, const A* in, qformat in_fmt, const packed_weights& w,
                const std::int32_t* bias, O* out, qformat out_fmt, thread_pool* pool = nullptr) {
  constexpr const char* name = "int_conv2d";
  detail::int_check_conv(name, s, in, in_fmt, w);
  detail::int_check_activation<O>(out_fmt, name, "output");
  if (s.batch > 0) detail::int_check_pointer(out, name, "output");
  const int ho = s.out_height(), wo = s.out_width();
  const std::size_t plane = static_cast<std::size_t>(ho) * wo;
  detail::int_conv2d_planes<Arch, A, O>(s, in, in_fmt, w, bias, out_fmt, pool,
                                        [&](int b, int m, const O* codes, std::size_t ldq) {
                                          O* o = out + (static_cast<std::size_t>(b) * s.out_channels + m) * plane;
                                          if (ldq == static_cast<std::size_t>(wo))
                                            return static_cast<void>(std::copy_n(codes, plane, o));
                                          for (int y = 0; y < ho; ++y)
                                            detail::copy_short_row(codes + y * ldq, wo, o + static_cast<std::size_t>(y) * wo);
                                        });
}

/// Integer conv2d + bias, returning the raw accumulators (F_in + F_w fraction bits), no ReLU.
/// @tparam T  std::int32_t (throws hwnas::invalid_argument when the layer's bound exceeds int32) or std::int64_t
/// @param out (B, M, Ho, Wo) accumulators
template <class Arch = xsimd::default_arch, ActivationCode A, AccumulatorCode T>
void int_conv2d_acc(const int_conv_shape& s, const A* in, qformat in_fmt, const packed_weights& w,
                    const std::int32_t* bias, T* out, thread_pool* pool = nullptr) {
  constexpr const char* name = "int_conv2d_acc";
  detail::int_check_conv(name, s, in, in_fmt, w);
  if (s.batch > 0) detail::int_check_pointer(out, name, "output");
  const bool wide = needs_int64_accumulator(s.reduction(), in_fmt, w.format(), detail::int_max_abs(bias, s.out_channels));
  detail::int_check_int32_fits<T>(wide, name);
  const int ho = s.out_height(), wo = s.out_width();
  auto copy = [&](int b, int m, const auto* acc, std::size_t ldq) {
    T* o = out + (static_cast<std::size_t>(b) * s.out_channels + m) * ho * wo;
    for (int y = 0; y < ho; ++y)
      for (int x = 0; x < wo; ++x) o[y * wo + x] = static_cast<T>(acc[y * ldq + x]);
  };
  detail::conv_dispatch<Arch, std::int32_t>(s, in, w, bias, wide, nullptr, pool, copy, copy);
}

namespace detail {

/// Dense driver: row32(b, const int32_t* acc) receives the M accumulators (bias included) of image b on the int32
/// path; row64(b, m, int64_t acc) one accumulator on the int64 path.
template <class Arch, class A, class Row32, class Row64>
void dense_dispatch(int batch, const A* in, const packed_weights& w, const std::int32_t* bias, bool wide,
                    thread_pool* pool, Row32&& row32, Row64&& row64) {
  const int n = w.in_channels(), m = w.out_channels();
  int_over_batch(batch, pool, [&](int b0, int b1) {
    if (wide) {
      const int_conv_shape s{b1 - b0, n, 1, 1, m, 1, 1};
      conv_wide(s, in + static_cast<std::size_t>(b0) * n, w, bias, 0, b1 - b0,
                [&](int b, int mm, const std::int64_t* acc, std::size_t) { row64(b0 + b, mm, acc[0]); });
      return;
    }
    using V = int_ops<Arch>;
    auto& ws = int_thread_workspace();
    const std::size_t mp = w.padded_rows(), words = w.flat_stride();
    std::int32_t* biasp = int_grow(ws.bias, mp);
    for (std::size_t i = 0; i < mp; ++i) biasp[i] = bias && i < static_cast<std::size_t>(m) ? bias[i] : 0;
    std::int32_t* a = int_grow(ws.operand, words);
    std::int32_t* acc = int_grow(ws.acc, mp);
    const std::size_t n2 = static_cast<std::size_t>(n) / 2;
    for (int b = b0; b < b1; ++b) {
      const A* x = in + static_cast<std::size_t>(b) * n;
      for (std::size_t i = 0; i < n2; ++i)
        a[i] = static_cast<std::int32_t>(static_cast<std::uint32_t>(x[2 * i]) | (static_cast<std::uint32_t>(x[2 * i + 1]) << 16));
      std::size_t i = n2;
      if (n % 2) a[i++] = static_cast<std::int32_t>(x[n - 1]);
      std::fill(a + i, a + words, 0);
      dense_pairs<V>(w.flat_data(), words, mp, words, a, biasp, acc);
      row32(b, acc);
    }
  });
}

inline void int_check_dense(const char* name, int batch, const packed_weights& w) {
  if (batch < 0) throw invalid_argument(std::string(name) + ": batch must be >= 0, got " + std::to_string(batch));
  if (w.empty()) throw invalid_argument(std::string(name) + ": packed_weights is empty");
  if (w.kernel() != 1)
    throw invalid_argument(std::string(name) + ": dense weights must be packed with kernel 1, got " +
                           std::to_string(w.kernel()));
}

}  // namespace detail

/// Integer dense + bias + ReLU + requantization (as int_conv2d, on a 1x1 map).
/// @param in   (B, N) codes in `in_fmt`, N = w.in_channels()
/// @param w    packed with kernel 1: (M, N)
/// @param bias (M) codes in the accumulator format, or nullptr
/// @param out  (B, M) codes in `out_fmt`
template <class Arch = xsimd::default_arch, ActivationCode A, ActivationCode O>
void int_dense(int batch, const A* in, qformat in_fmt, const packed_weights& w, const std::int32_t* bias, O* out,
               qformat out_fmt, thread_pool* pool = nullptr) {
  constexpr const char* name = "int_dense";
  detail::int_check_dense(name, batch, w);
  detail::int_check_activation<A>(in_fmt, name, "input");
  detail::int_check_activation<O>(out_fmt, name, "output");
  if (batch > 0) {
    detail::int_check_pointer(in, name, "input");
    detail::int_check_pointer(out, name, "output");
  }
  const int m = w.out_channels();
  const bool wide = needs_int64_accumulator(w.in_channels(), in_fmt, w.format(), detail::int_max_abs(bias, m));
  const int acc_frac = in_fmt.frac_bits + w.format().frac_bits;
  const auto rq = detail::make_requant(acc_frac, out_fmt);
  detail::dense_dispatch<Arch>(
      batch, in, w, bias, wide, pool,
      [&](int b, const std::int32_t* acc) { detail::requantize_row(acc, m, rq, out + static_cast<std::size_t>(b) * m); },
      [&](int b, int mm, std::int64_t acc) {
        out[static_cast<std::size_t>(b) * m + mm] = static_cast<O>(requantize(acc, acc_frac, out_fmt));
      });
}

/// Integer dense + bias returning the raw accumulators (F_in + F_w fraction bits): the classifier's logits.
/// @tparam T  std::int32_t (throws hwnas::invalid_argument when the bound exceeds int32) or std::int64_t
/// @param out (B, M) accumulators
template <class Arch = xsimd::default_arch, ActivationCode A, AccumulatorCode T>
void int_dense_acc(int batch, const A* in, qformat in_fmt, const packed_weights& w, const std::int32_t* bias, T* out,
                   thread_pool* pool = nullptr) {
  constexpr const char* name = "int_dense_acc";
  detail::int_check_dense(name, batch, w);
  detail::int_check_activation<A>(in_fmt, name, "input");
  if (batch > 0) {
    detail::int_check_pointer(in, name, "input");
    detail::int_check_pointer(out, name, "output");
  }
  const int m = w.out_channels();
  const bool wide = needs_int64_accumulator(w.in_channels(), in_fmt, w.format(), detail::int_max_abs(bias, m));
  detail::int_check_int32_fits<T>(wide, name);
  detail::dense_dispatch<Arch>(
      batch, in, w, bias, wide, pool,
      [&](int b, const std::int32_t* acc) {
        for (int i = 0; i < m; ++i) out[static_cast<std::size_t>(b) * m + i] = static_cast<T>(acc[i]);
      },
      [&](int b, int mm, std::int64_t acc) { out[static_cast<std::size_t>(b) * m + mm] = static_cast<T>(acc); });
}

// ---- scalar reference twins ---------------------------------------------------------------------------------------

namespace detail {
/// The exact sum bias + sum a*w of one conv output, straight from the definition.
template <class A, class W>
std::int64_t conv_sum_ref(const int_conv_shape& s, const A* in, const W* w, const std::int32_t* bias, int b, int m,
                          int y, int x) {
  std::int64_t acc = bias ? bias[m] : 0;
  const int pt = s.pad_top(), pl = s.pad_left();
  for (int n = 0; n < s.in_channels; ++n)
    for (int kh = 0; kh < s.kernel; ++kh)
      for (int kw = 0; kw < s.kernel; ++kw) {
        const int iy = y * s.stride + kh - pt, ix = x * s.stride + kw - pl;
        if (iy < 0 || iy >= s.height || ix < 0 || ix >= s.width) continue;
        const std::int64_t a = in[((static_cast<std::size_t>(b) * s.in_channels + n) * s.height + iy) * s.width + ix];
        const std::int64_t wv = w[((static_cast<std::size_t>(m) * s.in_channels + n) * s.kernel + kh) * s.kernel + kw];
        acc += a * wv;
      }
  return acc;
}
template <class A, class W, class F>
void conv_ref_each(const int_conv_shape& s, const A* in, const W* w, const std::int32_t* bias, F&& f) {
  for (int b = 0; b < s.batch; ++b)
    for (int m = 0; m < s.out_channels; ++m)
      for (int y = 0; y < s.out_height(); ++y)
        for (int x = 0; x < s.out_width(); ++x)
          f(((static_cast<std::size_t>(b) * s.out_channels + m) * s.out_height() + y) * s.out_width() + x,
            conv_sum_ref(s, in, w, bias, b, m, y, x));
}
}  // namespace detail

/// Scalar twin of int_conv2d, on unpacked weight codes (M, N, K, K) in `w_fmt`: int64 sums, hwnas::requantize.
template <ActivationCode A, WeightCode W, ActivationCode O>
void int_conv2d_ref(const int_conv_shape& s, const A* in, qformat in_fmt, const W* w, qformat w_fmt,
                    const std::int32_t* bias, O* out, qformat out_fmt) {
  check(s);
  detail::int_check_activation<A>(in_fmt, "int_conv2d_ref", "input");
  detail::int_check_activation<O>(out_fmt, "int_conv2d_ref", "output");
  hwnas::check(w_fmt, "int_conv2d_ref: weight format");
  const int acc_frac = in_fmt.frac_bits + w_fmt.frac_bits;
  detail::conv_ref_each(s, in, w, bias,
                        [&](std::size_t i, std::int64_t acc) { out[i] = static_cast<O>(requantize(acc, acc_frac, out_fmt)); });
}

/// Scalar twin of int_conv2d_acc (same int32 rule: throws when the bound exceeds int32 and T is int32).
template <ActivationCode A, WeightCode W, AccumulatorCode T>
void int_conv2d_acc_ref(const int_conv_shape& s, const A* in, qformat in_fmt, const W* w, qformat w_fmt,
                        const std::int32_t* bias, T* out) {
  check(s);
  detail::int_check_activation<A>(in_fmt, "int_conv2d_acc_ref", "input");
  hwnas::check(w_fmt, "int_conv2d_acc_ref: weight format");
  detail::int_check_int32_fits<T>(needs_int64_accumulator(s.reduction(), in_fmt, w_fmt, detail::int_max_abs(bias, s.out_channels)),
                              "int_conv2d_acc_ref");
  detail::conv_ref_each(s, in, w, bias, [&](std::size_t i, std::int64_t acc) { out[i] = static_cast<T>(acc); });
}

/// Scalar twin of int_dense, on unpacked weight codes (M, N).
template <ActivationCode A, WeightCode W, ActivationCode O>
void int_dense_ref(int batch, int in_features, int out_features, const A* in, qformat in_fmt, const W* w,
                   qformat w_fmt, const std::int32_t* bias, O* out, qformat out_fmt) {
  int_conv2d_ref(int_conv_shape{batch, in_features, 1, 1, out_features, 1, 1}, in, in_fmt, w, w_fmt, bias, out, out_fmt);
}

/// Scalar twin of int_dense_acc, on unpacked weight codes (M, N).
template <ActivationCode A, WeightCode W, AccumulatorCode T>
void int_dense_acc_ref(int batch, int in_features, int out_features, const A* in, qformat in_fmt, const W* w,
                       qformat w_fmt, const std::int32_t* bias, T* out) {
  int_conv2d_acc_ref(int_conv_shape{batch, in_features, 1, 1, out_features, 1, 1}, in, in_fmt, w, w_fmt, bias, out);
}

// ---- max-pool ---------------------------------------------------------------------------------------------------------

/// Scalar twin of int_maxpool2: 2x2 max-pool, stride 2, floor: (B, C, H, W) -> (B, C, H/2, W/2) (a trailing odd row
/// or column is dropped).
template <ActivationCode T>
void int_maxpool2_ref(int batch, int channels, int height, int width, const T* in, T* out) {
  const int ho = height / 2, wo = width / 2;
  for (std::size_t p = 0; p < static_cast<std::size_t>(batch) * channels; ++p)
    for (int y = 0; y < ho; ++y)
      for (int x = 0; x < wo; ++x) {
        const T* r0 = in + (p * height + 2 * y) * width + 2 * x;
        const T* r1 = r0 + width;
        out[(p * ho + y) * wo + x] = std::max(std::max(r0[0], r0[1]), std::max(r1[0], r1[1]));
      }
}

namespace detail {
inline void int_check_pool(int batch, int channels, int height, int width) {
  if (batch < 0 || channels < 0 || height < 0 || width < 0)
    throw invalid_argument("int_maxpool2: batch, channels, height and width must be >= 0");
}
}  // namespace detail

namespace detail {

#if defined(__SSE4_1__)
/// One pooled chunk from `bytes` bytes of each of two rows (bytes = 8 or 16): the pair maxima of max(r0, r1).
template <class T, int Bytes>
void pool_chunk_sse(const T* r0, const T* r1, T* o) {
  __m128i a, c;
  if constexpr (Bytes == 16) {
    a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(r0));
    c = _mm_loadu_si128(reinterpret_cast<const __m128i*>(r1));
  } else {
    a = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(r0));
    c = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(r1));
  }
  __m128i v;
  if constexpr (sizeof(T) == 1) {
    v = _mm_max_epu8(a, c);
    v = _mm_and_si128(_mm_max_epu8(v, _mm_srli_epi16(v, 8)), _mm_set1_epi16(0x00ff));
    v = _mm_packus_epi16(v, v);
  } else {
    v = _mm_max_epu16(a, c);
    v = _mm_and_si128(_mm_max_epu16(v, _mm_srli_epi32(v, 16)), _mm_set1_epi32(0xffff));
    v = _mm_packus_epi32(v, v);
  }
  std::memcpy(o, &v, Bytes / 2);
}
#endif

#if defined(__AVX2__)
/// 32 bytes of each row -> 16 bytes of pooled output.
template <class T>
void pool_chunk_avx2(const T* r0, const T* r1, T* o) {
  const __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(r0));
  const __m256i c = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(r1));
  __m256i v, packed;
  if constexpr (sizeof(T) == 1) {
    v = _mm256_max_epu8(a, c);
    v = _mm256_and_si256(_mm256_max_epu8(v, _mm256_srli_epi16(v, 8)), _mm256_set1_epi16(0x00ff));
    packed = _mm256_permute4x64_epi64(_mm256_packus_epi16(v, v), 0xd8);
  } else {
    v = _mm256_max_epu16(a, c);
    v = _mm256_and_si256(_mm256_max_epu16(v, _mm256_srli_epi32(v, 16)), _mm256_set1_epi32(0xffff));
    packed = _mm256_permute4x64_epi64(_mm256_packus_epi32(v, v), 0xd8);
  }
  _mm_storeu_si128(reinterpret_cast<__m128i*>(o), _mm256_castsi256_si128(packed));
}
#endif

/// Pools one output row of `wo` codes from input rows r0, r1, in the widest chunks that fit; the last chunk overlaps
/// the previous one (the writes are idempotent), so that rows of 7, 14 or 28 outputs are vectorized too.
template <class Arch, class T>
void pool_row(const T* r0, const T* r1, int wo, T* o) {
  [[maybe_unused]] auto chunks = [&](int step, auto&& chunk) {  // step outputs from 2*step inputs per chunk; needs wo >= step
    int x = 0;
    for (; x + step <= wo; x += step) chunk(r0 + 2 * x, r1 + 2 * x, o + x);
    if (x < wo) chunk(r0 + 2 * (wo - step), r1 + 2 * (wo - step), o + (wo - step));
  };
#if defined(__AVX2__)
  if constexpr (std::is_base_of_v<xsimd::avx2, Arch> || std::is_base_of_v<xsimd::avx512bw, Arch>) {
    constexpr int step = 16 / static_cast<int>(sizeof(T));
    if (wo >= step) return chunks(step, [](const T* a, const T* c, T* out) { pool_chunk_avx2(a, c, out); });
  }
#endif
#if defined(__SSE4_1__)
  if (constexpr int step = 8 / static_cast<int>(sizeof(T)); wo >= step)
    return chunks(step, [](const T* a, const T* c, T* out) { pool_chunk_sse<T, 16>(a, c, out); });
  if (constexpr int step = 4 / static_cast<int>(sizeof(T)); wo >= step)
    return chunks(step, [](const T* a, const T* c, T* out) { pool_chunk_sse<T, 8>(a, c, out); });
#endif
  for (int x = 0; x < wo; ++x) o[x] = std::max(std::max(r0[2 * x], r0[2 * x + 1]), std::max(r1[2 * x], r1[2 * x + 1]));
}

}  // namespace detail

/// 2x2 max-pool, stride 2, floor, on activation codes: (B, C, H, W) -> (B, C, H/2, W/2).
template <class Arch = xsimd::default_arch, ActivationCode T>
void int_maxpool2(int batch, int channels, int height, int width, const T* in, T* out) {
  detail::int_check_pool(batch, channels, height, width);
  const int ho = height / 2, wo = width / 2;
  if (ho == 0 || wo == 0 || batch == 0 || channels == 0) return;
  detail::int_check_pointer(in, "int_maxpool2", "input");
  detail::int_check_pointer(out, "int_maxpool2", "output");
  const std::size_t planes = static_cast<std::size_t>(batch) * channels;
  for (std::size_t p = 0; p < planes; ++p)
    for (int y = 0; y < ho; ++y) {
      const T* r0 = in + (p * height + 2 * y) * width;
      detail::pool_row<Arch>(r0, r0 + width, wo, out + (p * ho + y) * wo);
    }
}

/// int_conv2d followed by a 2x2 max-pool (stride 2, floor: a trailing odd row or column is dropped), fused: each
/// output plane is pooled while it is in L1, and only the pooled map is written. The same codes as int_conv2d then
/// int_maxpool2.
/// @param out (B, M, Ho/2, Wo/2) codes in `out_fmt`
template <class Arch = xsimd::default_arch, ActivationCode A, ActivationCode O>
void int_conv2d_maxpool2(const int_conv_shape& s, const A* in, qformat in_fmt, const packed_weights& w,
                         const std::int32_t* bias, O* out, qformat out_fmt, thread_pool* pool = nullptr) {
  constexpr const char* name = "int_conv2d_maxpool2";
  detail::int_check_conv(name, s, in, in_fmt, w);
  detail::int_check_activation<O>(out_fmt, name, "output");
  const int hq = s.out_height() / 2, wq = s.out_width() / 2;
  if (s.batch > 0 && hq > 0 && wq > 0) detail::int_check_pointer(out, name, "output");
  const std::size_t plane = static_cast<std::size_t>(hq) * wq;
  detail::int_conv2d_planes<Arch, A, O>(s, in, in_fmt, w, bias, out_fmt, pool,
                                        [&](int b, int m, const O* codes, std::size_t ldq) {
                                          O* o = out + (static_cast<std::size_t>(b) * s.out_channels + m) * plane;
                                          for (int y = 0; y < hq; ++y)
                                            detail::pool_row<Arch>(codes + 2 * y * ldq, codes + (2 * y + 1) * ldq, wq,
                                                                   o + static_cast<std::size_t>(y) * wq);
                                        });
}

// ---- input quantization -----------------------------------------------------------------------------------------------

/// Scalar twin of quantize_input: codes[i] = hwnas::quantize(x[i], fmt).
template <ActivationCode T>
void quantize_input_ref(const float* x, std::size_t n, qformat fmt, T* codes) {
  detail::int_check_activation<T>(fmt, "quantize_input_ref", "activation");
  for (std::size_t i = 0; i < n; ++i) codes[i] = static_cast<T>(quantize(static_cast<double>(x[i]), fmt));
}

/// Quantizes a float image (values nominally in [0, 1]) to unsigned codes in `fmt`, exactly as hwnas::quantize:
/// round half away from zero, saturate to [0, max_code], NaN -> 0.
template <class Arch = xsimd::default_arch, ActivationCode T>
void quantize_input(const float* x, std::size_t n, qformat fmt, T* codes) {
  detail::int_check_activation<T>(fmt, "quantize_input", "activation");
  if (n > 0) {
    detail::int_check_pointer(x, "quantize_input", "input");
    detail::int_check_pointer(codes, "quantize_input", "output");
  }
  using fb = xsimd::batch<float, Arch>;
  using ib = xsimd::batch<std::int32_t, Arch>;
  constexpr std::size_t L = fb::size;
  // x * 2^F is exact in float (a power-of-two scale), and so are floor(s) and s - floor(s) for s >= 0, so the
  // rounding below is exact; values at or over max_code saturate before the conversion.
  const fb scale(static_cast<float>(std::int64_t{1} << fmt.frac_bits));
  const fb mx(static_cast<float>(fmt.max_code())), zero(0.0f), half(0.5f), one(1.0f);
  alignas(64) std::int32_t tmp[L];
  std::size_t i = 0;
  for (; i + L <= n; i += L) {
    const fb s = fb::load_unaligned(x + i) * scale;
    const fb fl = xsimd::floor(s);
    fb r = fl + xsimd::select((s - fl) >= half, one, zero);
    r = xsimd::select(s >= mx, mx, r);
    r = xsimd::select(s > zero, r, zero);  // also NaN -> 0
    const ib q = xsimd::batch_cast<std::int32_t>(r);
    q.store_aligned(tmp);
    HWNAS_UNROLL
    for (std::size_t j = 0; j < L; ++j) codes[i + j] = static_cast<T>(tmp[j]);
  }
  for (; i < n; ++i) codes[i] = static_cast<T>(quantize(static_cast<double>(x[i]), fmt));
}

}  // namespace hwnas::kernels
