// `cifar10_clr train`: one policy, with a log, a plot and checkpoints.

#include <fmt/format.h>

#include <memory>

#include "commands.h"
#include "policy_cli.h"

namespace torchclr::examples {
namespace {

struct TrainFlags {
  CommonFlags common;
  PolicyFlags policy;
  int64_t iterations = 70000;
  int64_t eval_every = 1000;
  int64_t eval_images = 0;
  std::string checkpoint;
  bool resume = false;
};

int run_train(const TrainFlags& flags) {
  TrainConfig config = train_config(flags.common);
  config.policy = flags.policy;
  config.iterations = flags.iterations;
  config.eval_every = flags.eval_every;
  config.eval_images = flags.eval_images;
  config.out_dir = flags.common.out;
  config.checkpoint = flags.checkpoint;
  config.resume = flags.resume;
  const bool exp_range = config.policy.policy == "exp_range";
  // Which exp_range it is, in the log and the last line.
  const std::string policy =
      exp_range
          ? fmt::format("exp_range ({} form)",
                        config.policy.exp_range_form == "paper" ? "paper's"
                                                                : "PyTorch's")
          : config.policy.policy;
  if (exp_range && config.job.is_main()) {
    fmt::print("exp_range: {}\n",
               exp_range_form_text(config.policy.exp_range_form));
  }
  const auto [train, test] = load_data(flags.common.data);
  const TrainResult result = train_network(config, train, test);
  if (!config.job.is_main()) {
    // Equal digests on every rank show that the ranks trained as one.
    fmt::print("{}: {} iterations, rank {} of {}, weights digest {}\n",
               policy,
               config.iterations,
               config.job.rank(),
               config.job.size(),
               result.weights_digest);
    return 0;
  }
  fmt::print(
      "{}: {} iterations, test accuracy {:.4f}, {:.1f} s of training "
      "(data pipeline {:.1f}%), weights digest {}\n",
      policy,
      config.iterations,
      result.final_accuracy,
      result.seconds,
      result.seconds > 0 ? 100 * result.data_seconds / result.seconds : 0.0,
      result.weights_digest);
  return 0;
}

}  // namespace

Command add_train_command(CLI::App& app) {
  auto flags = std::make_shared<TrainFlags>();
  auto* train = app.add_subcommand("train", "Train with one policy");
  add_common_flags(*train, flags->common);
  // This program runs the paper's experiments: its exp_range is the
  // paper's, as in `compare`'s Table 1 row (--exp-range-form pytorch: the
  // library's CyclicMode::kExpRange).
  flags->policy.exp_range_form = "paper";
  add_policy_flags(*train, flags->policy);
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
  return {train, [flags] { return run_train(*flags); }};
}

}  // namespace torchclr::examples
