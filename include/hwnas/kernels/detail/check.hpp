#pragma once
/// @file
/// Argument checks shared by the float layer kernels: each throws hwnas::invalid_argument with a message that
/// names the kernel, the argument and what was expected.

#include <cstddef>
#include <string>
#include <string_view>

#include <hwnas/core/error.hpp>

namespace hwnas::kernels::detail {

/// Throws unless `got == want` (the element count of a buffer a kernel reads or writes).
inline void check_size(std::string_view kernel, std::string_view argument, std::size_t got, std::size_t want,
                       std::string_view layout) {
  if (got != want)
    throw invalid_argument(std::string(kernel) + ": " + std::string(argument) + " holds " + std::to_string(got) +
                           " elements but the shape needs " + std::to_string(want) + " (" + std::string(layout) +
                           "); pass a buffer of exactly that size");
}

/// Throws unless `value >= 1`.
inline void check_positive(std::string_view kernel, std::string_view field, std::size_t value) {
  if (value == 0)
    throw invalid_argument(std::string(kernel) + ": " + std::string(field) + " is 0; it must be at least 1");
}

/// Throws when `value` exceeds `limit` (keeps index arithmetic far from overflow).
inline void check_at_most(std::string_view kernel, std::string_view field, std::size_t value, std::size_t limit) {
  if (value > limit)
    throw invalid_argument(std::string(kernel) + ": " + std::string(field) + " = " + std::to_string(value) +
                           " exceeds the supported maximum " + std::to_string(limit));
}

}  // namespace hwnas::kernels::detail
