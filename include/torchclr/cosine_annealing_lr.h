#pragma once

#include <torch/arg.h>
#include <torchclr/scheduler.h>

#include <cstdint>
#include <string>

namespace torchclr {

/// Options of `CosineAnnealingLR`, with PyTorch's names and defaults.
struct CosineAnnealingLROptions {
  /// Options with the annealing length `T_max` (required, as in PyTorch).
  /* implicit */ CosineAnnealingLROptions(int64_t T_max);

  /// Steps from the base LR down to eta_min (half a cosine period).
  TORCH_ARG(int64_t, T_max);
  /// The lowest LR, >= 0.
  TORCH_ARG(double, eta_min) = 0.0;
};

/// eta_min + (base_lr - eta_min) * (1 + cos(pi * step / T_max)) / 2.
double cosine_annealing_lr(double base_lr,
                           const CosineAnnealingLROptions& options,
                           int64_t step);

/// PyTorch's `CosineAnnealingLR`: half a cosine from the optimizer's LR to
/// eta_min over T_max steps. Past T_max the cosine goes on, back up to the
/// base LR at 2 T_max and so on, as PyTorch's does. PyTorch computes each LR
/// from the last one; this closed form agrees to ~1e-15 relative (exactly 0
/// where PyTorch leaves ~1e-18 at eta_min = 0).
class CosineAnnealingLR final
    : public ClosedFormScheduler<CosineAnnealingLROptions,
                                 cosine_annealing_lr> {
 public:
  /// The optimizer must outlive the scheduler.
  explicit CosineAnnealingLR(torch::optim::Optimizer& optimizer,
                             CosineAnnealingLROptions options);

  std::string options_text() const override;
};

}  // namespace torchclr
