// The io test executable's replacement of the global operator new: it records the largest single request made while
// a hwnas_test::allocation_probe is alive, so tests can prove that a reader did not allocate a declared size.
// (In its own translation unit so that GCC does not inline malloc/free into callers and warn about a mismatch.)

#include <atomic>
#include <cstddef>
#include <cstdlib>
#include <new>

#include "io_test_util.hpp"

namespace {
std::atomic<int> probe_depth{0};
std::atomic<std::size_t> probe_largest{0};
}  // namespace

namespace {
void* probed_malloc(std::size_t n) noexcept {
  if (probe_depth.load(std::memory_order_relaxed) > 0) {
    auto seen = probe_largest.load(std::memory_order_relaxed);
    while (n > seen && !probe_largest.compare_exchange_weak(seen, n)) {
    }
  }
  return std::malloc(n == 0 ? 1 : n);
}
}  // namespace

// Every unaligned form is replaced, so that each allocation and its release go through malloc and free together
// (std::stable_sort's buffer comes from the nothrow form; a sanitizer build reports any mixed pair). The aligned
// forms keep their defaults, which pair among themselves.
void* operator new(std::size_t n) {
  if (void* p = probed_malloc(n)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) {
  if (void* p = probed_malloc(n)) return p;
  throw std::bad_alloc();
}
void* operator new(std::size_t n, const std::nothrow_t&) noexcept { return probed_malloc(n); }
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept { return probed_malloc(n); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }

namespace hwnas_test {
allocation_probe::allocation_probe() {
  probe_largest = 0;
  ++probe_depth;
}
allocation_probe::~allocation_probe() { --probe_depth; }
std::size_t allocation_probe::largest() const { return probe_largest.load(); }
}  // namespace hwnas_test
