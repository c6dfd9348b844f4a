#pragma once
/// @file
/// Softmax cross-entropy over a batch of logits: the mean loss and its gradient with respect to the logits,
/// numerically stable (the row maximum is subtracted before exponentiating), with a scalar `*_ref` twin.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include <xsimd/xsimd.hpp>

#include <hwnas/core/error.hpp>
#include <hwnas/kernels/detail/check.hpp>

namespace hwnas::kernels {
namespace detail {

inline std::size_t check_softmax_xent(std::string_view name, std::size_t batch, std::size_t classes,
                                      std::size_t logits, std::span<const std::int32_t> labels, std::size_t grad,
                                      std::size_t total_batch) {
  check_positive(name, "classes", classes);
  check_at_most(name, "classes", classes, std::size_t{1} << 24);
  check_at_most(name, "batch", batch, std::size_t{1} << 28);
  check_size(name, "logits", logits, batch * classes, "batch x classes");
  check_size(name, "labels", labels.size(), batch, "batch");
  if (grad != 0) check_size(name, "grad_logits", grad, batch * classes, "batch x classes, or empty for the loss only");
  const std::size_t divisor = total_batch == 0 ? batch : total_batch;
  if (total_batch != 0 && total_batch < batch)
    throw invalid_argument(std::string(name) + ": total_batch = " + std::to_string(total_batch) +
                           " is smaller than this call's batch of " + std::to_string(batch) +
                           "; pass the size of the whole batch this slice belongs to, or 0");
  for (std::size_t b = 0; b < batch; ++b)
    if (labels[b] < 0 || static_cast<std::size_t>(labels[b]) >= classes)
      throw invalid_argument(std::string(name) + ": label " + std::to_string(labels[b]) + " of row " +
                             std::to_string(b) + " is outside [0, " + std::to_string(classes) +
                             "); labels are class indices");
  return divisor;
}

}  // namespace detail

/// Reference softmax cross-entropy (double arithmetic). For each row b: p = softmax(logits[b]),
/// loss_b = -log p[label_b]. Returns sum_b loss_b / D and writes grad_logits[b] = (p - onehot(label_b)) / D, where
/// D = total_batch, or this call's batch when total_batch is 0. Slices of one batch that pass the whole batch's size
/// as total_batch return parts that add up to the batch's mean loss, with gradients of that mean. `grad_logits`
/// may be empty (loss only). Returns 0 for an empty batch. Throws hwnas::invalid_argument on a label outside
/// [0, classes) or a size mismatch.
inline float softmax_cross_entropy_ref(std::size_t batch, std::size_t classes, std::span<const float> logits,
                                       std::span<const std::int32_t> labels, std::span<float> grad_logits,
                                       std::size_t total_batch = 0) {
  const std::size_t divisor =
      detail::check_softmax_xent("hwnas::kernels::softmax_cross_entropy_ref", batch, classes, logits.size(), labels,
                                 grad_logits.size(), total_batch);
  if (batch == 0) return 0.0f;
  double total = 0.0;
  for (std::size_t b = 0; b < batch; ++b) {
    const float* z = logits.data() + b * classes;
    double top = z[0];
    for (std::size_t c = 1; c < classes; ++c) top = std::max(top, static_cast<double>(z[c]));
    double sum = 0.0;
    for (std::size_t c = 0; c < classes; ++c) sum += std::exp(z[c] - top);
    const auto label = static_cast<std::size_t>(labels[b]);
    total += std::log(sum) - (z[label] - top);
    if (!grad_logits.empty())
      for (std::size_t c = 0; c < classes; ++c)
        grad_logits[b * classes + c] =
            static_cast<float>((std::exp(z[c] - top) / sum - (c == label ? 1.0 : 0.0)) / static_cast<double>(divisor));
  }
  return static_cast<float>(total / static_cast<double>(divisor));
}

/// Softmax cross-entropy, same contract as softmax_cross_entropy_ref, in float with xsimd exponentials along the
/// classes. @tparam Arch the xsimd instruction set.
template <class Arch = xsimd::default_arch>
float softmax_cross_entropy(std::size_t batch, std::size_t classes, std::span<const float> logits,
                            std::span<const std::int32_t> labels, std::span<float> grad_logits,
                            std::size_t total_batch = 0) {
  using batch_type = xsimd::batch<float, Arch>;
  constexpr std::size_t lanes = batch_type::size;
  const std::size_t divisor =
      detail::check_softmax_xent("hwnas::kernels::softmax_cross_entropy", batch, classes, logits.size(), labels,
                                 grad_logits.size(), total_batch);
  if (batch == 0) return 0.0f;
  const float scale = 1.0f / static_cast<float>(divisor);
  const std::size_t body = classes / lanes * lanes;
  double total = 0.0;
  for (std::size_t b = 0; b < batch; ++b) {
    const float* z = logits.data() + b * classes;
    float top = z[0];
    {
      std::size_t c = 0;
      if (body > 0) {
        batch_type m = batch_type::load_unaligned(z);
        for (c = lanes; c < body; c += lanes) m = xsimd::max(m, batch_type::load_unaligned(z + c));
        alignas(64) float lane_max[lanes];  // xsimd 8.1 has no reduce_max
        m.store_aligned(lane_max);
        top = *std::max_element(lane_max, lane_max + lanes);
      }
      for (; c < classes; ++c) top = std::max(top, z[c]);
    }
    // e = exp(z - top), kept in grad_logits when it is wanted, summed either way
    float* e = grad_logits.empty() ? nullptr : grad_logits.data() + b * classes;
    const batch_type shift(top);
    batch_type acc(0.0f);
    std::size_t c = 0;
    for (; c < body; c += lanes) {
      const batch_type v = xsimd::exp(batch_type::load_unaligned(z + c) - shift);
      acc += v;
      if (e) v.store_unaligned(e + c);
    }
    float sum = xsimd::hadd(acc);
    for (; c < classes; ++c) {
      const float v = std::exp(z[c] - top);
      sum += v;
      if (e) e[c] = v;
    }
    const auto label = static_cast<std::size_t>(labels[b]);
    total += static_cast<double>(std::log(sum) - (z[label] - top));
    if (e) {
      const batch_type k(scale / sum);
      for (c = 0; c < body; c += lanes) (batch_type::load_unaligned(e + c) * k).store_unaligned(e + c);
      for (; c < classes; ++c) e[c] *= scale / sum;
      e[label] -= scale;
    }
  }
  return static_cast<float>(total / static_cast<double>(divisor));
}

}  // namespace hwnas::kernels
