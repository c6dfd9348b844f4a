#pragma once
/// @file
/// Internals of hwnas::kernels::gemm: the Goto/BLIS loop nest around the micro-kernel (cache blocks, packing or
/// reading operands in place), the dot-product route for C = A * B^T, and the split over a thread pool.

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>

#include <xsimd/xsimd.hpp>

#include "hwnas/core/parallel.hpp"
#include "hwnas/kernels/detail/gemm_dot.hpp"
#include "hwnas/kernels/detail/gemm_kernel.hpp"
#include "hwnas/kernels/detail/gemm_pack.hpp"

namespace hwnas::kernels::detail {

/// A barrier for the few threads of one parallel GEMM that spins before it sleeps: the threads arrive within
/// microseconds of each other, and waking a sleeping thread costs tens of microseconds (more on a virtual machine)
/// where a spin costs nothing. After the spin it waits on the atomic (futex), so an oversubscribed machine loses
/// no more than the spin.
class gemm_barrier {
 public:
  explicit gemm_barrier(std::uint32_t threads) noexcept : threads_(threads) {}

  void arrive_and_wait() noexcept {
    const std::uint32_t generation = generation_.load(std::memory_order_acquire);
    if (arrived_.fetch_add(1, std::memory_order_acq_rel) + 1 == threads_) {
      arrived_.store(0, std::memory_order_relaxed);
      generation_.fetch_add(1, std::memory_order_release);
      generation_.notify_all();
      return;
    }
    for (int spin = 0; spin < spin_limit; ++spin) {
      if (generation_.load(std::memory_order_acquire) != generation) return;
      hwnas::detail::spin_pause();
    }
    while (generation_.load(std::memory_order_acquire) == generation)
      generation_.wait(generation, std::memory_order_acquire);
  }

 private:
  static constexpr int spin_limit = 1 << 14;  // ~100 us of pause instructions
  const std::uint32_t threads_;
  std::atomic<std::uint32_t> arrived_{0}, generation_{0};
};

/// When to skip packing: an operand is read in place when it already has the micro-kernel's layout (op(B) = B
/// with rows of contiguous columns; op(A) = A^T with columns of contiguous rows) and the packed copy would be
/// reused by too few register tiles to pay for itself.
template <class Arch>
struct gemm_plan {
  using blocking = gemm_blocking<Arch>;
  static constexpr std::size_t direct_b_max_m = 8 * blocking::mr;  // op(B) read in place while m <= this
  static constexpr std::size_t direct_a_max_n = 4 * blocking::nr;  // op(A) read in place while n <= this
  /// Whether C = A * B^T goes by dot products (no packing, no wasted tile columns) rather than by panels.
  static constexpr bool use_dot(std::size_t m, std::size_t n, std::size_t k) noexcept {
    return k >= 4 * blocking::width && (n <= blocking::nr || m <= 2 * blocking::mr);
  }
  /// Below this many multiply-adds a pool's wake-up costs more than the second thread saves.
  static constexpr std::size_t parallel_min_work = std::size_t{1} << 23;
};

/// "No ticket kept" in gemm_parallel_rows.
inline constexpr std::size_t gemm_no_ticket = ~std::size_t{0};

/// An op(A) block of mcb x kcb as the micro-kernel reads it: packed row panels (panel ir at data + ir * kcb, step
/// mr between columns) or, when op(A) = A^T is read in place, data + ir with step lda.
struct gemm_a_block {
  const float* data;
  std::size_t lda;  // 0: packed
};

/// An op(B) block of kcb x ncb as the micro-kernel reads it: packed column panels (panel jr at data + jr * kcb,
/// step nr between rows) or, when op(B) = B is read in place, data + jr with step ldb, except the column panel at
/// edge_j, which ends inside a batch and is read from its zero-padded copy `edge` (step nr).
struct gemm_b_block {
  const float* data;
  std::size_t ldb;  // 0: packed
  const float* edge = nullptr;
  std::size_t edge_j = 0;
};

/// C(mcb x ncb) = alpha * A block * B block + beta * C, register tile by register tile: a B panel (kcb x nr) stays
/// in L1 while the A panels stream past it.
template <class Arch>
void gemm_macro_kernel(std::size_t mcb, std::size_t ncb, std::size_t kcb, const gemm_a_block& a,
                       const gemm_b_block& b, float alpha, float beta, float* c, std::size_t ldc) noexcept {
  using blocking = gemm_blocking<Arch>;
  constexpr std::size_t mr = blocking::mr, nr = blocking::nr, w = blocking::width;
  const auto& tiles = gemm_micro_tiles<Arch>::table;
  const std::size_t a_step = a.lda == 0 ? mr : a.lda;
  for (std::size_t jr = 0; jr < ncb; jr += nr) {
    const std::size_t cols = std::min(nr, ncb - jr);
    const std::size_t batches = (cols + w - 1) / w;
    const float* bp = b.data + (b.ldb == 0 ? jr * kcb : jr);
    std::size_t b_step = b.ldb == 0 ? nr : b.ldb;
    if (b.edge != nullptr && jr == b.edge_j) {
      bp = b.edge;
      b_step = nr;
    }
    for (std::size_t ir = 0; ir < mcb; ir += mr) {
      const std::size_t rows = std::min(mr, mcb - ir);
      const float* ap = a.data + (a.lda == 0 ? ir * kcb : ir);
      tiles[rows - 1][batches - 1](kcb, ap, a_step, bp, b_step, alpha, beta, c + ir * ldc + jr, ldc, cols);
    }
  }
}

/// The blocked GEMM on the calling thread (m, n, k > 0, alpha != 0), packing what is worth packing.
template <class Arch>
void gemm_blocked(bool a_trans, bool b_trans, std::size_t m, std::size_t n, std::size_t k, float alpha,
                  const float* a, std::size_t lda, const float* b, std::size_t ldb, float beta, float* c,
                  std::size_t ldc) {
  using blocking = gemm_blocking<Arch>;
  using plan = gemm_plan<Arch>;
  constexpr std::size_t mr = blocking::mr, nr = blocking::nr, w = blocking::width;
  if (!a_trans && b_trans && plan::use_dot(m, n, k)) {
    gemm_dot<Arch>(m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    return;
  }
  const bool direct_a = a_trans && n <= plan::direct_a_max_n;
  const bool direct_b = !b_trans && m <= plan::direct_b_max_m;

  gemm_scratch& scratch = gemm_thread_scratch();
  const std::size_t kc_max = std::min(k, blocking::kc);
  const float* const b_end = b_trans ? b + (n - 1) * ldb + k : b + (k - 1) * ldb + n;  // end of B's storage
  float* const a_pack =
      direct_a ? nullptr : scratch.a.reserve((std::min(m, blocking::mc) + mr) * kc_max + gemm_pack_a_slack);
  float* const b_pack = direct_b ? nullptr : scratch.b.reserve((std::min(n, blocking::nc) + nr) * kc_max);
  float* const b_edge = direct_b ? scratch.b_edge.reserve(nr * kc_max) : nullptr;

  for (std::size_t jc = 0; jc < n; jc += blocking::nc) {
    const std::size_t ncb = std::min(blocking::nc, n - jc);
    for (std::size_t pc = 0; pc < k; pc += blocking::kc) {
      const std::size_t kcb = std::min(blocking::kc, k - pc);
      const float beta_block = pc == 0 ? beta : 1.0f;
      const float* b_src = b_trans ? b + jc * ldb + pc : b + pc * ldb + jc;  // op(B)(pc, jc)
      gemm_b_block bb{b_pack, 0};
      if (direct_b) {
        bb = {b_src, ldb};
        if (ncb % w != 0) {  // the last panel ends inside a batch: read it from a zero-padded copy
          bb.edge_j = ncb - ncb % nr;
          bb.edge = b_edge;
          gemm_pack_b<Arch, nr>(false, b_src + bb.edge_j, ldb, kcb, ncb - bb.edge_j, b_edge, b_end);
        }
      } else {
        gemm_pack_b<Arch, nr>(b_trans, b_src, ldb, kcb, ncb, b_pack, b_end);
      }
      for (std::size_t ic = 0; ic < m; ic += blocking::mc) {
        const std::size_t mcb = std::min(blocking::mc, m - ic);
        const float* a_src = a_trans ? a + pc * lda + ic : a + ic * lda + pc;  // op(A)(ic, pc)
        gemm_a_block ab{a_src, lda};
        if (!direct_a) {
          gemm_pack_a<Arch, mr>(a_trans, a_src, lda, mcb, kcb, a_pack);
          ab = {a_pack, 0};
        }
        gemm_macro_kernel<Arch>(mcb, ncb, kcb, ab, bb, alpha, beta_block, c + ic * ldc + jc, ldc);
      }
    }
  }
}

/// The blocked GEMM on every thread of `pool`, C split by rows into chunks taken dynamically (a thread slowed by
/// other work takes fewer). Each op(B) block is packed once, by all threads together, into one of two buffers of
/// the caller's scratch (double buffering: the single barrier per block both publishes block b and proves that
/// everyone is done with block b - 1's buffer). Each thread packs the op(A) rows of its chunk into its own slice
/// of the caller's scratch: nothing is allocated on the workers, so none can fail between two barriers.
template <class Arch>
void gemm_parallel_rows(hwnas::thread_pool& pool, bool a_trans, bool b_trans, std::size_t m, std::size_t n,
                        std::size_t k, float alpha, const float* a, std::size_t lda, const float* b,
                        std::size_t ldb, float beta, float* c, std::size_t ldc) {
  using blocking = gemm_blocking<Arch>;
  constexpr std::size_t mr = blocking::mr, nr = blocking::nr;
  constexpr std::size_t panels_per_grab = 4;
  const std::size_t threads = pool.size();
  // Chunks of whole register tiles, at most mc rows, a multiple of the thread count (at least two per thread) when
  // m allows, and as equal as tiles allow: chunk q has tiles [q T / chunks, (q + 1) T / chunks). Equal chunks
  // matter at every block's barrier: 512 rows in chunks of 132, 132, 132 and 116 left one thread 5% idle.
  const std::size_t tiles_m = (m + mr - 1) / mr;
  std::size_t chunks = threads * 2;
  while ((tiles_m + chunks - 1) / chunks * mr > blocking::mc) chunks += threads;
  chunks = std::min(chunks, tiles_m);
  const std::size_t chunk_rows = (tiles_m + chunks - 1) / chunks * mr;  // the longest chunk
  const auto chunk_begin = [&](std::size_t q) { return std::min(m, q * tiles_m / chunks * mr); };

  gemm_scratch& scratch = gemm_thread_scratch();
  const std::size_t kc_max = std::min(k, blocking::kc), nc_max = std::min(n, blocking::nc);
  const float* const b_end = b_trans ? b + (n - 1) * ldb + k : b + (k - 1) * ldb + n;  // end of B's storage
  const std::size_t b_stride = ((nc_max + nr - 1) / nr * nr * kc_max + 15) / 16 * 16;  // 64-byte aligned halves
  float* const b_packs = scratch.b.reserve(2 * b_stride);
  const std::size_t a_stride = (chunk_rows * kc_max + gemm_pack_a_slack + 15) / 16 * 16;
  float* const a_packs = scratch.a.reserve(threads * a_stride);

  // Tickets: the g-th grab of B panels and the q-th chunk of C, numbered across blocks. A thread that draws a
  // ticket of a later block keeps it for that block.
  std::atomic<std::size_t> next_grab{0}, next_chunk{0};
  gemm_barrier sync(static_cast<std::uint32_t>(threads));
  pool.run([&](std::size_t t) {
    float* const a_pack = a_packs + t * a_stride;
    std::size_t kept_grab = gemm_no_ticket, kept_chunk = gemm_no_ticket, grab_base = 0, chunk_base = 0, block = 0;
    const auto draw = [](std::atomic<std::size_t>& counter, std::size_t& kept) {
      const std::size_t ticket = kept != gemm_no_ticket ? kept : counter.fetch_add(1, std::memory_order_relaxed);
      kept = gemm_no_ticket;
      return ticket;
    };
    for (std::size_t jc = 0; jc < n; jc += blocking::nc) {
      const std::size_t ncb = std::min(blocking::nc, n - jc);
      const std::size_t grabs = ((ncb + nr - 1) / nr + panels_per_grab - 1) / panels_per_grab;
      for (std::size_t pc = 0; pc < k; pc += blocking::kc, ++block) {
        const std::size_t kcb = std::min(blocking::kc, k - pc);
        const float beta_block = pc == 0 ? beta : 1.0f;
        float* const b_pack = b_packs + (block % 2) * b_stride;
        const float* b_src = b_trans ? b + jc * ldb + pc : b + pc * ldb + jc;  // op(B)(pc, jc)
        for (;;) {
          const std::size_t g = draw(next_grab, kept_grab);
          if (g >= grab_base + grabs) {
            kept_grab = g;
            break;
          }
          const std::size_t j0 = (g - grab_base) * panels_per_grab * nr;
          const std::size_t j1 = std::min(ncb, j0 + panels_per_grab * nr);
          gemm_pack_b<Arch, nr>(b_trans, b_trans ? b_src + j0 * ldb : b_src + j0, ldb, kcb, j1 - j0,
                                b_pack + j0 * kcb, b_end);
        }
        grab_base += grabs;
        sync.arrive_and_wait();
        for (;;) {
          const std::size_t q = draw(next_chunk, kept_chunk);
          if (q >= chunk_base + chunks) {
            kept_chunk = q;
            break;
          }
          const std::size_t ic = chunk_begin(q - chunk_base), mcb = chunk_begin(q - chunk_base + 1) - ic;
          const float* a_src = a_trans ? a + pc * lda + ic : a + ic * lda + pc;  // op(A)(ic, pc)
          gemm_pack_a<Arch, mr>(a_trans, a_src, lda, mcb, kcb, a_pack);
          gemm_macro_kernel<Arch>(mcb, ncb, kcb, gemm_a_block{a_pack, 0}, gemm_b_block{b_pack, 0}, alpha,
                                  beta_block, c + ic * ldc + jc, ldc);
        }
        chunk_base += chunks;
      }
    }
  });
}

/// The blocked GEMM on every thread of `pool`, C split by columns into chunks of whole register tiles taken
/// dynamically; each chunk is an independent blocked GEMM (for short, wide C, where op(A) is small).
template <class Arch>
void gemm_parallel_cols(hwnas::thread_pool& pool, bool a_trans, bool b_trans, std::size_t m, std::size_t n,
                        std::size_t k, float alpha, const float* a, std::size_t lda, const float* b,
                        std::size_t ldb, float beta, float* c, std::size_t ldc) {
  using blocking = gemm_blocking<Arch>;
  constexpr std::size_t nr = blocking::nr;
  const std::size_t tiles_n = (n + nr - 1) / nr;
  const std::size_t chunks = std::min(tiles_n, pool.size() * 4);
  const std::size_t chunk_cols = (tiles_n + chunks - 1) / chunks * nr;
  std::atomic<std::size_t> next_chunk{0};
  pool.run([&](std::size_t) {
    for (std::size_t q; (q = next_chunk.fetch_add(1, std::memory_order_relaxed)) * chunk_cols < n;) {
      const std::size_t j0 = q * chunk_cols, cols = std::min(chunk_cols, n - j0);
      const float* b_lo = b_trans ? b + j0 * ldb : b + j0;
      gemm_blocked<Arch>(a_trans, b_trans, m, cols, k, alpha, a, lda, b_lo, ldb, beta, c + j0, ldc);
    }
  });
}

}  // namespace hwnas::kernels::detail
