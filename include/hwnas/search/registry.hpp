#pragma once
/// @file
/// The built-in strategies as a Boost.Hana list, each type's `name` being what a CLI takes, and the resolver that
/// turns a run-time name into the type (core/registry.hpp): `resolve_strategy("nsga2", [](auto s) { using S =
/// typename decltype(s)::type; ... })`. A new strategy is one entry in the list.

#include <string_view>
#include <utility>

#include <boost/hana/tuple.hpp>
#include <boost/hana/type.hpp>

#include "hwnas/core/registry.hpp"
#include "hwnas/search/nsga2.hpp"
#include "hwnas/search/reinforce.hpp"
#include "hwnas/search/strategies.hpp"

namespace hwnas::search {

/// The built-in strategies.
inline constexpr auto strategies = boost::hana::tuple_t<reinforce, regularized_evolution, random_search, nsga2>;

/// Calls f(hana::type_c<Strategy>) for the strategy called `name` and returns what f returns.
/// @throws hwnas::invalid_argument for an unknown name, listing the known ones
template <class F>
auto resolve_strategy(std::string_view name, F&& f) {
  return resolve_by_name(strategies, name, "strategy", std::forward<F>(f));
}

}  // namespace hwnas::search
