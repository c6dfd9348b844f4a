#pragma once
/// @file
/// Internals of hwnas::kernels::gemm: per-thread aligned scratch, and packing of op(A) and op(B) blocks into the
/// panel layouts the micro-kernel reads.

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <memory>
#include <new>
#include <type_traits>

#include <xsimd/xsimd.hpp>

#include "hwnas/kernels/detail/unroll.hpp"
#include "hwnas/kernels/detail/gemm_kernel.hpp"

namespace hwnas::kernels::detail {

/// A growable 64-byte-aligned float buffer; grows only, never copies (its content is scratch).
class aligned_scratch {
 public:
  float* reserve(std::size_t count) {
    if (count > capacity_) {
      const std::size_t grown = std::max(count, capacity_ + capacity_ / 2);
      data_.reset(static_cast<float*>(::operator new(grown * sizeof(float), std::align_val_t{64})));
      capacity_ = grown;
    }
    return data_.get();
  }

 private:
  struct release {
    void operator()(float* p) const noexcept { ::operator delete(p, std::align_val_t{64}); }
  };
  std::unique_ptr<float, release> data_;
  std::size_t capacity_ = 0;
};

/// The packing buffers of the calling thread, reused across calls (a GEMM call is never re-entered on a thread).
struct gemm_scratch {
  aligned_scratch a, b, b_edge;
};

inline gemm_scratch& gemm_thread_scratch() {
  thread_local gemm_scratch scratch;
  return scratch;
}

/// Square in-register transposes of float blocks, the inner step of packing a transposed operand. `size` is 0
/// where the architecture has none (the packers then copy element by element).
template <class Arch, class = void>
struct block_transpose {
  static constexpr std::size_t size = 0;
};

#if XSIMD_WITH_AVX
/// 8 x 8 with AVX (also on AVX-512 architectures): rows r[0..7] become columns.
template <class Arch>
struct block_transpose<Arch, std::enable_if_t<std::is_base_of_v<xsimd::avx, Arch> ||
                                              std::is_base_of_v<xsimd::avx512f, Arch>>> {
  static constexpr std::size_t size = 8;
  using rows = __m256[8];
  static void load(rows& r, const float* const* src) noexcept {
    for (std::size_t i = 0; i < 8; ++i) r[i] = _mm256_loadu_ps(src[i]);
  }
  static void transpose(rows& r) noexcept {
    const __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
    const __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
    const __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
    const __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
    const __m256 s0 = _mm256_shuffle_ps(t0, t2, 0x44), s1 = _mm256_shuffle_ps(t0, t2, 0xEE);
    const __m256 s2 = _mm256_shuffle_ps(t1, t3, 0x44), s3 = _mm256_shuffle_ps(t1, t3, 0xEE);
    const __m256 s4 = _mm256_shuffle_ps(t4, t6, 0x44), s5 = _mm256_shuffle_ps(t4, t6, 0xEE);
    const __m256 s6 = _mm256_shuffle_ps(t5, t7, 0x44), s7 = _mm256_shuffle_ps(t5, t7, 0xEE);
    r[0] = _mm256_permute2f128_ps(s0, s4, 0x20);
    r[1] = _mm256_permute2f128_ps(s1, s5, 0x20);
    r[2] = _mm256_permute2f128_ps(s2, s6, 0x20);
    r[3] = _mm256_permute2f128_ps(s3, s7, 0x20);
    r[4] = _mm256_permute2f128_ps(s0, s4, 0x31);
    r[5] = _mm256_permute2f128_ps(s1, s5, 0x31);
    r[6] = _mm256_permute2f128_ps(s2, s6, 0x31);
    r[7] = _mm256_permute2f128_ps(s3, s7, 0x31);
  }
  static void store(const rows& r, std::size_t i, float* dst) noexcept { _mm256_storeu_ps(dst, r[i]); }
};
#endif

#if XSIMD_WITH_SSE2
/// 4 x 4 with SSE (architectures below AVX).
template <class Arch>
struct block_transpose<Arch, std::enable_if_t<std::is_base_of_v<xsimd::sse2, Arch>>> {
  static constexpr std::size_t size = 4;
  using rows = __m128[4];
  static void load(rows& r, const float* const* src) noexcept {
    for (std::size_t i = 0; i < 4; ++i) r[i] = _mm_loadu_ps(src[i]);
  }
  static void transpose(rows& r) noexcept { _MM_TRANSPOSE4_PS(r[0], r[1], r[2], r[3]); }
  static void store(const rows& r, std::size_t i, float* dst) noexcept { _mm_storeu_ps(dst, r[i]); }
};
#endif

/// dst[c * ldd + r] = src[r * lds + c] for r < rows, c < cols: a transposed copy, by in-register blocks where the
/// architecture has them and element by element for the rows and columns left over. Writes nothing else.
template <class Arch>
void transpose_copy(const float* src, std::size_t lds, std::size_t rows, std::size_t cols, float* dst,
                    std::size_t ldd) noexcept {
  using bt = block_transpose<Arch>;
  std::size_t r0 = 0;
  if constexpr (bt::size > 0) {
    constexpr std::size_t t = bt::size;
    const std::size_t cols_full = cols - cols % t;
    for (; r0 + t <= rows; r0 += t) {
      const float* rp[t];
      for (std::size_t i = 0; i < t; ++i) rp[i] = src + (r0 + i) * lds;
      for (std::size_t c0 = 0; c0 < cols_full; c0 += t) {
        typename bt::rows blk;
        bt::load(blk, rp);
        bt::transpose(blk);
        for (std::size_t i = 0; i < t; ++i) {
          bt::store(blk, i, dst + (c0 + i) * ldd + r0);
          rp[i] += t;
        }
      }
      for (std::size_t c = cols_full; c < cols; ++c)
        for (std::size_t i = 0; i < t; ++i) dst[c * ldd + r0 + i] = src[(r0 + i) * lds + c];
    }
  }
  for (std::size_t r = r0; r < rows; ++r)
    for (std::size_t c = 0; c < cols; ++c) dst[c * ldd + r] = src[r * lds + c];
}

/// Packs op(A)(rows, depth) into row panels of `MR`: panel q holds rows [q*MR, q*MR + MR) as depth consecutive
/// columns of MR floats (dst[q*MR*depth + p*MR + i]); rows past the edge of the last panel are left unset (the
/// micro-kernel for a short panel reads only its rows). `a` points at op(A)(0, 0); op(A)(i, p) is a[i*lda + p]
/// when !trans, a[p*lda + i] when trans. May write up to `gemm_pack_a_slack` floats past the last panel.
template <class Arch, std::size_t MR>
void gemm_pack_a(bool trans, const float* a, std::size_t lda, std::size_t rows, std::size_t depth,
                 float* dst) noexcept {
  using bt = block_transpose<Arch>;
  for (std::size_t i0 = 0; i0 < rows; i0 += MR, dst += MR * depth) {
    const std::size_t mr = std::min(MR, rows - i0);
    if (trans) {
      const float* src = a + i0;
      if (mr == MR) {
        for (std::size_t p = 0; p < depth; ++p) std::memcpy(dst + p * MR, src + p * lda, MR * sizeof(float));
      } else {
        for (std::size_t p = 0; p < depth; ++p) std::memcpy(dst + p * MR, src + p * lda, mr * sizeof(float));
      }
      continue;
    }
    const float* src = a + i0 * lda;
    std::size_t p0 = 0;
    if constexpr (bt::size > 0) {
      // Blocks of T rows x T columns transposed in registers, each column stored as T floats at dst + p*MR + ib.
      // The last row block of a panel may be partial: its stores spill into the next column's first rows, so row
      // blocks go last to first and the spill is overwritten by the next column's first block (or lands in the
      // next panel or the slack, both written later).
      constexpr std::size_t t = bt::size;
      if (mr == MR) {
        for (; p0 + t <= depth; p0 += t) {
          for (std::size_t block = (MR + t - 1) / t; block-- > 0;) {
            const std::size_t ib = block * t;
            const float* rp[t];
            for (std::size_t i = 0; i < t; ++i) rp[i] = src + std::min(ib + i, MR - 1) * lda + p0;
            typename bt::rows blk;
            bt::load(blk, rp);
            bt::transpose(blk);
            for (std::size_t i = 0; i < t; ++i) bt::store(blk, i, dst + (p0 + i) * MR + ib);
          }
        }
      }
    }
    for (std::size_t p = p0; p < depth; ++p)
      for (std::size_t i = 0; i < mr; ++i) dst[p * MR + i] = src[i * lda + p];
  }
}

/// Floats gemm_pack_a may write past the panels it packs.
inline constexpr std::size_t gemm_pack_a_slack = 64;

/// Packs op(B)(depth, cols) into column panels of `NR`: panel q holds columns [q*NR, q*NR + NR) as depth
/// consecutive rows of NR floats (dst[q*NR*depth + p*NR + j]), the last panel zero-padded. `b` points at
/// op(B)(0, 0); op(B)(p, j) is b[p*ldb + j] when !trans, b[j*ldb + p] when trans. `b_end` is the end of the
/// readable storage of B: a short row is read as a whole batch (its extra lanes zeroed) where that stays below it.
template <class Arch, std::size_t NR>
void gemm_pack_b(bool trans, const float* b, std::size_t ldb, std::size_t depth, std::size_t cols, float* dst,
                 const float* b_end) noexcept {
  using batch = xsimd::batch<float, Arch>;
  constexpr std::size_t w = batch::size;
  for (std::size_t j0 = 0; j0 < cols; j0 += NR, dst += NR * depth) {
    const std::size_t nr = std::min(NR, cols - j0);
    if (nr == NR && !trans) {
      const float* src = b + j0;
      for (std::size_t p = 0; p < depth; ++p)
        HWNAS_UNROLL
        for (std::size_t j = 0; j < NR; j += w)
          batch::load_unaligned(src + p * ldb + j).store_aligned(dst + p * NR + j);
      continue;
    }
    if (nr == NR) {
      transpose_copy<Arch>(b + j0 * ldb, ldb, NR, depth, dst, NR);
      continue;
    }
    // The edge panel: whole batches, then one partial batch, then zero batches.
    const std::size_t full = nr - nr % w, part = nr % w;
    const batch zero(0.0f);
    if (trans) {
      for (std::size_t p = 0; p < depth; ++p)
        for (std::size_t j = full; j < NR; j += w) zero.store_aligned(dst + p * NR + j);
      transpose_copy<Arch>(b + j0 * ldb, ldb, nr, depth, dst, NR);
      continue;
    }
    const auto keep = lane_index<Arch>() < batch(static_cast<float>(part));
    const float* src = b + j0;
    for (std::size_t p = 0; p < depth; ++p) {
      const float* s = src + p * ldb;
      float* d = dst + p * NR;
      for (std::size_t j = 0; j < full; j += w) batch::load_unaligned(s + j).store_aligned(d + j);
      std::size_t j = full;
      if (part != 0) {
        if (b_end - (s + j) >= static_cast<std::ptrdiff_t>(w)) {
          xsimd::select(keep, batch::load_unaligned(s + j), zero).store_aligned(d + j);
        } else {
          zero.store_aligned(d + j);
          for (std::size_t jj = 0; jj < part; ++jj) d[j + jj] = s[j + jj];
        }
        j += w;
      }
      for (; j < NR; j += w) zero.store_aligned(d + j);
    }
  }
}

}  // namespace hwnas::kernels::detail
