#pragma once

#include <torch/arg.h>
#include <torchclr/scheduler.h>

#include <cstdint>
#include <string>

namespace torchclr {

/// Options of `ConstantLR`, with PyTorch's names and defaults.
struct ConstantLROptions {
  /// Factor of the base LR before `total_iters`, in [0, 1].
  TORCH_ARG(double, factor) = 1.0 / 3;
  /// Steps at the reduced LR.
  TORCH_ARG(int64_t, total_iters) = 5;
};

/// base_lr * factor before step total_iters, base_lr from then on.
double constant_lr(double base_lr,
                   const ConstantLROptions& options,
                   int64_t step);

/// PyTorch's `ConstantLR`: the optimizer's LR times `factor` for the first
/// `total_iters` steps (a constant warm-up), then the LR itself.
class ConstantLR final
    : public ClosedFormScheduler<ConstantLROptions, constant_lr> {
 public:
  /// The optimizer must outlive the scheduler.
  explicit ConstantLR(torch::optim::Optimizer& optimizer,
                      ConstantLROptions options = {});

  std::string options_text() const override;
};

}  // namespace torchclr
