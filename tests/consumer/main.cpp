// A user's program: includes the installed umbrella header and uses a little of each layer.
#include <hwnas/hwnas.hpp>

#include <cstdio>
#include <vector>

int main() {
  constexpr hwnas::qformat w = hwnas::qformat::weight(1, 2);  // signed Q1.2, 4 bits
  static_assert(w.bits() == 4);
  if (hwnas::quantize(0.3, w) != 1) return 1;                  // 0.3 * 4 = 1.2 -> 1

  // The reference CNN at 4 bits, mapped onto a Cyclone IV at 100 MHz with the exact search.
  const auto arch = hwnas::with_uniform_bits(hwnas::reference_cnn(), 4);
  const hwnas::fpga::pipelined_pe<hwnas::fpga::cyclone_iv_ep4ce115> model;
  const auto report = model.map(arch, hwnas::spec{.max_luts = 100000});
  if (!report.feasible) return 2;

  // A trained network's hardware: an integer network of the 4-bit architecture (zero codes here), its Verilog.
  std::vector<hwnas::nn::integer_layer> layers;
  hwnas::qformat in = arch.effective_input_format();
  for (const auto& g : hwnas::geometry(arch)) {
    hwnas::nn::integer_layer l;
    const std::size_t i = layers.size();
    l.input_format = in;
    l.weight_format = g.is_classifier ? *arch.classifier.weight_format : *arch.layers[i].weight_format;
    l.output_format = g.is_classifier ? hwnas::qformat::activation(0, 8) : *arch.layers[i].activation_format;
    l.weights.assign(static_cast<std::size_t>(g.weight_count()), 0);
    l.bias.assign(static_cast<std::size_t>(g.out_channels), 0);
    in = l.output_format;
    layers.push_back(l);
  }
  const hwnas::nn::integer_network net(arch, layers);
  const auto mapping = model.best_one_group_mapping(arch, hwnas::spec{.max_luts = 100000});
  if (!mapping) return 3;
  const auto design = hwnas::rtl::generate_verilog(net, *mapping);
  if (design.files.empty() || design.files[0].name != "hwnas_top.v") return 4;

  std::puts("consumer ok");
  return 0;
}
