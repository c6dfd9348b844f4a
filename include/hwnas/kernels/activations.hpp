#pragma once
/// @file
/// ReLU forward and backward, elementwise over any tensor, with scalar `*_ref` twins.

#include <cstddef>
#include <span>
#include <string_view>

#include <xsimd/xsimd.hpp>

#include <hwnas/kernels/detail/check.hpp>

namespace hwnas::kernels {

/// Reference ReLU: y[i] = max(x[i], 0). `y` may be `x` itself (in place). Throws hwnas::invalid_argument when the
/// sizes differ.
inline void relu_forward_ref(std::span<const float> x, std::span<float> y) {
  detail::check_size("hwnas::kernels::relu_forward_ref", "y", y.size(), x.size(), "the size of x");
  for (std::size_t i = 0; i < x.size(); ++i) y[i] = x[i] > 0.0f ? x[i] : 0.0f;
}

/// Reference ReLU backward: grad_x[i] = grad_y[i] if y[i] > 0, else 0 (the derivative at 0 is taken as 0).
/// `y` is the forward output (the forward input works as well: both are > 0 at the same places). `grad_x` may be
/// `grad_y` itself.
inline void relu_backward_ref(std::span<const float> y, std::span<const float> grad_y, std::span<float> grad_x) {
  constexpr std::string_view name = "hwnas::kernels::relu_backward_ref";
  detail::check_size(name, "grad_y", grad_y.size(), y.size(), "the size of y");
  detail::check_size(name, "grad_x", grad_x.size(), y.size(), "the size of y");
  for (std::size_t i = 0; i < y.size(); ++i) grad_x[i] = y[i] > 0.0f ? grad_y[i] : 0.0f;
}

/// ReLU, same contract as relu_forward_ref. @tparam Arch the xsimd instruction set.
template <class Arch = xsimd::default_arch>
void relu_forward(std::span<const float> x, std::span<float> y) {
  using batch = xsimd::batch<float, Arch>;
  constexpr std::size_t lanes = batch::size;
  detail::check_size("hwnas::kernels::relu_forward", "y", y.size(), x.size(), "the size of x");
  const std::size_t n = x.size();
  const batch zero(0.0f);
  const std::size_t body = n - n % lanes;
  const float* px = x.data();
  float* py = y.data();
  for (std::size_t i = 0; i < body; i += lanes) xsimd::max(batch::load_unaligned(px + i), zero).store_unaligned(py + i);
  for (std::size_t i = body; i < n; ++i) py[i] = px[i] > 0.0f ? px[i] : 0.0f;
}

/// ReLU backward, same contract as relu_backward_ref. @tparam Arch the xsimd instruction set.
template <class Arch = xsimd::default_arch>
void relu_backward(std::span<const float> y, std::span<const float> grad_y, std::span<float> grad_x) {
  using batch = xsimd::batch<float, Arch>;
  constexpr std::size_t lanes = batch::size;
  constexpr std::string_view name = "hwnas::kernels::relu_backward";
  detail::check_size(name, "grad_y", grad_y.size(), y.size(), "the size of y");
  detail::check_size(name, "grad_x", grad_x.size(), y.size(), "the size of y");
  const std::size_t n = y.size();
  const batch zero(0.0f);
  const std::size_t body = n - n % lanes;
  const float *py = y.data(), *pg = grad_y.data();
  float* pd = grad_x.data();
  for (std::size_t i = 0; i < body; i += lanes)
    xsimd::select(batch::load_unaligned(py + i) > zero, batch::load_unaligned(pg + i), zero).store_unaligned(pd + i);
  for (std::size_t i = body; i < n; ++i) pd[i] = py[i] > 0.0f ? pg[i] : 0.0f;
}

}  // namespace hwnas::kernels
