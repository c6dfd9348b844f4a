// A user's program: includes the installed umbrella header and uses a little of everything.
#include <hwnas/hwnas.hpp>

#include <cstdio>

int main() {
  constexpr hwnas::qformat w = hwnas::qformat::weight(1, 2);   // signed Q1.2, 4 bits
  static_assert(w.bits() == 4);
  const auto q = hwnas::quantize(0.3, w);                       // 0.3 * 4 = 1.2 -> 1
  if (q != 1) return 1;
  std::puts("consumer ok");
  return 0;
}
