#include <doctest/doctest.h>

#include <cstdint>
#include <utility>

#include <hwnas/kernels/workspace.hpp>

namespace hk = hwnas::kernels;

TEST_CASE("workspace: aligned, grows only when needed, never shrinks, movable") {
  hk::workspace ws;
  CHECK(ws.capacity() == 0);
  CHECK(ws.allocations() == 0);
  float* p = ws.get<float>(100);
  CHECK(reinterpret_cast<std::uintptr_t>(p) % hk::workspace::alignment == 0);
  CHECK(ws.capacity() >= 400);
  CHECK(ws.allocations() == 1);
  p[99] = 1.0f;  // usable
  CHECK(ws.get<float>(50) == p);  // smaller: same buffer, no allocation
  CHECK(ws.get<double>(50) == static_cast<void*>(p));
  CHECK(ws.allocations() == 1);
  ws.get<float>(1000);
  CHECK(ws.allocations() == 2);
  CHECK(ws.capacity() >= 4000);
  const std::size_t cap = ws.capacity();
  ws.reserve(10);
  CHECK(ws.capacity() == cap);

  hk::workspace moved(std::move(ws));
  CHECK(moved.capacity() == cap);
  CHECK(ws.capacity() == 0);  // NOLINT(bugprone-use-after-move): the moved-from state is specified
  hk::workspace sized(256);
  CHECK(sized.capacity() >= 256);
  CHECK(sized.allocations() == 1);
}
