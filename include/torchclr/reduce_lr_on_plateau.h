#pragma once

#include <torch/arg.h>
#include <torchclr/group_values.h>
#include <torchclr/scheduler.h>

#include <cstdint>
#include <string>
#include <vector>

namespace torchclr {

/// Whether a lower or a higher metric is better (PyTorch's `mode`).
enum class PlateauMode {
  kMin,  ///< a loss: lower is better
  kMax,  ///< an accuracy: higher is better
};

/// How `threshold` measures a significant improvement (PyTorch's
/// `threshold_mode`).
enum class ThresholdMode {
  kRel,  ///< better than best * (1 -+ threshold)
  kAbs,  ///< better than best -+ threshold
};

/// Options of `ReduceLROnPlateau`, with PyTorch's keyword names and defaults.
struct ReduceLROnPlateauOptions {
  /// Whether the metric is to be minimised (a loss) or maximised.
  TORCH_ARG(PlateauMode, mode) = PlateauMode::kMin;
  /// LR multiplier of a reduction, in (0, 1).
  TORCH_ARG(double, factor) = 0.1;
  /// Epochs without improvement tolerated before a reduction (>= 0).
  TORCH_ARG(int64_t, patience) = 10;
  /// Least improvement that counts, finite and >= 0 (< 1 for min/rel).
  TORCH_ARG(double, threshold) = 1e-4;
  /// Whether `threshold` is relative to the best metric or absolute.
  TORCH_ARG(ThresholdMode, threshold_mode) = ThresholdMode::kRel;
  /// Epochs after a reduction in which bad epochs are not counted (>= 0).
  TORCH_ARG(int64_t, cooldown) = 0;
  /// Lower bound of the LR, per group or one for all, finite and >= 0.
  TORCH_ARG(GroupValues, min_lr) = 0.0;
  /// A reduction smaller than this is skipped, finite and >= 0.
  TORCH_ARG(double, eps) = 1e-8;
};

/// PyTorch's `is_better`: whether `metric` improves on `best` by more than
/// `threshold` (min/rel: metric < best * (1 - threshold); min/abs: metric <
/// best - threshold; max/rel: metric > best * (1 + threshold); max/abs:
/// metric > best + threshold).
bool plateau_is_better(PlateauMode mode,
                       ThresholdMode threshold_mode,
                       double threshold,
                       double metric,
                       double best);

/// PyTorch's `_reduce_lr` for one group: max(lr * factor, min_lr) when that
/// lowers `lr` by more than `eps`, else `lr`.
double plateau_reduced_lr(double lr, double factor, double min_lr, double eps);

/// What `ReduceLROnPlateau` keeps beyond the step count.
struct PlateauState {
  /// Best metric so far; +inf (min) or -inf (max) before the first metric.
  double best = 0;
  /// Epochs without improvement since the best or the last reduction.
  int64_t num_bad_epochs = 0;
  /// Epochs of cooldown still to run (bad epochs are not counted meanwhile).
  int64_t cooldown_counter = 0;
  /// The LR each param group of the optimizer holds (PyTorch keeps it in the
  /// optimizer's state; an archive keeps it here too, so that loading the
  /// scheduler alone restores it).
  std::vector<double> lrs;
};

/// PyTorch's `ReduceLROnPlateau`: each `step(metric)` counts the epochs whose
/// metric did not improve on the best by `threshold`; after more than
/// `patience` of them (bad epochs during `cooldown` epochs after a reduction
/// are not counted), every group's LR becomes max(lr * factor, min_lr), where
/// that lowers it by more than `eps`. As in PyTorch, `lr` is the LR the param
/// group holds at that moment: the LR is the optimizer's, not a function of
/// the step, so an LR changed by hand stays until a reduction multiplies it.
/// `step()` without a metric leaves it alone. A non-finite metric is refused.
///
/// Unlike PyTorch's, it is a `Scheduler`: it saves and loads its state and can
/// be the last stage of a `SequentialLR` after a warm-up, driven by
/// `SequentialLR::step(metric)`. The optimizer must outlive the scheduler.
class ReduceLROnPlateau final
    : public OptionsScheduler<ReduceLROnPlateauOptions> {
 public:
  /// Checks the options (c10::Error naming the one out of range); the LRs start
  /// as the optimizer's.
  explicit ReduceLROnPlateau(torch::optim::Optimizer& optimizer,
                             ReduceLROnPlateauOptions options = {});

  /// Records the metric of the epoch just run (PyTorch's `step(metrics)`),
  /// reduces the LRs where it is due, and applies them to the optimizer.
  /// Throws, changing nothing, if `metric` is not finite.
  void step(double metric);
  /// Counts a step; changes no LR.
  using torch::optim::LRScheduler::step;

  /// `step(metric)` without counting a step: records the metric and, where
  /// due, reduces the LRs the param groups hold. For a composite
  /// (`SequentialLR`) that counts the steps itself.
  void update(double metric);

  std::string options_text() const override;

  /// The LR the param group holds, whatever `step`: not a function of the
  /// step (a `SequentialLR` starts this stage from `base_lrs()`).
  double lr_at(int64_t step, std::size_t group) const override;

  /// Best metric, bad-epoch count, cooldown counter and the param groups' LRs.
  PlateauState plateau_state() const;
  /// The resolved `min_lr`, one per param group.
  const std::vector<double>& min_lrs() const noexcept {
    return min_lrs_;
  }

  /// Saves the base state and the `PlateauState`.
  void save(torch::serialize::OutputArchive& archive) const override;
  /// Restores what `save` wrote; throws, changing nothing, for an archive of
  /// another policy, other options or a damaged state.
  void load(torch::serialize::InputArchive& archive) override;

  /// Reads and checks the `PlateauState` that `save` wrote, changing nothing.
  PlateauState read_plateau_state(
      torch::serialize::InputArchive& archive) const;
  /// Takes a state checked by `read_plateau_state` over and puts its LRs in
  /// the param groups; does not step.
  void restore_plateau_state(const PlateauState& state);

 private:
  std::vector<double> min_lrs_;
  double best_;
  int64_t num_bad_epochs_ = 0;
  int64_t cooldown_counter_ = 0;
};

}  // namespace torchclr
