#pragma once
/// @file
/// im2col / col2im for one image: the receptive fields of a convolution laid out as a matrix, so that the
/// convolution becomes a GEMM (weights (M, N*K*K) x columns (N*K*K, R*C)). Used by conv2d for strides > 1.

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <span>

#include <hwnas/kernels/conv2d_shape.hpp>
#include <hwnas/kernels/detail/check.hpp>

namespace hwnas::kernels {
namespace detail {

/// The output columns [lo, hi) of a row whose input column x * stride + offset lies inside [0, width).
inline void valid_range(std::ptrdiff_t offset, std::size_t stride, std::size_t width, std::size_t count,
                        std::size_t& lo, std::size_t& hi) noexcept {
  const auto s = static_cast<std::ptrdiff_t>(stride);
  const auto w = static_cast<std::ptrdiff_t>(width);
  const std::ptrdiff_t first = offset >= 0 ? 0 : (-offset + s - 1) / s;   // smallest x with x*s + offset >= 0
  const std::ptrdiff_t last = w - 1 - offset < 0 ? -1 : (w - 1 - offset) / s;  // largest x with x*s+offset < w
  lo = static_cast<std::size_t>(std::min<std::ptrdiff_t>(first, static_cast<std::ptrdiff_t>(count)));
  hi = static_cast<std::size_t>(std::clamp<std::ptrdiff_t>(last + 1, static_cast<std::ptrdiff_t>(lo),
                                                          static_cast<std::ptrdiff_t>(count)));
}

}  // namespace detail

/// Unfolds one image (N, H, W) of `shape` into `col`, a (N*K*K) x (R*C) matrix with leading dimension `ld_col`
/// (>= R*C): col[(c*K + ky)*K + kx][y*C + x] = image[c][y*S - pad_top + ky][x*S - pad_left + kx], 0 in the
/// padding. `shape.batch` is ignored. Columns past R*C in each row are left untouched.
inline void im2col(const conv2d_shape& shape, std::span<const float> image, std::span<float> col,
                   std::size_t ld_col) {
  constexpr std::string_view name = "hwnas::kernels::im2col";
  shape.validate(name);
  const std::size_t k = shape.kernel, s = shape.stride, h = shape.in_height, w = shape.in_width;
  const std::size_t rows = shape.out_height(), cols = shape.out_width(), pixels = rows * cols;
  if (ld_col < pixels) detail::check_size(name, "ld_col", ld_col, pixels, "at least out_height x out_width");
  detail::check_size(name, "image", image.size(), shape.image_size(), "in_channels x in_height x in_width");
  detail::check_size(name, "col", col.size(), (shape.patch_size() - 1) * ld_col + pixels,
                     "(in_channels*kernel*kernel - 1) x ld_col + out_height x out_width");
  const auto pt = static_cast<std::ptrdiff_t>(shape.pad_top()), pl = static_cast<std::ptrdiff_t>(shape.pad_left());
  for (std::size_t c = 0; c < shape.in_channels; ++c) {
    const float* plane = image.data() + c * h * w;
    for (std::size_t ky = 0; ky < k; ++ky)
      for (std::size_t kx = 0; kx < k; ++kx) {
        float* row = col.data() + ((c * k + ky) * k + kx) * ld_col;
        std::size_t lo, hi;
        detail::valid_range(static_cast<std::ptrdiff_t>(kx) - pl, s, w, cols, lo, hi);
        for (std::size_t y = 0; y < rows; ++y) {
          float* out = row + y * cols;
          const std::ptrdiff_t iy = static_cast<std::ptrdiff_t>(y * s + ky) - pt;
          if (iy < 0 || iy >= static_cast<std::ptrdiff_t>(h) || lo == hi) {
            std::fill(out, out + cols, 0.0f);
            continue;
          }
          // image column of output column x is x*s + base; only x in [lo, hi) is read
          const std::ptrdiff_t base = iy * static_cast<std::ptrdiff_t>(w) + static_cast<std::ptrdiff_t>(kx) - pl;
          std::fill(out, out + lo, 0.0f);
          if (s == 1)
            std::memcpy(out + lo, plane + base + static_cast<std::ptrdiff_t>(lo), (hi - lo) * sizeof(float));
          else
            for (std::size_t x = lo; x < hi; ++x) out[x] = plane[base + static_cast<std::ptrdiff_t>(x * s)];
          std::fill(out + hi, out + cols, 0.0f);
        }
      }
  }
}

/// The adjoint of im2col: adds every entry of `col` ((N*K*K) x (R*C), leading dimension `ld_col`) back into the
/// image pixel it was read from. `image` (N, H, W) is accumulated into, not overwritten; padding entries are
/// dropped.
inline void col2im(const conv2d_shape& shape, std::span<const float> col, std::size_t ld_col,
                   std::span<float> image) {
  constexpr std::string_view name = "hwnas::kernels::col2im";
  shape.validate(name);
  const std::size_t k = shape.kernel, s = shape.stride, h = shape.in_height, w = shape.in_width;
  const std::size_t rows = shape.out_height(), cols = shape.out_width(), pixels = rows * cols;
  if (ld_col < pixels) detail::check_size(name, "ld_col", ld_col, pixels, "at least out_height x out_width");
  detail::check_size(name, "image", image.size(), shape.image_size(), "in_channels x in_height x in_width");
  detail::check_size(name, "col", col.size(), (shape.patch_size() - 1) * ld_col + pixels,
                     "(in_channels*kernel*kernel - 1) x ld_col + out_height x out_width");
  const auto pt = static_cast<std::ptrdiff_t>(shape.pad_top()), pl = static_cast<std::ptrdiff_t>(shape.pad_left());
  for (std::size_t c = 0; c < shape.in_channels; ++c) {
    float* plane = image.data() + c * h * w;
    for (std::size_t ky = 0; ky < k; ++ky)
      for (std::size_t kx = 0; kx < k; ++kx) {
        const float* row = col.data() + ((c * k + ky) * k + kx) * ld_col;
        std::size_t lo, hi;
        detail::valid_range(static_cast<std::ptrdiff_t>(kx) - pl, s, w, cols, lo, hi);
        if (lo == hi) continue;
        for (std::size_t y = 0; y < rows; ++y) {
          const std::ptrdiff_t iy = static_cast<std::ptrdiff_t>(y * s + ky) - pt;
          if (iy < 0 || iy >= static_cast<std::ptrdiff_t>(h)) continue;
          const float* in = row + y * cols;
          const std::ptrdiff_t base = iy * static_cast<std::ptrdiff_t>(w) + static_cast<std::ptrdiff_t>(kx) - pl;
          for (std::size_t x = lo; x < hi; ++x) plane[base + static_cast<std::ptrdiff_t>(x * s)] += in[x];
        }
      }
  }
}

}  // namespace hwnas::kernels
