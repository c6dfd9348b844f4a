#pragma once
/// @file
/// CIFAR-10 in its binary distribution (cifar-10-binary.tar.gz, Krizhevsky 2009): data_batch_1.bin ..
/// data_batch_5.bin (10,000 images each) and test_batch.bin. Every record is 3073 bytes: one label byte (0..9), then
/// the 32x32 image as 1024 red, 1024 green and 1024 blue bytes (CHW, rows top to bottom). A batch file may also be
/// gzip-compressed. See docs/data.md.

#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <xtensor/xtensor.hpp>

#include "hwnas/core/error.hpp"
#include "hwnas/io/dataset.hpp"
#include "hwnas/io/detail/byte_source.hpp"
#include "hwnas/io/detail/data_dir.hpp"

namespace hwnas::io {

/// CIFAR-10 class names, indexed by label.
inline constexpr std::array<std::string_view, 10> cifar10_classes = {
    "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"};

/// Image side, channels and bytes per record of the CIFAR-10 binary format.
inline constexpr std::size_t cifar10_side = 32;
inline constexpr std::size_t cifar10_channels = 3;
inline constexpr std::size_t cifar10_image_bytes = cifar10_channels * cifar10_side * cifar10_side;  // 3072
inline constexpr std::size_t cifar10_record_bytes = 1 + cifar10_image_bytes;                        // 3073

/// Largest batch file accepted (2 GiB); the real ones are 30,730,000 bytes.
inline constexpr std::uint64_t cifar10_max_file_bytes = std::uint64_t{1} << 31;

namespace detail {

/// The validated records of one batch file (size a positive multiple of 3073, every label < 10).
inline std::vector<std::uint8_t> read_cifar10_records(const std::string& path) {
  byte_source src(path, "CIFAR-10 batch");
  auto bytes = src.read_rest(cifar10_max_file_bytes);
  if (bytes.empty()) src.fail("the file is empty (expected records of 3073 bytes)");
  if (bytes.size() % cifar10_record_bytes != 0) {
    src.fail("size " + std::to_string(bytes.size()) + " bytes is not a multiple of the 3073-byte record (" +
             std::to_string(bytes.size() / cifar10_record_bytes) + " records and " +
             std::to_string(bytes.size() % cifar10_record_bytes) + " bytes left over): truncated or not a batch");
  }
  for (std::size_t r = 0, n = bytes.size() / cifar10_record_bytes; r < n; ++r) {
    const auto label = bytes[r * cifar10_record_bytes];
    if (label > 9) {
      src.fail("label " + std::to_string(label) + " of record " + std::to_string(r) +
               " is out of range (expected 0 to 9): not a CIFAR-10 batch (CIFAR-100 records have 2 label bytes)");
    }
  }
  return bytes;
}

/// Appends `records` to the images and labels of `out`, starting at sample `first`.
inline void unpack_cifar10(const std::vector<std::uint8_t>& records, dataset& out, std::size_t first) {
  const auto n = records.size() / cifar10_record_bytes;
  for (std::size_t r = 0; r < n; ++r) {
    const auto* record = records.data() + r * cifar10_record_bytes;
    out.labels(first + r) = record[0];
    bytes_to_unit_float(record + 1, out.images.data() + (first + r) * cifar10_image_bytes, cifar10_image_bytes);
  }
}

}  // namespace detail

/// Reads CIFAR-10 batch files into one dataset of (N, 3, 32, 32) images (byte / 255.0f) and labels, in file order.
/// @throws hwnas::io_error naming the file: missing, empty, size not a multiple of 3073, a label above 9, a cut
///         gzip stream
inline dataset load_cifar10_batches(std::span<const std::string> paths) {
  std::vector<std::vector<std::uint8_t>> files;
  std::size_t total = 0;
  for (const auto& path : paths) {
    files.push_back(detail::read_cifar10_records(path));
    total += files.back().size() / cifar10_record_bytes;
  }
  dataset out;
  out.classes = 10;
  out.images = xt::xtensor<float, 4>(std::array<std::size_t, 4>{total, cifar10_channels, cifar10_side, cifar10_side});
  out.labels = xt::xtensor<std::uint8_t, 1>(std::array<std::size_t, 1>{total});
  std::size_t first = 0;
  for (auto& records : files) {
    detail::unpack_cifar10(records, out, first);
    first += records.size() / cifar10_record_bytes;
    std::vector<std::uint8_t>().swap(records);  // release the bytes as soon as they are converted
  }
  return out;
}

/// Reads one CIFAR-10 batch file (see load_cifar10_batches).
inline dataset load_cifar10_batch(const std::string& path) {
  const std::string paths[] = {path};
  return load_cifar10_batches(paths);
}

/// Loads CIFAR-10: data_batch_1..5.bin (50,000 images) of which `validation` (stratified, chosen by `seed`, see
/// split()) become the validation set, and test_batch.bin (10,000). Each file may also be named `<name>.gz`.
/// @param dir  the directory of the .bin files, or a data root with them in `cifar-10-batches-bin/`;
///             "" = $HWNAS_DATA (CIFAR-10 has no Debian package, so there is no system default)
/// @throws hwnas::io_error listing missing files or naming a bad one; hwnas::invalid_argument when `validation`
///         leaves no training images
inline split_data cifar10(const std::string& dir = "", std::size_t validation = 5000, std::uint64_t seed = 0) {
  std::string base = dir.empty() ? detail::hwnas_data_env() : dir;
  if (base.empty()) {
    throw io_error(
        "CIFAR-10: no directory given and HWNAS_DATA is not set; pass the directory holding "
        "data_batch_1.bin .. data_batch_5.bin and test_batch.bin (from cifar-10-binary.tar.gz)");
  }
  static constexpr std::array<std::string_view, 6> stems = {"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin",
                                                            "data_batch_4.bin", "data_batch_5.bin", "test_batch.bin"};
  const auto names = [](std::string_view stem) {
    return std::vector<std::string>{std::string(stem), std::string(stem) + ".gz"};
  };
  const auto where = detail::resolve_data_dir(base, "cifar-10-batches-bin", names(stems[0]));
  std::vector<std::string> paths;
  std::string missing;
  for (const auto stem : stems) {
    paths.push_back(detail::find_file(where, names(stem)));
    if (paths.back().empty()) missing += (missing.empty() ? "" : ", ") + std::string(stem);
  }
  if (!missing.empty()) {
    throw io_error("CIFAR-10: " + missing + " not found in " + where.string() +
                   "; pass (or set HWNAS_DATA to) the directory extracted from cifar-10-binary.tar.gz");
  }
  return split_train_test(load_cifar10_batches(std::span<const std::string>(paths.data(), 5)),
                          load_cifar10_batch(paths[5]), validation, seed, "hwnas::io::cifar10");
}

}  // namespace hwnas::io
