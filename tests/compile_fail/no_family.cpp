// Must not compile: int models no policy family.
#include "hwnas/pipeline.hpp"
int main() {
  hwnas::pipeline<hwnas::search::random_search, int> p;
  (void)p;
}
