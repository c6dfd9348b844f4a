#pragma once
/// @file
/// search::pareto_archive: the non-dominated designs seen so far, whatever the strategy (accuracy against LUTs
/// against fps, say). Every objective is maximized: negate one to minimize it (-LUTs). Point a dominates point b
/// when a >= b in every objective and a > b in one; the archive keeps each non-dominated value once (the first
/// design that reached it). search::hypervolume measures a front: the volume it dominates above a reference point.

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <string>
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

namespace detail {
/// The volume dominated by `pts` (every coordinate strictly above `ref`) in their first `d` coordinates: slices
/// along coordinate d-1, from the highest value down, each slice a (d-1)-dimensional hypervolume of the points that
/// reach it. O(n^(d-1) log n), exact; fronts of a search are small.
inline double hypervolume_slices(std::vector<const double*> pts, const double* ref, std::size_t d) {
  if (pts.empty()) return 0.0;
  if (d == 1) {
    double hi = ref[0];
    for (const double* p : pts) hi = std::max(hi, p[0]);
    return hi - ref[0];
  }
  std::sort(pts.begin(), pts.end(), [d](const double* a, const double* b) { return a[d - 1] > b[d - 1]; });
  double volume = 0.0;
  if (d == 2) {  // a staircase: the running maximum of x over the points at or above each level of y
    double x = ref[0];
    for (std::size_t i = 0; i < pts.size(); ++i) {
      x = std::max(x, pts[i][0]);
      const double next = i + 1 < pts.size() ? pts[i + 1][1] : ref[1];
      volume += (x - ref[0]) * (pts[i][1] - next);
    }
    return volume;
  }
  std::vector<const double*> above;
  above.reserve(pts.size());
  for (std::size_t i = 0; i < pts.size(); ++i) {
    above.push_back(pts[i]);
    const double next = i + 1 < pts.size() ? pts[i + 1][d - 1] : ref[d - 1];
    if (pts[i][d - 1] > next) volume += hypervolume_slices(above, ref, d - 1) * (pts[i][d - 1] - next);
  }
  return volume;
}
}  // namespace detail

/// The hypervolume of `points` with respect to `reference`, every objective maximized: the volume of the union of
/// the boxes [reference, p] over the points p, exact (slicing, one objective at a time). A point that is not
/// strictly better than the reference in every objective contributes nothing; dominated points and repeats change
/// nothing. In the units of the objectives' product (normalize them first to compare runs: docs/reports.md).
/// @throws hwnas::invalid_argument when a coordinate of a point or of the reference is NaN or infinite
template <std::size_t N>
double hypervolume(const std::vector<std::array<double, N>>& points, const std::array<double, N>& reference) {
  static_assert(N >= 1, "hwnas::search::hypervolume: need at least one objective");
  for (std::size_t i = 0; i < N; ++i)
    if (!std::isfinite(reference[i]))
      throw invalid_argument("hwnas::search::hypervolume: reference objective " + std::to_string(i) +
                             " is not finite; choose a finite point every design should beat");
  std::vector<const double*> inside;
  inside.reserve(points.size());
  for (const auto& p : points) {
    bool better = true;
    for (std::size_t i = 0; i < N; ++i) {
      if (!std::isfinite(p[i]))
        throw invalid_argument("hwnas::search::hypervolume: objective " + std::to_string(i) +
                               " of a point is not finite (NaN or infinity)");
      better = better && p[i] > reference[i];
    }
    if (better) inside.push_back(p.data());
  }
  return detail::hypervolume_slices(std::move(inside), reference.data(), N);
}

/// The hypervolume of an archive's front with respect to `reference` (above).
template <std::size_t N, class Payload>
double hypervolume(const pareto_archive<N, Payload>& front, const std::array<double, N>& reference) {
  std::vector<std::array<double, N>> points;
  points.reserve(front.size());
  for (const auto& e : front.entries()) points.push_back(e.value);
  return hypervolume(points, reference);
}

}  // namespace hwnas::search
