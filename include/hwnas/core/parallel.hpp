#pragma once
/// @file
/// A persistent thread pool and `parallel_for`, used by kernels (GEMM) and by training (a batch split across
/// threads). Threads are created once; a call costs a wake-up, not a thread creation.

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace hwnas {

/// A fixed set of worker threads that run one job at a time: job(worker_index) on every worker, the caller being
/// worker 0. Not re-entrant: a job must not call run() on the same pool.
class thread_pool {
 public:
  explicit thread_pool(std::size_t threads = default_threads()) : size_(std::max<std::size_t>(1, threads)) {
    for (std::size_t i = 1; i < size_; ++i) workers_.emplace_back([this, i] { work(i); });
  }
  thread_pool(const thread_pool&) = delete;
  thread_pool& operator=(const thread_pool&) = delete;
  ~thread_pool() {
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
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
      job_ = &job;
      pending_ = size_ - 1;
      error_ = nullptr;
      ++generation_;
    }
    wake_.notify_all();
    std::exception_ptr mine;
    try {
      job(0);
    } catch (...) {
      mine = std::current_exception();
    }
    std::unique_lock lock(mutex_);
    done_.wait(lock, [this] { return pending_ == 0; });
    job_ = nullptr;
    if (mine) std::rethrow_exception(mine);
    if (error_) std::rethrow_exception(error_);
  }

 private:
  void work(std::size_t index) {
    std::size_t seen = 0;
    for (;;) {
      const std::function<void(std::size_t)>* job;
      {
        std::unique_lock lock(mutex_);
        wake_.wait(lock, [&] { return stop_ || generation_ != seen; });
        if (stop_) return;
        seen = generation_;
        job = job_;
      }
      std::exception_ptr err;
      try {
        (*job)(index);
      } catch (...) {
        err = std::current_exception();
      }
      {
        std::lock_guard lock(mutex_);
        if (err && !error_) error_ = err;
        if (--pending_ == 0) done_.notify_one();
      }
    }
  }

  std::size_t size_;
  std::vector<std::thread> workers_;
  std::mutex run_mutex_, mutex_;
  std::condition_variable wake_, done_;
  const std::function<void(std::size_t)>* job_ = nullptr;
  std::size_t pending_ = 0, generation_ = 0;
  std::exception_ptr error_;
  bool stop_ = false;
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

}  // namespace hwnas
