// `cifar10_clr train`: one schedule, with a log, a plot and checkpoints.

#include <fmt/format.h>

#include <memory>

#include "cli_checks.h"
#include "commands.h"
#include "schedule_flags.h"

namespace torchclr::examples {
namespace {

struct TrainFlags {
  CommonFlags common;
  ScheduleSpec schedule{kDefaultSchedule, ""};
  double lr = 0.001;
  int64_t iterations = 70000;
  int64_t eval_every = 1000;
  int64_t eval_images = 0;
  std::string checkpoint;
  bool resume = false;
  int64_t swa_start = 0;
  int64_t swa_every = 0;  ///< 0: --eval-every
};

int run_train(const TrainFlags& flags) {
  TrainConfig config = train_config(flags.common);
  config.run.schedule = flags.schedule;
  config.run.lr = flags.lr;
  config.iterations = flags.iterations;
  config.eval_every = flags.eval_every;
  config.eval_images = flags.eval_images;
  config.output.out_dir = flags.common.out;
  config.output.checkpoint = flags.checkpoint;
  config.output.resume = flags.resume;
  config.swa.start = flags.swa_start;
  config.swa.every = flags.swa_every > 0 ? flags.swa_every : flags.eval_every;
  const std::string schedule = flags.schedule.file.empty()
                                   ? short_text(flags.schedule.text)
                                   : "--schedule-file " + flags.schedule.file;
  if (config.job.is_main()) {
    fmt::print("schedule: {} (optimizer lr {})\n", schedule, config.run.lr);
  }
  const auto [train, test] = load_data(flags.common.data);
  const TrainResult result = train_network(config, train, test);
  if (!config.job.is_main()) {
    // Equal digests on every rank show that the ranks trained as one.
    fmt::print("train: {} iterations, rank {} of {}, weights digest {}\n",
               config.iterations,
               config.job.rank(),
               config.job.size(),
               result.weights_digest);
    return 0;
  }
  fmt::print(
      "train: {} iterations, test accuracy {:.4f}, {:.1f} s of training "
      "(data pipeline {:.1f}%), weights digest {}\n",
      config.iterations,
      result.final_accuracy,
      result.seconds,
      result.seconds > 0 ? 100 * result.data_seconds / result.seconds : 0.0,
      result.weights_digest);
  if (config.swa.start > 0) {
    fmt::print(
        "SWA: the average of {} iterates (every {} from iteration {}), "
        "test accuracy {:.4f} (last iterate {:.4f}), weights digest {}{}\n",
        result.swa_models,
        config.swa.every,
        config.swa.start,
        result.swa_accuracy,
        result.final_accuracy,
        result.swa_digest,
        config.output.out_dir.empty() ? "" : ", saved as swa_model.pt");
  }
  return 0;
}

}  // namespace

Command add_train_command(CLI::App& app) {
  auto flags = std::make_shared<TrainFlags>();
  auto* train = app.add_subcommand("train", "Train with one schedule");
  add_common_flags(*train, flags->common);
  add_schedule_flags(
      *train,
      flags->schedule,
      ". Read with Caffe's lr_mult: a single LR is that of the param groups "
      "at lr_mult 1 (cifar10_full's weights), and the groups at lr_mult 2 "
      "(its biases) get twice it; a list gives each group's LR as written. "
      "`cifar10_clr runs` prints the papers' runs as texts");
  train
      ->add_option("--lr",
                   flags->lr,
                   "The optimizer's LR before the schedule (times each "
                   "group's lr_mult): what relative schedules (MultiStepLR, "
                   "ExponentialLR, LinearLR ...) scale; cyclical ones set "
                   "their own")
      ->check(finite_number())
      ->check(positive_number())
      ->capture_default_str();
  train->add_option("--iterations", flags->iterations)
      ->check(positive_number())
      ->capture_default_str();
  train->add_option("--eval-every", flags->eval_every)
      ->check(positive_number())
      ->capture_default_str();
  train
      ->add_option("--eval-images",
                   flags->eval_images,
                   "The curve's points test the first N test images (0: all; "
                   "the final accuracy tests all)")
      ->check(non_negative_number())
      ->capture_default_str();
  train->add_option("--checkpoint", flags->checkpoint, "Checkpoint file");
  train->add_flag("--resume", flags->resume, "Continue from --checkpoint");
  train
      ->add_option("--swa-start",
                   flags->swa_start,
                   "Stochastic weight averaging: from iteration N on, average "
                   "the network every --swa-every iterations "
                   "(torchclr::AveragedModel; 0: off); the averaged network "
                   "is tested and saved beside the log (every --model)")
      ->check(non_negative_number());
  train
      ->add_option("--swa-every",
                   flags->swa_every,
                   "Iterations between the iterates SWA averages (0: "
                   "--eval-every)")
      ->check(non_negative_number());
  return {train, [flags] { return run_train(*flags); }};
}

}  // namespace torchclr::examples
