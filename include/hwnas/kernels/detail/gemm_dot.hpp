#pragma once
/// @file
/// Internals of hwnas::kernels::gemm: C = alpha * A * B^T + beta * C as dot products, for op(A) = A and op(B) = B^T
/// with a long k and a small C (a convolution's weight gradient: dY (filters x pixels) * col^T). Rows of A and of B
/// are both contiguous in k, so no packing is needed and no register tile is wasted on a narrow C.

#include <algorithm>
#include <array>
#include <cstddef>
#include <utility>

#include <xsimd/xsimd.hpp>

#include "hwnas/kernels/detail/gemm_kernel.hpp"

namespace hwnas::kernels::detail {

/// Register block of the dot-product kernel: rows x cols accumulators + rows A batches + 1 B batch must fit.
template <class Arch>
struct gemm_dot_blocking {
  static constexpr std::size_t width = xsimd::batch<float, Arch>::size;
  static constexpr std::size_t rows = gemm_blocking<Arch>::wide_register_file ? 4 : 3;  // rows of A (of C)
  static constexpr std::size_t cols = gemm_blocking<Arch>::wide_register_file ? 6 : 4;  // rows of B (columns of C)
};

/// C(Rows x Cols) = alpha * A(Rows x k) * B(Cols x k)^T + beta * C with k >= batch width: a[r*lda + p], b[s*ldb + p].
/// The last, partial batch of k is loaded ending at k and its lanes already counted are zeroed.
template <class Arch, std::size_t Rows, std::size_t Cols>
void gemm_dot_tile(std::size_t k, const float* a, std::size_t lda, const float* b, std::size_t ldb, float alpha,
                   float beta, float* c, std::size_t ldc) noexcept {
  using batch = xsimd::batch<float, Arch>;
  constexpr std::size_t w = batch::size;
  std::array<std::array<batch, Cols>, Rows> acc;
  static_for<Rows>([&](auto r) { static_for<Cols>([&](auto s) { acc[r][s] = batch(0.0f); }); });
  const auto step = [&](std::size_t p, auto mask_b) {
    std::array<batch, Rows> av;
    static_for<Rows>([&](auto r) { av[r] = batch::load_unaligned(a + r * lda + p); });
    static_for<Cols>([&](auto s) {
      const batch bv = mask_b(batch::load_unaligned(b + s * ldb + p));
      static_for<Rows>([&](auto r) { acc[r][s] = xsimd::fma(av[r], bv, acc[r][s]); });
    });
  };
  const std::size_t full = k - k % w;
#pragma GCC unroll 2
  for (std::size_t p = 0; p < full; p += w) step(p, [](const batch& x) { return x; });
  if (full < k) {
    // Lanes [0, w - (k - full)) of the batch ending at k were already counted.
    const auto keep = lane_index<Arch>() >= batch(static_cast<float>(w - (k - full)));
    step(k - w, [&](const batch& x) { return xsimd::select(keep, x, batch(0.0f)); });
  }
  static_for<Rows>([&](auto r) {
    static_for<Cols>([&](auto s) {
      const float sum = xsimd::hadd(acc[r][s]);
      float& cij = c[r * ldc + s];
      cij = beta == 0.0f ? alpha * sum : alpha * sum + beta * cij;
    });
  });
}

using gemm_dot_tile_fn = void (*)(std::size_t, const float*, std::size_t, const float*, std::size_t, float, float,
                                  float*, std::size_t) noexcept;

/// The dot kernel for every (rows, cols) block up to the full one: table[rows - 1][cols - 1].
template <class Arch>
class gemm_dot_tiles {
  using blocking = gemm_dot_blocking<Arch>;
  template <std::size_t Rows>
  static constexpr std::array<gemm_dot_tile_fn, blocking::cols> row() {
    return []<std::size_t... S>(std::index_sequence<S...>) {
      return std::array<gemm_dot_tile_fn, blocking::cols>{&gemm_dot_tile<Arch, Rows, S + 1>...};
    }(std::make_index_sequence<blocking::cols>{});
  }

 public:
  static constexpr auto table = []<std::size_t... R>(std::index_sequence<R...>) {
    return std::array<std::array<gemm_dot_tile_fn, blocking::cols>, blocking::rows>{row<R + 1>()...};
  }(std::make_index_sequence<blocking::rows>{});
};

/// C(m x n) = alpha * A(m x k) * B(n x k)^T + beta * C for k >= the batch width, block by block of C.
template <class Arch>
void gemm_dot(std::size_t m, std::size_t n, std::size_t k, float alpha, const float* a, std::size_t lda,
              const float* b, std::size_t ldb, float beta, float* c, std::size_t ldc) noexcept {
  using blocking = gemm_dot_blocking<Arch>;
  const auto& tiles = gemm_dot_tiles<Arch>::table;
  for (std::size_t i = 0; i < m; i += blocking::rows) {
    const std::size_t rows = std::min(blocking::rows, m - i);
    for (std::size_t j = 0; j < n; j += blocking::cols) {
      const std::size_t cols = std::min(blocking::cols, n - j);
      tiles[rows - 1][cols - 1](k, a + i * lda, lda, b + j * ldb, ldb, alpha, beta, c + i * ldc + j, ldc);
    }
  }
}

}  // namespace hwnas::kernels::detail
