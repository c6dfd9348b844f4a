#pragma once
// Runs one of the built example programs (build/examples/<name>) with arguments, capturing its exit code and its
// standard output and error together: the tests of the programs' exit-code contract share it.

#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace hwnas::test {

struct program_result {
  int code = -1;    ///< the exit code, -1 when the program did not exit normally
  std::string out;  ///< stdout and stderr
};

/// Path of the built example program `name` ("hwnas-estimate").
inline std::filesystem::path example_program(const std::string& name) {
  return std::filesystem::path(HWNAS_BINARY_DIR) / "examples" / name;
}

inline program_result run_program(const std::string& name, const std::string& args) {
  namespace fs = std::filesystem;
  static std::atomic<int> calls{0};
  const fs::path out = fs::temp_directory_path() /
                       ("hwnas_" + name + "_" + std::to_string(::getpid()) + "_" + std::to_string(calls++) + ".txt");
  const int status = std::system((example_program(name).string() + " " + args + " > " + out.string() + " 2>&1").c_str());
  program_result r;
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::ifstream in(out);
  std::stringstream ss;
  ss << in.rdbuf();
  r.out = ss.str();
  std::error_code ec;
  fs::remove(out, ec);
  return r;
}

}  // namespace hwnas::test
