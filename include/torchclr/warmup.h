#pragma once

#include <torch/arg.h>
#include <torchclr/sequential_lr.h>

#include <cstdint>
#include <memory>

namespace torchclr {

/// Options of `with_warmup`.
struct WarmupOptions {
  /// Options with the ramp's length `warmup_steps` (required).
  /* implicit */ WarmupOptions(int64_t warmup_steps);

  /// Steps of the linear ramp, after which `schedule` starts at its step 0.
  TORCH_ARG(int64_t, warmup_steps);
  /// Factor of the schedule's base LR at step 0, in (0, 1].
  TORCH_ARG(double, start_factor) = 0.1;
};

/// A linear warm-up from start_factor * base_lr to base_lr (the schedule's
/// `base_lrs()`) over warmup_steps, then `schedule` from its own step 0: a
/// `SequentialLR` of a `LinearLR` and `schedule`, which must drive
/// `optimizer`. The optimizer must outlive the result.
SequentialLR with_warmup(torch::optim::Optimizer& optimizer,
                         std::shared_ptr<Scheduler> schedule,
                         WarmupOptions options);

}  // namespace torchclr
