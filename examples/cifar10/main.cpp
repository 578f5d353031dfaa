// cifar10_clr: the paper's CIFAR-10 comparisons (fixed vs triangular2 vs
// exp_range ...) on Caffe's cifar10_full network, on CPU or CUDA.
//
//   cifar10_clr compare --dataset fashion-mnist --scale 0.02
//   cifar10_clr train --policy triangular2 --data DIR --out out/tri2
//   cifar10_clr range-test --dataset fashion-mnist

#include <fmt/format.h>
#include <torchclr/data/cifar.h>
#include <torchclr/data/idx.h>
#include <torchclr/files.h>
#include <torchclr/range_test.h>

#include <CLI/CLI.hpp>
#include <cmath>
#include <filesystem>
#include <map>
#include <numeric>

#include "network.h"
#include "policy_cli.h"
#include "progress.h"
#include "trainer.h"

namespace ex = torchclr::examples;
namespace fs = std::filesystem;

namespace {

struct DataFlags {
  std::string dataset = "cifar10";
  std::string dir;
  bool subtract_mean = true;  // Caffe's mean image, as in the paper
  int64_t train_limit = 0;    // use the first N training images (0: all)
  int64_t test_limit = 0;     // evaluate on the first N test images (0: all)
};

std::string default_dir(const std::string& dataset) {
  return dataset == "fashion-mnist" ? "/usr/share/datasets/fashion-mnist"
                                    : "data/cifar-10-batches-bin";
}

template <typename Dataset>
std::pair<ex::DataSplit, ex::DataSplit> load_with(const DataFlags& flags,
                                                  const std::string& dir) {
  using torchclr::data::ImageDatasetOptions;
  using torchclr::data::Mode;
  // Caffe feeds raw 0..255 pixels minus the mean image (no 1/255 scale); the
  // paper's learning rates and cifar10_full's 1e-4 init assume that range.
  Dataset train(ImageDatasetOptions(dir).to_unit_range(false).subtract_mean(
      flags.subtract_mean));
  auto test_options = ImageDatasetOptions(dir)
                          .mode(Mode::kTest)
                          .to_unit_range(false)
                          .subtract_mean(flags.subtract_mean);
  if (flags.subtract_mean) {
    test_options.mean_image(train.mean_image());
  }
  Dataset test(test_options);
  auto whole = [](Dataset& dataset, int64_t limit) {
    int64_t n = static_cast<int64_t>(*dataset.size());
    if (limit > 0) {
      n = std::min(n, limit);
    }
    std::vector<size_t> all(static_cast<size_t>(n));
    std::iota(all.begin(), all.end(), size_t{0});
    auto batch = dataset.get_batch(all);
    return ex::DataSplit{batch.data, batch.target};
  };
  return {whole(train, flags.train_limit), whole(test, flags.test_limit)};
}

std::pair<ex::DataSplit, ex::DataSplit> load(const DataFlags& flags) {
  const std::string dir =
      flags.dir.empty() ? default_dir(flags.dataset) : flags.dir;
  if (flags.dataset == "fashion-mnist") {
    return load_with<torchclr::data::MNIST>(flags, dir);
  }
  return load_with<torchclr::data::CIFAR10>(flags, dir);
}

torch::Device pick_device(const std::string& name) {
  if (name == "cuda") {
    if (!torch::cuda::is_available()) {
      throw std::runtime_error(
          "--device cuda was asked for, but no CUDA device is available "
          "(this LibTorch build or machine has none); use --device cpu");
    }
    return torch::kCUDA;
  }
  if (name == "auto" && torch::cuda::is_available()) {
    return torch::kCUDA;
  }
  return torch::kCPU;
}

// The paper's Table 1 runs: iterations and accuracy on CIFAR-10.
struct PaperRun {
  const char* policy;
  int64_t iterations;
  double accuracy;
};
const std::vector<PaperRun> kPaperRuns = {
    {"fixed", 70000, 0.814},
    {"triangular2", 25000, 0.814},
    {"decay", 25000, 0.785},
    {"exp", 70000, 0.791},
    {"exp_range", 42000, 0.822},
};

// `iterations` of the paper's runs at `scale`, at least 1.
int64_t scaled(int64_t iterations, double scale) {
  return std::max<int64_t>(1, std::llround(iterations * scale));
}

const PaperRun* paper_run(const std::string& policy) {
  for (const auto& run : kPaperRuns) {
    if (policy == run.policy) {
      return &run;
    }
  }
  return nullptr;
}

// The paper's settings for `policy`, with every length scaled by `scale`.
ex::PolicyFlags paper_policy(const std::string& policy, double scale) {
  ex::PolicyFlags f;
  f.policy = policy;
  f.base_lr = 0.001;
  f.max_lr = 0.006;
  f.step_size_up = scaled(2000, scale);
  f.T_0 = scaled(2000, scale);
  f.lr = policy == "decay" ? 0.007 : 0.001;
  f.end_lr = 0.001;
  f.decay_iters = scaled(4000, scale);
  f.milestones = {scaled(60000, scale), scaled(65000, scale)};
  f.step_size = scaled(10000, scale);
  // Per-iteration decay, so the whole scaled run decays as the paper's did.
  f.gamma = std::pow(0.99994, 1.0 / scale);
  return f;
}

int64_t paper_iterations(const std::string& policy, double scale) {
  const PaperRun* run = paper_run(policy);
  return scaled(run ? run->iterations : 25000, scale);
}

void add_data_flags(CLI::App& app, DataFlags& flags) {
  app.add_option("--dataset", flags.dataset, "cifar10 or fashion-mnist")
      ->check(CLI::IsMember({"cifar10", "fashion-mnist"}))
      ->capture_default_str();
  app.add_option(
      "--data",
      flags.dir,
      "Data folder (cifar10: data/cifar-10-batches-bin, fashion-mnist: "
      "/usr/share/datasets/fashion-mnist)");
  app.add_option("--subtract-mean", flags.subtract_mean)->capture_default_str();
  app.add_option(
         "--train-limit", flags.train_limit, "Use the first N images (0: all)")
      ->check(ex::non_negative_number());
  app.add_option("--test-limit",
                 flags.test_limit,
                 "Evaluate on the first N test images (0: all)")
      ->check(ex::non_negative_number());
}

int run_train(const DataFlags& data,
              ex::TrainConfig config,
              const std::string& device) {
  config.device = pick_device(device);
  auto [train, test] = load(data);
  auto result = ex::train_network(config, train, test);
  fmt::print(
      "{}: {} iterations, test accuracy {:.4f}, {:.1f} s of training "
      "(data pipeline {:.1f}%), weights digest {}\n",
      config.policy.policy,
      config.iterations,
      result.final_accuracy,
      result.seconds,
      result.seconds > 0 ? 100 * result.data_seconds / result.seconds : 0.0,
      result.weights_digest);
  return 0;
}

int run_compare(const DataFlags& data,
                ex::TrainConfig base,
                const std::string& device,
                double scale,
                int64_t eval_every,
                std::vector<std::string> policies) {
  base.device = pick_device(device);
  auto [train, test] = load(data);
  const std::string out = base.out_dir.empty() ? "out/compare" : base.out_dir;
  fs::create_directories(out);
  std::string table = fmt::format(
      "# {} at scale {} (batch {}, seed {}, {})\n\n"
      "| policy | iterations | test accuracy | wall time (s) | paper "
      "(CIFAR-10, full scale) |\n|---|---|---|---|---|\n",
      data.dataset,
      scale,
      base.batch_size,
      base.seed,
      base.device.str());
  std::string plots;
  for (const auto& policy : policies) {
    auto config = base;
    config.policy = paper_policy(policy, scale);
    config.iterations = paper_iterations(policy, scale);
    config.eval_every = eval_every > 0 ? eval_every : scaled(1000, scale);
    config.out_dir = (fs::path(out) / policy).string();
    config.checkpoint.clear();
    config.label = policy;
    auto result = ex::train_network(config, train, test);
    const PaperRun* run = paper_run(policy);
    const std::string paper =
        run ? fmt::format("{:.1f}% at {}", 100 * run->accuracy, run->iterations)
            : "-";
    table += fmt::format("| {} | {} | {:.2f}% | {:.1f} | {} |\n",
                         policy,
                         config.iterations,
                         100 * result.final_accuracy,
                         result.seconds,
                         paper);
    plots += fmt::format("{}{} every ::1 using 1:5 with lines lw 2 title '{}'",
                         plots.empty() ? "plot " : ", ",
                         torchclr::gnuplot_quote(
                             (fs::path(config.out_dir) / "log.csv").string()),
                         policy);
  }
  const auto table_path = (fs::path(out) / "results.md").string();
  torchclr::write_file_atomically(table_path, table, "--out");
  const auto png = (fs::path(out) / "accuracy.png").string();
  const std::string script = fmt::format(
      "set terminal pngcairo size 900,450 noenhanced\n"
      "set datafile separator ','\nset title 'Test accuracy ({}, scale {})'\n"
      "set xlabel 'iteration'\nset ylabel 'test accuracy'\nset key bottom "
      "right\nset grid\n{}\n",
      data.dataset,
      scale,
      plots);
  fmt::print("{}\n", table);
  const auto plot = torchclr::render_gnuplot(script, png);
  if (plot.status == torchclr::PlotStatus::kWritten) {
    fmt::print("wrote {} and {}\n", table_path, png);
  } else {
    fmt::print("wrote {}; no plot ({})\n", table_path, plot.message);
  }
  return 0;
}

// Batches of a whole split, one pass per epoch: for training shuffled anew
// each pass, whole batches only (as train_network draws them); otherwise in
// order, the last batch possibly smaller.
class SplitBatches final : public torchclr::BatchSource {
 public:
  SplitBatches(const ex::DataSplit& split,
               int64_t batch_size,
               uint64_t seed,
               bool training)
      : split_(split),
        batch_size_(batch_size),
        seed_(seed),
        training_(training) {}

  std::optional<torchclr::Batch> next() override {
    const int64_t n = split_.images.size(0);
    const int64_t end = std::min(n, offset_ + batch_size_);
    if (end == offset_ || (training_ && end - offset_ < batch_size_)) {
      offset_ = 0;
      order_ = torch::Tensor();
      return std::nullopt;
    }
    if (!order_.defined()) {
      if (training_) {
        torch::manual_seed(seed_ + static_cast<uint64_t>(epoch_++));
        order_ = torch::randperm(n, torch::kLong);
      } else {
        order_ = torch::arange(n, torch::kLong);
      }
    }
    auto index = order_.slice(0, offset_, end);
    offset_ = end;
    return torchclr::Batch{split_.images.index_select(0, index),
                           split_.targets.index_select(0, index)};
  }

 private:
  const ex::DataSplit& split_;
  int64_t batch_size_;
  uint64_t seed_;
  bool training_;
  int64_t epoch_ = 0;
  int64_t offset_ = 0;
  torch::Tensor order_;
};

struct RangeFlags {
  double start_lr = 1e-5;
  double end_lr = 0.1;
  int64_t num_iter = 300;
  std::string sweep = "exponential";
  int64_t eval_every = 0;  // 0: no validation pass
  int64_t eval_images = 1000;
  double step_size_epochs = 4;
};

std::string format_lr(const std::optional<double>& lr) {
  return lr ? fmt::format("{:.3g}", *lr) : std::string("none");
}

int run_range_test(const DataFlags& data,
                   const ex::TrainConfig& config,
                   const std::string& device_name,
                   const RangeFlags& flags) {
  const auto device = pick_device(device_name);
  auto [train, test] = load(data);
  torch::manual_seed(config.seed);
  ex::Cifar10Full model(
      train.images.size(1), train.images.size(2), train.images.size(3));
  model->to(device);
  torch::optim::SGD optimizer(
      model->param_groups(flags.start_lr, config.momentum, config.weight_decay),
      torch::optim::SGDOptions(flags.start_lr));

  ex::ProgressBar bar("range-test", flags.num_iter, config.progress);
  torchclr::LRRangeTestOptions options;
  options.start_lr(flags.start_lr)
      .end_lr(flags.end_lr)
      .num_iter(flags.num_iter)
      .sweep(flags.sweep == "linear" ? torchclr::LRSweep::kLinear
                                     : torchclr::LRSweep::kExponential)
      .metric(torchclr::RangeTestMetric::kAccuracy)
      .eval_every(std::max<int64_t>(1, flags.eval_every))
      .device(device)
      .on_progress([&](int64_t iteration, double lr, double loss) {
        bar.update(iteration + 1,
                   fmt::format("lr {:.2e}  loss {:.3f}", lr, loss));
      });
  torchclr::LRRangeTest range_test(model, optimizer, options);
  // A folder that cannot be made fails here, not after the sweep.
  const std::string out =
      config.out_dir.empty() ? "out/range_test" : config.out_dir;
  fs::create_directories(out);
  TORCH_CHECK(train.images.size(0) >= config.batch_size,
              "the training split has ",
              train.images.size(0),
              " images, fewer than one batch of ",
              config.batch_size);
  SplitBatches batches(train, config.batch_size, config.seed, true);
  ex::DataSplit validation{test.images.slice(0, 0, flags.eval_images),
                           test.targets.slice(0, 0, flags.eval_images)};
  SplitBatches validation_batches(validation, 500, config.seed, false);
  auto result = flags.eval_every > 0
                    ? range_test.run(batches, &validation_batches)
                    : range_test.run(batches);
  bar.finish(result.stop_iteration, "done");

  const auto csv = fs::path(out) / "range_test.csv";
  const auto png = fs::path(out) / "range_test.png";
  const auto report = torchclr::write_csv_and_plot(result, csv, png);
  const auto& s = result.suggestions;
  const char* reasons[] = {"completed", "diverged", "non-finite loss"};
  fmt::print(
      "range test on {}: {} iterations, stopped: {} at lr {:.3g}\n"
      "  paper rule:       base_lr {}  max_lr {}\n"
      "  steepest descent: {}\n  fastai valley:    {}\n",
      data.dataset,
      result.stop_iteration,
      reasons[static_cast<int>(result.stop_reason)],
      result.stop_lr,
      format_lr(s.base_lr),
      format_lr(s.max_lr),
      format_lr(s.steepest_lr),
      format_lr(s.valley_lr));
  std::string summary =
      fmt::format("base_lr={}\nmax_lr={}\nsteepest_lr={}\nvalley_lr={}\n",
                  format_lr(s.base_lr),
                  format_lr(s.max_lr),
                  format_lr(s.steepest_lr),
                  format_lr(s.valley_lr));
  if (s.base_lr && s.max_lr) {
    const int64_t per_epoch = train.images.size(0) / config.batch_size;
    const auto cyclic =
        result.to_cyclic_options(per_epoch, flags.step_size_epochs);
    const std::string command = fmt::format(
        "cifar10_clr train --dataset {} --policy triangular --base-lr {:.3g} "
        "--max-lr {:.3g} --step-size-up {}",
        data.dataset,
        cyclic.base_lr().values()[0],
        cyclic.max_lr().values()[0],
        cyclic.step_size_up());
    summary += fmt::format("step_size_up={}\n", cyclic.step_size_up());
    fmt::print("  train with:       {}\n", command);
  }
  torchclr::write_file_atomically(
      fs::path(out) / "suggestions.txt", summary, "--out");
  fmt::print("wrote {}{}\n",
             csv.string(),
             report.status == torchclr::PlotStatus::kWritten
                 ? " and " + png.string()
                 : "; no plot: " + report.message);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Cyclical learning rates on CIFAR-10 / Fashion-MNIST"};
  app.require_subcommand(1);
  DataFlags data;
  ex::TrainConfig config;
  std::string device = "auto";
  uint64_t seed = 1;
  bool quiet = false;
  auto common = [&](CLI::App* sub) {
    add_data_flags(*sub, data);
    sub->add_option("--device", device, "cpu, cuda or auto")
        ->check(CLI::IsMember({"cpu", "cuda", "auto"}))
        ->capture_default_str();
    sub->add_option("--seed", seed)
        ->check(ex::non_negative_number())
        ->capture_default_str();
    sub->add_option("--batch-size", config.batch_size)
        ->check(ex::positive_number())
        ->capture_default_str();
    sub->add_option("--out", config.out_dir, "Output folder");
    sub->add_flag("--quiet", quiet, "No progress bar");
  };

  auto* train = app.add_subcommand("train", "Train with one policy");
  common(train);
  ex::add_policy_flags(*train, config.policy);
  train->add_option("--iterations", config.iterations)
      ->check(ex::positive_number())
      ->capture_default_str();
  train->add_option("--eval-every", config.eval_every)
      ->check(ex::positive_number())
      ->capture_default_str();
  train->add_option("--checkpoint", config.checkpoint, "Checkpoint file");
  train->add_flag("--resume", config.resume, "Continue from --checkpoint");
  train->add_option("--stop-after", config.stop_after)->group("");

  auto* compare = app.add_subcommand(
      "compare", "Train the paper's Table 1 policies and tabulate them");
  common(compare);
  double scale = 1.0;
  std::vector<std::string> policies = {
      "fixed", "triangular2", "decay", "exp", "exp_range"};
  // Below 1e-4 the scaled exp decay per step underflows to 0; above 100 the
  // runs take months.
  compare
      ->add_option(
          "--scale", scale, "1.0: the paper's iteration counts (1e-4 to 100)")
      ->check(ex::finite_number())
      ->check(CLI::Range(1e-4, 100.0))
      ->capture_default_str();
  int64_t compare_eval_every = 0;
  compare
      ->add_option(
          "--eval-every",
          compare_eval_every,
          "Evaluate every n iterations (default: 1000 x scale, the paper's)")
      ->check(ex::non_negative_number());
  compare->add_option("--policies", policies)
      ->check(CLI::IsMember(ex::policy_names()))
      ->capture_default_str();

  auto* range = app.add_subcommand(
      "range-test", "Sweep the LR upwards and suggest CLR bounds");
  common(range);
  RangeFlags range_flags;
  range->add_option("--start-lr", range_flags.start_lr)
      ->check(ex::finite_number())
      ->check(ex::positive_number())
      ->capture_default_str();
  range->add_option("--end-lr", range_flags.end_lr)
      ->check(ex::finite_number())
      ->check(ex::positive_number())
      ->capture_default_str();
  range->add_option("--num-iter", range_flags.num_iter)
      ->check(ex::positive_number())
      ->capture_default_str();
  range->add_option("--sweep", range_flags.sweep, "exponential or linear")
      ->check(CLI::IsMember({"exponential", "linear"}))
      ->capture_default_str();
  range
      ->add_option(
          "--eval-every",
          range_flags.eval_every,
          "Test accuracy every n iterations, as the paper did (0: off)")
      ->check(ex::non_negative_number());
  range->add_option("--eval-images", range_flags.eval_images)
      ->check(ex::positive_number())
      ->capture_default_str();
  range
      ->add_option("--step-size-epochs",
                   range_flags.step_size_epochs,
                   "Suggested CLR half cycle, in epochs (up to 1e6)")
      ->check(ex::finite_number())
      ->check(CLI::Range(1e-6, 1e6))
      ->capture_default_str();

  CLI11_PARSE(app, argc, argv);
  config.seed = seed;
  config.progress = !quiet;
  try {
    if (*train) {
      return run_train(data, config, device);
    }
    if (*range) {
      return run_range_test(data, config, device, range_flags);
    }
    return run_compare(
        data, config, device, scale, compare_eval_every, policies);
  } catch (const c10::Error& e) {
    fmt::print(stderr, "cifar10_clr: {}\n", e.what_without_backtrace());
  } catch (const std::exception& e) {
    fmt::print(stderr, "cifar10_clr: {}\n", e.what());
  }
  return 1;
}
