#pragma once
/// @file
/// Float 2-D convolution, forward and backward, for square kernels with TensorFlow 'same' padding
/// (see conv2d_shape). Every fast kernel has a scalar `*_ref` twin made of direct loops.
///
/// How the fast kernels work (docs/kernels.md has the derivation):
/// - stride 1 (every convolution of the reference CNN): a direct convolution on zero-padded planes laid out flat.
///   With the padded row length Wp = W + max(pad_left, pad_right) (one row's right padding is the next row's left
///   padding), output pixel (y, x) sits at flat position q = y*Wp + x and tap (ky, kx) reads the padded plane at
///   q + ky*Wp + kx, so every tap is one contiguous, shifted vector load and the convolution is a GEMM whose B
///   operand is never materialised (no im2col). A 4-channel x 3-vector register tile broadcasts the weights.
///   Backward-data is the same kernel on the padded output gradient with the weights flipped and transposed;
///   backward-weights is its dot-product form, accumulated over the images in registers. The padding columns are
///   computed and dropped (14/15 useful for 14x14 images with K = 3, 28/29 for 28x28).
/// - strides 2 and 3, and layers whose output channels (input channels for backward-data) are not close to a multiple
///   of 4: im2col per image + gemm (and gemm + col2im for backward-data).

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <span>
#include <string_view>

#include <xsimd/xsimd.hpp>

#include <hwnas/kernels/detail/unroll.hpp>
#include <hwnas/kernels/conv2d_shape.hpp>
#include <hwnas/kernels/detail/check.hpp>
#include <hwnas/kernels/gemm.hpp>
#include <hwnas/kernels/im2col.hpp>
#include <hwnas/kernels/workspace.hpp>

namespace hwnas::kernels {
namespace detail {

inline void check_conv_forward(std::string_view name, const conv2d_shape& s, std::size_t input,
                               std::size_t weights, std::size_t bias, std::size_t output) {
  s.validate(name);
  check_size(name, "input", input, s.input_size(), "batch x in_channels x in_height x in_width");
  check_size(name, "weights", weights, s.weight_size(), "out_channels x in_channels x kernel x kernel");
  if (bias != 0) check_size(name, "bias", bias, s.bias_size(), "out_channels, or empty for no bias");
  check_size(name, "output", output, s.output_size(), "batch x out_channels x out_height x out_width");
}

inline void check_conv_backward_data(std::string_view name, const conv2d_shape& s, std::size_t grad_output,
                                     std::size_t weights, std::size_t grad_input) {
  s.validate(name);
  check_size(name, "grad_output", grad_output, s.output_size(), "batch x out_channels x out_height x out_width");
  check_size(name, "weights", weights, s.weight_size(), "out_channels x in_channels x kernel x kernel");
  check_size(name, "grad_input", grad_input, s.input_size(), "batch x in_channels x in_height x in_width");
}

inline void check_conv_backward_weights(std::string_view name, const conv2d_shape& s, std::size_t input,
                                        std::size_t grad_output, std::size_t grad_weights,
                                        std::size_t grad_bias) {
  s.validate(name);
  check_size(name, "input", input, s.input_size(), "batch x in_channels x in_height x in_width");
  check_size(name, "grad_output", grad_output, s.output_size(), "batch x out_channels x out_height x out_width");
  check_size(name, "grad_weights", grad_weights, s.weight_size(), "out_channels x in_channels x kernel x kernel");
  if (grad_bias != 0)
    check_size(name, "grad_bias", grad_bias, s.bias_size(), "out_channels, or empty to skip the bias gradient");
}

/// dst *= beta (dst = 0 when beta == 0).
inline void scale_floats(float* dst, std::size_t n, float beta) noexcept {
  if (beta == 0.0f)
    std::fill(dst, dst + n, 0.0f);
  else if (beta != 1.0f)
    for (std::size_t i = 0; i < n; ++i) dst[i] *= beta;
}

/// Sum of n contiguous floats.
template <class Arch>
float sum_floats(const float* x, std::size_t n) noexcept {
  using batch = xsimd::batch<float, Arch>;
  constexpr std::size_t lanes = batch::size;
  batch a0(0.0f), a1(0.0f);
  std::size_t i = 0;
  for (; i + 2 * lanes <= n; i += 2 * lanes) {
    a0 += batch::load_unaligned(x + i);
    a1 += batch::load_unaligned(x + i + lanes);
  }
  for (; i + lanes <= n; i += lanes) a0 += batch::load_unaligned(x + i);
  float s = xsimd::hadd(a0 + a1);
  for (; i < n; ++i) s += x[i];
  return s;
}

// ---- stride-1 direct convolution on flat padded planes --------------------------------------------------------

/// Tells the compiler that a loaded vector must live in a register. Without it GCC folds the load into every FMA
/// that uses the vector (a memory operand each), so a register tile does 16 loads per 12 FMAs instead of 7 and
/// becomes load-bound. No code is emitted; other compilers and architectures simply skip the hint.
template <class Batch>
inline void keep_in_register([[maybe_unused]] Batch& b) noexcept {
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
  asm("" : "+v"(b.data));
#endif
}

/// Output channels per register tile, and vectors (of the flat pixel axis) per register tile.
inline constexpr std::size_t conv_tile_channels = 4;
inline constexpr std::size_t conv_tile_vectors = 3;

/// Vectors per register tile of the forward (and backward-data) direct convolution on Arch: 3 (12 accumulators,
/// 3 inputs, a weight: 16 registers, SSE/AVX/AVX2/NEON), or 4 where vectors hold 16 floats (AVX-512: 32 registers,
/// 16 accumulators). The wider tile loads 8 vectors (4 inputs, 4 broadcast weights) per 16 FMAs instead of 7 per 12,
/// and covers a plane of 4 vectors (7x7 maps with a 5x5 kernel: 63 flat positions) in one tile instead of a 3-vector
/// tile and a 1-vector one, whose 5 loads per 4 FMAs left the FMA units idle.
template <class Arch>
inline constexpr std::size_t direct_tile_vectors = xsimd::batch<float, Arch>::size >= 16 ? 4 : conv_tile_vectors;

/// Layout of one image's planes, zero-padded for a stride-1 'same' convolution and stored flat.
struct flat_layout {
  std::size_t row_stride;    ///< Wp = width + max(pad_left, pad_right)
  std::size_t q_count;       ///< flat output positions rows * Wp
  std::size_t q_stride;      ///< q_count rounded up to whole vectors: the row length of flat outputs
  std::size_t plane_stride;  ///< floats per padded plane, slack included, whole cache lines

  /// rows x width output with kernel k (pad_left + pad_right = k - 1), `lanes` floats per vector. Tap kx of
  /// output x reads row position x + kx <= width + k - 2; past Wp that is the next row's position
  /// x + kx - Wp < pad_left, still a zero, as long as Wp >= width + pad_right.
  static flat_layout make(std::size_t rows, std::size_t width, std::size_t k, std::size_t pad_left,
                          std::size_t pad_right, std::size_t lanes) noexcept {
    flat_layout f{};
    f.row_stride = width + std::max(pad_left, pad_right);
    f.q_count = rows * f.row_stride;
    f.q_stride = round_up(f.q_count, lanes);
    // the last vector of the last tap reads up to q_stride - 1 + (k-1) * (Wp + 1)
    f.plane_stride = aligned_floats(f.q_stride + (k - 1) * (f.row_stride + 1));
    return f;
  }
};

/// dst[0, n) = src[0, n) for short rows (inlined: a memcpy call per 14-float row costs more than the copy).
/// The last vector overlaps the previous one instead of a scalar tail; src and dst must not overlap.
template <class Arch>
inline void copy_row(const float* src, std::size_t n, float* dst) noexcept {
  using batch = xsimd::batch<float, Arch>;
  constexpr std::size_t lanes = batch::size;
  if (n < lanes) {
    for (std::size_t i = 0; i < n; ++i) dst[i] = src[i];
    return;
  }
  std::size_t i = 0;
  for (; i + lanes <= n; i += lanes) batch::load_unaligned(src + i).store_unaligned(dst + i);
  if (i < n) batch::load_unaligned(src + n - lanes).store_unaligned(dst + n - lanes);
}

/// Copies one (height, width) plane into a zeroed flat plane with `top` zero rows and `left` zero columns.
template <class Arch>
inline void pad_plane(const float* src, std::size_t height, std::size_t width, std::size_t top, std::size_t left,
                      const flat_layout& f, float* dst) noexcept {
  std::fill(dst, dst + f.plane_stride, 0.0f);
  for (std::size_t y = 0; y < height; ++y)
    copy_row<Arch>(src + y * width, width, dst + (top + y) * f.row_stride + left);
}

/// Copies rows x width valid outputs from a flat plane (row stride Wp) to a dense plane.
template <class Arch>
inline void unpad_plane(const float* src, std::size_t rows, std::size_t width, const flat_layout& f,
                        float* dst) noexcept {
  for (std::size_t y = 0; y < rows; ++y) copy_row<Arch>(src + y * f.row_stride, width, dst + y * width);
}

/// Whether the direct kernels suit a convolution producing `channels` output channels: they compute whole blocks of
/// 4 channels, so 1-3 channels (or 5, 6, 9...) would waste over a fifth of the work; im2col + gemm does not.
constexpr bool direct_conv_fits(std::size_t channels) noexcept {
  return round_up(channels, conv_tile_channels) * 4 <= channels * 5;
}

/// Floats to reserve in a workspace for `count` std::size_t offsets (whole cache lines).
constexpr std::size_t offsets_floats(std::size_t count) noexcept {
  return aligned_floats(count * sizeof(std::size_t) / sizeof(float));
}

/// Flat offsets of the taps of a stride-1 convolution over `channels` padded planes:
/// offsets[c*K*K + ky*K + kx] = c * plane_stride + ky * Wp + kx; entries from `taps` up to `padded` are 0.
inline void tap_offsets(std::size_t channels, std::size_t k, const flat_layout& f, std::size_t padded,
                        std::size_t* offsets) noexcept {
  const std::size_t taps = channels * k * k;
  for (std::size_t t = 0; t < padded; ++t)
    offsets[t] = t < taps ? (t / (k * k)) * f.plane_stride + (t / k % k) * f.row_stride + t % k : 0;
}

/// One register tile of the direct convolution: 4 output channels x `vectors` vectors of flat positions from q0.
/// `in + offsets[t]` is tap t's shifted plane; `wt` holds the tile's 4 weights of each tap, tap after tap.
/// Row i of the tile is stored at out + i * q_stride + q0.
template <class Arch, std::size_t vectors>
inline void direct_conv_tile(const float* in, const std::size_t* offsets, std::size_t taps, const float* wt,
                             const float* bias, float* out, std::size_t q_stride, std::size_t q0) noexcept {
  using batch = xsimd::batch<float, Arch>;
  constexpr std::size_t lanes = batch::size;
  batch acc[conv_tile_channels][vectors];
  HWNAS_UNROLL
  for (std::size_t i = 0; i < conv_tile_channels; ++i)
    HWNAS_UNROLL
    for (std::size_t j = 0; j < vectors; ++j) acc[i][j] = batch(bias ? bias[i] : 0.0f);
  in += q0;
  // one flat loop over the taps (not c, ky, kx nested), unrolled: the short inner loops of a nest cost ~40%
#pragma GCC unroll 4
  for (std::size_t t = 0; t < taps; ++t) {
    const float* x_ptr = in + offsets[t];
    const float* w = wt + t * conv_tile_channels;
    batch x[vectors];
    HWNAS_UNROLL
    for (std::size_t j = 0; j < vectors; ++j) {
      x[j] = batch::load_unaligned(x_ptr + j * lanes);
      keep_in_register(x[j]);
    }
    HWNAS_UNROLL
    for (std::size_t i = 0; i < conv_tile_channels; ++i) {
      const batch wi(w[i]);
      HWNAS_UNROLL
      for (std::size_t j = 0; j < vectors; ++j) acc[i][j] = xsimd::fma(wi, x[j], acc[i][j]);
    }
  }
  HWNAS_UNROLL
  for (std::size_t i = 0; i < conv_tile_channels; ++i)
    HWNAS_UNROLL
    for (std::size_t j = 0; j < vectors; ++j) acc[i][j].store_aligned(out + i * q_stride + q0 + j * lanes);
}

/// Packs weights for direct_conv: block by block of 4 output channels, tap-major inside a block, so that one
/// register tile reads one contiguous strip: wt[(m / 4) * taps * 4 + t * 4 + m % 4] = weight(m, t), where
/// weight(m, t) = src[m * ld_m + t * ld_t] for m < channels and 0 for the padding channels up to mp.
inline void pack_conv_weights(const float* src, std::size_t channels, std::size_t taps, std::size_t ld_m,
                              std::size_t ld_t, std::size_t mp, float* wt) noexcept {
  for (std::size_t m = 0; m < mp; ++m)
    for (std::size_t t = 0; t < taps; ++t)
      wt[(m / conv_tile_channels) * taps * conv_tile_channels + t * conv_tile_channels + m % conv_tile_channels] =
          m < channels ? src[m * ld_m + t * ld_t] : 0.0f;
}

/// Direct stride-1 convolution of one image: out (mp, q_stride) = sum over taps t of weight(m, t) times the
/// plane at in + offsets[t], shifted by the flat position. Weights packed by pack_conv_weights, mp a multiple of 4;
/// `bias` holds mp floats or is null.
template <class Arch>
void direct_conv(const float* in, const std::size_t* offsets, std::size_t taps, const flat_layout& f,
                 const float* wt, std::size_t mp, const float* bias, float* out) noexcept {
  constexpr std::size_t lanes = xsimd::batch<float, Arch>::size, tile = direct_tile_vectors<Arch>;
  const std::size_t nvec = f.q_stride / lanes;
  for (std::size_t m0 = 0; m0 < mp; m0 += conv_tile_channels) {
    const float* w = wt + m0 * taps;
    const float* b = bias ? bias + m0 : nullptr;
    float* o = out + m0 * f.q_stride;
    std::size_t v = 0;
    for (; v + tile <= nvec; v += tile) direct_conv_tile<Arch, tile>(in, offsets, taps, w, b, o, f.q_stride, v * lanes);
    // the remainder (fewer than `tile` vectors) in one narrower tile
    const std::size_t rest = nvec - v, q0 = v * lanes;
    if (rest == 1) direct_conv_tile<Arch, 1>(in, offsets, taps, w, b, o, f.q_stride, q0);
    if (rest == 2) direct_conv_tile<Arch, 2>(in, offsets, taps, w, b, o, f.q_stride, q0);
    if constexpr (tile > 3)
      if (rest == 3) direct_conv_tile<Arch, 3>(in, offsets, taps, w, b, o, f.q_stride, q0);
  }
}

/// Taps per register tile of backward-weights on Arch: 3 (4 x 3 accumulators), or 6 where vectors hold 16 floats
/// (AVX-512, 32 registers: 4 x 6 accumulators, 6 inputs and a gradient vector; 10 loads per 24 FMAs instead of 7 per
/// 12). A multiple of conv_tile_vectors, to which taps are padded, so a remainder is one 3-tap tile.
template <class Arch>
inline constexpr std::size_t weights_tile_taps = xsimd::batch<float, Arch>::size >= 16 ? 6 : conv_tile_vectors;

/// Where backward-weights keeps the vector accumulator of output channel m and tap t (taps padded to tp): channel
/// blocks of 4, tap-major inside a block, so tiles of any tap count find their accumulators.
constexpr std::size_t weights_acc_index(std::size_t m, std::size_t t, std::size_t tp) noexcept {
  return ((m / conv_tile_channels) * tp + t) * conv_tile_channels + m % conv_tile_channels;
}

/// One register tile of backward-weights: channels [m0, m0 + 4) x taps [t0, t0 + TT), over `images` images:
/// acc(m, t) += sum over q of dout[m][q] * in[q + offsets[t]] (see direct_conv_weights).
template <class Arch, std::size_t TT>
void direct_conv_weights_tile(const float* in, std::size_t in_image, const float* dout, std::size_t dout_image,
                              std::size_t images, const flat_layout& f, std::size_t m0, std::size_t t0,
                              const std::size_t* offsets, std::size_t taps_padded, float* acc) noexcept {
  using batch = xsimd::batch<float, Arch>;
  constexpr std::size_t lanes = batch::size, tm = conv_tile_channels;
  const std::size_t nvec = f.q_stride / lanes;
  float* a = acc + weights_acc_index(m0, t0, taps_padded) * lanes;  // tap j, channel i at a + (j * tm + i) * lanes
  batch r[tm][TT];
  HWNAS_UNROLL
  for (std::size_t i = 0; i < tm; ++i)
    HWNAS_UNROLL
    for (std::size_t j = 0; j < TT; ++j) r[i][j] = batch::load_aligned(a + (j * tm + i) * lanes);
  for (std::size_t img = 0; img < images; ++img) {
    const float* d = dout + img * dout_image + m0 * f.q_stride;
    const float* xs[TT];
    HWNAS_UNROLL
    for (std::size_t j = 0; j < TT; ++j) xs[j] = in + img * in_image + offsets[t0 + j];
    for (std::size_t v = 0; v < nvec; ++v) {
      const std::size_t q = v * lanes;
      batch x[TT];
      HWNAS_UNROLL
      for (std::size_t j = 0; j < TT; ++j) {
        x[j] = batch::load_unaligned(xs[j] + q);
        keep_in_register(x[j]);
      }
      HWNAS_UNROLL
      for (std::size_t i = 0; i < tm; ++i) {
        batch di = batch::load_aligned(d + i * f.q_stride + q);
        keep_in_register(di);
        HWNAS_UNROLL
        for (std::size_t j = 0; j < TT; ++j) r[i][j] = xsimd::fma(di, x[j], r[i][j]);
      }
    }
  }
  HWNAS_UNROLL
  for (std::size_t i = 0; i < tm; ++i)
    HWNAS_UNROLL
    for (std::size_t j = 0; j < TT; ++j) r[i][j].store_aligned(a + (j * tm + i) * lanes);
}

/// Backward-weights accumulation over `images` images in the flat layout, dot-product form: for every output
/// channel m < mp and tap t < taps_padded (a multiple of 3), acc(m, t) += sum over q of dout[m][q] * in[q + offsets[t]]
/// lane by lane, at acc + weights_acc_index(m, t, taps_padded) * lanes. `in` holds `images` blocks of `in_image`
/// floats, `dout` `images` blocks of `dout_image` floats (mp rows of q_stride, zero outside the valid outputs). Each
/// accumulator sums images, then vectors, in order, whatever the tile shape.
template <class Arch>
void direct_conv_weights(const float* in, std::size_t in_image, const float* dout, std::size_t dout_image,
                         std::size_t images, const flat_layout& f, std::size_t mp, const std::size_t* offsets,
                         std::size_t taps_padded, float* acc) noexcept {
  constexpr std::size_t tt = weights_tile_taps<Arch>;
  for (std::size_t m0 = 0; m0 < mp; m0 += conv_tile_channels) {
    std::size_t t0 = 0;
    for (; t0 + tt <= taps_padded; t0 += tt)
      direct_conv_weights_tile<Arch, tt>(in, in_image, dout, dout_image, images, f, m0, t0, offsets, taps_padded,
                                         acc);
    if constexpr (tt != conv_tile_vectors)
      for (; t0 < taps_padded; t0 += conv_tile_vectors)
        direct_conv_weights_tile<Arch, conv_tile_vectors>(in, in_image, dout, dout_image, images, f, m0, t0, offsets,
                                                          taps_padded, acc);
  }
}

template <class Arch>
void conv2d_forward_direct(const conv2d_shape& s, const float* input, const float* weights, const float* bias,
                           float* output, workspace& ws) {
  constexpr std::size_t lanes = xsimd::batch<float, Arch>::size;
  const std::size_t n = s.in_channels, m = s.out_channels, k = s.kernel, taps = s.patch_size();
  const std::size_t rows = s.out_height(), cols = s.out_width();
  const std::size_t mp = round_up(m, conv_tile_channels);
  const flat_layout f = flat_layout::make(rows, cols, k, s.pad_left(), s.pad_right(), lanes);
  const std::size_t wt_size = aligned_floats(taps * mp), bias_size = aligned_floats(mp);
  const std::size_t in_size = n * f.plane_stride, off_size = offsets_floats(taps);
  float* wt = ws.get<float>(wt_size + bias_size + off_size + in_size + mp * f.q_stride);
  float* bp = wt + wt_size;
  auto* offsets = reinterpret_cast<std::size_t*>(bp + bias_size);
  float* in = bp + bias_size + off_size;
  float* out = in + in_size;
  pack_conv_weights(weights, m, taps, taps, 1, mp, wt);
  tap_offsets(n, k, f, taps, offsets);
  std::fill(bp, bp + mp, 0.0f);
  if (bias) std::copy(bias, bias + m, bp);
  for (std::size_t b = 0; b < s.batch; ++b) {
    for (std::size_t c = 0; c < n; ++c)
      pad_plane<Arch>(input + (b * n + c) * s.in_height * s.in_width, s.in_height, s.in_width, s.pad_top(),
                s.pad_left(), f, in + c * f.plane_stride);
    direct_conv<Arch>(in, offsets, taps, f, wt, mp, bp, out);
    for (std::size_t o = 0; o < m; ++o)
      unpad_plane<Arch>(out + o * f.q_stride, rows, cols, f, output + (b * m + o) * rows * cols);
  }
}

template <class Arch>
void conv2d_backward_data_direct(const conv2d_shape& s, const float* grad_output, const float* weights,
                                 float* grad_input, workspace& ws) {
  constexpr std::size_t lanes = xsimd::batch<float, Arch>::size;
  const std::size_t n = s.in_channels, m = s.out_channels, k = s.kernel, kk = k * k;
  const std::size_t rows = s.out_height(), cols = s.out_width();  // == in_height, in_width at stride 1
  const std::size_t np = round_up(n, conv_tile_channels);
  const flat_layout f = flat_layout::make(rows, cols, k, s.pad_left(), s.pad_right(), lanes);
  const std::size_t wt_size = aligned_floats(m * kk * np), dout_size = m * f.plane_stride;
  const std::size_t off_size = offsets_floats(m * kk);
  float* wt = ws.get<float>(wt_size + off_size + dout_size + np * f.q_stride);
  auto* offsets = reinterpret_cast<std::size_t*>(wt + wt_size);
  float* dout = wt + wt_size + off_size;
  float* din = dout + dout_size;
  tap_offsets(m, k, f, m * kk, offsets);
  // the transposed convolution: output channel c, tap (o, t) has weight weights[o][c][K*K - 1 - t] (both axes
  // flipped); packed in pack_conv_weights's layout
  for (std::size_t c0 = 0; c0 < np; c0 += conv_tile_channels)
    for (std::size_t o = 0; o < m; ++o)
      for (std::size_t t = 0; t < kk; ++t)
        HWNAS_UNROLL
        for (std::size_t i = 0; i < conv_tile_channels; ++i) {
          const std::size_t c = c0 + i;
          wt[c0 * m * kk + (o * kk + t) * conv_tile_channels + i] =
              c < n ? weights[(o * n + c) * kk + (kk - 1 - t)] : 0.0f;
        }
  for (std::size_t b = 0; b < s.batch; ++b) {
    for (std::size_t o = 0; o < m; ++o)
      pad_plane<Arch>(grad_output + (b * m + o) * rows * cols, rows, cols, s.pad_bottom(), s.pad_right(), f,
                dout + o * f.plane_stride);
    direct_conv<Arch>(dout, offsets, m * kk, f, wt, np, nullptr, din);
    for (std::size_t c = 0; c < n; ++c)
      unpad_plane<Arch>(din + c * f.q_stride, rows, cols, f, grad_input + (b * n + c) * rows * cols);
  }
}

template <class Arch>
void conv2d_backward_weights_direct(const conv2d_shape& s, const float* input, const float* grad_output,
                                    float* grad_weights, float beta, workspace& ws) {
  using batch = xsimd::batch<float, Arch>;
  constexpr std::size_t lanes = batch::size;
  const std::size_t n = s.in_channels, m = s.out_channels, k = s.kernel, taps = s.patch_size();
  const std::size_t rows = s.out_height(), cols = s.out_width();
  const std::size_t mp = round_up(m, conv_tile_channels), tp = round_up(taps, conv_tile_vectors);
  const flat_layout f = flat_layout::make(rows, cols, k, s.pad_left(), s.pad_right(), lanes);
  const std::size_t in_image = n * f.plane_stride, dout_image = mp * f.q_stride;
  // images per pass: about 256 KiB of padded inputs and gradients, so a pass stays in L2
  const std::size_t chunk = std::clamp<std::size_t>((std::size_t{1} << 16) / (in_image + dout_image), 1, s.batch);
  const std::size_t acc_floats = mp * tp * lanes;
  const std::size_t off_floats = offsets_floats(tp);
  float* base = ws.get<float>(acc_floats + off_floats + chunk * (in_image + dout_image));
  float* acc = base;
  auto* offsets = reinterpret_cast<std::size_t*>(base + acc_floats);
  float* in = base + acc_floats + off_floats;
  float* dout = in + chunk * in_image;
  tap_offsets(n, k, f, tp, offsets);  // padding taps read offset 0: computed and dropped
  std::fill(acc, acc + acc_floats, 0.0f);
  for (std::size_t b0 = 0; b0 < s.batch; b0 += chunk) {
    const std::size_t images = std::min(chunk, s.batch - b0);
    for (std::size_t img = 0; img < images; ++img) {
      const std::size_t b = b0 + img;
      for (std::size_t c = 0; c < n; ++c)
        pad_plane<Arch>(input + (b * n + c) * s.in_height * s.in_width, s.in_height, s.in_width, s.pad_top(),
                  s.pad_left(), f, in + img * in_image + c * f.plane_stride);
      float* d = dout + img * dout_image;
      std::fill(d, d + dout_image, 0.0f);
      for (std::size_t o = 0; o < m; ++o)
        for (std::size_t y = 0; y < rows; ++y)
          copy_row<Arch>(grad_output + ((b * m + o) * rows + y) * cols, cols, d + o * f.q_stride + y * f.row_stride);
    }
    direct_conv_weights<Arch>(in, in_image, dout, dout_image, images, f, mp, offsets, tp, acc);
  }
  for (std::size_t o = 0; o < m; ++o)
    for (std::size_t t = 0; t < taps; ++t) {
      const float* a = acc + weights_acc_index(o, t, tp) * lanes;
      float& dst = grad_weights[o * taps + t];
      const float v = xsimd::hadd(batch::load_aligned(a));
      dst = beta == 0.0f ? v : beta * dst + v;
    }
}

// ---- strides > 1: im2col + gemm ------------------------------------------------------------------------------

template <class Arch>
void conv2d_forward_gemm(const conv2d_shape& s, const float* input, const float* weights, const float* bias,
                         float* output, workspace& ws) {
  const std::size_t m = s.out_channels, taps = s.patch_size(), pixels = s.out_pixels();
  float* col = ws.get<float>(taps * pixels);
  const conv2d_shape one = [&] { auto t = s; t.batch = 1; return t; }();
  for (std::size_t b = 0; b < s.batch; ++b) {
    im2col(one, {input + b * s.image_size(), s.image_size()}, {col, taps * pixels}, pixels);
    float* out = output + b * s.out_image_size();
    if (bias)
      for (std::size_t o = 0; o < m; ++o) std::fill(out + o * pixels, out + (o + 1) * pixels, bias[o]);
    gemm<Arch>(transpose::no, transpose::no, m, pixels, taps, 1.0f, weights, taps, col, pixels,
               bias ? 1.0f : 0.0f, out, pixels);
  }
}

template <class Arch>
void conv2d_backward_data_gemm(const conv2d_shape& s, const float* grad_output, const float* weights,
                               float* grad_input, workspace& ws) {
  const std::size_t m = s.out_channels, taps = s.patch_size(), pixels = s.out_pixels();
  float* col = ws.get<float>(taps * pixels);
  const conv2d_shape one = [&] { auto t = s; t.batch = 1; return t; }();
  for (std::size_t b = 0; b < s.batch; ++b) {
    gemm<Arch>(transpose::yes, transpose::no, taps, pixels, m, 1.0f, weights, taps,
               grad_output + b * s.out_image_size(), pixels, 0.0f, col, pixels);
    float* din = grad_input + b * s.image_size();
    std::fill(din, din + s.image_size(), 0.0f);
    col2im(one, {col, taps * pixels}, pixels, {din, s.image_size()});
  }
}

template <class Arch>
void conv2d_backward_weights_gemm(const conv2d_shape& s, const float* input, const float* grad_output,
                                  float* grad_weights, float beta, workspace& ws) {
  const std::size_t m = s.out_channels, taps = s.patch_size(), pixels = s.out_pixels();
  float* col = ws.get<float>(taps * pixels);
  const conv2d_shape one = [&] { auto t = s; t.batch = 1; return t; }();
  for (std::size_t b = 0; b < s.batch; ++b) {
    im2col(one, {input + b * s.image_size(), s.image_size()}, {col, taps * pixels}, pixels);
    gemm<Arch>(transpose::no, transpose::yes, m, taps, pixels, 1.0f, grad_output + b * s.out_image_size(), pixels,
               col, pixels, b == 0 ? beta : 1.0f, grad_weights, taps);
  }
}

}  // namespace detail

// ---- reference twins -------------------------------------------------------------------------------------------

/// Reference forward convolution (direct loops, double accumulation):
/// output[b][m][y][x] = bias[m] + sum_{c,ky,kx} weights[m][c][ky][kx] *
///                                  input[b][c][y*S - pad_top + ky][x*S - pad_left + kx].
/// `bias` may be empty (no bias). Throws hwnas::invalid_argument on a bad shape or buffer size.
inline void conv2d_forward_ref(const conv2d_shape& s, std::span<const float> input, std::span<const float> weights,
                               std::span<const float> bias, std::span<float> output) {
  detail::check_conv_forward("hwnas::kernels::conv2d_forward_ref", s, input.size(), weights.size(), bias.size(),
                             output.size());
  const std::size_t n = s.in_channels, m = s.out_channels, k = s.kernel, h = s.in_height, w = s.in_width;
  const std::size_t rows = s.out_height(), cols = s.out_width();
  const auto pt = static_cast<std::ptrdiff_t>(s.pad_top()), pl = static_cast<std::ptrdiff_t>(s.pad_left());
  for (std::size_t b = 0; b < s.batch; ++b)
    for (std::size_t o = 0; o < m; ++o)
      for (std::size_t y = 0; y < rows; ++y)
        for (std::size_t x = 0; x < cols; ++x) {
          double acc = bias.empty() ? 0.0 : bias[o];
          for (std::size_t c = 0; c < n; ++c)
            for (std::size_t ky = 0; ky < k; ++ky) {
              const std::ptrdiff_t iy = static_cast<std::ptrdiff_t>(y * s.stride + ky) - pt;
              if (iy < 0 || iy >= static_cast<std::ptrdiff_t>(h)) continue;
              for (std::size_t kx = 0; kx < k; ++kx) {
                const std::ptrdiff_t ix = static_cast<std::ptrdiff_t>(x * s.stride + kx) - pl;
                if (ix < 0 || ix >= static_cast<std::ptrdiff_t>(w)) continue;
                acc += static_cast<double>(weights[((o * n + c) * k + ky) * k + kx]) *
                       input[((b * n + c) * h + static_cast<std::size_t>(iy)) * w + static_cast<std::size_t>(ix)];
              }
            }
          output[((b * m + o) * rows + y) * cols + x] = static_cast<float>(acc);
        }
}

/// Reference backward-data: grad_input = d(sum output * grad_output) / d input, overwritten.
inline void conv2d_backward_data_ref(const conv2d_shape& s, std::span<const float> grad_output,
                                     std::span<const float> weights, std::span<float> grad_input) {
  detail::check_conv_backward_data("hwnas::kernels::conv2d_backward_data_ref", s, grad_output.size(),
                                   weights.size(), grad_input.size());
  const std::size_t n = s.in_channels, m = s.out_channels, k = s.kernel, h = s.in_height, w = s.in_width;
  const std::size_t rows = s.out_height(), cols = s.out_width();
  const std::size_t pt = s.pad_top(), pl = s.pad_left();
  // gather form: input pixel (iy, ix) receives from every output (y, x) and tap with y*S + ky == iy + pt
  for (std::size_t b = 0; b < s.batch; ++b)
    for (std::size_t c = 0; c < n; ++c)
      for (std::size_t iy = 0; iy < h; ++iy)
        for (std::size_t ix = 0; ix < w; ++ix) {
          double acc = 0.0;
          for (std::size_t ky = 0; ky < k; ++ky) {
            const std::size_t ty = iy + pt;
            if (ty < ky || (ty - ky) % s.stride != 0) continue;
            const std::size_t y = (ty - ky) / s.stride;
            if (y >= rows) continue;
            for (std::size_t kx = 0; kx < k; ++kx) {
              const std::size_t tx = ix + pl;
              if (tx < kx || (tx - kx) % s.stride != 0) continue;
              const std::size_t x = (tx - kx) / s.stride;
              if (x >= cols) continue;
              for (std::size_t o = 0; o < m; ++o)
                acc += static_cast<double>(weights[((o * n + c) * k + ky) * k + kx]) *
                       grad_output[((b * m + o) * rows + y) * cols + x];
            }
          }
          grad_input[((b * n + c) * h + iy) * w + ix] = static_cast<float>(acc);
        }
}

/// Reference backward-weights: grad_weights = beta * grad_weights + d(sum output * grad_output) / d weights, and
/// likewise grad_bias (skipped when empty). beta == 0 overwrites (old contents, even NaN, are ignored); beta == 1
/// accumulates, so a batch split into slices can add each slice's gradient into one buffer.
inline void conv2d_backward_weights_ref(const conv2d_shape& s, std::span<const float> input,
                                        std::span<const float> grad_output, std::span<float> grad_weights,
                                        std::span<float> grad_bias, float beta = 0.0f) {
  detail::check_conv_backward_weights("hwnas::kernels::conv2d_backward_weights_ref", s, input.size(),
                                      grad_output.size(), grad_weights.size(), grad_bias.size());
  const std::size_t n = s.in_channels, m = s.out_channels, k = s.kernel, h = s.in_height, w = s.in_width;
  const std::size_t rows = s.out_height(), cols = s.out_width();
  const auto pt = static_cast<std::ptrdiff_t>(s.pad_top()), pl = static_cast<std::ptrdiff_t>(s.pad_left());
  for (std::size_t o = 0; o < m; ++o) {
    for (std::size_t c = 0; c < n; ++c)
      for (std::size_t ky = 0; ky < k; ++ky)
        for (std::size_t kx = 0; kx < k; ++kx) {
          double acc = 0.0;
          for (std::size_t b = 0; b < s.batch; ++b)
            for (std::size_t y = 0; y < rows; ++y) {
              const std::ptrdiff_t iy = static_cast<std::ptrdiff_t>(y * s.stride + ky) - pt;
              if (iy < 0 || iy >= static_cast<std::ptrdiff_t>(h)) continue;
              for (std::size_t x = 0; x < cols; ++x) {
                const std::ptrdiff_t ix = static_cast<std::ptrdiff_t>(x * s.stride + kx) - pl;
                if (ix < 0 || ix >= static_cast<std::ptrdiff_t>(w)) continue;
                acc += static_cast<double>(grad_output[((b * m + o) * rows + y) * cols + x]) *
                       input[((b * n + c) * h + static_cast<std::size_t>(iy)) * w + static_cast<std::size_t>(ix)];
              }
            }
          float& dst = grad_weights[((o * n + c) * k + ky) * k + kx];
          dst = beta == 0.0f ? static_cast<float>(acc) : static_cast<float>(beta * dst + acc);
        }
    if (!grad_bias.empty()) {
      double acc = 0.0;
      for (std::size_t b = 0; b < s.batch; ++b)
        for (std::size_t p = 0; p < rows * cols; ++p) acc += grad_output[(b * m + o) * rows * cols + p];
      grad_bias[o] = beta == 0.0f ? static_cast<float>(acc) : static_cast<float>(beta * grad_bias[o] + acc);
    }
  }
}

// ---- fast kernels ------------------------------------------------------------------------------------------------

/// Forward convolution, same contract as conv2d_forward_ref. Single-threaded (the caller splits the batch);
/// scratch comes from `ws`, which stops allocating once it has seen the largest layer.
/// @tparam Arch the xsimd instruction set (default: the best one enabled at compile time).
template <class Arch = xsimd::default_arch>
void conv2d_forward(const conv2d_shape& s, std::span<const float> input, std::span<const float> weights,
                    std::span<const float> bias, std::span<float> output, workspace& ws) {
  detail::check_conv_forward("hwnas::kernels::conv2d_forward", s, input.size(), weights.size(), bias.size(),
                             output.size());
  if (s.batch == 0) return;
  const float* b = bias.empty() ? nullptr : bias.data();
  if (s.stride == 1 && detail::direct_conv_fits(s.out_channels))
    detail::conv2d_forward_direct<Arch>(s, input.data(), weights.data(), b, output.data(), ws);
  else
    detail::conv2d_forward_gemm<Arch>(s, input.data(), weights.data(), b, output.data(), ws);
}

/// Backward-data, same contract as conv2d_backward_data_ref (grad_input overwritten).
template <class Arch = xsimd::default_arch>
void conv2d_backward_data(const conv2d_shape& s, std::span<const float> grad_output, std::span<const float> weights,
                          std::span<float> grad_input, workspace& ws) {
  detail::check_conv_backward_data("hwnas::kernels::conv2d_backward_data", s, grad_output.size(), weights.size(),
                                   grad_input.size());
  if (s.batch == 0) return;
  if (s.stride == 1 && detail::direct_conv_fits(s.in_channels))
    detail::conv2d_backward_data_direct<Arch>(s, grad_output.data(), weights.data(), grad_input.data(), ws);
  else
    detail::conv2d_backward_data_gemm<Arch>(s, grad_output.data(), weights.data(), grad_input.data(), ws);
}

/// Backward-weights and bias, same contract as conv2d_backward_weights_ref: grad = beta * grad + this batch's
/// gradient (beta = 0 overwrites, beta = 1 accumulates slices). `grad_bias` may be empty.
template <class Arch = xsimd::default_arch>
void conv2d_backward_weights(const conv2d_shape& s, std::span<const float> input, std::span<const float> grad_output,
                             std::span<float> grad_weights, std::span<float> grad_bias, workspace& ws,
                             float beta = 0.0f) {
  detail::check_conv_backward_weights("hwnas::kernels::conv2d_backward_weights", s, input.size(),
                                      grad_output.size(), grad_weights.size(), grad_bias.size());
  if (!grad_bias.empty()) {
    const std::size_t m = s.out_channels, pixels = s.out_pixels();
    for (std::size_t o = 0; o < m; ++o) {
      float acc = 0.0f;
      for (std::size_t b = 0; b < s.batch; ++b)
        acc += detail::sum_floats<Arch>(grad_output.data() + (b * m + o) * pixels, pixels);
      grad_bias[o] = beta == 0.0f ? acc : beta * grad_bias[o] + acc;
    }
  }
  if (s.batch == 0) {
    detail::scale_floats(grad_weights.data(), grad_weights.size(), beta);
    return;
  }
  if (s.stride == 1 && detail::direct_conv_fits(s.out_channels))
    detail::conv2d_backward_weights_direct<Arch>(s, input.data(), grad_output.data(), grad_weights.data(), beta, ws);
  else
    detail::conv2d_backward_weights_gemm<Arch>(s, input.data(), grad_output.data(), grad_weights.data(), beta, ws);
}

}  // namespace hwnas::kernels
