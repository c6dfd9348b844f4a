#pragma once
/// @file
/// The exceptions hwnas throws. Every message says what was wrong and, where it can, what to do about it.

#include <stdexcept>
#include <string>

namespace hwnas {

/// Base of every hwnas error; catch this to catch them all.
struct error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// A file could not be read or does not hold what its format says (IDX, CIFAR-10, JSON, journal).
struct io_error : error {
  using error::error;
};

/// A value given by a user is out of its domain: a negative spec, a bit width over 16, an unknown layer kind...
struct invalid_argument : error {
  using error::error;
};

/// Training diverged (a NaN or an infinity in the loss or the weights); a search records it as a failed trial.
struct training_error : error {
  using error::error;
};

}  // namespace hwnas
