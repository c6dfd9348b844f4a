// core/atomic_file.hpp: write_file_atomically writes exactly the contents, replaces an existing file, leaves no
// temporary file, and on failure (a directory that cannot exist, a file-size limit standing in for a full disk)
// throws io_error naming the file, leaving the old contents and no temporary file.

#include <doctest/doctest.h>

#include <sys/resource.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <set>
#include <vector>

#include "hwnas/core/atomic_file.hpp"
#include "hwnas/core/error.hpp"
#include "../common/files.hpp"

namespace fs = std::filesystem;

namespace {
using hwnas::test::names_in;
using hwnas::test::slurp;
/// A fresh scratch directory, removed at the end of the test.
struct scratch {
  fs::path dir = fs::temp_directory_path() / ("hwnas_atomic_file_" + std::to_string(::getpid()));
  scratch() {
    fs::remove_all(dir);
    fs::create_directories(dir);
  }
  ~scratch() { fs::remove_all(dir); }
};
}  // namespace

TEST_CASE("write_file_atomically: the exact contents, an existing file replaced, no temporary file left") {
  scratch s;
  const fs::path f = s.dir / "report.json";
  std::string big(300000, '\0');
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 7 + 3);  // binary, NULs included
  hwnas::write_file_atomically(f, big);
  CHECK(slurp(f) == big);
  hwnas::write_file_atomically(f, "short\n");
  CHECK(slurp(f) == "short\n");
  hwnas::write_file_atomically(f, "");
  CHECK(fs::exists(f));
  CHECK(fs::file_size(f) == 0);
  CHECK(names_in(s.dir) == std::set<std::string>{"report.json"});
}

TEST_CASE("write_file_atomically: an impossible directory is an io_error naming the file, nothing is created") {
  scratch s;
  // Tests may run as root, who may write anywhere: a parent that is a regular file fails for everyone.
  const fs::path plain = s.dir / "not_a_directory";
  hwnas::write_file_atomically(plain, "x");
  CHECK_THROWS_WITH_AS(hwnas::write_file_atomically(plain / "report.html", "<html>"),
                       doctest::Contains("not_a_directory/report.html"), hwnas::io_error);
  CHECK_THROWS_WITH_AS(hwnas::write_file_atomically(s.dir / "missing" / "a.csv", "a"),
                       doctest::Contains("No such file or directory"), hwnas::io_error);
  CHECK_THROWS_AS(hwnas::write_file_atomically(s.dir / "", "a"), hwnas::io_error);
  CHECK(names_in(s.dir) == std::set<std::string>{"not_a_directory"});
  CHECK(slurp(plain) == "x");
}

TEST_CASE("write_file_atomically: a write that runs out of space leaves the old file and no temporary file") {
  scratch s;
  const fs::path f = s.dir / "trials.csv";
  hwnas::write_file_atomically(f, "the old contents\n");
  // A file-size limit makes write() fail part way (EFBIG), as a full disk does (ENOSPC).
  rlimit old{};
  REQUIRE(::getrlimit(RLIMIT_FSIZE, &old) == 0);
  const auto old_handler = std::signal(SIGXFSZ, SIG_IGN);
  rlimit small = old;
  small.rlim_cur = 4096;
  REQUIRE(::setrlimit(RLIMIT_FSIZE, &small) == 0);
  bool threw = false;
  std::string message;
  try {
    hwnas::write_file_atomically(f, std::string(100000, 'x'));
  } catch (const hwnas::io_error& e) {
    threw = true;
    message = e.what();
  }
  ::setrlimit(RLIMIT_FSIZE, &old);
  std::signal(SIGXFSZ, old_handler);
  CHECK(threw);
  CHECK(message.find("trials.csv") != std::string::npos);
  CHECK(message.find("writing 100000 bytes") != std::string::npos);
  CHECK(slurp(f) == "the old contents\n");
  CHECK(names_in(s.dir) == std::set<std::string>{"trials.csv"});
}
