#pragma once
/// @file
/// hwnas's version (the CMake project's; a test checks they agree), written into every report and journal.

#include <string_view>

namespace hwnas {
inline constexpr std::string_view version = "0.2.0";
}  // namespace hwnas
