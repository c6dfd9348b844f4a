#pragma once
// Shared by the libFuzzer harnesses (tests/fuzz/*.cpp; docs/reliability.md#fuzzing): the readers under test take file
// paths, so each input is written to an in-memory file (memfd) and read back through its /proc path, as a user's
// file would be. A harness catches the errors a reader documents (hwnas::io_error, hwnas::invalid_argument); any
// other exception, a crash, a sanitizer report or an allocation above libFuzzer's -malloc_limit_mb is a finding.

#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>

namespace hwnas::fuzz {

/// An in-memory file holding one input, reachable by path while it lives.
class memory_file {
 public:
  memory_file(const std::uint8_t* data, std::size_t size) {
    fd_ = ::memfd_create("hwnas-fuzz", 0);
    if (fd_ < 0) std::abort();
    for (std::size_t done = 0; done < size;) {
      const auto n = ::write(fd_, data + done, size - done);
      if (n <= 0) std::abort();
      done += static_cast<std::size_t>(n);
    }
    path_ = "/proc/self/fd/" + std::to_string(fd_);
  }
  memory_file(const memory_file&) = delete;
  memory_file& operator=(const memory_file&) = delete;
  ~memory_file() { ::close(fd_); }
  const std::string& path() const noexcept { return path_; }
  /// The file's bytes now.
  std::string contents() const {
    std::ifstream in(path_, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }

 private:
  int fd_ = -1;
  std::string path_;
};

}  // namespace hwnas::fuzz
