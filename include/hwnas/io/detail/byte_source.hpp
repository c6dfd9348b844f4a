#pragma once
/// @file
/// Internal: a read-only byte stream over a plain or gzip-compressed file (zlib's gz* API reads both), with the
/// bounded, size-checked reads that every hwnas data reader shares. Nothing here allocates a size a file declares
/// before the file is known to hold it.

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

#include <zlib.h>

#include "hwnas/core/error.hpp"

namespace hwnas::io::detail {

/// "1 byte", "2 bytes": a count and a noun in the right number.
inline std::string count_of(std::uint64_t n, std::string_view noun) {
  return std::to_string(n) + " " + std::string(noun) + (n == 1 ? "" : "s");
}

/// Bytes a compressed stream is read by while its size is unknown (the buffer grows geometrically from here).
inline constexpr std::size_t gz_read_chunk = std::size_t{1} << 20;

/// A file opened for reading through zlib: plain files are read as they are, gzip files are inflated on the fly.
/// Every failure throws hwnas::io_error("<kind> <path>: <problem>").
class byte_source {
 public:
  /// Opens `path`; `kind` names the expected content in messages ("IDX file", "CIFAR-10 batch").
  byte_source(std::string path, std::string_view kind) : path_(std::move(path)), kind_(kind) {
    namespace fs = std::filesystem;
    std::error_code ec;
    const auto status = fs::status(path_, ec);
    if (!fs::exists(status)) fail("no such file");
    if (fs::is_directory(status)) fail("is a directory, expected a file");
    errno = 0;
    file_.reset(gzopen(path_.c_str(), "rb"));
    if (!file_) {
      fail(std::string("cannot open: ") + (errno != 0 ? std::strerror(errno) : "zlib could not allocate its state"));
    }
    gzbuffer(file_.get(), 1U << 17);
    // gzdirect() looks at the first bytes: 1 for a plain file, 0 for a gzip stream.
    compressed_ = gzdirect(file_.get()) == 0;
    if (!compressed_) {
      plain_size_ = static_cast<std::uint64_t>(fs::file_size(path_, ec));
      if (ec) fail("cannot read its size: " + ec.message());
    }
  }

  byte_source(const byte_source&) = delete;
  byte_source& operator=(const byte_source&) = delete;
  ~byte_source() = default;

  const std::string& path() const noexcept { return path_; }
  /// True for a gzip stream (its inflated size is unknown until it is read).
  bool compressed() const noexcept { return compressed_; }
  /// Size of a plain file in bytes (0 for a compressed one).
  std::uint64_t plain_size() const noexcept { return plain_size_; }
  /// Bytes delivered so far (inflated bytes for a gzip stream).
  std::uint64_t consumed() const noexcept { return consumed_; }
  /// Bytes left in a plain file.
  std::uint64_t plain_remaining() const noexcept { return plain_size_ - std::min(plain_size_, consumed_); }

  /// Reads up to `n` bytes into `out`; returns how many were read, fewer than `n` only at the end of the data.
  /// A corrupt or cut gzip stream throws.
  std::size_t read(void* out, std::size_t n) {
    auto* dst = static_cast<unsigned char*>(out);
    std::size_t total = 0;
    while (total < n) {
      const auto want = static_cast<unsigned>(std::min<std::size_t>(n - total, std::size_t{1} << 30));
      const int got = gzread(file_.get(), dst + total, want);
      if (got < 0) check_stream();
      if (got <= 0) break;
      total += static_cast<std::size_t>(got);
      if (static_cast<unsigned>(got) < want) break;
    }
    consumed_ += total;
    if (total < n) check_stream();
    return total;
  }

  /// Reads exactly `n` bytes or throws "truncated" naming `what` (e.g. "header", "image data").
  void read_exact(void* out, std::size_t n, std::string_view what) {
    const auto got = read(out, n);
    if (got < n) {
      fail("truncated " + std::string(what) + ": expected " + std::to_string(n) + " bytes, found " +
           std::to_string(got));
    }
  }

  /// Reads the `n` bytes of a payload whose size a header declared, then checks that nothing follows it.
  /// A plain file is checked against its size before anything is allocated; a gzip stream is read in chunks
  /// into a buffer that grows only as data actually arrives.
  std::vector<std::uint8_t> read_payload(std::size_t n, std::string_view what) {
    std::vector<std::uint8_t> data;
    if (!compressed_) {
      const auto left = plain_remaining();
      if (left < n) {
        fail("truncated " + std::string(what) + ": the header declares " + std::to_string(n) +
             " bytes, the file holds " + std::to_string(left));
      }
      if (left > n) {
        fail(count_of(left - n, "trailing byte") + " after the " + std::string(what) + " (the header declares " +
             std::to_string(n) + " bytes): the dimensions disagree with the file size");
      }
      data.resize(n);
      read_exact(data.data(), n, what);
      return data;
    }
    std::size_t have = 0;
    while (have < n) {
      const auto grow = std::min(n - have, std::max(gz_read_chunk, have));
      data.resize(have + grow);
      const auto got = read(data.data() + have, grow);
      have += got;
      if (got < grow) {
        fail("truncated " + std::string(what) + ": the header declares " + std::to_string(n) +
             " bytes, the stream holds " + std::to_string(have));
      }
    }
    expect_end(what, n);
    return data;
  }

  /// Reads everything that is left, refusing more than `max_bytes` (checked before allocating for a plain file,
  /// while reading for a gzip stream).
  std::vector<std::uint8_t> read_rest(std::uint64_t max_bytes) {
    std::vector<std::uint8_t> data;
    if (!compressed_) {
      const auto left = plain_remaining();
      if (left > max_bytes) too_large(max_bytes);
      data.resize(static_cast<std::size_t>(left));
      read_exact(data.data(), data.size(), "data");
      return data;
    }
    std::size_t have = 0;
    for (;;) {
      const auto step =
          static_cast<std::size_t>(std::min<std::uint64_t>(std::max(gz_read_chunk, have), max_bytes + 1 - have));
      data.resize(have + step);
      const auto got = read(data.data() + have, step);
      have += got;
      if (have > max_bytes) too_large(max_bytes);
      if (got < step) break;
    }
    data.resize(have);
    return data;
  }

  /// Throws "<kind> <path>: <problem>" as hwnas::io_error.
  [[noreturn]] void fail(const std::string& problem) const { throw io_error(kind_ + " " + path_ + ": " + problem); }

 private:
  void expect_end(std::string_view what, std::size_t declared) {
    unsigned char scratch[1U << 14];
    std::uint64_t extra = 0;
    for (;;) {
      const auto got = read(scratch, sizeof scratch);
      extra += got;
      if (got < sizeof scratch) break;
    }
    if (extra > 0) {
      fail(count_of(extra, "trailing byte") + " after the " + std::string(what) + " (the header declares " +
           std::to_string(declared) + " bytes): the dimensions disagree with the data size");
    }
  }

  [[noreturn]] void too_large(std::uint64_t max_bytes) const {
    fail("holds more than " + std::to_string(max_bytes) + " bytes, more than any data set this reader accepts");
  }

  /// After a short or failed read: a clean end of data returns, a zlib or system error throws.
  void check_stream() {
    int code = Z_OK;
    const char* message = gzerror(file_.get(), &code);
    if (code == Z_OK || code == Z_STREAM_END) return;
    if (code == Z_BUF_ERROR) fail("truncated gzip stream (unexpected end of the compressed data)");
    if (code == Z_ERRNO) fail(std::string("read error: ") + std::strerror(errno));
    std::string text = message != nullptr ? message : "unknown zlib error";
    if (text.starts_with(path_ + ": ")) text.erase(0, path_.size() + 2);  // zlib prefixes the path
    fail("corrupt gzip stream: " + text);
  }

  std::string path_;
  std::string kind_;
  struct gz_closer {
    void operator()(gzFile file) const noexcept { gzclose(file); }
  };
  std::unique_ptr<std::remove_pointer_t<gzFile>, gz_closer> file_;
  bool compressed_ = false;
  std::uint64_t plain_size_ = 0;
  std::uint64_t consumed_ = 0;
};

}  // namespace hwnas::io::detail
