#pragma once
/// @file
/// space::quantized<Space, Quantizer>: the co-design genome of NAQS, the layers of a search space and the
/// fixed-point formats of a quantizer in one genome, itself a SearchSpace:
///
///     using layers = hwnas::space::layerwise<hwnas::space::depth<2, 4>, hwnas::space::filters<8, 16, 32>>;
///     using quant  = hwnas::quant::fixed_point<hwnas::quant::int_bits<0, 3>, hwnas::quant::frac_bits<0, 6>>;
///     using codesign_space = hwnas::space::quantized<layers, quant>;
///     static_assert(codesign_space::points() > 2.5e15);  // 35 genes
///
/// Layout: the space's genes, then the quantizer's layer genes for each of the space's max_layers layers (those of
/// layers past the decoded depth are ignored), then the quantizer's global genes.

#include <algorithm>
#include <array>
#include <cstddef>
#include <optional>
#include <span>

#include "hwnas/core/architecture.hpp"
#include "hwnas/quant/concepts.hpp"
#include "hwnas/space/concepts.hpp"
#include "hwnas/space/genome.hpp"

namespace hwnas::space {

template <class Space, class Quantizer>
class quantized {
  static_assert(SearchSpace<Space>,
                "hwnas::space::quantized<Space, Quantizer>: Space must model hwnas::space::SearchSpace "
                "(docs/search-space.md)");
  static_assert(quant::Quantizer<Quantizer>,
                "hwnas::space::quantized<Space, Quantizer>: Quantizer must model hwnas::quant::Quantizer "
                "(docs/search-space.md)");
  static_assert(requires { Space::max_layers; },
                "hwnas::space::quantized<Space, Quantizer>: Space must say how many layers it can decode to "
                "(static constexpr int max_layers)");

  static constexpr std::size_t space_genes = Space::layout.size();
  static constexpr std::size_t per_layer = Quantizer::layer_layout.size();
  static constexpr std::size_t layer_genes = per_layer * static_cast<std::size_t>(Space::max_layers);
  static constexpr std::size_t global_genes = Quantizer::global_layout.size();

 public:
  using space_type = Space;
  using quantizer_type = Quantizer;
  static constexpr int max_layers = Space::max_layers;

  /// Space genes, then per-layer format genes for max_layers layers, then global format genes.
  static constexpr auto layout = [] {
    std::array<int, space_genes + layer_genes + global_genes> l{};
    std::copy(Space::layout.begin(), Space::layout.end(), l.begin());
    for (std::size_t i = 0; i < static_cast<std::size_t>(max_layers); ++i)
      std::copy(Quantizer::layer_layout.begin(), Quantizer::layer_layout.end(), l.begin() + space_genes + per_layer * i);
    std::copy(Quantizer::global_layout.begin(), Quantizer::global_layout.end(), l.begin() + space_genes + layer_genes);
    return l;
  }();

  /// How many genomes there are.
  static constexpr double points() noexcept { return space::points(layout); }

  /// The architecture of `g`, layers and formats.
  /// @throws hwnas::invalid_argument when `g` does not fit `layout`
  static architecture decode(std::span<const int> g, tensor_shape input, int classes) {
    check_genome(g, layout, "hwnas::space::quantized::decode");
    architecture a = Space::decode(g.first(space_genes), input, classes);
    Quantizer::quantize(a, g.subspan(space_genes, per_layer * a.layers.size()),
                        g.subspan(space_genes + layer_genes, global_genes));
    return a;
  }

  /// The genome of `a` (format genes of unused layers 0), or nullopt when the space or the quantizer cannot
  /// express it.
  static std::optional<genome> encode(const architecture& a) {
    auto layers = Space::encode(a);
    auto formats = Quantizer::encode(a);
    if (!layers || !formats) return std::nullopt;
    const std::size_t used = per_layer * a.layers.size();
    if (formats->size() != used + global_genes) return std::nullopt;
    genome g(layout.size(), 0);
    std::copy(layers->begin(), layers->end(), g.begin());
    std::copy(formats->begin(), formats->begin() + static_cast<std::ptrdiff_t>(used), g.begin() + space_genes);
    std::copy(formats->begin() + static_cast<std::ptrdiff_t>(used), formats->end(), g.begin() + space_genes + layer_genes);
    return g;
  }
};

}  // namespace hwnas::space
