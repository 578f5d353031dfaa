#pragma once

// Which LR range test `range-test` and `workflow` run: the exponential sweep
// read off the training loss (torch-lr-finder's and fastai's test, the
// default), or the paper's (Smith 2017, §3.3): a linear sweep over several
// epochs, read off the test accuracy.

#include <torchclr/torchclr.h>

#include <CLI/CLI.hpp>
#include <filesystem>
#include <optional>
#include <string>

#include "data.h"
#include "find_lr.h"
#include "trainer.h"

namespace torchclr::examples {

/// The paper's defaults. Fig. 3 of the paper sweeps cifar10_full linearly
/// from 0 to 0.02 over 8 epochs; LRRangeTest needs a start above 0, and
/// 1e-4 is 0.5% of the range. The authors' range-test solver
/// (lnsmith54/super-convergence, lrRangeSolver.prototxt) tests every 100
/// iterations; 2,000 test images put the noise of one point near 1%.
struct PaperRangeDefaults {
  static constexpr double kStartLr = 1e-4;
  static constexpr double kEndLr = 0.02;
  static constexpr double kEpochs = 8;
  static constexpr int64_t kEvalEvery = 100;
  static constexpr int64_t kEvalImages = 2000;
};

struct RangeMethodFlags {
  std::string method = "exponential";  ///< or "paper"
  double epochs = PaperRangeDefaults::kEpochs;
  /// The flags' names, as registered.
  std::string method_flag;
  std::string epochs_flag;
  /// --eval-every and --eval-images are the range test's own (range-test);
  /// otherwise (workflow) the paper's defaults apply.
  bool own_eval_flags = false;
};

/// Registers `method_flag` (exponential or paper) and `epochs_flag` (the
/// paper's sweep length) on `app`.
void add_range_method_flags(CLI::App& app,
                            RangeMethodFlags& flags,
                            const std::string& method_flag,
                            const std::string& epochs_flag);

/// The bounds one range test suggests, and which test it was.
struct RangeOutcome {
  /// "exponential" or "paper".
  std::string method;
  /// One line: the method, its sweep and what it reads.
  std::string description;
  torchclr::LRRangeTestResult result;
  std::optional<double> base_lr;
  std::optional<double> max_lr;
};

/// Runs the test `method.method` names with `find_lr`. "paper": a linear
/// sweep of round(epochs x train.size() / batch_size) steps, test accuracy
/// every `range.eval_every` steps on the first `range.eval_images` test
/// images, the bounds read off the accuracy (`accuracy_bounds`); the flags
/// the user left out of `app` take PaperRangeDefaults, and --num-iter and
/// --sweep are refused. Writes paper_range_test.csv and range_test.png
/// (accuracy against LR) beside find_lr's files. "exponential": find_lr as
/// given, the bounds read off the loss.
RangeOutcome run_range_method(const RangeMethodFlags& method,
                              RangeFlags range,
                              const CLI::App& app,
                              const TrainConfig& config,
                              const DataSplit& train,
                              const DataSplit& test,
                              const std::filesystem::path& out);

}  // namespace torchclr::examples
