#pragma once
// The exit-code contract shared by the hwnas programs: 0 success, 2 bad input (a parse error, an invalid argument,
// an unreadable file), 3 a negative result the program reports (infeasible design, diverged training), 1 anything
// unexpected. Every error is printed as "<program>: <message>".

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <new>
#include <string>
#include <string_view>

#include <CLI/CLI.hpp>

#include "hwnas/core/error.hpp"

namespace hwnas::examples {

/// Integer options take plain decimal numbers that fit 64 bits. (CLI11 alone reads "010" as octal 8 and "0x10" as
/// 16, and lets a number past the 64-bit range through.)
inline const CLI::Validator decimal_integer(
    [](std::string& text) -> std::string {
      std::size_t i = (!text.empty() && (text[0] == '+' || text[0] == '-')) ? 1 : 0;
      if (i == text.size()) return "'" + text + "' is not a number";
      for (std::size_t k = i; k < text.size(); ++k)
        if (text[k] < '0' || text[k] > '9') return "'" + text + "' is not a whole decimal number";
      if (text[i] == '0' && text.size() > i + 1)
        return "'" + text + "': write the number without leading zeros (it is not read as octal)";
      errno = 0;
      (void)std::strtoll(text.c_str(), nullptr, 10);
      if (errno == ERANGE) return "'" + text + "' is out of the 64-bit range";
      return {};
    },
    "", "decimal");

/// Unsigned integer options refuse a sign (CLI11 alone wraps "-1" to 2^64 - 1).
inline const CLI::Validator no_minus_sign(
    [](std::string& text) -> std::string {
      if (!text.empty() && text[0] == '-') return "'" + text + "': must not be negative";
      return {};
    },
    "", "unsigned");

/// Real-number options take decimal numbers (1000, 2.5, 1e-3), inf or nan, nothing else: CLI11 alone reads "" as
/// unset, "0x10" as 16 and " 5" as 5. Ranges are checked where the value is used, with their own messages.
inline const CLI::Validator decimal_number(
    [](std::string& text) -> std::string {
      std::string lower;
      for (const char c : text) lower += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
      std::size_t i = (!lower.empty() && (lower[0] == '+' || lower[0] == '-')) ? 1 : 0;
      const std::string body = lower.substr(i);
      if (body == "inf" || body == "infinity" || body == "nan") return {};
      const auto digits = [&](std::size_t& k) {
        const std::size_t from = k;
        while (k < lower.size() && lower[k] >= '0' && lower[k] <= '9') ++k;
        return k - from;
      };
      std::size_t n = digits(i);
      if (i < lower.size() && lower[i] == '.') n += digits(++i);
      if (n > 0 && i < lower.size() && lower[i] == 'e') {
        ++i;
        if (i < lower.size() && (lower[i] == '+' || lower[i] == '-')) ++i;
        if (digits(i) == 0) n = 0;
      }
      if (n == 0 || i != lower.size()) return "'" + text + "' is not a decimal number (e.g. 1000, 2.5, 1e-3)";
      return {};
    },
    "", "number");

/// A fraction 0..1 as a percentage with two decimals: "91.33%".
inline std::string percent(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f%%", 100.0 * x);
  return buf;
}

/// Adds decimal_integer to every integer option of `app` (type INT or UINT), no_minus_sign to the unsigned ones, and
/// decimal_number to the real-number ones (FLOAT), each before the option's own checks.
inline void decimal_integers_only(CLI::App& app) {
  for (CLI::Option* o : app.get_options()) {
    const std::string type = o->get_type_name();
    if (type.rfind("UINT", 0) == 0) o->transform(no_minus_sign);
    if (type.rfind("INT", 0) == 0 || type.rfind("UINT", 0) == 0) o->transform(decimal_integer);
    if (type.rfind("FLOAT", 0) == 0) o->transform(decimal_number);
  }
}

/// Parses the command line, then runs `run()` (which returns the program's exit code) and maps errors to exit codes.
template <class Run>
int cli_main(std::string_view program, CLI::App& app, int argc, char** argv, Run&& run) {
  decimal_integers_only(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return 2;
  }
  try {
    return run();
  } catch (const hwnas::training_error& e) {
    std::cerr << program << ": " << e.what() << '\n';
    return 3;
  } catch (const hwnas::invalid_argument& e) {
    std::cerr << program << ": " << e.what() << '\n';
    return 2;
  } catch (const hwnas::io_error& e) {
    std::cerr << program << ": " << e.what() << '\n';
    return 2;
  } catch (const std::bad_alloc&) {
    std::cerr << program << ": out of memory: the network or the data is too large for this machine's memory; "
                 "choose a smaller architecture (fewer filters or layers) or fewer images\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << program << ": unexpected error: " << e.what() << '\n';
    return 1;
  }
}

}  // namespace hwnas::examples
