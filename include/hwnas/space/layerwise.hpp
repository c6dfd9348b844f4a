#pragma once
/// @file
/// space::layerwise: the layer-wise search space of NAQS and FNAS. A network has `depth` conv layers, and every layer
/// chooses its filter count, kernel size, stride and pooling from the lists the options give:
///
///     using space = hwnas::space::layerwise<hwnas::space::depth<2, 4>, hwnas::space::filters<8, 16, 32, 64>,
///                                           hwnas::space::kernels<1, 3, 5>, hwnas::space::pooling<1, 2>>;
///
/// Options come in any order, each at most once; `depth` and `filters` are required, the others default to
/// kernels<3>, strides<1> and pooling<1>. The genome is one depth gene (the number of layers, depth<Min, Max>),
/// then four genes per layer up to the maximum depth: filters, kernel, stride, pool (genes of layers past the chosen
/// depth are ignored). A gene with one choice is kept, so the layout does not depend on which options vary.
/// Formats are the quantizer's business (quant/): decode() leaves every layer float.

#include <array>
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <type_traits>

#include "hwnas/core/architecture.hpp"
#include "hwnas/space/genome.hpp"

namespace hwnas::space {

namespace detail {

enum class option_kind { depth, filters, kernels, strides, pooling };

template <option_kind Kind, int... Values>
struct choice_list {
  static constexpr option_kind kind = Kind;
  static constexpr std::array<int, sizeof...(Values)> values{Values...};
  static_assert(sizeof...(Values) >= 1, "hwnas::space: a choice list needs at least one value");
  static constexpr bool distinct() {
    for (std::size_t i = 0; i < values.size(); ++i)
      for (std::size_t j = i + 1; j < values.size(); ++j)
        if (values[i] == values[j]) return false;
    return true;
  }
  static_assert(distinct(), "hwnas::space: a choice list repeats a value (each value is one choice)");
  static constexpr bool all_in(int lo, int hi) {
    for (const int v : values)
      if (v < lo || v > hi) return false;
    return true;
  }
};

/// The option of kind K among Options..., or Default.
template <option_kind K, class Default, class... Options>
struct find_option {
  using type = Default;
};
template <option_kind K, class Default, class First, class... Rest>
struct find_option<K, Default, First, Rest...> {
  using type = std::conditional_t<First::kind == K, First, typename find_option<K, Default, Rest...>::type>;
};

template <option_kind K, class... Options>
constexpr int count_kind() {
  return ((Options::kind == K ? 1 : 0) + ... + 0);
}

/// Index of `value` in `values`, or nullopt.
template <std::size_t N>
constexpr std::optional<int> index_of(const std::array<int, N>& values, int value) {
  for (std::size_t i = 0; i < N; ++i)
    if (values[i] == value) return static_cast<int>(i);
  return std::nullopt;
}

}  // namespace detail

/// Between Min and Max conv layers (1..16).
template <int Min, int Max = Min>
struct depth {
  static constexpr detail::option_kind kind = detail::option_kind::depth;
  static constexpr int min = Min, max = Max;
  static_assert(1 <= Min && Min <= Max && Max <= 16, "hwnas::space::depth<Min, Max>: need 1 <= Min <= Max <= 16");
};
/// Output channels a layer may have (1..4096 each).
template <int... F>
struct filters : detail::choice_list<detail::option_kind::filters, F...> {
  static_assert(filters::all_in(1, 4096), "hwnas::space::filters<...>: each filter count must be in 1..4096");
};
/// Square kernel sizes a layer may have (1..7).
template <int... K>
struct kernels : detail::choice_list<detail::option_kind::kernels, K...> {
  static_assert(kernels::all_in(1, 7), "hwnas::space::kernels<...>: each kernel size must be in 1..7");
};
/// Strides a layer may have (1..3).
template <int... S>
struct strides : detail::choice_list<detail::option_kind::strides, S...> {
  static_assert(strides::all_in(1, 3), "hwnas::space::strides<...>: each stride must be in 1..3");
};
/// Pooling after a layer: 1 (none) and/or 2 (2x2 max-pool).
template <int... P>
struct pooling : detail::choice_list<detail::option_kind::pooling, P...> {
  static_assert(pooling::all_in(1, 2), "hwnas::space::pooling<...>: each value must be 1 (none) or 2 (2x2 max-pool)");
};

namespace detail {
template <class T>
concept layerwise_option = requires {
  { T::kind } -> std::convertible_to<option_kind>;
};
}  // namespace detail

/// The layer-wise search space over Options (depth<...>, filters<...>, kernels<...>, strides<...>, pooling<...>).
template <class... Options>
class layerwise {
  static_assert((detail::layerwise_option<Options> && ...),
                "hwnas::space::layerwise<...>: options are depth<>, filters<>, kernels<>, strides<> and pooling<>");
  static_assert(detail::count_kind<detail::option_kind::depth, Options...>() == 1,
                "hwnas::space::layerwise<...>: give depth<Min, Max> exactly once");
  static_assert(detail::count_kind<detail::option_kind::filters, Options...>() == 1,
                "hwnas::space::layerwise<...>: give filters<...> exactly once");
  static_assert(detail::count_kind<detail::option_kind::kernels, Options...>() <= 1 &&
                    detail::count_kind<detail::option_kind::strides, Options...>() <= 1 &&
                    detail::count_kind<detail::option_kind::pooling, Options...>() <= 1,
                "hwnas::space::layerwise<...>: give kernels<>, strides<> and pooling<> at most once each");

 public:
  using depth_option = typename detail::find_option<detail::option_kind::depth, void, Options...>::type;
  using filter_option = typename detail::find_option<detail::option_kind::filters, void, Options...>::type;
  using kernel_option = typename detail::find_option<detail::option_kind::kernels, kernels<3>, Options...>::type;
  using stride_option = typename detail::find_option<detail::option_kind::strides, strides<1>, Options...>::type;
  using pool_option = typename detail::find_option<detail::option_kind::pooling, pooling<1>, Options...>::type;

  /// "layerwise: depth 2..4, filters {8, 16}, kernels {3}, strides {1}, pooling {1, 2}", for reports.
  static std::string describe() {
    auto list = [](const auto& values) {
      std::string s = "{";
      for (std::size_t i = 0; i < values.size(); ++i) s += (i ? ", " : "") + std::to_string(values[i]);
      return s + "}";
    };
    return "layerwise: depth " + std::to_string(depth_option::min) + ".." + std::to_string(depth_option::max) +
           ", filters " + list(filter_option::values) + ", kernels " + list(kernel_option::values) + ", strides " +
           list(stride_option::values) + ", pooling " + list(pool_option::values);
  }

  /// The most conv layers a genome can decode to.
  static constexpr int max_layers = depth_option::max;
  /// Genes per conv layer: filters, kernel, stride, pool.
  static constexpr std::size_t genes_per_layer = 4;

  /// Cardinality of every gene: the depth gene, then genes_per_layer genes for each of max_layers layers.
  static constexpr auto layout = [] {
    std::array<int, 1 + genes_per_layer * max_layers> l{};
    l[0] = depth_option::max - depth_option::min + 1;
    for (int i = 0; i < max_layers; ++i) {
      l[1 + genes_per_layer * i + 0] = static_cast<int>(filter_option::values.size());
      l[1 + genes_per_layer * i + 1] = static_cast<int>(kernel_option::values.size());
      l[1 + genes_per_layer * i + 2] = static_cast<int>(stride_option::values.size());
      l[1 + genes_per_layer * i + 3] = static_cast<int>(pool_option::values.size());
    }
    return l;
  }();

  /// The architecture of genome `g` (float: no formats) for `input` images and `classes` classes. An in-range
  /// genome always decodes; whether the result is well formed (a feature map may shrink to nothing) is for
  /// hwnas::validate to say.
  /// @throws hwnas::invalid_argument when `g` does not fit `layout`
  static architecture decode(std::span<const int> g, tensor_shape input, int classes) {
    check_genome(g, layout, "hwnas::space::layerwise::decode");
    architecture a;
    a.input = input;
    a.classes = classes;
    const int n = depth_option::min + g[0];
    for (int i = 0; i < n; ++i) {
      const int* gene = g.data() + 1 + genes_per_layer * i;
      conv_layer l;
      l.filters = filter_option::values[static_cast<std::size_t>(gene[0])];
      l.kernel = kernel_option::values[static_cast<std::size_t>(gene[1])];
      l.stride = stride_option::values[static_cast<std::size_t>(gene[2])];
      l.pool = pool_option::values[static_cast<std::size_t>(gene[3])];
      a.layers.push_back(l);
    }
    return a;
  }

  /// The genome of `a`'s layers (genes of unused layers 0), or nullopt when the space cannot express them (a depth,
  /// filter count, kernel, stride or pooling that is not among the choices). decode(encode(a)) has a's layers.
  static std::optional<genome> encode(const architecture& a) {
    const int n = static_cast<int>(a.layers.size());
    if (n < depth_option::min || n > depth_option::max) return std::nullopt;
    genome g(layout.size(), 0);
    g[0] = n - depth_option::min;
    for (int i = 0; i < n; ++i) {
      const auto& l = a.layers[static_cast<std::size_t>(i)];
      const auto f = detail::index_of(filter_option::values, l.filters);
      const auto k = detail::index_of(kernel_option::values, l.kernel);
      const auto s = detail::index_of(stride_option::values, l.stride);
      const auto p = detail::index_of(pool_option::values, l.pool);
      if (!f || !k || !s || !p) return std::nullopt;
      int* gene = g.data() + 1 + genes_per_layer * i;
      gene[0] = *f;
      gene[1] = *k;
      gene[2] = *s;
      gene[3] = *p;
    }
    return g;
  }
};

}  // namespace hwnas::space
