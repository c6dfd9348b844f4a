#pragma once
/// @file
/// Internal: where the data-set loaders look for their files (docs/data.md#where-the-data-is).

#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace hwnas::io::detail {

/// The value of HWNAS_DATA, or "" when it is unset or empty.
inline std::string hwnas_data_env() {
  const char* value = std::getenv("HWNAS_DATA");
  return value != nullptr ? std::string(value) : std::string();
}

/// The first existing regular file among `names` inside `dir`, or "" if none exists.
inline std::string find_file(const std::filesystem::path& dir, const std::vector<std::string>& names) {
  std::error_code ec;
  for (const auto& name : names) {
    const auto candidate = dir / std::filesystem::path(name);
    if (std::filesystem::is_regular_file(candidate, ec)) return candidate.string();
  }
  return {};
}

/// `dir` itself when it holds `probe` (any of its names), else `dir/subdir` when that does, else `dir`.
/// So a directory may be given either as the one holding the files or as a data root with a `subdir` inside.
inline std::filesystem::path resolve_data_dir(const std::filesystem::path& dir, std::string_view subdir,
                                              const std::vector<std::string>& probe) {
  if (!find_file(dir, probe).empty()) return dir;
  const auto nested = dir / std::filesystem::path(subdir);
  if (!find_file(nested, probe).empty()) return nested;
  return dir;
}

}  // namespace hwnas::io::detail
