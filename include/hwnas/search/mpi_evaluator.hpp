#pragma once
/// @file
/// Trials on MPI ranks (Open MPI): the only header of hwnas that needs MPI; link `hwnas::mpi` (CMake defines it when
/// it finds MPI). docs/scale.md.
///
/// Rank 0 (the coordinator) runs the strategy, the journal and stage 1 of every trial (decode, validate, map: ms);
/// the other ranks (workers) run stage 2, the proxy training, one trial at a time each:
///
/// ```cpp
/// hwnas::search::mpi_environment mpi(argc, argv);
/// hwnas::search::mpi_farm farm;                       // MPI_COMM_WORLD, rank 0 coordinates
/// auto report = pipeline.run(data, spec, budget, farm, hwnas::search::progress_bar{});
/// if (!farm.coordinator()) return 0;                  // a worker's report is empty
/// ```
///
/// - The same pipeline type runs unchanged: mpi_farm is a hook of pipeline::run, which hands its evaluator to the
///   farm (mpi_evaluator on rank 0, mpi_serve on the others).
/// - The trials are those of a run on one machine with the same seed and window (codesign_settings::in_flight):
///   the window fixes the order of asks and tells, and every worker trains with the coordinator's slices.
/// - A worker that dies loses no trial: a worker under way says it lives every `heartbeat`; one silent for
///   `worker_timeout` is written off and its trial goes to another worker (the journal, written on rank 0 in ask
///   order, stays exact). Open MPI ends the whole job when a rank dies unless mpirun is given `--enable-recovery`;
///   without it, resume the run from its journal.
/// - Messages are JSON text (a trial's genome and architecture out, its status, accuracy, reason and time back): a
///   few kilobytes per trial against seconds of training.
///
/// The coordinator polls with MPI_Iprobe and sleeps 1 ms between polls, and so does an idle worker: waiting ranks
/// leave the cores to the ranks that train (a blocking MPI_Recv spins in Open MPI).

#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <deque>
#include <future>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "hwnas/core/error.hpp"
#include "hwnas/core/parallel.hpp"
#include "hwnas/io/architecture_json.hpp"
#include "hwnas/search/concepts.hpp"
#include "hwnas/search/trial.hpp"

namespace hwnas::search {

/// How the coordinator and the workers talk.
struct mpi_options {
  std::chrono::milliseconds heartbeat{1000};        ///< a training worker says it lives this often
  std::chrono::milliseconds worker_timeout{30000};  ///< a worker silent this long is written off (> heartbeat)
  int coordinator = 0;                              ///< the rank that runs the strategy
};

namespace detail::mpi {
enum tag : int { job = 101, result = 102, alive = 103, stop = 104, finalize = 105, finalized = 106 };
}  // namespace detail::mpi

/// MPI for the length of a scope: MPI_Init_thread (MPI_THREAD_FUNNELED: only the thread that made it calls MPI;
/// training threads never do) and MPI_Finalize. Does nothing when MPI is initialized already.
///
/// MPI_Finalize waits for every rank, and Open MPI's waiting spins: workers done with the search would burn a core
/// each while the coordinator retrains. So before MPI_Finalize, the coordinator tells every other rank it is
/// finishing, and the others wait for that word polling every 5 ms.
///
/// Under `mpirun --enable-recovery` (Open MPI sets OMPI_MCA_orte_enable_recovery=1) a rank may have died, and Open
/// MPI 4.1's MPI_Finalize then waits in its closing PMIx fence for the dead rank, for good, now and then (measured:
/// 2 hangs in 7 runs of the dying-worker test with both cores busy). There, unless the user set it,
/// OMPI_MCA_async_mpi_finalize=1 is set before MPI_Init (no fence), and the handshake takes the fence's place for the
/// ranks alive: each worker answers the coordinator's word, and the coordinator waits for the answers at most
/// `recovery_wait` (a dead rank never answers) before MPI_Finalize.
/// @throws hwnas::error when MPI cannot give MPI_THREAD_FUNNELED
class mpi_environment {
 public:
  mpi_environment(int& argc, char**& argv, int coordinator = 0) : coordinator_(coordinator) {
    int done = 0;
    MPI_Initialized(&done);
    if (done) return;
    const char* recovery = std::getenv("OMPI_MCA_orte_enable_recovery");
    recovery_ = recovery != nullptr && std::string_view(recovery) == "1";
    if (recovery_) ::setenv("OMPI_MCA_async_mpi_finalize", "1", 0);  // 0: a value the user set stays
    int provided = 0;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
    owner_ = true;
    if (provided < MPI_THREAD_FUNNELED) {
      MPI_Finalize();
      owner_ = false;
      throw error("hwnas::search::mpi_environment: this MPI library does not support MPI_THREAD_FUNNELED");
    }
  }
  mpi_environment(const mpi_environment&) = delete;
  mpi_environment& operator=(const mpi_environment&) = delete;
  ~mpi_environment() {
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (!owner_ || finalized) return;
    const int me = rank(), n = size();
    if (me == coordinator_) {
      for (int r = 0; r < n; ++r)
        if (r != me) MPI_Send(nullptr, 0, MPI_CHAR, r, detail::mpi::finalize, MPI_COMM_WORLD);
      if (recovery_) await_answers(n - 1);
    } else if (coordinator_ >= 0 && coordinator_ < n) {
      for (;;) {
        int flag = 0;
        MPI_Status st;
        MPI_Iprobe(coordinator_, detail::mpi::finalize, MPI_COMM_WORLD, &flag, &st);
        if (flag) {
          MPI_Recv(nullptr, 0, MPI_CHAR, coordinator_, detail::mpi::finalize, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
          break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
      if (recovery_) MPI_Send(nullptr, 0, MPI_CHAR, coordinator_, detail::mpi::finalized, MPI_COMM_WORLD);
    }
    MPI_Finalize();
  }
  /// How long the coordinator waits for the workers' answers under `--enable-recovery` (a dead rank never answers).
  static constexpr std::chrono::seconds recovery_wait{10};
  static int rank(MPI_Comm comm = MPI_COMM_WORLD) {
    int r = 0;
    MPI_Comm_rank(comm, &r);
    return r;
  }
  static int size(MPI_Comm comm = MPI_COMM_WORLD) {
    int n = 1;
    MPI_Comm_size(comm, &n);
    return n;
  }

 private:
  /// The coordinator's wait for `workers` answers to its finalize word, polled every 5 ms, `recovery_wait` at most.
  static void await_answers(int workers) {
    const auto deadline = std::chrono::steady_clock::now() + recovery_wait;
    while (workers > 0 && std::chrono::steady_clock::now() < deadline) {
      int flag = 0;
      MPI_Status st;
      MPI_Iprobe(MPI_ANY_SOURCE, detail::mpi::finalized, MPI_COMM_WORLD, &flag, &st);
      if (!flag) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
        continue;
      }
      MPI_Recv(nullptr, 0, MPI_CHAR, st.MPI_SOURCE, detail::mpi::finalized, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
      --workers;
    }
  }

  int coordinator_ = 0;
  bool owner_ = false;
  bool recovery_ = false;  ///< under mpirun --enable-recovery: no fence in MPI_Finalize, the handshake answered
};

namespace detail::mpi {

inline void send(MPI_Comm comm, int dest, int t, const nlohmann::json& j) {
  const std::string text = j.dump();
  if (text.size() > static_cast<std::size_t>(INT32_MAX))
    throw invalid_argument("hwnas::search::mpi: a message of " + std::to_string(text.size()) + " bytes is too long");
  MPI_Send(text.data(), static_cast<int>(text.size()), MPI_CHAR, dest, t, comm);
}

/// Sends without waiting: a send to a rank that died can block for good (measured under mpirun --enable-recovery:
/// Open MPI keeps trying to connect), and the coordinator must go on polling the others. The message and its
/// request are kept until the send completes (reap) or the rank is written off (abandon).
class pending_sends {
 public:
  void post(MPI_Comm comm, int dest, int t, const nlohmann::json& j) {
    auto text = std::make_unique<std::string>(j.dump());
    if (text->size() > static_cast<std::size_t>(INT32_MAX))
      throw invalid_argument("hwnas::search::mpi: a message of " + std::to_string(text->size()) + " bytes is too long");
    MPI_Request r;
    MPI_Isend(text->data(), static_cast<int>(text->size()), MPI_CHAR, dest, t, comm, &r);
    sends_.push_back({dest, r, std::move(text)});
  }
  bool empty() const noexcept { return sends_.empty(); }
  /// Drops the completed sends.
  void reap() {
    for (auto it = sends_.begin(); it != sends_.end();) {
      int done = 0;
      MPI_Test(&it->request, &done, MPI_STATUS_IGNORE);
      it = done ? sends_.erase(it) : it + 1;
    }
  }
  /// Gives up on the sends to `dest` (written off): the requests are freed, their buffers kept to the end, since
  /// MPI may still read them.
  void abandon(int dest) {
    for (auto it = sends_.begin(); it != sends_.end();) {
      if (it->dest != dest) {
        ++it;
        continue;
      }
      MPI_Request_free(&it->request);
      kept_.push_back(std::move(it->text));
      it = sends_.erase(it);
    }
  }

 private:
  struct send_t {
    int dest;
    MPI_Request request;
    std::unique_ptr<std::string> text;
  };
  std::vector<send_t> sends_;
  std::vector<std::unique_ptr<std::string>> kept_;
};

/// Receives the message `st` announced (MPI_Iprobe) and parses it.
/// @throws hwnas::io_error when it is not JSON
inline nlohmann::json receive(MPI_Comm comm, const MPI_Status& st) {
  int n = 0;
  MPI_Get_count(&st, MPI_CHAR, &n);
  std::string text(static_cast<std::size_t>(std::max(n, 0)), '\0');
  MPI_Status got;
  MPI_Recv(text.data(), n, MPI_CHAR, st.MPI_SOURCE, st.MPI_TAG, comm, &got);
  if (st.MPI_TAG == stop) return nullptr;
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    throw io_error("hwnas::search::mpi: rank " + std::to_string(st.MPI_SOURCE) + " sent a message that is not " +
                   "JSON (" + e.what() + ")");
  }
}

inline trial_status parse_status(const std::string& s) {
  for (const auto st : {trial_status::trained, trial_status::ill_formed, trial_status::infeasible,
                        trial_status::failed})
    if (s == to_string(st)) return st;
  throw io_error("hwnas::search::mpi: a worker sent the unknown trial status '" + s + "'");
}
}  // namespace detail::mpi

/// The coordinator's evaluator: stage 1 and the repeats by `Local` (a search::two_stage_evaluator: prepare,
/// finish, take_ready, replay), stage 2 on the workers. Models search::ConcurrentEvaluator. Its destructor tells
/// the workers to stop.
template <class Local>
class mpi_evaluator {
 public:
  /// @param local the coordinator's own two-stage evaluator, set up like the workers' (same data, proxy, model)
  /// @param slices the slices every worker trains with (the coordinator's, so the trials equal a local run's)
  /// @throws hwnas::invalid_argument when the communicator has no worker, or the timeout is not above the heartbeat
  mpi_evaluator(Local& local, std::size_t slices, MPI_Comm comm = MPI_COMM_WORLD, mpi_options o = {})
      : local_(local), slices_(slices), comm_(comm), options_(o) {
    if (options_.worker_timeout <= options_.heartbeat)
      throw invalid_argument("hwnas::search::mpi_evaluator: worker_timeout must be longer than the heartbeat");
    const int n = mpi_environment::size(comm_);
    for (int r = 0; r < n; ++r)
      if (r != options_.coordinator) workers_.emplace(r, worker{});
    if (workers_.empty())
      throw invalid_argument("hwnas::search::mpi_evaluator: no worker rank; run under mpirun -np N with N >= 2");
  }
  mpi_evaluator(const mpi_evaluator&) = delete;
  mpi_evaluator& operator=(const mpi_evaluator&) = delete;
  ~mpi_evaluator() { stop_workers(); }

  /// Starts trial `ticket`: stage 1 here; stage 2 goes to the first idle worker, in submit order.
  /// @throws hwnas::invalid_argument as Local::prepare
  void submit(std::size_t ticket, const genome& g) {
    if (auto t = local_.prepare(ticket, g)) queue_.emplace_back(ticket, std::move(*t));
    dispatch();
  }

  /// The next trial to finish (stage 1 decided it, or a worker trained it), with its ticket. Blocks.
  /// @throws hwnas::invalid_argument when nothing is under way
  /// @throws hwnas::io_error when every worker has died (the journal holds every trial told: resume from it), or a
  ///         worker sent a message that is not ours
  /// @throws hwnas::error with a worker's message when its training threw something other than a training_error
  std::pair<std::size_t, trial> collect() {
    for (;;) {
      if (auto r = local_.take_ready()) return std::move(*r);
      dispatch();
      if (queue_.empty() && busy() == 0)
        throw invalid_argument("hwnas::search::mpi_evaluator::collect: no trial is under way");
      poll();
    }
  }

  /// One trial, start to end (do not mix with submit/collect).
  trial evaluate(const genome& g) {
    const std::size_t ticket = next_private_ticket_++;
    submit(ticket, g);
    auto [k, t] = collect();
    if (k != ticket) throw invalid_argument("hwnas::search::mpi_evaluator::evaluate: mixed with submit/collect");
    return t;
  }
  /// A journaled trial, on the coordinator (nothing is trained).
  trial replay(const trial& recorded) { return local_.replay(recorded); }

  /// Workers written off so far (silent longer than the timeout).
  std::size_t lost_workers() const noexcept { return lost_; }
  /// Trials handed to another worker after theirs was written off.
  std::size_t requeued() const noexcept { return requeued_; }

  /// Tells every worker to stop (mpi_serve returns). Called by the destructor; idempotent.
  void stop_workers() {
    if (stopped_) return;
    stopped_ = true;
    for (auto& [rank, w] : workers_)
      if (!w.lost) sends_.post(comm_, rank, detail::mpi::stop, nlohmann::json());
    // wait for the stops to leave, but not for a rank that died since (5 s at most)
    const auto deadline = clock::now() + std::chrono::seconds(5);
    for (;;) {
      sends_.reap();
      if (sends_.empty() || clock::now() > deadline) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }

 private:
  using clock = std::chrono::steady_clock;
  struct worker {
    std::optional<std::pair<std::size_t, trial>> job;  ///< the trial it trains
    clock::time_point heard{};
    bool lost = false;
  };

  std::size_t busy() const {
    std::size_t n = 0;
    for (const auto& [rank, w] : workers_) n += w.job.has_value();
    return n;
  }

  void dispatch() {
    for (auto& [rank, w] : workers_) {
      if (queue_.empty()) return;
      if (w.lost || w.job) continue;
      auto job = std::move(queue_.front());
      queue_.pop_front();
      nlohmann::json j = {{"ticket", job.first},
                          {"genome", job.second.g},
                          {"arch", io::to_json(job.second.arch)},
                          {"slices", slices_}};
      sends_.post(comm_, rank, detail::mpi::job, j);
      w.heard = clock::now();
      w.job = std::move(job);
    }
  }

  /// Reads every message waiting; writes off silent workers; sleeps 1 ms when there was none.
  void poll() {
    bool any = false;
    for (;;) {
      int flag = 0;
      MPI_Status st;
      MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, comm_, &flag, &st);
      if (!flag) break;
      any = true;
      const nlohmann::json j = detail::mpi::receive(comm_, st);
      const auto it = workers_.find(st.MPI_SOURCE);
      if (it == workers_.end()) continue;
      worker& w = it->second;
      w.heard = clock::now();
      if (st.MPI_TAG != detail::mpi::result) continue;  // alive
      on_result(w, st.MPI_SOURCE, j);
    }
    sends_.reap();
    const auto now = clock::now();
    for (auto& [rank, w] : workers_) {
      if (w.lost || !w.job || now - w.heard < options_.worker_timeout) continue;
      sends_.abandon(rank);
      w.lost = true;
      ++lost_;
      ++requeued_;
      queue_.push_front(std::move(*w.job));  // first in line: the window waits for it
      w.job.reset();
    }
    if (std::all_of(workers_.begin(), workers_.end(), [](const auto& e) { return e.second.lost; }))
      throw io_error("hwnas::search::mpi_evaluator: every MPI worker has died; the journal holds every trial told "
                     "(resume the run from it)");
    if (!any) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }

  void on_result(worker& w, int rank, const nlohmann::json& j) {
    std::size_t ticket = 0;
    try {
      ticket = j.at("ticket").get<std::size_t>();
    } catch (const nlohmann::json::exception&) {
      throw io_error("hwnas::search::mpi_evaluator: rank " + std::to_string(rank) + " sent a result without a ticket");
    }
    if (j.contains("error"))
      throw error("hwnas::search::mpi_evaluator: the training of trial " + std::to_string(ticket) + " on rank " +
                  std::to_string(rank) + " failed: " + j["error"].get<std::string>());
    // A written-off worker that answers after all: its trial is under way elsewhere or done; the first answer wins.
    std::optional<std::pair<std::size_t, trial>> job;
    if (w.job && w.job->first == ticket) {
      job = std::move(w.job);
      w.job.reset();
    } else {
      const auto q = std::find_if(queue_.begin(), queue_.end(), [&](const auto& e) { return e.first == ticket; });
      if (q == queue_.end()) return;  // answered by another worker already
      job = std::move(*q);
      queue_.erase(q);
    }
    if (w.lost) w.lost = false;  // it was only slow
    for (auto& [r, other] : workers_)  // a copy of it under way elsewhere is no longer needed; let it finish unread
      if (other.job && other.job->first == ticket) other.job.reset();
    trial t = std::move(job->second);
    try {
      t.status = detail::mpi::parse_status(j.at("status").get<std::string>());
      t.reason = j.at("reason").get<std::string>();
      if (j.contains("accuracy") && !j["accuracy"].is_null()) t.accuracy = j["accuracy"].get<double>();
      t.reward = j.at("reward").get<double>();
      t.training_seconds = j.at("training_seconds").get<double>();
    } catch (const nlohmann::json::exception& e) {
      throw io_error("hwnas::search::mpi_evaluator: rank " + std::to_string(rank) + " sent a malformed result (" +
                     e.what() + ")");
    }
    local_.finish(ticket, std::move(t));
  }

  Local& local_;
  std::size_t slices_;
  MPI_Comm comm_;
  mpi_options options_;
  std::map<int, worker> workers_;
  std::deque<std::pair<std::size_t, trial>> queue_;
  std::size_t lost_ = 0, requeued_ = 0;
  std::size_t next_private_ticket_ = std::size_t(1) << 62;
  bool stopped_ = false;
  detail::mpi::pending_sends sends_;
};

/// A worker's loop: receives trials from the coordinator, trains each with `local.train(t, pool, slices)`, and sends
/// it back, saying it lives every `heartbeat` while it trains. Returns when the coordinator says stop.
/// @throws hwnas::io_error when the coordinator sends a message that is not ours
template <class Local>
void mpi_serve(const Local& local, thread_pool& pool, MPI_Comm comm = MPI_COMM_WORLD, mpi_options o = {}) {
  for (;;) {
    int flag = 0;
    MPI_Status st;
    MPI_Iprobe(o.coordinator, MPI_ANY_TAG, comm, &flag, &st);
    if (!flag) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
      continue;
    }
    const nlohmann::json j = detail::mpi::receive(comm, st);
    if (st.MPI_TAG == detail::mpi::stop) return;
    if (st.MPI_TAG != detail::mpi::job) continue;
    trial t;
    std::size_t ticket = 0, slices = 0;
    try {
      ticket = j.at("ticket").get<std::size_t>();
      slices = j.at("slices").get<std::size_t>();
      t.g = j.at("genome").get<genome>();
      t.arch = io::architecture_from_json(j.at("arch"));
    } catch (const std::exception& e) {
      throw io_error(std::string("hwnas::search::mpi_serve: the coordinator sent a job that is not ours (") +
                     e.what() + ")");
    }
    // Training on a thread of its own, so that this thread (the one that calls MPI) can say it lives.
    std::string failure;
    auto done = std::async(std::launch::async, [&] {
      try {
        local.train(t, pool, slices);
      } catch (const std::exception& e) {
        failure = e.what();
      } catch (...) {
        failure = "unknown exception";
      }
    });
    while (done.wait_for(o.heartbeat) != std::future_status::ready)
      detail::mpi::send(comm, o.coordinator, detail::mpi::alive, {{"ticket", ticket}});
    done.get();
    nlohmann::json r = {{"ticket", ticket},
                        {"status", to_string(t.status)},
                        {"reason", t.reason},
                        {"reward", t.reward},
                        {"training_seconds", t.training_seconds}};
    r["accuracy"] = t.accuracy ? nlohmann::json(*t.accuracy) : nlohmann::json(nullptr);
    if (!failure.empty()) r["error"] = failure;
    detail::mpi::send(comm, o.coordinator, detail::mpi::result, r);
  }
}

/// The pipeline hook that runs a pipeline's trials on MPI ranks (hwnas::pipeline::run takes it among its hooks):
/// on the coordinator it wraps the pipeline's evaluator in an mpi_evaluator; on every other rank the pipeline
/// serves trials with mpi_serve and returns an empty report once the search is over.
class mpi_farm {
 public:
  explicit mpi_farm(MPI_Comm comm = MPI_COMM_WORLD, mpi_options o = {}) : comm_(comm), options_(o) {}
  /// Whether this rank runs the strategy.
  bool coordinator() const { return mpi_environment::rank(comm_) == options_.coordinator; }
  /// Ranks in all, the coordinator included.
  int ranks() const { return mpi_environment::size(comm_); }
  /// The coordinator's evaluator around `local`.
  template <class Local>
  mpi_evaluator<Local> evaluator(Local& local) const {
    return mpi_evaluator<Local>(local, local.slices(), comm_, options_);
  }
  /// A worker's loop with `local`'s stage 2.
  template <class Local>
  void serve(const Local& local, thread_pool& pool) const {
    mpi_serve(local, pool, comm_, options_);
  }

 private:
  MPI_Comm comm_;
  mpi_options options_;
};

}  // namespace hwnas::search
