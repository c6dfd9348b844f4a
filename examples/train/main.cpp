// hwnas-train: trains a CNN described by an architecture JSON on Fashion-MNIST, in float or with quantization-aware
// training, then reports its test accuracy — and, for a quantized network, the accuracy of integer-only inference,
// which must be the same.
//
//   hwnas-train                                   # the reference CNN, float, 10 epochs
//   hwnas-train --bits 4                          # the same network, 4-bit weights and activations (QAT)
//   hwnas-train --arch examples/architectures/reference_cnn_4bit.json --json result.json
//   hwnas-train --bits 4 --save-integer cnn4.json  # the trained integer network, for hwnas-export
//
// Exit codes: 0 success, 2 bad input (options, architecture file, data), 3 training diverged, 1 anything else.

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <string>
#include <system_error>
#include <tuple>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "hwnas/core/architecture.hpp"
#include "hwnas/core/atomic_file.hpp"
#include "hwnas/core/error.hpp"
#include "../common/cli_main.hpp"
#include "hwnas/core/parallel.hpp"
#include "hwnas/core/rng.hpp"
#include "hwnas/io/architecture_json.hpp"
#include "hwnas/io/dataset.hpp"
#include "hwnas/io/fashion_mnist.hpp"
#include "hwnas/nn/integer_network.hpp"
#include "hwnas/nn/integer_network_file.hpp"
#include "hwnas/nn/network.hpp"
#include "hwnas/nn/train.hpp"

namespace {

struct options {
  std::string arch_file, data_dir, json_file, integer_file, schedule = "one_cycle";
  std::optional<int> bits;
  std::size_t train_subset = 0, validation = 5000;
  std::uint64_t init_seed = 0;
  bool quiet = false, heavy_ball = false;
  hwnas::nn::train_config train;
};

int run(const options& o) {
  using hwnas::examples::percent;
  using namespace hwnas;
  // 1. The architecture: a JSON file or the reference CNN, optionally with uniform fixed-point formats.
  architecture arch = o.arch_file.empty() ? reference_cnn() : io::load_architecture(o.arch_file);
  if (o.bits) arch = with_uniform_bits(arch, *o.bits);
  validate(arch);
  // The output files are checked before hours of training, not after: their directory must exist and they must
  // not be directories. (They are written atomically at the end.)
  for (const auto& [file, what] : {std::pair{o.json_file, "result file"}, std::pair{o.integer_file, "integer network"}}) {
    if (file.empty()) continue;
    const std::filesystem::path p(file);
    const auto dir = p.has_parent_path() ? p.parent_path() : std::filesystem::path(".");
    if (std::filesystem::is_directory(p) || !std::filesystem::is_directory(dir))
      throw io_error(file + ": cannot write the " + what + " there (a directory, or its directory does not exist); "
                     "nothing was trained");
  }
  // Never over a file that is not ours: an output may replace an earlier output of hwnas-train only, never the
  // architecture it reads or a user's other file.
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!o.json_file.empty() && !o.integer_file.empty() && fs::path(o.json_file).lexically_normal() ==
                                                             fs::path(o.integer_file).lexically_normal())
    throw invalid_argument("--json and --save-integer name the same file " + o.json_file + ": give two files");
  for (const auto& [file, marker, what] :
       {std::tuple{o.json_file, "\"quantized\"", "--json"}, std::tuple{o.integer_file, "hwnas-integer-network", "--save-integer"}}) {
    if (file.empty() || !fs::exists(file)) continue;
    if (!o.arch_file.empty() && fs::equivalent(file, o.arch_file, ec))
      throw invalid_argument(std::string(what) + " " + file + " is the architecture file this run reads: give another "
                             "file (nothing was changed)");
    std::ifstream in(file, std::ios::binary);
    std::string head(4096, '\0');
    in.read(head.data(), static_cast<std::streamsize>(head.size()));
    head.resize(static_cast<std::size_t>(in.gcount()));
    if (head.find(marker) == std::string::npos)
      throw invalid_argument(std::string(what) + " " + file + " exists and is not an output of hwnas-train: give a new "
                             "file name (nothing was changed)");
  }
  if (!o.integer_file.empty() && !arch.fully_quantized())
    throw invalid_argument("--save-integer needs a fully quantized network (every layer with weight and activation "
                           "formats, the classifier with weights): pass --bits N or such an architecture file");

  // 2. The data: Fashion-MNIST, a stratified validation split, optionally a random training subset.
  auto data = io::fashion_mnist(o.data_dir, o.validation, o.train.seed);
  if (o.train_subset > 0 && o.train_subset < data.train.size()) {
    rng gen(o.train.seed ^ 0x5eed5eedULL);
    auto order = io::shuffled_indices(data.train.size(), gen);
    order.resize(o.train_subset);
    data.train = io::subset(data.train, order);
  }

  auto cfg = o.train;
  cfg.schedule = nn::parse_lr_schedule(o.schedule);
  cfg.nesterov = !o.heavy_ball;
  nn::validate(cfg);
  thread_pool pool(cfg.threads ? cfg.threads : thread_pool::default_threads());

  // 3. Train.
  nn::network net(arch, o.init_seed);
  std::printf("hwnas-train: %s network, %zu parameters, %lld MACs/image; %zu training, %zu validation, %zu test "
              "images; %zu threads\n",
              net.quantized() ? "fixed-point (QAT)" : "float", net.parameter_count(),
              static_cast<long long>(total_macs(arch)), data.train.size(), data.validation.size(), data.test.size(),
              pool.size());
  const auto result = nn::train(net, data.train, &data.validation, cfg, pool, [&](const nn::epoch_report& r) {
    if (!o.quiet) {
      std::printf("epoch %2d/%d  loss %.4f  train %s", r.epoch, r.epochs, r.loss, percent(r.train_accuracy).c_str());
      if (r.validation_accuracy) std::printf("  validation %s", percent(*r.validation_accuracy).c_str());
      std::printf("  %.0f img/s  %.1f s  lr %.4g\n", r.images_per_second, r.seconds, r.learning_rate);
      std::fflush(stdout);
    }
    return true;
  });

  // 4. Test: float / QAT accuracy, then integer-only inference for a quantized network.
  const auto t0 = std::chrono::steady_clock::now();
  const auto test = nn::evaluate(net, data.test, &pool);
  const double infer_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("test accuracy (%s): %s  (%.0f img/s inference)\n", net.quantized() ? "QAT" : "float",
              percent(test.accuracy()).c_str(), static_cast<double>(data.test.size()) / infer_s);
  std::optional<double> integer_accuracy;
  double integer_ips = 0.0;
  if (net.quantized()) {
    const auto inet = net.to_integer();
    const auto t1 = std::chrono::steady_clock::now();
    integer_accuracy = inet.accuracy(data.test, &pool);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();
    integer_ips = static_cast<double>(data.test.size()) / s;
    std::printf("test accuracy (integer inference): %s  (%.0f img/s)%s\n", percent(*integer_accuracy).c_str(),
                integer_ips, *integer_accuracy == test.accuracy() ? "  = QAT" : "  != QAT (bug: please report)");
    if (!o.integer_file.empty()) {
      nn::save_integer_network(inet, o.integer_file);
      std::printf("integer network: %s (hwnas-export --network %s ... writes its Verilog)\n", o.integer_file.c_str(),
                  o.integer_file.c_str());
    }
  }
  std::printf("training: %.0f img/s over %zu epochs, %.1f s\n", result.images_per_second, result.history.size(),
              result.seconds);

  // 5. The result file.
  if (!o.json_file.empty()) {
    nlohmann::json j;
    j["architecture"] = io::to_json(arch);
    j["quantized"] = net.quantized();
    j["config"] = nn::to_json(cfg);
    j["config"].update(nlohmann::json{{"init_seed", o.init_seed},
                                      {"threads", pool.size()},
                                      {"train_images", data.train.size()},
                                      {"validation_images", data.validation.size()}});
    j["epochs"] = result.history.size();
    nlohmann::json hist = nlohmann::json::array();
    for (const auto& r : result.history)
      hist.push_back({{"epoch", r.epoch},
                      {"loss", r.loss},
                      {"train_accuracy", r.train_accuracy},
                      {"validation_accuracy", r.validation_accuracy ? nlohmann::json(*r.validation_accuracy) : nlohmann::json()},
                      {"images_per_second", r.images_per_second},
                      {"seconds", r.seconds},
                      {"learning_rate", r.learning_rate}});
    j["history"] = hist;
    j["test_accuracy"] = test.accuracy();
    j["test_loss"] = test.mean_loss();
    j["test_accuracy_integer"] = integer_accuracy ? nlohmann::json(*integer_accuracy) : nlohmann::json();
    j["train_images_per_second"] = result.images_per_second;
    j["inference_images_per_second"] = static_cast<double>(data.test.size()) / infer_s;
    j["integer_inference_images_per_second"] = integer_accuracy ? nlohmann::json(integer_ips) : nlohmann::json();
    write_file_atomically(o.json_file, j.dump(2) + "\n");
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  options o;
  CLI::App app{"Trains a CNN (architecture JSON) on Fashion-MNIST in float or fixed point and reports its test "
               "accuracy, with integer-only inference for quantized networks."};
  app.add_option("--arch", o.arch_file, "architecture JSON file (default: the reference CNN; see "
                                        "examples/architectures/ and docs/architecture-json.md)");
  app.add_option("--data", o.data_dir, "Fashion-MNIST directory (default: $HWNAS_DATA, else "
                                       "/usr/share/datasets/fashion-mnist)");
  app.add_option("--bits", o.bits, "uniform fixed point: N-bit weights (s0.N-1) and activations (u1.N-1), 2..16; "
                                   "default: the formats in the JSON (none = float)");
  app.add_option("--epochs", o.train.epochs, "epochs")->capture_default_str()->check(CLI::Range(1, 100000));
  app.add_option("--batch", o.train.batch, "images per SGD step")->capture_default_str();
  app.add_option("--lr", o.train.learning_rate, "peak learning rate")->capture_default_str();
  app.add_option("--momentum", o.train.momentum, "SGD momentum")->capture_default_str();
  app.add_flag("--heavy-ball", o.heavy_ball, "classical momentum instead of Nesterov");
  app.add_option("--weight-decay", o.train.weight_decay, "L2 weight decay (weights only)")->capture_default_str();
  app.add_option("--schedule", o.schedule, "constant, step, cosine or one_cycle")->capture_default_str();
  app.add_option("--warmup", o.train.warmup, "fraction of the run spent warming up")->capture_default_str();
  app.add_flag("--flip", o.train.random_flip, "augmentation: mirror half of the images left-right");
  app.add_option("--shift", o.train.max_shift, "augmentation: random shifts up to N pixels (0: off)")
      ->capture_default_str();
  app.add_option("--seed", o.train.seed, "seed of the data split, order and augmentation")->capture_default_str();
  app.add_option("--init-seed", o.init_seed, "seed of the weight initialization")->capture_default_str();
  app.add_option("--threads", o.train.threads, "threads (0: all cores)")->capture_default_str();
  app.add_option("--slices", o.train.slices, "slices per batch (0: one per thread); equal slices give equal runs "
                                             "whatever the thread count")
      ->capture_default_str();
  app.add_option("--train-subset", o.train_subset, "train on a random subset of N images (0: all)")
      ->capture_default_str()->check(CLI::NonNegativeNumber);
  app.add_option("--validation", o.validation, "training images held out for validation")->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  app.add_option("--json", o.json_file, "write the result (accuracies, throughput, history, config) to FILE");
  app.add_option("--save-integer", o.integer_file,
                 "write the trained integer network (codes and formats, docs/hardware.md#integer-network-file) to "
                 "FILE, the input of hwnas-export; needs a fully quantized network");
  app.add_flag("--quiet", o.quiet, "no per-epoch lines");
  return hwnas::examples::cli_main("hwnas-train", app, argc, argv, [&] {
    if (app.count("--save-integer") && o.integer_file.empty())
      throw hwnas::invalid_argument("--save-integer needs a file name");
    if (app.count("--json") && o.json_file.empty()) throw hwnas::invalid_argument("--json needs a file name");
    return run(o);
  });
}
