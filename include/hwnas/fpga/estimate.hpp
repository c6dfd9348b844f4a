#pragma once
/// @file
/// Run-time choice of a cost model and a device by name (what hwnas-estimate and configuration files need):
/// `estimate("pipelined_pe", "cyclone-iv-e115", 100.0, arch, spec)` is
/// `pipelined_pe<cyclone_iv_ep4ce115>(100.0).map(arch, spec)`, resolved through the lists of fpga/registry.hpp.

#include <cstdint>
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
/// against `s`. `reconfigure_batch` > 0 selects pipelined_pe's reconfigured groups with that many frames per batch
/// (pipelined_pe::reconfigure_groups; NAQS's accounting); 0 is the static bitstream.
/// @throws hwnas::invalid_argument for an unknown name (listing the known ones), a bad clock or spec, an
///         architecture that is not fully quantized, or reconfigure_batch given for a model other than pipelined_pe
inline hw_report estimate(std::string_view model, std::string_view device, double clock_mhz, const architecture& a,
                          const spec& s = {}, std::int64_t reconfigure_batch = 0) {
  return resolve_model(model, device, [&](auto m) {
    using M = typename decltype(m)::type;
    const M base(clock_mhz);
    if (reconfigure_batch == 0) return base.map(a, s);
    if constexpr (requires { base.reconfigure_groups(std::int64_t{1}); })
      return base.reconfigure_groups(reconfigure_batch).map(a, s);
    else
      throw invalid_argument("reconfigured groups are pipelined_pe's option (NAQS's accounting); the " +
                             std::string(M::name) + " model has no groups to reconfigure");
    return hw_report{};
  });
}

}  // namespace hwnas::fpga
