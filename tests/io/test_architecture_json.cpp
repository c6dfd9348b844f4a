#include <doctest/doctest.h>

#include <cstdio>
#include <string>

#include "hwnas/io/architecture_json.hpp"

TEST_CASE("architecture JSON: round trip, float and fixed point") {
  for (const auto& a : {hwnas::reference_cnn(), hwnas::with_uniform_bits(hwnas::reference_cnn(), 6)}) {
    const auto j = hwnas::io::to_json(a);
    CHECK(hwnas::io::architecture_from_json(j) == a);
    CHECK(hwnas::io::parse_architecture(j.dump()) == a);
  }
  const auto j = hwnas::io::to_json(hwnas::with_uniform_bits(hwnas::reference_cnn(), 4));
  CHECK(j["layers"][0]["weights"] == "s0.3");
  CHECK(j["layers"][0]["activations"] == "u1.3");
  CHECK(j["classifier"]["weights"] == "s0.3");
}

TEST_CASE("architecture JSON: defaults and the documented example") {
  const auto a = hwnas::io::parse_architecture(R"({
    "input": {"channels": 1, "height": 28, "width": 28, "format": "u0.8"},
    "classes": 10,
    "layers": [ {"type": "conv", "filters": 16, "kernel": 3, "stride": 1, "pool": 2,
                 "weights": "s0.3", "activations": "u1.3"},
                {"filters": 8} ],
    "classifier": {"weights": "s1.6"} })");
  REQUIRE(a.layers.size() == 2);
  CHECK(a.layers[0].weight_format == hwnas::qformat::weight(0, 3));
  CHECK(a.layers[1].kernel == 3);  // default
  CHECK(a.layers[1].pool == 1);
  CHECK_FALSE(a.layers[1].weight_format.has_value());
  CHECK(a.classifier.weight_format == hwnas::qformat::weight(1, 6));
}

TEST_CASE("architecture JSON: bad input is rejected with the key at fault") {
  using hwnas::io::parse_architecture;
  CHECK_THROWS_WITH(parse_architecture("{"), doctest::Contains("architecture JSON"));
  CHECK_THROWS_WITH(parse_architecture(R"({"layers": [{"filters": 8, "kernal": 3}]})"),
                    doctest::Contains("unknown key \"kernal\""));
  CHECK_THROWS_WITH(parse_architecture(R"({"layers": [{"kernel": 3}]})"), doctest::Contains("\"filters\" is required"));
  CHECK_THROWS_WITH(parse_architecture(R"({"layers": [{"filters": "many"}]})"), doctest::Contains("integer"));
  CHECK_THROWS_WITH(parse_architecture(R"({"layers": [{"filters": 8, "weights": "q1.2"}]})"),
                    doctest::Contains("s<int_bits>.<frac_bits>"));
  CHECK_THROWS_WITH(parse_architecture(R"({"layers": [{"filters": 8, "weights": "s9.9"}]})"),
                    doctest::Contains("1..16 bits"));
  CHECK_THROWS_WITH(parse_architecture(R"({"layers": [{"filters": 8, "kernel": 11}]})"),
                    doctest::Contains("layer 0: kernel"));
  CHECK_THROWS_WITH(parse_architecture(R"({"layers": {}})"), doctest::Contains("array"));
  CHECK_THROWS_WITH(parse_architecture(R"({"layers": [], "classes": 99999999999})"), doctest::Contains("range"));
  CHECK_THROWS_AS(hwnas::io::load_architecture("/nonexistent/arch.json"), hwnas::io_error);
  // a number too large for a double is bad input like a syntax error, not an internal error
  CHECK_THROWS_WITH_AS(parse_architecture(R"({"layers": [{"filters": 1e400, "kernel": 3}]})"),
                       doctest::Contains("architecture JSON"), hwnas::invalid_argument);
  // an empty file and text that is not JSON say so, without the parser's exception tag
  CHECK_THROWS_WITH_AS(parse_architecture(" \n"), doctest::Contains("the file is empty"), hwnas::invalid_argument);
  try {
    parse_architecture("hello");
    FAIL("text that is not JSON was accepted");
  } catch (const hwnas::invalid_argument& e) {
    CHECK(std::string(e.what()).find("not valid JSON: parse error at line 1") != std::string::npos);
    CHECK(std::string(e.what()).find("[json.exception") == std::string::npos);
  }
  // a key twice in one object (the parser would keep the last silently); the same key in two objects is fine
  CHECK_THROWS_WITH_AS(parse_architecture(R"({"layers": [{"filters": 8, "filters": 64}]})"),
                       doctest::Contains("\"filters\" appears twice"), hwnas::invalid_argument);
  CHECK_THROWS_WITH(parse_architecture(R"({"classes": 10, "layers": [], "classes": 3})"),
                    doctest::Contains("\"classes\" appears twice"));
  CHECK_NOTHROW(parse_architecture(R"({"layers": [{"filters": 8}, {"filters": 16}]})"));
  // a binary file says so (nlohmann alone would report "unexpected end of input" at the first NUL)
  CHECK_THROWS_WITH_AS(parse_architecture(std::string("\x7f" "ELF\0\0\x01", 7)),
                       doctest::Contains("not a text file"), hwnas::invalid_argument);
  // a directory is not a file
  CHECK_THROWS_WITH_AS(hwnas::io::load_architecture("/tmp"), doctest::Contains("is a directory"), hwnas::io_error);
}

TEST_CASE("architecture JSON: save and load a file") {
  const std::string path = std::string(HWNAS_BINARY_DIR) + "/test_arch_roundtrip.json";
  const auto a = hwnas::with_uniform_bits(hwnas::reference_cnn(), 8);
  hwnas::io::save_architecture(a, path);
  CHECK(hwnas::io::load_architecture(path) == a);
  std::remove(path.c_str());
  // an endless file is refused after 16 MiB, not read until memory runs out
  CHECK_THROWS_WITH_AS(hwnas::io::load_architecture("/dev/zero"), doctest::Contains("too large for an architecture"),
                       hwnas::io_error);
  CHECK_THROWS_WITH_AS(hwnas::io::load_architecture(HWNAS_BINARY_DIR), doctest::Contains("is a directory"),
                       hwnas::io_error);
}
