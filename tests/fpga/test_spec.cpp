#include <doctest/doctest.h>

#include <cmath>
#include <limits>

#include "hwnas/fpga/spec.hpp"

using namespace hwnas;
using namespace hwnas::fpga;

TEST_CASE("spec: meaningful specs pass, bad ones are rejected naming the field") {
  CHECK_NOTHROW(validate(spec{}));
  CHECK_NOTHROW(validate(spec{.max_luts = 30000, .min_fps = 1000}));
  CHECK_NOTHROW(validate(hwnas::spec{.max_dsps = 0, .max_brams = 0, .min_fps = 0, .max_latency_ms = 1e9}));
  CHECK_THROWS_WITH_AS(validate(spec{.max_luts = -1}), doctest::Contains("spec.max_luts"), hwnas::invalid_argument);
  CHECK_THROWS_WITH_AS(validate(spec{.max_dsps = -5}), doctest::Contains("spec.max_dsps"), hwnas::invalid_argument);
  CHECK_THROWS_WITH_AS(validate(spec{.max_brams = -2}), doctest::Contains("spec.max_brams"), hwnas::invalid_argument);
  CHECK_THROWS_WITH_AS(validate(spec{.min_fps = -1}), doctest::Contains("spec.min_fps"), hwnas::invalid_argument);
  CHECK_THROWS_WITH_AS(validate(spec{.min_fps = std::nan("")}), doctest::Contains("spec.min_fps"),
                       hwnas::invalid_argument);
  CHECK_THROWS_WITH_AS(validate(spec{.min_fps = std::numeric_limits<double>::infinity()}), doctest::Contains("finite"),
                       hwnas::invalid_argument);
  CHECK_THROWS_WITH_AS(validate(spec{.max_latency_ms = 0}), doctest::Contains("spec.max_latency_ms"),
                       hwnas::invalid_argument);
  CHECK_THROWS_WITH_AS(validate(spec{.max_latency_ms = -3}), doctest::Contains("> 0"), hwnas::invalid_argument);
  CHECK_THROWS_WITH_AS(validate(spec{.max_latency_ms = std::nan("")}), doctest::Contains("spec.max_latency_ms"),
                       hwnas::invalid_argument);
}

TEST_CASE("spec: resolved against the device and the clock") {
  const auto d = info_of<cyclone_iv_ep4ce115>();
  const auto none = resolve(spec{}, d, 100);
  CHECK(none.luts == 114480);
  CHECK(none.dsps == 532);
  CHECK(none.brams == 432);
  CHECK(none.cycles == unlimited);
  CHECK(none.latency_cycles == unlimited);
  const auto s = resolve(spec{.max_luts = 30000, .max_brams = 1000, .min_fps = 1000, .max_latency_ms = 2}, d, 100);
  CHECK(s.luts == 30000);
  CHECK(s.brams == 432);  // the device is the tighter ceiling
  CHECK(s.cycles == 100000);
  CHECK(s.latency_cycles == 200000);
  CHECK(resolve(spec{.min_fps = 3000}, d, 100).cycles == 33333);  // 1e8 / 33333 >= 3000 > 1e8 / 33334
  CHECK(resolve(spec{.min_fps = 0}, d, 100).cycles == unlimited);
  CHECK(resolve(spec{.min_fps = 1e9}, d, 100).cycles == 0);  // more frames than cycles: nothing can meet it
  CHECK_THROWS_AS(resolve(spec{}, d, -5), hwnas::invalid_argument);
  CHECK_THROWS_AS(resolve(spec{}, d, std::nan("")), hwnas::invalid_argument);
}
