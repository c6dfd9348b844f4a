#pragma once
/// @file
/// The umbrella header: everything hwnas offers. Include finer headers to compile faster.

#include "hwnas/core/architecture.hpp"
#include "hwnas/core/error.hpp"
#include "hwnas/core/parallel.hpp"
#include "hwnas/core/qformat.hpp"
#include "hwnas/core/rng.hpp"

#include "hwnas/io/architecture_json.hpp"
#include "hwnas/io/cifar10.hpp"
#include "hwnas/io/dataset.hpp"
#include "hwnas/io/fashion_mnist.hpp"
#include "hwnas/io/idx.hpp"

#include "hwnas/kernels/activations.hpp"
#include "hwnas/kernels/conv2d.hpp"
#include "hwnas/kernels/dense.hpp"
#include "hwnas/kernels/gemm.hpp"
#include "hwnas/kernels/integer.hpp"
#include "hwnas/kernels/pooling.hpp"
#include "hwnas/kernels/softmax_xent.hpp"

#include "hwnas/fpga/concepts.hpp"
#include "hwnas/fpga/dataflow.hpp"
#include "hwnas/fpga/devices.hpp"
#include "hwnas/fpga/estimate.hpp"
#include "hwnas/fpga/hw_report.hpp"
#include "hwnas/fpga/pipelined_pe.hpp"
#include "hwnas/fpga/spec.hpp"
#include "hwnas/fpga/tiled_engine.hpp"
#include "hwnas/quant/concepts.hpp"
#include "hwnas/quant/fixed_point.hpp"
#include "hwnas/space/concepts.hpp"
#include "hwnas/space/genome.hpp"
#include "hwnas/space/layerwise.hpp"
#include "hwnas/space/quantized.hpp"
