#pragma once

#include <torch/arg.h>
#include <torchclr/group_values.h>
#include <torchclr/one_cycle_lr.h>
#include <torchclr/scheduler.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace torchclr {

/// Options of `SWALR`, with PyTorch's keyword names and defaults.
struct SWALROptions {
  /// Options with the LR to anneal to, `swa_lr` (required, as in PyTorch).
  /* implicit */ SWALROptions(GroupValues swa_lr);

  /// The LR annealed to and then held, per group or one for all; finite and
  /// >= 0.
  TORCH_ARG(GroupValues, swa_lr);
  /// Steps of the anneal, >= 0; with 0 the LR is swa_lr from step 0 on.
  TORCH_ARG(int64_t, anneal_epochs) = 10;
  /// "cos" (the default) or "linear".
  TORCH_ARG(AnnealStrategy, anneal_strategy) = AnnealStrategy::kCos;
};

/// PyTorch's `SWALR` at step `step`: swa_lr * alpha + start_lr * (1 - alpha),
/// alpha = f(t), t = clamp(step / max(1, anneal_epochs), 0, 1), f(t) = t
/// (linear) or (1 - cos(pi t)) / 2 (cos); with anneal_epochs 0, t = 1.
double swa_annealed_lr(double start_lr,
                       double swa_lr,
                       const SWALROptions& options,
                       int64_t step);

/// The LR schedule of stochastic weight averaging (Izmailov et al., 2018),
/// PyTorch's `torch.optim.swa_utils.SWALR`: anneals each group's LR from
/// where it is to `swa_lr` over `anneal_epochs` steps, then holds swa_lr.
/// Use it with `AveragedModel`; PyTorch steps it once per epoch.
///
/// As in PyTorch, the anneal starts from the LR the param group holds at the
/// first `step()` (PyTorch reads the group's LR there), so a `SWALR` built at
/// the start of training and first stepped when SWA begins anneals from the
/// LR the earlier schedule left. In a `SequentialLR` it anneals from the LR
/// the previous stage left and, as in PyTorch (whose `step(0)` does not
/// restart its step count), is already one anneal step along at its
/// milestone. PyTorch computes each LR from the group's current one; this
/// closed form agrees to ~1e-14 relative. Deviation: an LR changed by hand
/// during the anneal is overwritten at the next step, where PyTorch would
/// fold the change into the LR it anneals from.
///
/// The optimizer's LRs at construction must be finite and > 0, as for the
/// other schedulers; the LR at the first step may be 0 (an LR annealed to
/// 0). The optimizer must outlive the scheduler.
class SWALR final : public OptionsScheduler<SWALROptions> {
 public:
  /// Checks the options (c10::Error naming the one out of range) and sets the
  /// optimizer to step 0's LRs. The optimizer must outlive the scheduler.
  explicit SWALR(torch::optim::Optimizer& optimizer, SWALROptions options);

  std::string options_text() const override;
  /// `swa_annealed_lr` from `anneal_start_lrs()[group]`.
  double lr_at(int64_t step, std::size_t group) const override;

  /// The resolved `swa_lr`, one per param group.
  const std::vector<double>& swa_lrs() const noexcept {
    return swa_lrs_;
  }
  /// The LR each group anneals from: the optimizer's at the first `step()`,
  /// `base_lrs()` until then.
  const std::vector<double>& anneal_start_lrs() const noexcept {
    return start_lrs_ ? *start_lrs_ : base_lrs();
  }

  /// Saves the base state and the LRs the anneal starts from.
  void save(torch::serialize::OutputArchive& archive) const override;
  /// Restores what `save` wrote; throws, changing nothing, for an archive of
  /// another policy, other options or a damaged state.
  void load(torch::serialize::InputArchive& archive) override;

 private:
  /// At the first step: reads the LRs the anneal starts from.
  void before_step(int64_t step) override;

  std::vector<double> swa_lrs_;
  // The optimizer's LRs at the first step(); empty before it.
  std::optional<std::vector<double>> start_lrs_;
};

}  // namespace torchclr
