#pragma once

// The LR range test on cifar10_full: the `range-test` subcommand and the
// first step of `workflow`.

#include <torchclr/torchclr.h>

#include <CLI/CLI.hpp>
#include <filesystem>
#include <optional>
#include <string>

#include "data.h"
#include "trainer.h"

namespace torchclr::examples {

struct RangeFlags {
  double start_lr = 1e-5;
  double end_lr = 0.1;
  int64_t num_iter = 300;
  std::string sweep = "exponential";
  int64_t eval_every = 0;  ///< 0: no validation pass
  int64_t eval_images = 1000;
  /// "exponential" or "paper" (paper_range_test.h): with "paper", the sweep
  /// runs to the end unless a loss is not finite, and find_lr writes no plot
  /// of its own (the caller plots the accuracy).
  std::string method = "exponential";
};

/// Registers --start-lr, --end-lr, --num-iter and --sweep on `app`.
void add_range_flags(CLI::App& app, RangeFlags& flags);

/// Sweeps a fresh cifar10_full (seeded by `config.seed`, Caffe's param
/// groups, so conv1's, conv2's and fc's biases sweep at twice the LR) over
/// `train`, and writes
/// range_test.csv, range_test.png and range_test_lrs.csv (each param group's
/// LR at every step) into `out`. In a job of several processes, every rank
/// sweeps its share of each batch and gets the same result; rank 0 alone
/// writes.
torchclr::LRRangeTestResult find_lr(const RangeFlags& flags,
                                    const TrainConfig& config,
                                    const DataSplit& train,
                                    const DataSplit& test,
                                    const std::filesystem::path& out);

/// `lr` with 3 significant digits, or "none".
std::string format_lr(const std::optional<double>& lr);

}  // namespace torchclr::examples
