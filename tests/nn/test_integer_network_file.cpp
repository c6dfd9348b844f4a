// nn/integer_network_file.hpp: the integer network file round-trips exactly, and a damaged, foreign or
// inconsistent file is refused with a message naming what is wrong (never a crash, never a silently different
// network).

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "hwnas/nn/integer_network_file.hpp"
#include "../rtl/rtl_test_util.hpp"

namespace {
namespace fs = std::filesystem;
using namespace hwnas;
using nlohmann::json;

nn::integer_network sample(std::uint64_t seed) {
  hwnas::rng g(seed);
  return test::random_integer_network(g, test::random_rtl_arch(g));
}

void check_refused(const json& j, const std::string& expect) {
  CAPTURE(j.dump().substr(0, 300));
  CHECK_THROWS_WITH_AS(nn::parse_integer_network(j.dump()), doctest::Contains(expect.c_str()), hwnas::invalid_argument);
}

}  // namespace

TEST_CASE("integer network file: save and load give the same network, codes and predictions") {
  const fs::path dir = fs::temp_directory_path() / ("hwnas_inet_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  for (std::uint64_t seed = 1; seed <= 10; ++seed) {
    const auto net = sample(seed);
    const auto path = dir / "net.json";
    nn::save_integer_network(net, path);
    const auto back = nn::load_integer_network(path);
    CHECK(back.arch() == net.arch());
    REQUIRE(back.layers().size() == net.layers().size());
    for (std::size_t l = 0; l < net.layers().size(); ++l) {
      CHECK(back.layers()[l].weights == net.layers()[l].weights);
      CHECK(back.layers()[l].bias == net.layers()[l].bias);
      CHECK(back.layers()[l].input_format == net.layers()[l].input_format);
      CHECK(back.layers()[l].weight_format == net.layers()[l].weight_format);
      CHECK(back.layers()[l].output_format == net.layers()[l].output_format);
    }
    hwnas::rng g(seed);
    const auto x = test::random_images(g, net.arch(), 3);
    CHECK(back.trace(x.data(), 3).logits == net.trace(x.data(), 3).logits);
  }
  // written atomically: no temporary twin is left beside it
  CHECK(std::distance(fs::directory_iterator(dir), fs::directory_iterator()) == 1);
  fs::remove_all(dir);
}

TEST_CASE("integer network file: bad files are refused, naming the problem") {
  const auto good = nn::to_json(sample(3));
  CHECK_NOTHROW(nn::parse_integer_network(good.dump()));
  auto with = [&](auto edit) {
    json j = good;
    edit(j);
    return j;
  };
  check_refused(with([](json& j) { j["format"] = "something-else"; }), "not an hwnas integer network file");
  check_refused(with([](json& j) { j.erase("format"); }), "not an hwnas integer network file");
  check_refused(with([](json& j) { j["version"] = 2; }), "version 2 is not supported");
  check_refused(with([](json& j) { j["version"] = "1"; }), "\"version\" must be the number 1, got \"1\"");
  check_refused(with([](json& j) { j["layers"][1]["output_format"] = "u9.9"; }), "layers[1].output_format");
  check_refused(with([](json& j) { j["extra"] = 1; }), "unknown key \"extra\"");
  check_refused(with([](json& j) { j.erase("architecture"); }), "\"architecture\" is missing");
  check_refused(with([](json& j) { j["layers"] = 5; }), "\"layers\" must be an array");
  check_refused(with([](json& j) { j["layers"].erase(0); }), "layers given");
  check_refused(with([](json& j) { j["layers"][0].erase("bias"); }), "\"bias\" is missing");
  check_refused(with([](json& j) { j["layers"][0]["weights"].push_back(0); }), "weight codes, expected");
  check_refused(with([](json& j) { j["layers"][0]["weights"][0] = 1e30; }), "is not an integer");
  check_refused(with([](json& j) { j["layers"][0]["weights"][0] = 2.5; }), "is not an integer");
  check_refused(with([](json& j) { j["layers"][0]["weights"][0] = 40000; }), "is not an integer in [-32768, 32767]");
  check_refused(with([](json& j) { j["layers"][0]["weights"][0] = 300; }), "must lie in its format's range");
  check_refused(with([](json& j) { j["layers"][0]["bias"][0] = 3000000000LL; }), "is not an integer");
  check_refused(with([](json& j) { j["layers"][0]["bias"][0] = "1"; }), "is not an integer");
  check_refused(with([](json& j) { j["layers"][0]["weight_format"] = "u0.3"; }), "formats disagree");
  check_refused(with([](json& j) { j["layers"][0]["input_format"] = 8; }), "must be a format string");
  check_refused(with([](json& j) { j["layers"][0]["output_format"] = "q1.2"; }), "format");
  check_refused(with([](json& j) { j["architecture"]["classes"] = 1; }), "classes");
  check_refused(json::array(), "no JSON object");
  // text that is not JSON, or has a key twice
  CHECK_THROWS_AS(nn::parse_integer_network("{\"format\": "), hwnas::invalid_argument);
  CHECK_THROWS_WITH_AS(nn::parse_integer_network("{\"version\": 1, \"version\": 1}"), doctest::Contains("twice"),
                       hwnas::invalid_argument);
  // files: missing, a directory
  CHECK_THROWS_AS(nn::load_integer_network("/nonexistent/net.json"), hwnas::io_error);
  CHECK_THROWS_AS(nn::load_integer_network(fs::temp_directory_path()), hwnas::io_error);
}
