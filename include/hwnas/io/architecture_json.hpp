#pragma once
/// @file
/// The architecture as JSON: the format every hwnas CLI reads and writes (docs/architecture-json.md).
///
/// ```json
/// { "input": {"channels": 1, "height": 28, "width": 28, "format": "u0.8"},
///   "classes": 10,
///   "layers": [ {"type": "conv", "filters": 16, "kernel": 3, "stride": 1, "pool": 2,
///                "weights": "s0.3", "activations": "u1.3"} ],
///   "classifier": {"weights": "s0.3"} }
/// ```
/// Formats are written "s<I>.<F>" (signed) or "u<I>.<F>" (unsigned); a missing format means float. Unknown keys are
/// rejected (a typo must not silently become a default).

#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "hwnas/core/architecture.hpp"
#include "hwnas/core/error.hpp"
#include "hwnas/core/qformat.hpp"

namespace hwnas::io {

/// Parses "s1.2" / "u0.4". Throws hwnas::invalid_argument with the offending text.
inline qformat parse_qformat(const std::string& text) {
  auto bad = [&] {
    return invalid_argument("fixed-point format \"" + text +
                            "\": expected s<int_bits>.<frac_bits> (signed) or u<int_bits>.<frac_bits> (unsigned), "
                            "e.g. s0.3 or u1.3");
  };
  if (text.size() < 4 || (text[0] != 's' && text[0] != 'u')) throw bad();
  const auto dot = text.find('.');
  if (dot == std::string::npos || dot == 1 || dot + 1 == text.size()) throw bad();
  auto number = [&](std::size_t from, std::size_t to) {
    if (to - from > 2) throw bad();
    int v = 0;
    for (std::size_t i = from; i < to; ++i) {
      if (text[i] < '0' || text[i] > '9') throw bad();
      v = v * 10 + (text[i] - '0');
    }
    return v;
  };
  const qformat f{number(1, dot), number(dot + 1, text.size()), text[0] == 's'};
  check(f, "fixed-point format \"" + text + "\"");
  return f;
}

namespace detail {
using json = nlohmann::json;

inline void only_keys(const json& j, const std::string& where, std::initializer_list<const char*> keys,
                      const std::string& what = "architecture JSON: ") {
  if (!j.is_object()) throw invalid_argument(what + where + " must be an object");
  for (const auto& [k, v] : j.items()) {
    bool known = false;
    for (const char* key : keys) known = known || k == key;
    if (!known) {
      std::string list;
      for (const char* key : keys) list += std::string(list.empty() ? "" : ", ") + key;
      throw invalid_argument(what + where + ": unknown key \"" + k + "\" (known: " + list + ")");
    }
  }
}
inline int get_int(const json& j, const char* key, int fallback, const std::string& where) {
  if (!j.contains(key)) return fallback;
  const auto& v = j.at(key);
  if (!v.is_number_integer())
    throw invalid_argument("architecture JSON: " + where + ": \"" + key + "\" must be an integer");
  const auto x = v.get<long long>();
  if (x < -1000000 || x > 1000000)
    throw invalid_argument("architecture JSON: " + where + ": \"" + key + "\" is out of range");
  return static_cast<int>(x);
}
inline std::optional<qformat> get_format(const json& j, const char* key, const std::string& where) {
  if (!j.contains(key) || j.at(key).is_null()) return std::nullopt;
  if (!j.at(key).is_string())
    throw invalid_argument("architecture JSON: " + where + ": \"" + key + "\" must be a string like \"s0.3\"");
  try {
    return parse_qformat(j.at(key).get<std::string>());
  } catch (const invalid_argument& e) {
    throw invalid_argument("architecture JSON: " + where + ": " + e.what());
  }
}
inline json format_json(const std::optional<qformat>& f) { return f ? json(to_string(*f)) : json(nullptr); }
}  // namespace detail

/// The JSON value of an architecture (float layers have null formats).
inline nlohmann::json to_json(const architecture& a) {
  using detail::json;
  json layers = json::array();
  for (const auto& l : a.layers)
    layers.push_back({{"type", "conv"},
                      {"filters", l.filters},
                      {"kernel", l.kernel},
                      {"stride", l.stride},
                      {"pool", l.pool},
                      {"weights", detail::format_json(l.weight_format)},
                      {"activations", detail::format_json(l.activation_format)}});
  return json{{"input",
               {{"channels", a.input.channels},
                {"height", a.input.height},
                {"width", a.input.width},
                {"format", detail::format_json(a.input_format)}}},
              {"classes", a.classes},
              {"layers", layers},
              {"classifier", {{"weights", detail::format_json(a.classifier.weight_format)}}}};
}

/// Reads an architecture from JSON and validates it. Throws hwnas::invalid_argument naming the key at fault.
inline architecture architecture_from_json(const nlohmann::json& j) {
  using detail::get_format;
  using detail::get_int;
  detail::only_keys(j, "top level", {"input", "classes", "layers", "classifier"});
  architecture a;
  if (j.contains("input")) {
    const auto& in = j.at("input");
    detail::only_keys(in, "input", {"channels", "height", "width", "format"});
    a.input.channels = get_int(in, "channels", a.input.channels, "input");
    a.input.height = get_int(in, "height", a.input.height, "input");
    a.input.width = get_int(in, "width", a.input.width, "input");
    a.input_format = get_format(in, "format", "input");
  }
  a.classes = get_int(j, "classes", a.classes, "top level");
  if (!j.contains("layers") || !j.at("layers").is_array())
    throw invalid_argument("architecture JSON: \"layers\" must be an array of conv layers");
  std::size_t i = 0;
  for (const auto& jl : j.at("layers")) {
    const std::string where = "layers[" + std::to_string(i++) + "]";
    detail::only_keys(jl, where, {"type", "filters", "kernel", "stride", "pool", "weights", "activations"});
    if (jl.contains("type") && jl.at("type") != "conv")
      throw invalid_argument("architecture JSON: " + where + ": \"type\" must be \"conv\" (the classifier is "
                             "the separate \"classifier\" object)");
    conv_layer l;
    if (!jl.contains("filters")) throw invalid_argument("architecture JSON: " + where + ": \"filters\" is required");
    l.filters = get_int(jl, "filters", l.filters, where);
    l.kernel = get_int(jl, "kernel", l.kernel, where);
    l.stride = get_int(jl, "stride", l.stride, where);
    l.pool = get_int(jl, "pool", l.pool, where);
    l.weight_format = get_format(jl, "weights", where);
    l.activation_format = get_format(jl, "activations", where);
    a.layers.push_back(l);
  }
  if (j.contains("classifier")) {
    detail::only_keys(j.at("classifier"), "classifier", {"weights"});
    a.classifier.weight_format = get_format(j.at("classifier"), "weights", "classifier");
  }
  validate(a);
  return a;
}

namespace detail {
/// The whole of a text file a user gives, at most `max_bytes`: a larger file (or an endless one, such as /dev/zero)
/// is refused once that much has been read, before more is allocated.
/// @throws hwnas::io_error naming `what` and the path when the path is a directory, cannot be opened, or holds more
inline std::string read_user_file(const std::filesystem::path& path, std::size_t max_bytes, const std::string& what) {
  if (std::filesystem::is_directory(path)) throw io_error(path.string() + " is a directory, not " + what);
  std::ifstream in(path, std::ios::binary);
  if (!in) throw io_error(path.string() + ": cannot open " + what);
  std::string text;
  char buffer[1 << 16];
  while (in.read(buffer, sizeof buffer) || in.gcount() > 0) {
    text.append(buffer, static_cast<std::size_t>(in.gcount()));
    if (text.size() > max_bytes)
      throw io_error(path.string() + ": more than " + std::to_string(max_bytes >> 20) + " MiB, too large for " + what +
                     " (is it the right file?)");
  }
  return text;
}

/// Parses JSON text strictly: syntax errors become hwnas::invalid_argument with nlohmann's position, prefixed by
/// `what`, and so does a key given twice in one object (JSON parsers keep one of them silently: a typo'd edit must
/// not pass unnoticed).
inline nlohmann::json parse_json_strict(const std::string& text, const std::string& what) {
  nlohmann::json j;
  std::vector<std::set<std::string>> keys;  // per open object
  std::string duplicate;
  const auto check = [&](int, nlohmann::json::parse_event_t event, nlohmann::json& parsed) {
    using ev = nlohmann::json::parse_event_t;
    if (event == ev::object_start) keys.emplace_back();
    if (event == ev::object_end && !keys.empty()) keys.pop_back();
    if (event == ev::key && !keys.empty() && !keys.back().insert(parsed.get<std::string>()).second &&
        duplicate.empty())
      duplicate = parsed.get<std::string>();
    return true;
  };
  if (const auto nul = text.find('\0'); nul != std::string::npos)  // a binary file: say so, not "end of input"
    throw invalid_argument(what + ": not a text file (a NUL byte at offset " + std::to_string(nul) +
                           "); expected JSON");
  if (text.find_first_not_of(" \t\r\n") == std::string::npos)
    throw invalid_argument(what + ": the file is empty; expected JSON");
  try {
    j = nlohmann::json::parse(text, check);
  } catch (const nlohmann::json::exception& e) {  // syntax errors, and numbers too large for a double (1e400)
    std::string m = e.what();  // "[json.exception.parse_error.101] parse error at line 1, column 1: ..."
    if (m.rfind("[json.exception.", 0) == 0 && m.find("] ") != std::string::npos) m = m.substr(m.find("] ") + 2);
    throw invalid_argument(what + ": not valid JSON: " + m);
  }
  if (!duplicate.empty())
    throw invalid_argument(what + ": the key \"" + duplicate + "\" appears twice in one object; keep one");
  return j;
}
}  // namespace detail

/// Parses JSON text; syntax errors become hwnas::invalid_argument with nlohmann's position, and so does a key given
/// twice in one object (docs/architecture-json.md).
inline architecture parse_architecture(const std::string& text) {
  return architecture_from_json(detail::parse_json_strict(text, "architecture JSON"));
}

/// Reads an architecture file. Throws hwnas::io_error when the file cannot be read.
inline architecture load_architecture(const std::string& path) {
  const std::string text = detail::read_user_file(path, std::size_t{16} << 20,
                                                  "an architecture file (docs/architecture-json.md)");
  try {
    return parse_architecture(text);
  } catch (const invalid_argument& e) {
    throw invalid_argument(path + ": " + e.what());
  }
}

/// Writes an architecture file (pretty-printed, two-space indent).
inline void save_architecture(const architecture& a, const std::string& path) {
  std::ofstream out(path);
  if (!out) throw io_error(path + ": cannot write the architecture file");
  out << to_json(a).dump(2) << '\n';
  if (!out) throw io_error(path + ": write failed");
}

}  // namespace hwnas::io
