// Must not compile: a quantizer that leaves layers float, with an FPGA cost model (the default pipelined_pe).
#include "hwnas/pipeline.hpp"
namespace sp = hwnas::space;
int main() {
  hwnas::pipeline<sp::layerwise<sp::depth<1, 2>, sp::filters<8, 16>>, hwnas::quant::none> p;
  (void)p;
}
