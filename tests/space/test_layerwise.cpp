// space/layerwise.hpp, space/genome.hpp, space/concepts.hpp: the layout of a layer-wise space, decoding and
// encoding genomes (round trips on random genomes), the errors of a bad genome, and the concept.

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "hwnas/core/architecture.hpp"
#include "hwnas/core/error.hpp"
#include "hwnas/core/rng.hpp"
#include "hwnas/space/concepts.hpp"
#include "hwnas/space/layerwise.hpp"

namespace sp = hwnas::space;

namespace {
using naqs_like = sp::layerwise<sp::depth<2, 4>, sp::filters<8, 16, 32, 64>, sp::kernels<1, 3, 5>, sp::pooling<1, 2>>;
using reordered = sp::layerwise<sp::pooling<1, 2>, sp::kernels<1, 3, 5>, sp::filters<8, 16, 32, 64>, sp::depth<2, 4>>;
using fixed_depth = sp::layerwise<sp::filters<16, 32>, sp::depth<2>>;

hwnas::conv_layer layer(int filters, int kernel, int stride, int pool) {
  hwnas::conv_layer l;
  l.filters = filters;
  l.kernel = kernel;
  l.stride = stride;
  l.pool = pool;
  return l;
}

hwnas::genome random_genome(std::span<const int> layout, hwnas::rng& r) {
  hwnas::genome g;
  for (const int c : layout) g.push_back(static_cast<int>(r.below(static_cast<std::uint64_t>(c))));
  return g;
}
}  // namespace

static_assert(sp::SearchSpace<naqs_like>);
static_assert(sp::SearchSpace<fixed_depth>);
static_assert(sp::SearchSpace<sp::search_space_archetype>);
static_assert(!sp::SearchSpace<int>);
static_assert(!sp::SearchSpace<sp::depth<2>>);
static_assert(naqs_like::layout == reordered::layout, "options come in any order");
static_assert(naqs_like::max_layers == 4);

TEST_CASE("layerwise: the layout has a depth gene, then filters, kernel, stride and pool per layer") {
  CHECK(std::vector<int>(naqs_like::layout.begin(), naqs_like::layout.end()) ==
        std::vector<int>{3, 4, 3, 1, 2, 4, 3, 1, 2, 4, 3, 1, 2, 4, 3, 1, 2});
  CHECK(sp::points(naqs_like::layout) == doctest::Approx(3.0 * 24 * 24 * 24 * 24));
  // defaults: kernels<3>, strides<1>, pooling<1>
  CHECK(std::vector<int>(fixed_depth::layout.begin(), fixed_depth::layout.end()) ==
        std::vector<int>{1, 2, 1, 1, 1, 2, 1, 1, 1});
}

TEST_CASE("layerwise: decode follows the genes, and layers past the depth are ignored") {
  //                       depth 3      layer 0      layer 1      layer 2      layer 3 (unused)
  const hwnas::genome g{1, 3, 2, 0, 1, 0, 0, 0, 0, 1, 1, 0, 1, 2, 2, 0, 1};
  const auto a = naqs_like::decode(g, {1, 28, 28}, 10);
  REQUIRE(a.layers.size() == 3);
  CHECK(a.input == hwnas::tensor_shape{1, 28, 28});
  CHECK(a.classes == 10);
  CHECK(a.layers[0] == layer(64, 5, 1, 2));
  CHECK(a.layers[1] == layer(8, 1, 1, 1));
  CHECK(a.layers[2] == layer(16, 3, 1, 2));
  CHECK_FALSE(a.quantized());
  auto other = g;
  other[13] = 0;  // a gene of the unused fourth layer
  CHECK(naqs_like::decode(other, {1, 28, 28}, 10) == a);
}

TEST_CASE("layerwise: encode inverts decode on random genomes, and refuses what the space cannot express") {
  hwnas::rng r(11);
  for (int trial = 0; trial < 300; ++trial) {
    const auto g = random_genome(naqs_like::layout, r);
    const auto a = naqs_like::decode(g, {3, 32, 32}, 10);
    const auto e = naqs_like::encode(a);
    REQUIRE(e);
    CHECK(naqs_like::decode(*e, {3, 32, 32}, 10) == a);
    // the genes of the used layers are the same; the unused ones are 0
    for (std::size_t i = 0; i < g.size(); ++i) {
      const bool used = i == 0 || (i - 1) / naqs_like::genes_per_layer < a.layers.size();
      CHECK((*e)[i] == (used ? g[i] : 0));
    }
  }
  auto a = naqs_like::decode(hwnas::genome(naqs_like::layout.size(), 0), {1, 28, 28}, 10);
  CHECK(naqs_like::encode(a));
  a.layers[0].filters = 12;  // not a choice
  CHECK_FALSE(naqs_like::encode(a));
  a.layers[0].filters = 8;
  a.layers[1].stride = 2;  // strides<1> by default
  CHECK_FALSE(naqs_like::encode(a));
  a.layers.resize(1);  // depth 1 < 2
  CHECK_FALSE(naqs_like::encode(a));
  CHECK(fixed_depth::encode(hwnas::reference_cnn()).has_value() == false);  // the reference pools; fixed_depth does not
  using reference_space = sp::layerwise<sp::depth<2>, sp::filters<16, 32>, sp::pooling<2>>;
  const auto ref = reference_space::encode(hwnas::reference_cnn());
  REQUIRE(ref);
  CHECK(reference_space::decode(*ref, {1, 28, 28}, 10) == hwnas::reference_cnn());
}

TEST_CASE("layerwise: a genome of the wrong length or with a gene out of range is a clear error") {
  CHECK_THROWS_WITH_AS(naqs_like::decode(hwnas::genome(5, 0), {1, 28, 28}, 10),
                       doctest::Contains("the genome has 5 genes, the space 17"), hwnas::invalid_argument);
  hwnas::genome g(naqs_like::layout.size(), 0);
  g[2] = 3;  // kernels has 3 choices
  CHECK_THROWS_WITH_AS(naqs_like::decode(g, {1, 28, 28}, 10), doctest::Contains("gene 2 is 3, outside its 3 choices [0, 2]"),
                       hwnas::invalid_argument);
  g[2] = -1;
  CHECK_THROWS_AS(naqs_like::decode(g, {1, 28, 28}, 10), hwnas::invalid_argument);
}

TEST_CASE("layerwise: an in-range genome may decode to an ill-formed network, which validate names") {
  using deep = sp::layerwise<sp::depth<6>, sp::filters<4>, sp::pooling<2>>;
  const auto a = deep::decode(hwnas::genome(deep::layout.size(), 0), {1, 28, 28}, 10);  // 28 -> 14 -> 7 -> 3 -> 1 -> 0
  CHECK_THROWS_WITH_AS(hwnas::validate(a), doctest::Contains("shrinks to nothing"), hwnas::invalid_argument);
}
