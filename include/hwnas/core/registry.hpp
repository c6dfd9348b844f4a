#pragma once
/// @file
/// Run-time names to compile-time types: a Boost.Hana list of types, each with a `static constexpr name`, and a
/// generic resolver that calls a generic lambda with the type whose name matches (the pattern of hyrise's
/// resolve_type). fpga/registry.hpp (devices, cost models) and search/registry.hpp (strategies) hold the lists.

#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include <boost/hana/for_each.hpp>
#include <boost/hana/front.hpp>
#include <vector>

#include <boost/hana/type.hpp>

#include "hwnas/core/error.hpp"

namespace hwnas {

/// "a, b, c": the names of a list's types.
template <class List>
std::string names_of(const List& list) {
  std::string s;
  boost::hana::for_each(list, [&](auto t) { s += (s.empty() ? "" : ", ") + std::string(decltype(t)::type::name); });
  return s;
}

/// The names of a list's types, in order (for a command line's list of choices).
template <class List>
std::vector<std::string> name_list(const List& list) {
  std::vector<std::string> v;
  boost::hana::for_each(list, [&](auto t) { v.emplace_back(decltype(t)::type::name); });
  return v;
}

/// Calls `f(hana::type_c<T>)` for the type T of `list` whose `name` is `name`, and returns what f returns.
/// @throws hwnas::invalid_argument naming `what` and the known names when none is called `name`
template <class List, class F>
auto resolve_by_name(const List& list, std::string_view name, std::string_view what, F&& f) {
  using first_type = typename std::remove_cvref_t<decltype(boost::hana::front(list))>::type;
  using result = std::remove_cvref_t<decltype(f(boost::hana::type_c<first_type>))>;
  if constexpr (std::is_void_v<result>) {
    bool found = false;
    boost::hana::for_each(list, [&](auto t) {
      if (!found && decltype(t)::type::name == name) {
        found = true;
        f(t);
      }
    });
    if (!found)
      throw invalid_argument("unknown " + std::string(what) + " \"" + std::string(name) + "\"; known: " + names_of(list));
  } else {
    std::optional<result> r;
    boost::hana::for_each(list, [&](auto t) {
      if (!r && decltype(t)::type::name == name) r.emplace(f(t));
    });
    if (!r)
      throw invalid_argument("unknown " + std::string(what) + " \"" + std::string(name) + "\"; known: " + names_of(list));
    return result(std::move(*r));
  }
}

}  // namespace hwnas
