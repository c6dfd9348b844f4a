// quant/fixed_point.hpp, quant/concepts.hpp and space/quantized.hpp: the formats a quantizer writes, encode as its
// inverse, the joint layout of layers and formats, round trips of the co-design genome, and the reference CNNs.

#include <doctest/doctest.h>

#include <vector>

#include "hwnas/core/architecture.hpp"
#include "hwnas/core/error.hpp"
#include "hwnas/core/rng.hpp"
#include "hwnas/quant/concepts.hpp"
#include "hwnas/quant/fixed_point.hpp"
#include "hwnas/space/layerwise.hpp"
#include "hwnas/space/quantized.hpp"

namespace sp = hwnas::space;
namespace qn = hwnas::quant;
using hwnas::qformat;

namespace {
using naqs_quant = qn::fixed_point<qn::int_bits<0, 3>, qn::frac_bits<0, 6>>;
using layers = sp::layerwise<sp::depth<2, 3>, sp::filters<8, 16, 32>, sp::kernels<3, 5>, sp::pooling<1, 2>>;
using codesign = sp::quantized<layers, naqs_quant>;
}  // namespace

static_assert(qn::Quantizer<naqs_quant>);
static_assert(qn::Quantizer<qn::fixed_point<qn::frac_bits<1, 7>, qn::int_bits<0>>>, "ranges in either order");
static_assert(qn::Quantizer<qn::uniform<4, 8>>);
static_assert(qn::Quantizer<qn::none>);
static_assert(qn::Quantizer<qn::quantizer_archetype>);
static_assert(!qn::Quantizer<int>);
static_assert(!qn::Quantizer<qn::int_bits<0, 3>>);
static_assert(sp::SearchSpace<codesign>);
static_assert(sp::SearchSpace<sp::quantized<layers, qn::none>>);
static_assert(codesign::layout.size() == 1 + 4 * 3 + 4 * 3 + 2);
static_assert(codesign::points() > 1e13);

TEST_CASE("fixed_point: four genes per layer and two for the classifier set every format") {
  hwnas::architecture a;
  a.layers.resize(2);
  naqs_quant::quantize(a, std::vector<int>{0, 3, 1, 2, /**/ 3, 6, 0, 1}, std::vector<int>{2, 5});
  CHECK(a.layers[0].weight_format == qformat::weight(0, 3));
  CHECK(a.layers[0].activation_format == qformat::activation(1, 2));
  CHECK(a.layers[1].weight_format == qformat::weight(3, 6));
  CHECK(a.layers[1].activation_format == qformat::activation(0, 1));
  CHECK(a.classifier.weight_format == qformat::weight(2, 5));
  CHECK(a.input_format == qformat::activation(0, 8));
  CHECK(a.fully_quantized());
  const auto g = naqs_quant::encode(a);
  REQUIRE(g);
  CHECK(*g == std::vector<int>{0, 3, 1, 2, 3, 6, 0, 1, 2, 5});
  a.layers[1].activation_format = qformat::activation(4, 1);  // 4 integer bits: outside int_bits<0, 3>
  CHECK_FALSE(naqs_quant::encode(a));
  a.layers[1].activation_format.reset();  // float: not expressible either
  CHECK_FALSE(naqs_quant::encode(a));
}

TEST_CASE("fixed_point: a choice of no bits decodes, and validate rejects it with the reason") {
  hwnas::architecture a;
  a.layers.resize(1);
  naqs_quant::quantize(a, std::vector<int>{1, 2, 0, 0}, std::vector<int>{0, 1});
  CHECK(a.layers[0].activation_format == qformat::activation(0, 0));
  CHECK_THROWS_WITH_AS(hwnas::validate(a), doctest::Contains("layer 0 activations"), hwnas::invalid_argument);
}

TEST_CASE("uniform and none: with_uniform_bits, and float") {
  hwnas::architecture a = hwnas::reference_cnn();
  qn::uniform<4, 8>::quantize(a, {}, std::vector<int>{1});
  CHECK(a == hwnas::with_uniform_bits(hwnas::reference_cnn(), 8));
  CHECK(qn::uniform<4, 8>::encode(a) == std::vector<int>{1});
  CHECK_FALSE(qn::uniform<2, 3>::encode(a));
  CHECK(qn::none::encode(hwnas::reference_cnn()) == std::vector<int>{});
  CHECK_FALSE(qn::none::encode(a));
}

TEST_CASE("quantized: the layout is the space's genes, the format genes of every layer, then the global ones") {
  const std::vector<int> layout(codesign::layout.begin(), codesign::layout.end());
  const std::vector<int> expect{2, 3, 2, 1, 2, 3, 2, 1, 2, 3, 2, 1, 2,  // layerwise: depth, 3 x (f, k, s, p)
                                4, 7, 4, 7, 4, 7, 4, 7, 4, 7, 4, 7,     // fixed_point: 3 x (wI, wF, aI, aF)
                                4, 7};                                  // the classifier's wI, wF
  CHECK(layout == expect);
  double n = 1;
  for (const int c : expect) n *= c;
  CHECK(codesign::points() == doctest::Approx(n));
}

TEST_CASE("quantized: decode and encode are inverse on random genomes, bad genomes are clear errors") {
  hwnas::rng r(5);
  int valid = 0;
  for (int trial = 0; trial < 300; ++trial) {
    hwnas::genome g;
    for (const int c : codesign::layout) g.push_back(static_cast<int>(r.below(static_cast<std::uint64_t>(c))));
    const auto a = codesign::decode(g, {1, 28, 28}, 10);
    CHECK(a.fully_quantized());
    const auto e = codesign::encode(a);
    REQUIRE(e);
    CHECK(codesign::decode(*e, {1, 28, 28}, 10) == a);
    // genes of used layers and the global ones survive; those of unused layers become 0
    const std::size_t used = a.layers.size();
    for (std::size_t l = 0; l < 3; ++l)
      for (std::size_t k = 0; k < 4; ++k) {
        CHECK((*e)[1 + 4 * l + k] == (l < used ? g[1 + 4 * l + k] : 0));
        CHECK((*e)[13 + 4 * l + k] == (l < used ? g[13 + 4 * l + k] : 0));
      }
    CHECK((*e)[25] == g[25]);
    CHECK((*e)[26] == g[26]);
    bool ok = true;
    try {
      hwnas::validate(a);
    } catch (const hwnas::invalid_argument&) {
      ok = false;
    }
    valid += ok;
  }
  CHECK(valid > 150);  // most decode to well-formed networks; the rest carry a u0.0 activation
  hwnas::genome bad(codesign::layout.size(), 0);
  bad[26] = 7;  // the classifier's frac bits have 7 choices
  CHECK_THROWS_WITH_AS(codesign::decode(bad, {1, 28, 28}, 10), doctest::Contains("gene 26 is 7"), hwnas::invalid_argument);
}

TEST_CASE("quantized: the reference CNNs are points of a space that holds them") {
  using reference_layers = sp::layerwise<sp::depth<2>, sp::filters<16, 32>, sp::pooling<2>>;
  using four_bit = sp::quantized<reference_layers, qn::fixed_point<qn::int_bits<0, 1>, qn::frac_bits<3>>>;
  const auto ref4 = hwnas::with_uniform_bits(hwnas::reference_cnn(), 4);  // s0.3 weights, u1.3 activations
  const auto g = four_bit::encode(ref4);
  REQUIRE(g);
  CHECK(four_bit::decode(*g, {1, 28, 28}, 10) == ref4);
  using widths = sp::quantized<reference_layers, qn::uniform<2, 4, 8>>;
  const auto w = widths::encode(ref4);
  REQUIRE(w);
  CHECK(w->back() == 1);
  CHECK(widths::decode(*w, {1, 28, 28}, 10) == ref4);
  CHECK_FALSE(four_bit::encode(hwnas::reference_cnn()));  // float: no formats to encode
}

TEST_CASE("quantized: the examples of docs/search-space.md and of the header hold") {
  using doc_layers = sp::layerwise<sp::depth<2, 4>, sp::filters<8, 16, 32, 64>, sp::kernels<1, 3, 5>, sp::pooling<1, 2>>;
  using doc_codesign = sp::quantized<doc_layers, naqs_quant>;
  static_assert(doc_codesign::layout.size() == 1 + 4 * 4 + 4 * 4 + 2);
  static_assert(doc_codesign::points() > 1e19);
  CHECK(doc_codesign::points() == doctest::Approx(3.0 * 331776.0 * 784.0 * 784.0 * 784.0 * 784.0 * 28.0));
  using header_space = sp::quantized<sp::layerwise<sp::depth<2, 4>, sp::filters<8, 16, 32>>, naqs_quant>;
  static_assert(header_space::points() > 2.5e15);
  const auto a = doc_codesign::decode(hwnas::genome(doc_codesign::layout.size(), 0), {1, 28, 28}, 10);
  CHECK(a.layers.size() == 2);
  CHECK(a.layers[0].activation_format == qformat::activation(0, 0));  // u0.0: the all-zero genome is infeasible
  CHECK(doc_codesign::encode(a) == hwnas::genome(doc_codesign::layout.size(), 0));
}
