#pragma once

#include <torch/arg.h>
#include <torchclr/scheduler.h>

#include <cstdint>
#include <optional>
#include <string>

namespace torchclr {

/// Options of `CosineAnnealingWarmRestarts`, with PyTorch's names and defaults.
struct CosineAnnealingWarmRestartsOptions {
  /// Options with the first cycle's length `T_0` (required, as in PyTorch).
  /* implicit */ CosineAnnealingWarmRestartsOptions(int64_t T_0);

  /// Steps in the first cycle.
  TORCH_ARG(int64_t, T_0);
  /// Each cycle is T_mult times longer than the one before (integer >= 1).
  TORCH_ARG(int64_t, T_mult) = 1;
  /// LR at the bottom of every cycle.
  TORCH_ARG(double, eta_min) = 0.0;
  /// Each restart's peak is the last one's times this, in (0, 1] (timm's
  /// `cycle_decay`; not in PyTorch).
  TORCH_ARG(double, cycle_decay) = 1.0;
  /// After this many cycles, hold eta_min (timm's `cycle_limit`; not in
  /// PyTorch); unset: restart forever.
  TORCH_ARG(std::optional<int64_t>, cycle_limit) = std::nullopt;
};

/// Position inside the warm-restart schedule: steps since the last restart
/// and the length of the current cycle (PyTorch's T_cur and T_i). T_i is a
/// double because with a large T_mult it can exceed what int64_t counts.
struct RestartPosition {
  /// Steps since the last restart (PyTorch's `T_cur`).
  int64_t T_cur;
  /// Length of the current cycle in steps (PyTorch's `T_i`).
  double T_i;
  /// 0-based number of the current cycle.
  int64_t cycle;
};

/// Where step `k` falls: cycles of length T_0, T_0 T_mult, T_0 T_mult^2, ...
RestartPosition restart_position(int64_t step, int64_t T_0, int64_t T_mult);

/// eta_min + (base_lr - eta_min) * (1 + cos(pi T_cur / T_i)) / 2; with
/// `cycle_decay`, base_lr * cycle_decay^cycle instead of base_lr, and eta_min
/// from cycle `cycle_limit` on.
double cosine_restart_lr(double base_lr,
                         const CosineAnnealingWarmRestartsOptions& options,
                         const RestartPosition& position);

/// SGDR (Loshchilov & Hutter), PyTorch's
/// `torch.optim.lr_scheduler.CosineAnnealingWarmRestarts`, stepped without an
/// epoch argument. Starts from the optimizer's LRs at construction.
class CosineAnnealingWarmRestarts final
    : public OptionsScheduler<CosineAnnealingWarmRestartsOptions> {
 public:
  /// The optimizer must outlive the scheduler.
  explicit CosineAnnealingWarmRestarts(
      torch::optim::Optimizer& optimizer,
      CosineAnnealingWarmRestartsOptions options);

  std::string options_text() const override;

  double lr_at(int64_t step, std::size_t group) const override;
};

}  // namespace torchclr
