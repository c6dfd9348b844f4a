// nn/network.hpp and nn/integer_network.hpp: gradients of a whole float network against finite differences, the QAT
// forward against integer-only inference bit for bit on random networks, the QAT epilogue against its scalar twin,
// and the rejection of bad architectures.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "hwnas/core/architecture.hpp"
#include "hwnas/core/error.hpp"
#include "hwnas/core/parallel.hpp"
#include "hwnas/core/qformat.hpp"
#include "hwnas/core/rng.hpp"
#include "hwnas/io/architecture_json.hpp"
#include "hwnas/nn/detail/qat.hpp"
#include "hwnas/nn/integer_network.hpp"
#include "hwnas/nn/network.hpp"

namespace {

using hwnas::architecture;
using hwnas::conv_layer;
using hwnas::qformat;

std::vector<float> random_images(std::size_t n, const architecture& a, hwnas::rng& g) {
  std::vector<float> x(n * static_cast<std::size_t>(a.input.size()));
  for (auto& v : x) v = static_cast<float>(g.uniform());
  return x;
}

/// A small float network with two conv layers (pool, stride 2) and a classifier.
architecture small_float_arch() {
  architecture a;
  a.input = {2, 9, 8};
  a.classes = 3;
  conv_layer c1;
  c1.filters = 4;
  c1.kernel = 3;
  c1.pool = 2;
  conv_layer c2;
  c2.filters = 3;
  c2.kernel = 2;
  c2.stride = 2;
  a.layers = {c1, c2};
  return a;
}

/// A random valid architecture: 1..3 conv layers, kernels 1..7, strides 1..3, pools; quantized with random
/// formats of 2..16 bits when `quantized` is true.
architecture random_arch(hwnas::rng& g, bool quantized) {
  for (;;) {
    architecture a;
    a.input = {1 + static_cast<int>(g.below(3)), 6 + static_cast<int>(g.below(12)), 6 + static_cast<int>(g.below(12))};
    a.classes = 2 + static_cast<int>(g.below(9));
    const int layers = 1 + static_cast<int>(g.below(3));
    for (int l = 0; l < layers; ++l) {
      conv_layer c;
      c.filters = 1 + static_cast<int>(g.below(12));
      c.kernel = 1 + static_cast<int>(g.below(7));
      c.stride = 1 + static_cast<int>(g.below(3));
      c.pool = g.below(2) ? 2 : 1;
      a.layers.push_back(c);
    }
    if (quantized) {
      auto weight = [&] {
        const int bits = 2 + static_cast<int>(g.below(15));  // 2..16
        const int i = static_cast<int>(g.below(static_cast<std::uint64_t>(std::min(bits - 1, 3) + 1)));
        return qformat::weight(i, bits - 1 - i);
      };
      auto activation = [&] {
        const int bits = 2 + static_cast<int>(g.below(15));
        const int i = static_cast<int>(g.below(static_cast<std::uint64_t>(std::min(bits, 4) + 1)));
        return qformat::activation(i, bits - i);
      };
      for (auto& c : a.layers) {
        c.weight_format = weight();
        c.activation_format = activation();
      }
      a.classifier.weight_format = weight();
      a.input_format = g.below(2) ? qformat::activation(0, 8) : activation();
    }
    try {
      hwnas::validate(a);
      return a;
    } catch (const hwnas::invalid_argument&) {
      // the feature map shrank to nothing: draw again
    }
  }
}

/// Random latent parameters spread over each format (and biases large enough to matter; with `wide_bias`, some
/// blocks of biases far larger, to reach wide accumulators).
void randomize(hwnas::nn::network& net, hwnas::rng& g, bool wide_bias = false) {
  auto p = net.parameters();
  for (const auto& b : net.blocks()) {
    const double scale = b.is_weight ? 1.5 / std::sqrt(static_cast<double>(b.fan_in)) + 0.3 : wide_bias && g.below(3) == 0 ? 8.0 : 0.5;
    for (std::size_t i = 0; i < b.size; ++i) p[b.offset + i] = static_cast<float>(g.uniform(-scale, scale));
  }
}

}  // namespace

TEST_CASE("network: gradients of a whole float network match central finite differences") {
  const auto a = small_float_arch();
  hwnas::nn::network net(a, 7);
  hwnas::rng g(11);
  randomize(net, g);
  const std::size_t n = 4;
  const auto x = random_images(n, a, g);
  const std::vector<std::int32_t> y = {0, 2, 1, 2};
  net.forward_backward(x.data(), y.data(), n);
  const std::vector<float> grad(net.gradients().begin(), net.gradients().end());
  auto loss = [&] { return net.evaluate(x.data(), y.data(), n).mean_loss(); };

  // every parameter of every block: weights of both conv layers and the classifier, and all biases
  int checked = 0, nonzero = 0;
  double worst = 0.0;
  for (std::size_t i = 0; i < net.parameter_count(); ++i) {
    auto p = net.parameters();
    const float saved = p[i];
    const float eps = 2e-3f;
    p[i] = saved + eps;
    const double up = loss();
    p[i] = saved - eps;
    const double down = loss();
    p[i] = saved;
    const double fd = (up - down) / (2.0 * eps);
    const double err = std::abs(fd - grad[i]) / (1e-3 + std::abs(fd) + std::abs(grad[i]));
    worst = std::max(worst, err);
    ++checked;
    nonzero += std::abs(grad[i]) > 1e-4;
    CHECK_MESSAGE(err < 0.05, "parameter " << i << ": analytic " << grad[i] << ", finite difference " << fd);
  }
  CHECK(checked == static_cast<int>(net.parameter_count()));
  CHECK(nonzero > checked / 2);  // the check is not vacuous
  MESSAGE("worst relative gradient error " << worst);
}

TEST_CASE("network: gradients are the same whatever the slicing, to float rounding, and sum over slices") {
  const auto a = small_float_arch();
  hwnas::nn::network net(a, 3);
  hwnas::rng g(5);
  const std::size_t n = 7;
  const auto x = random_images(n, a, g);
  std::vector<std::int32_t> y(n);
  for (auto& v : y) v = static_cast<std::int32_t>(g.below(3));
  const auto s1 = net.forward_backward(x.data(), y.data(), n, nullptr, 1);
  const std::vector<float> g1(net.gradients().begin(), net.gradients().end());
  hwnas::thread_pool pool(2);
  const auto s3 = net.forward_backward(x.data(), y.data(), n, &pool, 3);
  CHECK(s1.count == n);
  CHECK(s3.count == n);
  CHECK(s1.correct == s3.correct);
  CHECK(s1.loss_sum == doctest::Approx(s3.loss_sum).epsilon(1e-5));
  for (std::size_t i = 0; i < g1.size(); ++i) CHECK(net.gradients()[i] == doctest::Approx(g1[i]).epsilon(1e-4).scale(1e-5));
}

TEST_CASE("network: evaluation and prediction are the same bit for bit on 1, 2 or 3 threads (dynamic chunks)") {
  for (const int bits : {0, 5}) {
    CAPTURE(bits);
    const auto a = bits ? hwnas::with_uniform_bits(small_float_arch(), bits) : small_float_arch();
    hwnas::nn::network net(a, 11);
    hwnas::rng g(6);
    const std::size_t n = 64 * 5 + 13;  // several chunks of 64 and a short one
    const auto x = random_images(n, a, g);
    std::vector<std::int32_t> y(n);
    for (auto& v : y) v = static_cast<std::int32_t>(g.below(3));
    const auto one = net.evaluate(x.data(), y.data(), n);
    std::vector<std::int32_t> p1(n);
    net.predict(x.data(), n, p1.data());
    for (const std::size_t threads : {2u, 3u}) {
      hwnas::thread_pool pool(threads);
      const auto many = net.evaluate(x.data(), y.data(), n, &pool);
      CHECK(many.loss_sum == one.loss_sum);  // per-chunk sums added in chunk order, whoever ran them
      CHECK(many.correct == one.correct);
      std::vector<std::int32_t> p(n);
      net.predict(x.data(), n, p.data(), &pool);
      CHECK(p == p1);
      if (bits) {
        const auto inet = net.to_integer();
        std::vector<std::int32_t> pi1(n);
        inet.predict(x.data(), n, pi1.data());
        inet.predict(x.data(), n, p.data(), &pool);
        CHECK(p == pi1);
        CHECK(p == p1);  // and equal to the QAT network's
      }
    }
  }
}

TEST_CASE("network: QAT forward equals integer-only inference bit for bit on random networks (2..16 bits)") {
  hwnas::rng g(2024);
  int float_layers = 0, integer_layers = 0, lively = 0;
  for (int trial = 0; trial < 80; ++trial) {
    const auto a = random_arch(g, true);
    hwnas::nn::network net(a, static_cast<std::uint64_t>(trial));
    randomize(net, g, true);
    for (std::size_t l = 0; l < net.layer_count(); ++l) (net.float_exact(l) ? float_layers : integer_layers)++;
    const std::size_t n = 1 + g.below(5);
    auto x = random_images(n, a, g);
    x[0] = 1.0f;  // edge values of the input quantization
    if (x.size() > 2) {
      x[1] = 0.0f;
      x[2] = 0.5f / 256.0f;
    }
    const auto t = net.trace(x.data(), n);
    const auto inet = net.to_integer();
    const auto u = inet.trace(x.data(), n);
    INFO("trial " << trial << ": " << hwnas::geometry(a).size() << " layers");
    REQUIRE(t.activations.size() == a.layers.size());
    REQUIRE(u.activations.size() == a.layers.size());
    for (std::size_t l = 0; l < a.layers.size(); ++l) CHECK(t.activations[l] == u.activations[l]);
    CHECK(t.logits == u.logits);
    std::vector<std::int32_t> p1(n), p2(n);
    net.predict(x.data(), n, p1.data());
    inet.predict(x.data(), n, p2.data());
    CHECK(p1 == p2);
    bool nonzero = false;
    for (const auto v : t.logits) nonzero = nonzero || v != 0;
    lively += nonzero;
  }
  CHECK(lively > 60);          // most random networks are not dead: the comparison has content
  CHECK(float_layers > 20);    // both QAT paths were exercised
  CHECK(integer_layers > 20);
}

TEST_CASE("network: QAT forward stays bit-identical to integer inference after training steps") {
  auto a = hwnas::with_uniform_bits(small_float_arch(), 5);
  hwnas::nn::network net(a, 1);
  hwnas::rng g(9);
  const std::size_t n = 16;
  const auto x = random_images(n, a, g);
  std::vector<std::int32_t> y(n);
  for (auto& v : y) v = static_cast<std::int32_t>(g.below(3));
  hwnas::thread_pool pool(2);
  for (int step = 0; step < 5; ++step) {
    net.forward_backward(x.data(), y.data(), n, &pool);
    net.sgd_step(0.1f, {});
  }
  const auto t = net.trace(x.data(), n);
  const auto u = net.to_integer().trace(x.data(), n);
  CHECK(t.activations == u.activations);
  CHECK(t.logits == u.logits);
  // latent weights stay inside their formats
  const auto wf = *a.layers[0].weight_format;
  for (const auto& b : net.blocks())
    if (b.is_weight && b.layer == 0)
      for (std::size_t i = 0; i < b.size; ++i) {
        CHECK(net.parameters()[b.offset + i] <= wf.max_value());
        CHECK(net.parameters()[b.offset + i] >= wf.min_value());
      }
}

TEST_CASE("network: the straight-through estimator passes gradients only inside the clamp range") {
  // one 1x1 conv with one filter on a 1x1 image: pre-activation z = w * x + b; output format u1.3 (max 1.875)
  architecture a;
  a.input = {1, 1, 1};
  a.classes = 2;
  conv_layer c;
  c.filters = 1;
  c.kernel = 1;
  c.weight_format = qformat::weight(1, 6);
  c.activation_format = qformat::activation(1, 3);
  a.layers = {c};
  a.classifier.weight_format = qformat::weight(1, 6);
  a.input_format = qformat::activation(0, 8);
  hwnas::nn::network net(a, 1);
  auto p = net.parameters();
  // layout: conv w (1), conv b (1), classifier w (2x1), classifier b (2)
  p[0] = 1.0f;
  p[2] = 1.0f;
  p[3] = -1.0f;
  const float x = 0.5f;
  const std::int32_t y = 0;
  auto conv_grad = [&](float bias) {
    net.parameters()[1] = bias;
    net.forward_backward(&x, &y, 1);
    return net.gradients()[0];
  };
  CHECK(conv_grad(0.25f) != 0.0f);   // z = 0.75: inside (0, 1.875)
  CHECK(conv_grad(-1.0f) == 0.0f);   // z < 0: ReLU
  CHECK(conv_grad(1.5f) == 0.0f);    // z = 2.0 > 1.875: saturated
}

TEST_CASE("network: QAT epilogue, SIMD and scalar twin agree on every shift") {
  hwnas::rng g(77);
  for (int trial = 0; trial < 200; ++trial) {
    const int in_frac = static_cast<int>(g.below(12)), w_frac = static_cast<int>(g.below(12));
    const int acc_frac = in_frac + w_frac;
    const int bits = 1 + static_cast<int>(g.below(16));
    const int i = static_cast<int>(g.below(static_cast<std::uint64_t>(bits + 1)));
    const qformat out = qformat::activation(i, bits - i);
    const hwnas::nn::detail::epilogue_params ep(acc_frac, out);
    const std::size_t channels = 1 + g.below(3), pixels = 1 + g.below(40);
    std::vector<float> z(channels * pixels);
    const double range = std::ldexp(1.0, 22);
    for (auto& v : z) v = static_cast<float>(std::round(g.uniform(-range, range) / std::ldexp(1.0, static_cast<int>(g.below(20))))) *
                          std::ldexp(1.0f, -acc_frac);
    std::vector<std::int32_t> bias(channels);
    for (auto& b : bias) b = static_cast<std::int32_t>(g.uniform(-1e6, 1e6));
    std::vector<float> v1(z.size()), m1(z.size()), v2(z.size()), m2(z.size());
    hwnas::nn::detail::qat_epilogue_ref(z.data(), 1, channels, pixels, bias.data(), ep, v1.data(), m1.data());
    hwnas::nn::detail::qat_epilogue(z.data(), 1, channels, pixels, bias.data(), ep, v2.data(), m2.data());
    CHECK(v1 == v2);
    CHECK(m1 == m2);
    // and both are hwnas::requantize
    for (std::size_t k = 0; k < z.size(); ++k) {
      const std::int64_t t = static_cast<std::int64_t>(z[k] * std::ldexp(1.0, acc_frac)) + bias[k / pixels];
      REQUIRE(v1[k] == static_cast<float>(hwnas::requantize(t, acc_frac, out) * out.step()));
    }
  }
}

TEST_CASE("network: QAT epilogue on integer accumulators is hwnas::requantize, wide values included") {
  hwnas::rng g(78);
  for (int trial = 0; trial < 200; ++trial) {
    const int acc_frac = static_cast<int>(g.below(31));
    const int bits = 1 + static_cast<int>(g.below(16));
    const int i = static_cast<int>(g.below(static_cast<std::uint64_t>(bits + 1)));
    const qformat out = qformat::activation(i, bits - i);
    const hwnas::nn::detail::epilogue_params ep(acc_frac, out);
    const std::size_t pixels = 1 + g.below(30);
    std::vector<std::int64_t> acc(pixels);
    for (auto& v : acc) v = static_cast<std::int64_t>(g.uniform(-1.0, 1.0) * std::ldexp(1.0, static_cast<int>(g.below(41))));
    const std::int32_t bias = static_cast<std::int32_t>(g.uniform(-2e9, 2e9));
    std::vector<float> value(pixels), mask(pixels);
    hwnas::nn::detail::qat_epilogue_int(acc.data(), 1, 1, pixels, &bias, ep, value.data(), mask.data());
    for (std::size_t k = 0; k < pixels; ++k) {
      const std::int64_t t = acc[k] + bias;
      REQUIRE(value[k] == static_cast<float>(hwnas::requantize(t, acc_frac, out) * out.step()));
      const double z = std::ldexp(static_cast<double>(t), -acc_frac);
      REQUIRE(mask[k] == ((z > 0.0 && z < out.max_value()) ? 1.0f : 0.0f));
    }
  }
}

TEST_CASE("network: rounding latent weights to their formats is hwnas::quantize, ties and saturation included") {
  hwnas::rng g(79);
  for (int trial = 0; trial < 100; ++trial) {
    const int bits = 1 + static_cast<int>(g.below(16));  // 1: bipolar
    const int i = static_cast<int>(g.below(static_cast<std::uint64_t>(std::min(bits - 1, 4) + 1)));
    const qformat f = qformat::weight(i, bits - 1 - i);
    std::vector<float> x;
    for (int k = 0; k < 100; ++k) x.push_back(static_cast<float>(g.uniform(-1.5, 1.5) * f.max_value()));
    for (int k = -40; k <= 40; ++k) x.push_back(static_cast<float>((k + 0.5) * f.step()));  // exact ties
    x.push_back(std::nextafter(static_cast<float>(0.5 * f.step()), 0.0f));                 // just below a tie
    x.push_back(static_cast<float>(f.max_value() + 10.0));
    x.push_back(static_cast<float>(f.min_value() - 10.0));
    x.push_back(std::nanf(""));
    std::vector<float> v1(x.size()), v2(x.size());
    std::vector<std::int16_t> c1(x.size()), c2(x.size());
    hwnas::nn::detail::round_to_format_ref(x.data(), x.size(), f, v1.data(), c1.data());
    hwnas::nn::detail::round_to_format(x.data(), x.size(), f, v2.data(), c2.data());
    CHECK(c1 == c2);
    CHECK(v1 == v2);
    for (std::size_t k = 0; k < x.size(); ++k) REQUIRE(c2[k] == hwnas::quantize(x[k], f));
  }
}

TEST_CASE("network: bad architectures and misuse are rejected with clear errors") {
  auto a = hwnas::reference_cnn();
  a.layers[0].weight_format = qformat::weight(0, 3);  // partly quantized
  CHECK_THROWS_AS(hwnas::nn::network{a}, hwnas::invalid_argument);
  try {
    hwnas::nn::network n(a);
  } catch (const hwnas::invalid_argument& e) {
    CHECK(std::string(e.what()).find("partly quantized") != std::string::npos);
  }
  auto b = hwnas::reference_cnn();
  b.layers[1].kernel = 9;
  CHECK_THROWS_AS(hwnas::nn::network{b}, hwnas::invalid_argument);
  auto c = hwnas::reference_cnn();
  c.layers[0].stride = 3;
  c.layers[1].stride = 3;
  c.layers.push_back(c.layers[0]);  // 28 -> 5 -> 1 -> 0: shrinks to nothing
  CHECK_THROWS_AS(hwnas::nn::network{c}, hwnas::invalid_argument);
  auto d = hwnas::with_uniform_bits(hwnas::reference_cnn(), 4);
  d.layers[0].activation_format = qformat::weight(0, 3);  // signed activations
  CHECK_THROWS_AS(hwnas::nn::network{d}, hwnas::invalid_argument);

  hwnas::nn::network f(hwnas::reference_cnn());
  CHECK_THROWS_AS(f.to_integer(), hwnas::invalid_argument);
  std::vector<float> x(784, 0.5f);
  CHECK_THROWS_AS(f.trace(x.data(), 1), hwnas::invalid_argument);
  const std::int32_t bad_label = 10;
  CHECK_THROWS_AS(f.forward_backward(x.data(), &bad_label, 1), hwnas::invalid_argument);
}

TEST_CASE("network: construction is cheap, copies are independent, initialization is seeded") {
  const auto a = hwnas::reference_cnn();
  hwnas::nn::network n1(a, 42), n2(a, 42), n3(a, 43);
  CHECK(std::equal(n1.parameters().begin(), n1.parameters().end(), n2.parameters().begin()));
  CHECK_FALSE(std::equal(n1.parameters().begin(), n1.parameters().end(), n3.parameters().begin()));
  CHECK(n1.parameter_count() == 16 * 9 + 16 + 32 * 16 * 9 + 32 + 1568 * 10 + 10);
  // He init: the sample standard deviation of the second conv's weights is near sqrt(2 / 144)
  const auto& blk = n1.blocks()[2];
  double s2 = 0.0;
  for (std::size_t i = 0; i < blk.size; ++i) s2 += double(n1.parameters()[blk.offset + i]) * n1.parameters()[blk.offset + i];
  CHECK(std::sqrt(s2 / double(blk.size)) == doctest::Approx(std::sqrt(2.0 / 144.0)).epsilon(0.05));
  hwnas::nn::network copy = n1;
  copy.parameters()[0] += 1.0f;
  CHECK(copy.parameters()[0] != n1.parameters()[0]);
}

TEST_CASE("network: the reference architecture files are the reference CNN, float and 4-bit") {
  const std::string dir = std::string(HWNAS_SOURCE_DIR) + "/examples/architectures/";
  CHECK(hwnas::io::load_architecture(dir + "reference_cnn.json") == hwnas::reference_cnn());
  CHECK(hwnas::io::load_architecture(dir + "reference_cnn_4bit.json") ==
        hwnas::with_uniform_bits(hwnas::reference_cnn(), 4));
}
