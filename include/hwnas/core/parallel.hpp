#pragma once
/// @file
/// A persistent thread pool and `parallel_for`, used by kernels (GEMM) and by training (a batch split across
/// threads). Threads are created once; a call costs a wake-up, not a thread creation.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace hwnas {

namespace detail {

/// One iteration of a busy-wait: tells the core this is a spin loop (frees the sibling hyper-thread, saves power).
inline void spin_pause() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

/// Busy-waits until done() holds or `limit` has passed; returns done()'s last value. The clock is read every 64
/// polls, so a poll costs a load and a pause.
template <class Done>
bool spin_until(Done&& done, std::chrono::nanoseconds limit) noexcept {
  if (limit.count() <= 0) return done();
  const auto deadline = std::chrono::steady_clock::now() + limit;
  for (;;) {
    for (int i = 0; i < 64; ++i) {
      if (done()) return true;
      spin_pause();
    }
    if (std::chrono::steady_clock::now() >= deadline) return done();
  }
}

}  // namespace detail

/// A fixed set of worker threads that run one job at a time: job(worker_index) on every worker, the caller being
/// worker 0. Not re-entrant: a job must not call run() on the same pool.
///
/// Waiting spins before it sleeps. A worker that finishes a job polls for the next one for `spin` before it sleeps
/// on a condition variable, and the caller polls for the workers' completion as long before it sleeps. Kernels
/// call run() back to back (a GEMM every few hundred microseconds in training), and waking a sleeping thread
/// costs 10-100 us on a virtual machine, so without the spin the two cores take turns idling (a 512^3 GEMM lost
/// 25% of its wall time that way; a training step, between its serial SGD update and the next batch, ~10%). The
/// spin is bounded, so an idle pool costs nothing and an oversubscribed machine loses at most `spin` of CPU per
/// job: two 2-thread GEMM processes on 2 cores ran as fast with a 200 us spin as with none. spin = 0 sleeps at once.
class thread_pool {
 public:
  /// How long a waiting thread polls before it sleeps, unless the constructor is told otherwise.
  static constexpr std::chrono::microseconds default_spin{200};

  explicit thread_pool(std::size_t threads = default_threads(), std::chrono::nanoseconds spin = default_spin)
      : size_(std::max<std::size_t>(1, threads)), spin_(spin) {
    for (std::size_t i = 1; i < size_; ++i) workers_.emplace_back([this, i] { work(i); });
  }
  thread_pool(const thread_pool&) = delete;
  thread_pool& operator=(const thread_pool&) = delete;
  ~thread_pool() {
    {
      std::lock_guard lock(mutex_);
      stop_.store(true, std::memory_order_release);
    }
    wake_.notify_all();
    for (auto& w : workers_) w.join();
  }

  std::size_t size() const noexcept { return size_; }

  /// The hardware concurrency, or 1 when unknown.
  static std::size_t default_threads() noexcept { return std::max(1u, std::thread::hardware_concurrency()); }

  /// Runs job(i) for i in [0, size()) concurrently and returns when all are done. The first exception thrown by
  /// any worker is rethrown here.
  void run(const std::function<void(std::size_t)>& job) {
    if (size_ == 1) {
      job(0);
      return;
    }
    std::lock_guard run_lock(run_mutex_);  // one job at a time from any number of callers
    {
      std::lock_guard lock(mutex_);
      job_.store(&job, std::memory_order_relaxed);
      pending_.store(size_ - 1, std::memory_order_relaxed);
      error_ = nullptr;
      generation_.fetch_add(1, std::memory_order_release);
    }
    wake_.notify_all();
    std::exception_ptr mine;
    try {
      job(0);
    } catch (...) {
      mine = std::current_exception();
    }
    if (!detail::spin_until([this] { return pending_.load(std::memory_order_acquire) == 0; }, spin_)) {
      std::unique_lock lock(mutex_);
      done_.wait(lock, [this] { return pending_.load(std::memory_order_acquire) == 0; });
    }
    std::lock_guard lock(mutex_);  // error_ is written under the lock
    if (mine) std::rethrow_exception(mine);
    if (error_) std::rethrow_exception(error_);
  }

 private:
  void work(std::size_t index) {
    std::size_t seen = 0;
    const auto woken = [&] {
      return stop_.load(std::memory_order_acquire) || generation_.load(std::memory_order_acquire) != seen;
    };
    for (;;) {
      if (!detail::spin_until(woken, spin_)) {
        std::unique_lock lock(mutex_);
        wake_.wait(lock, woken);
      }
      if (stop_.load(std::memory_order_acquire)) return;
      seen = generation_.load(std::memory_order_acquire);
      const auto* job = job_.load(std::memory_order_relaxed);  // published by the generation's release
      std::exception_ptr err;
      try {
        (*job)(index);
      } catch (...) {
        err = std::current_exception();
      }
      std::lock_guard lock(mutex_);
      if (err && !error_) error_ = err;
      if (pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) done_.notify_one();
    }
  }

  std::size_t size_;
  std::chrono::nanoseconds spin_;
  std::vector<std::thread> workers_;
  std::mutex run_mutex_, mutex_;
  std::condition_variable wake_, done_;
  std::atomic<const std::function<void(std::size_t)>*> job_{nullptr};
  std::atomic<std::size_t> pending_{0}, generation_{0};
  std::atomic<bool> stop_{false};
  std::exception_ptr error_;
};
/// Splits [begin, end) into one contiguous chunk per pool thread and calls body(chunk_begin, chunk_end, worker).
/// Chunks are aligned to `grain` elements (except the last), so SIMD blocks are not split.
template <class Body>
void parallel_for(thread_pool& pool, std::size_t begin, std::size_t end, Body&& body, std::size_t grain = 1) {
  if (end <= begin) return;
  const std::size_t n = end - begin;
  const std::size_t blocks = (n + grain - 1) / grain;
  const std::size_t workers = std::min(pool.size(), blocks);
  if (workers <= 1) {
    body(begin, end, std::size_t{0});
    return;
  }
  pool.run([&](std::size_t w) {
    if (w >= workers) return;
    const std::size_t b0 = blocks * w / workers, b1 = blocks * (w + 1) / workers;
    const std::size_t lo = begin + b0 * grain, hi = std::min(end, begin + b1 * grain);
    if (lo < hi) body(lo, hi, w);
  });
}

/// Hands [begin, end) out in chunks of `grain` elements (the last one shorter) from a shared counter: whichever
/// pool thread is free takes the next chunk and calls body(chunk_begin, chunk_end, worker). Unlike parallel_for's
/// fixed split, this keeps both cores busy when one runs slower (a core shared with another process, a virtual
/// CPU losing time to its hypervisor), for one atomic increment per chunk. Which worker runs which chunk varies
/// from run to run: a body that reduces must keep its partial results per chunk, (chunk_begin - begin) / grain,
/// and combine them in order, to stay deterministic.
template <class Body>
void parallel_for_dynamic(thread_pool& pool, std::size_t begin, std::size_t end, std::size_t grain, Body&& body) {
  if (end <= begin) return;
  grain = std::max<std::size_t>(grain, 1);
  const std::size_t chunks = (end - begin + grain - 1) / grain;
  if (pool.size() <= 1 || chunks <= 1) {
    for (std::size_t c = 0; c < chunks; ++c) body(begin + c * grain, std::min(end, begin + (c + 1) * grain), std::size_t{0});
    return;
  }
  std::atomic<std::size_t> next{0};
  pool.run([&](std::size_t w) {
    for (std::size_t c; (c = next.fetch_add(1, std::memory_order_relaxed)) < chunks;)
      body(begin + c * grain, std::min(end, begin + (c + 1) * grain), w);
  });
}

}  // namespace hwnas
