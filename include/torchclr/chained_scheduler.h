#pragma once

#include <torchclr/scheduler.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace torchclr {

/// PyTorch's `ChainedScheduler`: every scheduler acts at every step, each
/// scaling the LR by its own factor, so lr = base_lr * f_1(k) * f_2(k) ...
///
/// Only schedulers whose LR is the base LR times a factor of the step can be
/// chained (`scales_base_lr()`: StepLR, MultiStepLR, ConstantLR, LinearLR,
/// ExponentialLR, PolynomialLR, MultiplicativeLR); PyTorch chains the same
/// ones by multiplying the current LR. All start from the LRs the first one
/// was built with, as PyTorch's share `initial_lr`.
class ChainedScheduler final : public Scheduler {
 public:
  /// Every scheduler must drive `optimizer`, which must outlive this one.
  ChainedScheduler(torch::optim::Optimizer& optimizer,
                   std::vector<std::shared_ptr<Scheduler>> schedulers);

  /// Every scheduler's name and options.
  std::string options_text() const override;
  double lr_at(int64_t step, std::size_t group) const override;

 private:
  std::vector<std::shared_ptr<Scheduler>> schedulers_;
};

}  // namespace torchclr
