#pragma once
/// @file
/// The runtime network: a CNN built from an `architecture` value (the search builds thousands, so construction only
/// computes the geometry and draws the initial weights), trained in float or with quantization-aware training (QAT),
/// and exported to an integer_network for integer-only inference.
///
/// - Float mode (no layer has a format): conv + bias, ReLU, 2x2 max-pool, dense classifier, softmax cross-entropy.
/// - QAT mode (every layer has weight and activation formats, architecture::fully_quantized()): the forward pass
///   computes exactly the integer path's codes — input quantization, weights rounded to their format, bias in the
///   accumulator's format, ReLU + requantization (round half away from zero, saturate) to each layer's activation
///   format, max-pool on codes, integer logits — and keeps the dequantized values (code * 2^-F) for the backward
///   pass, which uses the straight-through estimator: an activation's gradient passes where its pre-activation lies
///   in (0, max) of its format and is zero outside; weight gradients pass to latent float weights, which are clipped
///   to the format's range after each step. See docs/training.md for why the forward is bit-exact.
/// - A mixed architecture (some layers quantized, some not) is rejected: its integer path would not be defined.
///
/// Threading: a batch is cut into `slices` contiguous slices; the threads of a hwnas::thread_pool each run forward
/// and backward on their slices with single-threaded kernels and their own scratch, each slice writing its own
/// gradient buffer; the buffers are summed once per batch in slice order. Results therefore depend on the number
/// of slices (default: one per thread) but not on which thread runs which slice.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include <xsimd/xsimd.hpp>

#include "hwnas/core/architecture.hpp"
#include "hwnas/core/error.hpp"
#include "hwnas/core/parallel.hpp"
#include "hwnas/core/qformat.hpp"
#include "hwnas/core/rng.hpp"
#include "hwnas/kernels/activations.hpp"
#include "hwnas/kernels/conv2d.hpp"
#include "hwnas/kernels/conv2d_shape.hpp"
#include "hwnas/kernels/dense.hpp"
#include "hwnas/kernels/integer.hpp"
#include "hwnas/kernels/pooling.hpp"
#include "hwnas/kernels/softmax_xent.hpp"
#include "hwnas/kernels/workspace.hpp"
#include "hwnas/nn/detail/qat.hpp"
#include "hwnas/nn/integer_network.hpp"
#include "hwnas/nn/optimizer.hpp"

namespace hwnas::nn {

/// Summed loss and correct predictions of a batch (or of a whole data set).
struct batch_stats {
  double loss_sum = 0.0;    ///< sum over the images of the cross-entropy (natural log)
  std::size_t correct = 0;  ///< images whose largest logit is their label's (first maximum on ties)
  std::size_t count = 0;    ///< images

  double mean_loss() const noexcept { return count ? loss_sum / static_cast<double>(count) : 0.0; }
  double accuracy() const noexcept { return count ? static_cast<double>(correct) / static_cast<double>(count) : 0.0; }
  batch_stats& operator+=(const batch_stats& o) noexcept {
    loss_sum += o.loss_sum;
    correct += o.correct;
    count += o.count;
    return *this;
  }
};

/// Where a layer's weights and bias live in network::parameters().
struct parameter_block {
  std::size_t layer = 0;      ///< conv layer index, or the number of conv layers for the classifier
  std::size_t offset = 0;     ///< first element in parameters()
  std::size_t size = 0;       ///< elements
  bool is_weight = true;      ///< weights (decayed, He-initialized) or bias (zero-initialized, not decayed)
  std::int64_t fan_in = 0;    ///< N * K * K (conv) or features (classifier)
};

namespace detail {

/// How one compute layer runs (derived once from the architecture).
struct layer_plan {
  layer_geometry geo;
  kernels::conv2d_shape shape;  ///< batch set per call
  std::size_t w_offset = 0, b_offset = 0;
  std::size_t bias_index = 0;   ///< first of this layer's codes in the network's bias-code array (QAT)
  std::size_t in_size = 0;      ///< floats per image entering the layer
  std::size_t out_size = 0;     ///< per image, before pooling (conv) or classes (classifier)
  std::size_t pooled_size = 0;  ///< per image, after pooling
  // QAT
  qformat in_fmt{}, w_fmt{}, out_fmt{};
  int acc_frac = 0;
  bool float_exact = true;      ///< the float kernels compute this layer's accumulators exactly
  epilogue_params epi;
  std::int32_t bias_limit = 0;  ///< bias codes are clamped to +-bias_limit
  float bias_max = 0.0f;        ///< latent bias clip, about bias_limit * 2^-acc_frac
};

/// A thread's scratch for one slice: activations kept for backward, gradients, kernel workspace.
struct slice_scratch {
  kernels::workspace ws;
  std::size_t images = 0;                  // the buffers hold this many images
  std::vector<float> input;                // QAT: dequantized input codes
  std::vector<std::uint16_t> codes;        // QAT: activation codes (input quantization, integer-path layers)
  std::vector<float> z;                    // conv output before pooling (pooled layers)
  std::vector<std::vector<float>> out;     // per conv layer: its output after ReLU / requantization and pooling
  std::vector<std::vector<float>> mask;    // per conv layer, QAT: the straight-through estimator's 0/1 mask
  std::vector<std::vector<std::int32_t>> argmax;  // per pooled conv layer: the window winners
  std::vector<std::int64_t> acc;           // QAT integer path: accumulators
  std::vector<float> full_mask;            // QAT integer path: the mask before pooling
  std::vector<float> logits;               // (B, classes), dequantized in QAT
  std::vector<std::int64_t> int_logits;    // QAT: exact integer logits
  std::vector<float> grad_a, grad_b;       // ping-pong activation gradients
};

inline std::int32_t argmax_row(const float* z, std::size_t k) noexcept {
  return static_cast<std::int32_t>(std::max_element(z, z + k) - z);
}
inline std::int32_t argmax_row(const std::int64_t* z, std::size_t k) noexcept {
  return static_cast<std::int32_t>(std::max_element(z, z + k) - z);
}

/// Rounds half away from zero and clamps to +-limit: the bias code of a latent bias.
inline std::int32_t bias_code(float b, int acc_frac, std::int32_t limit) noexcept {
  const double x = std::round(static_cast<double>(b) * std::ldexp(1.0, acc_frac));
  if (!(x == x)) return 0;
  return static_cast<std::int32_t>(std::clamp(x, -double(limit), double(limit)));
}

}  // namespace detail

/// A CNN built at run time from an architecture; float or QAT according to its formats.
class network {
 public:
  /// Builds the network and draws He-normal weights (zero biases) from `seed`.
  /// @throws hwnas::invalid_argument for an invalid or partly quantized architecture
  explicit network(architecture arch, std::uint64_t seed = 0) : arch_(std::move(arch)) {
    const auto geo = geometry(arch_);  // validates
    qat_ = arch_.quantized();
    if (qat_ && !arch_.fully_quantized())
      throw invalid_argument(
          "network: the architecture is partly quantized; give every conv layer weight and activation formats and "
          "the classifier a weight format (e.g. hwnas::with_uniform_bits), or none at all for float training");
    std::size_t offset = 0, bias_index = 0;
    qformat in = arch_.effective_input_format();
    std::size_t in_size = static_cast<std::size_t>(arch_.input.size());
    for (std::size_t l = 0; l < geo.size(); ++l) {
      detail::layer_plan p;
      p.geo = geo[l];
      const auto& g = p.geo;
      p.shape = kernels::conv2d_shape{0,
                                      static_cast<std::size_t>(g.in_channels),
                                      static_cast<std::size_t>(g.in_height),
                                      static_cast<std::size_t>(g.in_width),
                                      static_cast<std::size_t>(g.out_channels),
                                      static_cast<std::size_t>(g.kernel),
                                      static_cast<std::size_t>(g.stride)};
      p.in_size = in_size;
      p.out_size = static_cast<std::size_t>(g.out_channels) * g.out_height * g.out_width;
      p.pooled_size = static_cast<std::size_t>(g.out_channels) * g.pooled_height * g.pooled_width;
      const std::int64_t fan_in = std::int64_t{g.in_channels} * g.kernel * g.kernel;
      p.w_offset = offset;
      blocks_.push_back({l, offset, static_cast<std::size_t>(g.weight_count()), true, fan_in});
      offset += static_cast<std::size_t>(g.weight_count());
      p.b_offset = offset;
      p.bias_index = bias_index;
      bias_index += static_cast<std::size_t>(g.out_channels);
      blocks_.push_back({l, offset, static_cast<std::size_t>(g.out_channels), false, fan_in});
      offset += static_cast<std::size_t>(g.out_channels);
      if (qat_) {
        p.in_fmt = in;
        p.w_fmt = g.is_classifier ? *arch_.classifier.weight_format : *arch_.layers[l].weight_format;
        p.out_fmt = g.is_classifier ? qformat::activation(0, 8) : *arch_.layers[l].activation_format;
        p.acc_frac = p.in_fmt.frac_bits + p.w_fmt.frac_bits;
        p.float_exact = detail::accumulator_bound(fan_in, p.in_fmt, p.w_fmt) < detail::float_exact_limit;
        if (!g.is_classifier) p.epi = detail::epilogue_params(p.acc_frac, p.out_fmt);
        p.bias_limit = p.float_exact ? detail::bias_code_limit : detail::wide_bias_code_limit;
        // latent clip a little inside the code range (a float just below 2^31 may round up to it)
        p.bias_max = static_cast<float>(0.999 * p.bias_limit * std::ldexp(1.0, -p.acc_frac));
        in = p.out_fmt;
      }
      in_size = p.pooled_size;
      plans_.push_back(p);
    }
    params_.assign(offset, 0.0f);
    grads_.assign(offset, 0.0f);
    velocity_.assign(offset, 0.0f);
    initialize(seed);
  }

  /// Copies the parameters, gradients and momentum (not the scratch memory, which is rebuilt on first use).
  network(const network& o)
      : arch_(o.arch_), qat_(o.qat_), plans_(o.plans_), blocks_(o.blocks_), params_(o.params_), grads_(o.grads_),
        velocity_(o.velocity_) {}
  network& operator=(const network& o) {
    if (this != &o) *this = network(o);
    return *this;
  }
  network(network&&) noexcept = default;
  network& operator=(network&&) noexcept = default;

  /// The architecture the network was built from.
  const architecture& arch() const noexcept { return arch_; }
  /// True in QAT mode (the architecture is fully quantized).
  bool quantized() const noexcept { return qat_; }
  /// Weights and biases in all.
  std::size_t parameter_count() const noexcept { return params_.size(); }
  /// Latent (float) weights and biases, layer by layer (weights (M, N, K, K) then bias (M); the classifier's
  /// weights are (classes, features)). Writing through this view is allowed.
  std::span<float> parameters() noexcept {
    stale_ = true;
    return params_;
  }
  std::span<const float> parameters() const noexcept { return params_; }
  /// d(mean loss)/d(parameters) of the last forward_backward.
  std::span<const float> gradients() const noexcept { return grads_; }
  /// SGD momentum buffers (same layout as parameters()).
  std::span<float> velocity() noexcept { return velocity_; }
  /// Where each layer's weights and bias live in parameters(), in order.
  const std::vector<parameter_block>& blocks() const noexcept { return blocks_; }
  /// Compute layers: the conv layers, then the classifier.
  std::size_t layer_count() const noexcept { return plans_.size(); }
  /// QAT: true when compute layer `l` runs on the float kernels, exact because every partial sum is an integer
  /// multiple of 2^-(F_in + F_w) below 2^24 of them; false when it runs on the integer kernels (wide formats).
  bool float_exact(std::size_t l) const { return plans_.at(l).float_exact; }

  /// He-normal weights (stddev sqrt(2 / fan_in)) from `seed`, zero biases and momentum; in QAT the weights are
  /// clipped to their format's range.
  void initialize(std::uint64_t seed) {
    rng gen(seed);
    for (const auto& b : blocks_) {
      float* w = params_.data() + b.offset;
      if (!b.is_weight) {
        std::fill(w, w + b.size, 0.0f);
        continue;
      }
      const double sd = std::sqrt(2.0 / static_cast<double>(b.fan_in));
      for (std::size_t i = 0; i < b.size; ++i) w[i] = static_cast<float>(gen.normal(0.0, sd));
    }
    std::fill(velocity_.begin(), velocity_.end(), 0.0f);
    clip_latent();
    stale_ = true;
  }

  /// Forward and backward of `count` images (count, C, H, W) with their labels: gradients() becomes the gradient of
  /// the batch's mean cross-entropy. The batch is cut into `slices` (0: one per thread of `pool`, or 1 without a
  /// pool), run on the pool's threads.
  batch_stats forward_backward(const float* images, const std::int32_t* labels, std::size_t count,
                               thread_pool* pool = nullptr, std::size_t slices = 0) {
    check_labels(labels, count);
    refresh();
    const std::size_t threads = pool ? pool->size() : 1;
    std::size_t s_count = slices ? slices : threads;
    s_count = std::max<std::size_t>(1, std::min(s_count, count));
    if (slice_grads_.size() < s_count) slice_grads_.resize(s_count);
    for (std::size_t s = 0; s < s_count; ++s) slice_grads_[s].resize(params_.size());
    ensure_scratch(threads);
    std::vector<batch_stats> stats(s_count);
    const std::size_t image = static_cast<std::size_t>(arch_.input.size());
    // Slices go to whichever thread is free (a slower core takes fewer); each lands in its own gradient buffer.
    auto job = [&](std::size_t s, std::size_t, std::size_t w) {
      const std::size_t lo = s * count / s_count, hi = (s + 1) * count / s_count;
      stats[s] = slice_step(*scratch_[w], images + lo * image, labels + lo, hi - lo, count, slice_grads_[s].data());
    };
    if (pool && threads > 1 && count > 0)
      parallel_for_dynamic(*pool, 0, s_count, 1, job);
    else
      for (std::size_t s = 0; s < s_count; ++s) job(s, s + 1, 0);
    // reduce in slice order: deterministic for a given slice count
    std::copy(slice_grads_[0].begin(), slice_grads_[0].end(), grads_.begin());
    for (std::size_t s = 1; s < s_count; ++s) {
      const float* g = slice_grads_[s].data();
      for (std::size_t i = 0; i < grads_.size(); ++i) grads_[i] += g[i];
    }
    batch_stats total;
    for (const auto& st : stats) total += st;
    return total;
  }

  /// One SGD step with gradients() at learning rate `lr`; QAT clips the latent weights to their formats.
  /// @throws hwnas::training_error when a weight becomes NaN or infinite
  void sgd_step(float lr, const sgd_config& c) {
    for (const auto& b : blocks_)
      sgd_update(std::span(params_).subspan(b.offset, b.size), std::span<const float>(grads_).subspan(b.offset, b.size),
                 std::span(velocity_).subspan(b.offset, b.size), lr, c, b.is_weight);
    float sum = 0.0f;
    for (const float w : params_) sum += w * 0.0f;  // NaN or inf anywhere makes the sum NaN
    if (!(sum == sum))
      throw training_error("network: a weight became NaN or infinite after an SGD step with learning rate " +
                           std::to_string(lr) + "; lower the learning rate");
    clip_latent();
    stale_ = true;
  }

  /// Loss and correct predictions of `count` labelled images, forward only (no gradient).
  batch_stats evaluate(const float* images, const std::int32_t* labels, std::size_t count,
                       thread_pool* pool = nullptr) {
    check_labels(labels, count);
    std::vector<std::int32_t> pred(count);
    batch_stats s;
    s.count = count;
    s.loss_sum = forward_only(images, count, pool, pred.data(), labels);
    for (std::size_t i = 0; i < count; ++i) s.correct += pred[i] == labels[i];
    return s;
  }

  /// Predicted classes of `count` images (argmax of the logits; in QAT of the exact integer logits).
  void predict(const float* images, std::size_t count, std::int32_t* classes, thread_pool* pool = nullptr) {
    forward_only(images, count, pool, classes, nullptr);
  }

  /// Logits (count, classes): float, or in QAT the integer logits times 2^-(F_in + F_w).
  std::vector<float> logits(const float* images, std::size_t count) {
    refresh();
    ensure_scratch(1);
    auto& st = *scratch_[0];
    forward(st, images, count);
    const std::size_t k = static_cast<std::size_t>(arch_.classes);
    return {st.logits.begin(), st.logits.begin() + static_cast<std::ptrdiff_t>(count * k)};
  }

  /// QAT only: the codes of every layer and the integer logits, as integer_network::trace computes them.
  /// @throws hwnas::invalid_argument for a float network
  forward_trace trace(const float* images, std::size_t count) {
    require_qat("trace");
    refresh();
    ensure_scratch(1);
    auto& st = *scratch_[0];
    forward(st, images, count);
    forward_trace t;
    for (std::size_t l = 0; l + 1 < plans_.size(); ++l) {
      const auto& p = plans_[l];
      const float* v = st.out[l].data();
      const float scale = std::ldexp(1.0f, p.out_fmt.frac_bits);
      std::vector<std::int32_t> codes(count * p.pooled_size);
      for (std::size_t i = 0; i < codes.size(); ++i) codes[i] = static_cast<std::int32_t>(v[i] * scale);
      t.activations.push_back(std::move(codes));
    }
    t.logits.assign(st.int_logits.begin(),
                    st.int_logits.begin() + static_cast<std::ptrdiff_t>(count * arch_.classes));
    return t;
  }

  /// QAT only: the integer weight and bias codes and formats, for integer-only inference (non-const: it rounds the
  /// latent parameters first if they changed).
  /// @throws hwnas::invalid_argument for a float network
  integer_network to_integer() {
    require_qat("to_integer");
    refresh();
    std::vector<integer_layer> layers;
    for (const auto& p : plans_) {
      integer_layer L;
      L.input_format = p.in_fmt;
      L.weight_format = p.w_fmt;
      L.output_format = p.geo.is_classifier ? qformat::activation(0, 8) : p.out_fmt;
      const std::size_t wn = static_cast<std::size_t>(p.geo.weight_count());
      L.weights.resize(wn);
      std::vector<float> values(wn);
      detail::round_to_format(params_.data() + p.w_offset, wn, p.w_fmt, values.data(), L.weights.data());
      const auto first = bias_codes_.begin() + static_cast<std::ptrdiff_t>(p.bias_index);
      L.bias.assign(first, first + p.geo.out_channels);
      layers.push_back(std::move(L));
    }
    return integer_network(arch_, std::move(layers));
  }

  /// The weights and biases the forward pass uses: parameters() in float mode; in QAT the weights rounded to
  /// their formats and the biases rounded to their accumulator formats (as values).
  std::span<const float> effective_parameters() {
    refresh();
    return qat_ ? std::span<const float>(wq_) : std::span<const float>(params_);
  }

 private:
  void require_qat(const char* what) const {
    if (!qat_)
      throw invalid_argument(std::string("network::") + what +
                             ": the network is float; integer inference needs a fully quantized architecture "
                             "trained with QAT (e.g. hwnas::with_uniform_bits(arch, 8))");
  }
  void check_labels(const std::int32_t* labels, std::size_t count) const {
    for (std::size_t i = 0; i < count; ++i)
      if (labels[i] < 0 || labels[i] >= arch_.classes)
        throw invalid_argument("network: label " + std::to_string(labels[i]) + " of image " + std::to_string(i) +
                               " is outside 0.." + std::to_string(arch_.classes - 1));
  }
  void clip_latent() {
    if (!qat_) return;
    for (const auto& p : plans_) {
      const float lo = static_cast<float>(p.w_fmt.min_value()), hi = static_cast<float>(p.w_fmt.max_value());
      float* w = params_.data() + p.w_offset;
      for (std::size_t i = 0; i < static_cast<std::size_t>(p.geo.weight_count()); ++i) w[i] = std::clamp(w[i], lo, hi);
      float* b = params_.data() + p.b_offset;
      for (int i = 0; i < p.geo.out_channels; ++i) b[i] = std::clamp(b[i], -p.bias_max, p.bias_max);
    }
  }

  /// QAT: rounds the latent parameters to what the forward uses (float values, bias codes, packed integer weights).
  void refresh() {
    if (!qat_ || !stale_) return;
    wq_.resize(params_.size());
    std::size_t bias_total = 0;
    for (const auto& p : plans_) bias_total += static_cast<std::size_t>(p.geo.out_channels);
    bias_codes_.resize(bias_total);
    packed_.resize(plans_.size());
    std::vector<std::int16_t> codes;
    for (std::size_t l = 0; l < plans_.size(); ++l) {
      const auto& p = plans_[l];
      const std::size_t wn = static_cast<std::size_t>(p.geo.weight_count());
      if (!p.float_exact) codes.resize(wn);
      detail::round_to_format(params_.data() + p.w_offset, wn, p.w_fmt, wq_.data() + p.w_offset,
                              p.float_exact ? nullptr : codes.data());
      const float bstep = std::ldexp(1.0f, -p.acc_frac);
      for (int m = 0; m < p.geo.out_channels; ++m) {
        const std::int32_t c = detail::bias_code(params_[p.b_offset + m], p.acc_frac, p.bias_limit);
        bias_codes_[p.bias_index + m] = c;
        wq_[p.b_offset + m] = static_cast<float>(c) * bstep;
      }
      if (!p.float_exact)
        packed_[l] = kernels::packed_weights(codes.data(), p.geo.out_channels, p.geo.in_channels, p.geo.kernel, p.w_fmt);
    }
    stale_ = false;
  }

  void ensure_scratch(std::size_t threads) {
    while (scratch_.size() < threads) scratch_.push_back(std::make_unique<detail::slice_scratch>());
  }

  /// Sizes a thread's buffers for `n` images.
  void reserve(detail::slice_scratch& st, std::size_t n) const {
    if (st.images >= n) return;
    const std::size_t layers = plans_.size() - 1;
    st.out.resize(layers);
    st.mask.resize(layers);
    st.argmax.resize(layers);
    std::size_t biggest = plans_[0].in_size, conv_out = 0;
    bool any_int = false;
    for (std::size_t l = 0; l < layers; ++l) {
      const auto& p = plans_[l];
      st.out[l].resize(n * p.pooled_size);
      if (qat_) st.mask[l].resize(n * p.pooled_size);
      if (p.geo.pool == 2) st.argmax[l].resize(n * p.pooled_size);
      biggest = std::max({biggest, p.out_size, p.in_size});
      conv_out = std::max(conv_out, p.out_size);
      any_int = any_int || (qat_ && !p.float_exact);
    }
    const std::size_t k = static_cast<std::size_t>(arch_.classes);
    biggest = std::max({biggest, plans_.back().in_size, k});
    st.z.resize(n * conv_out);
    st.grad_a.resize(n * biggest);
    st.grad_b.resize(n * biggest);
    st.logits.resize(n * k);
    if (qat_) {
      st.input.resize(n * plans_[0].in_size);
      st.codes.resize(n * biggest);
      st.int_logits.resize(n * k);
      if (any_int || !plans_.back().float_exact) {
        st.acc.resize(n * conv_out);
        st.full_mask.resize(n * conv_out);
      }
    }
    st.images = n;
  }

  /// Converts exact dequantized activations to codes (value * 2^F), for the integer-path layers.
  static void to_codes(const float* v, std::size_t n, const qformat& f, std::uint16_t* out) noexcept {
    const float scale = std::ldexp(1.0f, f.frac_bits);
    for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<std::uint16_t>(v[i] * scale);
  }

  /// Forward of n images on one thread; fills st.out, st.mask, st.argmax, st.logits (and st.int_logits in QAT).
  ///
  /// Pooling is applied before the ReLU (float) or the requantization (QAT) wherever the layer's accumulators are
  /// exact floats: both are monotone, so max then ReLU/requantize equals ReLU/requantize then max, on a quarter of
  /// the values; the gradient goes to the window's largest pre-activation.
  void forward(detail::slice_scratch& st, const float* x, std::size_t n) {
    reserve(st, n);
    const float* cur = x;
    if (qat_) {
      const auto& f = plans_[0].in_fmt;
      const std::size_t sz = n * plans_[0].in_size;
      kernels::quantize_input(x, sz, f, st.codes.data());
      const float step = static_cast<float>(f.step());
      for (std::size_t i = 0; i < sz; ++i) st.input[i] = static_cast<float>(st.codes[i]) * step;
      cur = st.input.data();
    }
    const float* wsrc = qat_ ? wq_.data() : params_.data();
    for (std::size_t l = 0; l + 1 < plans_.size(); ++l) {
      const auto& p = plans_[l];
      auto shape = p.shape;
      shape.batch = n;
      const bool pool = p.geo.pool == 2;
      const kernels::pool2x2_shape ps{n, shape.out_channels, static_cast<std::size_t>(p.geo.out_height),
                                      static_cast<std::size_t>(p.geo.out_width)};
      const std::size_t pooled_pixels = static_cast<std::size_t>(p.geo.pooled_height) * p.geo.pooled_width;
      const std::size_t pixels = static_cast<std::size_t>(p.geo.out_height) * p.geo.out_width;
      float* out = st.out[l].data();
      const std::span<float> out_span(out, n * p.pooled_size);
      const std::span<float> conv_out(pool ? st.z.data() : out, n * p.out_size);
      const std::span<const float> in(cur, n * p.in_size);
      const std::span<const float> w(wsrc + p.w_offset, static_cast<std::size_t>(p.geo.weight_count()));
      auto pool_to_out = [&] {
        if (pool) kernels::maxpool2x2_forward(ps, conv_out, out_span, std::span<std::int32_t>(st.argmax[l]).first(out_span.size()));
      };
      if (!qat_) {
        kernels::conv2d_forward(shape, in, w, std::span<const float>(params_.data() + p.b_offset, shape.out_channels),
                                conv_out, st.ws);
        pool_to_out();
        kernels::relu_forward(std::span<const float>(out_span), out_span);
      } else if (p.float_exact) {
        kernels::conv2d_forward(shape, in, w, {}, conv_out, st.ws);
        pool_to_out();
        detail::qat_epilogue(out, n, shape.out_channels, pooled_pixels, bias_codes_.data() + p.bias_index, p.epi, out,
                             st.mask[l].data());
      } else {
        // wide formats: integer kernels, requantize every output, then pool the codes (as integer inference does)
        to_codes(cur, n * p.in_size, p.in_fmt, st.codes.data());
        const kernels::int_conv_shape is{static_cast<int>(n), p.geo.in_channels, p.geo.in_height, p.geo.in_width,
                                         p.geo.out_channels, p.geo.kernel, p.geo.stride};
        kernels::int_conv2d_acc(is, st.codes.data(), p.in_fmt, packed_[l], bias_codes_.data() + p.bias_index,
                                st.acc.data());
        float* mask = pool ? st.full_mask.data() : st.mask[l].data();
        detail::qat_epilogue_int(st.acc.data(), n, shape.out_channels, pixels, nullptr, p.epi, conv_out.data(), mask);
        if (pool) {
          pool_to_out();
          const std::int32_t* arg = st.argmax[l].data();
          float* m = st.mask[l].data();
          for (std::size_t i = 0; i < n * p.pooled_size; ++i) m[i] = mask[(i / pooled_pixels) * pixels + arg[i]];
        }
      }
      cur = out;
    }
    // classifier: logits (n, k) = features (n, F) x W^T (k, F) + b
    const auto& p = plans_.back();
    const std::size_t k = static_cast<std::size_t>(arch_.classes), f = p.in_size;
    const kernels::dense_shape ds{n, f, k};
    const std::span<const float> feat(cur, n * f), w(wsrc + p.w_offset, k * f);
    const std::span<float> z(st.logits.data(), n * k);
    if (!qat_) {
      kernels::dense_forward(ds, feat, w, std::span<const float>(params_.data() + p.b_offset, k), z);
      return;
    }
    std::int64_t* zi = st.int_logits.data();
    const std::int32_t* bc = bias_codes_.data() + p.bias_index;
    if (p.float_exact) {
      kernels::dense_forward(ds, feat, w, {}, z);
      const float scale = std::ldexp(1.0f, p.acc_frac);
      for (std::size_t i = 0; i < n; ++i)
        for (std::size_t j = 0; j < k; ++j) zi[i * k + j] = static_cast<std::int64_t>(z[i * k + j] * scale) + bc[j];
    } else {
      to_codes(cur, n * f, p.in_fmt, st.codes.data());
      kernels::int_dense_acc(static_cast<int>(n), st.codes.data(), p.in_fmt, packed_.back(), bc, zi);
    }
    const double step = std::ldexp(1.0, -p.acc_frac);
    for (std::size_t i = 0; i < n * k; ++i) z[i] = static_cast<float>(static_cast<double>(zi[i]) * step);
  }

  /// Forward + backward of one slice of n images out of a batch of `total`; writes the slice's gradient into g.
  batch_stats slice_step(detail::slice_scratch& st, const float* x, const std::int32_t* y, std::size_t n,
                         std::size_t total, float* g) {
    batch_stats s;
    s.count = n;
    if (n == 0) {
      std::fill(g, g + params_.size(), 0.0f);
      return s;
    }
    forward(st, x, n);
    const std::size_t k = static_cast<std::size_t>(arch_.classes);
    for (std::size_t i = 0; i < n; ++i) s.correct += predicted(st, i) == y[i];
    const float mean = kernels::softmax_cross_entropy(n, k, std::span<const float>(st.logits.data(), n * k),
                                                      std::span<const std::int32_t>(y, n),
                                                      std::span<float>(st.grad_a.data(), n * k), total);
    s.loss_sum = static_cast<double>(mean) * static_cast<double>(total);
    backward(st, x, n, g);
    return s;
  }

  std::int32_t predicted(const detail::slice_scratch& st, std::size_t i) const noexcept {
    const std::size_t k = static_cast<std::size_t>(arch_.classes);
    return qat_ ? detail::argmax_row(st.int_logits.data() + i * k, k) : detail::argmax_row(st.logits.data() + i * k, k);
  }

  /// Backward of the slice whose logit gradient is in st.grad_a.
  void backward(detail::slice_scratch& st, const float* x, std::size_t n, float* g) {
    const float* wsrc = qat_ ? wq_.data() : params_.data();
    const std::size_t k = static_cast<std::size_t>(arch_.classes);
    const std::size_t layers = plans_.size() - 1;
    auto layer_input = [&](std::size_t l) -> const float* {
      if (l == 0) return qat_ ? st.input.data() : x;
      return st.out[l - 1].data();
    };
    // classifier
    const auto& pc = plans_.back();
    const std::size_t f = pc.in_size;
    const kernels::dense_shape ds{n, f, k};
    const std::span<const float> dz(st.grad_a.data(), n * k);
    kernels::dense_backward_weights(ds, std::span<const float>(layer_input(layers), n * f), dz,
                                    std::span<float>(g + pc.w_offset, k * f), std::span<float>(g + pc.b_offset, k));
    if (layers == 0) return;
    float* dout = st.grad_b.data();
    kernels::dense_backward_data(ds, dz, std::span<const float>(wsrc + pc.w_offset, k * f),
                                 std::span<float>(dout, n * f));
    // conv layers, last to first: dout holds d loss / d (the layer's output, after pooling)
    for (std::size_t l = layers; l-- > 0;) {
      const auto& p = plans_[l];
      auto shape = p.shape;
      shape.batch = n;
      float* other = dout == st.grad_a.data() ? st.grad_b.data() : st.grad_a.data();
      const std::size_t pooled = n * p.pooled_size, full = n * p.out_size;
      if (qat_) {
        const float* m = st.mask[l].data();
        for (std::size_t i = 0; i < pooled; ++i) dout[i] *= m[i];
      } else {
        kernels::relu_backward(std::span<const float>(st.out[l].data(), pooled), std::span<const float>(dout, pooled),
                               std::span<float>(dout, pooled));
      }
      float* dz_conv = dout;
      if (p.geo.pool == 2) {
        const kernels::pool2x2_shape ps{n, shape.out_channels, static_cast<std::size_t>(p.geo.out_height),
                                        static_cast<std::size_t>(p.geo.out_width)};
        kernels::maxpool2x2_backward(ps, std::span<const float>(dout, pooled),
                                     std::span<const std::int32_t>(st.argmax[l].data(), pooled),
                                     std::span<float>(other, full));
        dz_conv = other;
        other = dout;
      }
      const std::span<const float> dzs(dz_conv, full);
      kernels::conv2d_backward_weights(shape, std::span<const float>(layer_input(l), n * p.in_size), dzs,
                                       std::span<float>(g + p.w_offset, static_cast<std::size_t>(p.geo.weight_count())),
                                       std::span<float>(g + p.b_offset, shape.out_channels), st.ws, 0.0f);
      if (l > 0) {
        kernels::conv2d_backward_data(shape, dzs,
                                      std::span<const float>(wsrc + p.w_offset,
                                                             static_cast<std::size_t>(p.geo.weight_count())),
                                      std::span<float>(other, n * p.in_size), st.ws);
        dout = other;
      }
    }
  }

  /// Forward-only over any number of images, in chunks, split across the pool: predictions, and the loss sum when
  /// labels are given.
  double forward_only(const float* images, std::size_t count, thread_pool* pool, std::int32_t* pred,
                      const std::int32_t* labels) {
    refresh();
    const std::size_t threads = pool ? pool->size() : 1;
    ensure_scratch(threads);
    const std::size_t image = static_cast<std::size_t>(arch_.input.size());
    const std::size_t k = static_cast<std::size_t>(arch_.classes);
    constexpr std::size_t chunk = 64;
    std::vector<double> loss((count + chunk - 1) / chunk, 0.0);  // per chunk, summed in order: deterministic
    auto body = [&](std::size_t b, std::size_t end, std::size_t w) {
      auto& st = *scratch_[w];
      const std::size_t n = end - b;
      forward(st, images + b * image, n);
      for (std::size_t i = 0; i < n; ++i) pred[b + i] = predicted(st, i);
      if (labels)
        loss[b / chunk] = static_cast<double>(kernels::softmax_cross_entropy(
                              n, k, std::span<const float>(st.logits.data(), n * k),
                              std::span<const std::int32_t>(labels + b, n), {})) *
                          static_cast<double>(n);
    };
    if (pool && threads > 1) {
      parallel_for_dynamic(*pool, 0, count, chunk, body);
    } else {
      for (std::size_t b = 0; b < count; b += chunk) body(b, std::min(count, b + chunk), 0);
    }
    double total = 0.0;
    for (const double v : loss) total += v;
    return total;
  }

  architecture arch_;
  bool qat_ = false;
  std::vector<detail::layer_plan> plans_;
  std::vector<parameter_block> blocks_;
  std::vector<float> params_, grads_, velocity_;
  // QAT: what the forward uses, derived from params_ by refresh()
  bool stale_ = true;
  std::vector<float> wq_;
  std::vector<std::int32_t> bias_codes_;
  std::vector<kernels::packed_weights> packed_;
  // scratch (not copied)
  std::vector<std::vector<float>> slice_grads_;
  std::vector<std::unique_ptr<detail::slice_scratch>> scratch_;
};

}  // namespace hwnas::nn
