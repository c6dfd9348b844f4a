#pragma once
/// @file
/// search::journal: an append-only record of a search, one JSON object per line, flushed to disk (fsync) after every
/// trial, so that a search stopped at any moment (Ctrl-C, a crash, the end of a time budget) resumes with nothing
/// lost. search::run replays it first: the strategy is asked again with the same seed and told the recorded rewards,
/// so it reaches the same state; the evaluator redoes only the mapping (milliseconds) and takes the accuracy from
/// the journal instead of training again. A last line cut short by a crash is ignored.

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#if defined(__unix__) || defined(__APPLE__)
#include <fcntl.h>
#include <unistd.h>
#endif

#include "hwnas/core/error.hpp"
#include "hwnas/search/evaluator.hpp"
#include "hwnas/space/genome.hpp"

namespace hwnas::search {

namespace detail {
inline std::optional<trial_status> parse_status(const std::string& s) {
  for (const auto st : {trial_status::trained, trial_status::ill_formed, trial_status::infeasible, trial_status::failed})
    if (s == to_string(st)) return st;
  return std::nullopt;
}
}  // namespace detail

class journal {
 public:
  /// Opens (or creates) the journal at `path` and reads the trials it holds.
  /// @throws hwnas::io_error when the file cannot be read or written, or a complete line is not a journal entry
  explicit journal(std::string path) : path_(std::move(path)) {
    std::string text;
    if (std::ifstream in{path_, std::ios::binary}) {
      text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    } else if (std::filesystem::exists(path_)) {
      throw io_error("journal " + path_ + ": cannot read it");
    }
    // A last line without its newline was cut short by a crash: that trial was not recorded (it will run again),
    // and the file is truncated back to its last complete line before anything is appended.
    const std::size_t complete = text.rfind('\n') == std::string::npos ? 0 : text.rfind('\n') + 1;
    if (complete < text.size()) {
      text.resize(complete);
      std::filesystem::resize_file(path_, complete);
    }
    std::size_t number = 0;
    for (std::size_t begin = 0; begin < text.size();) {
      const std::size_t end = text.find('\n', begin);
      const std::string line = text.substr(begin, end - begin);
      begin = end + 1;
      ++number;
      if (line.empty()) continue;
      try {
        const auto j = nlohmann::json::parse(line);
        trial e;  // what a journal keeps of a trial: enough to replay it
        e.g = j.at("genome").get<genome>();
        const auto st = detail::parse_status(j.at("status").get<std::string>());
        if (!st) throw std::runtime_error("unknown status");
        e.status = *st;
        e.reward = j.at("reward").get<double>();
        if (j.contains("accuracy") && !j.at("accuracy").is_null()) e.accuracy = j.at("accuracy").get<double>();
        e.reason = j.value("reason", std::string());
        entries_.push_back(std::move(e));
      } catch (const std::exception& ex) {
        throw io_error("journal " + path_ + ": line " + std::to_string(number) + " is not a journal entry (" +
                       ex.what() + "); pass a new journal file, or remove the line");
      }
    }
    out_.open(path_, std::ios::app);
    if (!out_) throw io_error("journal " + path_ + ": cannot open it for appending");
  }

  /// The trials recorded before this run, in order: genome, status, reward, accuracy and reason (no architecture or
  /// hardware report: replaying recomputes them).
  const std::vector<trial>& entries() const noexcept { return entries_; }
  const std::string& path() const noexcept { return path_; }

  /// Records `t`, and waits until it is on disk.
  void append(const trial& t) {
    nlohmann::json j{{"genome", t.g}, {"status", to_string(t.status)}, {"reward", t.reward}};
    j["accuracy"] = t.accuracy ? nlohmann::json(*t.accuracy) : nlohmann::json(nullptr);
    if (!t.reason.empty()) j["reason"] = t.reason;
    if (t.hardware) {
      j["luts"] = t.hardware->luts;
      j["fps"] = t.hardware->fps;
    }
    out_ << j.dump() << '\n';
    sync();
  }

 private:
  void sync() {
    out_.flush();
    if (!out_) throw io_error("journal " + path_ + ": write failed (disk full?)");
#if defined(__unix__) || defined(__APPLE__)
    if (const int fd = ::open(path_.c_str(), O_WRONLY | O_APPEND); fd >= 0) {
      ::fsync(fd);
      ::close(fd);
    }
#endif
  }

  std::string path_;
  std::vector<trial> entries_;
  std::ofstream out_;
};

}  // namespace hwnas::search
