#pragma once

#include <torch/arg.h>
#include <torchclr/scheduler.h>

#include <cstdint>
#include <string>

namespace torchclr {

/// Options of `LinearLR`, with PyTorch's names and defaults.
struct LinearLROptions {
  /// Factor of the base LR at step 0, in (0, 1].
  TORCH_ARG(double, start_factor) = 1.0 / 3;
  /// Factor of the base LR from step `total_iters` on, in [0, 1].
  TORCH_ARG(double, end_factor) = 1.0;
  /// Steps of the straight line.
  TORCH_ARG(int64_t, total_iters) = 5;
};

/// base_lr * (start + (end - start) * min(total_iters, step) / total_iters).
double linear_lr(double base_lr, const LinearLROptions& options, int64_t step);

/// The paper's "decay" baseline, PyTorch's `LinearLR`: a straight line from
/// start_factor * base_lr to end_factor * base_lr over total_iters steps, then
/// held; base_lr is the optimizer's LR at construction.
class LinearLR final : public ClosedFormScheduler<LinearLROptions, linear_lr> {
 public:
  /// The optimizer must outlive the scheduler.
  explicit LinearLR(torch::optim::Optimizer& optimizer,
                    LinearLROptions options = {});

  std::string options_text() const override;
};

}  // namespace torchclr
