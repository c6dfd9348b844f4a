#pragma once
/// @file
/// report::write_outputs: the four files of a finished co-design run in one directory: report.json (report/json.hpp),
/// trials.csv (report/csv.hpp), pareto.svg (report/pareto_svg.hpp) and report.html (report/html.hpp). Every file is
/// rendered in memory first, then written atomically (core/atomic_file.hpp), so a reader never sees half a report,
/// and a failure (an unwritable directory, a full disk) leaves each file as it was, with no temporary file behind.

#include <array>
#include <filesystem>
#include <sstream>
#include <string>
#include <system_error>
#include <utility>

#include <nlohmann/json.hpp>

#include "hwnas/core/atomic_file.hpp"
#include "hwnas/core/error.hpp"
#include "hwnas/report/codesign_report.hpp"
#include "hwnas/report/csv.hpp"
#include "hwnas/report/html.hpp"
#include "hwnas/report/json.hpp"
#include "hwnas/report/pareto_svg.hpp"

namespace hwnas::report {

/// The names of the files write_outputs writes, in the order it writes them.
inline constexpr std::array<const char*, 4> output_files{"report.json", "trials.csv", "pareto.svg", "report.html"};

/// Writes report.json, trials.csv, pareto.svg and report.html of `r` into `dir`, creating it (and its parents) when
/// missing. Each file is replaced atomically; report.html is written last, so a complete page means a complete set.
/// @throws hwnas::io_error naming the path and the reason when the directory cannot be created or a file cannot be
///         written; the files already replaced stay replaced (each one whole), the others keep their old contents
inline void write_outputs(const std::filesystem::path& dir, const codesign_report& r) {
  // Render everything before touching the disk: a bug in a writer must not leave a partial set.
  std::array<std::string, output_files.size()> contents;
  contents[0] = to_json(r).dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  {
    std::ostringstream csv;
    write_trials_csv(csv, r);
    contents[1] = csv.str();
  }
  contents[2] = pareto_svg(r);
  contents[3] = to_html(r);

  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    std::filesystem::create_directories(dir, ec);
    if (ec || !std::filesystem::is_directory(dir))
      throw io_error("hwnas: cannot create the report directory \"" + dir.string() + "\": " +
                     (ec ? ec.message() : std::string("a file of that name exists")));
  }
  for (std::size_t i = 0; i < output_files.size(); ++i) write_file_atomically(dir / output_files[i], contents[i]);
}

}  // namespace hwnas::report
