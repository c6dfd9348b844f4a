#pragma once
/// @file
/// The genome: what a search strategy proposes, one choice index per gene, and the layout that says how many
/// choices each gene has. Strategies see only genomes and layouts (ask/tell), so every strategy works with every
/// search space; a space decodes a genome into an hwnas::architecture.

#include <cmath>
#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "hwnas/core/error.hpp"

namespace hwnas {

/// One choice index per gene: gene i takes a value in [0, layout[i]).
using genome = std::vector<int>;

}  // namespace hwnas

namespace hwnas::space {

/// Throws hwnas::invalid_argument, naming `who`, the gene and its range, unless `g` has one gene per entry of
/// `layout` and every gene is in range.
inline void check_genome(std::span<const int> g, std::span<const int> layout, std::string_view who) {
  if (g.size() != layout.size())
    throw invalid_argument(std::string(who) + ": the genome has " + std::to_string(g.size()) + " genes, the space " +
                           std::to_string(layout.size()) + "; decode genomes of this space's layout only");
  for (std::size_t i = 0; i < g.size(); ++i)
    if (g[i] < 0 || g[i] >= layout[i])
      throw invalid_argument(std::string(who) + ": gene " + std::to_string(i) + " is " + std::to_string(g[i]) +
                             ", outside its " + std::to_string(layout[i]) + " choices [0, " +
                             std::to_string(layout[i] - 1) + "]");
}

/// The number of genomes of a layout: the product of its cardinalities (a double: spaces of 10^30 points are
/// common).
constexpr double points(std::span<const int> layout) noexcept {
  double n = 1.0;
  for (const int c : layout) n *= static_cast<double>(c);
  return n;
}

}  // namespace hwnas::space
