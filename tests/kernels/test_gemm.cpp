// hwnas::kernels::gemm against its scalar twin gemm_ref: random and edge shapes, every transpose combination,
// padded leading dimensions, unaligned pointers, alpha/beta, NaN in C with beta == 0, with and without a thread
// pool, on the default xsimd architecture and on narrower ones the CPU also runs.

#include <doctest/doctest.h>

#include <cmath>
#include <cstddef>
#include <limits>
#include <string>
#include <vector>

#include <xsimd/xsimd.hpp>

#include "hwnas/core/error.hpp"
#include "hwnas/core/parallel.hpp"
#include "hwnas/core/rng.hpp"
#include "hwnas/kernels/gemm.hpp"

namespace {

using hwnas::kernels::transpose;

/// Whether xsimd can run Arch here: compiled in (-march) and reported by the CPU.
template <class Arch>
bool runs_here() {
  if constexpr (!Arch::supported()) {
    return false;
  } else {
    return xsimd::available_architectures().best >= Arch::version();
  }
}

struct gemm_problem {
  transpose ta = transpose::no, tb = transpose::no;
  std::size_t m = 0, n = 0, k = 0;
  std::size_t lda_pad = 0, ldb_pad = 0, ldc_pad = 0;
  float alpha = 1.0f, beta = 0.0f;
  bool nan_in_c = false;  // fill C with NaN (meaningful with beta == 0)
  std::size_t offset = 1;  // floats between each buffer's (aligned) start and the matrix: unaligned pointers

  std::string describe() const {
    return "m=" + std::to_string(m) + " n=" + std::to_string(n) + " k=" + std::to_string(k) +
           " ta=" + std::to_string(ta == transpose::yes) + " tb=" + std::to_string(tb == transpose::yes) +
           " pads=" + std::to_string(lda_pad) + "," + std::to_string(ldb_pad) + "," + std::to_string(ldc_pad) +
           " alpha=" + std::to_string(alpha) + " beta=" + std::to_string(beta) + " nan=" + std::to_string(nan_in_c);
  }
};

/// Runs gemm<Arch> and gemm_ref on the same random operands; checks every element of C against the reference
/// within a float-summation bound, and that the padding between n and ldc is untouched.
template <class Arch>
void check_against_ref(const gemm_problem& p, hwnas::rng& gen, hwnas::thread_pool* pool) {
  INFO(p.describe(), " arch=", std::string(Arch::name()), " pool=", pool != nullptr);
  const std::size_t a_rows = p.ta == transpose::no ? p.m : p.k, a_cols = p.ta == transpose::no ? p.k : p.m;
  const std::size_t b_rows = p.tb == transpose::no ? p.k : p.n, b_cols = p.tb == transpose::no ? p.n : p.k;
  const std::size_t lda = a_cols + p.lda_pad, ldb = b_cols + p.ldb_pad, ldc = p.n + p.ldc_pad;
  std::vector<float> a(p.offset + a_rows * lda + 1), b(p.offset + b_rows * ldb + 1), c(p.offset + p.m * ldc + 1);
  for (auto& x : a) x = static_cast<float>(gen.uniform(-1.0, 1.0));
  for (auto& x : b) x = static_cast<float>(gen.uniform(-1.0, 1.0));
  const float sentinel = 12345.0f;
  for (std::size_t i = 0; i < c.size(); ++i) c[i] = sentinel;
  for (std::size_t i = 0; i < p.m; ++i)
    for (std::size_t j = 0; j < p.n; ++j)
      c[p.offset + i * ldc + j] =
          p.nan_in_c ? std::numeric_limits<float>::quiet_NaN() : static_cast<float>(gen.uniform(-1.0, 1.0));
  std::vector<float> expected = c, got = c;

  hwnas::kernels::gemm_ref(p.ta, p.tb, p.m, p.n, p.k, p.alpha, a.data() + p.offset, lda, b.data() + p.offset, ldb,
                           p.beta, expected.data() + p.offset, ldc);
  hwnas::kernels::gemm<Arch>(p.ta, p.tb, p.m, p.n, p.k, p.alpha, a.data() + p.offset, lda, b.data() + p.offset,
                             ldb, p.beta, got.data() + p.offset, ldc, pool);

  // Error bound of a float dot product of length k: |alpha| * sum |a||b| + |beta c|, times (k + 2) epsilons.
  std::vector<float> abs_a(a.size()), abs_b(b.size()), bound(c.size());
  for (std::size_t i = 0; i < a.size(); ++i) abs_a[i] = std::abs(a[i]);
  for (std::size_t i = 0; i < b.size(); ++i) abs_b[i] = std::abs(b[i]);
  for (std::size_t i = 0; i < c.size(); ++i) bound[i] = p.nan_in_c ? 0.0f : std::abs(c[i]);
  hwnas::kernels::gemm_ref(p.ta, p.tb, p.m, p.n, p.k, std::abs(p.alpha), abs_a.data() + p.offset, lda,
                           abs_b.data() + p.offset, ldb, std::abs(p.beta), bound.data() + p.offset, ldc);
  const float eps = std::numeric_limits<float>::epsilon();

  std::size_t bad = 0;
  for (std::size_t i = 0; i < c.size(); ++i) {
    const std::size_t rel = i - p.offset;
    const bool inside = i >= p.offset && ldc > 0 && rel / ldc < p.m && rel % ldc < p.n;
    if (!inside) {
      if (got[i] != sentinel && bad++ < 5) FAIL_CHECK("element ", i, " outside C was overwritten: ", got[i]);
      continue;
    }
    const float tol = 2.0f * static_cast<float>(p.k + 2) * eps * bound[i] + 1e-30f;
    if (!(std::abs(got[i] - expected[i]) <= tol) && bad++ < 5)
      FAIL_CHECK("C(", rel / ldc, ", ", rel % ldc, ") = ", got[i], ", expected ", expected[i], " +- ", tol);
  }
  CHECK(bad == 0);
}

constexpr transpose both[] = {transpose::no, transpose::yes};

template <class Arch>
void run_suite(hwnas::thread_pool* pool) {
  hwnas::rng gen(2024);

  SUBCASE("edge sizes 0, 1, 2, 3 and primes, every transpose combination") {
    const std::size_t sizes[] = {0, 1, 2, 3, 5, 7, 13, 17, 31};
    for (transpose ta : both)
      for (transpose tb : both)
        for (std::size_t m : sizes)
          for (std::size_t n : sizes)
            for (std::size_t k : {std::size_t{0}, std::size_t{1}, std::size_t{7}, std::size_t{33}}) {
              gemm_problem p{ta, tb, m, n, k};
              p.beta = (m + n) % 2 == 0 ? 0.0f : 0.5f;
              check_against_ref<Arch>(p, gen, pool);
            }
  }

  SUBCASE("random shapes with padded leading dimensions and alpha/beta") {
    const float alphas[] = {1.0f, -0.75f, 2.0f}, betas[] = {0.0f, 1.0f, -1.5f};
    for (int trial = 0; trial < 60; ++trial) {
      gemm_problem p;
      p.ta = both[gen.below(2)];
      p.tb = both[gen.below(2)];
      p.m = 1 + gen.below(trial % 3 == 0 ? 200 : 70);
      p.n = 1 + gen.below(trial % 4 == 0 ? 300 : 90);
      p.k = 1 + gen.below(trial % 5 == 0 ? 600 : 80);
      p.lda_pad = gen.below(3) * gen.below(20);
      p.ldb_pad = gen.below(3) * gen.below(20);
      p.ldc_pad = gen.below(3) * gen.below(20);
      p.alpha = alphas[gen.below(3)];
      p.beta = betas[gen.below(3)];
      p.offset = gen.below(9);
      check_against_ref<Arch>(p, gen, pool);
    }
  }

  SUBCASE("larger than every cache block: m > mc, k > kc, n > nc; on a pool: split by rows and by columns") {
    // Each product is above the size from which a pool is used (asserted below), so with a pool these run the
    // parallel paths: by rows (m large), by rows over several column blocks (n > nc), by columns (m small).
    const gemm_problem shapes[] = {{transpose::no, transpose::no, 211, 137, 601, 3, 0, 5, 1.0f, 1.0f},
                                   {transpose::no, transpose::no, 29, 4133, 71, 0, 2, 0, 0.5f, 0.0f},
                                   {transpose::no, transpose::no, 7, 2011, 601, 0, 0, 0, 1.0f, 0.25f}};
    for (gemm_problem p : shapes) {
      REQUIRE(p.m * p.n * p.k >= hwnas::kernels::detail::gemm_plan<Arch>::parallel_min_work);
      for (transpose ta : both)
        for (transpose tb : both) {
          p.ta = ta;
          p.tb = tb;
          check_against_ref<Arch>(p, gen, pool);
        }
    }
  }

  SUBCASE("the reference CNN's im2col shapes") {
    const gemm_problem shapes[] = {
        {transpose::no, transpose::no, 32, 196, 144},  {transpose::no, transpose::no, 16, 784, 9},
        {transpose::no, transpose::yes, 32, 144, 196}, {transpose::no, transpose::yes, 16, 9, 784},
        {transpose::yes, transpose::no, 144, 196, 32}, {transpose::yes, transpose::no, 9, 784, 16},
    };
    for (gemm_problem p : shapes) {
      check_against_ref<Arch>(p, gen, pool);
      p.beta = 1.0f;  // gradient accumulation
      check_against_ref<Arch>(p, gen, pool);
    }
  }

  SUBCASE("beta == 0 overwrites NaN in C; alpha == 0 scales C only") {
    for (transpose ta : both)
      for (transpose tb : both) {
        check_against_ref<Arch>({ta, tb, 37, 45, 23, 1, 1, 1, 1.0f, 0.0f, true}, gen, pool);
        check_against_ref<Arch>({ta, tb, 301, 70, 400, 0, 0, 0, -1.0f, 0.0f, true}, gen, pool);  // parallel
        check_against_ref<Arch>({ta, tb, 20, 30, 40, 0, 0, 0, 0.0f, 0.5f}, gen, pool);
        check_against_ref<Arch>({ta, tb, 20, 30, 0, 0, 0, 0, 1.0f, 0.0f, true}, gen, pool);
      }
  }
}

}  // namespace


// The default architecture (AVX2+FMA or AVX-512 here) and SSE4.2, whose 4-float batches give other register
// tiles and edge paths.
TEST_CASE_TEMPLATE("gemm matches gemm_ref, single-threaded", Arch, xsimd::default_arch, xsimd::sse4_2) {
  if (!runs_here<Arch>()) {
    MESSAGE("xsimd architecture ", std::string(Arch::name()), " is not available here; skipped");
    return;
  }
  run_suite<Arch>(nullptr);
}

TEST_CASE_TEMPLATE("gemm matches gemm_ref on a pool of 2 threads", Arch, xsimd::default_arch, xsimd::sse4_2) {
  if (!runs_here<Arch>()) {
    MESSAGE("xsimd architecture ", std::string(Arch::name()), " is not available here; skipped");
    return;
  }
  hwnas::thread_pool pool(2);
  run_suite<Arch>(&pool);
}

TEST_CASE("gemm on a pool of 3 threads (more threads than cores, uneven chunks)") {
  hwnas::thread_pool pool(3);
  hwnas::rng gen(99);
  for (transpose ta : both)
    for (transpose tb : both) {
      check_against_ref<xsimd::default_arch>({ta, tb, 211, 137, 601, 3, 0, 5, 1.0f, 1.0f}, gen, &pool);
      check_against_ref<xsimd::default_arch>({ta, tb, 13, 1000, 700, 0, 0, 0, 1.0f, 0.0f}, gen, &pool);
    }
}

TEST_CASE("gemm called concurrently from the threads of a pool (per-thread batch slices, pool == nullptr)") {
  // Each thread runs its own GEMMs on its own slice, as training does: the packing scratch is per thread.
  constexpr std::size_t m = 32, n = 196, k = 144, slices = 4, rounds = 3;
  hwnas::rng gen(5);
  std::vector<float> a(slices * m * k), b(slices * k * n), c(slices * m * n, 0.0f), expected(slices * m * n);
  for (auto& x : a) x = static_cast<float>(gen.uniform(-1.0, 1.0));
  for (auto& x : b) x = static_cast<float>(gen.uniform(-1.0, 1.0));
  for (std::size_t s = 0; s < slices; ++s)
    hwnas::kernels::gemm_ref(transpose::no, transpose::no, m, n, k, 1.0f, &a[s * m * k], k, &b[s * k * n], n, 0.0f,
                             &expected[s * m * n], n);
  hwnas::thread_pool pool(2);
  for (std::size_t round = 0; round < rounds; ++round)
    hwnas::parallel_for(pool, 0, slices, [&](std::size_t lo, std::size_t hi, std::size_t) {
      for (std::size_t s = lo; s < hi; ++s)
        hwnas::kernels::gemm(transpose::no, transpose::no, m, n, k, 1.0f, &a[s * m * k], k, &b[s * k * n], n,
                             0.0f, &c[s * m * n], n);
    });
  std::size_t bad = 0;
  for (std::size_t i = 0; i < c.size(); ++i) bad += std::abs(c[i] - expected[i]) > 1e-4f;
  CHECK(bad == 0);
}

TEST_CASE("gemm with no SIMD architecture falls back to gemm_ref") {
  hwnas::rng gen(7);
  check_against_ref<xsimd::unavailable>({transpose::yes, transpose::no, 13, 17, 19, 0, 0, 0, 1.0f, 0.5f}, gen,
                                        nullptr);
}

TEST_CASE("gemm_ref computes a known product") {
  // A = [1 2 3; 4 5 6] (2 x 3), B = [7 8; 9 10; 11 12] (3 x 2): A B = [58 64; 139 154].
  const float a[] = {1, 2, 3, 4, 5, 6}, b[] = {7, 8, 9, 10, 11, 12};
  const float at[] = {1, 4, 2, 5, 3, 6}, bt[] = {7, 9, 11, 8, 10, 12};
  float c[] = {1, 1, 1, 1};
  hwnas::kernels::gemm_ref(transpose::no, transpose::no, 2, 2, 3, 1.0f, a, 3, b, 2, 0.0f, c, 2);
  CHECK(c[0] == 58);
  CHECK(c[1] == 64);
  CHECK(c[2] == 139);
  CHECK(c[3] == 154);
  // 2 * A^T^T B^T^T - C: the transposed operands give the same product.
  hwnas::kernels::gemm_ref(transpose::yes, transpose::yes, 2, 2, 3, 2.0f, at, 2, bt, 3, -1.0f, c, 2);
  CHECK(c[0] == 58);
  CHECK(c[3] == 154);
  float g[4];
  hwnas::kernels::gemm(transpose::yes, transpose::no, 2, 2, 3, 1.0f, at, 2, b, 2, 0.0f, g, 2);
  CHECK(g[1] == 64);
  CHECK(g[2] == 139);
}

TEST_CASE("gemm rejects leading dimensions smaller than a row, naming the argument") {
  std::vector<float> a(100), b(100), c(100);
  const auto call = [&](transpose ta, transpose tb, std::size_t lda, std::size_t ldb, std::size_t ldc) {
    hwnas::kernels::gemm(ta, tb, 4, 5, 6, 1.0f, a.data(), lda, b.data(), ldb, 0.0f, c.data(), ldc);
  };
  CHECK_THROWS_WITH_AS(call(transpose::no, transpose::no, 5, 5, 5), doctest::Contains("lda=5"),
                       hwnas::invalid_argument);
  CHECK_THROWS_WITH_AS(call(transpose::yes, transpose::no, 3, 5, 5), doctest::Contains("lda=3"),
                       hwnas::invalid_argument);
  CHECK_THROWS_WITH_AS(call(transpose::no, transpose::no, 6, 4, 5), doctest::Contains("ldb=4"),
                       hwnas::invalid_argument);
  CHECK_THROWS_WITH_AS(call(transpose::no, transpose::yes, 6, 5, 5), doctest::Contains("ldb=5"),
                       hwnas::invalid_argument);
  CHECK_THROWS_WITH_AS(call(transpose::no, transpose::no, 6, 5, 4), doctest::Contains("ldc=4"),
                       hwnas::invalid_argument);
  CHECK_THROWS_AS(hwnas::kernels::gemm_ref(transpose::no, transpose::no, 4, 5, 6, 1.0f, nullptr, 6, b.data(), 5,
                                           0.0f, c.data(), 5),
                  hwnas::invalid_argument);
  CHECK_NOTHROW(call(transpose::yes, transpose::yes, 4, 6, 5));
  // Empty products need no storage.
  CHECK_NOTHROW(hwnas::kernels::gemm(transpose::no, transpose::no, 0, 0, 0, 1.0f, nullptr, 0, nullptr, 0, 0.0f,
                                     nullptr, 0));
}
