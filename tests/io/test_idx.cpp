// Tests of hwnas/io/idx.hpp: exact round trips of plain and gzip IDX files, and one test per kind of bad input.

#include "hwnas/io/idx.hpp"

#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "io_test_util.hpp"

// One namespace per file, so that the file's helpers keep their short names in a unity build.
namespace test_idx {

using namespace hwnas_test;
using hwnas::io::read_idx;

namespace {

/// The message of the hwnas::io_error that read_idx(path) throws ("" if it does not throw one).
std::string idx_error(const std::string& path, std::size_t max_elements = hwnas::io::idx_default_max_elements) {
  try {
    (void)read_idx(path, max_elements);
  } catch (const hwnas::io_error& e) {
    return e.what();
  }
  return "";
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("read_idx: plain and gzip files round-trip exactly") {
  temp_dir dir;
  const auto payload = pattern_bytes(5 * 3 * 4);
  const auto bytes = idx_bytes({5, 3, 4}, payload);
  for (const bool gzip : {false, true}) {
    CAPTURE(gzip);
    const auto path = dir.file(gzip ? "a.idx.gz" : "a.idx");
    write_file(path, bytes, gzip);
    const auto array = read_idx(path);
    CHECK(array.shape == std::vector<std::size_t>{5, 3, 4});
    CHECK(array.values == payload);
    CHECK(array.size() == 60);

    const auto tensor = hwnas::io::read_idx_tensor<3>(path);
    REQUIRE(tensor.shape()[0] == 5);
    REQUIRE(tensor.shape()[1] == 3);
    REQUIRE(tensor.shape()[2] == 4);
    CHECK(tensor(2, 1, 3) == payload[2 * 12 + 1 * 4 + 3]);
    CHECK(tensor(4, 2, 0) == payload[4 * 12 + 2 * 4 + 0]);
  }
}

TEST_CASE("read_idx: compression is recognized from the content, not the name") {
  temp_dir dir;
  const auto payload = pattern_bytes(17, 3);
  const auto bytes = idx_bytes({17}, payload);
  write_gzip(dir.file("labels-idx1-ubyte"), bytes);      // gzip without .gz
  write_plain(dir.file("labels-idx1-ubyte.gz"), bytes);  // plain with .gz
  CHECK(read_idx(dir.file("labels-idx1-ubyte")).values == payload);
  CHECK(read_idx(dir.file("labels-idx1-ubyte.gz")).values == payload);
}

TEST_CASE("read_idx: a gzip stream larger than the read chunk is reassembled exactly") {
  temp_dir dir;
  const auto payload = pattern_bytes(3 * 700 * 1000, 7);  // 2.1 MB: three chunk growths
  write_gzip(dir.file("big.gz"), idx_bytes({3, 700, 1000}, payload));
  const auto array = read_idx(dir.file("big.gz"));
  CHECK(array.shape == std::vector<std::size_t>{3, 700, 1000});
  CHECK(array.values == payload);
}

TEST_CASE("read_idx: an empty outermost dimension is a valid empty array") {
  temp_dir dir;
  write_plain(dir.file("empty"), idx_bytes({0, 28, 28}, {}));
  const auto array = read_idx(dir.file("empty"));
  CHECK(array.shape == std::vector<std::size_t>{0, 28, 28});
  CHECK(array.values.empty());
}

TEST_CASE("read_idx: a missing file names the file") {
  temp_dir dir;
  const auto path = dir.file("nope-idx3-ubyte.gz");
  const auto message = idx_error(path);
  CHECK(contains(message, path));
  CHECK(contains(message, "no such file"));
}

TEST_CASE("read_idx: a directory is refused") {
  temp_dir dir;
  const auto message = idx_error(dir.path().string());
  CHECK(contains(message, "is a directory"));
}

TEST_CASE("read_idx: an empty file, plain or gzip") {
  temp_dir dir;
  write_plain(dir.file("empty"), {});
  write_gzip(dir.file("empty.gz"), {});
  for (const auto* name : {"empty", "empty.gz"}) {
    CAPTURE(name);
    const auto message = idx_error(dir.file(name));
    CHECK(contains(message, dir.file(name)));
    CHECK(contains(message, "empty"));
  }
}

TEST_CASE("read_idx: wrong magic") {
  temp_dir dir;
  auto bytes = idx_bytes({2, 2}, {1, 2, 3, 4});
  bytes[0] = 0x08;  // e.g. a little-endian writer
  write_plain(dir.file("bad"), bytes);
  const auto message = idx_error(dir.file("bad"));
  CHECK(contains(message, dir.file("bad")));
  CHECK(contains(message, "wrong magic 08 00 08 02"));

  write_plain(dir.file("text"), {'h', 'e', 'l', 'l', 'o', '\n'});
  CHECK(contains(idx_error(dir.file("text")), "wrong magic"));
}

TEST_CASE("read_idx: unsupported element types") {
  temp_dir dir;
  write_plain(dir.file("f32"), idx_bytes({1}, {0, 0, 0, 0}, 0x0D));
  write_plain(dir.file("junk"), idx_bytes({1}, {0}, 0x42));
  const auto f32 = idx_error(dir.file("f32"));
  CHECK(contains(f32, "unsupported element type 0x0d (float32)"));
  CHECK(contains(f32, dir.file("f32")));
  CHECK(contains(idx_error(dir.file("junk")), "unsupported element type 0x42"));
}

TEST_CASE("read_idx: a dimension count of 0 or above idx_max_dims") {
  temp_dir dir;
  write_plain(dir.file("zero"), {0, 0, 8, 0});
  CHECK(contains(idx_error(dir.file("zero")), "declares 0 dimensions"));
  write_plain(dir.file("many"), idx_bytes(std::vector<std::uint32_t>(9, 1), {7}));
  CHECK(contains(idx_error(dir.file("many")), "declares 9 dimensions"));
}

TEST_CASE("read_idx: a header cut short") {
  temp_dir dir;
  write_plain(dir.file("magic"), {0, 0, 8});
  CHECK(contains(idx_error(dir.file("magic")), "truncated header"));
  auto bytes = idx_bytes({60000, 28, 28}, {});
  bytes.resize(4 + 6);  // half of the dimensions
  write_plain(dir.file("dims"), bytes);
  const auto message = idx_error(dir.file("dims"));
  CHECK(contains(message, "truncated header (dimensions): expected 12 bytes, found 6"));
}

TEST_CASE("read_idx: truncated data, plain and gzip") {
  temp_dir dir;
  auto bytes = idx_bytes({10, 4, 4}, pattern_bytes(160));
  bytes.resize(bytes.size() - 1);
  for (const bool gzip : {false, true}) {
    CAPTURE(gzip);
    const auto path = dir.file(gzip ? "cut.gz" : "cut");
    write_file(path, bytes, gzip);
    const auto message = idx_error(path);
    CHECK(contains(message, path));
    CHECK(contains(message, "truncated data"));
    CHECK(contains(message, "declares 160 bytes"));
    CHECK(contains(message, "holds 159"));
  }
}

TEST_CASE("read_idx: trailing bytes (dimensions that disagree with the size), plain and gzip") {
  temp_dir dir;
  const auto bytes = idx_bytes({3, 2}, pattern_bytes(6 + 5));  // 5 bytes more than 3 x 2
  for (const bool gzip : {false, true}) {
    CAPTURE(gzip);
    const auto path = dir.file(gzip ? "long.gz" : "long");
    write_file(path, bytes, gzip);
    const auto message = idx_error(path);
    CHECK(contains(message, "5 trailing bytes"));
    CHECK(contains(message, "disagree"));
  }
}

TEST_CASE("read_idx: a gzip stream cut in the middle or corrupted") {
  temp_dir dir;
  write_gzip(dir.file("whole.gz"), idx_bytes({100, 100}, pattern_bytes(10000)));
  const auto gz = read_plain(dir.file("whole.gz"));
  REQUIRE(gz.size() > 200);

  write_plain(dir.file("half.gz"), std::vector<std::uint8_t>(gz.begin(), gz.begin() + gz.size() / 2));
  const auto half = idx_error(dir.file("half.gz"));
  CHECK(contains(half, dir.file("half.gz")));
  CHECK(contains(half, "truncated"));

  auto corrupt = gz;
  for (std::size_t i = 40; i < 60; ++i) corrupt[i] ^= 0x5A;
  write_plain(dir.file("corrupt.gz"), corrupt);
  CHECK_THROWS_AS((void)read_idx(dir.file("corrupt.gz")), hwnas::io_error);

  auto bad_crc = gz;
  bad_crc[bad_crc.size() - 6] ^= 0xFF;  // CRC-32 in the gzip trailer
  write_plain(dir.file("crc.gz"), bad_crc);
  CHECK(contains(idx_error(dir.file("crc.gz")), "corrupt gzip stream"));
}

TEST_CASE("read_idx: absurd dimensions are refused without allocating them") {
  {
    allocation_probe probe;  // the probe itself sees a large request
    std::vector<std::uint8_t> big(std::size_t{3} << 20);
    CHECK(probe.largest() >= big.size());
  }
  temp_dir dir;
  write_plain(dir.file("huge"), idx_bytes({0xFFFFFFFFU, 0xFFFFFFFFU}, pattern_bytes(16)));
  write_gzip(dir.file("huge.gz"), idx_bytes({0xFFFFFFFFU, 0xFFFFFFFFU}, pattern_bytes(16)));
  write_plain(dir.file("inner0"), idx_bytes({0xFFFFFFFFU, 0}, {}));
  for (const auto* name : {"huge", "huge.gz"}) {
    CAPTURE(name);
    allocation_probe probe;
    const auto message = idx_error(dir.file(name));
    CHECK(contains(message, "absurd dimensions 4294967295 x 4294967295"));
    CHECK(probe.largest() < (std::size_t{1} << 20));
  }
  CHECK(contains(idx_error(dir.file("inner0")), "dimension 1 is 0"));

  // Under the limit but far above what the file holds: a plain file is rejected from its size before allocating,
  // a gzip stream after at most one read chunk.
  const auto header_only = idx_bytes({100000, 100, 100}, pattern_bytes(10));  // declares 1e9 bytes
  write_plain(dir.file("liar"), header_only);
  write_gzip(dir.file("liar.gz"), header_only);
  for (const auto* name : {"liar", "liar.gz"}) {
    CAPTURE(name);
    allocation_probe probe;
    const auto message = idx_error(dir.file(name));
    CHECK(contains(message, "truncated data: the header declares 1000000000 bytes"));
    CHECK(probe.largest() <= 2 * hwnas::io::detail::gz_read_chunk);
  }
}

TEST_CASE("read_idx: the element limit is a parameter") {
  temp_dir dir;
  write_plain(dir.file("a"), idx_bytes({10, 10}, pattern_bytes(100)));
  CHECK(read_idx(dir.file("a"), 100).size() == 100);
  CHECK(contains(idx_error(dir.file("a"), 99), "absurd dimensions 10 x 10: more than 99 elements"));
}

TEST_CASE("read_idx_tensor: the dimension count must match") {
  temp_dir dir;
  write_plain(dir.file("a"), idx_bytes({2, 3, 4}, pattern_bytes(24)));
  CHECK_THROWS_WITH_AS((void)hwnas::io::read_idx_tensor<2>(dir.file("a")),
                       doctest::Contains("has 3 dimensions (2 x 3 x 4), expected 2"), hwnas::io_error);
}

}  // namespace test_idx
