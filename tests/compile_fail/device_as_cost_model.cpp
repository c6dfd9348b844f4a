// Must not compile: a Device where a CostModel belongs.
#include "hwnas/pipeline.hpp"
int main() {
  hwnas::pipeline<hwnas::fpga::xc7z020, hwnas::search::random_search> p;
  (void)p;
}
