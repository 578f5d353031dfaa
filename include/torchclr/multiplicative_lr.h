#pragma once

#include <torchclr/lambda_lr.h>

#include <cstdint>
#include <string>
#include <vector>

namespace torchclr {

/// `MultiplicativeLR` takes PyTorch's `lr_lambda` as `LambdaLR` does.
using MultiplicativeLROptions = LambdaLROptions;

/// PyTorch's `MultiplicativeLR`: each step multiplies the LR by
/// lr_lambda(step), so lr = base_lr * lr_lambda(1) * ... * lr_lambda(step).
/// The running product is cached, so stepping costs one call per group; a
/// jump to an earlier step (a load) recomputes it from step 1.
class MultiplicativeLR final : public OptionsScheduler<LambdaLROptions> {
 public:
  /// The optimizer must outlive the scheduler.
  explicit MultiplicativeLR(torch::optim::Optimizer& optimizer,
                            MultiplicativeLROptions options);

  std::string options_text() const override;
  double lr_at(int64_t step, std::size_t group) const override;

 private:
  // Per group: the base LR, the step reached from it and that step's LR.
  struct Progress {
    double base_lr;
    int64_t step;
    double lr;
  };
  mutable std::vector<Progress> progress_;
};

}  // namespace torchclr
