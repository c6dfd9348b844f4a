#pragma once
/// @file
/// The SearchSpace concept: a policy that decodes genomes into architectures.
///
/// Requires (all static):
/// - `layout`: the cardinality of every gene (a std::array, so that the genome layout and the space's size are
///   compile-time constants);
/// - `decode(std::span<const int> genome, tensor_shape input, int classes) -> architecture`: throws
///   hwnas::invalid_argument when the genome does not fit the layout; any in-range genome decodes (whether the
///   architecture is well formed is hwnas::validate's to say, and an ill-formed one is an infeasible trial);
/// - `encode(const architecture&) -> std::optional<genome>`: the genome of an architecture, or nullopt when the
///   space cannot express it. decode(encode(a)) == a for every a the space can express.
/// Models: space::layerwise (float layers), space::quantized<Space, Quantizer> (layers and formats).

#include <array>
#include <concepts>
#include <optional>
#include <span>

#include "hwnas/core/architecture.hpp"
#include "hwnas/space/genome.hpp"

namespace hwnas::space {

template <class S>
concept SearchSpace = requires(std::span<const int> g, tensor_shape input, const architecture& a) {
  { std::span<const int>(S::layout) };
  { S::decode(g, input, 10) } -> std::same_as<architecture>;
  { S::encode(a) } -> std::same_as<std::optional<genome>>;
};

/// The least a SearchSpace must have: one gene of two choices, one or two conv layers of 8 filters.
struct search_space_archetype {
  static constexpr std::array<int, 1> layout{2};
  static architecture decode(std::span<const int> g, tensor_shape input, int classes) {
    check_genome(g, layout, "search_space_archetype");
    architecture a;
    a.input = input;
    a.classes = classes;
    conv_layer l;
    l.filters = 8;
    a.layers.assign(static_cast<std::size_t>(1 + g[0]), l);
    return a;
  }
  static std::optional<genome> encode(const architecture& a) {
    if (a.layers.empty() || a.layers.size() > 2) return std::nullopt;
    genome g{static_cast<int>(a.layers.size()) - 1};
    if (decode(g, a.input, a.classes) != a) return std::nullopt;
    return g;
  }
};
static_assert(SearchSpace<search_space_archetype>);

}  // namespace hwnas::space
