// search/mpi_evaluator.hpp under mpirun: a search whose trials train on worker ranks gives the same trials as the
// same search on one process (same seed, same window), and a worker that dies (SIGKILL) loses no trial.
//
//   mpirun -np 3 --oversubscribe hwnas_mpi_search [--kill-rank R]   (exit 0: equal; 1: they differ)
//
// With --kill-rank R, worker R kills itself when its second trial arrives; run it with mpirun --enable-recovery so
// that Open MPI lets the job go on. The coordinator writes R off after its timeout and gives the trial to another
// worker; the program checks that this happened and that the trials still equal the single-process run.

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>

#include "hwnas/core/parallel.hpp"
#include "hwnas/fpga/pipelined_pe.hpp"
#include "hwnas/quant/fixed_point.hpp"
#include "hwnas/search/evaluator.hpp"
#include "hwnas/search/mpi_evaluator.hpp"
#include "hwnas/search/run.hpp"
#include "hwnas/search/strategies.hpp"
#include "hwnas/space/layerwise.hpp"
#include "hwnas/space/quantized.hpp"
#include "../common/bars.hpp"
#include "../common/search_fixture.hpp"

namespace sp = hwnas::space;
namespace qn = hwnas::quant;
namespace hs = hwnas::search;

namespace {
using hwnas::test::search_fixture::codesign;
using hwnas::test::search_fixture::evaluator;
using hwnas::test::search_fixture::tight;

hs::proxy_config quick() {
  auto p = hwnas::test::search_fixture::quick();
  p.train.slices = 2;  // the trials must not depend on the workers' threads
  return p;
}

/// A worker's stage 2 that kills its process when its second trial arrives (the test of a dying worker).
struct dying {
  const evaluator& e;
  mutable int trials = 0;
  void train(hs::trial& t, hwnas::thread_pool& pool, std::size_t slices) const {
    if (++trials == 2) std::raise(SIGKILL);
    e.train(t, pool, slices);
  }
};
}  // namespace

int run(int argc, char** argv);

int main(int argc, char** argv) {
  hs::mpi_environment mpi(argc, argv);
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    // An error on one rank leaves the others waiting: end them all, so that the test fails instead of hanging.
    std::fprintf(stderr, "hwnas_mpi_search: rank %d: %s\n", hs::mpi_environment::rank(), e.what());
    MPI_Abort(MPI_COMM_WORLD, 1);
  }
  return 1;
}

int run(int argc, char** argv) {
  const int rank = hs::mpi_environment::rank(), ranks = hs::mpi_environment::size();
  int kill_rank = -1;
  for (int i = 1; i + 1 < argc; ++i)
    if (std::strcmp(argv[i], "--kill-rank") == 0) kill_rank = std::atoi(argv[i + 1]);
  const auto train = hwnas::test::bars(256, 1), validation = hwnas::test::bars(64, 2);
  hwnas::thread_pool pool(1);
  evaluator local(hwnas::fpga::pipelined_pe<>(), tight, train, validation, quick(), pool);
  hs::mpi_options options;
  options.heartbeat = std::chrono::milliseconds(100);
  options.worker_timeout = std::chrono::milliseconds(kill_rank >= 0 ? 5000 : 60000);  // 50 heartbeats
  const hs::budget b{.trials = 16};
  const hs::schedule window{3};
  const auto strategy = hs::regularized_evolution{.population = 4, .sample = 2};

  if (rank != 0) {
    if (rank == kill_rank) hs::mpi_serve(dying{local}, pool, MPI_COMM_WORLD, options);
    else hs::mpi_serve(local, pool, MPI_COMM_WORLD, options);
    return 0;
  }
  if (ranks < 2) {
    std::fprintf(stderr, "hwnas_mpi_search: run it under mpirun -np N with N >= 2\n");
    return 2;
  }
  hs::search_result farmed;
  std::size_t lost = 0, requeued = 0;
  {
    hs::mpi_evaluator<evaluator> remote(local, local.slices(), MPI_COMM_WORLD, options);
    auto s = strategy.start(codesign::layout, 5);
    farmed = hs::run(remote, s, b, window);
    lost = remote.lost_workers();
    requeued = remote.requeued();
  }  // the workers are told to stop

  evaluator alone(hwnas::fpga::pipelined_pe<>(), tight, train, validation, quick(), pool);
  auto s = strategy.start(codesign::layout, 5);
  const auto reference = hs::run(alone, s, b, window);

  int wrong = 0;
  if (farmed.trials.size() != reference.trials.size()) ++wrong;
  for (std::size_t i = 0; i < std::min(farmed.trials.size(), reference.trials.size()); ++i) {
    const auto &f = farmed.trials[i], &r = reference.trials[i];
    if (f.g != r.g || f.status != r.status || f.accuracy != r.accuracy || f.reward != r.reward ||
        f.repeated != r.repeated) {
      std::fprintf(stderr, "trial %zu differs: %s %.17g vs %s %.17g\n", i + 1, hs::to_string(f.status),
                   f.accuracy.value_or(-1), hs::to_string(r.status), r.accuracy.value_or(-1));
      ++wrong;
    }
  }
  if (farmed.best != reference.best) ++wrong;
  std::size_t trained = 0;
  for (const auto& t : farmed.trials) trained += t.status == hs::trial_status::trained && !t.repeated;
  if (trained < 3) {
    std::fprintf(stderr, "only %zu trials were trained: the test would prove little\n", trained);
    ++wrong;
  }
  if (kill_rank >= 0 && (lost != 1 || requeued != 1)) {
    std::fprintf(stderr, "rank %d was killed, yet %zu workers were written off and %zu trials handed on\n", kill_rank,
                 lost, requeued);
    ++wrong;
  }
  std::printf("%s: %zu trials on %d worker ranks (%zu trained), %zu workers lost, %zu trials handed on; %s\n",
              wrong ? "FAILED" : "mpi ok", farmed.trials.size(), ranks - 1, trained, lost, requeued,
              wrong ? "they differ from the single-process run" : "equal to the single-process run, bit for bit");
  return wrong ? 1 : 0;
}
