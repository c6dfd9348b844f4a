#pragma once
/// @file
/// Search strategies over any genome layout (they model search::Strategy, search/concepts.hpp: hyper-parameters in
/// the struct, the running state made by start(layout, seed)):
/// - random_search: every gene uniform, independently (the baseline every paper reports against);
/// - regularized_evolution (Real et al., AAAI 2019): a population of the last `population` genomes told; each new
///   genome is the best of `sample` random members with one gene changed. Until the population is full it asks
///   random genomes. The oldest member dies, not the worst: "aging" keeps the search from locking onto an early
///   lucky genome, which matters when rewards are noisy (short proxy training).

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "hwnas/core/error.hpp"
#include "hwnas/core/rng.hpp"
#include "hwnas/search/concepts.hpp"
#include "hwnas/space/genome.hpp"

namespace hwnas::search {

namespace detail {
inline std::vector<int> checked_layout(std::span<const int> layout, const char* who) {
  if (layout.empty()) throw invalid_argument(std::string(who) + ": the layout has no genes");
  for (std::size_t i = 0; i < layout.size(); ++i)
    if (layout[i] < 1)
      throw invalid_argument(std::string(who) + ": gene " + std::to_string(i) + " has " + std::to_string(layout[i]) +
                             " choices; every gene needs at least one");
  return {layout.begin(), layout.end()};
}
/// What every scalar tell checks first: the genome fits the layout and the reward is finite.
/// @throws hwnas::invalid_argument naming `who`
inline void check_told(const genome& g, std::span<const int> layout, double reward, const char* who) {
  space::check_genome(g, layout, who);
  if (!std::isfinite(reward))
    throw invalid_argument(std::string(who) + ": the reward is " + std::to_string(reward) +
                           "; tell a finite reward (0 for a design that breaks the spec or failed)");
}
inline genome random_genome(std::span<const int> layout, rng& r) {
  genome g(layout.size());
  for (std::size_t i = 0; i < layout.size(); ++i) g[i] = static_cast<int>(r.below(static_cast<std::uint64_t>(layout[i])));
  return g;
}
}  // namespace detail

/// Uniform random genomes. No hyper-parameters: `search::random_search{}`.
struct random_search {
  static constexpr std::string_view name = "random";

  /// The running search.
  class state {
   public:
    state(std::span<const int> layout, std::uint64_t seed)
        : layout_(detail::checked_layout(layout, "hwnas::search::random_search")), rng_(seed) {}
    genome ask() { return detail::random_genome(layout_, rng_); }
    void tell(const genome&, double) {}

   private:
    std::vector<int> layout_;
    rng rng_;
  };

  /// The hyper-parameters, for reports and the journal's header (none).
  nlohmann::json hyper_parameters() const { return nlohmann::json::object(); }

  /// @throws hwnas::invalid_argument for an empty layout or a gene with no choice
  state start(std::span<const int> layout, std::uint64_t seed) const { return state(layout, seed); }
};

/// Regularized ("aging") evolution with tournament selection and one-gene mutation (Real et al., AAAI 2019):
/// `search::regularized_evolution{.population = 16, .sample = 4}`. The defaults fit hwnas's budgets (10^2-10^3 trained
/// candidates; Real et al. used P = 100, S = 25 for 20,000): until `population` genomes are told it asks random ones,
/// so with P = 64 a 60-trial search would be random search throughout (docs/codesign.md#strategies).
struct regularized_evolution {
  static constexpr std::string_view name = "evolution";
  std::size_t population = 16;  ///< genomes kept (the last ones told), >= 2
  std::size_t sample = 4;       ///< tournament size, 1..population

  /// The running search: the population and the random stream.
  class state {
   public:
    /// @throws hwnas::invalid_argument for a bad layout or population < 2 or sample outside 1..population
    state(std::span<const int> layout, std::uint64_t seed, std::size_t population, std::size_t sample)
        : layout_(detail::checked_layout(layout, "hwnas::search::regularized_evolution")),
          rng_(seed),
          population_(population),
          sample_(sample) {
      if (population < 2 || sample < 1 || sample > population)
        throw invalid_argument(
            "hwnas::search::regularized_evolution: need population >= 2 and 1 <= sample <= population, got " +
            std::to_string(population) + " and " + std::to_string(sample));
      for (std::size_t i = 0; i < layout_.size(); ++i)
        if (layout_[i] > 1) mutable_genes_.push_back(i);
    }

    genome ask() {
      if (members_.size() < population_ || mutable_genes_.empty()) return detail::random_genome(layout_, rng_);
      const member* best = nullptr;
      for (std::size_t k = 0; k < sample_; ++k) {
        const member& m = members_[rng_.below(members_.size())];
        if (!best || m.reward > best->reward) best = &m;
      }
      genome child = best->g;
      const std::size_t i = mutable_genes_[rng_.below(mutable_genes_.size())];
      const int shift = 1 + static_cast<int>(rng_.below(static_cast<std::uint64_t>(layout_[i] - 1)));
      child[i] = (child[i] + shift) % layout_[i];  // another value of gene i, uniformly
      return child;
    }

    void tell(const genome& g, double reward) {
      detail::check_told(g, layout_, reward, "hwnas::search::regularized_evolution::tell");
      members_.push_back({g, reward});
      if (members_.size() > population_) members_.pop_front();  // the oldest dies
    }

    /// The size of the living population.
    std::size_t size() const noexcept { return members_.size(); }

   private:
    struct member {
      genome g;
      double reward;
    };
    std::vector<int> layout_;
    std::vector<std::size_t> mutable_genes_;
    rng rng_;
    std::size_t population_, sample_;
    std::deque<member> members_;
  };

  state start(std::span<const int> layout, std::uint64_t seed) const { return state(layout, seed, population, sample); }
  /// The hyper-parameters, for reports and the journal's header.
  nlohmann::json hyper_parameters() const { return {{"population", population}, {"sample", sample}}; }
};

static_assert(Strategy<random_search>);
static_assert(Strategy<regularized_evolution>);
static_assert(StrategyState<random_search::state>);
static_assert(StrategyState<regularized_evolution::state>);

}  // namespace hwnas::search
