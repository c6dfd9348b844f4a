// Must compile: the control case of the compile-fail tests (same flags, a right composition), so that a failure of
// the others is the static_assert's and not the test's set-up.
#include "hwnas/pipeline.hpp"
namespace sp = hwnas::space;
int main() {
  hwnas::pipeline<hwnas::search::random_search, sp::layerwise<sp::depth<1, 2>, sp::filters<8, 16>>> p;
  static_assert(decltype(p)::layout.size() > 0);
  (void)p;
}
