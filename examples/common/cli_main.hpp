#pragma once
// The exit-code contract shared by the hwnas programs: 0 success, 2 bad input (a parse error, an invalid argument,
// an unreadable file), 3 a negative result the program reports (infeasible design, diverged training), 1 anything
// unexpected. Every error is printed as "<program>: <message>".

#include <exception>
#include <iostream>
#include <string_view>

#include <CLI/CLI.hpp>

#include "hwnas/core/error.hpp"

namespace hwnas::examples {

/// Parses the command line, then runs `run()` (which returns the program's exit code) and maps errors to exit codes.
template <class Run>
int cli_main(std::string_view program, CLI::App& app, int argc, char** argv, Run&& run) {
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
  } catch (const std::exception& e) {
    std::cerr << program << ": unexpected error: " << e.what() << '\n';
    return 1;
  }
}

}  // namespace hwnas::examples
