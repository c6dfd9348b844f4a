#pragma once
/// @file
/// Quantizer policies: how a genome chooses the fixed-point formats of a network (docs/fixed-point.md).
///
/// - quant::fixed_point<int_bits<Lo, Hi>, frac_bits<Lo, Hi>>: as NAQS, every conv layer chooses the integer and
///   fraction bits of its weights (signed, s I.F) and of its output activations (unsigned, u I.F) from the two
///   ranges, and the classifier those of its weights: 4 genes per layer, 2 for the classifier. A choice with no bits
///   (activations u0.0) or too many (over 16) decodes as it is and is rejected by hwnas::validate with its reason,
///   so the search records it as an infeasible trial.
/// - quant::uniform<Bits...>: one gene, the bit width of every weight and activation (hwnas::with_uniform_bits).
/// - quant::none: float, no genes.
///
/// A quantizer has genes per conv layer (`layer_layout`) and global ones (`global_layout`, e.g. the classifier's);
/// quantize(a, layer_genes, global_genes) writes the formats into an architecture, encode(a) recovers the genes.

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <span>
#include <type_traits>
#include <utility>
#include <vector>

#include "hwnas/core/architecture.hpp"
#include "hwnas/core/qformat.hpp"

namespace hwnas::quant {

/// Integer bits between Lo and Hi (0..15).
template <int Lo, int Hi = Lo>
struct int_bits {
  static constexpr int lo = Lo, hi = Hi;
  static_assert(0 <= Lo && Lo <= Hi && Hi <= 15, "hwnas::quant::int_bits<Lo, Hi>: need 0 <= Lo <= Hi <= 15");
};
/// Fraction bits between Lo and Hi (0..16).
template <int Lo, int Hi = Lo>
struct frac_bits {
  static constexpr int lo = Lo, hi = Hi;
  static_assert(0 <= Lo && Lo <= Hi && Hi <= 16, "hwnas::quant::frac_bits<Lo, Hi>: need 0 <= Lo <= Hi <= 16");
};

namespace detail {
template <class T>
struct is_int_bits : std::false_type {};
template <int Lo, int Hi>
struct is_int_bits<int_bits<Lo, Hi>> : std::true_type {};
template <class T>
struct is_frac_bits : std::false_type {};
template <int Lo, int Hi>
struct is_frac_bits<frac_bits<Lo, Hi>> : std::true_type {};
}  // namespace detail

/// Per-layer integer and fraction bits of weights and activations, chosen from the ranges I and F (in either order).
template <class A, class B>
struct fixed_point {
  static_assert((detail::is_int_bits<A>::value && detail::is_frac_bits<B>::value) ||
                    (detail::is_frac_bits<A>::value && detail::is_int_bits<B>::value),
                "hwnas::quant::fixed_point<...>: give one int_bits<Lo, Hi> and one frac_bits<Lo, Hi>");
  using i_range = std::conditional_t<detail::is_int_bits<A>::value, A, B>;
  using f_range = std::conditional_t<detail::is_frac_bits<A>::value, A, B>;
  static constexpr int ni = i_range::hi - i_range::lo + 1, nf = f_range::hi - f_range::lo + 1;

  /// "fixed_point: I 0..3, F 0..6 (weights s1+I+F, activations uI.F)", for reports.
  static std::string describe() {
    return "fixed_point: integer bits " + std::to_string(i_range::lo) + ".." + std::to_string(i_range::hi) +
           ", fraction bits " + std::to_string(f_range::lo) + ".." + std::to_string(f_range::hi) +
           " per layer for weights (signed) and activations (unsigned)";
  }

  /// Per conv layer: weight int bits, weight frac bits, activation int bits, activation frac bits.
  static constexpr std::array<int, 4> layer_layout{ni, nf, ni, nf};
  /// The classifier's weight int bits and frac bits.
  static constexpr std::array<int, 2> global_layout{ni, nf};

  static void quantize(architecture& a, std::span<const int> layer_genes, std::span<const int> global_genes) {
    for (std::size_t l = 0; l < a.layers.size(); ++l) {
      const int* g = layer_genes.data() + layer_layout.size() * l;
      a.layers[l].weight_format = qformat::weight(i_range::lo + g[0], f_range::lo + g[1]);
      a.layers[l].activation_format = qformat::activation(i_range::lo + g[2], f_range::lo + g[3]);
    }
    a.classifier.weight_format = qformat::weight(i_range::lo + global_genes[0], f_range::lo + global_genes[1]);
    a.input_format = qformat::activation(0, 8);  // pixels p/255 to 8 fraction bits, as with_uniform_bits
  }

  /// The genes of a's formats (layer genes first, then global), or nullopt when a format is missing or out of range
  /// or the input format is not u0.8.
  static std::optional<std::vector<int>> encode(const architecture& a) {
    if (a.input_format != qformat::activation(0, 8)) return std::nullopt;
    std::vector<int> g;
    auto put = [&](const std::optional<qformat>& f, bool is_signed) {
      if (!f || f->is_signed != is_signed) return false;
      const int i = f->int_bits - i_range::lo, fr = f->frac_bits - f_range::lo;
      if (i < 0 || i >= ni || fr < 0 || fr >= nf) return false;
      g.push_back(i);
      g.push_back(fr);
      return true;
    };
    for (const auto& l : a.layers)
      if (!put(l.weight_format, true) || !put(l.activation_format, false)) return std::nullopt;
    if (!put(a.classifier.weight_format, true)) return std::nullopt;
    return g;
  }
};

/// One bit width for every weight and activation, chosen among Bits... (2..16): hwnas::with_uniform_bits.
template <int... Bits>
struct uniform {
  static_assert(sizeof...(Bits) >= 1, "hwnas::quant::uniform<Bits...>: give at least one bit width");
  static_assert(((Bits >= 2 && Bits <= 16) && ...), "hwnas::quant::uniform<Bits...>: each bit width must be in 2..16");
  static constexpr std::array<int, sizeof...(Bits)> bits{Bits...};
  static std::string describe() {
    std::string s = "uniform bits {";
    for (std::size_t i = 0; i < bits.size(); ++i) s += (i ? ", " : "") + std::to_string(bits[i]);
    return s + "} for every weight and activation";
  }
  static constexpr std::array<int, 0> layer_layout{};
  static constexpr std::array<int, 1> global_layout{static_cast<int>(sizeof...(Bits))};

  static void quantize(architecture& a, std::span<const int>, std::span<const int> global_genes) {
    a = with_uniform_bits(std::move(a), bits[static_cast<std::size_t>(global_genes[0])]);
  }
  /// The gene of a's formats, or nullopt unless they are exactly with_uniform_bits(a, b) for one of Bits.
  static std::optional<std::vector<int>> encode(const architecture& a) {
    for (std::size_t i = 0; i < bits.size(); ++i)
      if (with_uniform_bits(a, bits[i]) == a) return std::vector<int>{static_cast<int>(i)};
    return std::nullopt;
  }
};

/// Float: no formats, no genes. No FPGA cost model takes float layers, so hwnas::pipeline refuses it.
struct none {
  static constexpr bool leaves_float = true;
  static std::string describe() { return "none (float)"; }
  static constexpr std::array<int, 0> layer_layout{};
  static constexpr std::array<int, 0> global_layout{};
  static void quantize(architecture&, std::span<const int>, std::span<const int>) {}
  static std::optional<std::vector<int>> encode(const architecture& a) {
    if (a.quantized()) return std::nullopt;
    return std::vector<int>{};
  }
};

}  // namespace hwnas::quant
