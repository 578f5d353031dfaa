#pragma once

// The subcommands of cifar10_clr, one file each; main.cpp parses the command
// line and runs the one asked for.

#include <CLI/CLI.hpp>
#include <functional>
#include <string>

#include "data.h"
#include "job.h"
#include "trainer.h"

namespace torchclr::examples {

/// Flags every subcommand takes.
struct CommonFlags {
  DataFlags data;
  uint64_t seed = 1;
  int64_t batch_size = 100;
  std::string optimizer = "sgd";
  /// The update of --optimizer sgd and nesterov: pytorch (LibTorch's, the
  /// LR outside the momentum buffer) or caffe (the LR inside the history).
  std::string solver = "pytorch";
  std::string model = "cifar10_full";
  /// --moving-average-fraction and --ghost-batch-size.
  BatchNormSettings batch_norm;
  /// --augment: none, flip or pad-crop (augmentation_names()).
  std::string augment = "none";
  std::string out;  ///< empty: the subcommand's own default folder
  bool quiet = false;
  /// LibTorch's threads; 0: OMP_NUM_THREADS when set, else every core for a
  /// process alone (LibTorch's OpenMP default is 1 on some machines, this
  /// one included) and LibTorch's default for each rank of a job.
  int64_t threads = 0;
  JobFlags job;
};

/// Registers the data flags, --seed, --batch-size, --optimizer, --solver,
/// --out, --quiet, --threads and the job's flags.
void add_common_flags(CLI::App& app, CommonFlags& flags);

/// The training settings `flags` give (batch size, seed, optimizer and
/// solver, progress, device), in the job they describe: this joins it, so
/// every rank of the job calls it. The main rank prints which SGD update
/// runs.
TrainConfig train_config(const CommonFlags& flags);

/// A registered subcommand and what runs it after parsing.
struct Command {
  CLI::App* app;
  std::function<int()> run;
};

Command add_train_command(CLI::App& app);
Command add_compare_command(CLI::App& app);
Command add_range_test_command(CLI::App& app);
Command add_workflow_command(CLI::App& app);
Command add_runs_command(CLI::App& app);

}  // namespace torchclr::examples
