#pragma once
/// @file
/// The labelled image set every part of hwnas trains and evaluates on, and the operations on it: a deterministic
/// (stratified) train/validation split, subsets, per-channel normalization, and shuffled mini-batches.
/// See docs/data.md.

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <numeric>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include <xtensor/xtensor.hpp>

#include "hwnas/core/error.hpp"
#include "hwnas/core/rng.hpp"

namespace hwnas::io {

/// A labelled image set. Images are stored as floats in NCHW order, each sample's C*H*W values contiguous.
/// As loaded, every pixel is `byte / 255.0f` in [0, 1]; normalize() changes that.
struct dataset {
  xt::xtensor<float, 4> images;         ///< (N, C, H, W)
  xt::xtensor<std::uint8_t, 1> labels;  ///< (N), each < classes
  int classes = 10;                     ///< number of classes; labels are 0 .. classes - 1

  /// Number of samples N.
  std::size_t size() const noexcept { return images.shape()[0]; }
  std::size_t channels() const noexcept { return images.shape()[1]; }
  std::size_t height() const noexcept { return images.shape()[2]; }
  std::size_t width() const noexcept { return images.shape()[3]; }
  /// Floats per sample: C * H * W.
  std::size_t sample_size() const noexcept { return channels() * height() * width(); }
  bool empty() const noexcept { return size() == 0; }
};

/// The three parts a search uses: train on `train`, rank candidates on `validation`, report on `test`.
struct split_data {
  dataset train, validation, test;
};

/// Per-channel statistics, as channel_mean_std() measures and normalize() applies.
struct channel_stats {
  std::vector<float> mean;    ///< one per channel
  std::vector<float> stddev;  ///< one per channel, population standard deviation
};

/// Checks that a dataset is consistent: as many labels as images, `classes` in 1..256, every label < classes, every
/// pixel finite (a NaN would train as 0 in fixed point, where quantize maps it to code 0, and as NaN in float).
/// @throws hwnas::invalid_argument naming `what` and the first problem found
inline void validate(const dataset& data, const std::string& what = "dataset") {
  if (data.classes < 1 || data.classes > 256) {
    throw invalid_argument(what + ": classes = " + std::to_string(data.classes) + ", expected 1 to 256");
  }
  if (data.labels.size() != data.size()) {
    throw invalid_argument(what + ": " + std::to_string(data.size()) + " images but " +
                           std::to_string(data.labels.size()) + " labels");
  }
  for (std::size_t i = 0; i < data.labels.size(); ++i) {
    if (data.labels(i) >= data.classes) {
      throw invalid_argument(what + ": label " + std::to_string(data.labels(i)) + " of sample " + std::to_string(i) +
                             " is not below classes = " + std::to_string(data.classes));
    }
  }
  const float* px = data.images.data();
  for (std::size_t i = 0, n = data.images.size(); i < n; ++i) {
    if (!std::isfinite(px[i])) {
      const std::size_t per = data.sample_size();
      throw invalid_argument(what + ": sample " + std::to_string(i / per) + " has " +
                             (std::isnan(px[i]) ? "a NaN" : "an infinite") + " pixel (value " + std::to_string(i % per) +
                             " of " + std::to_string(per) + "); clean or drop it before training");
    }
  }
}

namespace detail {

inline dataset empty_like(const dataset& data, std::size_t n) {
  dataset out;
  out.classes = data.classes;
  out.images = xt::xtensor<float, 4>(
      std::array<std::size_t, 4>{n, data.images.shape()[1], data.images.shape()[2], data.images.shape()[3]});
  out.labels = xt::xtensor<std::uint8_t, 1>(std::array<std::size_t, 1>{n});
  return out;
}

/// out[i] = in[i] / 255.0f: the pixel scaling every loader applies.
inline void bytes_to_unit_float(const std::uint8_t* in, float* out, std::size_t n) noexcept {
  for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<float>(in[i]) / 255.0f;
}

}  // namespace detail

/// The samples at `indices`, in that order (repeats allowed).
/// @throws hwnas::invalid_argument when an index is not below data.size()
inline dataset subset(const dataset& data, std::span<const std::size_t> indices) {
  const auto n = data.size();
  for (const auto i : indices) {
    if (i >= n) {
      throw invalid_argument("hwnas::io::subset: index " + std::to_string(i) + " out of range for a dataset of " +
                             std::to_string(n) + " samples");
    }
  }
  auto out = detail::empty_like(data, indices.size());
  const auto stride = data.sample_size();
  const float* src = data.images.data();
  float* dst = out.images.data();
  for (std::size_t k = 0; k < indices.size(); ++k) {
    if (stride > 0) std::memcpy(dst + k * stride, src + indices[k] * stride, stride * sizeof(float));
    out.labels(k) = data.labels(indices[k]);
  }
  return out;
}

/// Splits off `validation_count` samples as a validation set; returns {train, validation}.
///
/// Deterministic: the same data and seed give the same split on every platform (hwnas::rng). Stratified: each class
/// contributes to the validation set in proportion to its frequency (largest-remainder rounding), so a balanced set
/// gives a balanced validation set. The two parts are disjoint, cover the input, and keep the input's order.
/// @throws hwnas::invalid_argument when validation_count > data.size() or the data is inconsistent (validate())
inline std::pair<dataset, dataset> split(const dataset& data, std::size_t validation_count, std::uint64_t seed) {
  validate(data, "hwnas::io::split");
  const auto n = data.size();
  if (validation_count > n) {
    throw invalid_argument("hwnas::io::split: validation_count = " + std::to_string(validation_count) +
                           " exceeds the " + std::to_string(n) + " samples");
  }
  const auto classes = static_cast<std::size_t>(data.classes);
  std::vector<std::vector<std::size_t>> by_class(classes);
  for (std::size_t i = 0; i < n; ++i) by_class[data.labels(i)].push_back(i);

  // Quota of class c: floor(v * n_c / n), then the leftover to the largest remainders (ties: lower class first).
  std::vector<std::size_t> quota(classes, 0);
  std::vector<std::pair<std::uint64_t, std::size_t>> remainders;  // (remainder, class)
  std::size_t assigned = 0;
  for (std::size_t c = 0; c < classes && n > 0; ++c) {
    const auto scaled = static_cast<std::uint64_t>(validation_count) * by_class[c].size();
    quota[c] = static_cast<std::size_t>(scaled / n);
    assigned += quota[c];
    remainders.emplace_back(scaled % n, c);
  }
  std::stable_sort(remainders.begin(), remainders.end(),
                   [](const auto& a, const auto& b) { return a.first > b.first; });
  for (std::size_t k = 0; assigned < validation_count; ++k, ++assigned) ++quota[remainders[k].second];

  rng gen(seed);
  std::vector<char> in_validation(n, 0);
  for (std::size_t c = 0; c < classes; ++c) {
    auto& members = by_class[c];
    // Partial Fisher-Yates: the first quota[c] positions become a uniform random sample of the class.
    for (std::size_t k = 0; k < quota[c]; ++k) {
      const auto j = k + static_cast<std::size_t>(gen.below(members.size() - k));
      std::swap(members[k], members[j]);
      in_validation[members[k]] = 1;
    }
  }
  std::vector<std::size_t> train_idx, validation_idx;
  train_idx.reserve(n - validation_count);
  validation_idx.reserve(validation_count);
  for (std::size_t i = 0; i < n; ++i) (in_validation[i] ? validation_idx : train_idx).push_back(i);
  return {subset(data, train_idx), subset(data, validation_idx)};
}

/// Mean and population standard deviation of each channel over all samples and pixels (accumulated in double).
/// @throws hwnas::invalid_argument for an empty dataset
/// Splits a loaded training set into train and validation (see split) and pairs them with the test set: what every
/// dataset loader returns. `what` names the loader in the error when no training image would be left.
inline split_data split_train_test(const dataset& train, dataset test, std::size_t validation, std::uint64_t seed,
                                   const std::string& what) {
  if (validation >= train.size()) {
    throw invalid_argument(what + ": validation = " + std::to_string(validation) +
                           " leaves no training images out of " + std::to_string(train.size()));
  }
  auto parts = split(train, validation, seed);
  return split_data{std::move(parts.first), std::move(parts.second), std::move(test)};
}

inline channel_stats channel_mean_std(const dataset& data) {
  const auto n = data.size(), c = data.channels(), plane = data.height() * data.width();
  if (n == 0 || plane == 0) throw invalid_argument("hwnas::io::channel_mean_std: the dataset is empty");
  std::vector<double> sum(c, 0.0), sum_sq(c, 0.0);
  const float* p = data.images.data();
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t ch = 0; ch < c; ++ch, p += plane) {
      double s = 0.0, s2 = 0.0;
      for (std::size_t k = 0; k < plane; ++k) {
        const double v = p[k];
        s += v;
        s2 += v * v;
      }
      sum[ch] += s;
      sum_sq[ch] += s2;
    }
  }
  channel_stats stats;
  const auto count = static_cast<double>(n * plane);
  for (std::size_t ch = 0; ch < c; ++ch) {
    const double mean = sum[ch] / count;
    const double var = std::max(0.0, sum_sq[ch] / count - mean * mean);
    stats.mean.push_back(static_cast<float>(mean));
    stats.stddev.push_back(static_cast<float>(std::sqrt(var)));
  }
  return stats;
}

/// In place: x <- (x - mean[c]) / stddev[c] for every pixel of channel c.
/// @throws hwnas::invalid_argument when the sizes are not data.channels() or a stddev is not positive
inline void normalize(dataset& data, std::span<const float> mean, std::span<const float> stddev) {
  const auto c = data.channels();
  if (mean.size() != c || stddev.size() != c) {
    throw invalid_argument("hwnas::io::normalize: " + std::to_string(mean.size()) + " means and " +
                           std::to_string(stddev.size()) + " standard deviations for " + std::to_string(c) +
                           " channels");
  }
  for (std::size_t ch = 0; ch < c; ++ch) {
    if (!(stddev[ch] > 0.0f)) {
      throw invalid_argument("hwnas::io::normalize: standard deviation of channel " + std::to_string(ch) + " is " +
                             std::to_string(stddev[ch]) +
                             "; it must be positive (a constant channel cannot be "
                             "standardized: pass 1 for it)");
    }
  }
  const auto n = data.size(), plane = data.height() * data.width();
  float* p = data.images.data();
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t ch = 0; ch < c; ++ch, p += plane) {
      const float m = mean[ch], inv = 1.0f / stddev[ch];
      for (std::size_t k = 0; k < plane; ++k) p[k] = (p[k] - m) * inv;
    }
  }
}

/// In place, with statistics from channel_mean_std().
inline void normalize(dataset& data, const channel_stats& stats) { normalize(data, stats.mean, stats.stddev); }

/// Standardizes all three parts with the statistics of the training part (no information leaks from validation or
/// test); returns those statistics, which a deployed network needs to preprocess its inputs the same way.
inline channel_stats normalize(split_data& data) {
  auto stats = channel_mean_std(data.train);
  normalize(data.train, stats);
  if (!data.validation.empty()) normalize(data.validation, stats);
  if (!data.test.empty()) normalize(data.test, stats);
  return stats;
}

/// 0 .. n-1 in a random order drawn from `gen` (one epoch's sample order); platform-independent.
inline std::vector<std::size_t> shuffled_indices(std::size_t n, rng& gen) {
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), std::size_t{0});
  hwnas::shuffle(order.begin(), order.end(), gen);
  return order;
}

/// Copies the samples at `indices` into caller-owned buffers: `images_out` receives indices.size() * sample_size()
/// floats, (B, C, H, W) contiguous; `labels_out` (may be null) receives indices.size() labels as int32.
/// Typical use: `gather_batch(train, std::span(order).subspan(b * 64, 64), x, y)` over shuffled_indices().
/// @throws hwnas::invalid_argument when an index is not below data.size()
inline void gather_batch(const dataset& data, std::span<const std::size_t> indices, float* images_out,
                         std::int32_t* labels_out) {
  const auto n = data.size(), stride = data.sample_size();
  const float* src = data.images.data();
  const std::uint8_t* labels = data.labels.data();
  for (std::size_t k = 0; k < indices.size(); ++k) {
    const auto i = indices[k];
    if (i >= n) {
      throw invalid_argument("hwnas::io::gather_batch: index " + std::to_string(i) + " out of range for a dataset of " +
                             std::to_string(n) + " samples");
    }
    std::memcpy(images_out + k * stride, src + i * stride, stride * sizeof(float));
    if (labels_out != nullptr) labels_out[k] = labels[i];
  }
}

/// As above, into tensors that are reshaped to (B, C, H, W) and (B) when their shapes differ (no reallocation when a
/// loop reuses them with the same batch size).
inline void gather_batch(const dataset& data, std::span<const std::size_t> indices, xt::xtensor<float, 4>& images_out,
                         xt::xtensor<std::int32_t, 1>& labels_out) {
  const std::array<std::size_t, 4> shape{indices.size(), data.channels(), data.height(), data.width()};
  if (!std::equal(shape.begin(), shape.end(), images_out.shape().begin())) images_out.resize(shape);
  if (labels_out.size() != indices.size()) labels_out.resize({indices.size()});
  gather_batch(data, indices, images_out.data(), labels_out.data());
}

}  // namespace hwnas::io
