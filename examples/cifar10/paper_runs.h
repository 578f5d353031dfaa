#pragma once

// The papers' named runs as schedule texts, in one place: Table 1's rows
// (with Table 2's three-stage triangular2), Table 3's rows and the
// super-convergence runs. `compare` takes every schedule from here, and
// `cifar10_clr runs` prints them for `train --schedule`. Every length is
// the paper's times `scale` (at least 1 step); a decay per step becomes
// gamma^(1/scale), so a scaled run decays as much in all.

#include <cstdint>
#include <string>
#include <vector>

namespace torchclr::examples {

/// `iterations` of the paper's runs at `scale`, at least 1.
int64_t scaled(int64_t iterations, double scale);

/// One run: its schedule and what it starts from.
struct PaperRun {
  std::string name;
  /// The optimizer's LR before the schedule (`train --lr`): relative
  /// schedules (MultiStepLR, ExponentialLR, LinearLR) scale it, cyclical
  /// ones set their own.
  double lr = 0.001;
  /// A `torchclr::parse_scheduler` text; a single number for an LR is the
  /// LR of the param groups at lr_mult 1 (the others get their multiple).
  std::string schedule;
  int64_t iterations = 0;
  /// What the paper reports for it, or "-".
  std::string paper;
};

/// Table 1's rows (Smith 2017, CIFAR-10, Caffe's cifar10_full solver):
/// fixed, triangular, triangular2 (Table 2's three stages, the run behind
/// Table 1's triangular2 row), triangular2_single (one CyclicLR of
/// 0.001-0.006), decay, exp, exp_range (the paper's form) and
/// exp_range_pytorch (PyTorch's form). examples/cifar10/README.md quotes
/// the paper for each.
std::vector<PaperRun> table1_runs(double scale);

/// The Table 1 run `name` at `scale`; throws naming the known names.
PaperRun table1_run(const std::string& name, double scale);

/// The names of `table1_runs`, in order.
std::vector<std::string> table1_run_names();

/// Table 3's schedules for an adaptive method whose range test found
/// `base_lr`-`max_lr`: "fixed" (Table 1's fixed, from base_lr) or
/// "triangular" (between the bounds, step 2,000), at `scale`.
PaperRun table3_run(const std::string& policy,
                    double base_lr,
                    double max_lr,
                    int64_t iterations,
                    double scale);

/// Super-convergence's 1cycle (clrsolver.prototxt: Caffe's triangular from
/// `base_lr` to `max_lr` and back, step 5,000: one cycle of 10,000
/// iterations; the files' bounds are 0.1 and 3) at `scale`.
PaperRun superconvergence_1cycle(double base_lr, double max_lr, double scale);

/// Super-convergence's baseline (solver.prototxt: 0.35, divided by 10 at
/// 50,000 and 70,000, 80,000 iterations) at `scale`.
PaperRun superconvergence_baseline(double scale);

/// A triangular-family CyclicLR text without momentum cycling (Caffe's
/// solver keeps momentum fixed): `mode` triangular, triangular2, exp_range
/// or exp_range_paper; `gamma` only for the exp_range modes.
std::string cyclic_text(const std::string& mode,
                        double base_lr,
                        double max_lr,
                        int64_t step_size_up,
                        double gamma = 1.0);

}  // namespace torchclr::examples
