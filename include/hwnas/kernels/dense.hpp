#pragma once
/// @file
/// Fully connected (dense) layer, forward / backward-data / backward-weights, with scalar `*_ref` twins.
/// Layouts: input (batch, in_features), weights (out_features, in_features), bias (out_features),
/// output (batch, out_features), all dense row-major floats. The fast kernels are single-threaded calls of gemm.

#include <algorithm>
#include <cstddef>
#include <span>
#include <string_view>

#include <xsimd/xsimd.hpp>

#include <hwnas/kernels/detail/check.hpp>
#include <hwnas/kernels/gemm.hpp>

namespace hwnas::kernels {

/// Geometry of a dense layer: output = input x weights^T + bias.
struct dense_shape {
  std::size_t batch = 1;
  std::size_t in_features = 1;
  std::size_t out_features = 1;

  constexpr std::size_t input_size() const noexcept { return batch * in_features; }
  constexpr std::size_t weight_size() const noexcept { return out_features * in_features; }
  constexpr std::size_t bias_size() const noexcept { return out_features; }
  constexpr std::size_t output_size() const noexcept { return batch * out_features; }
  /// Floating-point operations of the forward pass (backward-data and backward-weights cost the same).
  constexpr double flops() const noexcept {
    return 2.0 * static_cast<double>(batch) * static_cast<double>(in_features) * static_cast<double>(out_features);
  }

  /// Throws hwnas::invalid_argument naming `kernel` when a feature count is 0 or a size is absurd. batch may be 0.
  void validate(std::string_view kernel) const {
    detail::check_positive(kernel, "dense_shape.in_features", in_features);
    detail::check_positive(kernel, "dense_shape.out_features", out_features);
    constexpr std::size_t limit = std::size_t{1} << 28;
    detail::check_at_most(kernel, "dense_shape.in_features", in_features, limit);
    detail::check_at_most(kernel, "dense_shape.out_features", out_features, limit);
    detail::check_at_most(kernel, "dense_shape.batch", batch, limit);
    detail::check_at_most(kernel, "the weights (out_features x in_features)", weight_size(), limit);
  }

  friend constexpr bool operator==(const dense_shape&, const dense_shape&) = default;
};

namespace detail {

inline void check_dense_forward(std::string_view name, const dense_shape& s, std::size_t input, std::size_t weights,
                                std::size_t bias, std::size_t output) {
  s.validate(name);
  check_size(name, "input", input, s.input_size(), "batch x in_features");
  check_size(name, "weights", weights, s.weight_size(), "out_features x in_features");
  if (bias != 0) check_size(name, "bias", bias, s.bias_size(), "out_features, or empty for no bias");
  check_size(name, "output", output, s.output_size(), "batch x out_features");
}

inline void check_dense_backward_data(std::string_view name, const dense_shape& s, std::size_t grad_output,
                                      std::size_t weights, std::size_t grad_input) {
  s.validate(name);
  check_size(name, "grad_output", grad_output, s.output_size(), "batch x out_features");
  check_size(name, "weights", weights, s.weight_size(), "out_features x in_features");
  check_size(name, "grad_input", grad_input, s.input_size(), "batch x in_features");
}

inline void check_dense_backward_weights(std::string_view name, const dense_shape& s, std::size_t input,
                                         std::size_t grad_output, std::size_t grad_weights,
                                         std::size_t grad_bias) {
  s.validate(name);
  check_size(name, "input", input, s.input_size(), "batch x in_features");
  check_size(name, "grad_output", grad_output, s.output_size(), "batch x out_features");
  check_size(name, "grad_weights", grad_weights, s.weight_size(), "out_features x in_features");
  if (grad_bias != 0) check_size(name, "grad_bias", grad_bias, s.bias_size(), "out_features, or empty to skip it");
}

}  // namespace detail

// ---- reference twins -------------------------------------------------------------------------------------------

/// Reference forward: output[b][o] = bias[o] + sum_i input[b][i] * weights[o][i]. `bias` may be empty.
inline void dense_forward_ref(const dense_shape& s, std::span<const float> input, std::span<const float> weights,
                              std::span<const float> bias, std::span<float> output) {
  detail::check_dense_forward("hwnas::kernels::dense_forward_ref", s, input.size(), weights.size(), bias.size(),
                              output.size());
  for (std::size_t b = 0; b < s.batch; ++b)
    for (std::size_t o = 0; o < s.out_features; ++o) {
      double acc = bias.empty() ? 0.0 : bias[o];
      for (std::size_t i = 0; i < s.in_features; ++i)
        acc += static_cast<double>(input[b * s.in_features + i]) * weights[o * s.in_features + i];
      output[b * s.out_features + o] = static_cast<float>(acc);
    }
}

/// Reference backward-data: grad_input[b][i] = sum_o grad_output[b][o] * weights[o][i] (overwritten).
inline void dense_backward_data_ref(const dense_shape& s, std::span<const float> grad_output,
                                    std::span<const float> weights, std::span<float> grad_input) {
  detail::check_dense_backward_data("hwnas::kernels::dense_backward_data_ref", s, grad_output.size(),
                                    weights.size(), grad_input.size());
  for (std::size_t b = 0; b < s.batch; ++b)
    for (std::size_t i = 0; i < s.in_features; ++i) {
      double acc = 0.0;
      for (std::size_t o = 0; o < s.out_features; ++o)
        acc += static_cast<double>(grad_output[b * s.out_features + o]) * weights[o * s.in_features + i];
      grad_input[b * s.in_features + i] = static_cast<float>(acc);
    }
}

/// Reference backward-weights: grad_weights[o][i] = beta * grad_weights[o][i] + sum_b grad_output[b][o] *
/// input[b][i], grad_bias[o] = beta * grad_bias[o] + sum_b grad_output[b][o] (skipped when empty). beta == 0
/// overwrites (old contents ignored), beta == 1 accumulates slices of a batch.
inline void dense_backward_weights_ref(const dense_shape& s, std::span<const float> input,
                                       std::span<const float> grad_output, std::span<float> grad_weights,
                                       std::span<float> grad_bias, float beta = 0.0f) {
  detail::check_dense_backward_weights("hwnas::kernels::dense_backward_weights_ref", s, input.size(),
                                       grad_output.size(), grad_weights.size(), grad_bias.size());
  for (std::size_t o = 0; o < s.out_features; ++o) {
    for (std::size_t i = 0; i < s.in_features; ++i) {
      double acc = 0.0;
      for (std::size_t b = 0; b < s.batch; ++b)
        acc += static_cast<double>(grad_output[b * s.out_features + o]) * input[b * s.in_features + i];
      float& dst = grad_weights[o * s.in_features + i];
      dst = beta == 0.0f ? static_cast<float>(acc) : static_cast<float>(beta * dst + acc);
    }
    if (!grad_bias.empty()) {
      double acc = 0.0;
      for (std::size_t b = 0; b < s.batch; ++b) acc += grad_output[b * s.out_features + o];
      grad_bias[o] = beta == 0.0f ? static_cast<float>(acc) : static_cast<float>(beta * grad_bias[o] + acc);
    }
  }
}

// ---- fast kernels ------------------------------------------------------------------------------------------------

/// Forward, same contract as dense_forward_ref: one gemm, single-threaded. @tparam Arch the xsimd instruction set.
template <class Arch = xsimd::default_arch>
void dense_forward(const dense_shape& s, std::span<const float> input, std::span<const float> weights,
                   std::span<const float> bias, std::span<float> output) {
  detail::check_dense_forward("hwnas::kernels::dense_forward", s, input.size(), weights.size(), bias.size(),
                              output.size());
  if (s.batch == 0) return;
  const std::size_t o = s.out_features, i = s.in_features;
  if (!bias.empty())
    for (std::size_t b = 0; b < s.batch; ++b) std::copy(bias.begin(), bias.end(), output.begin() + b * o);
  gemm<Arch>(transpose::no, transpose::yes, s.batch, o, i, 1.0f, input.data(), i, weights.data(), i,
             bias.empty() ? 0.0f : 1.0f, output.data(), o);
}

/// Backward-data, same contract as dense_backward_data_ref. @tparam Arch the xsimd instruction set.
template <class Arch = xsimd::default_arch>
void dense_backward_data(const dense_shape& s, std::span<const float> grad_output, std::span<const float> weights,
                         std::span<float> grad_input) {
  detail::check_dense_backward_data("hwnas::kernels::dense_backward_data", s, grad_output.size(), weights.size(),
                                    grad_input.size());
  if (s.batch == 0) return;
  const std::size_t o = s.out_features, i = s.in_features;
  gemm<Arch>(transpose::no, transpose::no, s.batch, i, o, 1.0f, grad_output.data(), o, weights.data(), i, 0.0f,
             grad_input.data(), i);
}

/// Backward-weights and bias, same contract as dense_backward_weights_ref (beta = 0 overwrites, 1 accumulates).
/// @tparam Arch the xsimd instruction set.
template <class Arch = xsimd::default_arch>
void dense_backward_weights(const dense_shape& s, std::span<const float> input, std::span<const float> grad_output,
                            std::span<float> grad_weights, std::span<float> grad_bias, float beta = 0.0f) {
  detail::check_dense_backward_weights("hwnas::kernels::dense_backward_weights", s, input.size(),
                                       grad_output.size(), grad_weights.size(), grad_bias.size());
  const std::size_t o = s.out_features, i = s.in_features;
  if (!grad_bias.empty())
    for (std::size_t j = 0; j < o; ++j) {
      float acc = 0.0f;
      for (std::size_t b = 0; b < s.batch; ++b) acc += grad_output[b * o + j];
      grad_bias[j] = beta == 0.0f ? acc : beta * grad_bias[j] + acc;
    }
  if (s.batch == 0) {
    if (beta == 0.0f)
      std::fill(grad_weights.begin(), grad_weights.end(), 0.0f);
    else
      for (auto& g : grad_weights) g *= beta;
    return;
  }
  gemm<Arch>(transpose::yes, transpose::no, o, i, s.batch, 1.0f, grad_output.data(), o, input.data(), i, beta,
             grad_weights.data(), i);
}

}  // namespace hwnas::kernels
