#pragma once

// The training loop of cifar10_clr: a run (run_spec.h) trained in batches of
// 100 under its schedule, with evaluation, a CSV log, a plot, SWA and
// checkpoints that resume to the same numbers as callbacks beside the loop
// (training_callbacks.h).

#include <torch/torch.h>

#include <string>
#include <vector>

#include "data.h"
#include "job.h"
#include "run_spec.h"

namespace torchclr::examples {

/// Where a run writes, and what it shows while it trains.
struct RunOutput {
  /// log.csv and accuracy.png (and swa_model.pt with SWA); empty: none.
  std::string out_dir;
  std::string checkpoint;  ///< file written every eval; empty: none
  bool resume = false;     ///< continue from `checkpoint` if it exists
  bool progress = true;
  std::string label = "train";
};

/// Stochastic weight averaging (swa.h): from iteration `start` on (0: off),
/// the network is averaged in every `every` iterations.
struct SwaSettings {
  int64_t start = 0;
  int64_t every = 1;
};

/// One call of train_network: the run to build, how long and on what it
/// trains, where it writes, and the processes that train it together.
struct TrainConfig {
  RunSpec run;
  int64_t iterations = 70000;
  int64_t eval_every = 1000;
  /// The curve's points test the first `eval_images` test images (0: all);
  /// the final accuracy always tests the whole test split.
  int64_t eval_images = 0;
  int64_t batch_size = 100;
  /// What every training batch goes through (data.h).
  Augmentation augmentation = Augmentation::kNone;
  uint64_t seed = 1;
  torch::Device device = torch::kCPU;
  RunOutput output;
  SwaSettings swa;
  /// The processes training together (default: this one alone). Each
  /// computes its share of every batch of `batch_size`; rank 0 alone
  /// evaluates, logs, plots and writes the checkpoint.
  Job job;
};

/// One row of the log, written at every evaluation.
struct LogRow {
  int64_t iteration;  ///< iterations done (1-based: the row's last iteration)
  /// The LR and momentum iteration `iteration` trained with (param group 0:
  /// the weights): the schedule's value at step `iteration - 1`, as
  /// `clr_schedule` prints it.
  double lr;
  double momentum;
  double train_loss;     ///< mean over the iterations since the previous row
  double test_accuracy;  ///< on the first `eval_images` test images
  double seconds;        ///< training wall time so far, evaluations excluded
};

struct TrainResult {
  std::vector<LogRow> log;
  /// On the whole test split, at the end.
  double final_accuracy = 0;
  double seconds = 0;
  /// Of `seconds`, the time spent cutting batches out of the split and
  /// moving them to the device (this run only, not before a resume).
  double data_seconds = 0;
  /// FNV-1a hash of every parameter's bytes: equal only for equal weights.
  std::string weights_digest;
  /// The trained network (the last iterate).
  std::shared_ptr<torch::nn::Module> model;
  /// With SWA: the averaged network, how many iterates it averages and its
  /// accuracy on the whole test split.
  std::shared_ptr<torch::nn::Module> swa_model;
  int64_t swa_models = 0;
  double swa_accuracy = 0;
  std::string swa_digest;
};

/// Trains a fresh `config.run` (seeded by `config.seed`) on `train` with
/// batches from `SplitBatches`, evaluating on `test` every `eval_every`
/// iterations and at the end. With a checkpoint, a killed run resumes to the
/// same weights and log.
TrainResult train_network(const TrainConfig& config,
                          const DataSplit& train,
                          const DataSplit& test);

/// The log as CSV text: iteration,lr,momentum,train_loss,test_accuracy,seconds.
std::string log_csv(const std::vector<LogRow>& log);

}  // namespace torchclr::examples
