#pragma once
/// @file
/// Internals of hwnas::kernels::gemm: the register tile and cache blocks chosen per xsimd architecture, and the
/// register-blocked micro-kernel that multiplies an (rows x k) A sliver by a (k x cols) B sliver into C.

#include <algorithm>
#include <array>
#include <cstddef>
#include <type_traits>
#include <utility>

#include <xsimd/xsimd.hpp>

namespace hwnas::kernels::detail {

/// Register tile and cache blocking of the float GEMM on `Arch`.
///
/// The micro-kernel keeps an (mr x nb batches) block of C in registers: each step of k loads nb batches of a packed
/// B row and broadcasts mr values of an A column, then issues mr * nb independent FMAs. mr * nb accumulators +
/// nb B batches + 1 broadcast must fit the register file: 6 x 2 (15 of 16 registers) on SSE/AVX/AVX2/NEON, 12 x 2
/// (27 of 32) on AVX-512. The blocks follow Goto's scheme: a kc x nr B sliver stays in L1 (~16 KiB), an mc x kc
/// A block in L2, a kc x nc B block in the last-level cache.
template <class Arch>
struct gemm_blocking {
  static constexpr std::size_t width = xsimd::batch<float, Arch>::size;  // floats per batch
  static constexpr bool wide_register_file = std::is_base_of_v<xsimd::avx512f, Arch>;
  static constexpr std::size_t mr = wide_register_file ? 12 : 6;  // rows of the register tile
  static constexpr std::size_t nb = 2;                             // batches per row of the register tile
  static constexpr std::size_t nr = nb * width;                    // columns of the register tile
  static constexpr std::size_t kc = std::max<std::size_t>(64, 16384 / (nr * sizeof(float)));  // 256 on AVX2
  static constexpr std::size_t mc = mr * std::max<std::size_t>(1, 160 / mr);                   // 156 on AVX2
  static constexpr std::size_t nc = nr * std::max<std::size_t>(1, 4096 / nr);
};

/// A hint that the cache line holding p will be written soon (no-op where the compiler has no builtin).
inline void prefetch_for_write([[maybe_unused]] const float* p) noexcept {
#if defined(__GNUC__) || defined(__clang__)
  __builtin_prefetch(p, 1);
#endif
}

/// The batch {0, 1, 2, ...}: compared with a count, it masks the first lanes of a batch.
template <class Arch>
xsimd::batch<float, Arch> lane_index() noexcept {
  using batch = xsimd::batch<float, Arch>;
  alignas(64) static constexpr auto lanes = [] {
    std::array<float, batch::size> l{};
    for (std::size_t i = 0; i < batch::size; ++i) l[i] = static_cast<float>(i);
    return l;
  }();
  return batch::load_aligned(lanes.data());
}

/// Calls f(std::integral_constant<std::size_t, I>{}) for I = 0 .. N-1, unrolled at compile time.
template <std::size_t N, class F>
[[gnu::always_inline]] inline void static_for(F&& f) {
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    (f(std::integral_constant<std::size_t, I>{}), ...);
  }(std::make_index_sequence<N>{});
}

/// C(rows x cols) = alpha * A * B + beta * C for one register tile.
///
/// A(i, p) = a[i + p * a_step] (a packed panel has a_step = mr; A^T in place has a_step = lda), B(p, j) =
/// b[j + p * b_step] for j < Cols * width (a packed panel has b_step = nr; B in place has b_step = ldb). Only the
/// first `cols` (<= Cols * width) columns of C are written; beta == 0 means C is not read.
template <class Arch, std::size_t Rows, std::size_t Cols>
void gemm_micro_tile(std::size_t k, const float* a, std::size_t a_step, const float* b, std::size_t b_step,
                     float alpha, float beta, float* c, std::size_t ldc, std::size_t cols) noexcept {
  using batch = xsimd::batch<float, Arch>;
  constexpr std::size_t w = batch::size;
  std::array<std::array<batch, Cols>, Rows> acc;
  static_for<Rows>([&](auto i) { static_for<Cols>([&](auto j) { acc[i][j] = batch(0.0f); }); });
  // The C tile is touched only after the k loop: start bringing its lines in now.
  static_for<Rows>([&](auto i) {
    prefetch_for_write(c + i * ldc);
    prefetch_for_write(c + i * ldc + (Cols * w - 1));
  });
#pragma GCC unroll 4
  for (std::size_t p = 0; p < k; ++p) {
    std::array<batch, Cols> bv;
    static_for<Cols>([&](auto j) { bv[j] = batch::load_unaligned(b + j * w); });
    static_for<Rows>([&](auto i) {
      const batch av(a[i]);
      static_for<Cols>([&](auto j) { acc[i][j] = xsimd::fma(av, bv[j], acc[i][j]); });
    });
    a += a_step;
    b += b_step;
  }
  if (cols == Cols * w) {
    const batch va(alpha);
    if (beta == 0.0f) {
      static_for<Rows>([&](auto i) {
        static_for<Cols>([&](auto j) { (va * acc[i][j]).store_unaligned(c + i * ldc + j * w); });
      });
    } else {
      const batch vb(beta);
      static_for<Rows>([&](auto i) {
        static_for<Cols>([&](auto j) {
          float* cp = c + i * ldc + j * w;
          xsimd::fma(va, acc[i][j], vb * batch::load_unaligned(cp)).store_unaligned(cp);
        });
      });
    }
    return;
  }
  alignas(64) float tile[Rows][Cols * w];
  static_for<Rows>([&](auto i) { static_for<Cols>([&](auto j) { acc[i][j].store_aligned(&tile[i][j * w]); }); });
  for (std::size_t i = 0; i < Rows; ++i) {
    float* ci = c + i * ldc;
    if (beta == 0.0f) {
      for (std::size_t j = 0; j < cols; ++j) ci[j] = alpha * tile[i][j];
    } else {
      for (std::size_t j = 0; j < cols; ++j) ci[j] = alpha * tile[i][j] + beta * ci[j];
    }
  }
}

using gemm_micro_tile_fn = void (*)(std::size_t, const float*, std::size_t, const float*, std::size_t, float, float,
                                    float*, std::size_t, std::size_t) noexcept;

/// The micro-kernel for every (rows, batches) shape up to the full tile: table[rows - 1][batches - 1].
template <class Arch>
class gemm_micro_tiles {
  using blocking = gemm_blocking<Arch>;
  template <std::size_t Rows>
  static constexpr std::array<gemm_micro_tile_fn, blocking::nb> row() {
    return []<std::size_t... C>(std::index_sequence<C...>) {
      return std::array<gemm_micro_tile_fn, blocking::nb>{&gemm_micro_tile<Arch, Rows, C + 1>...};
    }(std::make_index_sequence<blocking::nb>{});
  }

 public:
  static constexpr auto table = []<std::size_t... R>(std::index_sequence<R...>) {
    return std::array<std::array<gemm_micro_tile_fn, blocking::nb>, blocking::mr>{row<R + 1>()...};
  }(std::make_index_sequence<blocking::mr>{});
};

}  // namespace hwnas::kernels::detail
