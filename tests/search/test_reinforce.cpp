// search/reinforce.hpp: the controller's analytic gradient against central finite differences; ask samples the
// distribution tell learns (probabilities sum to 1, frequencies match); a rewarded genome becomes likelier; the
// baseline is a moving average of the rewards; a larger entropy weight keeps the policy more random; tell learns
// from the told genome, not the last one asked; reproducible by seed; bad arguments throw.

#include <doctest/doctest.h>

#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "hwnas/core/error.hpp"
#include "hwnas/core/rng.hpp"
#include "hwnas/search/concepts.hpp"
#include "hwnas/search/reinforce.hpp"

// One namespace per file, so that the file's helpers keep their short names in a unity build.
namespace test_reinforce {

namespace hs = hwnas::search;

static_assert(hs::Strategy<hs::reinforce>);
static_assert(hs::StrategyState<hs::reinforce::state>);
static_assert(!hs::MultiObjectiveState<hs::reinforce::state>);

namespace {
double matches(const hwnas::genome& g, const hwnas::genome& target) {
  int n = 0;
  for (std::size_t i = 0; i < g.size(); ++i) n += g[i] == target[i];
  return static_cast<double>(n) / static_cast<double>(g.size());
}

/// Every genome of a small layout.
std::vector<hwnas::genome> all_genomes(const std::vector<int>& layout) {
  std::vector<hwnas::genome> out{hwnas::genome{}};
  for (const int k : layout) {
    std::vector<hwnas::genome> next;
    for (const auto& g : out)
      for (int v = 0; v < k; ++v) {
        auto h = g;
        h.push_back(v);
        next.push_back(h);
      }
    out = std::move(next);
  }
  return out;
}

/// Mean entropy of the policy along `n` genomes it samples (on a copy, so `s` is untouched).
double mean_entropy(hs::reinforce::state s, int n) {
  double e = 0.0;
  for (int i = 0; i < n; ++i) e += s.entropy(s.ask());
  return e / n;
}
}  // namespace

TEST_CASE("reinforce: the analytic gradient equals central finite differences") {
  struct config {
    std::vector<int> layout;
    std::size_t hidden;
  };
  const std::vector<config> configs{{{3}, 4}, {{2, 3, 4}, 5}, {{1, 5, 2, 3}, 3}, {{4, 4, 4, 4, 4, 4}, 6}};
  hwnas::rng r(11);
  for (const auto& c : configs) {
    const hs::reinforce hp{.hidden = c.hidden, .entropy_weight = 0.3, .init_scale = 0.6};
    auto s = hp.start(c.layout, 5);
    for (int trial = 0; trial < 3; ++trial) {
      const auto g = s.ask();
      const double advantage = r.uniform(-1.5, 1.5);
      const auto analytic = s.gradient(g, advantage);
      auto theta = s.parameters();
      REQUIRE(analytic.size() == theta.size());
      const double eps = 1e-6;
      double diff2 = 0.0, norm2 = 0.0, worst = 0.0;
      for (std::size_t k = 0; k < theta.size(); ++k) {
        const double keep = theta[k];
        theta[k] = keep + eps;
        s.set_parameters(theta);
        const double up = s.objective(g, advantage);
        theta[k] = keep - eps;
        s.set_parameters(theta);
        const double down = s.objective(g, advantage);
        theta[k] = keep;
        const double numeric = (up - down) / (2 * eps);
        diff2 += (analytic[k] - numeric) * (analytic[k] - numeric);
        norm2 += numeric * numeric;
        worst = std::max(worst, std::abs(analytic[k] - numeric) / (1e-4 + std::abs(numeric)));
      }
      s.set_parameters(theta);
      CAPTURE(c.layout.size());
      CAPTURE(trial);
      CHECK(norm2 > 1e-4);  // not a vacuous comparison of zeros
      CHECK(std::sqrt(diff2 / norm2) < 1e-6);
      CHECK(worst < 1e-4);
    }
  }
}

TEST_CASE("reinforce: ask samples the distribution that log_probability gives, gene after gene") {
  const std::vector<int> layout{2, 3, 2};
  auto s = hs::reinforce{.hidden = 8, .init_scale = 1.0}.start(layout, 3);
  double total = 0.0;
  for (const auto& g : all_genomes(layout)) total += std::exp(s.log_probability(g));
  CHECK(total == doctest::Approx(1.0).epsilon(1e-12));
  std::map<hwnas::genome, int> count;
  const int n = 24000;
  for (int i = 0; i < n; ++i) ++count[s.ask()];
  double worst = 0.0;
  for (const auto& g : all_genomes(layout)) {
    const double p = std::exp(s.log_probability(g));
    const double sd = std::sqrt(p * (1 - p) / n);
    worst = std::max(worst, std::abs(count[g] / static_cast<double>(n) - p) / sd);
  }
  CHECK(worst < 4.5);  // every frequency within 4.5 standard deviations of its probability
}

TEST_CASE("reinforce: a rewarded genome becomes likelier, a punished one less likely") {
  const std::vector<int> layout{4, 3, 5, 2, 4};
  auto s = hs::reinforce{.entropy_weight = 0.0}.start(layout, 9);
  const hwnas::genome good{1, 2, 3, 0, 2}, bad{3, 0, 0, 1, 1};
  s.tell(s.ask(), 0.5);  // sets the baseline: 0.5
  CHECK(s.baseline() == 0.5);
  const double before = s.log_probability(good);
  s.tell(good, 1.0);
  CHECK(s.log_probability(good) > before);
  const double bad_before = s.log_probability(bad);
  s.tell(bad, 0.0);
  CHECK(s.log_probability(bad) < bad_before);
  for (int t = 0; t < 40; ++t) {
    s.tell(good, 1.0);
    auto other = s.ask();
    if (other == good) other[0] = (other[0] + 1) % 4;
    s.tell(other, 0.0);
  }
  CHECK(std::exp(s.log_probability(good)) > 0.5);
  int asked = 0;
  for (int t = 0; t < 100; ++t) asked += s.ask() == good;
  CHECK(asked > 50);
}

TEST_CASE("reinforce: the baseline is the exponential moving average of the rewards") {
  auto s = hs::reinforce{.baseline_decay = 0.9}.start(std::vector<int>{3, 3}, 1);
  CHECK(s.baseline() == 0.0);
  s.tell(s.ask(), 0.3);
  CHECK(s.baseline() == doctest::Approx(0.3));  // the first reward sets it
  s.tell(s.ask(), 0.8);
  CHECK(s.baseline() == doctest::Approx(0.9 * 0.3 + 0.1 * 0.8));
  for (int t = 0; t < 100; ++t) s.tell(s.ask(), 0.8);
  CHECK(s.baseline() == doctest::Approx(0.8).epsilon(1e-3));
  for (int t = 0; t < 100; ++t) s.tell(s.ask(), 0.2);
  CHECK(s.baseline() == doctest::Approx(0.2).epsilon(1e-3));
  CHECK(s.told() == 202);
}

TEST_CASE("reinforce: a larger entropy weight keeps the policy's entropy higher") {
  const std::vector<int> layout(10, 4);
  hwnas::rng r(5);
  hwnas::genome target(layout.size());
  for (auto& g : target) g = static_cast<int>(r.below(4));
  const auto train = [&](double weight) {
    auto s = hs::reinforce{.entropy_weight = weight}.start(layout, 2);
    for (int t = 0; t < 300; ++t) {
      const auto g = s.ask();
      s.tell(g, matches(g, target));
    }
    return s;
  };
  const double initial = mean_entropy(hs::reinforce{}.start(layout, 2), 50);
  const double none = mean_entropy(train(0.0), 50), some = mean_entropy(train(0.2), 50);
  MESSAGE("mean entropy (nats over 10 genes): initial " << initial << ", after 300 trials with weight 0: " << none
                                                         << ", with weight 0.2: " << some);
  CHECK(initial == doctest::Approx(10 * std::log(4.0)).epsilon(0.01));  // starts near uniform
  CHECK(none < 0.8 * initial);                                          // learning sharpens the policy
  CHECK(some > none + 0.1 * initial);
}

TEST_CASE("reinforce: tell learns from the told genome (ask, ask, tell, tell in another order)") {
  const std::vector<int> layout{3, 2, 4, 3};
  const hs::reinforce hp{.learning_rate = 0.1, .hidden = 6, .optimizer = hs::reinforce::optimizer_kind::sgd};
  auto s = hp.start(layout, 4);
  std::vector<hwnas::genome> asked;
  for (int i = 0; i < 5; ++i) asked.push_back(s.ask());
  const std::vector<double> rewards{0.1, 0.9, 0.4, 0.7, 0.2};
  double baseline = 0.0;
  for (int i = 4; i >= 0; --i) {  // the last asked first
    const auto& g = asked[static_cast<std::size_t>(i)];
    const double reward = rewards[static_cast<std::size_t>(i)];
    if (i == 4) baseline = reward;
    // SGD: theta + learning_rate * gradient of the objective of *this* genome at the current parameters
    auto expect = s.parameters();
    const auto grad = s.gradient(g, reward - baseline);
    for (std::size_t k = 0; k < expect.size(); ++k) expect[k] += hp.learning_rate * grad[k];
    s.tell(g, reward);
    baseline = hp.baseline_decay * baseline + (1 - hp.baseline_decay) * reward;
    const auto& got = s.parameters();
    double worst = 0.0;
    for (std::size_t k = 0; k < got.size(); ++k) worst = std::max(worst, std::abs(got[k] - expect[k]));
    CHECK(worst < 1e-12);
    CHECK(s.baseline() == doctest::Approx(baseline));
  }
  CHECK(s.told() == 5);
}

TEST_CASE("reinforce: the same seed and rewards give the same genomes, another seed others") {
  const std::vector<int> layout{3, 1, 4, 2, 7, 4};
  auto a = hs::reinforce{}.start(layout, 7), b = hs::reinforce{}.start(layout, 7), c = hs::reinforce{}.start(layout, 8);
  bool differs = false;
  for (int t = 0; t < 150; ++t) {
    const auto ga = a.ask(), gb = b.ask(), gc = c.ask();
    REQUIRE(ga.size() == layout.size());
    for (std::size_t i = 0; i < layout.size(); ++i) REQUIRE((ga[i] >= 0 && ga[i] < layout[i]));
    CHECK(ga == gb);
    differs = differs || ga != gc;
    a.tell(ga, ga[0] + 0.5 * ga[4]);
    b.tell(gb, gb[0] + 0.5 * gb[4]);
    c.tell(gc, gc[0] + 0.5 * gc[4]);
  }
  CHECK(differs);
  CHECK(a.parameters() == b.parameters());
  const auto hp = hs::reinforce{.hidden = 12, .optimizer = hs::reinforce::optimizer_kind::sgd}.hyper_parameters();
  CHECK(hp["hidden"] == 12);
  CHECK(hp["optimizer"] == "sgd");
  CHECK(hp["learning_rate"] == 0.0035);
}

TEST_CASE("reinforce: bad genomes, rewards and hyper-parameters throw, naming the strategy") {
  const std::vector<int> layout{3, 2};
  auto s = hs::reinforce{}.start(layout, 1);
  const auto names_it = [&](auto&& f) {
    try {
      f();
    } catch (const hwnas::invalid_argument& e) {
      return std::string(e.what()).find("reinforce") != std::string::npos;
    }
    return false;
  };
  CHECK(names_it([&] { s.tell(hwnas::genome{0, 2}, 1.0); }));
  CHECK(names_it([&] { s.tell(hwnas::genome{0}, 1.0); }));
  CHECK(names_it([&] { s.tell(hwnas::genome{0, 1}, std::nan("")); }));
  CHECK(names_it([&] { s.tell(hwnas::genome{0, 1}, INFINITY); }));
  CHECK(s.told() == 0);
  CHECK(names_it([&] { s.set_parameters(std::vector<double>(3, 0.0)); }));
  CHECK(names_it([&] { (void)hs::reinforce{.learning_rate = 0}.start(layout, 1); }));
  CHECK(names_it([&] { (void)hs::reinforce{.hidden = 0}.start(layout, 1); }));
  CHECK(names_it([&] { (void)hs::reinforce{.baseline_decay = 1.0}.start(layout, 1); }));
  CHECK(names_it([&] { (void)hs::reinforce{.entropy_weight = -1}.start(layout, 1); }));
  CHECK(names_it([&] { (void)hs::reinforce{.init_scale = 0}.start(layout, 1); }));
  CHECK(names_it([&] { (void)hs::reinforce{}.start(std::vector<int>{2, 0}, 1); }));
  CHECK(names_it([&] { (void)hs::reinforce{}.start(std::vector<int>{}, 1); }));
}

}  // namespace test_reinforce
