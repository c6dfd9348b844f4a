#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>
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

TEST_CASE("thread_pool: waiting spins then sleeps, and both ways hand every job over") {
  using namespace std::chrono_literals;
  for (const auto spin : {std::chrono::nanoseconds{0}, std::chrono::nanoseconds{50us}, std::chrono::nanoseconds{20ms}}) {
    CAPTURE(spin.count());
    hwnas::thread_pool pool(3, spin);
    for (int round = 0; round < 20; ++round) {
      std::atomic<int> mask = 0;
      pool.run([&](std::size_t w) { mask |= 1 << w; });
      REQUIRE(mask == 7);
      if (round % 5 == 4) std::this_thread::sleep_for(2ms);  // past a short spin: the workers sleep, then wake
    }
    // The caller waits for a worker far slower than any spin.
    std::atomic<int> done = 0;
    pool.run([&](std::size_t w) {
      if (w == 2) std::this_thread::sleep_for(30ms);
      ++done;
    });
    CHECK(done == 3);
  }  // destroyed while its workers spin or sleep
}

TEST_CASE("parallel_for_dynamic: covers the range exactly once in grain chunks") {
  for (std::size_t threads : {1u, 2u, 3u}) {
    hwnas::thread_pool pool(threads);
    for (std::size_t n : {0u, 1u, 7u, 64u, 1001u}) {
      std::vector<std::atomic<int>> hits(n + 3);
      hwnas::parallel_for_dynamic(pool, 3, n + 3, 8, [&](std::size_t lo, std::size_t hi, std::size_t w) {
        CHECK((lo - 3) % 8 == 0);
        CHECK(hi - lo <= 8);
        CHECK((hi - lo == 8 || hi == n + 3));
        CHECK(w < threads);
        for (std::size_t i = lo; i < hi; ++i) ++hits[i];
      });
      for (std::size_t i = 0; i < 3; ++i) REQUIRE(hits[i] == 0);
      for (std::size_t i = 3; i < n + 3; ++i) REQUIRE(hits[i] == 1);
    }
  }
}

TEST_CASE("parallel_for_dynamic: a slow worker takes fewer chunks, and exceptions propagate") {
  hwnas::thread_pool pool(2);
  std::atomic<int> taken[2] = {0, 0};
  hwnas::parallel_for_dynamic(pool, 0, 64, 4, [&](std::size_t, std::size_t, std::size_t w) {
    if (taken[w]++ == 0 && w == 1) std::this_thread::sleep_for(std::chrono::milliseconds(300));
  });
  CHECK(taken[0] + taken[1] == 16);
  CHECK(taken[0] > 8);  // a fixed half-and-half split would give each worker 8
  CHECK_THROWS_AS(hwnas::parallel_for_dynamic(pool, 0, 10, 1,
                                              [](std::size_t lo, std::size_t, std::size_t) {
                                                if (lo == 5) throw std::runtime_error("chunk 5 failed");
                                              }),
                  std::runtime_error);
}
