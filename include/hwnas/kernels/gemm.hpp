#pragma once
/// @file
/// Single-precision GEMM: C = alpha * op(A) * op(B) + beta * C on row-major matrices.
///
/// `gemm<Arch>` is the kernel every float layer of hwnas runs on (dense layers directly, convolutions through
/// im2col); `gemm_ref` is its scalar twin, the definition the tests hold it to. The fast path packs op(A) and
/// op(B) into cache-blocked panels (Goto / BLIS scheme) and multiplies them with a register-blocked xsimd
/// micro-kernel (see detail/gemm_kernel.hpp); small problems skip the packing that would cost more than it saves.

#include <algorithm>
#include <cstddef>
#include <string>

#include <xsimd/xsimd.hpp>

#include "hwnas/core/error.hpp"
#include "hwnas/core/parallel.hpp"
#if !defined(XSIMD_NO_SUPPORTED_ARCHITECTURE)
#include "hwnas/kernels/detail/gemm_driver.hpp"
#endif

namespace hwnas::kernels {

/// Whether a GEMM operand is used as stored (`no`) or transposed (`yes`).
enum class transpose : bool { no = false, yes = true };

namespace detail {

/// Throws hwnas::invalid_argument unless the operands describe valid row-major matrices.
/// (Pointers are only compared with null: C may be uninitialized when beta == 0.)
inline void gemm_check(const char* who, transpose ta, transpose tb, std::size_t m, std::size_t n, std::size_t k,
                       bool a_null, std::size_t lda, bool b_null, std::size_t ldb, bool c_null, std::size_t ldc) {
  const auto fail = [&](const std::string& what) {
    throw hwnas::invalid_argument(std::string(who) + ": " + what + " (m=" + std::to_string(m) +
                                  ", n=" + std::to_string(n) + ", k=" + std::to_string(k) + ")");
  };
  const std::size_t a_cols = ta == transpose::no ? k : m, a_rows = ta == transpose::no ? m : k;
  const std::size_t b_cols = tb == transpose::no ? n : k, b_rows = tb == transpose::no ? k : n;
  if (a_rows > 0 && lda < a_cols)
    fail("lda=" + std::to_string(lda) + " is smaller than the " + std::to_string(a_cols) +
         " columns of A as stored; pass its row stride in elements");
  if (b_rows > 0 && ldb < b_cols)
    fail("ldb=" + std::to_string(ldb) + " is smaller than the " + std::to_string(b_cols) +
         " columns of B as stored; pass its row stride in elements");
  if (m > 0 && ldc < n)
    fail("ldc=" + std::to_string(ldc) + " is smaller than the " + std::to_string(n) +
         " columns of C; pass its row stride in elements");
  if (m > 0 && n > 0 && c_null) fail("C is null");
  if (m > 0 && n > 0 && k > 0 && (a_null || b_null)) fail("A or B is null");
}

/// C = beta * C over m x n (beta == 0 writes zeros without reading C).
inline void gemm_scale_c(std::size_t m, std::size_t n, float beta, float* c, std::size_t ldc) noexcept {
  for (std::size_t i = 0; i < m; ++i) {
    float* ci = c + i * ldc;
    if (beta == 0.0f)
      std::fill(ci, ci + n, 0.0f);
    else if (beta != 1.0f)
      for (std::size_t j = 0; j < n; ++j) ci[j] *= beta;
  }
}

}  // namespace detail

/// C(m x n) = alpha * op(A)(m x k) * op(B)(k x n) + beta * C, row-major, leading dimensions in elements: the
/// scalar reference (accumulates in double). op(A) = A (stored m x k, lda >= k) or A^T (stored k x m, lda >= m);
/// same for B (stored k x n, ldb >= n, or n x k, ldb >= k). beta == 0 means C is not read (NaN in C is
/// overwritten); alpha == 0 or k == 0 means A and B are not read (C = beta * C).
/// @throws hwnas::invalid_argument if a leading dimension is smaller than its matrix's row or a pointer is null.
inline void gemm_ref(transpose ta, transpose tb, std::size_t m, std::size_t n, std::size_t k, float alpha,
                     const float* a, std::size_t lda, const float* b, std::size_t ldb, float beta, float* c,
                     std::size_t ldc) {
  detail::gemm_check("hwnas::kernels::gemm_ref", ta, tb, m, n, k, a == nullptr, lda, b == nullptr, ldb, c == nullptr,
                     ldc);
  if (m == 0 || n == 0) return;
  if (alpha == 0.0f || k == 0) {
    detail::gemm_scale_c(m, n, beta, c, ldc);
    return;
  }
  for (std::size_t i = 0; i < m; ++i) {
    for (std::size_t j = 0; j < n; ++j) {
      double sum = 0.0;
      for (std::size_t p = 0; p < k; ++p) {
        const float aip = ta == transpose::no ? a[i * lda + p] : a[p * lda + i];
        const float bpj = tb == transpose::no ? b[p * ldb + j] : b[j * ldb + p];
        sum += static_cast<double>(aip) * static_cast<double>(bpj);
      }
      float& cij = c[i * ldc + j];
      cij = beta == 0.0f ? static_cast<float>(alpha * sum)
                         : static_cast<float>(alpha * sum + static_cast<double>(beta) * cij);
    }
  }
}

/// C(m x n) = alpha * op(A)(m x k) * op(B)(k x n) + beta * C, row-major, leading dimensions in elements, with the
/// same contract as gemm_ref (which it matches to float rounding): any sizes (0 included), any leading
/// dimensions, unaligned pointers; beta == 0 never reads C. C must not overlap A or B.
///
/// Packing buffers are per thread and reused across calls (they grow to at most a few MiB), so concurrent calls
/// from different threads are safe, and so is calling it on per-thread batch slices with pool == nullptr.
///
/// @tparam Arch the xsimd architecture of the micro-kernel (default: the best one enabled at compile time); an
///              architecture xsimd cannot use here falls back to gemm_ref.
/// @param pool  threads to share the work (C is split by rows, or by columns when it is short); used only when the
///              product is large enough to repay waking them (about 2^23 multiply-adds). nullptr runs on the calling
///              thread. Must not be the pool running the caller (thread_pool::run is not re-entrant).
/// @throws hwnas::invalid_argument if a leading dimension is smaller than its matrix's row or a pointer is null.
template <class Arch = xsimd::default_arch>
void gemm(transpose ta, transpose tb, std::size_t m, std::size_t n, std::size_t k, float alpha, const float* a,
          std::size_t lda, const float* b, std::size_t ldb, float beta, float* c, std::size_t ldc,
          hwnas::thread_pool* pool = nullptr) {
#if defined(XSIMD_NO_SUPPORTED_ARCHITECTURE)
  (void)pool;
  gemm_ref(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
#else
  if constexpr (!Arch::supported()) {
    (void)pool;
    gemm_ref(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  } else {
    detail::gemm_check("hwnas::kernels::gemm", ta, tb, m, n, k, a == nullptr, lda, b == nullptr, ldb,
                       c == nullptr, ldc);
    if (m == 0 || n == 0) return;
    if (alpha == 0.0f || k == 0) {
      detail::gemm_scale_c(m, n, beta, c, ldc);
      return;
    }
    using blocking = detail::gemm_blocking<Arch>;
    const bool a_trans = ta == transpose::yes, b_trans = tb == transpose::yes;
    const std::size_t threads = pool == nullptr ? 1 : pool->size();
    if (threads <= 1 || m * n * k < detail::gemm_plan<Arch>::parallel_min_work ||
        (m < 2 * blocking::mr && n < 2 * blocking::nr)) {
      detail::gemm_blocked<Arch>(a_trans, b_trans, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    } else if (m >= threads * 2 * blocking::mr) {
      detail::gemm_parallel_rows<Arch>(*pool, a_trans, b_trans, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    } else {
      detail::gemm_parallel_cols<Arch>(*pool, a_trans, b_trans, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    }
  }
#endif
}

}  // namespace hwnas::kernels
