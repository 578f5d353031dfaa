#pragma once

#include <torch/arg.h>
#include <torchclr/scheduler.h>

#include <cstdint>
#include <string>

namespace torchclr {

/// Options of `StepLR`, with PyTorch's names and defaults.
struct StepLROptions {
  /// Options with the decay period `step_size` (required, as in PyTorch).
  /* implicit */ StepLROptions(int64_t step_size);

  /// Steps between two decays (64-bit; LibTorch's `StepLR` takes `unsigned`).
  TORCH_ARG(int64_t, step_size);
  /// Factor every `step_size` steps, finite and > 0 (> 1 grows the LR, as
  /// PyTorch allows).
  TORCH_ARG(double, gamma) = 0.1;
};

/// base_lr * gamma^floor(step / step_size).
double step_lr(double base_lr, const StepLROptions& options, int64_t step);

/// PyTorch's `StepLR`: the LR is multiplied by gamma every step_size steps,
/// from the optimizer's LRs at construction. Unlike LibTorch's own `StepLR` it
/// has state to save and can be a `SequentialLR` or `ChainedScheduler` stage.
class StepLR final : public ClosedFormScheduler<StepLROptions, step_lr> {
 public:
  /// The optimizer must outlive the scheduler.
  explicit StepLR(torch::optim::Optimizer& optimizer, StepLROptions options);

  std::string options_text() const override;
};

}  // namespace torchclr
