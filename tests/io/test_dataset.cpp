// Tests of hwnas/io/dataset.hpp: accessors, subset, deterministic stratified split, normalization, shuffled batches.

#include "hwnas/io/dataset.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <set>
#include <vector>

#include <doctest/doctest.h>

#include <limits>

using hwnas::io::dataset;

namespace {

/// n samples of (c, h, w); pixel (i, ch, y, x) = i + 0.001 * (ch * h * w + y * w + x) so every sample is
/// identifiable from its first pixel; label of sample i = label_of(i).
template <class LabelOf>
dataset make_dataset(std::size_t n, std::size_t c, std::size_t h, std::size_t w, int classes, LabelOf label_of) {
  dataset d;
  d.classes = classes;
  d.images = xt::xtensor<float, 4>(std::array<std::size_t, 4>{n, c, h, w});
  d.labels = xt::xtensor<std::uint8_t, 1>(std::array<std::size_t, 1>{n});
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t k = 0; k < c * h * w; ++k) d.images.data()[i * c * h * w + k] = float(i) + 0.001f * float(k);
    d.labels(i) = static_cast<std::uint8_t>(label_of(i));
  }
  return d;
}

dataset balanced(std::size_t n, int classes = 4) {
  return make_dataset(n, 3, 4, 5, classes, [classes](std::size_t i) { return i % std::size_t(classes); });
}

/// The original index of each sample (its first pixel, rounded).
std::vector<std::size_t> ids(const dataset& d) {
  std::vector<std::size_t> out;
  for (std::size_t i = 0; i < d.size(); ++i) out.push_back(std::size_t(std::lround(d.images(i, 0, 0, 0))));
  return out;
}

std::vector<std::size_t> class_counts(const dataset& d) {
  std::vector<std::size_t> counts(std::size_t(d.classes), 0);
  for (std::size_t i = 0; i < d.size(); ++i) ++counts[d.labels(i)];
  return counts;
}

}  // namespace

TEST_CASE("dataset: accessors") {
  const auto d = balanced(12);
  CHECK(d.size() == 12);
  CHECK(d.channels() == 3);
  CHECK(d.height() == 4);
  CHECK(d.width() == 5);
  CHECK(d.sample_size() == 60);
  CHECK_FALSE(d.empty());
  const dataset none;
  CHECK(none.size() == 0);
  CHECK(none.empty());
}

TEST_CASE("validate: counts, classes and labels") {
  auto d = balanced(10);
  CHECK_NOTHROW(hwnas::io::validate(d));
  d.labels(7) = 4;  // classes = 4
  CHECK_THROWS_WITH_AS(hwnas::io::validate(d, "mine"), "mine: label 4 of sample 7 is not below classes = 4",
                       hwnas::invalid_argument);
  d.labels(7) = 0;
  d.classes = 0;
  CHECK_THROWS_AS(hwnas::io::validate(d), hwnas::invalid_argument);
  d.classes = 4;
  d.labels = xt::xtensor<std::uint8_t, 1>(std::array<std::size_t, 1>{9});
  CHECK_THROWS_WITH_AS(hwnas::io::validate(d), doctest::Contains("10 images but 9 labels"), hwnas::invalid_argument);
}

TEST_CASE("validate: a NaN or infinite pixel names its sample") {
  auto d = balanced(10);
  const std::size_t per = d.sample_size();
  d.images.data()[3 * per + 5] = std::numeric_limits<float>::quiet_NaN();
  CHECK_THROWS_WITH_AS(hwnas::io::validate(d, "mine"), doctest::Contains("mine: sample 3 has a NaN pixel (value 5"),
                       hwnas::invalid_argument);
  d.images.data()[3 * per + 5] = std::numeric_limits<float>::infinity();
  CHECK_THROWS_WITH_AS(hwnas::io::validate(d), doctest::Contains("sample 3 has an infinite pixel"), hwnas::invalid_argument);
}

TEST_CASE("subset: copies the chosen samples in order, repeats allowed") {
  const auto d = balanced(10);
  const std::vector<std::size_t> pick{7, 2, 2, 9};
  const auto s = hwnas::io::subset(d, pick);
  REQUIRE(s.size() == 4);
  CHECK(s.classes == d.classes);
  CHECK(ids(s) == pick);
  for (std::size_t k = 0; k < pick.size(); ++k) {
    CHECK(s.labels(k) == d.labels(pick[k]));
    CHECK(s.images(k, 2, 3, 4) == d.images(pick[k], 2, 3, 4));
  }
  CHECK(hwnas::io::subset(d, std::vector<std::size_t>{}).size() == 0);
  CHECK_THROWS_AS(hwnas::io::subset(d, std::vector<std::size_t>{3, 10}), hwnas::invalid_argument);
}

TEST_CASE("split: sizes, disjoint, covering, order kept") {
  const auto d = balanced(103);
  const auto [train, validation] = hwnas::io::split(d, 21, 5);
  CHECK(train.size() == 82);
  CHECK(validation.size() == 21);
  CHECK(train.classes == 4);
  CHECK(validation.classes == 4);
  const auto a = ids(train), b = ids(validation);
  CHECK(std::is_sorted(a.begin(), a.end()));
  CHECK(std::is_sorted(b.begin(), b.end()));
  std::set<std::size_t> all(a.begin(), a.end());
  all.insert(b.begin(), b.end());
  CHECK(all.size() == 103);  // disjoint and covering
  CHECK(*all.rbegin() == 102);
  for (std::size_t i = 0; i < train.size(); ++i) CHECK(train.labels(i) == d.labels(a[i]));
  for (std::size_t i = 0; i < validation.size(); ++i) CHECK(validation.labels(i) == d.labels(b[i]));
}

TEST_CASE("split: deterministic in the seed") {
  const auto d = balanced(200);
  const auto first = hwnas::io::split(d, 40, 123);
  const auto again = hwnas::io::split(d, 40, 123);
  const auto other = hwnas::io::split(d, 40, 124);
  CHECK(ids(first.second) == ids(again.second));
  CHECK(ids(first.first) == ids(again.first));
  CHECK(ids(first.second) != ids(other.second));
}

TEST_CASE("split: stratified by class") {
  SUBCASE("balanced classes give a balanced validation set") {
    const auto d = balanced(400, 10);
    const auto [train, validation] = hwnas::io::split(d, 50, 1);
    CHECK(class_counts(validation) == std::vector<std::size_t>(10, 5));
    CHECK(class_counts(train) == std::vector<std::size_t>(10, 35));
  }
  SUBCASE("unbalanced classes: proportional, largest remainders get the leftover") {
    // 60 of class 0, 30 of class 1, 10 of class 2; 15 for validation -> 9, 4.5, 1.5 -> 9 + 5 + 1 (tie: lower class)
    const auto d = make_dataset(100, 1, 2, 2, 3, [](std::size_t i) { return i < 60 ? 0 : i < 90 ? 1 : 2; });
    const auto [train, validation] = hwnas::io::split(d, 15, 9);
    CHECK(class_counts(validation) == std::vector<std::size_t>{9, 5, 1});
    CHECK(class_counts(train) == std::vector<std::size_t>{51, 25, 9});
  }
}

TEST_CASE("split: edge counts and bad input") {
  const auto d = balanced(20);
  const auto [all, none] = hwnas::io::split(d, 0, 3);
  CHECK(all.size() == 20);
  CHECK(none.size() == 0);
  CHECK(none.channels() == 3);
  const auto [empty, everything] = hwnas::io::split(d, 20, 3);
  CHECK(empty.size() == 0);
  CHECK(everything.size() == 20);
  CHECK_THROWS_WITH_AS(hwnas::io::split(d, 21, 3), doctest::Contains("validation_count = 21 exceeds the 20 samples"),
                       hwnas::invalid_argument);
  auto bad = d;
  bad.labels(0) = 200;
  CHECK_THROWS_AS(hwnas::io::split(bad, 5, 3), hwnas::invalid_argument);
}

TEST_CASE("channel_mean_std: matches a direct computation") {
  auto d = make_dataset(7, 2, 3, 3, 2, [](std::size_t i) { return i % 2; });
  for (std::size_t i = 0; i < 7; ++i) {
    for (std::size_t y = 0; y < 3; ++y) {
      for (std::size_t x = 0; x < 3; ++x) {
        d.images(i, 0, y, x) = float((i * 7 + y * 3 + x) % 11) / 10.0f;
        d.images(i, 1, y, x) = 0.25f + 0.5f * float((i + y + x) % 2);
      }
    }
  }
  const auto stats = hwnas::io::channel_mean_std(d);
  REQUIRE(stats.mean.size() == 2);
  REQUIRE(stats.stddev.size() == 2);
  for (std::size_t ch = 0; ch < 2; ++ch) {
    double sum = 0, sq = 0;
    for (std::size_t i = 0; i < 7; ++i)
      for (std::size_t y = 0; y < 3; ++y)
        for (std::size_t x = 0; x < 3; ++x) sum += d.images(i, ch, y, x);
    const double mean = sum / 63.0;
    for (std::size_t i = 0; i < 7; ++i)
      for (std::size_t y = 0; y < 3; ++y)
        for (std::size_t x = 0; x < 3; ++x) sq += (d.images(i, ch, y, x) - mean) * (d.images(i, ch, y, x) - mean);
    CHECK(stats.mean[ch] == doctest::Approx(mean).epsilon(1e-6));
    CHECK(stats.stddev[ch] == doctest::Approx(std::sqrt(sq / 63.0)).epsilon(1e-5));
  }
  CHECK_THROWS_AS(hwnas::io::channel_mean_std(dataset{}), hwnas::invalid_argument);
}

TEST_CASE("normalize: standardizes each channel, bad arguments throw") {
  auto d = balanced(30);
  const auto before = d.images(4, 1, 2, 3);
  const auto stats = hwnas::io::channel_mean_std(d);
  hwnas::io::normalize(d, stats);
  CHECK(d.images(4, 1, 2, 3) == doctest::Approx((before - stats.mean[1]) / stats.stddev[1]));
  const auto after = hwnas::io::channel_mean_std(d);
  for (std::size_t ch = 0; ch < 3; ++ch) {
    CHECK(after.mean[ch] == doctest::Approx(0.0).epsilon(1e-4).scale(1.0));
    CHECK(after.stddev[ch] == doctest::Approx(1.0).epsilon(1e-4));
  }
  const std::vector<float> two{0.f, 0.f}, ones{1.f, 1.f, 1.f}, zero{1.f, 0.f, 1.f};
  CHECK_THROWS_WITH_AS(hwnas::io::normalize(d, two, ones), doctest::Contains("for 3 channels"),
                       hwnas::invalid_argument);
  CHECK_THROWS_WITH_AS(hwnas::io::normalize(d, ones, zero), doctest::Contains("channel 1"), hwnas::invalid_argument);
}

TEST_CASE("normalize(split_data): all parts with the training statistics") {
  hwnas::io::split_data parts;
  parts.train = balanced(40);
  parts.validation = balanced(10);
  parts.test = balanced(8);
  auto expected_validation = parts.validation;
  const auto train_stats = hwnas::io::channel_mean_std(parts.train);
  hwnas::io::normalize(expected_validation, train_stats);
  const auto stats = hwnas::io::normalize(parts);
  CHECK(stats.mean == train_stats.mean);
  CHECK(stats.stddev == train_stats.stddev);
  CHECK(parts.validation.images == expected_validation.images);
  CHECK(hwnas::io::channel_mean_std(parts.train).mean[0] == doctest::Approx(0.0).scale(1.0));
  CHECK(parts.test.images(0, 0, 0, 0) == doctest::Approx((0.0f - train_stats.mean[0]) / train_stats.stddev[0]));
}

TEST_CASE("shuffled_indices: a permutation, reproducible from the generator") {
  hwnas::rng a(42), b(42), c(43);
  const auto pa = hwnas::io::shuffled_indices(1000, a);
  const auto pb = hwnas::io::shuffled_indices(1000, b);
  const auto pc = hwnas::io::shuffled_indices(1000, c);
  CHECK(pa == pb);
  CHECK(pa != pc);
  auto sorted = pa;
  std::sort(sorted.begin(), sorted.end());
  std::vector<std::size_t> iota(1000);
  std::iota(iota.begin(), iota.end(), std::size_t{0});
  CHECK(sorted == iota);
  CHECK(pa != iota);
  // the next epoch draws a different order from the same generator
  CHECK(hwnas::io::shuffled_indices(1000, a) != pa);
  CHECK(hwnas::io::shuffled_indices(0, a).empty());
  CHECK(hwnas::io::shuffled_indices(1, a) == std::vector<std::size_t>{0});
}

TEST_CASE("gather_batch: copies images and labels of the chosen samples") {
  const auto d = balanced(50);
  hwnas::rng gen(7);
  const auto order = hwnas::io::shuffled_indices(d.size(), gen);
  const auto batch = std::span<const std::size_t>(order).subspan(16, 16);
  std::vector<float> x(16 * d.sample_size(), -1.0f);
  std::vector<std::int32_t> y(16, -1);
  hwnas::io::gather_batch(d, batch, x.data(), y.data());
  for (std::size_t k = 0; k < 16; ++k) {
    CHECK(y[k] == d.labels(batch[k]));
    CHECK(std::equal(x.begin() + std::ptrdiff_t(k * d.sample_size()),
                     x.begin() + std::ptrdiff_t((k + 1) * d.sample_size()),
                     d.images.data() + batch[k] * d.sample_size()));
  }
  // labels may be skipped
  std::vector<float> x2(x.size());
  hwnas::io::gather_batch(d, batch, x2.data(), nullptr);
  CHECK(x2 == x);
  // tensor form, reshaped as needed
  xt::xtensor<float, 4> xt_images;
  xt::xtensor<std::int32_t, 1> xt_labels;
  hwnas::io::gather_batch(d, batch, xt_images, xt_labels);
  REQUIRE(xt_images.shape()[0] == 16);
  CHECK(xt_images.shape()[1] == 3);
  CHECK(xt_images.shape()[2] == 4);
  CHECK(xt_images.shape()[3] == 5);
  CHECK(std::equal(x.begin(), x.end(), xt_images.data()));
  CHECK(std::equal(y.begin(), y.end(), xt_labels.data()));
  // a short last batch
  hwnas::io::gather_batch(d, std::span<const std::size_t>(order).subspan(48), xt_images, xt_labels);
  CHECK(xt_images.shape()[0] == 2);
  CHECK(xt_labels.size() == 2);
  CHECK(xt_labels(1) == d.labels(order[49]));

  const std::vector<std::size_t> bad{1, 50};
  CHECK_THROWS_WITH_AS(hwnas::io::gather_batch(d, bad, x.data(), y.data()),
                       doctest::Contains("index 50 out of range for a dataset of 50 samples"), hwnas::invalid_argument);
}
