// Must not compile: two strategies.
#include "hwnas/pipeline.hpp"
int main() {
  hwnas::pipeline<hwnas::search::random_search, hwnas::search::regularized_evolution> p;
  (void)p;
}
