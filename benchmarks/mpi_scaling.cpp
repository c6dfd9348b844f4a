// Trials per hour on MPI ranks with a per-trial-cost-dominated evaluator: every trial is the same fixed work (a
// fixed number of single-threaded 128x128x128 GEMMs), so the only losses are the farm's (messages, polling, the
// coordinator, the window) and the machine's (cores shared). tools/mpi-scaling runs it at several rank counts and
// writes the efficiency table of docs/scale.md.
//
//   mpirun -np N hwnas_mpi_scaling [--trials T] [--gemms G] [--in-flight L]   (N - 1 workers; L default 2 (N - 1))
//
// Rank 0 prints one line of JSON: workers, trials, seconds, trials_per_hour, the coordinator's busy seconds per
// trial (everything but waiting for workers), and the bytes of a job and of a result message.

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "hwnas/core/architecture.hpp"
#include "hwnas/core/parallel.hpp"
#include "hwnas/io/architecture_json.hpp"
#include "hwnas/kernels/gemm.hpp"
#include "hwnas/search/mpi_evaluator.hpp"
#include "hwnas/search/run.hpp"
#include "hwnas/search/strategies.hpp"

namespace hs = hwnas::search;

namespace {
/// The farm's Local: stage 1 is nothing, stage 2 is `gemms` GEMMs of 128^3 on one thread.
struct fixed_work {
  int gemms = 10000;
  std::deque<std::pair<std::size_t, hs::trial>> ready;
  std::size_t slices() const { return 1; }
  std::optional<hs::trial> prepare(std::size_t, const hwnas::genome& g) {
    hs::trial t;
    t.g = g;
    t.arch = hwnas::reference_cnn();  // a realistic job message: the genome and an architecture
    return t;
  }
  void finish(std::size_t ticket, hs::trial t) { ready.emplace_back(ticket, std::move(t)); }
  std::optional<std::pair<std::size_t, hs::trial>> take_ready() {
    if (ready.empty()) return std::nullopt;
    auto r = std::move(ready.front());
    ready.pop_front();
    return r;
  }
  hs::trial replay(const hs::trial& t) { return t; }
  void train(hs::trial& t, hwnas::thread_pool&, std::size_t) const {
    const auto t0 = std::chrono::steady_clock::now();
    constexpr int n = 128;
    std::vector<float> a(n * n, 0.5f), b(n * n, 0.25f), c(n * n, 0.0f);
    for (int i = 0; i < gemms; ++i) hwnas::kernels::gemm(hwnas::kernels::transpose::no, hwnas::kernels::transpose::no, n, n, n, 1.0f, a.data(), n,
                                                    b.data(), n, 1.0f, c.data(), n);
    t.status = hs::trial_status::trained;
    t.accuracy = 0.5 + 1e-9 * c[0];
    t.reward = *t.accuracy;
    t.training_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }
};

std::size_t arg(int argc, char** argv, const char* name, std::size_t fallback) {
  for (int i = 1; i + 1 < argc; ++i)
    if (std::strcmp(argv[i], name) == 0) return std::strtoull(argv[i + 1], nullptr, 10);
  return fallback;
}
}  // namespace

int main(int argc, char** argv) {
  hs::mpi_environment mpi(argc, argv);
  const int rank = hs::mpi_environment::rank(), ranks = hs::mpi_environment::size();
  fixed_work local;
  local.gemms = static_cast<int>(arg(argc, argv, "--gemms", 10000));
  hwnas::thread_pool pool(1);
  if (rank != 0) {
    hs::mpi_serve(local, pool);
    return 0;
  }
  if (ranks < 2) {
    std::fprintf(stderr, "hwnas_mpi_scaling: run it under mpirun -np N with N >= 2\n");
    return 2;
  }
  const std::size_t workers = static_cast<std::size_t>(ranks - 1);
  const std::size_t trials = arg(argc, argv, "--trials", 10 * workers);
  const std::size_t in_flight = arg(argc, argv, "--in-flight", 2 * workers);
  const std::vector<int> layout(35, 4);
  auto strategy = hs::random_search{}.start(layout, 1);
  // The coordinator's busy time: the whole run minus the time collect() spends waiting for workers, measured by
  // timing every collect() that had to wait.
  struct timed {
    hs::mpi_evaluator<fixed_work>& e;
    double waiting = 0;
    void submit(std::size_t k, const hwnas::genome& g) { e.submit(k, g); }
    std::pair<std::size_t, hs::trial> collect() {
      const auto t0 = std::chrono::steady_clock::now();
      auto r = e.collect();
      waiting += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      return r;
    }
    hs::trial evaluate(const hwnas::genome& g) { return e.evaluate(g); }
    hs::trial replay(const hs::trial& t) { return e.replay(t); }
  };
  hs::mpi_evaluator<fixed_work> farm(local, 1);
  timed e{farm};
  const auto t0 = std::chrono::steady_clock::now();
  const auto r = hs::run(e, strategy, hs::budget{.trials = trials}, hs::schedule{in_flight});
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  farm.stop_workers();
  double train_seconds = 0;
  for (const auto& t : r.trials) train_seconds += t.training_seconds;
  hs::trial sample;
  sample.g.assign(layout.size(), 3);
  sample.arch = hwnas::reference_cnn();
  const nlohmann::json job = {{"ticket", 123456}, {"genome", sample.g}, {"arch", hwnas::io::to_json(sample.arch)},
                              {"slices", 1}};
  const nlohmann::json result = {{"ticket", 123456}, {"status", "trained"}, {"reason", ""}, {"reward", 0.912345678},
                                 {"training_seconds", 1.23456789}, {"accuracy", 0.912345678}};
  const nlohmann::json out = {{"workers", workers},
                              {"trials", r.trials.size()},
                              {"in_flight", in_flight},
                              {"seconds", seconds},
                              {"trials_per_hour", 3600.0 * static_cast<double>(r.trials.size()) / seconds},
                              {"mean_trial_seconds", train_seconds / static_cast<double>(r.trials.size())},
                              {"coordinator_seconds_per_trial",
                               (seconds - e.waiting) / static_cast<double>(r.trials.size())},
                              {"job_bytes", job.dump().size()},
                              {"result_bytes", result.dump().size()}};
  std::printf("%s\n", out.dump().c_str());
  return 0;
}
