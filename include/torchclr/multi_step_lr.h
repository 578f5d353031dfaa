#pragma once

#include <torch/arg.h>
#include <torchclr/scheduler.h>

#include <cstdint>
#include <string>
#include <vector>

namespace torchclr {

/// Options of `MultiStepLR`.
struct MultiStepLROptions {
  /// Options with the `milestones` (required, as in PyTorch).
  /* implicit */ MultiStepLROptions(std::vector<int64_t> milestones);

  /// Steps (> 0) at which the LR is multiplied by gamma; a repeated milestone
  /// applies gamma once per repetition, as in PyTorch.
  TORCH_ARG(std::vector<int64_t>, milestones);
  /// Factor at each milestone, finite and > 0 (> 1 grows the LR, as PyTorch
  /// allows).
  TORCH_ARG(double, gamma) = 0.1;
};

/// base_lr * gamma^(number of milestones <= step); `sorted_milestones` sorted.
double multi_step_lr(double base_lr,
                     const std::vector<int64_t>& sorted_milestones,
                     double gamma,
                     int64_t step);

/// PyTorch's `MultiStepLR`; the paper's "fixed" run is Caffe's schedule, which
/// drops the LR 10x at two milestones (60k and 65k for CIFAR-10).
class MultiStepLR final : public OptionsScheduler<MultiStepLROptions> {
 public:
  /// The optimizer must outlive the scheduler.
  explicit MultiStepLR(torch::optim::Optimizer& optimizer,
                       MultiStepLROptions options);

  std::string options_text() const override;
  double lr_at(int64_t step, std::size_t group) const override;

 private:
  std::vector<int64_t> sorted_milestones_;
};

}  // namespace torchclr
