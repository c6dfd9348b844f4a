#pragma once
/// @file
/// Reader for IDX files, the format of MNIST and Fashion-MNIST, plain or gzip-compressed (detected from the content,
/// not the name). Layout (docs/data.md#idx): a 4-byte magic `00 00 TT DD` (TT = element type, DD = number of
/// dimensions), DD big-endian uint32 dimensions, then the elements in row-major order. hwnas reads the unsigned-byte
/// type (TT = 0x08), which is what every MNIST-family file holds.
///
/// A bad file throws hwnas::io_error naming the file and the problem (missing, empty, wrong magic, unsupported type,
/// absurd dimensions, truncated data, trailing bytes). The declared size is never allocated before the file is known
/// to hold it: a plain file's size is checked first, a gzip stream is read in chunks as its data arrives, and
/// declarations over `max_elements` are refused outright.

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include <xtensor/xtensor.hpp>

#include "hwnas/core/error.hpp"
#include "hwnas/io/detail/byte_source.hpp"

namespace hwnas::io {

/// IDX element-type codes (the third magic byte).
enum class idx_type : std::uint8_t {
  u8 = 0x08,   ///< unsigned byte: the only type hwnas reads
  i8 = 0x09,   ///< signed byte
  i16 = 0x0B,  ///< big-endian int16
  i32 = 0x0C,  ///< big-endian int32
  f32 = 0x0D,  ///< big-endian float32
  f64 = 0x0E,  ///< big-endian float64
};

/// Largest element count an IDX header may declare by default (2^31): far above any image data set this library
/// trains on, far below what would exhaust memory.
inline constexpr std::size_t idx_default_max_elements = std::size_t{1} << 31;

/// Most dimensions an IDX header may declare.
inline constexpr std::size_t idx_max_dims = 8;

/// The content of an unsigned-byte IDX file: its dimensions and its elements in row-major order.
struct idx_array {
  std::vector<std::size_t> shape;    ///< the declared dimensions, outermost first
  std::vector<std::uint8_t> values;  ///< product(shape) elements, row-major
  std::size_t size() const noexcept { return values.size(); }
};

namespace detail {

inline const char* idx_type_name(std::uint8_t code) {
  switch (code) {
    case 0x08:
      return "unsigned byte";
    case 0x09:
      return "signed byte";
    case 0x0B:
      return "int16";
    case 0x0C:
      return "int32";
    case 0x0D:
      return "float32";
    case 0x0E:
      return "float64";
    default:
      return "not an IDX type";
  }
}

inline std::string hex_bytes(const unsigned char* bytes, std::size_t n) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < n; ++i) {
    if (i > 0) out += ' ';
    out += digits[bytes[i] >> 4];
    out += digits[bytes[i] & 0xF];
  }
  return out;
}

inline std::string shape_string(const std::vector<std::size_t>& shape) {
  std::string out;
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i > 0) out += " x ";
    out += std::to_string(shape[i]);
  }
  return out;
}

/// Reads and validates the magic and the dimensions; returns the shape. Leaves `src` at the first element.
inline std::vector<std::size_t> read_idx_header(byte_source& src, std::size_t max_elements) {
  unsigned char magic[4];
  const auto got = src.read(magic, 4);
  if (got == 0) src.fail("the file is empty (expected an IDX header)");
  if (got < 4) src.fail("truncated header: " + std::to_string(got) + " of the 4 magic bytes");
  if (magic[0] != 0 || magic[1] != 0) {
    src.fail("wrong magic " + hex_bytes(magic, 4) + ": not an IDX file (expected 00 00 <type> <ndims>)");
  }
  if (magic[2] != static_cast<std::uint8_t>(idx_type::u8)) {
    src.fail("unsupported element type 0x" + hex_bytes(magic + 2, 1) + " (" + idx_type_name(magic[2]) +
             "); hwnas reads IDX files of unsigned bytes (0x08) only");
  }
  const std::size_t ndims = magic[3];
  if (ndims == 0 || ndims > idx_max_dims) {
    src.fail("declares " + std::to_string(ndims) + " dimensions; expected 1 to " + std::to_string(idx_max_dims));
  }
  unsigned char raw[4 * idx_max_dims];
  src.read_exact(raw, 4 * ndims, "header (dimensions)");
  std::vector<std::size_t> shape(ndims);
  for (std::size_t d = 0; d < ndims; ++d) {
    const unsigned char* b = raw + 4 * d;
    shape[d] = (std::size_t{b[0]} << 24) | (std::size_t{b[1]} << 16) | (std::size_t{b[2]} << 8) | std::size_t{b[3]};
  }
  // Only the outermost dimension may be 0 (an empty array); an inner 0 makes the outer one meaningless.
  for (std::size_t d = 1; d < ndims; ++d) {
    if (shape[d] == 0) {
      src.fail("absurd dimensions " + shape_string(shape) + ": dimension " + std::to_string(d) + " is 0");
    }
  }
  std::size_t total = 1;
  for (const auto extent : shape) {
    if (extent != 0 && total > max_elements / extent) {
      src.fail("absurd dimensions " + shape_string(shape) + ": more than " + std::to_string(max_elements) +
               " elements, not a plausible data set");
    }
    total *= extent;
  }
  return shape;
}

}  // namespace detail

/// Reads an unsigned-byte IDX file, plain or gzip-compressed.
/// @param path          the file (any name; compression is recognized from the content)
/// @param max_elements  refuse headers that declare more elements than this
/// @throws hwnas::io_error naming the file and the problem
inline idx_array read_idx(const std::string& path, std::size_t max_elements = idx_default_max_elements) {
  detail::byte_source src(path, "IDX file");
  idx_array out;
  out.shape = detail::read_idx_header(src, max_elements);
  std::size_t total = 1;
  for (const auto extent : out.shape) total *= extent;
  out.values = src.read_payload(total, "data");
  return out;
}

/// Reads an unsigned-byte IDX file of exactly `N` dimensions into a tensor of that shape.
/// @throws hwnas::io_error as read_idx, and when the file's dimension count is not `N`
template <std::size_t N>
xt::xtensor<std::uint8_t, N> read_idx_tensor(const std::string& path,
                                             std::size_t max_elements = idx_default_max_elements) {
  static_assert(N >= 1 && N <= idx_max_dims, "hwnas::io::read_idx_tensor: N must be 1 to idx_max_dims");
  auto array = read_idx(path, max_elements);
  if (array.shape.size() != N) {
    throw io_error("IDX file " + path + ": has " + std::to_string(array.shape.size()) + " dimensions (" +
                   detail::shape_string(array.shape) + "), expected " + std::to_string(N));
  }
  std::array<std::size_t, N> shape{};
  for (std::size_t d = 0; d < N; ++d) shape[d] = array.shape[d];
  xt::xtensor<std::uint8_t, N> tensor(shape);
  if (!array.values.empty()) std::memcpy(tensor.data(), array.values.data(), array.values.size());
  return tensor;
}

}  // namespace hwnas::io
