#pragma once
/// @file
/// `conv2d_shape`: the geometry of a square-kernel 2-D convolution with TensorFlow-style 'same' padding, shared
/// by the float kernels (conv2d.hpp, im2col.hpp), the integer kernels and the network.

#include <cstddef>
#include <string_view>

#include <hwnas/kernels/detail/check.hpp>

namespace hwnas::kernels {

/// Geometry of one convolution. Layouts (dense, row-major floats):
/// input (batch, in_channels, in_height, in_width), weights (out_channels, in_channels, kernel, kernel),
/// bias (out_channels), output (batch, out_channels, out_height(), out_width()).
///
/// Padding is TensorFlow's 'same': out = ceil(in / stride), pad_total = max((out - 1) * stride + kernel - in, 0),
/// pad_before = pad_total / 2 (the odd extra pixel goes after, at the bottom / right).
struct conv2d_shape {
  std::size_t batch = 1;         ///< images
  std::size_t in_channels = 1;   ///< N
  std::size_t in_height = 1;     ///< H
  std::size_t in_width = 1;      ///< W
  std::size_t out_channels = 1;  ///< M
  std::size_t kernel = 1;        ///< K (square K x K)
  std::size_t stride = 1;        ///< S (both axes)

  /// R = ceil(H / S).
  constexpr std::size_t out_height() const noexcept { return (in_height + stride - 1) / stride; }
  /// C = ceil(W / S).
  constexpr std::size_t out_width() const noexcept { return (in_width + stride - 1) / stride; }
  /// Total zero rows added (top + bottom).
  constexpr std::size_t pad_height() const noexcept { return pad_total(out_height(), in_height); }
  /// Total zero columns added (left + right).
  constexpr std::size_t pad_width() const noexcept { return pad_total(out_width(), in_width); }
  constexpr std::size_t pad_top() const noexcept { return pad_height() / 2; }
  constexpr std::size_t pad_bottom() const noexcept { return pad_height() - pad_top(); }
  constexpr std::size_t pad_left() const noexcept { return pad_width() / 2; }
  constexpr std::size_t pad_right() const noexcept { return pad_width() - pad_left(); }

  /// Floats of one input image (N * H * W) and of the whole input.
  constexpr std::size_t image_size() const noexcept { return in_channels * in_height * in_width; }
  constexpr std::size_t input_size() const noexcept { return batch * image_size(); }
  /// Floats of the weights (M * N * K * K) and of the bias (M).
  constexpr std::size_t weight_size() const noexcept { return out_channels * patch_size(); }
  constexpr std::size_t bias_size() const noexcept { return out_channels; }
  /// Length of one receptive field, N * K * K (the GEMM reduction of the forward pass).
  constexpr std::size_t patch_size() const noexcept { return in_channels * kernel * kernel; }
  /// Output pixels of one channel, R * C.
  constexpr std::size_t out_pixels() const noexcept { return out_height() * out_width(); }
  /// Floats of one output image (M * R * C) and of the whole output.
  constexpr std::size_t out_image_size() const noexcept { return out_channels * out_pixels(); }
  constexpr std::size_t output_size() const noexcept { return batch * out_image_size(); }
  /// Floating-point operations of the forward pass (2 per multiply-add, padding included); backward-data and
  /// backward-weights cost the same.
  constexpr double flops() const noexcept {
    return 2.0 * static_cast<double>(batch) * static_cast<double>(out_image_size()) *
           static_cast<double>(patch_size());
  }

  /// Throws hwnas::invalid_argument naming `kernel_name` and the field when a dimension is 0 (batch may be 0:
  /// an empty slice) or absurdly large.
  void validate(std::string_view kernel_name) const {
    detail::check_positive(kernel_name, "conv2d_shape.in_channels", in_channels);
    detail::check_positive(kernel_name, "conv2d_shape.in_height", in_height);
    detail::check_positive(kernel_name, "conv2d_shape.in_width", in_width);
    detail::check_positive(kernel_name, "conv2d_shape.out_channels", out_channels);
    detail::check_positive(kernel_name, "conv2d_shape.kernel", kernel);
    detail::check_positive(kernel_name, "conv2d_shape.stride", stride);
    constexpr std::size_t limit = std::size_t{1} << 16;
    detail::check_at_most(kernel_name, "conv2d_shape.in_channels", in_channels, limit);
    detail::check_at_most(kernel_name, "conv2d_shape.in_height", in_height, limit);
    detail::check_at_most(kernel_name, "conv2d_shape.in_width", in_width, limit);
    detail::check_at_most(kernel_name, "conv2d_shape.out_channels", out_channels, limit);
    detail::check_at_most(kernel_name, "conv2d_shape.kernel", kernel, 64);
    detail::check_at_most(kernel_name, "conv2d_shape.stride", stride, 64);
    detail::check_at_most(kernel_name, "conv2d_shape.batch", batch, std::size_t{1} << 24);
    detail::check_at_most(kernel_name, "one image (in_channels x in_height x in_width)", image_size(),
                          std::size_t{1} << 28);
    detail::check_at_most(kernel_name, "one output image (out_channels x out_height x out_width)", out_image_size(),
                          std::size_t{1} << 28);
    detail::check_at_most(kernel_name, "the weights (out_channels x in_channels x kernel x kernel)", weight_size(),
                          std::size_t{1} << 28);
  }

  friend constexpr bool operator==(const conv2d_shape&, const conv2d_shape&) = default;

 private:
  constexpr std::size_t pad_total(std::size_t out, std::size_t in) const noexcept {
    const std::size_t span = (out - 1) * stride + kernel;
    return span > in ? span - in : 0;
  }
};

}  // namespace hwnas::kernels
