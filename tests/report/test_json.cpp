// report/json.hpp, report/csv.hpp, report/hypervolume.hpp: report.json holds every field of the table in
// docs/reports.md with the run's values (best, top, the front, counts, hypervolume and its box, seconds), null
// where nothing met the spec; trials.csv has one row per trial; the hypervolume is the front's in the unit cube.

#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <sstream>
#include <string>
#include <vector>

#include "hwnas/report/csv.hpp"
#include "hwnas/report/hypervolume.hpp"
#include "hwnas/report/json.hpp"
#include "sample_report.hpp"

namespace rp = hwnas::report;

TEST_CASE("report.json: the run's settings, the best design, the top-k, the front, counts and seconds") {
  const auto r = hwnas::test::sample_report();
  const auto j = rp::to_json(r);
  for (const char* key : {"spec", "device", "cost_model", "clock_mhz", "space", "quantizer", "strategy", "seed",
                          "version", "dataset", "settings", "best", "top", "pareto", "hypervolume", "counts",
                          "seconds", "met_spec", "search_best"})
    CHECK_MESSAGE(j.contains(key), std::string(key));
  CHECK(j["spec"]["max_luts"] == 30000);
  CHECK(j["spec"]["min_fps"] == 1000.0);
  CHECK(j["spec"]["max_dsps"].is_null());
  CHECK(j["spec"]["max_latency_ms"].is_null());
  CHECK(j["device"] == "Cyclone IV E EP4CE115");
  CHECK(j["cost_model"] == "pipelined_pe");
  CHECK(j["clock_mhz"] == 100.0);
  CHECK(j["strategy"] == "reinforce");
  CHECK(j["seed"] == 42);
  CHECK(j["version"] == "0.2.0");
  CHECK(j["dataset"] == r.dataset);  // JSON strings are not HTML: kept as they are
  CHECK(j["settings"] == r.settings);
  CHECK(j["met_spec"] == true);

  // best: top[0], trial 8 (1-based), every field
  const auto& best = j["best"];
  REQUIRE(best.is_object());
  CHECK(best["trial"] == 8);
  for (const char* key : {"architecture", "hw", "proxy_accuracy", "validation_accuracy", "test_accuracy_qat",
                          "test_accuracy_integer"})
    CHECK_MESSAGE(best.contains(key), std::string(key));
  CHECK(best["validation_accuracy"].get<double>() == doctest::Approx(0.923));
  CHECK(best["proxy_accuracy"].get<double>() == doctest::Approx(0.893));
  CHECK(best["hw"]["luts"] == 16000);
  CHECK(best["hw"]["layers"].size() == 3);
  CHECK(best["hw"]["feasible"] == true);
  CHECK(best["architecture"]["layers"].size() == 3);
  CHECK(best["architecture"]["layers"][0]["weights"] == "s0.3");
  REQUIRE(j["top"].size() == 3);
  CHECK(j["top"][0] == best);
  CHECK(j["top"][1]["trial"] == 10);
  CHECK(j["top"][2]["trial"] == 5);

  // pareto: the trained designs on the front, fewest LUTs first, 1-based trials
  std::vector<int> front_trials;
  for (const auto& p : j["pareto"]) {
    front_trials.push_back(p["trial"].get<int>());
    for (const char* key : {"accuracy", "luts", "fps", "dsps", "brams", "architecture"})
      CHECK_MESSAGE(p.contains(key), std::string(key));
  }
  CHECK(front_trials == std::vector<int>{1, 2, 12, 4, 16, 5, 8, 10});
  CHECK(j["pareto"][0]["luts"] == 600);
  CHECK(j["pareto"][0]["accuracy"].get<double>() == doctest::Approx(0.80));
  for (std::size_t k = 1; k < j["pareto"].size(); ++k)
    CHECK(j["pareto"][k - 1]["luts"].get<long>() <= j["pareto"][k]["luts"].get<long>());

  const auto& c = j["counts"];
  CHECK(c["trials"] == 16);
  CHECK(c["trained"] == 10);
  CHECK(c["infeasible"] == 3);
  CHECK(c["ill_formed"] == 1);
  CHECK(c["pruned"] == 4);
  CHECK(c["failed"] == 1);
  CHECK(c["repeated"] == 1);
  CHECK(c["infeasible_trained"] == 0);

  CHECK(j["hypervolume"]["value"].get<double>() == doctest::Approx(r.hypervolume));
  CHECK(j["hypervolume"]["value"].get<double>() > 0);
  CHECK(j["hypervolume"]["reference"]["luts"] == 30000.0);  // the spec's ceiling, not the device's
  CHECK(j["hypervolume"]["reference"]["accuracy"] == 0.0);
  CHECK(j["hypervolume"]["reference"]["fps"] == 0.0);
  CHECK(j["hypervolume"]["fps_scale"].get<double>() == doctest::Approx(100000));
  CHECK(j["seconds"]["search"] == 61.5);
  CHECK(j["seconds"]["retrain"] == 285.0);
}

TEST_CASE("report.json: best is null when nothing was retrained, met_spec false when nothing was trained, a trained infeasible design is counted") {
  auto r = hwnas::test::sample_report();
  r.top.clear();
  r.best.reset();
  auto j = rp::to_json(r);
  CHECK(j["best"].is_null());
  CHECK(j["top"].empty());
  // nothing retrained (--top-k 0), but the search trained a feasible design: the spec was met, and search_best says
  // which design the search ranked first
  CHECK(j["met_spec"] == true);
  REQUIRE(r.search.best);
  CHECK(j["search_best"]["trial"] == *r.search.best + 1);
  CHECK(j["search_best"]["luts"] == r.search.trials[*r.search.best].hardware->luts);
  r.search.best.reset();
  j = rp::to_json(r);
  CHECK(j["met_spec"] == false);
  CHECK(j["search_best"].is_null());
  // a bug the count exists to catch: a trained trial whose hardware report breaks the spec
  r.search.trials[0].hardware = hwnas::test::sample_hw(600, 400, "min_fps");
  CHECK(rp::counts(r).infeasible_trained == 1);
  CHECK(rp::to_json(r)["counts"]["infeasible_trained"] == 1);
}

TEST_CASE("hypervolume of a run: the front's in the unit cube of (accuracy, 1 - LUTs/ceiling, fps/scale)") {
  auto r = hwnas::test::sample_report();
  const auto box = rp::hypervolume_box_for(r.spec, 114480, 100.0);
  CHECK(box.lut_ceiling == 30000);
  CHECK(box.fps_scale == doctest::Approx(100000));  // 1,000 cycles per frame at 100 MHz
  // by hand over the front's points (trial 13 repeats trial 5: not in the front twice)
  std::vector<std::array<double, 3>> pts;
  for (const auto& e : r.search.front.entries()) {
    const auto& hw = *r.search.trials[e.payload].hardware;
    pts.push_back({*r.search.trials[e.payload].accuracy, 1.0 - static_cast<double>(hw.luts) / 30000.0,
                   std::min(hw.fps / 100000.0, 1.0)});
  }
  CHECK(rp::front_hypervolume(r.search, box) == doctest::Approx(hwnas::search::hypervolume(pts, {0, 0, 0})));
  CHECK(r.hypervolume == doctest::Approx(rp::front_hypervolume(r.search, box)));
  CHECK(r.hypervolume > 0);
  CHECK(r.hypervolume < 1);
  // without max_luts the device's LUTs are the ceiling; a larger box gives a larger volume
  r.spec.max_luts.reset();
  const auto wide = rp::hypervolume_box_for(r.spec, 114480, 100.0);
  CHECK(wide.lut_ceiling == 114480);
  // a spec above the device is capped by the device; a bad device or clock is refused
  r.spec.max_luts = 200000;
  CHECK(rp::hypervolume_box_for(r.spec, 114480, 100.0).lut_ceiling == 114480);
  r.spec.max_luts.reset();
  CHECK_THROWS_AS(rp::hypervolume_box_for(r.spec, 0, 100.0), hwnas::invalid_argument);
  CHECK_THROWS_AS(rp::hypervolume_box_for(r.spec, 114480, 0.0), hwnas::invalid_argument);
  CHECK(rp::front_hypervolume(r.search, wide) > rp::front_hypervolume(r.search, box));
  // nothing trained: 0, and a box of scale 0 is an error
  CHECK(rp::front_hypervolume(hwnas::search::search_result{}, box) == 0.0);
  CHECK_THROWS_AS(rp::front_hypervolume(r.search, rp::hypervolume_box{0, 1}), hwnas::invalid_argument);
}

TEST_CASE("trials.csv: a header and one row per trial, numbered from 1") {
  const auto r = hwnas::test::sample_report();
  std::ostringstream out;
  rp::write_trials_csv(out, r);
  const std::string text = out.str();
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  REQUIRE(lines.size() == 17);
  CHECK(lines[0] == "trial,status,reward,accuracy,luts,dsps,brams,fps,latency_ms,pareto,repeated,genome,reason");
  CHECK(lines[1].rfind("1,trained,0.8,0.8,600,", 0) == 0);
  CHECK(lines[3].rfind("3,infeasible,0,,52000,", 0) == 0);
  CHECK(lines[6].rfind("6,ill-formed,0,,,,,,,0,0,", 0) == 0);
  CHECK(lines[11].rfind("11,failed,0,,12000,", 0) == 0);
  CHECK(lines[13].find(",0,1,2 16 12,") != std::string::npos);  // the repeat: not on the front, repeated
  CHECK(lines[16].rfind("16,", 0) == 0);
  CHECK(text.find("\"max_luts: 52000 LUTs") != std::string::npos);  // a reason with a comma is quoted
}
