#pragma once
/// @file
/// The integer network as a file: what `hwnas-train --save-integer` and `hwnas-codesign` write and `hwnas-export`
/// reads. JSON, versioned (docs/hardware.md#integer-network-file):
///
/// ```json
/// { "format": "hwnas-integer-network", "version": 1,
///   "architecture": { ... docs/architecture-json.md ... },
///   "layers": [ { "input_format": "u0.8", "weight_format": "s0.3", "output_format": "u1.3",
///                 "weights": [ ... (M, N, K, K) codes ... ], "bias": [ ... M codes ... ] }, ...,
///               { ... the classifier: weights (classes, C*H*W), output_format "u0.8" (unused) ... } ] }
/// ```
/// Every key is required and no other is allowed; codes are integers in their format's range (weights), int32
/// (bias, in the accumulator's format F_in + F_w). The file is written atomically.

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "hwnas/core/atomic_file.hpp"
#include "hwnas/core/error.hpp"
#include "hwnas/io/architecture_json.hpp"
#include "hwnas/nn/integer_network.hpp"

namespace hwnas::nn {

/// The file format's name and version.
inline constexpr const char* integer_network_format = "hwnas-integer-network";
inline constexpr int integer_network_version = 1;

/// The JSON value of an integer network.
inline nlohmann::json to_json(const integer_network& net) {
  nlohmann::json layers = nlohmann::json::array();
  for (const auto& L : net.layers())
    layers.push_back({{"input_format", to_string(L.input_format)},
                      {"weight_format", to_string(L.weight_format)},
                      {"output_format", to_string(L.output_format)},
                      {"weights", L.weights},
                      {"bias", L.bias}});
  return {{"format", integer_network_format},
          {"version", integer_network_version},
          {"architecture", io::to_json(net.arch())},
          {"layers", layers}};
}

namespace detail {
template <class T>
std::vector<T> integer_array(const nlohmann::json& j, const std::string& where) {
  if (!j.is_array()) throw invalid_argument(where + " must be an array of integers");
  std::vector<T> out;
  out.reserve(j.size());
  for (std::size_t i = 0; i < j.size(); ++i) {
    const auto& x = j[i];
    bool ok = x.is_number_integer();
    std::int64_t v = 0;
    if (ok) {
      if (x.is_number_unsigned()) {
        const auto u = x.get<std::uint64_t>();
        ok = u <= static_cast<std::uint64_t>(std::numeric_limits<T>::max());
        v = static_cast<std::int64_t>(ok ? u : 0);
      } else {
        v = x.get<std::int64_t>();
      }
      ok = ok && v >= std::numeric_limits<T>::min() && v <= std::numeric_limits<T>::max();
    }
    if (!ok)
      throw invalid_argument(where + "[" + std::to_string(i) + "] = " + x.dump() + " is not an integer in [" +
                             std::to_string(std::numeric_limits<T>::min()) + ", " +
                             std::to_string(std::numeric_limits<T>::max()) + "]");
    out.push_back(static_cast<T>(v));
  }
  return out;
}
}  // namespace detail

/// Reads an integer network from its JSON value, validating everything (shapes, formats, code ranges).
/// @throws hwnas::invalid_argument naming the key or layer at fault
inline integer_network integer_network_from_json(const nlohmann::json& j) {
  const std::string what = "integer network";
  if (!j.is_object()) throw invalid_argument(what + ": the file holds no JSON object");
  if (!j.contains("format") || j["format"] != integer_network_format)
    throw invalid_argument(what + ": \"format\" is not \"" + std::string(integer_network_format) +
                           "\"; this is not an hwnas integer network file (write one with hwnas-train --save-integer)");
  io::detail::only_keys(j, what, {"format", "version", "architecture", "layers"}, "");
  if (!j.contains("version") || !j["version"].is_number_integer())
    throw invalid_argument(what + ": \"version\" must be the number " + std::to_string(integer_network_version) +
                           (j.contains("version") ? ", got " + j["version"].dump() : std::string(", and is missing")));
  if (j["version"].get<std::int64_t>() != integer_network_version)
    throw invalid_argument(what + ": version " + j["version"].dump() + " is not supported (this hwnas reads version " +
                           std::to_string(integer_network_version) + ")");
  if (!j.contains("architecture")) throw invalid_argument(what + ": \"architecture\" is missing");
  const architecture arch = io::architecture_from_json(j["architecture"]);
  if (!j.contains("layers") || !j["layers"].is_array()) throw invalid_argument(what + ": \"layers\" must be an array");
  std::vector<integer_layer> layers;
  for (std::size_t l = 0; l < j["layers"].size(); ++l) {
    const auto& x = j["layers"][l];
    const std::string where = what + ": layers[" + std::to_string(l) + "]";
    if (!x.is_object()) throw invalid_argument(where + " must be an object");
    io::detail::only_keys(x, where, {"input_format", "weight_format", "output_format", "weights", "bias"}, "");
    for (const char* k : {"input_format", "weight_format", "output_format", "weights", "bias"})
      if (!x.contains(k)) throw invalid_argument(where + ": \"" + k + "\" is missing");
    for (const char* k : {"input_format", "weight_format", "output_format"})
      if (!x[k].is_string()) throw invalid_argument(where + ": \"" + k + "\" must be a format string such as \"u1.3\"");
    integer_layer L;
    auto format = [&](const char* key) {
      try {
        return io::parse_qformat(x[key].get<std::string>());
      } catch (const invalid_argument& e) {
        throw invalid_argument(where + "." + key + ": " + e.what());
      }
    };
    L.input_format = format("input_format");
    L.weight_format = format("weight_format");
    L.output_format = format("output_format");
    L.weights = detail::integer_array<std::int16_t>(x["weights"], where + ".weights");
    L.bias = detail::integer_array<std::int32_t>(x["bias"], where + ".bias");
    layers.push_back(std::move(L));
  }
  try {
    return integer_network(arch, std::move(layers));
  } catch (const invalid_argument& e) {
    std::string m = e.what();
    const std::string hint = "; quantize the weights with hwnas::quantize first";
    if (const auto at = m.find(hint); at != std::string::npos)
      m.replace(at, hint.size(), "; every code in the file must lie in its format's range");
    throw invalid_argument(what + ": " + m);
  }
}

/// Parses an integer network file's text (strict JSON: a key twice in one object is an error).
/// @throws hwnas::invalid_argument as integer_network_from_json, or on a syntax error
inline integer_network parse_integer_network(const std::string& text) {
  return integer_network_from_json(io::detail::parse_json_strict(text, "integer network"));
}

/// Reads an integer network file.
/// @throws hwnas::io_error when it cannot be read; hwnas::invalid_argument (prefixed by the path) when it is not a
///         valid integer network
inline integer_network load_integer_network(const std::filesystem::path& path) {
  // 1 GiB: a network of tens of millions of weights, far beyond what the hardware export can build
  const std::string text = io::detail::read_user_file(path, std::size_t{1} << 30, "an integer network file");
  try {
    return parse_integer_network(text);
  } catch (const invalid_argument& e) {
    throw invalid_argument(path.string() + ": " + e.what());
  }
}

/// Writes an integer network file atomically (the old file, if any, stays whole until the new one is complete).
/// @throws hwnas::io_error when it cannot be written
inline void save_integer_network(const integer_network& net, const std::filesystem::path& path) {
  write_file_atomically(path, to_json(net).dump() + "\n");
}

}  // namespace hwnas::nn
