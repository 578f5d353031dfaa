// The flags every subcommand shares, and the training settings they give.

#include "commands.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <thread>

#include "cli_checks.h"
#include "network.h"

namespace torchclr::examples {

void add_common_flags(CLI::App& app, CommonFlags& flags) {
  add_data_flags(app, flags.data);
  app.add_option("--seed", flags.seed)
      ->check(non_negative_number())
      ->capture_default_str();
  app.add_option("--batch-size", flags.batch_size)
      ->check(positive_number())
      ->capture_default_str();
  app.add_option("--optimizer",
                 flags.optimizer,
                 "sgd (Caffe's solver), nesterov, adam, adamw, rmsprop, "
                 "adagrad or adadelta")
      ->check(CLI::IsMember(optimizer_names()))
      ->capture_default_str();
  app.add_option("--solver",
                 flags.solver,
                 "The update of --optimizer sgd and nesterov: pytorch "
                 "(LibTorch's: v <- m v + g; w <- w - lr v) or caffe "
                 "(Caffe's: h <- m h + lr g; w <- w - h)")
      ->check(CLI::IsMember(solver_names()))
      ->capture_default_str();
  app.add_option("--model",
                 flags.model,
                 "cifar10_full (Caffe's, the paper's), resnet56 (He et al.'s "
                 "CIFAR ResNet-56), superconvergence_resnet56 or "
                 "superconvergence_resnet20 (the super-convergence authors' "
                 "Caffe ResNets: conv biases, Caffe's BatchNorm + Scale); the "
                 "ResNets take weight decay 1e-4, resnet56 3x32x32 images, "
                 "the superconvergence ones any channels and sizes in "
                 "multiples of 4 (Fashion-MNIST's 1x28x28 too)")
      ->check(CLI::IsMember(model_names()))
      ->capture_default_str();
  app.add_option("--moving-average-fraction",
                 flags.batch_norm.moving_average_fraction,
                 "superconvergence_resnet*: Caffe BatchNorm's "
                 "moving_average_fraction (compare --superconvergence: 0.95 "
                 "for 1cycle, 0.999 for the baseline)")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  app.add_option("--ghost-batch-size",
                 flags.batch_norm.ghost_batch_size,
                 "superconvergence_resnet*: BatchNorm statistics over runs of "
                 "N images of each batch, as on GPUs of N images each (0: the "
                 "whole batch; compare --superconvergence: 125)")
      ->check(non_negative_number())
      ->capture_default_str();
  // A value is optional: --augment alone is pad-crop, as when it was a flag.
  app.add_option("--augment",
                 flags.augment,
                 "Training images: none (the default; compare "
                 "--superconvergence: flip), flip (mirrored with probability "
                 "1/2: the super-convergence files' mirror: true, crop_size "
                 "32) or pad-crop (padded by 4, randomly cropped and flipped; "
                 "--augment alone)")
      ->expected(0, 1)
      ->default_str("pad-crop")
      ->check(CLI::IsMember(augmentation_names()));
  app.add_option("--out", flags.out, "Output folder");
  app.add_flag("--quiet", flags.quiet, "No progress output");
  app.add_option("--threads",
                 flags.threads,
                 "LibTorch threads (0: OMP_NUM_THREADS if set, else every "
                 "core when running alone)")
      ->check(non_negative_number())
      ->capture_default_str();
  add_job_flags(app, flags.job);
}

namespace {

// The model's settings in `config`: the model, its data check, its weight
// decay and its BatchNorm settings.
void set_model(const CommonFlags& flags, TrainConfig& config) {
  config.run.model = flags.model;
  const bool resnet = flags.model != "cifar10_full";
  if (flags.model == "resnet56" && flags.data.dataset == "fashion-mnist") {
    // Checked before any data is read; make_network checks the shape too.
    throw CLI::ValidationError("--model",
                               "resnet56 takes 3x32x32 colour images; "
                               "--dataset fashion-mnist has 1x28x28 (use "
                               "cifar10 or cifar100, or another --model)");
  }
  if (resnet) {
    // He et al.'s and the super-convergence files', not Caffe's 0.004.
    config.run.weight_decay = 1e-4;
  }
  const BatchNormSettings files;
  if (!has_caffe_batch_norm(flags.model) &&
      (flags.batch_norm.ghost_batch_size != files.ghost_batch_size ||
       flags.batch_norm.moving_average_fraction !=
           files.moving_average_fraction)) {
    throw CLI::ValidationError(
        flags.batch_norm.ghost_batch_size != files.ghost_batch_size
            ? "--ghost-batch-size"
            : "--moving-average-fraction",
        "--ghost-batch-size and --moving-average-fraction set Caffe's "
        "BatchNorm, which only the superconvergence_resnet models have; "
        "--model " +
            flags.model + " has none");
  }
  config.run.batch_norm = flags.batch_norm;
}

}  // namespace

TrainConfig train_config(const CommonFlags& flags) {
  TrainConfig config;
  config.seed = flags.seed;
  config.batch_size = flags.batch_size;
  if (flags.solver == "caffe" && flags.optimizer != "sgd" &&
      flags.optimizer != "nesterov") {
    throw CLI::ValidationError(
        "--solver",
        "caffe is Caffe's SGD update, for --optimizer sgd or nesterov; "
        "--optimizer " +
            flags.optimizer + " has no Caffe form here");
  }
  config.run.optimizer = optimizer_kind(flags.optimizer, flags.solver);
  config.augmentation = augmentation_from_name(flags.augment);
  config.run.dataset = flags.data.dataset;
  config.run.num_classes = flags.data.dataset == "cifar100" ? 100 : 10;
  set_model(flags, config);
  config.device = pick_device(flags.data.device);
  config.job = join_job(flags.job, flags.batch_size);
  if (flags.threads > 0) {
    torch::set_num_threads(static_cast<int>(flags.threads));
  } else if (!std::getenv("OMP_NUM_THREADS") && config.job.size() == 1) {
    torch::set_num_threads(
        static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
  }
  config.output.progress = !flags.quiet && config.job.is_main();
  if (config.job.is_main() && !solver_text(config.run.optimizer).empty()) {
    fmt::print("{}\n", solver_text(config.run.optimizer));
  }
  return config;
}

}  // namespace torchclr::examples
