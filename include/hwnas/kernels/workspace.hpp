#pragma once
/// @file
/// `workspace`: the scratch memory a kernel borrows from its caller (padded images, im2col matrices, packed
/// weights). It only grows, so once a training loop has run every layer once it allocates nothing more.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <new>
#include <type_traits>
#include <utility>

namespace hwnas::kernels {

/// A growable, 64-byte-aligned scratch buffer. One per thread: kernels are not re-entrant on the same workspace.
/// A kernel asks for all the scratch it needs in one `get` (earlier pointers are invalid after a `get` that grows)
/// and leaves the contents unspecified. Growth is geometric; `reserve` can size it up front.
class workspace {
 public:
  /// Alignment of the pointer `get` returns, in bytes (a cache line; enough for any SIMD load).
  static constexpr std::size_t alignment = 64;

  workspace() noexcept = default;
  /// A workspace holding at least `bytes` bytes from the start.
  explicit workspace(std::size_t bytes) { reserve(bytes); }
  workspace(const workspace&) = delete;
  workspace& operator=(const workspace&) = delete;
  workspace(workspace&& other) noexcept
      : data_(std::exchange(other.data_, nullptr)),
        capacity_(std::exchange(other.capacity_, 0)),
        allocations_(std::exchange(other.allocations_, 0)) {}
  workspace& operator=(workspace&& other) noexcept {
    if (this != &other) {
      release();
      data_ = std::exchange(other.data_, nullptr);
      capacity_ = std::exchange(other.capacity_, 0);
      allocations_ = std::exchange(other.allocations_, 0);
    }
    return *this;
  }
  ~workspace() { release(); }

  /// Makes the buffer hold at least `bytes` bytes (contents are not kept). Never shrinks.
  void reserve(std::size_t bytes) {
    if (bytes <= capacity_) return;
    const std::size_t grown = std::max(bytes, capacity_ + capacity_ / 2);
    const std::size_t size = (grown + alignment - 1) / alignment * alignment;
    release();
    data_ = ::operator new(size, std::align_val_t{alignment});
    capacity_ = size;
    ++allocations_;
  }

  /// An aligned array of `count` objects of T (contents unspecified), valid until the next growing call.
  template <class T>
  T* get(std::size_t count) {
    static_assert(std::is_trivially_copyable_v<T> && alignof(T) <= alignment,
                  "hwnas::kernels::workspace holds trivially copyable scalars only");
    reserve(count * sizeof(T));
    return static_cast<T*>(data_);
  }

  /// Bytes currently held.
  std::size_t capacity() const noexcept { return capacity_; }
  /// How many times the buffer was (re)allocated; constant in a steady-state loop.
  std::size_t allocations() const noexcept { return allocations_; }

 private:
  void release() noexcept {
    if (data_) ::operator delete(data_, std::align_val_t{alignment});
    data_ = nullptr;
    capacity_ = 0;
  }
  void* data_ = nullptr;
  std::size_t capacity_ = 0;
  std::size_t allocations_ = 0;
};

namespace detail {

/// Rounds a float count up to whole cache lines so that consecutive arrays carved from one workspace stay aligned.
constexpr std::size_t aligned_floats(std::size_t count) noexcept {
  constexpr std::size_t line = workspace::alignment / sizeof(float);
  return (count + line - 1) / line * line;
}

constexpr std::size_t round_up(std::size_t value, std::size_t multiple) noexcept {
  return (value + multiple - 1) / multiple * multiple;
}

}  // namespace detail
}  // namespace hwnas::kernels
