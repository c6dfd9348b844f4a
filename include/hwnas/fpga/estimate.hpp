#pragma once
/// @file
/// Run-time choice of a cost model and a device by name (what hwnas-estimate and configuration files need):
/// `estimate("pipelined_pe", "cyclone-iv-e115", 100.0, arch, spec)` is
/// `pipelined_pe<cyclone_iv_ep4ce115>(100.0).map(arch, spec)`.

#include <array>
#include <string>
#include <string_view>

#include "hwnas/core/architecture.hpp"
#include "hwnas/core/error.hpp"
#include "hwnas/fpga/dataflow.hpp"
#include "hwnas/fpga/devices.hpp"
#include "hwnas/fpga/hw_report.hpp"
#include "hwnas/fpga/pipelined_pe.hpp"
#include "hwnas/fpga/spec.hpp"
#include "hwnas/fpga/tiled_engine.hpp"

namespace hwnas::fpga {

/// The built-in cost models, by name.
inline constexpr std::array<std::string_view, 3> model_names{"pipelined_pe", "tiled_engine", "dataflow"};
/// The built-in devices, by name (Device::name).
inline constexpr std::array<std::string_view, 2> device_names{cyclone_iv_ep4ce115::name, xc7z020::name};

namespace detail {
template <std::size_t N>
std::string join_names(const std::array<std::string_view, N>& names) {
  std::string s;
  for (auto n : names) s += (s.empty() ? "" : ", ") + std::string(n);
  return s;
}

template <class D>
hw_report estimate_on(std::string_view model, double clock_mhz, const architecture& a, const spec& s) {
  if (model == "pipelined_pe") return pipelined_pe<D>(clock_mhz).map(a, s);
  if (model == "tiled_engine") return tiled_engine<D>(clock_mhz).map(a, s);
  if (model == "dataflow") return dataflow<D>(clock_mhz).map(a, s);
  throw invalid_argument("unknown cost model \"" + std::string(model) + "\"; known: " + join_names(model_names));
}
}  // namespace detail

/// Maps `a` with the named model (model_names) on the named device (device_names) at `clock_mhz`, against `s`.
/// Throws hwnas::invalid_argument for an unknown name, a bad clock or spec, or an architecture that is not fully
/// quantized.
inline hw_report estimate(std::string_view model, std::string_view device, double clock_mhz, const architecture& a,
                          const spec& s = {}) {
  if (device == cyclone_iv_ep4ce115::name) return detail::estimate_on<cyclone_iv_ep4ce115>(model, clock_mhz, a, s);
  if (device == xc7z020::name) return detail::estimate_on<xc7z020>(model, clock_mhz, a, s);
  throw invalid_argument("unknown device \"" + std::string(device) + "\"; known: " + detail::join_names(device_names));
}

}  // namespace hwnas::fpga
