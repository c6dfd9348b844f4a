// nn/train.hpp and nn/optimizer.hpp: a tiny network learns a separable synthetic task (float and QAT, with the
// integer network agreeing), runs are reproducible, divergence throws, bad options are rejected, schedules and
// the SGD update follow their formulas.

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "hwnas/core/architecture.hpp"
#include "hwnas/core/error.hpp"
#include "hwnas/core/parallel.hpp"
#include "hwnas/core/rng.hpp"
#include "hwnas/io/dataset.hpp"
#include "hwnas/nn/integer_network.hpp"
#include "hwnas/nn/network.hpp"
#include "hwnas/nn/optimizer.hpp"
#include "hwnas/nn/train.hpp"
#include "../common/bars.hpp"

namespace {

using hwnas::test::bars;

hwnas::architecture tiny_arch() {
  hwnas::architecture a;
  a.input = {1, 12, 12};
  a.classes = 4;
  hwnas::conv_layer c;
  c.filters = 6;
  c.kernel = 3;
  c.pool = 2;
  a.layers = {c};
  return a;
}

hwnas::nn::train_config quick_config() {
  hwnas::nn::train_config c;
  c.epochs = 4;
  c.batch = 32;
  c.learning_rate = 0.05;
  c.threads = 2;
  c.max_shift = 1;
  c.seed = 3;
  return c;
}

}  // namespace

TEST_CASE("train: a tiny float network learns a separable task") {
  const auto train_set = bars(1024, 1), test_set = bars(512, 2);
  hwnas::nn::network net(tiny_arch(), 1);
  const auto before = hwnas::nn::evaluate(net, test_set).accuracy();
  int calls = 0;
  const auto r = hwnas::nn::train(net, train_set, &test_set, quick_config(), [&](const hwnas::nn::epoch_report& e) {
    ++calls;
    CHECK(e.epoch == calls);
    CHECK(e.validation_accuracy.has_value());
    CHECK(e.images_per_second > 0.0);
    return true;
  });
  CHECK(calls == 4);
  REQUIRE(r.history.size() == 4);
  CHECK(r.history.back().loss < r.history.front().loss);
  const auto after = hwnas::nn::evaluate(net, test_set).accuracy();
  MESSAGE("float: " << before << " -> " << after);
  CHECK(after >= 0.95);
  CHECK(*r.history.back().validation_accuracy == doctest::Approx(after));
}

TEST_CASE("train: QAT at 6 bits learns the task and integer inference gives the same accuracy") {
  const auto train_set = bars(1024, 1), test_set = bars(512, 2);
  hwnas::nn::network net(hwnas::with_uniform_bits(tiny_arch(), 6), 1);
  hwnas::nn::train(net, train_set, nullptr, quick_config());
  hwnas::thread_pool pool(2);
  const auto qat = hwnas::nn::evaluate(net, test_set, &pool).accuracy();
  const auto integer = net.to_integer().accuracy(test_set, &pool);
  MESSAGE("QAT " << qat << ", integer " << integer);
  CHECK(qat >= 0.95);
  CHECK(integer == qat);
}

TEST_CASE("train: 1-bit weights are bipolar {-1, +1} and learn, QAT and integer inference agree") {
  // With two's complement bits ({-1, 0}) no weight is positive and no ReLU fires: 10% (chance) on Fashion-MNIST.
  auto a = tiny_arch();
  a.input_format = hwnas::qformat::activation(0, 8);
  a.layers[0].weight_format = hwnas::qformat::weight(0, 0);
  a.layers[0].activation_format = hwnas::qformat::activation(2, 2);
  a.classifier.weight_format = hwnas::qformat::weight(0, 0);
  const auto train_set = bars(1024, 1), test_set = bars(512, 2);
  hwnas::nn::network net(a, 1);
  hwnas::nn::train(net, train_set, nullptr, quick_config());
  hwnas::thread_pool pool(2);
  const auto qat = hwnas::nn::evaluate(net, test_set, &pool).accuracy();
  const auto integer_net = net.to_integer();
  const auto integer = integer_net.accuracy(test_set, &pool);
  MESSAGE("1-bit weights: QAT " << qat << ", integer " << integer);
  CHECK(qat >= 0.8);  // 4 classes: chance is 0.25
  CHECK(integer == qat);
}

TEST_CASE("train: the same seed gives the same run, bit for bit, equal slices give equal runs on 1 or 2 threads") {
  const auto train_set = bars(300, 4);
  auto run = [&](std::size_t threads, std::size_t slices, std::uint64_t seed) {
    hwnas::nn::network net(hwnas::with_uniform_bits(tiny_arch(), 8), 5);
    auto c = quick_config();
    c.epochs = 2;
    c.threads = threads;
    c.slices = slices;
    c.seed = seed;
    const auto r = hwnas::nn::train(net, train_set, nullptr, c);
    std::vector<double> losses;
    for (const auto& e : r.history) losses.push_back(e.loss);
    losses.insert(losses.end(), net.parameters().begin(), net.parameters().end());
    return losses;
  };
  const auto a = run(2, 0, 1), b = run(2, 0, 1);
  CHECK(a == b);
  CHECK(run(1, 2, 1) == a);  // 2 slices on 1 thread == 1 slice on each of 2 threads
  CHECK(run(2, 0, 2) != a);  // another seed, another run

  hwnas::nn::network f1(tiny_arch(), 5), f2(tiny_arch(), 5);
  auto c = quick_config();
  c.epochs = 1;
  const auto r1 = hwnas::nn::train(f1, train_set, nullptr, c), r2 = hwnas::nn::train(f2, train_set, nullptr, c);
  CHECK(r1.history[0].loss == r2.history[0].loss);
}

TEST_CASE("train: an absurd learning rate throws training_error naming the epoch, not a crash or a hang") {
  const auto train_set = bars(256, 4);
  hwnas::nn::network net(tiny_arch(), 1);
  auto c = quick_config();
  c.learning_rate = 1e30;
  c.schedule = hwnas::nn::lr_schedule::constant;
  c.warmup = 0.0;
  try {
    hwnas::nn::train(net, train_set, nullptr, c);
    FAIL("training did not diverge");
  } catch (const hwnas::training_error& e) {
    const std::string msg = e.what();
    CHECK(msg.find("diverged at epoch 1 batch") != std::string::npos);
    CHECK(msg.find("lower the learning rate") != std::string::npos);
  }
}

TEST_CASE("train: bad options and data are rejected") {
  const auto train_set = bars(64, 4);
  hwnas::nn::network net(tiny_arch(), 1);
  auto bad = [&](auto&& change) {
    auto c = quick_config();
    change(c);
    CHECK_THROWS_AS(hwnas::nn::train(net, train_set, nullptr, c), hwnas::invalid_argument);
  };
  bad([](auto& c) { c.batch = 0; });
  bad([](auto& c) { c.learning_rate = -1.0; });
  bad([](auto& c) { c.learning_rate = std::nan(""); });
  bad([](auto& c) { c.momentum = 1.0; });
  bad([](auto& c) { c.epochs = -1; });
  bad([](auto& c) { c.max_shift = 20; });
  bad([](auto& c) { c.warmup = 2.0; });
  hwnas::nn::network wrong(hwnas::reference_cnn(), 1);  // 28x28 input, data is 12x12
  CHECK_THROWS_AS(hwnas::nn::train(wrong, train_set, nullptr, quick_config()), hwnas::invalid_argument);
  CHECK_THROWS_AS(hwnas::nn::parse_lr_schedule("linear"), hwnas::invalid_argument);
  CHECK(hwnas::nn::parse_lr_schedule("cosine") == hwnas::nn::lr_schedule::cosine);
}

TEST_CASE("optimizer: schedules follow their formulas") {
  using hwnas::nn::scheduled_lr;
  hwnas::nn::schedule_config s;
  s.kind = hwnas::nn::lr_schedule::one_cycle;
  s.warmup = 0.2;
  CHECK(scheduled_lr(s, 1.0, 0, 100, 10) == doctest::Approx(1.0 / 25.0));
  CHECK(scheduled_lr(s, 1.0, 20, 100, 10) == doctest::Approx(1.0));
  CHECK(scheduled_lr(s, 1.0, 60, 100, 10) == doctest::Approx(0.5));
  CHECK(scheduled_lr(s, 1.0, 99, 100, 10) < 0.001);
  s.kind = hwnas::nn::lr_schedule::cosine;
  s.warmup = 0.0;
  CHECK(scheduled_lr(s, 2.0, 0, 100, 10) == doctest::Approx(2.0));
  CHECK(scheduled_lr(s, 2.0, 50, 100, 10) == doctest::Approx(1.0));
  s.kind = hwnas::nn::lr_schedule::step;
  s.step_epochs = 2;
  s.gamma = 0.5;
  CHECK(scheduled_lr(s, 1.0, 19, 100, 10) == doctest::Approx(1.0));
  CHECK(scheduled_lr(s, 1.0, 20, 100, 10) == doctest::Approx(0.5));
  CHECK(scheduled_lr(s, 1.0, 45, 100, 10) == doctest::Approx(0.25));
  s.kind = hwnas::nn::lr_schedule::constant;
  s.warmup = 0.1;
  CHECK(scheduled_lr(s, 1.0, 4, 100, 10) == doctest::Approx(0.5));
  CHECK(scheduled_lr(s, 1.0, 50, 100, 10) == doctest::Approx(1.0));
}

TEST_CASE("optimizer: SGD with momentum, Nesterov and weight decay follows PyTorch's update") {
  std::vector<float> w = {1.0f, -2.0f}, v = {0.5f, 0.0f};
  const std::vector<float> g = {0.1f, 0.2f};
  hwnas::nn::sgd_config c{0.9, true, 0.01};
  hwnas::nn::sgd_update(w, g, v, 0.1f, c, true);
  // g' = g + wd w = {0.11, 0.18}; v = 0.9 v + g' = {0.56, 0.18}; w -= lr (g' + 0.9 v)
  CHECK(v[0] == doctest::Approx(0.56));
  CHECK(v[1] == doctest::Approx(0.18));
  CHECK(w[0] == doctest::Approx(1.0 - 0.1 * (0.11 + 0.9 * 0.56)));
  CHECK(w[1] == doctest::Approx(-2.0 - 0.1 * (0.18 + 0.9 * 0.18)));
  std::vector<float> w2 = {1.0f}, v2 = {0.5f};
  hwnas::nn::sgd_update(w2, std::vector<float>{0.1f}, v2, 0.1f, {0.9, false, 0.0}, false);
  CHECK(v2[0] == doctest::Approx(0.55));
  CHECK(w2[0] == doctest::Approx(1.0 - 0.055));
}

TEST_CASE("train: random shifts move the image and fill with zeros") {
  std::vector<float> src(2 * 3 * 4), dst(src.size());
  for (std::size_t i = 0; i < src.size(); ++i) src[i] = static_cast<float>(i + 1);
  hwnas::nn::detail::shifted_copy(src.data(), dst.data(), 2, 3, 4, 1, -1);  // down 1, left 1
  // channel 0: row 0 zero; row 1 = src row 0 shifted left: {2, 3, 4, 0}
  CHECK(dst[0] == 0.0f);
  CHECK(dst[4] == 2.0f);
  CHECK(dst[6] == 4.0f);
  CHECK(dst[7] == 0.0f);
  CHECK(dst[12 + 4] == 14.0f);  // channel 1 likewise
  hwnas::nn::detail::shifted_copy(src.data(), dst.data(), 2, 3, 4, 0, 0);
  CHECK(dst == src);
  hwnas::nn::detail::shifted_copy(src.data(), dst.data(), 2, 3, 4, 0, 5);  // all out
  for (const float v : dst) CHECK(v == 0.0f);
}

TEST_CASE("train: a flip mirrors each row, random flips hide left from right") {
  std::vector<float> img(2 * 2 * 3);
  for (std::size_t i = 0; i < img.size(); ++i) img[i] = static_cast<float>(i);
  hwnas::nn::detail::mirror(img.data(), 2, 2, 3);
  CHECK(img == std::vector<float>{2, 1, 0, 5, 4, 3, 8, 7, 6, 11, 10, 9});

  // Classes 2 and 3 of `bars` differ only by the side of a vertical bar: trained on randomly mirrored images, the
  // network cannot tell them apart, while top and bottom (classes 0 and 1) stay as easy as without flips.
  const auto train_set = bars(1024, 1), test_set = bars(512, 2);
  auto cfg = quick_config();
  cfg.random_flip = true;
  hwnas::nn::network net(tiny_arch(), 1);
  hwnas::nn::train(net, train_set, nullptr, cfg);
  std::vector<std::int32_t> pred(test_set.size());
  net.predict(test_set.images.data(), test_set.size(), pred.data());
  std::size_t hits[2] = {0, 0}, count[2] = {0, 0};
  for (std::size_t i = 0; i < pred.size(); ++i) {
    const int side = test_set.labels(i) >= 2;
    ++count[side];
    hits[side] += pred[i] == test_set.labels(i);
  }
  const double horizontal = static_cast<double>(hits[0]) / static_cast<double>(count[0]);
  const double vertical = static_cast<double>(hits[1]) / static_cast<double>(count[1]);
  MESSAGE("with flips: horizontal bars " << horizontal << ", vertical bars " << vertical);
  CHECK(horizontal >= 0.95);
  CHECK(vertical <= 0.75);
}

namespace {
/// A hook of the search's shape: on_epoch sees every epoch, should_stop ends the run.
struct epoch_counter {
  int seen = 0, stop_after = 0;
  void on_epoch(const hwnas::nn::epoch_report& e) {
    ++seen;
    CHECK(e.epoch == seen);
  }
  bool should_stop(const hwnas::nn::epoch_report& e) const { return stop_after > 0 && e.epoch >= stop_after; }
};
}  // namespace

TEST_CASE("train: hooks are a trailing pack, each optional: callables and on_epoch / should_stop members") {
  const auto train_set = bars(256, 1);
  hwnas::thread_pool pool(2);
  auto c = quick_config();
  c.epochs = 3;
  {
    hwnas::nn::network net(tiny_arch(), 1);
    epoch_counter all, watcher;
    const auto r = hwnas::nn::train(net, train_set, nullptr, c, pool, all, watcher);
    CHECK(all.seen == 3);
    CHECK(watcher.seen == 3);
    CHECK_FALSE(r.stopped);
  }
  {
    hwnas::nn::network net(tiny_arch(), 1);
    epoch_counter stopper{.seen = 0, .stop_after = 1};
    int calls = 0;
    const auto r = hwnas::nn::train(net, train_set, nullptr, c, pool, stopper,
                                    [&](const hwnas::nn::epoch_report&) { return ++calls < 5; });
    CHECK(r.stopped);
    CHECK(r.history.size() == 1);
    CHECK(stopper.seen == 1);
    CHECK(calls == 1);  // every hook sees the epoch that stops the run
  }
  {
    hwnas::nn::network net(tiny_arch(), 1);
    const hwnas::nn::epoch_callback empty;  // an empty std::function is skipped, not called
    CHECK(hwnas::nn::train(net, train_set, nullptr, c, empty).history.size() == 3);
  }
}
