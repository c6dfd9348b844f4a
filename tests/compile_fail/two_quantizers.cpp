// Must not compile: the space carries a quantizer and another one is given.
#include "hwnas/pipeline.hpp"
namespace sp = hwnas::space;
namespace qn = hwnas::quant;
using layers = sp::layerwise<sp::depth<1, 2>, sp::filters<8, 16>>;
int main() {
  hwnas::pipeline<sp::quantized<layers, qn::uniform<4>>, qn::uniform<8>> p;
  (void)p;
}
