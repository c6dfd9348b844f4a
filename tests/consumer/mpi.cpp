// A user's MPI program: hwnas::mpi from the installed package brings MPI with it; the farm compiles and links.
#include <hwnas/search/mpi_evaluator.hpp>

#include <cstdio>

int main(int argc, char** argv) {
  if (argc > 1) {  // run under mpirun to use it; built and linked is what the package test checks
    hwnas::search::mpi_environment mpi(argc, argv);
    std::printf("rank %d of %d\n", hwnas::search::mpi_environment::rank(), hwnas::search::mpi_environment::size());
  }
  hwnas::search::mpi_farm farm;
  (void)farm;
  std::printf("consumer mpi ok\n");
  return 0;
}
