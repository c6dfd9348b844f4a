// Fuzzes the search journal's reader: any file given as a journal is read, or refused with a clear error; a refused
// file is left exactly as it was (a user's file is never destroyed), whatever it holds.
#include <nlohmann/json.hpp>

#include "fuzz_common.hpp"
#include "hwnas/search/journal.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const hwnas::fuzz::memory_file file(data, size);
  const std::string before(reinterpret_cast<const char*>(data), size);
  try {
    const hwnas::search::journal j(file.path(), nlohmann::json{{"seed", 1}});
    // accepted: its entries are the file's complete lines after the header, none invented
    std::size_t lines = 0;
    for (const char c : before) lines += c == '\n';
    if (j.entries().size() > lines) std::abort();
  } catch (const hwnas::io_error&) {
    if (file.contents() != before) std::abort();
  } catch (const hwnas::invalid_argument&) {
    if (file.contents() != before) std::abort();
  }
  return 0;
}
