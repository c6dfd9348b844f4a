#pragma once
/// @file
/// The built-in devices and cost models as Boost.Hana lists, each entry pairing the name a CLI or a configuration
/// file uses with the type, and generic resolvers that turn a run-time name into a compile-time type (the pattern of
/// hyrise's resolve_type): no if-chains on strings anywhere.
///
/// ```cpp
/// hwnas::fpga::resolve_device("xc7z020", [&](auto device) {
///   using D = typename decltype(device)::type;                // hwnas::fpga::xc7z020
///   return hwnas::fpga::pipelined_pe<D>(125.0).map(arch, spec);
/// });
/// ```
/// A new device or cost model is one line in its list.

#include <string_view>
#include <utility>

#include <boost/hana/tuple.hpp>
#include <boost/hana/type.hpp>

#include "hwnas/core/registry.hpp"
#include "hwnas/fpga/dataflow.hpp"
#include "hwnas/fpga/devices.hpp"
#include "hwnas/fpga/pipelined_pe.hpp"
#include "hwnas/fpga/tiled_engine.hpp"

namespace hwnas::fpga {

/// A cost model template as a value: `cost_model_family<pipelined_pe>::on<D>` is pipelined_pe<D> (its clock given
/// at run time), and `name` is the model's.
template <template <class...> class Model>
struct cost_model_family {
  template <class D>
  using on = Model<D>;
  static constexpr std::string_view name = Model<cyclone_iv_ep4ce115>::name;
};

/// The built-in devices (each type's `name` is what the CLI takes).
inline constexpr auto devices = boost::hana::tuple_t<cyclone_iv_ep4ce115, xc7z020, ice40_up5k, ice40_hx8k>;
/// The built-in cost models.
inline constexpr auto cost_models =
    boost::hana::tuple_t<cost_model_family<pipelined_pe>, cost_model_family<tiled_engine>, cost_model_family<dataflow>>;

/// resolve_by_name over the built-in devices: f(hana::type_c<Device>).
template <class F>
auto resolve_device(std::string_view name, F&& f) {
  return resolve_by_name(devices, name, "device", std::forward<F>(f));
}

/// resolve_by_name over the built-in cost models: f(hana::type_c<cost_model_family<Model>>); the model on device D
/// is `typename decltype(t)::type::template on<D>`.
template <class F>
auto resolve_cost_model(std::string_view name, F&& f) {
  return resolve_by_name(cost_models, name, "cost model", std::forward<F>(f));
}

/// Both at once: f(hana::type_c<Model<Device>>), e.g. `resolve_model("dataflow", "xc7z020", f)`.
template <class F>
auto resolve_model(std::string_view model, std::string_view device, F&& f) {
  return resolve_device(device, [&](auto d) {
    using D = typename decltype(d)::type;
    return resolve_cost_model(model, [&](auto m) {
      using M = typename decltype(m)::type::template on<D>;
      return f(boost::hana::type_c<M>);
    });
  });
}

}  // namespace hwnas::fpga
