#pragma once
/// @file
/// The concepts of fpga/: Device, ClockRate and CostModel, each with an archetype (the least type that models it)
/// checked here, so a user's own device or cost model knows exactly what to provide. docs/cost-models.md#concepts.

#include <concepts>
#include <cstdint>
#include <optional>
#include <ranges>
#include <string_view>
#include <vector>

#include "hwnas/core/architecture.hpp"
#include "hwnas/fpga/devices.hpp"
#include "hwnas/fpga/hw_report.hpp"
#include "hwnas/fpga/spec.hpp"

namespace hwnas::fpga {

/// An FPGA device, described by `static constexpr` members:
/// - `name` (string_view; what the CLI and reports call it), `description`,
/// - `family` (lut_family: which calibration table its LUTs follow),
/// - `luts`, `flip_flops`, `dsps`, `brams`, `bram_bits` (capacities; DSPs in the device's own unit),
/// - `bram_shapes` (a contiguous range of bram_shape: the width x depth configurations of one block RAM),
/// - `dsps_per_multiplier(act_bits, weight_bits)` (DSP units one unsigned a-bit x signed w-bit product occupies),
/// - `fmax_mhz` (the highest clock this datapath runs at on the part, MHz: the block RAM's datasheet fmax in the
///   speed grade you buy, or, where the generated logic is slower than the block RAM (the iCE40 parts), the slowest
///   routed design's fmax; a clock above it is reported as a violation, `device_fmax`).
/// Optional: `products_per_dsp(act_bits, weight_bits)` (products one DSP unit computes at once when they share the
/// activation, e.g. two narrow ones packed into a DSP48E1; 1 when absent), `bram_half_shapes` (the shapes of half a
/// block when a block splits into two independent halves, as XC7's RAMB18E1; block RAM is then counted in halves),
/// `lutram_luts` (LUTs usable as distributed RAM; 0 when absent), `config_bits`, `config_port_bits`,
/// `config_clock_mhz` (a full configuration and its port: needed only by pipelined_pe's reconfigure_groups).
/// Semantics: capacities are positive (dsps may be 0: a part without DSP blocks, as the iCE40 HX8K); every shape
/// holds at most bram_bits bits; fmax_mhz > 0.
template <class D>
concept Device = requires(int bits) {
  { D::name } -> std::convertible_to<std::string_view>;
  { D::description } -> std::convertible_to<std::string_view>;
  { D::family } -> std::convertible_to<lut_family>;
  { D::luts } -> std::convertible_to<std::int64_t>;
  { D::flip_flops } -> std::convertible_to<std::int64_t>;
  { D::dsps } -> std::convertible_to<std::int64_t>;
  { D::brams } -> std::convertible_to<std::int64_t>;
  { D::bram_bits } -> std::convertible_to<std::int64_t>;
  { D::bram_shapes.data() } -> std::convertible_to<const bram_shape*>;
  { D::bram_shapes.size() } -> std::convertible_to<std::size_t>;
  { D::dsps_per_multiplier(bits, bits) }
  noexcept->std::convertible_to<int>;
  { D::fmax_mhz } -> std::convertible_to<double>;
};

/// A clock as a type: `static constexpr double mhz` (clock_mhz<N> models it).
template <class C>
concept ClockRate = requires {
  { C::mhz } -> std::convertible_to<double>;
};

/// A hardware cost model: maps an architecture (with its fixed-point formats) onto a device at a clock.
/// Requires:
/// - `device_type` (a Device), `mapping_type` (the model's per-layer or engine parallelism), `name`,
/// - `m.clock_mhz()`,
/// - `m.evaluate(arch, mapping, spec) -> hw_report`: the cost of one given mapping, judged against the spec,
/// - `m.map(arch, spec) -> hw_report`: the least-LUT mapping that meets the spec, found by an exact search, or, when
///   none exists, a report with feasible == false saying which constraint fails and by how much,
/// - `m.best_mapping(arch, spec) -> optional<mapping_type>` (nullopt: proved infeasible).
/// Architectures must be fully quantized; bad input throws hwnas::invalid_argument.
template <class M>
concept CostModel = requires(const M& m, const architecture& a, const spec& s, const typename M::mapping_type& mp) {
  typename M::device_type;
  typename M::mapping_type;
  requires Device<typename M::device_type>;
  { M::name } -> std::convertible_to<std::string_view>;
  { m.clock_mhz() } -> std::convertible_to<double>;
  { m.evaluate(a, mp, s) } -> std::same_as<hw_report>;
  { m.map(a, s) } -> std::same_as<hw_report>;
  { m.best_mapping(a, s) } -> std::same_as<std::optional<typename M::mapping_type>>;
};

/// The least Device: one LUT4 family part with a single block shape.
struct device_archetype {
  static constexpr std::string_view name = "archetype";
  static constexpr std::string_view description = "the least type that models Device";
  static constexpr lut_family family = lut_family::lut4;
  static constexpr std::int64_t luts = 1000, flip_flops = 1000, dsps = 0, brams = 1, bram_bits = 1024;
  static constexpr std::array<bram_shape, 1> bram_shapes{{{1, 1024}}};
  static constexpr int dsps_per_multiplier(int, int) noexcept { return 1; }
  static constexpr double fmax_mhz = 100.0;
};
static_assert(Device<device_archetype>);

/// The least CostModel (reports nothing; a real one maps every layer).
struct cost_model_archetype {
  using device_type = device_archetype;
  struct mapping_type {};
  static constexpr std::string_view name = "archetype";
  double clock_mhz() const noexcept { return 100.0; }
  hw_report evaluate(const architecture&, const mapping_type&, const spec&) const { return {}; }
  hw_report map(const architecture&, const spec&) const { return {}; }
  std::optional<mapping_type> best_mapping(const architecture&, const spec&) const { return std::nullopt; }
};
static_assert(CostModel<cost_model_archetype>);
static_assert(ClockRate<clock_mhz<100>>);

}  // namespace hwnas::fpga
