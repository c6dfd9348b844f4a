#pragma once
/// @file
/// Internals of the integer kernels (kernels/integer.hpp): the vector "ops" of each instruction set, the
/// register-blocked GEMM on pair-packed 16-bit operands, the operand builders (pair image, im2col), the
/// requantization loops and the exact 64-bit path. Nothing here is public API.
///
/// Operand packing. Every 32-bit word holds two 16-bit codes, the low half first (little endian):
/// word = uint16(lo) | uint16(hi) << 16. A weight word holds two signed codes; an activation word two unsigned codes
/// below 2^15 (so that the same bits read as signed int16 are the same number). One `madd` of a weight word and an
/// activation word is lo*lo + hi*hi, exact in int32 (|sum| <= 2 * 32767 * 32768 < 2^31): this is x86's
/// `pmaddwd`, emulated on other instruction sets with shifts and 32-bit multiplies.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>
#include <vector>

#include <xsimd/xsimd.hpp>

#if defined(__SSE2__) || defined(__AVX2__) || defined(__AVX512BW__)
#include <immintrin.h>
#endif

#include "hwnas/kernels/detail/unroll.hpp"
#include "hwnas/core/qformat.hpp"

namespace hwnas::kernels::detail {

// ---- vector ops per instruction set -----------------------------------------------------------------------------

/// Requantization of an int32 accumulator to an unsigned code as one branch-free formula, valid for every shift:
/// r = max(acc, 0); r = min(r, lim); r = (r + half) >> sr (logical); r = r << sl; r = min(r, max_code).
/// shift > 0: lim = INT32_MAX, half = 2^(shift-1), sr = shift, sl = 0 (acc + half is done in uint32: no overflow).
/// shift <= 0: lim = (max_code >> -shift) + 1 (so that the left shift cannot overflow), half = 0, sr = 0, sl = -shift.
/// Clamping at 0 first is exact: a negative accumulator requantizes to 0 (the ReLU), and so does 0 + half >> sr.
struct requant_constants {
  std::int32_t lim = 0, half = 0, max_code = 0;
  int sr = 0, sl = 0;
};
inline requant_constants make_requant_constants(int acc_frac_bits, qformat out) noexcept {
  requant_constants c;
  const int shift = acc_frac_bits - out.frac_bits;
  c.max_code = out.max_code();
  if (shift > 0) {
    c.lim = std::numeric_limits<std::int32_t>::max();
    c.half = std::int32_t{1} << (shift - 1);
    c.sr = shift;
  } else {
    c.lim = (c.max_code >> -shift) + 1;
    c.sl = -shift;
  }
  return c;
}

/// Portable ops on xsimd::batch<int32_t, Arch>; madd emulated by sign-extending each 16-bit half.
template <class Arch>
struct xsimd_int_ops {
  using reg = xsimd::batch<std::int32_t, Arch>;
  static constexpr std::size_t width = reg::size;
  static reg zero() noexcept { return reg(std::int32_t{0}); }
  static reg set1(std::int32_t v) noexcept { return reg(v); }
  static reg load(const std::int32_t* p) noexcept { return reg::load_unaligned(p); }
  static void store(std::int32_t* p, reg v) noexcept { v.store_unaligned(p); }
  /// acc + lo(a)*lo(b) + hi(a)*hi(b), halves read as int16.
  static reg madd(reg acc, reg a, reg b) noexcept {
    const reg alo = (a << 16) >> 16, ahi = a >> 16;
    const reg blo = (b << 16) >> 16, bhi = b >> 16;
    return acc + alo * blo + ahi * bhi;
  }
  static std::int32_t hsum(reg v) noexcept { return xsimd::hadd(v); }
  /// p, once v is computed (an ordering hint for the register allocator; a no-op here).
  static const std::int32_t* after(const std::int32_t* p, const reg&) noexcept { return p; }
  static reg requant(reg a, const requant_constants& c) noexcept {
    using ureg = xsimd::batch<std::uint32_t, Arch>;
    reg r = xsimd::min(xsimd::max(a, zero()), set1(c.lim));
    ureg u = (xsimd::bitwise_cast<ureg>(r) + ureg(static_cast<std::uint32_t>(c.half))) >> c.sr;
    r = xsimd::bitwise_cast<reg>(u << c.sl);
    return xsimd::min(r, set1(c.max_code));
  }
  /// requant() when c.sl == 0 and c.lim == INT32_MAX (a right shift): the two no-op steps left out.
  static reg requant_right(reg a, const requant_constants& c) noexcept {
    using ureg = xsimd::batch<std::uint32_t, Arch>;
    const reg r = xsimd::max(a, zero());
    const ureg u = (xsimd::bitwise_cast<ureg>(r) + ureg(static_cast<std::uint32_t>(c.half))) >> c.sr;
    return xsimd::min(xsimd::bitwise_cast<reg>(u), set1(c.max_code));
  }
  /// Stores n vectors of codes (each in [0, 65535]) narrowed to O.
  template <class O, std::size_t N>
  static void store_codes(O* dst, const reg (&v)[N]) noexcept {
    alignas(64) std::int32_t tmp[N * width];
    HWNAS_UNROLL
    for (std::size_t j = 0; j < N; ++j) v[j].store_aligned(tmp + j * width);
    HWNAS_UNROLL
    for (std::size_t i = 0; i < N * width; ++i) dst[i] = static_cast<O>(tmp[i]);
  }
};

#if defined(__AVX2__)
/// AVX2: vpmaddwd, 16 exact 16x16-bit products per instruction.
struct avx2_int_ops {
  using reg = __m256i;
  static constexpr std::size_t width = 8;
  static reg zero() noexcept { return _mm256_setzero_si256(); }
  static reg set1(std::int32_t v) noexcept { return _mm256_set1_epi32(v); }
  static reg load(const std::int32_t* p) noexcept { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }
  static void store(std::int32_t* p, reg v) noexcept { _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), v); }
  static reg madd(reg acc, reg a, reg b) noexcept { return _mm256_add_epi32(acc, _mm256_madd_epi16(a, b)); }
  /// p, as a value that depends on v: a load through it cannot be scheduled before v is computed. Costs nothing at
  /// run time; it only keeps the compiler from hoisting loads (and lengthening register lifetimes).
  static const std::int32_t* after(const std::int32_t* p, reg v) noexcept {
    asm("" : "+r"(p) : "x"(v));
    return p;
  }
  static std::int32_t hsum(reg v) noexcept {
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
    return _mm_cvtsi128_si32(s);
  }
  static reg requant(reg a, const requant_constants& c) noexcept {
    reg r = _mm256_min_epi32(_mm256_max_epi32(a, zero()), set1(c.lim));
    r = _mm256_srl_epi32(_mm256_add_epi32(r, set1(c.half)), _mm_cvtsi32_si128(c.sr));
    r = _mm256_sll_epi32(r, _mm_cvtsi32_si128(c.sl));
    return _mm256_min_epi32(r, set1(c.max_code));
  }
  static reg requant_right(reg a, const requant_constants& c) noexcept {
    const reg r = _mm256_srl_epi32(_mm256_add_epi32(_mm256_max_epi32(a, zero()), set1(c.half)), _mm_cvtsi32_si128(c.sr));
    return _mm256_min_epi32(r, set1(c.max_code));
  }
  /// Stores N (even) vectors of codes in [0, 65535] narrowed to O, in order.
  template <class O, std::size_t N>
  static void store_codes(O* dst, const reg (&v)[N]) noexcept {
    static_assert(N % 2 == 0);
    HWNAS_UNROLL
    for (std::size_t j = 0; j < N; j += 2) {
      const __m256i w16 = _mm256_permute4x64_epi64(_mm256_packus_epi32(v[j], v[j + 1]), 0xd8);  // 16 x u16
      if constexpr (sizeof(O) == 2) {
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + j * width), w16);
      } else {
        const __m128i b8 = _mm_packus_epi16(_mm256_castsi256_si128(w16), _mm256_extracti128_si256(w16, 1));
        _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + j * width), b8);
      }
    }
  }
};
#endif

#if defined(__AVX512BW__)
/// AVX-512BW: vpmaddwd on 512 bits; with AVX512-VNNI the multiply and the add fuse into vpdpwssd.
struct avx512_int_ops {
  using reg = __m512i;
  static constexpr std::size_t width = 16;
  static reg zero() noexcept { return _mm512_setzero_si512(); }
  static reg set1(std::int32_t v) noexcept { return _mm512_set1_epi32(v); }
  static reg load(const std::int32_t* p) noexcept { return _mm512_loadu_si512(p); }
  static void store(std::int32_t* p, reg v) noexcept { _mm512_storeu_si512(p, v); }
  static reg madd(reg acc, reg a, reg b) noexcept {
#if defined(__AVX512VNNI__)
    return _mm512_dpwssd_epi32(acc, a, b);
#else
    return _mm512_add_epi32(acc, _mm512_madd_epi16(a, b));
#endif
  }
  static std::int32_t hsum(reg v) noexcept { return _mm512_reduce_add_epi32(v); }
  static const std::int32_t* after(const std::int32_t* p, reg v) noexcept {
    asm("" : "+r"(p) : "v"(v));
    return p;
  }
  static reg requant(reg a, const requant_constants& c) noexcept {
    reg r = _mm512_min_epi32(_mm512_max_epi32(a, zero()), set1(c.lim));
    r = _mm512_srl_epi32(_mm512_add_epi32(r, set1(c.half)), _mm_cvtsi32_si128(c.sr));
    r = _mm512_sll_epi32(r, _mm_cvtsi32_si128(c.sl));
    return _mm512_min_epi32(r, set1(c.max_code));
  }
  static reg requant_right(reg a, const requant_constants& c) noexcept {
    const reg r = _mm512_srl_epi32(_mm512_add_epi32(_mm512_max_epi32(a, zero()), set1(c.half)), _mm_cvtsi32_si128(c.sr));
    return _mm512_min_epi32(r, set1(c.max_code));
  }
  template <class O, std::size_t N>
  static void store_codes(O* dst, const reg (&v)[N]) noexcept {
    HWNAS_UNROLL
    for (std::size_t j = 0; j < N; ++j) {
      if constexpr (sizeof(O) == 2)
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + j * width), _mm512_cvtusepi32_epi16(v[j]));
      else
        _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + j * width), _mm512_cvtusepi32_epi8(v[j]));
    }
  }
};
#endif

/// The ops used for xsimd architecture `Arch`: intrinsics where the compiler enables them, xsimd otherwise.
template <class Arch>
struct int_ops_for {
  using type = xsimd_int_ops<Arch>;
};
#if defined(__AVX2__)
template <class Arch>
  requires(std::is_base_of_v<xsimd::avx2, Arch>)
struct int_ops_for<Arch> {
  using type = avx2_int_ops;
};
#endif
#if defined(__AVX512BW__)
template <class Arch>
  requires(std::is_base_of_v<xsimd::avx512bw, Arch>)
struct int_ops_for<Arch> {
  using type = avx512_int_ops;
};
#endif
template <class Arch>
using int_ops = typename int_ops_for<Arch>::type;

// ---- small helpers ------------------------------------------------------------------------------------------------

constexpr std::size_t int_round_up(std::size_t x, std::size_t m) noexcept { return (x + m - 1) / m * m; }

/// p, as a value the compiler cannot see through: what is read through it cannot be hoisted out of a loop.
template <class T>
T* opaque(T* p) noexcept {
#if defined(__GNUC__) || defined(__clang__)
  asm volatile("" : "+r"(p));
#endif
  return p;
}

/// Packs two 16-bit codes into one word, `lo` in the low half.
constexpr std::int32_t pack_pair(std::int32_t lo, std::int32_t hi) noexcept {
  return static_cast<std::int32_t>((static_cast<std::uint32_t>(lo) & 0xffffu) |
                                   ((static_cast<std::uint32_t>(hi) & 0xffffu) << 16));
}
/// Signed halves of a weight word.
constexpr std::int64_t weight_lo(std::int32_t w) noexcept { return static_cast<std::int16_t>(w & 0xffff); }
constexpr std::int64_t weight_hi(std::int32_t w) noexcept { return static_cast<std::int16_t>((static_cast<std::uint32_t>(w) >> 16) & 0xffff); }
/// Unsigned halves of an activation word (16-bit activations do not fit int16; the exact path reads them this way).
constexpr std::int64_t act_lo(std::int32_t a) noexcept { return static_cast<std::uint32_t>(a) & 0xffffu; }
constexpr std::int64_t act_hi(std::int32_t a) noexcept { return static_cast<std::uint32_t>(a) >> 16; }

/// Reusable per-thread scratch, grown on demand, never shrunk.
struct int_workspace {
  std::vector<std::int32_t> operand;   // pair image or im2col matrix
  std::vector<std::int32_t> acc;       // (Mp, Qpad) accumulators
  std::vector<std::int32_t> bias;      // (Mp)
  std::vector<std::ptrdiff_t> offsets; // (Kp) start of each operand row
  std::vector<std::int64_t> wide;      // exact-path accumulators
  std::vector<std::uint16_t> codes;    // requantized padded planes
  std::vector<std::uint16_t> padded;   // zero-padded input image for im2col
  std::vector<std::uint16_t> plane;    // one requantized plane of the exact path
};
inline int_workspace& int_thread_workspace() {
  thread_local int_workspace ws;
  return ws;
}
template <class T>
T* int_grow(std::vector<T>& v, std::size_t n) {
  if (v.size() < n) v.resize(n);
  return v.data();
}
/// Per-thread scratch for n codes of type O (uint8 or uint16).
template <class O>
O* scratch_codes(std::size_t n) {
  return reinterpret_cast<O*>(int_grow(int_thread_workspace().codes, n));
}
/// Per-thread scratch for one plane of n codes of type O.
template <class O>
O* scratch_plane(std::size_t n) {
  return reinterpret_cast<O*>(int_grow(int_thread_workspace().plane, n));
}
template <class A>
A* scratch_padded(std::size_t n) {
  return reinterpret_cast<A*>(int_grow(int_thread_workspace().padded, n));
}

// ---- GEMM --------------------------------------------------------------------------------------------------------

/// Register tile of the GEMM: MR output channels x NR vectors of output pixels.
inline constexpr std::size_t gemm_mr = 4;
inline constexpr std::size_t gemm_nr = 2;

/// acc[m][q] = bias[m] + sum_kp madd(W[m][kp], B_kp[q]) for m < mp (multiple of gemm_mr) and q < qpad (multiple of
/// gemm_nr * width), where B_kp = base + offsets[kp]. W is row-major with row stride `wstride` words. Each finished
/// tile row goes to store(m, q0, const reg (&)[gemm_nr]).
template <class V, class Store>
void gemm_pairs(const std::int32_t* w, std::size_t wstride, std::size_t mp, std::size_t kp_count,
                const std::int32_t* base, const std::ptrdiff_t* offsets, const std::int32_t* bias, std::size_t qpad,
                Store store) {
  using reg = typename V::reg;
  constexpr std::size_t L = V::width, MR = gemm_mr, NR = gemm_nr;
  for (std::size_t q0 = 0; q0 < qpad; q0 += NR * L) {
    const std::int32_t* bq = base + q0;
    for (std::size_t m0 = 0; m0 < mp; m0 += MR) {
      reg acc[MR][NR];
      HWNAS_UNROLL
      for (std::size_t i = 0; i < MR; ++i)
        HWNAS_UNROLL
        for (std::size_t j = 0; j < NR; ++j) acc[i][j] = V::set1(bias[m0 + i]);
      const std::int32_t* w0 = w + m0 * wstride;
#pragma GCC unroll 4
      for (std::size_t kp = 0; kp < kp_count; ++kp) {
        const std::int32_t* b = bq + offsets[kp];
        reg bv[NR];
        HWNAS_UNROLL
        for (std::size_t j = 0; j < NR; ++j) bv[j] = V::load(b + j * L);
        const std::int32_t* wk = w0 + kp;
        HWNAS_UNROLL
        for (std::size_t i = 0; i < MR; ++i) {
          const reg wv = V::set1(wk[i * wstride]);
          HWNAS_UNROLL
          for (std::size_t j = 0; j < NR; ++j) acc[i][j] = V::madd(acc[i][j], bv[j], wv);
          // Row i+1's weight is loaded after row i's products: with all MR broadcasts hoisted to the top (as GCC
          // otherwise does), 8 accumulators + NR operands + MR weights exceed the 16 registers and spill.
          wk = V::after(wk, acc[i][NR - 1]);
        }
      }
      HWNAS_UNROLL
      for (std::size_t i = 0; i < MR; ++i) store(m0 + i, q0, acc[i]);
    }
  }
}

/// True when requant_right gives the same codes as requant (a pure right shift: no left shift, no input limit).
inline bool is_right_shift(const requant_constants& c) noexcept {
  return c.sl == 0 && c.lim == std::numeric_limits<std::int32_t>::max();
}
template <class V, bool Right>
typename V::reg requant_as(typename V::reg a, const requant_constants& c) noexcept {
  if constexpr (Right)
    return V::requant_right(a, c);
  else
    return V::requant(a, c);
}

/// Largest reduction (in pair words) handled by gemm_pairs_requant_short.
inline constexpr std::size_t short_kp_max = 6;

/// The GEMM of a short reduction (KP <= short_kp_max pair words, e.g. a 3x3 conv on one input channel) with the
/// requantization fused: the operand tile (KP x gemm_nr vectors) stays in registers while every output channel
/// m < m_count sweeps over it, and the codes go straight to out[m * qpad + q]. With so few products per output, the
/// (Mp, Qpad) int32 accumulator block of gemm_pairs would cost more memory traffic than the arithmetic.
template <class V, std::size_t KP, bool Right, class O>
void gemm_pairs_requant_short(const std::int32_t* w, std::size_t wstride, std::size_t m_count, const std::int32_t* base,
                              const std::ptrdiff_t* offsets, const std::int32_t* bias, std::size_t qpad,
                              const requant_constants& rq, O* out) {
  using reg = typename V::reg;
  constexpr std::size_t L = V::width, NR = gemm_nr;
  for (std::size_t q0 = 0; q0 < qpad; q0 += NR * L) {
    reg b[KP][NR];
    HWNAS_UNROLL
    for (std::size_t kp = 0; kp < KP; ++kp)
      HWNAS_UNROLL
      for (std::size_t j = 0; j < NR; ++j) b[kp][j] = V::load(base + offsets[kp] + q0 + j * L);
    for (std::size_t m = 0; m < m_count; ++m) {
      const std::int32_t* wm = w + m * wstride;
      reg acc[NR];
      HWNAS_UNROLL
      for (std::size_t j = 0; j < NR; ++j) acc[j] = V::set1(bias[m]);
      HWNAS_UNROLL
      for (std::size_t kp = 0; kp < KP; ++kp) {
        const reg wv = V::set1(wm[kp]);
        HWNAS_UNROLL
        for (std::size_t j = 0; j < NR; ++j) acc[j] = V::madd(acc[j], b[kp][j], wv);
      }
      HWNAS_UNROLL
      for (std::size_t j = 0; j < NR; ++j) acc[j] = requant_as<V, Right>(acc[j], rq);
      V::store_codes(out + m * qpad + q0, acc);
    }
  }
}

/// Runs gemm_pairs_requant_short with KP = kp_count (1..short_kp_max).
template <class V, class O, std::size_t KP = 1>
void gemm_pairs_requant_short_dispatch(std::size_t kp_count, const std::int32_t* w, std::size_t wstride,
                                       std::size_t m_count, const std::int32_t* base, const std::ptrdiff_t* offsets,
                                       const std::int32_t* bias, std::size_t qpad, const requant_constants& rq, O* out) {
  if constexpr (KP < short_kp_max) {
    if (kp_count != KP)
      return gemm_pairs_requant_short_dispatch<V, O, KP + 1>(kp_count, w, wstride, m_count, base, offsets, bias, qpad,
                                                             rq, out);
  }
  if (is_right_shift(rq))
    gemm_pairs_requant_short<V, KP, true>(w, wstride, m_count, base, offsets, bias, qpad, rq, out);
  else
    gemm_pairs_requant_short<V, KP, false>(w, wstride, m_count, base, offsets, bias, qpad, rq, out);
}

/// Dense: out[m] = bias[m] + sum over the words of madd(W[m], a), for m < mp (multiple of gemm_mr); `words` is a
/// multiple of the vector width and both operands are zero past the last real code.
template <class V>
void dense_pairs(const std::int32_t* w, std::size_t wstride, std::size_t mp, std::size_t words, const std::int32_t* a,
                 const std::int32_t* bias, std::int32_t* out) {
  using reg = typename V::reg;
  constexpr std::size_t L = V::width, MR = gemm_mr;
  for (std::size_t m0 = 0; m0 < mp; m0 += MR) {
    reg acc[MR];
    HWNAS_UNROLL
    for (std::size_t i = 0; i < MR; ++i) acc[i] = V::zero();
    const std::int32_t* w0 = w + m0 * wstride;
    for (std::size_t k = 0; k < words; k += L) {
      const reg av = V::load(a + k);
      HWNAS_UNROLL
      for (std::size_t i = 0; i < MR; ++i) acc[i] = V::madd(acc[i], av, V::load(w0 + i * wstride + k));
    }
    HWNAS_UNROLL
    for (std::size_t i = 0; i < MR; ++i) out[m0 + i] = bias[m0 + i] + V::hsum(acc[i]);
  }
}

/// The GEMM epilogue: N vectors of accumulators requantized (requant_right when Right, for a pure right shift, else
/// requant) and stored as N * width codes of type O.
template <class V, bool Right, class O, std::size_t N>
void requantize_tile(const typename V::reg (&acc)[N], const requant_constants& c, O* out) noexcept {
  typename V::reg r[N];
  HWNAS_UNROLL
  for (std::size_t j = 0; j < N; ++j) r[j] = requant_as<V, Right>(acc[j], c);
  V::store_codes(out, r);
}

// ---- operand builders -------------------------------------------------------------------------------------------

/// dst[x] = r0[x] | r1[x] << 16 for x < n (r1 == nullptr: zeros). SSE2 blocks of 8 with an overlapping last block
/// (the writes are idempotent), so that short rows (7..32 pixels, typical here) are vectorized too.
template <class A>
void interleave_row(const A* r0, const A* r1, int n, std::int32_t* dst) {
  int x = 0;
#if defined(__SSE2__)
  if (n >= 8) {
    const __m128i z = _mm_setzero_si128();
    auto block = [&](int i) {
      __m128i a, b;
      if constexpr (sizeof(A) == 1) {
        a = _mm_unpacklo_epi8(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(r0 + i)), z);
        b = r1 ? _mm_unpacklo_epi8(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(r1 + i)), z) : z;
      } else {
        a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(r0 + i));
        b = r1 ? _mm_loadu_si128(reinterpret_cast<const __m128i*>(r1 + i)) : z;
      }
      _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + i), _mm_unpacklo_epi16(a, b));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + i + 4), _mm_unpackhi_epi16(a, b));
    };
    for (; x + 8 <= n; x += 8) block(x);
    if (x < n) block(n - 8);
    return;
  }
#endif
  for (; x < n; ++x)
    dst[x] = static_cast<std::int32_t>(static_cast<std::uint32_t>(r0[x]) |
                                       (r1 ? static_cast<std::uint32_t>(r1[x]) << 16 : 0u));
}

/// The stride-1 operand: a zero-padded image whose word (np, yy, xx) packs channels 2np and 2np+1 (the second zero
/// when N is odd). Size n2 * hp * wp words followed by `slack` zero words.
template <class A>
void build_pair_image(const A* in, int n, int h, int w, int pt, int pl, int hp, int wp, std::size_t slack,
                      std::int32_t* out) {
  const int n2 = (n + 1) / 2;
  const std::size_t plane = static_cast<std::size_t>(hp) * wp;
  // Zero only the padding: top rows, side columns, bottom rows and the slack.
  for (int np = 0; np < n2; ++np) {
    std::int32_t* p = out + np * plane;
    std::memset(p, 0, static_cast<std::size_t>(pt) * wp * sizeof(std::int32_t));
    std::memset(p + static_cast<std::size_t>(pt + h) * wp, 0, static_cast<std::size_t>(hp - pt - h) * wp * sizeof(std::int32_t));
    for (int y = 0; y < h; ++y) {
      std::int32_t* row = p + static_cast<std::size_t>(y + pt) * wp;
      std::fill(row, row + pl, 0);
      std::fill(row + pl + w, row + wp, 0);
    }
  }
  std::memset(out + n2 * plane, 0, slack * sizeof(std::int32_t));
  for (int np = 0; np < n2; ++np) {
    const A* c0 = in + static_cast<std::size_t>(2 * np) * h * w;
    const A* c1 = 2 * np + 1 < n ? c0 + static_cast<std::size_t>(h) * w : nullptr;
    for (int y = 0; y < h; ++y)
      interleave_row(c0 + static_cast<std::size_t>(y) * w, c1 ? c1 + static_cast<std::size_t>(y) * w : nullptr, w,
                     out + np * plane + static_cast<std::size_t>(y + pt) * wp + pl);
  }
}

/// A zero-padded copy of one image, (n, hp, wp), so that im2col reads without bounds checks.
template <class A>
void build_padded_image(const A* in, int n, int h, int w, int pt, int pl, int hp, int wp, A* out) {
  std::memset(out, 0, static_cast<std::size_t>(n) * hp * wp * sizeof(A));
  for (int c = 0; c < n; ++c)
    for (int y = 0; y < h; ++y)
      std::memcpy(out + (static_cast<std::size_t>(c) * hp + y + pt) * wp + pl,
                  in + (static_cast<std::size_t>(c) * h + y) * w, static_cast<std::size_t>(w) * sizeof(A));
}

/// im2col into pair words from a padded image (n, hp, wp): row kp of (ld words, zero past ho*wo) packs taps
/// k = 2kp and 2kp+1 of the flattened (n, kh, kw) order; output pixel q = y*wo + x.
template <class A>
void build_im2col_pairs(const A* padded, int n, int hp, int wp, int k, int s, int ho, int wo, std::size_t ld,
                        std::int32_t* out) {
  const int ktot = n * k * k;
  const std::size_t q = static_cast<std::size_t>(ho) * wo;
  auto tap = [&](int t) {
    const int c = t / (k * k), kh = (t / k) % k, kw = t % k;
    return padded + (static_cast<std::size_t>(c) * hp + kh) * wp + kw;  // pixel (y, x) at [y*s*wp + x*s]
  };
  for (int kp = 0; kp < (ktot + 1) / 2; ++kp) {
    const A* t0 = tap(2 * kp);
    const A* t1 = 2 * kp + 1 < ktot ? tap(2 * kp + 1) : nullptr;
    std::int32_t* row = out + static_cast<std::size_t>(kp) * ld;
    for (int y = 0; y < ho; ++y) {
      const std::size_t src = static_cast<std::size_t>(y) * s * wp;
      std::int32_t* dst = row + static_cast<std::size_t>(y) * wo;
      if (s == 1) {
        interleave_row(t0 + src, t1 ? t1 + src : nullptr, wo, dst);
      } else {
        for (int x = 0; x < wo; ++x) {
          const std::size_t i = src + static_cast<std::size_t>(x) * s;
          dst[x] = static_cast<std::int32_t>(static_cast<std::uint32_t>(t0[i]) |
                                             (t1 ? static_cast<std::uint32_t>(t1[i]) << 16 : 0u));
        }
      }
    }
    std::fill(row + q, row + ld, 0);
  }
}

// ---- requantization ---------------------------------------------------------------------------------------------

/// Precomputed constants of requantize(acc, acc_frac_bits, out) for an unsigned `out` and an int32 accumulator.
struct requant_params {
  int shift = 0;           // acc_frac_bits - out.frac_bits, in [-16, 31]
  std::uint32_t half = 0;  // 2^(shift-1) when shift > 0
  std::int32_t max_code = 0;
  std::int32_t left_limit = 0;  // largest acc that does not saturate when shift < 0
};
inline requant_params make_requant(int acc_frac_bits, qformat out) noexcept {
  requant_params p;
  p.shift = acc_frac_bits - out.frac_bits;
  p.half = p.shift > 0 ? std::uint32_t{1} << (p.shift - 1) : 0u;
  p.max_code = out.max_code();
  p.left_limit = p.shift < 0 ? (p.max_code >> -p.shift) : p.max_code;
  return p;
}

/// Row requantization to unsigned codes: out[x] = requantize(acc[x], acc_frac_bits, out_format), branch-free per
/// element so that the compiler vectorizes it. Negative accumulators give 0 (the saturation at 0 is the ReLU);
/// positive ones are shifted in unsigned arithmetic so that acc + half cannot overflow.
template <class O>
void requantize_row(const std::int32_t* acc, std::size_t n, const requant_params& p, O* out) {
  if (p.shift > 0) {
    const std::uint32_t half = p.half, mx = static_cast<std::uint32_t>(p.max_code);
    const int s = p.shift;
    for (std::size_t x = 0; x < n; ++x) {
      const std::int32_t a = acc[x];
      const std::uint32_t r = std::min((static_cast<std::uint32_t>(a) + half) >> s, mx);
      out[x] = static_cast<O>(a > 0 ? r : 0u);
    }
  } else if (p.shift == 0) {
    for (std::size_t x = 0; x < n; ++x) out[x] = static_cast<O>(std::clamp(acc[x], 0, p.max_code));
  } else {
    const int s = -p.shift;
    for (std::size_t x = 0; x < n; ++x) {
      const std::int32_t a = std::clamp(acc[x], 0, p.left_limit + 1);
      out[x] = static_cast<O>(std::min(a << s, p.max_code));
    }
  }
}

}  // namespace hwnas::kernels::detail
