#pragma once

// The training loop of cifar10_clr: Caffe's cifar10_full solver (batch 100,
// momentum 0.9, weight decay 0.004) under any schedule, with evaluation,
// a CSV log, a plot, and checkpoints that resume to the same numbers.

#include <torch/torch.h>

#include <string>
#include <vector>

#include "data.h"
#include "job.h"
#include "network.h"
#include "schedule_flags.h"

namespace torchclr::examples {

/// The default schedule of `train`: triangular2 between the paper's
/// CIFAR-10 bounds, step 2,000, momentum fixed as in Caffe's solver.
inline constexpr const char* kDefaultSchedule =
    "CyclicLR(base_lr=0.001, max_lr=0.006, step_size_up=2000, "
    "mode=\"triangular2\", cycle_momentum=False)";

struct TrainConfig {
  /// The LR schedule (a parse_scheduler text, or a file of one), read with
  /// the model's lr_mult as group_ratios: Caffe's semantics, a single LR is
  /// that of the groups at lr_mult 1, the others train at their multiple.
  ScheduleSpec schedule{kDefaultSchedule, ""};
  /// The optimizer's LR before the schedule (PyTorch's optimizer lr, times
  /// each group's lr_mult): what relative schedules such as MultiStepLR
  /// scale; cyclical ones set their own.
  double lr = 0.001;
  int64_t iterations = 70000;
  int64_t eval_every = 1000;
  /// The curve's points test the first `eval_images` test images (0: all);
  /// the final accuracy always tests the whole test split.
  int64_t eval_images = 0;
  int64_t batch_size = 100;
  /// An optimizer kind of make_optimizer: one of optimizer_names() (sgd, the
  /// default, nesterov, adam, adamw, rmsprop, adagrad or adadelta), or
  /// caffe_sgd / caffe_nesterov (--solver caffe).
  std::string optimizer = "sgd";
  /// One of model_names(): cifar10_full (the default), resnet56,
  /// superconvergence_resnet56 or superconvergence_resnet20.
  std::string model = "cifar10_full";
  /// The superconvergence_resnet models' BatchNorm settings.
  BatchNormSettings batch_norm;
  std::string dataset = "cifar10";  ///< for messages
  int64_t num_classes = 10;
  /// What every training batch goes through (data.h).
  Augmentation augmentation = Augmentation::kNone;
  double momentum = 0.9;
  double weight_decay = 0.004;
  uint64_t seed = 1;
  torch::Device device = torch::kCPU;
  std::string out_dir;     ///< log.csv and accuracy.png; empty: none
  std::string checkpoint;  ///< file written every eval; empty: none
  bool resume = false;     ///< continue from `checkpoint` if it exists
  bool progress = true;
  std::string label = "train";
  /// Stochastic weight averaging (swa.h): from iteration `swa_start` on (0:
  /// off), the network is averaged in every `swa_every` iterations.
  int64_t swa_start = 0;
  int64_t swa_every = 1;
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

/// The configured model for images shaped as `train`'s, on the configured
/// device (the caller seeds the RNG first).
Network make_model(const TrainConfig& config, const DataSplit& train);

/// Trains a fresh cifar10_full (seeded by `config.seed`) on `train` with
/// batches from `SplitBatches`, evaluating on `test` every `eval_every`
/// iterations and at the end. With a checkpoint, a killed run resumes to the
/// same weights and log.
TrainResult train_network(const TrainConfig& config,
                          const DataSplit& train,
                          const DataSplit& test);

/// The log as CSV text: iteration,lr,momentum,train_loss,test_accuracy,seconds.
std::string log_csv(const std::vector<LogRow>& log);

}  // namespace torchclr::examples
