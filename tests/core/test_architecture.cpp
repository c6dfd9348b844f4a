#include <doctest/doctest.h>

#include "hwnas/core/architecture.hpp"

TEST_CASE("architecture: reference CNN geometry matches issue 2") {
  const auto a = hwnas::reference_cnn();
  const auto g = hwnas::geometry(a);
  REQUIRE(g.size() == 3);
  CHECK(g[0].in_channels == 1);
  CHECK(g[0].out_channels == 16);
  CHECK(g[0].out_height == 28);
  CHECK(g[0].pooled_height == 14);
  CHECK(g[0].pad_top == 1);
  CHECK(g[1].in_channels == 16);
  CHECK(g[1].out_height == 14);
  CHECK(g[1].pooled_width == 7);
  CHECK(g[2].is_classifier);
  CHECK(g[2].in_channels == 1568);  // 32 * 7 * 7
  CHECK(g[2].out_channels == 10);
  CHECK(hwnas::total_macs(a) == 28 * 28 * 16 * 9 + 14 * 14 * 32 * 16 * 9 + 1568 * 10);
  CHECK_FALSE(a.quantized());
  CHECK(g[0].act_bits == 0);
}

TEST_CASE("architecture: 'same' padding with strides and odd sizes") {
  hwnas::architecture a;
  a.input = {3, 7, 9};
  hwnas::conv_layer l;
  l.filters = 4;
  l.kernel = 4;
  l.stride = 3;
  a.layers = {l};
  const auto g = hwnas::geometry(a);
  CHECK(g[0].out_height == 3);   // ceil(7 / 3)
  CHECK(g[0].out_width == 3);    // ceil(9 / 3)
  CHECK(g[0].pad_top == 1);      // total = (3-1)*3 + 4 - 7 = 3 -> 1 before
  CHECK(g[0].pad_left == 0);     // total = (3-1)*3 + 4 - 9 = 1 -> 0 before
  CHECK(g[1].in_channels == 4 * 3 * 3);
}

TEST_CASE("architecture: bit widths flow from layer to layer") {
  auto a = hwnas::with_uniform_bits(hwnas::reference_cnn(), 4);
  a.layers[0].activation_format = hwnas::qformat::activation(2, 4);  // 6 bits out of layer 0
  CHECK(a.quantized());
  CHECK(a.fully_quantized());
  const auto g = hwnas::geometry(a);
  CHECK(g[0].act_bits == 8);  // input u0.8
  CHECK(g[0].weight_bits == 4);
  CHECK(g[0].out_bits == 6);
  CHECK(g[1].act_bits == 6);
  CHECK(g[2].act_bits == 4);
  CHECK(g[2].weight_bits == 4);
  CHECK_THROWS_AS(hwnas::with_uniform_bits(hwnas::reference_cnn(), 17), hwnas::invalid_argument);
}

TEST_CASE("architecture: validation names the layer and the rule") {
  auto bad = [](auto mutate) {
    auto a = hwnas::reference_cnn();
    mutate(a);
    return a;
  };
  CHECK_THROWS_WITH(hwnas::validate(bad([](auto& a) { a.layers[1].kernel = 9; })),
                    doctest::Contains("layer 1: kernel must be in 1..7"));
  CHECK_THROWS_WITH(hwnas::validate(bad([](auto& a) { a.layers[0].stride = 0; })), doctest::Contains("stride"));
  CHECK_THROWS_WITH(hwnas::validate(bad([](auto& a) { a.layers[0].pool = 3; })), doctest::Contains("pool"));
  CHECK_THROWS_WITH(hwnas::validate(bad([](auto& a) { a.layers[0].filters = -1; })), doctest::Contains("filters"));
  CHECK_THROWS_WITH(hwnas::validate(bad([](auto& a) { a.classes = 1; })), doctest::Contains("classes"));
  CHECK_THROWS_WITH(hwnas::validate(bad([](auto& a) {
                      a.layers[0].weight_format = hwnas::qformat::activation(0, 4);
                    })),
                    doctest::Contains("signed"));
  CHECK_THROWS_WITH(hwnas::validate(bad([](auto& a) {
                      a.layers[0].activation_format = hwnas::qformat::weight(0, 3);
                    })),
                    doctest::Contains("unsigned"));
  CHECK_THROWS_WITH(hwnas::validate(bad([](auto& a) {
                      a.layers.resize(6, a.layers[0]);  // 28 -> 14 -> 7 -> 3 -> 1 -> 0
                    })),
                    doctest::Contains("shrinks to nothing"));
  // The classifier's input (C*H*W) must be representable: 128 filters of 4096x4096 are 2^31 values, one too many
  // (before, the cost models reported "Tn = 1 must be in 1..N = -2147483648").
  auto huge = [](int filters) {
    hwnas::architecture a;
    a.input = {1, 4096, 4096};
    hwnas::conv_layer c;
    c.filters = filters;
    c.kernel = 1;
    a.layers = {c};
    return a;
  };
  CHECK_THROWS_WITH_AS(hwnas::validate(huge(128)), doctest::Contains("classifier: its input would have 2147483648"),
                       hwnas::invalid_argument);
  CHECK_NOTHROW(hwnas::validate(huge(127)));
  CHECK(hwnas::geometry(huge(127)).back().in_channels == 127 * 4096 * 4096);
  CHECK_NOTHROW(hwnas::validate(hwnas::reference_cnn()));
}
