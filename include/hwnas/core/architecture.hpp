#pragma once
/// @file
/// The architecture value: what a search space decodes a genome into, what nn/ trains and what fpga/ maps onto a
/// device. A plain value (regular, comparable), cheap to copy, with its derived geometry computed here once so
/// that the trainer and the cost models agree on every shape.
///
/// A network is a chain of conv layers (conv KxK 'same' + bias, ReLU, optional 2x2 max-pool), then a dense
/// classifier over the flattened features. Each layer carries its weight format (signed) and the format of the
/// activations it outputs (unsigned, after ReLU); no format means float. JSON: io/architecture_json.hpp,
/// documented in docs/architecture-json.md.

#include <algorithm>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "hwnas/core/error.hpp"
#include "hwnas/core/qformat.hpp"

namespace hwnas {

/// (channels, height, width) of one image or feature map.
struct tensor_shape {
  int channels = 1;
  int height = 28;
  int width = 28;
  friend constexpr bool operator==(const tensor_shape&, const tensor_shape&) = default;
  constexpr std::int64_t size() const noexcept { return std::int64_t{channels} * height * width; }
};

/// conv KxK (stride, TF 'same' padding) + bias -> ReLU -> optional 2x2/2 max-pool.
struct conv_layer {
  int filters = 16;  ///< M, output channels
  int kernel = 3;    ///< K, square kernel, 1..7
  int stride = 1;    ///< 1..3
  int pool = 1;      ///< 1: no pooling; 2: 2x2 max-pool with stride 2 (floor) after the ReLU
  std::optional<qformat> weight_format;      ///< signed; nullopt: float weights
  std::optional<qformat> activation_format;  ///< unsigned, of this layer's output; nullopt: float
  friend bool operator==(const conv_layer&, const conv_layer&) = default;
};

/// The dense classifier: flattened features -> `classes` logits. Its output stays in the accumulator (logits are
/// compared, never requantized).
struct classifier_layer {
  std::optional<qformat> weight_format;  ///< signed; nullopt: float
  friend bool operator==(const classifier_layer&, const classifier_layer&) = default;
};

/// A CNN: input -> conv layers -> classifier.
struct architecture {
  tensor_shape input{1, 28, 28};
  int classes = 10;
  /// Format of the input image codes (unsigned). Used when any layer is quantized; default u0.8, i.e. a pixel
  /// p/255 rounded to 8 fraction bits.
  std::optional<qformat> input_format;
  std::vector<conv_layer> layers;
  classifier_layer classifier;

  friend bool operator==(const architecture&, const architecture&) = default;

  /// True when any weight or activation is fixed point.
  bool quantized() const noexcept {
    if (classifier.weight_format || input_format) return true;
    for (const auto& l : layers)
      if (l.weight_format || l.activation_format) return true;
    return false;
  }
  /// True when every weight and activation has a format (the integer inference path needs this).
  bool fully_quantized() const noexcept {
    if (!classifier.weight_format) return false;
    for (const auto& l : layers)
      if (!l.weight_format || !l.activation_format) return false;
    return true;
  }
  /// The input format in force: input_format, or u0.8.
  qformat effective_input_format() const noexcept { return input_format.value_or(qformat::activation(0, 8)); }
};

/// The geometry of one compute layer (a conv layer, or the classifier seen as a 1x1 conv on a 1x1 map), shared by
/// training and the cost models. Naming as Lu'19 / FNAS: N inputs, M outputs, R x C output map, K x K kernel.
struct layer_geometry {
  bool is_classifier = false;
  int in_channels = 0;   ///< N
  int in_height = 0, in_width = 0;
  int out_channels = 0;  ///< M
  int out_height = 0, out_width = 0;  ///< R, C: conv output before pooling
  int kernel = 1, stride = 1, pool = 1;
  int pad_top = 0, pad_left = 0;      ///< TF 'same': pad_total = max((out-1)*stride + K - in, 0), before = total/2
  int pooled_height = 0, pooled_width = 0;  ///< after pooling (== out when pool == 1)
  /// Bit widths (0 when float): input activations a, weights w, output activations (0 for the classifier).
  int act_bits = 0, weight_bits = 0, out_bits = 0;
  /// Pixels of the map the layer reads, each with all its channels: H*W for a conv layer, the last feature map's
  /// H*W for the classifier (whose N = C*H*W). A streaming datapath reads one pixel per cycle.
  std::int64_t in_pixels = 1;
  /// Pixels (in raster order) the layer must have read before it can emit its first output: up to the first full
  /// K x K window, or, when it pools, the first full 2x2 window of outputs; 0 for the classifier (it answers after
  /// its last input). Its fill is this fraction of its frame time (docs/cost-models.md#latency).
  std::int64_t pixels_to_first_output = 0;

  constexpr std::int64_t macs() const noexcept {
    return std::int64_t{out_channels} * in_channels * out_height * out_width * kernel * kernel;
  }
  constexpr std::int64_t weight_count() const noexcept {
    return std::int64_t{out_channels} * in_channels * kernel * kernel;
  }
  constexpr tensor_shape output_shape() const noexcept { return {out_channels, pooled_height, pooled_width}; }
};

namespace detail {
constexpr int same_out(int in, int stride) noexcept { return (in + stride - 1) / stride; }
constexpr int same_pad_total(int in, int out, int k, int stride) noexcept {
  const int t = (out - 1) * stride + k - in;
  return t > 0 ? t : 0;
}
}  // namespace detail

/// Throws hwnas::invalid_argument, naming the layer and the rule, unless the architecture is well formed: positive
/// input dims, classes >= 2, filters 1..4096, kernel 1..7, stride 1..3, pool 1 or 2, every feature map at least
/// 1x1, valid formats (weights signed, activations unsigned, 1..16 bits).
inline void validate(const architecture& a) {
  auto fail = [](const std::string& where, const std::string& what) {
    throw invalid_argument("architecture: " + where + ": " + what);
  };
  if (a.input.channels < 1 || a.input.height < 1 || a.input.width < 1)
    fail("input", "channels, height and width must be >= 1");
  if (a.input.channels > 4096 || a.input.height > 4096 || a.input.width > 4096)
    fail("input", "dims over 4096 are not supported");
  if (a.classes < 2 || a.classes > 65536) fail("classes", "must be in 2..65536, got " + std::to_string(a.classes));
  if (a.input_format) {
    check(*a.input_format, "input format");
    if (a.input_format->is_signed) fail("input format", "input codes are unsigned (use u I.F)");
  }
  int h = a.input.height, w = a.input.width;
  for (std::size_t i = 0; i < a.layers.size(); ++i) {
    const auto& l = a.layers[i];
    const std::string where = "layer " + std::to_string(i);
    if (l.filters < 1 || l.filters > 4096) fail(where, "filters must be in 1..4096, got " + std::to_string(l.filters));
    if (l.kernel < 1 || l.kernel > 7) fail(where, "kernel must be in 1..7, got " + std::to_string(l.kernel));
    if (l.stride < 1 || l.stride > 3) fail(where, "stride must be in 1..3, got " + std::to_string(l.stride));
    if (l.pool != 1 && l.pool != 2) fail(where, "pool must be 1 (none) or 2 (2x2 max-pool), got " + std::to_string(l.pool));
    if (l.weight_format) {
      check(*l.weight_format, where + " weights");
      if (!l.weight_format->is_signed) fail(where, "weight formats are signed (use s I.F)");
    }
    if (l.activation_format) {
      check(*l.activation_format, where + " activations");
      if (l.activation_format->is_signed) fail(where, "activation formats are unsigned after ReLU (use u I.F)");
    }
    h = detail::same_out(h, l.stride);
    w = detail::same_out(w, l.stride);
    if (l.pool == 2) {
      h /= 2;
      w /= 2;
    }
    if (h < 1 || w < 1)
      fail(where, "the feature map shrinks to nothing (" + std::to_string(h) + "x" + std::to_string(w) +
                      "); use fewer strides or pools for a " + std::to_string(a.input.height) + "x" +
                      std::to_string(a.input.width) + " input");
  }
  // The classifier's inputs (C*H*W of the last feature map) are one int extent in layer_geometry and in the cost
  // models; 4096 filters on a 4096x4096 map would be 2^36 of them.
  const std::int64_t last_channels = a.layers.empty() ? a.input.channels : a.layers.back().filters;
  const std::int64_t classifier_inputs = last_channels * h * w;
  if (classifier_inputs > std::int64_t{std::numeric_limits<int>::max()})
    fail("classifier", "its input would have " + std::to_string(classifier_inputs) + " values (" +
                           std::to_string(last_channels) + " channels of " + std::to_string(h) + "x" +
                           std::to_string(w) + "), more than 2^31 - 1; add strides or pooling, or use fewer filters");
  if (a.classifier.weight_format) {
    check(*a.classifier.weight_format, "classifier weights");
    if (!a.classifier.weight_format->is_signed) fail("classifier", "weight formats are signed (use s I.F)");
  }
}

/// Per-layer geometry: one entry per conv layer, then the classifier. Validates first.
inline std::vector<layer_geometry> geometry(const architecture& a) {
  validate(a);
  std::vector<layer_geometry> out;
  out.reserve(a.layers.size() + 1);
  int c = a.input.channels, h = a.input.height, w = a.input.width;
  int act_bits = a.quantized() ? a.effective_input_format().bits() : 0;
  for (const auto& l : a.layers) {
    layer_geometry g;
    g.in_channels = c;
    g.in_height = h;
    g.in_width = w;
    g.out_channels = l.filters;
    g.kernel = l.kernel;
    g.stride = l.stride;
    g.pool = l.pool;
    g.out_height = detail::same_out(h, l.stride);
    g.out_width = detail::same_out(w, l.stride);
    g.pad_top = detail::same_pad_total(h, g.out_height, l.kernel, l.stride) / 2;
    g.pad_left = detail::same_pad_total(w, g.out_width, l.kernel, l.stride) / 2;
    g.pooled_height = l.pool == 2 ? g.out_height / 2 : g.out_height;
    g.pooled_width = l.pool == 2 ? g.out_width / 2 : g.out_width;
    g.act_bits = act_bits;
    g.weight_bits = l.weight_format ? l.weight_format->bits() : 0;
    g.out_bits = l.activation_format ? l.activation_format->bits() : 0;
    g.in_pixels = std::int64_t{h} * w;
    {  // the last input row/column the first (pooled) output needs, 0-based, clamped to the map
      const int reach = l.pool == 2 ? l.stride : 0;
      const int last_row = std::min(h - 1, reach + l.kernel - 1 - g.pad_top);
      const int last_col = std::min(w - 1, reach + l.kernel - 1 - g.pad_left);
      g.pixels_to_first_output = std::int64_t{last_row} * w + last_col + 1;
    }
    out.push_back(g);
    c = l.filters;
    h = g.pooled_height;
    w = g.pooled_width;
    act_bits = g.out_bits;
  }
  layer_geometry g;
  g.is_classifier = true;
  g.in_channels = c * h * w;
  g.in_height = g.in_width = 1;
  g.out_channels = a.classes;
  g.out_height = g.out_width = g.pooled_height = g.pooled_width = 1;
  g.act_bits = act_bits;
  g.weight_bits = a.classifier.weight_format ? a.classifier.weight_format->bits() : 0;
  g.in_pixels = std::int64_t{h} * w;
  g.pixels_to_first_output = 0;
  out.push_back(g);
  return out;
}

/// Total multiply-accumulates of one forward pass.
inline std::int64_t total_macs(const architecture& a) {
  std::int64_t n = 0;
  for (const auto& g : geometry(a)) n += g.macs();
  return n;
}

/// The reference CNN of issue 2: conv3x3 1->16, ReLU, maxpool2; conv3x3 16->32, ReLU, maxpool2; dense 1568->10.
inline architecture reference_cnn() {
  architecture a;
  a.input = {1, 28, 28};
  a.classes = 10;
  conv_layer first, second;
  first.filters = 16;
  first.pool = 2;
  second.filters = 32;
  second.pool = 2;
  a.layers = {first, second};
  return a;
}

/// Gives every layer the same bit width: weights signed Q0.(bits-1); activations unsigned Q1.(bits-1) (range
/// [0, 2)); input u0.8. bits in 2..16. Per-layer formats are for the JSON (or a search) to choose.
inline architecture with_uniform_bits(architecture a, int bits) {
  if (bits < 2 || bits > 16)
    throw invalid_argument("uniform bit width must be in 2..16, got " + std::to_string(bits));
  for (auto& l : a.layers) {
    l.weight_format = qformat::weight(0, bits - 1);
    l.activation_format = qformat::activation(1, bits - 1);
  }
  a.classifier.weight_format = qformat::weight(0, bits - 1);
  a.input_format = qformat::activation(0, 8);
  return a;
}

}  // namespace hwnas
