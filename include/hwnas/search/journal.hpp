#pragma once
/// @file
/// search::journal: an append-only record of a search, one JSON object per line, flushed to disk (fsync) after every
/// trial, so that a search stopped at any moment (Ctrl-C, SIGKILL, the end of a time budget) resumes with nothing
/// lost. It is a hook of search::run: run replays the trials it holds first (the strategy is asked again with the
/// same seed and told the recorded rewards, so it reaches the same state; the evaluator redoes only the mapping,
/// milliseconds, and takes the accuracy from the record), then the journal appends every new trial.
///
/// The first line is a header: `{"hwnas_journal": 1, "settings": {...}}`, where settings pin everything that
/// determines the trials (seed, strategy, space, cost model, spec, proxy training, data; the caller says what).
/// Resuming with any difference is refused, naming the field and both values, and nothing is written. A file whose
/// first line is not such a header is not a journal and is never modified. Only a last line cut short by a crash
/// after a valid header is dropped (and reported by torn_line_dropped()).

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#if defined(__unix__) || defined(__APPLE__)
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>
#endif

#include "hwnas/core/error.hpp"
#include "hwnas/search/trial.hpp"
#include "hwnas/space/genome.hpp"

namespace hwnas::search {

namespace detail {
inline std::optional<trial_status> parse_status(const std::string& s) {
  for (const auto st : {trial_status::trained, trial_status::ill_formed, trial_status::infeasible, trial_status::failed})
    if (s == to_string(st)) return st;
  return std::nullopt;
}

/// `where` + "/" + the key as a JSON-pointer token (RFC 6901: "~" is written "~0", "/" is written "~1"), so that any
/// key, even one a damaged or hand-edited header holds, makes a pointer nlohmann can read back.
inline std::string pointer_child(const std::string& where, const std::string& key) {
  std::string token;
  for (const char c : key) token += c == '~' ? std::string("~0") : c == '/' ? std::string("~1") : std::string(1, c);
  return where + "/" + token;
}

/// The first field (a JSON pointer, "/spec/max_luts") where `a` and `b` differ, or nullopt.
inline std::optional<std::string> first_difference(const nlohmann::json& a, const nlohmann::json& b,
                                                   const std::string& where = "");

/// Every leaf path where `a` and `b` differ, in document order.
inline void all_differences(const nlohmann::json& a, const nlohmann::json& b, const std::string& where,
                            std::vector<std::string>& out) {
  if (a.is_object() && b.is_object()) {
    for (auto it = a.begin(); it != a.end(); ++it) {
      if (!b.contains(it.key()))
        out.push_back(pointer_child(where, it.key()));
      else
        all_differences(it.value(), b.at(it.key()), pointer_child(where, it.key()), out);
    }
    for (auto it = b.begin(); it != b.end(); ++it)
      if (!a.contains(it.key())) out.push_back(pointer_child(where, it.key()));
    return;
  }
  if (a != b) out.push_back(where.empty() ? std::string("/") : where);
}

inline std::optional<std::string> first_difference(const nlohmann::json& a, const nlohmann::json& b,
                                                   const std::string& where) {
  if (a.is_object() && b.is_object()) {
    for (auto it = a.begin(); it != a.end(); ++it) {
      if (!b.contains(it.key())) return pointer_child(where, it.key());
      if (auto d = first_difference(it.value(), b.at(it.key()), pointer_child(where, it.key()))) return d;
    }
    for (auto it = b.begin(); it != b.end(); ++it)
      if (!a.contains(it.key())) return pointer_child(where, it.key());
    return std::nullopt;
  }
  if (a != b) return where.empty() ? std::string("/") : where;
  return std::nullopt;
}

}  // namespace detail

namespace detail {
/// A file descriptor closed when it goes out of scope: a member of journal, so that a constructor that throws after
/// taking the lock releases it (a plain int member leaked the descriptor and kept the file locked against the next
/// attempt in the same process).
class unique_fd {
 public:
  unique_fd() = default;
  unique_fd(const unique_fd&) = delete;
  unique_fd& operator=(const unique_fd&) = delete;
  ~unique_fd() { reset(); }
  int get() const noexcept { return fd_; }
  void reset(int fd = -1) noexcept {
#if defined(__unix__) || defined(__APPLE__)
    if (fd_ >= 0) ::close(fd_);
#endif
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};
}  // namespace detail

class journal {
 public:
  /// The journal format's version (the header's "hwnas_journal").
  static constexpr int format_version = 1;

  /// Opens the journal at `path`, creating it with a header holding `settings` when it does not exist or is empty,
  /// and reads the trials it holds.
  /// @throws hwnas::invalid_argument when the file is a journal of a run with other settings (names the field and
  ///         both values; the file is not touched)
  /// @throws hwnas::io_error when the file cannot be read or written, is not an hwnas journal (not touched), or a
  ///         complete line after the header is not a journal entry
  journal(std::string path, nlohmann::json settings) : path_(std::move(path)), settings_(std::move(settings)) {
    if (std::filesystem::is_directory(path_))
      throw io_error("journal " + path_ + " is a directory, not a journal file; it was not modified");
    lock();
    std::string text;
    if (std::ifstream in{path_, std::ios::binary}) {
      text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    } else if (std::filesystem::exists(path_)) {
      throw io_error("journal " + path_ + ": cannot read it");
    }
    if (text.empty()) {
      write_header();
    } else {
      const std::size_t first_end = text.find('\n');
      check_header(first_end == std::string::npos ? text : text.substr(0, first_end), first_end != std::string::npos);
      // A last line without its newline was cut short by a crash: that trial was not recorded (it will run
      // again), and the file is truncated back to its last complete line before anything is appended -- only
      // once every complete line has been read as an entry, so that a file refused for any reason is untouched.
      const std::size_t complete = text.rfind('\n') + 1;
      read_entries(text.substr(first_end + 1, complete - (first_end + 1)));
      if (complete < text.size()) {
        torn_ = true;
        std::filesystem::resize_file(path_, complete);
      }
    }
    out_.open(path_, std::ios::app | std::ios::binary);
    if (!out_) throw io_error("journal " + path_ + ": cannot open it for appending");
  }

  /// The trials recorded before this run, in order: genome, status, reward, accuracy and reason (no architecture or
  /// hardware report: replaying recomputes them). search::run replays them (the recording-hook member).
  const std::vector<trial>& recorded() const noexcept { return entries_; }
  const std::vector<trial>& entries() const noexcept { return entries_; }
  const std::string& path() const noexcept { return path_; }
  const nlohmann::json& settings() const noexcept { return settings_; }
  /// Whether opening dropped a last line cut short by a crash.
  bool torn_line_dropped() const noexcept { return torn_; }

  /// search::run's hook: appends every trial that was not replayed.
  void on_trial(const trial& t, std::size_t index, const search_result& r) {
    if (index >= r.replayed) append(t);
  }

  /// Records `t`, and waits until it is on disk.
  /// @throws hwnas::io_error when the write fails (disk full)
  void append(const trial& t) {
    nlohmann::json j{{"genome", t.g}, {"status", to_string(t.status)}, {"reward", t.reward}};
    j["accuracy"] = t.accuracy ? nlohmann::json(*t.accuracy) : nlohmann::json(nullptr);
    if (!t.reason.empty()) j["reason"] = t.reason;
    if (t.hardware) {
      j["luts"] = t.hardware->luts;
      j["fps"] = t.hardware->fps;
    }
    j["training_seconds"] = t.training_seconds;
    j["mapping_seconds"] = t.mapping_seconds;  // read by tools/simulate-cluster, not by replay
    if (t.repeated) j["repeated"] = true;      // likewise: the evaluator finds repeats again on replay
    out_ << j.dump() << '\n';
    sync();
  }

 private:
  void write_header() {
    std::ofstream out(path_, std::ios::binary | std::ios::trunc);
    if (!out) throw io_error("journal " + path_ + ": cannot create it (is the directory writable?)");
    out << nlohmann::json{{"hwnas_journal", format_version}, {"settings", settings_}}.dump() << '\n';
    out.flush();
    if (!out) throw io_error("journal " + path_ + ": cannot write its header (disk full?)");
    out.close();
    sync_to_disk();
  }

  void check_header(const std::string& line, bool complete) {
    nlohmann::json h;
    try {
      h = nlohmann::json::parse(line);
    } catch (const std::exception&) {
    }
    if (!complete || !h.is_object() || !h.contains("hwnas_journal") || !h.contains("settings"))
      throw io_error("journal " + path_ + ": this file is not an hwnas journal (its first line is not a journal "
                     "header); it was not modified: use another journal file (hwnas-codesign: another --out)");
    if (h.at("hwnas_journal") != format_version)
      throw io_error("journal " + path_ + ": format version " + h.at("hwnas_journal").dump() + ", this build reads " +
                     std::to_string(format_version) + "; it was not modified");
    if (const auto field = detail::first_difference(h.at("settings"), settings_)) {
      const auto value = [&](const nlohmann::json& j) {
        const nlohmann::json::json_pointer p(*field == "/" ? "" : *field);
        return j.contains(p) ? j.at(p).dump() : std::string("(absent)");
      };
      const std::string hint =
          field->rfind("/data", 0) == 0
              ? " (the training or validation data differ: another data directory, or another validation split)"
              : "";
      std::vector<std::string> fields;
      detail::all_differences(h.at("settings"), settings_, "", fields);
      std::string others;
      for (std::size_t i = 1; i < fields.size(); ++i) {
        const nlohmann::json::json_pointer p(fields[i] == "/" ? "" : fields[i]);
        const nlohmann::json& was = h.at("settings");
        others += (i == 1 ? "; also " : ", ") + fields[i].substr(1) + " = " +
                  (was.contains(p) ? was.at(p).dump() : std::string("(absent)")) + " (this run: " +
                  (settings_.contains(p) ? settings_.at(p).dump() : std::string("(absent)")) + ")";
      }
      throw invalid_argument("journal " + path_ + " was written with " + field->substr(1) + " = " +
                             value(h.at("settings")) + ", this run has " + value(settings_) + hint + others +
                             ": resume with the same settings (repeat the original command's options and add "
                             "--resume), or use another journal file (hwnas-codesign: another --out); it was not "
                             "modified");
    }
  }

  void read_entries(const std::string& text) {
    std::size_t number = 1;  // the header is line 1
    for (std::size_t begin = 0; begin < text.size();) {
      const std::size_t end = text.find('\n', begin);
      const std::string line = text.substr(begin, end - begin);
      begin = end + 1;
      ++number;
      if (line.empty()) continue;
      try {
        const auto j = nlohmann::json::parse(line);
        trial e;  // what a journal keeps of a trial: enough to replay it
        // genes are whole numbers that fit an int (a float such as 1e30 would convert with undefined behaviour)
        const auto& genes = j.at("genome");
        if (!genes.is_array()) throw std::runtime_error("the genome is not an array");
        for (const auto& v : genes) {
          if (!v.is_number_integer() || v.get<std::int64_t>() < std::numeric_limits<int>::min() ||
              (v.is_number_unsigned() ? v.get<std::uint64_t>() > std::numeric_limits<int>::max()
                                      : v.get<std::int64_t>() > std::numeric_limits<int>::max()))
            throw std::runtime_error("gene " + v.dump() + " is not a whole number in the range of int");
          e.g.push_back(v.get<int>());
        }
        const auto st = detail::parse_status(j.at("status").get<std::string>());
        if (!st) throw std::runtime_error("unknown status");
        e.status = *st;
        e.reward = j.at("reward").get<double>();
        if (j.contains("accuracy") && !j.at("accuracy").is_null()) {
          e.accuracy = j.at("accuracy").get<double>();
          if (!(*e.accuracy >= 0.0 && *e.accuracy <= 1.0))
            throw std::runtime_error("accuracy " + j.at("accuracy").dump() + " is not a fraction in 0..1");
        }
        e.reason = j.value("reason", std::string());
        e.training_seconds = j.value("training_seconds", 0.0);
        if (!(e.training_seconds >= 0.0)) throw std::runtime_error("training_seconds is negative");
        entries_.push_back(std::move(e));
      } catch (const std::exception& ex) {
        // the parser quotes what it read: keep a terminal safe from binary garbage, and the message short
        std::string why;
        for (const char c : std::string(ex.what()).substr(0, 200))
          why += (static_cast<unsigned char>(c) >= 32 && static_cast<unsigned char>(c) < 127) ? c : '?';
        throw io_error("journal " + path_ + ": line " + std::to_string(number) + " is not a journal entry (" + why +
                       "); remove the line, or use another journal file");
      }
    }
  }

  /// One run per journal: an exclusive advisory lock (flock) held while the journal is open, so that a second run
  /// into the same file is refused instead of interleaving its trials.
  void lock() {
#if defined(__unix__) || defined(__APPLE__)
    lock_fd_.reset(::open(path_.c_str(), O_RDWR | O_CREAT, 0644));
    if (lock_fd_.get() < 0) throw io_error("journal " + path_ + ": cannot open it (is the directory writable?)");
    if (::flock(lock_fd_.get(), LOCK_EX | LOCK_NB) != 0) {
      lock_fd_.reset();
      throw io_error("journal " + path_ + " is in use by another run; wait for it to finish, or use another "
                     "journal file (hwnas-codesign: another --out)");
    }
#endif
  }

  void sync() {
    out_.flush();
    if (!out_) throw io_error("journal " + path_ + ": write failed (disk full?)");
    sync_to_disk();
  }

  /// fsync through the descriptor the lock holds open (one open file for the journal's life, not one per append).
  void sync_to_disk() const {
#if defined(__unix__) || defined(__APPLE__)
    if (lock_fd_.get() >= 0) ::fsync(lock_fd_.get());
#endif
  }

  std::string path_;
  nlohmann::json settings_;
  std::vector<trial> entries_;
  std::ofstream out_;
  bool torn_ = false;
  detail::unique_fd lock_fd_;  // holds the lock while the journal is open; closing it releases the lock

 public:
  journal(const journal&) = delete;
  journal& operator=(const journal&) = delete;
};

}  // namespace hwnas::search
