// hwnas-custom_strategy: your own search strategy in one struct, plugged into a pipeline type.
//
//   hwnas-custom_strategy [fashion-mnist dir]     # a short co-design search with the hill climber below
//
// A strategy is a struct of hyper-parameters with a name and start(layout, seed), which returns the running state:
// ask() proposes a genome, tell() learns its reward (search::Strategy, docs/concepts.md). It sees only genomes, so
// it works with every search space, quantizer and cost model. Exit code 0 when a design met the spec, 3 otherwise.

#include <cstdio>
#include <span>
#include <string>

#include "hwnas/core/rng.hpp"
#include "hwnas/io/fashion_mnist.hpp"
#include "hwnas/pipeline.hpp"

// Step 1: the strategy. A hill climber: keep the best genome told so far; propose it with one gene changed, or, with
// probability `restart`, a random genome (until something rewarded has been found, always random).
struct hill_climber {
  static constexpr std::string_view name = "hill-climber";
  double restart = 0.2;  // hyper-parameters: designated initializers, hill_climber{.restart = 0.1}

  class state {
   public:
    state(std::span<const int> layout, std::uint64_t seed, double restart)
        : layout_(layout.begin(), layout.end()), rng_(seed), restart_(restart) {}
    hwnas::genome ask() {
      hwnas::genome g(layout_.size());
      if (best_reward_ <= 0 || rng_.uniform() < restart_) {
        for (std::size_t i = 0; i < g.size(); ++i) g[i] = static_cast<int>(rng_.below(layout_[i]));
        return g;
      }
      g = best_;
      const std::size_t i = rng_.below(g.size());
      g[i] = static_cast<int>(rng_.below(layout_[i]));
      return g;
    }
    void tell(const hwnas::genome& g, double reward) {  // reward: validation accuracy, 0 when infeasible (Lu'19)
      if (reward > best_reward_) best_reward_ = reward, best_ = g;
    }

   private:
    std::vector<int> layout_;
    hwnas::rng rng_;
    double restart_, best_reward_ = 0;
    hwnas::genome best_;
  };
  state start(std::span<const int> layout, std::uint64_t seed) const { return state(layout, seed, restart); }
};
static_assert(hwnas::search::Strategy<hill_climber>);  // what the pipeline checks too

// Step 2: the pipeline, one line per policy (the space and the quantizer are small so that the example runs fast).
namespace sp = hwnas::space;
namespace qn = hwnas::quant;
using layers = sp::layerwise<sp::depth<1, 2>, sp::filters<8, 16>, sp::kernels<3, 5>, sp::pooling<1, 2>>;
using formats = qn::fixed_point<qn::int_bits<0, 1>, qn::frac_bits<2, 4>>;
using hardware = hwnas::fpga::pipelined_pe<hwnas::fpga::cyclone_iv_ep4ce115, hwnas::fpga::clock_mhz<100>>;
using codesign = hwnas::pipeline<layers, formats, hardware, hill_climber>;

int main(int argc, char** argv) {
  // Step 3: data (a 6,000-image training subset keeps the example short) and a short budget.
  auto data = hwnas::io::fashion_mnist(argc > 1 ? argv[1] : "");
  data.train = hwnas::io::split(data.train, 6000, 1).second;
  codesign p(layers{}, formats{}, hardware{}, hill_climber{.restart = 0.25});  // or codesign{} for the defaults
  p.settings.proxy.train.epochs = 1;
  p.settings.proxy.train_images = 3000;
  p.settings.top_k = 1;
  p.settings.retrain.epochs = 2;
  const auto report = p.run(data, hwnas::spec{.max_luts = 5000, .min_fps = 2000}, hwnas::search::budget{.trials = 12});

  // Step 4: the result.
  const auto counts = hwnas::search::count(report.search);
  std::printf("%s: %zu trials, %zu trained, %zu rejected before training\n", report.strategy.c_str(), counts.trials,
              counts.trained, counts.pruned());
  if (!report.met_spec()) return 3;
  const auto& best = report.top[*report.best];
  std::printf("best: trial %zu, %lld LUTs, %.0f fps, test accuracy %.2f%% (integer) = %.2f%% (QAT)\n", best.trial + 1,
              static_cast<long long>(best.hw.luts), best.hw.fps, 100 * best.test_accuracy_integer,
              100 * best.test_accuracy_qat);
  return best.test_accuracy_integer == best.test_accuracy_qat ? 0 : 1;
}
