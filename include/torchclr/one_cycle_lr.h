#pragma once

#include <torch/arg.h>
#include <torchclr/group_values.h>
#include <torchclr/scheduler.h>

#include <array>
#include <cstdint>
#include <string>

namespace torchclr {

/// How `OneCycleLR` moves between two values (PyTorch's `anneal_strategy`).
enum class AnnealStrategy { kCos, kLinear };

/// Options of `OneCycleLR`, with PyTorch's keyword names and defaults.
struct OneCycleLROptions {
  /// Options with the peak `max_lr` and the cycle's length `total_steps`
  /// (PyTorch's other way, epochs times steps_per_epoch, is that product).
  OneCycleLROptions(GroupValues max_lr, int64_t total_steps);

  /// Peak LR, per group or one for all.
  TORCH_ARG(GroupValues, max_lr);
  /// Number of `step()` calls in the whole cycle.
  TORCH_ARG(int64_t, total_steps);
  /// Fraction of the cycle spent raising the LR, in (0, 1).
  TORCH_ARG(double, pct_start) = 0.3;
  /// Shape of each phase: cosine (PyTorch's default) or linear.
  TORCH_ARG(AnnealStrategy, anneal_strategy) = AnnealStrategy::kCos;
  /// Cycle momentum (or Adam's beta1) inversely to the LR.
  TORCH_ARG(bool, cycle_momentum) = true;
  /// Momentum at the LR's peak (the lowest), per group or one for all.
  TORCH_ARG(GroupValues, base_momentum) = 0.85;
  /// Momentum at the start and end (the highest), per group or one for all.
  TORCH_ARG(GroupValues, max_momentum) = 0.95;
  /// initial_lr = max_lr / div_factor.
  TORCH_ARG(double, div_factor) = 25.0;
  /// min_lr = initial_lr / final_div_factor.
  TORCH_ARG(double, final_div_factor) = 1e4;
  /// Smith's three phases: up, back down to initial_lr, then annihilation.
  TORCH_ARG(bool, three_phase) = false;
};

/// PyTorch's annealing between `start` and `end` at fraction `pct`:
/// cos: end + (start - end) / 2 * (cos(pi pct) + 1); linear: start + (end -
/// start) pct.
double anneal(AnnealStrategy strategy, double start, double end, double pct);

/// The 1cycle policy (Smith & Topin, "super-convergence"), PyTorch's
/// `torch.optim.lr_scheduler.OneCycleLR`: call `step()` after every batch,
/// `total_steps` times at most; one more throws, as in PyTorch.
/// Deviation: after the last call, whose LR no training step uses, PyTorch
/// extrapolates past the end of the schedule (a negative LR with linear
/// annealing); torchclr holds the final values (min_lr, max_momentum).
class OneCycleLR final : public OptionsScheduler<OneCycleLROptions> {
 public:
  /// The optimizer must outlive the scheduler.
  explicit OneCycleLR(torch::optim::Optimizer& optimizer,
                      OneCycleLROptions options);

  std::string options_text() const override;
  double lr_at(int64_t step, std::size_t group) const override;
  std::optional<double> momentum_at(int64_t step,
                                    std::size_t group) const override;

  /// One phase of the cycle: the step it ends on, and where LR and momentum
  /// go (indices into {initial, max, min} LRs and {max, base} momentum).
  struct Phase {
    /// The step on which the phase ends.
    double end_step;
    /// Where the LR starts: index into {initial, max, min} LR.
    int start_lr;
    /// Where the LR ends: index into {initial, max, min} LR.
    int end_lr;
    /// Where momentum starts: index into {max, base} momentum.
    int start_momentum;
    /// Where momentum ends: index into {max, base} momentum.
    int end_momentum;
  };

 private:
  /// The phase of `step` and how far into it (0 to 1); `past_end` at step
  /// total_steps, where the final values are held.
  struct PhaseProgress {
    const Phase* phase;
    double pct;
    bool past_end;
  };
  PhaseProgress progress_at(int64_t step) const;
  double anneal_between(const PhaseProgress& progress,
                        double start,
                        double end) const;

  std::vector<Phase> phases_;
  // Per group: {initial_lr, max_lr, min_lr} and {max_momentum, base_momentum}.
  std::vector<std::array<double, 3>> lr_points_;
  std::vector<std::array<double, 2>> momentum_points_;
};

}  // namespace torchclr
