#pragma once
/// @file
/// write_file_atomically: replaces a file's contents all at once, so that a reader (or a crash, or a full disk)
/// sees either the old file or the new one, never half of it. The contents go to a temporary file in the same
/// directory, which is flushed to disk (fsync) and renamed over the target; then the directory is flushed, so the
/// rename itself survives a power cut. On any failure the temporary file is removed and the target is untouched.
/// Reports (report/write.hpp) are written this way.

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>
#include <string_view>

#if defined(__unix__) || defined(__APPLE__)
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#else
#include <fstream>
#endif

#include "hwnas/core/error.hpp"

namespace hwnas {

namespace detail {
/// A name for the temporary twin of `target`, unique within this process and (by the pid) among processes:
/// ".<name>.tmp.<pid>.<counter>", hidden, in the target's directory (a rename is atomic only within a file system).
inline std::filesystem::path temporary_twin(const std::filesystem::path& target) {
  static std::atomic<unsigned long> counter{0};
#if defined(__unix__) || defined(__APPLE__)
  const long pid = static_cast<long>(::getpid());
#else
  const long pid = 0;
#endif
  std::string name = ".";  // appended piece by piece: "." + std::string&& trips GCC 12's -Wrestrict (PR 105329)
  name += target.filename().string();
  name += ".tmp." + std::to_string(pid) + "." + std::to_string(counter++);
  return target.parent_path() / name;
}

inline std::string errno_text(int e) { return std::string(std::strerror(e)); }
}  // namespace detail

/// Writes `contents` to `target` atomically (above): the file is either its old self or exactly `contents`. The
/// target's directory must exist. The new file has mode 0666 minus the umask, as a file ofstream creates.
/// @throws hwnas::io_error naming the file and the system's reason (no such directory, permission denied, no space
///         left on device...); nothing is left behind: no temporary file, and the target as it was
inline void write_file_atomically(const std::filesystem::path& target, std::string_view contents) {
  if (target.filename().empty())
    throw io_error("hwnas: cannot write \"" + target.string() + "\": the path names a directory, not a file");
  const std::filesystem::path tmp = detail::temporary_twin(target);
  const auto fail = [&](const std::string& what, int e) {
    return io_error("hwnas: cannot write \"" + target.string() + "\": " + what + ": " + detail::errno_text(e));
  };
#if defined(__unix__) || defined(__APPLE__)
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
  if (fd < 0) throw fail("creating a temporary file in " + target.parent_path().string(), errno);
  const auto abandon = [&](const std::string& what) {
    const int e = errno;
    ::close(fd);
    ::unlink(tmp.c_str());
    return fail(what, e);
  };
  std::size_t done = 0;
  while (done < contents.size()) {
    const ::ssize_t n = ::write(fd, contents.data() + done, contents.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw abandon("writing " + std::to_string(contents.size()) + " bytes");
    if (n == 0) {  // a file system that accepts nothing and reports no error: treat as full
      errno = ENOSPC;
      throw abandon("writing " + std::to_string(contents.size()) + " bytes");
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) throw abandon("flushing to disk (fsync)");
  if (::close(fd) != 0) {
    const int e = errno;
    ::unlink(tmp.c_str());
    throw fail("closing the temporary file", e);
  }
  if (::rename(tmp.c_str(), target.c_str()) != 0) {
    const int e = errno;
    ::unlink(tmp.c_str());
    throw fail("renaming the temporary file over it", e);
  }
  // The rename is durable once the directory is flushed; the file is already complete, so a directory that
  // cannot be opened for fsync (some file systems) is not an error.
  const std::filesystem::path dir = target.parent_path().empty() ? std::filesystem::path(".") : target.parent_path();
  if (const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
#else
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw fail("creating a temporary file", errno);
    out.write(contents.data(), static_cast<std::streamsize>(contents.size()));
    out.flush();
    if (!out) {
      const int e = errno;
      out.close();
      std::error_code ignored;
      std::filesystem::remove(tmp, ignored);
      throw fail("writing " + std::to_string(contents.size()) + " bytes", e);
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, target, ec);
  if (ec) {
    std::error_code ignored;
    std::filesystem::remove(tmp, ignored);
    throw io_error("hwnas: cannot write \"" + target.string() + "\": renaming the temporary file over it: " +
                   ec.message());
  }
#endif
}

}  // namespace hwnas
