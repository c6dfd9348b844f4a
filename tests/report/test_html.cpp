// report/html.hpp: report.html is one page with the summary, the best design's per-layer hardware table, the
// top-k table, the plot inline and the table of every trial; every string escaped; no script and no URL but the SVG
// namespace (nothing to fetch).

#include <doctest/doctest.h>

#include <string>

#include "hwnas/report/html.hpp"
#include "sample_report.hpp"

namespace rp = hwnas::report;

namespace {
using hwnas::test::count;
/// The text of the element that starts at the first `open` (up to `close`).
std::string section(const std::string& html, const std::string& open, const std::string& close) {
  const auto b = html.find(open);
  REQUIRE(b != std::string::npos);
  const auto e = html.find(close, b);
  REQUIRE(e != std::string::npos);
  return html.substr(b, e - b);
}
}  // namespace

TEST_CASE("report.html: summary, the best design's hardware table, the top-k, the plot and every trial") {
  const auto r = hwnas::test::sample_report();
  const std::string html = rp::to_html(r);
  CHECK(html.rfind("<!DOCTYPE html>", 0) == 0);
  CHECK(html.find("</html>") != std::string::npos);
  CHECK(html.find("<meta charset=\"utf-8\">") != std::string::npos);
  // summary
  for (const char* s : {"LUTs &lt;= 30000, fps &gt;= 1000", "Cyclone IV E EP4CE115", "pipelined_pe", "reinforce",
                        "Met the spec: trial 8", "92.30%", "91.90%", "1 min 02 s", "4 min 45 s", "total"})
    CHECK_MESSAGE(html.find(s) != std::string::npos, std::string(s));
  // the best design's per-layer table: one row per layer, totals, fps and latency
  const auto hw = section(html, "<table class=\"data hw\">", "</table>");
  CHECK(count(hw, "<tr>") == 4);  // header + conv0, conv1, fc
  for (const char* s : {"conv0", "conv1", "fc", "Tn=1 Tm=4 group=0", "<tr class=\"total\">", ">16000<"})
    CHECK_MESSAGE(hw.find(s) != std::string::npos, std::string(s));
  CHECK(html.find("fps</b> (25000 cycles per frame)") != std::string::npos);
  CHECK(html.find("Meets the spec.") != std::string::npos);
  // the top-k: a row per retrained design, the best starred
  const auto top = section(html, "<table class=\"data top\">", "</table>");
  CHECK(count(top, "<tr") == 4);
  CHECK(count(top, "&#9733;") == 1);
  // the plot, inline
  CHECK(count(html, "<svg xmlns=\"http://www.w3.org/2000/svg\"") == 1);
  CHECK(count(html, "<circle class=\"trial\"") == 10);
  // every trial
  const auto trials = section(html, "<table class=\"data trials\">", "</table>");
  CHECK(count(trials, "<tr>") == 17);
  CHECK(count(trials, "class=\"status-infeasible\"") == 3);
  CHECK(count(trials, "class=\"status-ill-formed\"") == 1);
  CHECK(trials.find("trained (repeat)") != std::string::npos);
}

TEST_CASE("report.html: every string escaped, no script, no URL but the SVG namespace, no external resource") {
  const auto r = hwnas::test::sample_report();
  const std::string html = rp::to_html(r);
  CHECK(html.find("<script") == std::string::npos);
  CHECK(html.find("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;co&#39;") != std::string::npos);
  CHECK(count(html, "http") == 1);  // the SVG's xmlns only
  CHECK(html.find("http://www.w3.org/2000/svg") != std::string::npos);
  for (const char* s : {"src=", "href=", "@import", "url(http", "@font-face", "<link", "<iframe", "<img"})
    CHECK_MESSAGE(html.find(s) == std::string::npos, std::string(s));
}

TEST_CASE("report.html: a run where nothing met the spec says so") {
  auto r = hwnas::test::sample_report();
  r.top.clear();
  r.best.reset();
  // nothing retrained (--top-k 0), but the search trained a feasible design: the verdict names it
  const std::string searched = rp::to_html(r);
  CHECK(searched.find("No design met the spec.") == std::string::npos);
  CHECK(searched.find("Met the spec: trial " + std::to_string(*r.search.best + 1)) != std::string::npos);
  CHECK(searched.find("(not retrained)") != std::string::npos);
  r.search.best.reset();
  const std::string html = rp::to_html(r);
  CHECK(html.find("No design met the spec.") != std::string::npos);
  CHECK(html.find("<table class=\"data hw\">") == std::string::npos);
  CHECK(html.find("<table class=\"data trials\">") != std::string::npos);
}
