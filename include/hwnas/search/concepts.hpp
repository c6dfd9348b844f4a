#pragma once
/// @file
/// The concepts of search/, each with an archetype (the least type that models it), docs/concepts.md:
///
/// - **Strategy** (the policy a pipeline takes): a copyable struct of hyper-parameters, set with designated
///   initializers (`search::reinforce{.learning_rate = 0.035}`), with `start(layout, seed) const` that returns the
///   per-problem state, a StrategyState. Hyper-parameters outside, state inside, as ensmallen's update policies: the
///   pipeline knows the genome layout and the seed only when it runs.
/// - **StrategyState**: `genome ask()` proposes the next genome (gene i in [0, layout[i])), and a tell learns from
///   it: `tell(const genome&, double reward)` (scalar: higher is better, 0 for a design that breaks the spec, as
///   Lu'19) or `tell(const genome&, const outcome&)` (multi-objective: the objectives and whether they are real);
///   search::run calls the outcome form when a state has it. ask may be called again before an earlier genome is
///   told (trials may run concurrently). The same seed and the same rewards give the same genomes.
/// - **Evaluator**: `trial evaluate(const genome&)` (what a genome is worth) and `trial replay(const trial&)` (the
///   trial of a journaled record, without training it again). search::two_stage_evaluator is the model that maps
///   then trains; nothing in search::run assumes the evaluation happens in this process.
///
/// Strategies see only genomes, so every strategy works with every search space (docs/search-space.md).

#include <concepts>
#include <cstdint>
#include <span>
#include <string_view>
#include <utility>

#include "hwnas/search/trial.hpp"
#include "hwnas/space/genome.hpp"

namespace hwnas::search {

/// A strategy's running state: ask, and tell by reward or by outcome.
template <class S>
concept StrategyState = requires(S s, const genome& g) {
  { s.ask() } -> std::same_as<genome>;
} && (requires(S s, const genome& g, double reward) { s.tell(g, reward); } ||
      requires(S s, const genome& g, const outcome& o) { s.tell(g, o); });

/// A state that learns from the whole outcome (objectives, feasibility), not only the scalar reward.
template <class S>
concept MultiObjectiveState = StrategyState<S> && requires(S s, const genome& g, const outcome& o) { s.tell(g, o); };

/// A search strategy as the pipeline takes it: hyper-parameters, started on a layout with a seed.
template <class P>
concept Strategy = std::copy_constructible<P> && requires(const P& p, std::span<const int> layout, std::uint64_t seed) {
  { p.start(layout, seed) } -> StrategyState;
  { P::name } -> std::convertible_to<std::string_view>;
};

/// Tells `s` what a genome was worth, in the richest form it takes.
template <StrategyState S>
void tell(S& s, const genome& g, const outcome& o) {
  if constexpr (MultiObjectiveState<S>)
    s.tell(g, o);
  else
    s.tell(g, o.reward);
}

/// Evaluates genomes: the two-stage evaluator (map, then train), a user's, or one that farms trials out.
template <class E>
concept Evaluator = requires(E e, const genome& g, const trial& recorded) {
  { e.evaluate(g) } -> std::same_as<trial>;
  { e.replay(recorded) } -> std::same_as<trial>;
};

/// An Evaluator that can have several trials under way (search::run with a schedule of in_flight > 1):
/// `submit(ticket, g)` starts evaluating g (tickets are the ask indices, each submitted once), and `collect()` blocks
/// until a submitted trial is done and returns it with its ticket, in any order. The trial of a ticket must not
/// depend on what else is under way (search::two_stage_evaluator trains with a fixed number of slices, so threads
/// change nothing), and a genome that repeats one submitted earlier is a repeat of that one.
template <class E>
concept ConcurrentEvaluator = Evaluator<E> && requires(E e, std::size_t ticket, const genome& g) {
  e.submit(ticket, g);
  { e.collect() } -> std::same_as<std::pair<std::size_t, trial>>;
};

/// The least StrategyState: always the first choice of every gene.
class strategy_state_archetype {
 public:
  explicit strategy_state_archetype(std::size_t genes) : genes_(genes) {}
  genome ask() { return genome(genes_, 0); }
  void tell(const genome&, double) {}

 private:
  std::size_t genes_;
};
static_assert(StrategyState<strategy_state_archetype>);

/// The least Strategy: no hyper-parameters; its state always asks the first choice of every gene.
struct strategy_archetype {
  static constexpr std::string_view name = "archetype";
  strategy_state_archetype start(std::span<const int> layout, std::uint64_t) const {
    return strategy_state_archetype(layout.size());
  }
};
static_assert(Strategy<strategy_archetype>);

/// The least Evaluator: every genome is ill formed.
struct evaluator_archetype {
  trial evaluate(const genome& g) {
    trial t;
    t.g = g;
    t.reason = "the archetype evaluates nothing";
    return t;
  }
  trial replay(const trial& recorded) { return recorded; }
};
static_assert(Evaluator<evaluator_archetype>);

}  // namespace hwnas::search
