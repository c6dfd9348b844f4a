#include <doctest/doctest.h>

#include <atomic>
#include <stdexcept>
#include <vector>

#include "hwnas/core/parallel.hpp"

TEST_CASE("thread_pool: parallel_for covers the range exactly once, grain-aligned") {
  for (std::size_t threads : {1u, 2u, 3u}) {
    hwnas::thread_pool pool(threads);
    CHECK(pool.size() == threads);
    for (std::size_t n : {0u, 1u, 7u, 64u, 1001u}) {
      std::vector<std::atomic<int>> hits(n);
      hwnas::parallel_for(
          pool, 0, n,
          [&](std::size_t lo, std::size_t hi, std::size_t) {
            CHECK(lo % 8 == 0);
            for (std::size_t i = lo; i < hi; ++i) ++hits[i];
          },
          8);
      for (std::size_t i = 0; i < n; ++i) REQUIRE(hits[i] == 1);
    }
  }
}

TEST_CASE("thread_pool: every worker runs, repeated jobs work, exceptions propagate") {
  hwnas::thread_pool pool(2);
  for (int round = 0; round < 200; ++round) {
    std::atomic<int> mask = 0;
    pool.run([&](std::size_t w) { mask |= 1 << w; });
    REQUIRE(mask == 3);
  }
  CHECK_THROWS_AS(pool.run([](std::size_t w) {
                    if (w == 1) throw std::runtime_error("worker 1 failed");
                  }),
                  std::runtime_error);
  std::atomic<int> after = 0;
  pool.run([&](std::size_t) { ++after; });  // the pool survives an exception
  CHECK(after == 2);
}
