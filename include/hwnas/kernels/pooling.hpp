#pragma once
/// @file
/// 2x2 max-pooling with stride 2 (odd sizes rounded down: the last row / column is dropped), forward and backward,
/// with scalar `*_ref` twins.
///
/// Ties: within a window the top element wins over the bottom one of its column unless the bottom one is strictly
/// greater, then the left column wins unless the right column's winner is strictly greater. Both the reference and
/// the SIMD kernel follow this order, so their argmax agree exactly (ties are common after a ReLU: all-zero windows).
///
/// ReLU and max-pooling commute (max(relu(a), relu(b)) = relu(max(a, b))), gradients included, so a network can pool
/// first and apply ReLU to a quarter of the values.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>

#include <xsimd/xsimd.hpp>

#include <hwnas/core/error.hpp>
#include <hwnas/kernels/detail/check.hpp>

namespace hwnas::kernels {

/// Geometry of a 2x2 / stride 2 max-pooling. Input (batch, channels, in_height, in_width), output and argmax
/// (batch, channels, in_height / 2, in_width / 2), dense row-major.
struct pool2x2_shape {
  std::size_t batch = 1;
  std::size_t channels = 1;
  std::size_t in_height = 2;
  std::size_t in_width = 2;

  constexpr std::size_t out_height() const noexcept { return in_height / 2; }
  constexpr std::size_t out_width() const noexcept { return in_width / 2; }
  constexpr std::size_t planes() const noexcept { return batch * channels; }
  constexpr std::size_t input_size() const noexcept { return planes() * in_height * in_width; }
  constexpr std::size_t output_size() const noexcept { return planes() * out_height() * out_width(); }

  /// Throws hwnas::invalid_argument when a dimension is 0, an image is smaller than the 2x2 window, or a plane is
  /// too large for int32 argmax indices. batch may be 0.
  void validate(std::string_view kernel) const {
    detail::check_positive(kernel, "pool2x2_shape.channels", channels);
    if (in_height < 2 || in_width < 2)
      throw invalid_argument(std::string(kernel) + ": a " + std::to_string(in_height) + "x" +
                             std::to_string(in_width) +
                             " image is smaller than the 2x2 pooling window; drop the pooling for such small maps");
    detail::check_at_most(kernel, "pool2x2_shape.in_height x in_width", in_height * in_width, std::size_t{1} << 24);
    detail::check_at_most(kernel, "pool2x2_shape.batch x channels", planes(), std::size_t{1} << 30);
  }

  friend constexpr bool operator==(const pool2x2_shape&, const pool2x2_shape&) = default;
};

namespace detail {

inline void check_pool_forward(std::string_view name, const pool2x2_shape& s, std::size_t input, std::size_t output,
                               std::size_t argmax) {
  s.validate(name);
  check_size(name, "input", input, s.input_size(), "batch x channels x in_height x in_width");
  check_size(name, "output", output, s.output_size(), "batch x channels x in_height/2 x in_width/2");
  if (argmax != 0)
    check_size(name, "argmax", argmax, s.output_size(), "the output's size, or empty when no backward follows");
}

inline void check_pool_backward(std::string_view name, const pool2x2_shape& s, std::size_t grad_output,
                                std::size_t argmax, std::size_t grad_input) {
  s.validate(name);
  check_size(name, "grad_output", grad_output, s.output_size(), "batch x channels x in_height/2 x in_width/2");
  check_size(name, "argmax", argmax, s.output_size(), "the output's size, as recorded by the forward pass");
  check_size(name, "grad_input", grad_input, s.input_size(), "batch x channels x in_height x in_width");
}

/// The window's winner under the documented tie rule; returns its value and writes its index in the plane.
/// Written as selects, not branches: on the random signs of pre-activations the three comparisons are unpredictable,
/// and the branchy form cost about 10 ns a window (the kernels fall back to it for maps narrower than a vector).
inline float pool_window(const float* plane, std::size_t width, std::size_t y, std::size_t x,
                         std::int32_t& index) noexcept {
  const std::size_t top = 2 * y * width + 2 * x;
  const float a = plane[top], b = plane[top + 1], c = plane[top + width], d = plane[top + width + 1];
  const bool down_left = c > a, down_right = d > b;
  const float left = down_left ? c : a, right = down_right ? d : b;
  const std::size_t left_at = down_left ? top + width : top, right_at = down_right ? top + 1 + width : top + 1;
  const bool take_right = right > left;
  index = static_cast<std::int32_t>(take_right ? right_at : left_at);
  return take_right ? right : left;
}

/// The x86 instruction set with vectors of half as many floats as Arch's (AVX-512 -> AVX2, AVX/AVX2 -> SSE2), or
/// void. The pooling kernels hand maps too narrow for Arch's vectors to it: a 14x14 map has 7 output columns, fewer
/// than AVX-512's 8 outputs per vector, and would otherwise be pooled window by window.
template <class Arch>
struct half_width_arch {
  using type = void;
};
#if XSIMD_WITH_AVX2
template <class Arch>
  requires(xsimd::batch<float, Arch>::size == 16)
struct half_width_arch<Arch> {
  using type = xsimd::avx2;
};
#endif
#if XSIMD_WITH_SSE2
template <class Arch>
  requires(xsimd::batch<float, Arch>::size == 8)
struct half_width_arch<Arch> {
  using type = xsimd::sse2;
};
#endif

struct even_lanes {
  static constexpr unsigned get(unsigned i, unsigned n) { return (2 * i) % n; }
};
struct odd_lanes {
  static constexpr unsigned get(unsigned i, unsigned n) { return (2 * i + 1) % n; }
};
struct duplicate_lanes {
  static constexpr unsigned get(unsigned i, unsigned) { return i / 2; }
};

}  // namespace detail

/// Reference forward: output = the maximum of each 2x2 window; argmax (may be empty) = its index y*in_width + x
/// within its input plane.
inline void maxpool2x2_forward_ref(const pool2x2_shape& s, std::span<const float> input, std::span<float> output,
                                   std::span<std::int32_t> argmax) {
  detail::check_pool_forward("hwnas::kernels::maxpool2x2_forward_ref", s, input.size(), output.size(),
                             argmax.size());
  const std::size_t rows = s.out_height(), cols = s.out_width(), plane = s.in_height * s.in_width;
  for (std::size_t p = 0; p < s.planes(); ++p)
    for (std::size_t y = 0; y < rows; ++y)
      for (std::size_t x = 0; x < cols; ++x) {
        std::int32_t index;
        const std::size_t o = (p * rows + y) * cols + x;
        output[o] = detail::pool_window(input.data() + p * plane, s.in_width, y, x, index);
        if (!argmax.empty()) argmax[o] = index;
      }
}

/// Reference backward: grad_input (overwritten) is zero except at each window's argmax, which receives the
/// window's grad_output. An argmax that does not point inside its own window contributes nothing (it can never
/// make a kernel write out of bounds).
inline void maxpool2x2_backward_ref(const pool2x2_shape& s, std::span<const float> grad_output,
                                    std::span<const std::int32_t> argmax, std::span<float> grad_input) {
  detail::check_pool_backward("hwnas::kernels::maxpool2x2_backward_ref", s, grad_output.size(), argmax.size(),
                              grad_input.size());
  const std::size_t rows = s.out_height(), cols = s.out_width(), width = s.in_width;
  const std::size_t plane = s.in_height * width;
  std::fill(grad_input.begin(), grad_input.end(), 0.0f);
  for (std::size_t p = 0; p < s.planes(); ++p)
    for (std::size_t y = 0; y < rows; ++y)
      for (std::size_t x = 0; x < cols; ++x) {
        const std::size_t o = (p * rows + y) * cols + x;
        for (std::size_t dy = 0; dy < 2; ++dy)
          for (std::size_t dx = 0; dx < 2; ++dx) {
            const std::size_t at = (2 * y + dy) * width + 2 * x + dx;
            if (argmax[o] == static_cast<std::int32_t>(at)) grad_input[p * plane + at] = grad_output[o];
          }
      }
}

/// Forward max-pooling, same contract as maxpool2x2_forward_ref (the same argmax, ties included). Pass an empty
/// argmax for inference. @tparam Arch the xsimd instruction set.
template <class Arch = xsimd::default_arch>
void maxpool2x2_forward(const pool2x2_shape& s, std::span<const float> input, std::span<float> output,
                        std::span<std::int32_t> argmax) {
  using batch = xsimd::batch<float, Arch>;
  using ubatch = xsimd::batch<std::uint32_t, Arch>;
  constexpr std::size_t lanes = batch::size, half = lanes / 2;
  detail::check_pool_forward("hwnas::kernels::maxpool2x2_forward", s, input.size(), output.size(), argmax.size());
  using narrower = typename detail::half_width_arch<Arch>::type;
  if constexpr (!std::is_void_v<narrower>) {
    if (s.out_width() < half) return maxpool2x2_forward<narrower>(s, input, output, argmax);
  }
  const std::size_t width = s.in_width, rows = s.out_height(), cols = s.out_width();
  const std::size_t plane = s.in_height * width;
  const bool record = !argmax.empty();
  constexpr auto evens = xsimd::make_batch_constant<ubatch, detail::even_lanes>();
  constexpr auto odds = xsimd::make_batch_constant<ubatch, detail::odd_lanes>();
  alignas(64) float iota_values[lanes];
  for (std::size_t i = 0; i < lanes; ++i) iota_values[i] = static_cast<float>(i);
  const batch iota = batch::load_aligned(iota_values);
  const batch below(static_cast<float>(width)), zero(0.0f);
  const std::size_t total = s.output_size();
  alignas(64) float values[lanes];
  alignas(64) std::int32_t indices[lanes];

  // Outputs [ox, ox + half) of output row y from input columns [2*ox, 2*ox + lanes). The even/odd swizzles leave
  // the results in the lower half of a vector; the whole vector is stored and its upper half is overwritten by the
  // next chunk (or the next row, processed later). Only where it would run past the buffer does it go through a
  // temporary.
  auto chunk = [&](const float* in_plane, std::size_t y, std::size_t ox, std::size_t out_pos) {
    const float* r0 = in_plane + 2 * y * width + 2 * ox;
    const batch a = batch::load_unaligned(r0), b = batch::load_unaligned(r0 + width);
    const auto down = b > a;
    const batch v = xsimd::select(down, b, a);
    const batch ve = xsimd::swizzle(v, evens), vo = xsimd::swizzle(v, odds);
    const auto right = vo > ve;
    const batch m = xsimd::select(right, vo, ve);
    const bool room = out_pos + lanes <= total;
    if (room) {
      m.store_unaligned(output.data() + out_pos);
    } else {
      m.store_aligned(values);
      std::copy(values, values + half, output.data() + out_pos);
    }
    if (record) {
      // indices as floats: exact, since a plane holds at most 2^24 pixels
      const auto corner = static_cast<std::int32_t>(2 * y * width + 2 * ox);
      const batch i = batch(static_cast<float>(corner)) + iota + xsimd::select(down, below, zero);
      const batch ie = xsimd::swizzle(i, evens), io = xsimd::swizzle(i, odds);
      const auto idx = xsimd::to_int(xsimd::select(right, io, ie));
      if (room) {
        idx.store_unaligned(argmax.data() + out_pos);
      } else {
        idx.store_aligned(indices);
        std::copy(indices, indices + half, argmax.data() + out_pos);
      }
    }
  };

  for (std::size_t p = 0; p < s.planes(); ++p) {
    const float* in_plane = input.data() + p * plane;
    for (std::size_t y = 0; y < rows; ++y) {
      const std::size_t row_pos = (p * rows + y) * cols;
      if (cols < half) {
        for (std::size_t x = 0; x < cols; ++x) {
          std::int32_t index;
          output[row_pos + x] = detail::pool_window(in_plane, width, y, x, index);
          if (record) argmax[row_pos + x] = index;
        }
        continue;
      }
      std::size_t ox = 0;
      for (; ox + half <= cols; ox += half) chunk(in_plane, y, ox, row_pos + ox);
      if (ox < cols) chunk(in_plane, y, cols - half, row_pos + cols - half);  // overlaps the previous chunk
    }
  }
}

/// Backward max-pooling, same contract as maxpool2x2_backward_ref. Computed as a gather: every input pixel is
/// written once (the window's gradient where argmax points at it, 0 elsewhere), so no separate zeroing pass.
/// @tparam Arch the xsimd instruction set.
template <class Arch = xsimd::default_arch>
void maxpool2x2_backward(const pool2x2_shape& s, std::span<const float> grad_output,
                         std::span<const std::int32_t> argmax, std::span<float> grad_input) {
  using batch = xsimd::batch<float, Arch>;
  using ibatch = xsimd::batch<std::int32_t, Arch>;
  using ubatch = xsimd::batch<std::uint32_t, Arch>;
  constexpr std::size_t lanes = batch::size, half = lanes / 2;
  detail::check_pool_backward("hwnas::kernels::maxpool2x2_backward", s, grad_output.size(), argmax.size(),
                              grad_input.size());
  using narrower = typename detail::half_width_arch<Arch>::type;
  if constexpr (!std::is_void_v<narrower>) {
    if (2 * s.out_width() < lanes) return maxpool2x2_backward<narrower>(s, grad_output, argmax, grad_input);
  }
  const std::size_t width = s.in_width, height = s.in_height, rows = s.out_height(), cols = s.out_width();
  const std::size_t plane = height * width, span = 2 * cols;  // input columns covered by windows
  const std::size_t total = s.output_size();
  constexpr auto pairs = xsimd::make_batch_constant<ubatch, detail::duplicate_lanes>();
  alignas(64) float iota_values[lanes];
  for (std::size_t i = 0; i < lanes; ++i) iota_values[i] = static_cast<float>(i);
  const batch iota = batch::load_aligned(iota_values), zero(0.0f);
  const float* go_all = grad_output.data();
  const std::int32_t* arg_all = argmax.data();
  for (std::size_t p = 0; p < s.planes(); ++p) {
    float* gi = grad_input.data() + p * plane;
    for (std::size_t y = 0; y < rows; ++y) {
      const std::size_t row_pos = (p * rows + y) * cols;
      const float* go = go_all + row_pos;
      const std::int32_t* arg = arg_all + row_pos;
      for (std::size_t dy = 0; dy < 2; ++dy) {
        const std::size_t r = 2 * y + dy;
        float* out = gi + r * width;
        auto vector_at = [&](std::size_t j) {
          const batch g = xsimd::swizzle(batch::load_unaligned(go + j / 2), pairs);
          // converted before the swizzle: AVX (without AVX2) swizzles floats only
          const batch at = xsimd::swizzle(xsimd::to_float(ibatch::load_unaligned(arg + j / 2)), pairs);
          const batch here = iota + batch(static_cast<float>(static_cast<std::int32_t>(r * width + j)));
          xsimd::select(at == here, g, zero).store_unaligned(out + j);
        };
        // a vector of input columns needs half a vector of outputs but loads a whole one: stay inside the buffer
        if (span >= lanes && row_pos + span / 2 + half <= total) {
          std::size_t j = 0;
          for (; j + lanes <= span; j += lanes) vector_at(j);
          if (j < span) vector_at(span - lanes);  // overlaps the previous vector: same values
        } else {
          for (std::size_t j = 0; j < span; ++j) {
            const float g = go[j / 2];
            out[j] = arg[j / 2] == static_cast<std::int32_t>(r * width + j) ? g : 0.0f;
          }
        }
        if (span < width) out[span] = 0.0f;  // odd width: the last column is in no window
      }
    }
    if (2 * rows < height) std::fill(gi + 2 * rows * width, gi + plane, 0.0f);  // odd height: the last row
  }
}

}  // namespace hwnas::kernels
