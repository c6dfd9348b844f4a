#pragma once
/// @file
/// search::pareto_archive: the non-dominated designs seen so far, whatever the strategy (accuracy against LUTs
/// against fps, say). Every objective is maximized: negate one to minimize it (-LUTs). Point a dominates point b
/// when a >= b in every objective and a > b in one; the archive keeps each non-dominated value once (the first
/// design that reached it).

#include <array>
#include <cmath>
#include <cstddef>
#include <utility>
#include <vector>

#include "hwnas/core/error.hpp"

namespace hwnas::search {

template <std::size_t N, class Payload>
class pareto_archive {
  static_assert(N >= 1, "hwnas::search::pareto_archive<N, Payload>: need at least one objective");

 public:
  using objectives = std::array<double, N>;
  struct entry {
    objectives value;
    Payload payload;
  };

  /// a >= b everywhere and a > b somewhere.
  static constexpr bool dominates(const objectives& a, const objectives& b) noexcept {
    bool better = false;
    for (std::size_t i = 0; i < N; ++i) {
      if (a[i] < b[i]) return false;
      better = better || a[i] > b[i];
    }
    return better;
  }

  /// Adds (v, p) unless a kept point dominates or equals v, and drops the points v dominates. Returns whether v was
  /// kept. @throws hwnas::invalid_argument when an objective is NaN (it would compare as neither better nor worse)
  bool insert(const objectives& v, Payload p) {
    for (std::size_t i = 0; i < N; ++i)
      if (std::isnan(v[i]))
        throw invalid_argument("hwnas::search::pareto_archive: objective " + std::to_string(i) +
                               " is NaN; record a failed trial instead of a point");
    for (const auto& e : entries_)
      if (e.value == v || dominates(e.value, v)) return false;
    std::erase_if(entries_, [&](const entry& e) { return dominates(v, e.value); });
    entries_.push_back({v, std::move(p)});
    return true;
  }

  /// The front, in the order its points were found.
  const std::vector<entry>& entries() const noexcept { return entries_; }
  std::size_t size() const noexcept { return entries_.size(); }
  bool empty() const noexcept { return entries_.empty(); }

 private:
  std::vector<entry> entries_;
};

}  // namespace hwnas::search
