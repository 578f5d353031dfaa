#pragma once

#include <torch/arg.h>
#include <torchclr/group_values.h>
#include <torchclr/scheduler.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

namespace torchclr {

/// The paper's amplitude policies (PyTorch's `mode`), and the paper's own
/// reading of exp_range beside PyTorch's.
enum class CyclicMode {
  kTriangular,   ///< constant amplitude
  kTriangular2,  ///< amplitude halved every cycle: 1 / 2^(cycle - 1)
  /// PyTorch's (and Keras's) exp_range: the amplitude times gamma^k, the
  /// lower bound fixed: lr = base_lr + (max_lr - base_lr) * height * gamma^k.
  kExpRange,
  /// The paper's exp_range (Smith 2017, section 3.1: "each boundary value
  /// declines by an exponential factor of gamma^iteration"): both bounds
  /// times gamma^k, lr = (base_lr + (max_lr - base_lr) * height) * gamma^k.
  /// Momentum as in kExpRange. gamma must be in (0, 1].
  kExpRangePaper,
};

/// What a custom `scale_fn` is evaluated at (PyTorch's `scale_mode`).
enum class ScaleMode { kCycle, kIterations };

/// Shape of the rise and fall inside one cycle. The paper tried all three and
/// found them equivalent; PyTorch offers only the triangle.
enum class Waveform {
  kTriangle,   ///< linear: w(t) = t
  kSine,       ///< Hann window: w(t) = (1 - cos(pi t)) / 2
  kParabolic,  ///< Welch window: w(t) = 1 - (1 - t)^2
};

/// Options of `CyclicLR`, with PyTorch's keyword names and defaults.
struct CyclicLROptions {
  /// Options with the cycle's bounds `base_lr` and `max_lr` (required, as in
  /// PyTorch).
  CyclicLROptions(GroupValues base_lr, GroupValues max_lr);

  /// Lower LR bound of the cycle, per group or one for all.
  TORCH_ARG(GroupValues, base_lr);
  /// Upper LR bound of the cycle, per group or one for all.
  TORCH_ARG(GroupValues, max_lr);
  /// Steps in the rising half of a cycle.
  TORCH_ARG(int64_t, step_size_up) = 2000;
  /// Steps in the falling half; defaults to `step_size_up`.
  TORCH_ARG(std::optional<int64_t>, step_size_down) = std::nullopt;
  /// Amplitude policy: triangular, triangular2, exp_range or the paper's
  /// exp_range.
  TORCH_ARG(CyclicMode, mode) = CyclicMode::kTriangular;
  /// Per-iteration factor of `kExpRange` (finite, > 0; above 1 the
  /// amplitude grows, as PyTorch allows) and of `kExpRangePaper` (in (0, 1]).
  TORCH_ARG(double, gamma) = 1.0;
  /// Custom amplitude scale, overriding `mode`; must return a value in [0, 1].
  TORCH_ARG(std::function<double(double)>, scale_fn) = nullptr;
  /// Whether `scale_fn` takes the cycle number or the step.
  TORCH_ARG(ScaleMode, scale_mode) = ScaleMode::kCycle;
  /// Cycle momentum inversely to the LR (SGD/RMSprop momentum, Adam beta1).
  TORCH_ARG(bool, cycle_momentum) = true;
  /// Momentum at the LR's peak (the lowest), per group or one for all.
  TORCH_ARG(GroupValues, base_momentum) = 0.8;
  /// Momentum at base_lr (the highest), per group or one for all.
  TORCH_ARG(GroupValues, max_momentum) = 0.9;
  /// Shape of the cycle (ours; PyTorch has only the triangle).
  TORCH_ARG(Waveform, waveform) = Waveform::kTriangle;
};

/// Where step `k` falls in the cyclic schedule, before amplitude scaling.
struct CyclePosition {
  /// 1-based cycle number (PyTorch's `cycle`).
  double cycle;
  /// Height in [0, 1] of the waveform: 0 at base_lr, 1 at max_lr.
  double height;
};

/// PyTorch's CyclicLR position of step `k`: cycle = floor(1 + k / total),
/// x = 1 + k / total - cycle, t = x / ratio rising, (x - 1) / (ratio - 1)
/// falling, and height = waveform(t).
CyclePosition cyclic_position(int64_t step,
                              double step_size_up,
                              double step_size_down,
                              Waveform waveform);

/// The scale of `mode` at `position`/`step` (1, 1/2^(cycle-1) or gamma^step):
/// of the amplitude, or of both bounds for `kExpRangePaper`.
double cyclic_scale(CyclicMode mode,
                    double gamma,
                    const CyclePosition& position,
                    int64_t step);

/// lr = base_lr + (max_lr - base_lr) * height * scale.
double cyclic_lr(double base_lr, double max_lr, double height, double scale);

/// lr = (base_lr + (max_lr - base_lr) * height) * scale: both bounds scaled
/// (`kExpRangePaper`). Equal to `cyclic_lr` when base_lr is 0.
double cyclic_lr_scaled_bounds(double base_lr,
                               double max_lr,
                               double height,
                               double scale);

/// momentum = max_momentum - (max_momentum - base_momentum) * height * scale.
double cyclic_momentum(double base_momentum,
                       double max_momentum,
                       double height,
                       double scale);

/// Cyclical learning rates (Smith 2017), PyTorch's
/// `torch.optim.lr_scheduler.CyclicLR`: call `step()` after every batch.
/// Momentum is cycled inversely; for Adam/AdamW, beta1 is cycled (ours: PyTorch
/// 1.13 refuses Adam).
///
/// Threads: `lr_at` and `momentum_at` read only what the constructor set, so
/// other threads (a plot, a monitor) may call them at any time, also while
/// one thread calls `step()`; a custom `scale_fn` must then be safe to call
/// from those threads too (a pure function is). `step()`, `load()`, the
/// `get_last_*()` values and the optimizer belong to one thread at a time.
///
/// With `kExpRange` and gamma > 1 the amplitude grows without bound: `step()`
/// throws, leaving the optimizer and the step count as they were, at the
/// first step whose LR is not finite or whose momentum falls below 0.
class CyclicLR final : public OptionsScheduler<CyclicLROptions> {
 public:
  /// The optimizer must outlive the scheduler.
  explicit CyclicLR(torch::optim::Optimizer& optimizer,
                    CyclicLROptions options);

  std::string options_text() const override;
  double lr_at(int64_t step, std::size_t group) const override;
  std::optional<double> momentum_at(int64_t step,
                                    std::size_t group) const override;

 private:
  // Where `step` falls and its scale, the same for every group: computed once
  // per step and thread and kept, per thread, for the other groups and
  // momentum (a memo of this schedule, named by `schedule_id_`).
  struct StepShape {
    uint64_t schedule_id = 0;
    int64_t step = -1;
    CyclePosition position{};
    double scale = 0;
  };
  StepShape shape_at(int64_t step) const;
  double scale_at(const CyclePosition& position, int64_t step) const;

  // Unique per constructed schedule (copies share it: same options, same
  // shapes), so a thread's memo never serves another schedule.
  uint64_t schedule_id_;
  std::vector<double> max_lrs_;
  std::vector<double> base_momentums_;
  std::vector<double> max_momentums_;
  double step_size_down_;
};

}  // namespace torchclr
