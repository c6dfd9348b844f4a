#pragma once
/// @file
/// Fashion-MNIST (Xiao, Rasul & Vollgraf 2017): 70,000 28x28 grey images of 10 clothing classes in IDX files, and
/// the generic loader of any MNIST-format (images, labels) IDX pair. See docs/data.md.
///
/// Where the files are looked for, first match wins:
///   1. the `dir` argument when not empty;
///   2. the HWNAS_DATA environment variable when set and not empty;
///   3. /usr/share/datasets/fashion-mnist (Debian package dataset-fashion-mnist, installed by scripts/setup).
/// The chosen directory may hold the four files itself or have them in a `fashion-mnist/` subdirectory. Each file
/// may be gzip-compressed (`train-images-idx3-ubyte.gz`) or not (`train-images-idx3-ubyte`).

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <xtensor/xtensor.hpp>

#include "hwnas/core/error.hpp"
#include "hwnas/io/dataset.hpp"
#include "hwnas/io/detail/data_dir.hpp"
#include "hwnas/io/idx.hpp"

namespace hwnas::io {

/// Where the Debian package dataset-fashion-mnist installs the data.
inline constexpr std::string_view fashion_mnist_system_dir = "/usr/share/datasets/fashion-mnist";

/// Fashion-MNIST class names, indexed by label.
inline constexpr std::array<std::string_view, 10> fashion_mnist_classes = {
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"};

/// Reads an MNIST-format pair: `images_path` an unsigned-byte IDX file of shape (N, H, W), `labels_path` one of
/// shape (N). Returns images (N, 1, H, W) scaled to byte / 255.0f and the labels.
/// @throws hwnas::io_error naming the file when either file is bad (see read_idx), when it has the wrong number of
///         dimensions or no samples, when the counts disagree, or when a label is not below `classes`
/// @throws hwnas::invalid_argument when `classes` is not in 1..256
inline dataset load_idx_dataset(const std::string& images_path, const std::string& labels_path, int classes = 10) {
  if (classes < 1 || classes > 256) {
    throw invalid_argument("hwnas::io::load_idx_dataset: classes = " + std::to_string(classes) + ", expected 1 to 256");
  }
  const auto images = read_idx(images_path);
  if (images.shape.size() != 3) {
    throw io_error("IDX file " + images_path +
                   ": image files have 3 dimensions (count x height x width), this one has " +
                   std::to_string(images.shape.size()) + " (" + detail::shape_string(images.shape) + ")");
  }
  if (images.shape[0] == 0) throw io_error("IDX file " + images_path + ": holds no images");
  const auto labels = read_idx(labels_path);
  if (labels.shape.size() != 1) {
    throw io_error("IDX file " + labels_path + ": label files have 1 dimension (count), this one has " +
                   std::to_string(labels.shape.size()) + " (" + detail::shape_string(labels.shape) + ")");
  }
  if (labels.shape[0] != images.shape[0]) {
    throw io_error("IDX files " + images_path + " and " + labels_path + " disagree: " +
                   std::to_string(images.shape[0]) + " images but " + std::to_string(labels.shape[0]) + " labels");
  }
  for (std::size_t i = 0; i < labels.values.size(); ++i) {
    if (labels.values[i] >= classes) {
      throw io_error("IDX file " + labels_path + ": label " + std::to_string(labels.values[i]) + " of sample " +
                     std::to_string(i) + " is out of range (expected below " + std::to_string(classes) + ")");
    }
  }
  dataset out;
  out.classes = classes;
  out.images = xt::xtensor<float, 4>(std::array<std::size_t, 4>{images.shape[0], 1, images.shape[1], images.shape[2]});
  detail::bytes_to_unit_float(images.values.data(), out.images.data(), images.values.size());
  out.labels = xt::xtensor<std::uint8_t, 1>(std::array<std::size_t, 1>{labels.shape[0]});
  std::copy(labels.values.begin(), labels.values.end(), out.labels.data());
  return out;
}

namespace detail {

/// The names a Fashion-MNIST file may have: `stem` with '-' or '.' before "idx", compressed or not.
inline std::vector<std::string> mnist_file_names(std::string_view kind, std::string_view idx) {
  const std::string dash = std::string(kind) + "-" + std::string(idx) + "-ubyte";
  const std::string dot = std::string(kind) + "." + std::string(idx) + "-ubyte";
  return {dash + ".gz", dash, dot + ".gz", dot};
}

/// The directory fashion_mnist() reads from, given its `dir` argument.
inline std::filesystem::path fashion_mnist_dir(const std::string& dir) {
  std::filesystem::path base = !dir.empty()                ? std::filesystem::path(dir)
                               : !hwnas_data_env().empty() ? std::filesystem::path(hwnas_data_env())
                                                           : std::filesystem::path(fashion_mnist_system_dir);
  return resolve_data_dir(base, "fashion-mnist", mnist_file_names("train-images", "idx3"));
}

}  // namespace detail

/// Loads Fashion-MNIST: 60,000 training images, of which `validation` (stratified, chosen by `seed`, see split())
/// become the validation set, and the 10,000 test images. Pixels are byte / 255.0f; call normalize(split_data&)
/// to standardize them.
/// @param dir  directory of the files; "" = $HWNAS_DATA, else /usr/share/datasets/fashion-mnist (see file comment)
/// @throws hwnas::io_error listing the missing files and what to do, or naming the bad file and its problem
inline split_data fashion_mnist(const std::string& dir = "", std::size_t validation = 5000, std::uint64_t seed = 0) {
  const auto where = detail::fashion_mnist_dir(dir);
  if (std::filesystem::exists(where) && !std::filesystem::is_directory(where))
    throw io_error("Fashion-MNIST: " + where.string() +
                   " is a file, not a directory; pass the directory that holds the four IDX files");
  const std::array<std::vector<std::string>, 4> names = {
      detail::mnist_file_names("train-images", "idx3"), detail::mnist_file_names("train-labels", "idx1"),
      detail::mnist_file_names("t10k-images", "idx3"), detail::mnist_file_names("t10k-labels", "idx1")};
  std::array<std::string, 4> paths;
  std::string missing;
  for (std::size_t f = 0; f < names.size(); ++f) {
    paths[f] = detail::find_file(where, names[f]);
    if (paths[f].empty()) missing += (missing.empty() ? "" : ", ") + names[f][1] + "[.gz]";
  }
  if (!missing.empty()) {
    throw io_error("Fashion-MNIST: " + missing + " not found in " + where.string() +
                   "; run scripts/setup (installs the Debian package dataset-fashion-mnist into " +
                   std::string(fashion_mnist_system_dir) +
                   ") or set HWNAS_DATA (or pass a directory) to where the files are");
  }
  auto out = split_train_test(load_idx_dataset(paths[0], paths[1], 10), load_idx_dataset(paths[2], paths[3], 10),
                              validation, seed, "hwnas::io::fashion_mnist");
  if (out.test.height() != out.train.height() || out.test.width() != out.train.width()) {
    throw io_error("Fashion-MNIST: test images " + paths[2] + " are " + std::to_string(out.test.height()) + "x" +
                   std::to_string(out.test.width()) + ", training images " + paths[0] + " are " +
                   std::to_string(out.train.height()) + "x" + std::to_string(out.train.width()));
  }
  return out;
}

}  // namespace hwnas::io
