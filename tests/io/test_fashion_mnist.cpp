// Tests of hwnas/io/fashion_mnist.hpp: the generic IDX (images, labels) loader on synthetic files, the directory
// lookup (argument, HWNAS_DATA, nested dir, file names), and the real Fashion-MNIST when it is installed.

#include "hwnas/io/fashion_mnist.hpp"

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "io_test_util.hpp"

// One namespace per file, so that the file's helpers keep their short names in a unity build.
namespace test_fashion_mnist {

using namespace hwnas_test;

namespace {

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

std::vector<std::uint8_t> labels_mod(std::size_t n, std::size_t classes, std::size_t offset = 0) {
  std::vector<std::uint8_t> out(n);
  for (std::size_t i = 0; i < n; ++i) out[i] = std::uint8_t((i + offset) % classes);
  return out;
}

/// Writes a Fashion-MNIST-like directory: `train` and `test` images of 6x7 pixels.
void write_mnist_dir(const std::filesystem::path& dir, std::size_t train, std::size_t test, bool gzip,
                     const std::string& separator = "-") {
  std::filesystem::create_directories(dir);
  const std::string ext = gzip ? ".gz" : "";
  const auto name = [&](const std::string& kind, const std::string& idx) {
    return (dir / (kind + separator + idx + "-ubyte" + ext)).string();
  };
  write_file(name("train-images", "idx3"), idx_bytes({std::uint32_t(train), 6, 7}, pattern_bytes(train * 42, 1)), gzip);
  write_file(name("train-labels", "idx1"), idx_bytes({std::uint32_t(train)}, labels_mod(train, 10)), gzip);
  write_file(name("t10k-images", "idx3"), idx_bytes({std::uint32_t(test), 6, 7}, pattern_bytes(test * 42, 2)), gzip);
  write_file(name("t10k-labels", "idx1"), idx_bytes({std::uint32_t(test)}, labels_mod(test, 10, 3)), gzip);
}

}  // namespace

TEST_CASE("load_idx_dataset: images (N, 1, H, W) = byte / 255, labels as stored") {
  temp_dir dir;
  const auto pixels = pattern_bytes(9 * 5 * 4, 11);
  const auto labels = labels_mod(9, 3);
  for (const bool gzip : {false, true}) {
    CAPTURE(gzip);
    const auto images_path = dir.file(gzip ? "i.gz" : "i"), labels_path = dir.file(gzip ? "l.gz" : "l");
    write_file(images_path, idx_bytes({9, 5, 4}, pixels), gzip);
    write_file(labels_path, idx_bytes({9}, labels), gzip);
    const auto d = hwnas::io::load_idx_dataset(images_path, labels_path, 3);
    REQUIRE(d.size() == 9);
    CHECK(d.channels() == 1);
    CHECK(d.height() == 5);
    CHECK(d.width() == 4);
    CHECK(d.classes == 3);
    CHECK(std::equal(labels.begin(), labels.end(), d.labels.data()));
    std::size_t wrong = 0;
    for (std::size_t k = 0; k < pixels.size(); ++k) wrong += d.images.data()[k] != float(pixels[k]) / 255.0f;
    CHECK(wrong == 0);
    CHECK(d.images(8, 0, 4, 3) == float(pixels[8 * 20 + 4 * 4 + 3]) / 255.0f);
  }
}

TEST_CASE("load_idx_dataset: bad pairs") {
  temp_dir dir;
  write_plain(dir.file("images"), idx_bytes({4, 2, 2}, pattern_bytes(16)));
  write_plain(dir.file("labels"), idx_bytes({4}, {0, 1, 2, 3}));
  SUBCASE("counts disagree: both files named") {
    write_plain(dir.file("labels5"), idx_bytes({5}, {0, 1, 2, 3, 4}));
    CHECK_THROWS_WITH_AS(
        (void)hwnas::io::load_idx_dataset(dir.file("images"), dir.file("labels5")),
        doctest::Contains(
            (dir.file("images") + " and " + dir.file("labels5") + " disagree: 4 images but 5 labels").c_str()),
        hwnas::io_error);
  }
  SUBCASE("label out of range") {
    CHECK_THROWS_WITH_AS((void)hwnas::io::load_idx_dataset(dir.file("images"), dir.file("labels"), 3),
                         doctest::Contains((dir.file("labels") + ": label 3 of sample 3 is out of range").c_str()),
                         hwnas::io_error);
  }
  SUBCASE("wrong dimension counts") {
    write_plain(dir.file("flat"), idx_bytes({4, 4}, pattern_bytes(16)));
    CHECK_THROWS_WITH_AS((void)hwnas::io::load_idx_dataset(dir.file("flat"), dir.file("labels")),
                         doctest::Contains("image files have 3 dimensions"), hwnas::io_error);
    CHECK_THROWS_WITH_AS((void)hwnas::io::load_idx_dataset(dir.file("images"), dir.file("flat")),
                         doctest::Contains("label files have 1 dimension"), hwnas::io_error);
  }
  SUBCASE("no images") {
    write_plain(dir.file("none"), idx_bytes({0, 2, 2}, {}));
    CHECK_THROWS_WITH_AS((void)hwnas::io::load_idx_dataset(dir.file("none"), dir.file("labels")),
                         doctest::Contains("holds no images"), hwnas::io_error);
  }
  SUBCASE("a bad file inside the pair") {
    write_plain(dir.file("cut"), idx_bytes({4}, {0, 1, 2}));
    CHECK_THROWS_WITH_AS((void)hwnas::io::load_idx_dataset(dir.file("images"), dir.file("cut")),
                         doctest::Contains((dir.file("cut") + ": truncated data").c_str()), hwnas::io_error);
  }
  SUBCASE("classes out of 1..256") {
    CHECK_THROWS_AS((void)hwnas::io::load_idx_dataset(dir.file("images"), dir.file("labels"), 0),
                    hwnas::invalid_argument);
    CHECK_THROWS_AS((void)hwnas::io::load_idx_dataset(dir.file("images"), dir.file("labels"), 257),
                    hwnas::invalid_argument);
  }
}

TEST_CASE("fashion_mnist: synthetic directories, every accepted layout") {
  temp_dir dir;
  struct layout {
    const char* name;
    bool gzip;
    const char* separator;
    bool nested;
  };
  for (const auto& l : {layout{"gz", true, "-", false}, layout{"plain", false, "-", false},
                        layout{"dotted", false, ".", false}, layout{"root", true, "-", true}}) {
    CAPTURE(l.name);
    const auto root = dir.path() / l.name;
    write_mnist_dir(l.nested ? root / "fashion-mnist" : root, 60, 20, l.gzip, l.separator);
    const auto data = hwnas::io::fashion_mnist(root.string(), 10, 1);
    CHECK(data.train.size() == 50);
    CHECK(data.validation.size() == 10);
    CHECK(data.test.size() == 20);
    CHECK(data.test.height() == 6);
    CHECK(data.test.width() == 7);
    CHECK(data.test.labels(0) == 3);
    CHECK(data.test.images(1, 0, 0, 0) == float(pattern_bytes(84, 2)[42]) / 255.0f);
    std::vector<int> per_class(10, 0);
    for (std::size_t i = 0; i < data.validation.size(); ++i) ++per_class[data.validation.labels(i)];
    CHECK(per_class == std::vector<int>(10, 1));
  }
}

TEST_CASE("fashion_mnist: HWNAS_DATA is the default directory") {
  temp_dir dir;
  write_mnist_dir(dir.path(), 30, 5, true);
  scoped_env env("HWNAS_DATA", dir.path().string());
  const auto data = hwnas::io::fashion_mnist("", 3, 0);
  CHECK(data.train.size() == 27);
  CHECK(data.test.size() == 5);
}

TEST_CASE("fashion_mnist: missing files are named, with what to do") {
  temp_dir dir;
  write_mnist_dir(dir.path(), 30, 5, true);
  std::filesystem::remove(dir.path() / "t10k-labels-idx1-ubyte.gz");
  std::string message;
  try {
    (void)hwnas::io::fashion_mnist(dir.path().string());
  } catch (const hwnas::io_error& e) {
    message = e.what();
  }
  CHECK(contains(message, "t10k-labels-idx1-ubyte[.gz] not found in " + dir.path().string()));
  CHECK_FALSE(contains(message, "train-images"));
  CHECK(contains(message, "scripts/setup"));
  CHECK(contains(message, "HWNAS_DATA"));

  temp_dir empty;
  scoped_env env("HWNAS_DATA", empty.path().string());
  CHECK_THROWS_WITH_AS((void)hwnas::io::fashion_mnist(),
                       doctest::Contains("train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz]"),
                       hwnas::io_error);
}

TEST_CASE("fashion_mnist: validation must leave training images") {
  temp_dir dir;
  write_mnist_dir(dir.path(), 30, 5, false);
  CHECK_THROWS_AS((void)hwnas::io::fashion_mnist(dir.path().string(), 30), hwnas::invalid_argument);
}

TEST_CASE("fashion_mnist: the real data set, when installed") {
  const auto where = hwnas::io::detail::fashion_mnist_dir("");
  const auto labels_path =
      hwnas::io::detail::find_file(where, hwnas::io::detail::mnist_file_names("train-labels", "idx1"));
  if (labels_path.empty()) {
    MESSAGE("Fashion-MNIST not found in " << where.string()
                                          << ": skipped (run scripts/setup or set HWNAS_DATA to read it)");
    return;
  }
  // Facts read from the raw files, independent of the loader's conversions.
  const auto raw = hwnas::io::read_idx(labels_path);
  REQUIRE(raw.shape == std::vector<std::size_t>{60000});
  CHECK(raw.values[0] == 9);  // the first training image is an ankle boot
  CHECK(hwnas::io::fashion_mnist_classes[raw.values[0]] == "Ankle boot");
  std::vector<int> per_class(10, 0);
  for (const auto label : raw.values) ++per_class.at(label);
  CHECK(per_class == std::vector<int>(10, 6000));

  const auto data = hwnas::io::fashion_mnist();
  CHECK(data.train.size() == 55000);
  CHECK(data.validation.size() == 5000);
  CHECK(data.test.size() == 10000);
  for (const auto* part : {&data.train, &data.validation, &data.test}) {
    CHECK(part->channels() == 1);
    CHECK(part->height() == 28);
    CHECK(part->width() == 28);
    CHECK(part->classes == 10);
    const auto [lo, hi] = std::minmax_element(part->images.data(), part->images.data() + part->images.size());
    CHECK(*lo == 0.0f);
    CHECK(*hi == 1.0f);
  }
  std::vector<int> validation_per_class(10, 0), test_per_class(10, 0);
  for (std::size_t i = 0; i < data.validation.size(); ++i) ++validation_per_class[data.validation.labels(i)];
  for (std::size_t i = 0; i < data.test.size(); ++i) ++test_per_class[data.test.labels(i)];
  CHECK(validation_per_class == std::vector<int>(10, 500));
  CHECK(test_per_class == std::vector<int>(10, 1000));
}

}  // namespace test_fashion_mnist
