#pragma once
/// @file
/// The Strategy concept: what proposes the next genome and learns from its reward (ask/tell).
///
/// Requires:
/// - construction from a layout and a seed: `S(std::span<const int> layout, std::uint64_t seed)`; the same seed and
///   the same rewards give the same genomes;
/// - `genome ask()`: the next genome to evaluate, each gene i in [0, layout[i]); ask may be called again before the
///   reward of an earlier genome is told (trials run concurrently);
/// - `void tell(const genome&, double reward)`: the reward of a genome it asked for; higher is better. An infeasible
///   genome is told reward 0 (NAQS), so a strategy needs no notion of feasibility.
/// Strategies see only genomes, so every strategy works with every search space (docs/search-space.md). Models:
/// search::random_search, search::regularized_evolution (search/strategies.hpp); search::strategy_archetype is the
/// least a model must have.

#include <concepts>
#include <cstdint>
#include <span>

#include "hwnas/space/genome.hpp"

namespace hwnas::search {

template <class S>
concept Strategy = std::constructible_from<S, std::span<const int>, std::uint64_t> &&
                   requires(S s, const genome& g, double reward) {
                     { s.ask() } -> std::same_as<genome>;
                     { s.tell(g, reward) };
                   };

/// The least a Strategy must have: always the first choice of every gene.
class strategy_archetype {
 public:
  strategy_archetype(std::span<const int> layout, std::uint64_t) : genes_(layout.size()) {}
  genome ask() { return genome(genes_, 0); }
  void tell(const genome&, double) {}

 private:
  std::size_t genes_;
};
static_assert(Strategy<strategy_archetype>);

}  // namespace hwnas::search
