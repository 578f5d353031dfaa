#pragma once

// Command-line flags for every scheduling policy, shared by the example
// programs: `add_policy_flags` registers them, `make_scheduler` builds the
// scheduler they describe.

#include <torchclr/torchclr.h>

#include <CLI/CLI.hpp>
#include <memory>
#include <string>
#include <vector>

namespace torchclr::examples {

/// Every policy's settings; defaults are the paper's CIFAR-10 values.
struct PolicyFlags {
  std::string policy = "triangular2";
  double base_lr = 0.001;
  double max_lr = 0.006;
  int64_t step_size_up = 2000;
  int64_t step_size_down = 0;  // 0: same as step_size_up
  double gamma = 0.99994;      // exp and exp_range, per step
  /// exp_range: "pytorch" (PyTorch's CyclicLR: the amplitude times gamma^k,
  /// CyclicMode::kExpRange) or "paper" (Smith's section 3.1: both bounds
  /// times gamma^k, CyclicMode::kExpRangePaper). Programs pick their default
  /// before add_policy_flags.
  std::string exp_range_form = "pytorch";
  std::string waveform = "triangle";
  bool cycle_momentum = false;     // CLR policies: off unless asked (Caffe's)
  bool no_cycle_momentum = false;  // one_cycle: on unless turned off
  double base_momentum = 0.8;
  double max_momentum = 0.9;
  double lr = 0.001;  // the optimizer's LR: fixed, step, exp, decay, restarts
  std::vector<int64_t> milestones = {60000, 65000};  // fixed
  int64_t step_size = 10000;                         // step (StepLR)
  double step_gamma = 0.1;                           // fixed and step
  double end_lr = 0.001;                             // decay
  int64_t decay_iters = 4000;                        // decay
  int64_t total_steps = 0;  // one_cycle: 0 means the run's length
  double pct_start = 0.3;
  std::string anneal = "cos";
  double div_factor = 25;
  double final_div_factor = 1e4;
  bool three_phase = false;
  int64_t T_0 = 2000;
  int64_t T_mult = 1;
  double eta_min = 0;                // cosine_restarts and cosine
  double cycle_decay = 1.0;          // cosine_restarts: peak factor per restart
  int64_t cycle_limit = 0;           // cosine_restarts: 0 means no limit
  double constant_factor = 1.0 / 3;  // constant (ConstantLR's factor)
  int64_t total_iters = 5;           // constant and polynomial
  double power = 1.0;                // polynomial
  int64_t T_max = 10000;             // cosine (CosineAnnealingLR)
  int64_t warmup_steps = 0;          // any policy: 0 means no warm-up
  double warmup_start_factor = 0.1;  // warm-up's first LR factor
  /// Set in code, not by flags: when not empty, the schedule is a
  /// SequentialLR of these policies (each with its own flags) switching at
  /// `stage_milestones`, and the flags above other than the warm-up are
  /// unused (the paper's Table 2 triangular2 run, for one).
  std::vector<PolicyFlags> stages;
  std::vector<int64_t> stage_milestones;
};

/// Names accepted by --policy.
const std::vector<std::string>& policy_names();

/// Names accepted by --exp-range-form: "paper" and "pytorch".
const std::vector<std::string>& exp_range_form_names();

/// One line naming the exp_range form of `form` and its formula, for tables
/// and logs: "the paper's form, both bounds x gamma^it: ...".
std::string exp_range_form_text(const std::string& form);

/// Registers --policy and every option of every policy on `app`.
void add_policy_flags(CLI::App& app, PolicyFlags& flags);

/// Every flag's value as "key=value;..." text: a checkpoint stores it, and a
/// resumed run must have the same.
std::string describe(const PolicyFlags& flags);

/// Validators for number flags with plain messages ("--lr: must be > 0, got
/// -1"). finite_number rejects NaN and infinities, which CLI11's Range and
/// PositiveNumber let through; positive_number and non_negative_number
/// reject NaN too.
const CLI::Validator& finite_number();
const CLI::Validator& positive_number();
const CLI::Validator& non_negative_number();

/// The scheduler `flags` describe, driving `optimizer`; `run_steps` is the
/// run's length (used by one_cycle when --total-steps is 0). Every LR of
/// param group i is scaled by `lr_multipliers[i]` (Caffe's lr_mult; empty:
/// all 1). Sets the optimizer's LRs to --lr first for policies that start
/// from them.
std::unique_ptr<Scheduler> make_scheduler(
    const PolicyFlags& flags,
    torch::optim::Optimizer& optimizer,
    int64_t run_steps,
    std::vector<double> lr_multipliers = {});

}  // namespace torchclr::examples
