#pragma once
/// @file
/// The Quantizer concept: a policy that chooses the fixed-point formats of an architecture from genes.
///
/// Requires (all static):
/// - `layer_layout`: the cardinalities of the genes of one conv layer (a std::array, possibly empty);
/// - `global_layout`: the cardinalities of the genes that are not per layer (the classifier's, a global width);
/// - `quantize(architecture&, std::span<const int> layer_genes, std::span<const int> global_genes)`: writes the
///   formats; layer_genes holds layer_layout.size() genes per conv layer of the architecture, in layer order;
/// - `encode(const architecture&) -> std::optional<std::vector<int>>`: the genes of the architecture's formats
///   (layer genes, then global genes), or nullopt when the quantizer cannot express them.
/// Semantics: quantize then encode gives the genes back. Models: quant::fixed_point, quant::uniform, quant::none
/// (quant/fixed_point.hpp); quant::quantizer_archetype is the least a model must have.

#include <concepts>
#include <optional>
#include <span>
#include <vector>

#include "hwnas/core/architecture.hpp"

namespace hwnas::quant {

template <class Q>
concept Quantizer = requires(architecture& a, const architecture& c, std::span<const int> genes) {
  { std::span<const int>(Q::layer_layout) };
  { std::span<const int>(Q::global_layout) };
  { Q::quantize(a, genes, genes) };
  { Q::encode(c) } -> std::same_as<std::optional<std::vector<int>>>;
};

/// Whether a quantizer leaves layers float (declares `static constexpr bool leaves_float = true`, as quant::none):
/// no FPGA cost model can map such a network, and hwnas::pipeline refuses the composition at compile time.
template <class Q>
inline constexpr bool leaves_float = [] {
  if constexpr (requires { Q::leaves_float; }) return static_cast<bool>(Q::leaves_float);
  else return false;
}();

/// The least a Quantizer must have (it leaves the network float).
struct quantizer_archetype {
  static constexpr bool leaves_float = true;
  static constexpr std::array<int, 0> layer_layout{};
  static constexpr std::array<int, 0> global_layout{};
  static void quantize(architecture&, std::span<const int>, std::span<const int>) {}
  static std::optional<std::vector<int>> encode(const architecture&) { return std::vector<int>{}; }
};
static_assert(Quantizer<quantizer_archetype>);

}  // namespace hwnas::quant
