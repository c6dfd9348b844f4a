#pragma once
/// @file
/// The umbrella header: everything hwnas offers. Include finer headers to compile faster.

#include "hwnas/core/architecture.hpp"
#include "hwnas/core/error.hpp"
#include "hwnas/core/parallel.hpp"
#include "hwnas/core/qformat.hpp"
#include "hwnas/core/rng.hpp"
#include "hwnas/io/architecture_json.hpp"
