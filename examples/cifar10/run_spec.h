#pragma once

// One run's model, optimizer and LR schedule, built from one spec: what every
// subcommand trains, the training loop steps and a checkpoint saves.

#include <torchclr/scheduler.h>

#include <memory>
#include <string>

#include "data.h"
#include "network.h"
#include "schedule_flags.h"

namespace torchclr::examples {

/// The default schedule of `train`: triangular2 between the paper's
/// CIFAR-10 bounds, step 2,000, momentum fixed as in Caffe's solver.
inline constexpr const char* kDefaultSchedule =
    "CyclicLR(base_lr=0.001, max_lr=0.006, step_size_up=2000, "
    "mode=\"triangular2\", cycle_momentum=False)";

/// What a run trains: the model, the optimizer over its param groups and the
/// schedule (Caffe's cifar10_full solver by default: momentum 0.9, weight
/// decay 0.004).
struct RunSpec {
  /// One of model_names(): cifar10_full (the default), resnet56,
  /// superconvergence_resnet56 or superconvergence_resnet20.
  std::string model = "cifar10_full";
  /// The superconvergence_resnet models' BatchNorm settings.
  BatchNormSettings batch_norm;
  std::string dataset = "cifar10";  ///< for messages
  int64_t num_classes = 10;
  /// An optimizer kind of make_optimizer: one of optimizer_names() (sgd, the
  /// default, nesterov, adam, adamw, rmsprop, adagrad or adadelta), or
  /// caffe_sgd / caffe_nesterov (--solver caffe).
  std::string optimizer = "sgd";
  /// The optimizer's LR before the schedule (PyTorch's optimizer lr, times
  /// each group's lr_mult): what relative schedules such as MultiStepLR
  /// scale; cyclical ones set their own.
  double lr = 0.001;
  double momentum = 0.9;
  double weight_decay = 0.004;
  /// The LR schedule (a parse_scheduler text, or a file of one), read with
  /// the model's lr_mult as group_ratios: Caffe's semantics, a single LR is
  /// that of the groups at lr_mult 1, the others train at their multiple.
  ScheduleSpec schedule{kDefaultSchedule, ""};
};

/// A run built from a RunSpec. The scheduler refers to the optimizer, which
/// this struct owns: keep them together.
struct TrainingRun {
  Network model;
  std::unique_ptr<torch::optim::Optimizer> optimizer;
  std::unique_ptr<Scheduler> scheduler;
};

/// The model of `spec` for images shaped as `train`'s, on `device` (the
/// caller seeds the RNG first).
Network make_model(const RunSpec& spec,
                   const DataSplit& train,
                   torch::Device device);

/// The model (as make_model), then the optimizer over its param groups, then
/// the scheduler of `spec.schedule`.
TrainingRun make_run(const RunSpec& spec,
                     const DataSplit& train,
                     torch::Device device);

}  // namespace torchclr::examples
