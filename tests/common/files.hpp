#pragma once
// Small file helpers the tests share: a file's bytes, and the names in a directory.

#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <string>

namespace hwnas::test {

/// The whole file as bytes ("" when it cannot be read).
inline std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

/// The names of the entries of `dir` (files and directories, not recursive).
inline std::set<std::string> names_in(const std::filesystem::path& dir) {
  std::set<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(dir)) names.insert(e.path().filename().string());
  return names;
}

}  // namespace hwnas::test
