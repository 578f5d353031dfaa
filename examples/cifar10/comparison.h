#pragma once

// What the `compare` experiments share: their flags, the paper's lengths
// scaled by --scale, and the results.md + accuracy.png they write. Table 1
// lives in compare.cpp, Table 3 in table3.cpp, super-convergence in
// superconvergence.cpp.

#include <filesystem>
#include <string>
#include <vector>

#include "commands.h"
#include "find_lr.h"
#include "paper_runs.h"

namespace torchclr::examples {

struct CompareFlags {
  CommonFlags common;
  double scale = 1.0;
  int64_t eval_every = 0;
  int64_t eval_images = 1000;
  /// Table 1's rows to run: names of table1_runs (paper_runs.h).
  std::vector<std::string> policies = {
      "fixed", "triangular2", "decay", "exp", "exp_range"};
  int table = 1;  ///< the paper's Table 1 or 3
  bool superconvergence = false;
  /// --superconvergence's 1cycle bounds: "files" (clrsolver.prototxt's
  /// 0.1-3.0) or "range-test" (read off our range test).
  std::string clr_bounds = "files";
  /// The range test of Table 3 and super-convergence; each experiment sets
  /// its own defaults for the flags the command line left out.
  RangeFlags range;
  /// Flags the user gave (others take the experiment's defaults).
  std::vector<std::string> given;

  bool was_given(const std::string& flag) const;
};

/// --eval-every, or the paper's 1,000 x scale, but at most 25 points in a
/// run of `iterations`.
int64_t curve_eval_every(const CompareFlags& flags, int64_t iterations);

/// The lowest and highest LR a run sets over an interval (of the param
/// group at LR multiplier 1: cifar10_full's conv weights and conv3's bias;
/// conv1's, conv2's and fc's biases train at twice it).
struct LrRange {
  double min = 0;
  double max = 0;
};

/// The LRs `run` sets for the last 10% (at least one) of its iterations,
/// read off the schedule itself (the same text, on a one-parameter
/// optimizer at the run's LR), so a resumed run gives the same answer.
LrRange final_lr_range(const PaperRun& run);

/// `config` set to train `run`: its schedule, LR and length.
TrainConfig with_run(TrainConfig config, const PaperRun& run);

/// "1.00e-04 to 6.00e-03" (a single value when both ends are equal).
std::string lr_range_text(const LrRange& range);

/// One curve of the accuracy plot: a run's log.csv, its legend and its
/// gnuplot line style.
struct Curve {
  std::filesystem::path log_csv;
  std::string title;
  std::string style = "lw 2";
};

/// Writes `table` to out/results.md and the test accuracy of `curves`
/// against iteration to out/accuracy.png (no plot without gnuplot, said so),
/// and prints the table.
void write_comparison(const std::filesystem::path& out,
                      const std::string& table,
                      const std::vector<Curve>& curves,
                      const std::string& plot_title);

/// The note under every table: what its accuracy columns measure.
std::string accuracy_note(const CompareFlags& flags);

/// `compare --table 3` and `compare --superconvergence`.
int run_table3(const CompareFlags& flags);
int run_superconvergence(const CompareFlags& flags);

}  // namespace torchclr::examples
