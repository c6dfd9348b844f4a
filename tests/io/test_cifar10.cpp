// Tests of hwnas/io/cifar10.hpp on small synthetic batch files.

#include "hwnas/io/cifar10.hpp"

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "io_test_util.hpp"

// One namespace per file, so that the file's helpers keep their short names in a unity build.
namespace test_cifar10 {

using namespace hwnas_test;
using hwnas::io::cifar10_record_bytes;

namespace {

/// `n` records with labels (first_label + r) % 10 and pseudo-random pixels.
std::vector<std::uint8_t> cifar_records(std::size_t n, std::uint32_t seed, std::size_t first_label = 0) {
  auto bytes = pattern_bytes(n * cifar10_record_bytes, seed);
  for (std::size_t r = 0; r < n; ++r) bytes[r * cifar10_record_bytes] = std::uint8_t((first_label + r) % 10);
  return bytes;
}

/// Checks every label and pixel of `d` (from sample `first`) against the raw records, CHW order.
void check_records(const hwnas::io::dataset& d, const std::vector<std::uint8_t>& bytes, std::size_t first = 0) {
  const auto n = bytes.size() / cifar10_record_bytes;
  std::size_t wrong = 0;
  for (std::size_t r = 0; r < n; ++r) {
    const auto* rec = bytes.data() + r * cifar10_record_bytes;
    if (d.labels(first + r) != rec[0]) ++wrong;
    for (std::size_t c = 0; c < 3; ++c)
      for (std::size_t y = 0; y < 32; ++y)
        for (std::size_t x = 0; x < 32; ++x)
          if (d.images(first + r, c, y, x) != float(rec[1 + c * 1024 + y * 32 + x]) / 255.0f) ++wrong;
  }
  CHECK(wrong == 0);
}

std::string cifar_error(const std::string& path) {
  try {
    (void)hwnas::io::load_cifar10_batch(path);
  } catch (const hwnas::io_error& e) {
    return e.what();
  }
  return "";
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

/// A CIFAR-10 directory of five training batches of `per_batch` records and a test batch of `test` records.
void write_cifar_dir(const std::filesystem::path& dir, std::size_t per_batch, std::size_t test, bool gzip = false) {
  std::filesystem::create_directories(dir);
  for (int b = 1; b <= 5; ++b) {
    const auto name = "data_batch_" + std::to_string(b) + ".bin" + (gzip ? ".gz" : "");
    write_file((dir / name).string(), cifar_records(per_batch, std::uint32_t(b), std::size_t(b)), gzip);
  }
  write_file((dir / (gzip ? "test_batch.bin.gz" : "test_batch.bin")).string(), cifar_records(test, 99), gzip);
}

}  // namespace

TEST_CASE("load_cifar10_batch: plain and gzip round-trip exactly, CHW order") {
  temp_dir dir;
  const auto bytes = cifar_records(7, 3);
  for (const bool gzip : {false, true}) {
    CAPTURE(gzip);
    const auto path = dir.file(gzip ? "b.bin.gz" : "b.bin");
    write_file(path, bytes, gzip);
    const auto d = hwnas::io::load_cifar10_batch(path);
    REQUIRE(d.size() == 7);
    CHECK(d.channels() == 3);
    CHECK(d.height() == 32);
    CHECK(d.width() == 32);
    CHECK(d.classes == 10);
    check_records(d, bytes);
    // one pixel spelled out: record 2, green plane, row 5, column 9
    CHECK(d.images(2, 1, 5, 9) == float(bytes[2 * 3073 + 1 + 1024 + 5 * 32 + 9]) / 255.0f);
  }
}

TEST_CASE("load_cifar10_batches: concatenates in file order") {
  temp_dir dir;
  const auto a = cifar_records(3, 1), b = cifar_records(4, 2, 5);
  write_plain(dir.file("a.bin"), a);
  write_gzip(dir.file("b.bin.gz"), b);
  const std::vector<std::string> paths{dir.file("a.bin"), dir.file("b.bin.gz")};
  const auto d = hwnas::io::load_cifar10_batches(paths);
  REQUIRE(d.size() == 7);
  check_records(d, a, 0);
  check_records(d, b, 3);
}

TEST_CASE("load_cifar10_batch: bad files") {
  temp_dir dir;
  SUBCASE("size not a multiple of 3073") {
    auto bytes = cifar_records(2, 4);
    bytes.resize(bytes.size() + 5);
    write_plain(dir.file("odd.bin"), bytes);
    const auto message = cifar_error(dir.file("odd.bin"));
    CHECK(contains(message, dir.file("odd.bin")));
    CHECK(contains(message, "not a multiple of the 3073-byte record (2 records and 5 bytes left over)"));
    bytes.resize(3000);
    write_gzip(dir.file("short.bin.gz"), bytes);
    CHECK(contains(cifar_error(dir.file("short.bin.gz")), "not a multiple of the 3073-byte record"));
  }
  SUBCASE("label above 9") {
    auto bytes = cifar_records(3, 5);
    bytes[2 * cifar10_record_bytes] = 10;
    write_plain(dir.file("label.bin"), bytes);
    const auto message = cifar_error(dir.file("label.bin"));
    CHECK(contains(message, dir.file("label.bin")));
    CHECK(contains(message, "label 10 of record 2 is out of range"));
  }
  SUBCASE("empty file") {
    write_plain(dir.file("empty.bin"), {});
    CHECK(contains(cifar_error(dir.file("empty.bin")), "the file is empty"));
  }
  SUBCASE("missing file") {
    const auto message = cifar_error(dir.file("data_batch_9.bin"));
    CHECK(contains(message, dir.file("data_batch_9.bin")));
    CHECK(contains(message, "no such file"));
  }
  SUBCASE("gzip stream cut short") {
    write_gzip(dir.file("whole.gz"), cifar_records(4, 6));
    auto gz = read_plain(dir.file("whole.gz"));
    gz.resize(gz.size() / 2);
    write_plain(dir.file("cut.gz"), gz);
    CHECK(contains(cifar_error(dir.file("cut.gz")), "truncated gzip stream"));
  }
}

TEST_CASE("cifar10: a directory of batches, split and test") {
  temp_dir dir;
  for (const bool gzip : {false, true}) {
    CAPTURE(gzip);
    const auto root = dir.path() / (gzip ? "gz" : "plain");
    write_cifar_dir(root, 20, 10, gzip);
    const auto data = hwnas::io::cifar10(root.string(), 30, 4);
    CHECK(data.train.size() == 70);
    CHECK(data.validation.size() == 30);
    REQUIRE(data.test.size() == 10);
    check_records(data.test, cifar_records(10, 99));
    // stratified: 100 training labels, 10 per class, so 3 per class in validation
    std::vector<int> per_class(10, 0);
    for (std::size_t i = 0; i < data.validation.size(); ++i) ++per_class[data.validation.labels(i)];
    CHECK(per_class == std::vector<int>(10, 3));
  }
  // the same split from the same seed
  const auto a = hwnas::io::cifar10((dir.path() / "plain").string(), 30, 4);
  const auto b = hwnas::io::cifar10((dir.path() / "plain").string(), 30, 4);
  CHECK(a.validation.images == b.validation.images);
}

TEST_CASE("cifar10: a data root with cifar-10-batches-bin/, and HWNAS_DATA") {
  temp_dir dir;
  write_cifar_dir(dir.path() / "cifar-10-batches-bin", 2, 3);
  CHECK(hwnas::io::cifar10(dir.path().string(), 1, 0).test.size() == 3);
  {
    scoped_env env("HWNAS_DATA", dir.path().string());
    CHECK(hwnas::io::cifar10("", 1, 0).train.size() == 9);
  }
  {
    scoped_env env("HWNAS_DATA", std::nullopt);
    CHECK_THROWS_WITH_AS((void)hwnas::io::cifar10(""), doctest::Contains("HWNAS_DATA is not set"), hwnas::io_error);
  }
}

TEST_CASE("cifar10: missing batches are listed, validation must leave training data") {
  temp_dir dir;
  write_cifar_dir(dir.path(), 2, 3);
  std::filesystem::remove(dir.path() / "data_batch_3.bin");
  std::filesystem::remove(dir.path() / "test_batch.bin");
  CHECK_THROWS_WITH_AS(
      (void)hwnas::io::cifar10(dir.path().string()),
      doctest::Contains(("data_batch_3.bin, test_batch.bin not found in " + dir.path().string()).c_str()),
      hwnas::io_error);
  write_cifar_dir(dir.path(), 2, 3);
  CHECK_THROWS_AS((void)hwnas::io::cifar10(dir.path().string(), 10), hwnas::invalid_argument);
}

}  // namespace test_cifar10
