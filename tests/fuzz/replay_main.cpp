// Replays kept fuzzing inputs through a harness without libFuzzer (any compiler): `hwnas_fuzz_replay_X DIR...` runs
// LLVMFuzzerTestOneInput on every file under each DIR and fails if one crashes (it aborts) or none is found. ctest
// runs it on tests/fuzz/corpus/X, so every kept input, crash reproducers included, is checked on every CI run.

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

int main(int argc, char** argv) {
  std::size_t count = 0;
  for (int i = 1; i < argc; ++i)
    for (const auto& entry : std::filesystem::recursive_directory_iterator(argv[i])) {
      if (!entry.is_regular_file()) continue;
      std::ifstream in(entry.path(), std::ios::binary);
      const std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
      ++count;
    }
  std::printf("replayed %zu inputs\n", count);
  return count > 0 ? 0 : 1;
}
