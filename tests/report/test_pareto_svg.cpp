// report/pareto_svg.hpp (moved and widened from search/report.hpp's write_svg): a point per trained trial inside the
// plot, coloured by fps; faded marks for the candidates rejected before training; the max_luts line where the spec
// has one, min_fps on the colour legend; the front ringed and drawn as a line; the top-k and the best marked;
// self-contained (no script, no link) and escaped.

#include <doctest/doctest.h>

#include <cmath>
#include <set>
#include <string>

#include "hwnas/report/pareto_svg.hpp"
#include "sample_report.hpp"

namespace rp = hwnas::report;

namespace {
using hwnas::test::count;
/// The number after `attr="` at or after `from`.
double attribute(const std::string& text, std::size_t from, const std::string& attr) {
  const auto p = text.find(" " + attr + "=\"", from);
  REQUIRE(p != std::string::npos);
  return std::stod(text.substr(p + attr.size() + 3));
}
struct area {
  double x0, y0, x1, y1;
};
area plot_area(const std::string& svg) {
  const auto p = svg.find("<rect class=\"plot-area\"");
  REQUIRE(p != std::string::npos);
  const double x = attribute(svg, p, "x"), y = attribute(svg, p, "y");
  return {x, y, x + attribute(svg, p, "width"), y + attribute(svg, p, "height")};
}
}  // namespace

TEST_CASE("pareto.svg: a point per trained trial inside the plot, the front and the best marked") {
  const auto r = hwnas::test::sample_report();
  const std::string svg = rp::pareto_svg(r);
  CHECK(svg.rfind("<svg xmlns=\"http://www.w3.org/2000/svg\"", 0) == 0);
  CHECK(svg.find("</svg>") == svg.size() - 7);
  CHECK(count(svg, "<circle class=\"trial\"") == 10);  // 11 trained trials, one of them a repeat
  CHECK(count(svg, "<circle class=\"front\"") == r.search.front.size());
  CHECK(count(svg, "<polyline class=\"front-line\"") == 1);
  CHECK(count(svg, "<rect class=\"top\"") == 3);
  CHECK(count(svg, "<path class=\"best\"") == 1);
  CHECK(svg.find("best: trial 8,") != std::string::npos);
  CHECK(count(svg, "<line class=\"rejected\"") == 3);  // the infeasible ones; the ill-formed one has no LUTs
  CHECK(count(svg, "<line class=\"failed\"") == 1);
  CHECK(svg.find("1 ill-formed: not drawn") != std::string::npos);
  CHECK(svg.find("16 trials: 10 trained, 4 rejected before training (3 infeasible, 1 ill-formed), 1 failed") !=
        std::string::npos);

  const auto a = plot_area(svg);
  std::set<std::string> colours;
  for (std::size_t p = svg.find("<circle class=\"trial\""); p != std::string::npos;
       p = svg.find("<circle class=\"trial\"", p + 1)) {
    const double x = attribute(svg, p, "cx"), y = attribute(svg, p, "cy");
    CHECK(x >= a.x0);
    CHECK(x <= a.x1);
    CHECK(y >= a.y0);
    CHECK(y <= a.y1);
    colours.insert(svg.substr(svg.find("fill=\"", p) + 6, 7));
  }
  CHECK(colours.size() >= 5);  // fps as colour: 9 distinct rates, at least 5 distinct colours
  // rejected candidates: faded, inside the plot, in the band at its bottom
  for (std::size_t p = svg.find("<line class=\"rejected\""); p != std::string::npos;
       p = svg.find("<line class=\"rejected\"", p + 1)) {
    const double x = attribute(svg, p, "x1"), y = attribute(svg, p, "y1");
    CHECK(x >= a.x0);
    CHECK(x <= a.x1);
    CHECK(y > a.y1 - 30);
    CHECK(y < a.y1);
    CHECK(attribute(svg, p, "stroke-opacity") < 0.5);
  }
  // the spec's limits: the max_luts line at 30000 LUTs on the log axis, inside the plot, right of the cheapest
  // design and left of the 52000-LUT one; min_fps on the colour legend
  const auto limit = svg.find("<line class=\"limit\"");
  REQUIRE(limit != std::string::npos);
  const double lx = attribute(svg, limit, "x1");
  CHECK(lx > a.x0);
  CHECK(lx < a.x1);
  CHECK(svg.find("max_luts 30000") != std::string::npos);
  // untrained candidates at their LUTs: trial 3 (52000 LUTs) right of the line, trial 9 (2200) left of it
  CHECK(attribute(svg, svg.find("<line class=\"rejected\""), "x1") > lx);
  CHECK(attribute(svg, svg.find("<line class=\"rejected\"", svg.find("<line class=\"rejected\"") + 1), "x1") < lx);
  CHECK(count(svg, "<line class=\"min-fps\"") == 1);
  // self-contained: one URL, the SVG namespace; no script; titles escaped
  CHECK(count(svg, "http") == 1);
  CHECK(svg.find("<script") == std::string::npos);
  CHECK(svg.find("&lt;script&gt;") != std::string::npos);
}

TEST_CASE("pareto.svg: without a LUT or fps limit there is no limit line, a run with nothing trained still plots") {
  auto r = hwnas::test::sample_report();
  r.spec = {};
  std::string svg = rp::pareto_svg(r);
  CHECK(svg.find("class=\"limit\"") == std::string::npos);
  CHECK(svg.find("class=\"min-fps\"") == std::string::npos);
  CHECK(count(svg, "<circle class=\"trial\"") == 10);

  hwnas::report::codesign_report empty;
  empty.spec = {.max_luts = 1000};
  empty.search.trials = {r.search.trials[2], r.search.trials[5]};  // one infeasible, one ill-formed
  svg = rp::pareto_svg(empty);
  CHECK(svg.find("no design was trained") != std::string::npos);
  CHECK(count(svg, "<circle class=\"trial\"") == 0);
  CHECK(count(svg, "<line class=\"rejected\"") == 1);
  CHECK(count(svg, "<line class=\"limit\"") == 1);
  for (const char* bad : {"nan", "\"inf", "-inf", "\"-\""})
    CHECK_MESSAGE(svg.find(bad) == std::string::npos, std::string(bad));
}
