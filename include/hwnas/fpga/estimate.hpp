#pragma once
/// @file
/// Run-time choice of a cost model and a device by name (what hwnas-estimate and configuration files need):
/// `estimate("pipelined_pe", "cyclone-iv-e115", 100.0, arch, spec)` is
/// `pipelined_pe<cyclone_iv_ep4ce115>(100.0).map(arch, spec)`, resolved through the lists of fpga/registry.hpp.

#include <string>
#include <string_view>

#include "hwnas/core/architecture.hpp"
#include "hwnas/core/error.hpp"
#include "hwnas/fpga/dataflow.hpp"
#include "hwnas/fpga/devices.hpp"
#include "hwnas/fpga/hw_report.hpp"
#include "hwnas/fpga/pipelined_pe.hpp"
#include "hwnas/fpga/registry.hpp"
#include "hwnas/fpga/spec.hpp"
#include "hwnas/fpga/tiled_engine.hpp"

namespace hwnas::fpga {

/// Maps `a` with the named cost model (fpga::cost_models) on the named device (fpga::devices) at `clock_mhz`,
/// against `s`.
/// @throws hwnas::invalid_argument for an unknown name (listing the known ones), a bad clock or spec, or an
///         architecture that is not fully quantized
inline hw_report estimate(std::string_view model, std::string_view device, double clock_mhz, const architecture& a,
                          const spec& s = {}) {
  return resolve_model(model, device, [&](auto m) {
    using M = typename decltype(m)::type;
    return M(clock_mhz).map(a, s);
  });
}

}  // namespace hwnas::fpga
