#pragma once
// The small search problem the search tests share (tests/search, tests/mpi): a space of 1-2 tiny conv layers with
// per-layer fixed-point formats, its two-stage evaluator on the pipelined PE model, a proxy of one quick epoch, and
// a spec that some genomes meet and some do not.

#include "hwnas/fpga/pipelined_pe.hpp"
#include "hwnas/quant/fixed_point.hpp"
#include "hwnas/search/evaluator.hpp"
#include "hwnas/space/layerwise.hpp"
#include "hwnas/space/quantized.hpp"

namespace hwnas::test::search_fixture {

using codesign = space::quantized<space::layerwise<space::depth<1, 2>, space::filters<2, 4, 8>, space::pooling<1, 2>>,
                                  quant::fixed_point<quant::int_bits<1>, quant::frac_bits<1, 5>>>;
using evaluator = search::two_stage_evaluator<codesign, fpga::pipelined_pe<>>;

/// One epoch, batch 32, 256 training images.
inline search::proxy_config quick() {
  search::proxy_config p;
  p.train.epochs = 1;
  p.train.batch = 32;
  p.train_images = 256;
  return p;
}

/// A spec that some genomes of the space meet and some do not.
inline const spec tight{.max_luts = 1100, .min_fps = 20000};

}  // namespace hwnas::test::search_fixture
