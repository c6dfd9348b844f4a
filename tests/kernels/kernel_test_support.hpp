#pragma once
// Shared helpers of the float layer kernel tests: random buffers, closeness checks, the instruction sets tested.

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include <doctest/doctest.h>
#include <xsimd/xsimd.hpp>

#include <hwnas/core/rng.hpp>

namespace hwnas::kernels::test {

/// Every fast kernel is tested with the best instruction set and, on x86, with SSE2 (4 lanes), so that tails,
/// tile remainders and lane counts other than the default's are exercised too.
#if XSIMD_WITH_SSE2
using sse2_arch = xsimd::sse2;
#else
using sse2_arch = xsimd::default_arch;
#endif
/// AVX2 (8 lanes) where the build enables it: on an AVX-512 machine the default arch is AVX-512, and the 8-lane
/// paths (3-vector register tiles, the pooling kernels' AVX2 -> SSE2 hand-over) would otherwise go untested.
#if XSIMD_WITH_AVX2
using avx2_arch = xsimd::avx2;
#else
using avx2_arch = xsimd::default_arch;
#endif

inline std::vector<float> random_vector(std::size_t n, hwnas::rng& r, double lo = -1.0, double hi = 1.0) {
  std::vector<float> v(n);
  for (auto& x : v) x = static_cast<float>(r.uniform(lo, hi));
  return v;
}

/// Largest |a - b| / (1 + |b|) over two buffers of equal size.
inline double max_rel_error(std::span<const float> a, std::span<const float> b) {
  REQUIRE(a.size() == b.size());
  double worst = 0.0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const double d = std::abs(static_cast<double>(a[i]) - b[i]) / (1.0 + std::abs(static_cast<double>(b[i])));
    if (!(d <= worst)) worst = d;  // NaN propagates as a failure
  }
  return worst;
}

inline double dot(std::span<const float> a, std::span<const float> b) {
  double s = 0.0;
  for (std::size_t i = 0; i < a.size(); ++i) s += static_cast<double>(a[i]) * b[i];
  return s;
}

}  // namespace hwnas::kernels::test
