#pragma once
/// @file
/// Integer inference: a trained, fully quantized network reduced to what an FPGA holds — integer weight and bias
/// codes and their formats — run with the integer kernels only (kernels/integer.hpp): input quantization,
/// conv + bias + ReLU + requantization, max-pool on codes, and the classifier's raw accumulators, whose argmax is
/// the prediction. No float touches a value after the input quantization. Made by network::to_integer()
/// (nn/network.hpp); the QAT forward of that network computes exactly the same codes (docs/training.md).

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include <xsimd/xsimd.hpp>

#include "hwnas/core/architecture.hpp"
#include "hwnas/core/error.hpp"
#include "hwnas/core/parallel.hpp"
#include "hwnas/core/qformat.hpp"
#include "hwnas/io/dataset.hpp"
#include "hwnas/kernels/integer.hpp"

namespace hwnas::nn {

/// The integer view of one forward pass, as the hardware computes it (network::trace and integer_network::trace
/// return the same values, bit for bit).
struct forward_trace {
  /// Per conv layer: its output codes after the optional pooling, (B, M, Hp, Wp) — what the next layer reads.
  std::vector<std::vector<std::int32_t>> activations;
  /// (B, classes): the classifier's accumulators, bias included, with F_in + F_w fraction bits.
  std::vector<std::int64_t> logits;
};

/// One compute layer of an integer network: codes and formats, nothing else.
struct integer_layer {
  qformat input_format;   ///< unsigned codes read by the layer
  qformat weight_format;  ///< signed weight codes
  qformat output_format;  ///< unsigned codes written after ReLU + requantization (unused by the classifier)
  /// Weight codes, (M, N, K, K) for a conv layer, (classes, features) for the classifier.
  std::vector<std::int16_t> weights;
  /// Bias codes (M) in the accumulator's format: input_format.frac_bits + weight_format.frac_bits fraction bits.
  std::vector<std::int32_t> bias;
};

namespace detail {

/// Calls f(A{}, O{}) with the code types (uint8 for <= 8 bits, else uint16) of an input and an output format.
template <class F>
void with_code_types(const qformat& in, const qformat& out, F&& f) {
  const bool in8 = in.bits() <= 8, out8 = out.bits() <= 8;
  if (in8 && out8) f(std::uint8_t{}, std::uint8_t{});
  else if (in8) f(std::uint8_t{}, std::uint16_t{});
  else if (out8) f(std::uint16_t{}, std::uint8_t{});
  else f(std::uint16_t{}, std::uint16_t{});
}

/// Per-thread scratch of integer inference (two code buffers and the logits).
struct integer_scratch {
  std::vector<std::uint16_t> a, b;  // uint16 storage, viewed as uint8 for narrow formats
  std::vector<std::int64_t> logits;
};
inline integer_scratch& thread_integer_scratch() {
  thread_local integer_scratch s;
  return s;
}

}  // namespace detail

/// A fully quantized CNN as integer codes, run with integer arithmetic only.
class integer_network {
 public:
  /// Images per kernel call inside predict(): buffers stay in L2 and every thread gets work.
  static constexpr std::size_t chunk = 64;

  /// Takes the architecture (fully quantized: every layer and the classifier have formats) and one
  /// integer_layer per conv layer plus one for the classifier. Validates shapes, formats and code ranges.
  /// @throws hwnas::invalid_argument naming the layer and the problem
  integer_network(architecture arch, std::vector<integer_layer> layers)
      : arch_(std::move(arch)), layers_(std::move(layers)) {
    geometry_ = geometry(arch_);
    if (!arch_.fully_quantized())
      throw invalid_argument("integer_network: the architecture is not fully quantized; every conv layer needs "
                             "weight and activation formats and the classifier a weight format");
    if (layers_.size() != geometry_.size())
      throw invalid_argument("integer_network: " + std::to_string(layers_.size()) + " layers given, the architecture has " +
                             std::to_string(geometry_.size()) + " (conv layers + classifier)");
    packed_.reserve(layers_.size());
    qformat in = arch_.effective_input_format();
    for (std::size_t l = 0; l < layers_.size(); ++l) {
      const auto& g = geometry_[l];
      auto& L = layers_[l];
      const std::string where = "integer_network: layer " + std::to_string(l) + (g.is_classifier ? " (classifier)" : "");
      const qformat wf = g.is_classifier ? *arch_.classifier.weight_format : *arch_.layers[l].weight_format;
      const qformat of = g.is_classifier ? qformat::activation(0, 8) : *arch_.layers[l].activation_format;
      if (L.input_format != in || L.weight_format != wf || (!g.is_classifier && L.output_format != of))
        throw invalid_argument(where + ": formats disagree with the architecture");
      if (L.weights.size() != static_cast<std::size_t>(g.weight_count()))
        throw invalid_argument(where + ": " + std::to_string(L.weights.size()) + " weight codes, expected " +
                               std::to_string(g.weight_count()));
      if (L.bias.size() != static_cast<std::size_t>(g.out_channels))
        throw invalid_argument(where + ": " + std::to_string(L.bias.size()) + " bias codes, expected " +
                               std::to_string(g.out_channels));
      packed_.emplace_back(L.weights.data(), g.out_channels, g.in_channels, g.kernel, wf);
      in = of;
    }
  }

  /// The architecture (with its formats).
  const architecture& arch() const noexcept { return arch_; }
  /// One entry per conv layer, then the classifier.
  const std::vector<integer_layer>& layers() const noexcept { return layers_; }

  /// Predicted class (argmax of the integer logits, first maximum on ties) of `count` images (count, C, H, W)
  /// with values in [0, 1], quantized to the input format first. The threads of `pool` take chunks of images as
  /// they become free.
  void predict(const float* images, std::size_t count, std::int32_t* classes, thread_pool* pool = nullptr) const {
    const std::size_t in_size = static_cast<std::size_t>(arch_.input.size());
    const std::size_t k = static_cast<std::size_t>(arch_.classes);
    auto body = [&](std::size_t b, std::size_t end, std::size_t) {
      auto& s = detail::thread_integer_scratch();
      const std::size_t n = end - b;
      run(images + b * in_size, n, s, nullptr);
      for (std::size_t i = 0; i < n; ++i) {
        const std::int64_t* z = s.logits.data() + i * k;
        classes[b + i] = static_cast<std::int32_t>(std::max_element(z, z + k) - z);
      }
    };
    if (pool && pool->size() > 1) {
      parallel_for_dynamic(*pool, 0, count, chunk, body);
    } else {
      for (std::size_t b = 0; b < count; b += chunk) body(b, std::min(count, b + chunk), 0);
    }
  }

  /// Fraction of `data` classified correctly.
  double accuracy(const io::dataset& data, thread_pool* pool = nullptr) const {
    check_input(data);
    std::vector<std::int32_t> pred(data.size());
    predict(data.images.data(), data.size(), pred.data(), pool);
    std::size_t correct = 0;
    for (std::size_t i = 0; i < pred.size(); ++i) correct += pred[i] == data.labels(i);
    return data.size() ? static_cast<double>(correct) / static_cast<double>(data.size()) : 0.0;
  }

  /// Every layer's output codes and the logits of `count` images (tests compare this with network::trace).
  forward_trace trace(const float* images, std::size_t count) const {
    forward_trace t;
    auto& s = detail::thread_integer_scratch();
    run(images, count, s, &t);
    t.logits.assign(s.logits.begin(), s.logits.begin() + static_cast<std::ptrdiff_t>(count * arch_.classes));
    return t;
  }

 private:
  void check_input(const io::dataset& data) const {
    if (data.empty()) return;
    if (data.channels() != static_cast<std::size_t>(arch_.input.channels) ||
        data.height() != static_cast<std::size_t>(arch_.input.height) ||
        data.width() != static_cast<std::size_t>(arch_.input.width))
      throw invalid_argument("integer_network: the data's images are " + std::to_string(data.channels()) + "x" +
                             std::to_string(data.height()) + "x" + std::to_string(data.width()) +
                             ", the architecture expects " + std::to_string(arch_.input.channels) + "x" +
                             std::to_string(arch_.input.height) + "x" + std::to_string(arch_.input.width));
  }

  /// The integer forward of n images on the calling thread; logits land in s.logits.
  void run(const float* images, std::size_t n, detail::integer_scratch& s, forward_trace* trace) const {
    const int batch = static_cast<int>(n);
    std::size_t biggest = static_cast<std::size_t>(arch_.input.size());
    for (const auto& g : geometry_)
      biggest = std::max(biggest, static_cast<std::size_t>(g.out_channels) * g.out_height * g.out_width);
    if (s.a.size() < n * biggest) {
      s.a.resize(n * biggest);
      s.b.resize(n * biggest);
    }
    s.logits.resize(n * static_cast<std::size_t>(arch_.classes));
    std::uint16_t* cur = s.a.data();
    std::uint16_t* next = s.b.data();
    qformat in = arch_.effective_input_format();
    const std::size_t pixels = n * static_cast<std::size_t>(arch_.input.size());
    if (in.bits() <= 8)
      kernels::quantize_input(images, pixels, in, reinterpret_cast<std::uint8_t*>(cur));
    else
      kernels::quantize_input(images, pixels, in, cur);
    for (std::size_t l = 0; l + 1 < layers_.size(); ++l) {
      const auto& g = geometry_[l];
      const auto& L = layers_[l];
      const kernels::int_conv_shape shape{batch, g.in_channels, g.in_height, g.in_width, g.out_channels, g.kernel,
                                          g.stride};
      detail::with_code_types(L.input_format, L.output_format, [&]<class A, class O>(A, O) {
        if (g.pool == 2)  // pooled while each plane is in L1: the full-size map is never written
          kernels::int_conv2d_maxpool2(shape, reinterpret_cast<const A*>(cur), L.input_format, packed_[l],
                                       L.bias.data(), reinterpret_cast<O*>(next), L.output_format);
        else
          kernels::int_conv2d(shape, reinterpret_cast<const A*>(cur), L.input_format, packed_[l], L.bias.data(),
                              reinterpret_cast<O*>(next), L.output_format);
      });
      std::swap(cur, next);
      if (trace) {
        const std::size_t sz = n * static_cast<std::size_t>(g.out_channels) * g.pooled_height * g.pooled_width;
        std::vector<std::int32_t> codes(sz);
        if (L.output_format.bits() <= 8) {
          const auto* p = reinterpret_cast<const std::uint8_t*>(cur);
          for (std::size_t i = 0; i < sz; ++i) codes[i] = p[i];
        } else {
          for (std::size_t i = 0; i < sz; ++i) codes[i] = cur[i];
        }
        trace->activations.push_back(std::move(codes));
      }
      in = L.output_format;
    }
    const auto& L = layers_.back();
    if (in.bits() <= 8)
      kernels::int_dense_acc(batch, reinterpret_cast<const std::uint8_t*>(cur), in, packed_.back(), L.bias.data(),
                             s.logits.data());
    else
      kernels::int_dense_acc(batch, cur, in, packed_.back(), L.bias.data(), s.logits.data());
  }

  architecture arch_;
  std::vector<integer_layer> layers_;
  std::vector<layer_geometry> geometry_;
  std::vector<kernels::packed_weights> packed_;
};

}  // namespace hwnas::nn
