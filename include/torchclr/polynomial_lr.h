#pragma once

#include <torch/arg.h>
#include <torchclr/scheduler.h>

#include <cstdint>
#include <string>

namespace torchclr {

/// Options of `PolynomialLR`, with PyTorch's names and defaults.
struct PolynomialLROptions {
  /// Steps until the LR reaches 0.
  TORCH_ARG(int64_t, total_iters) = 5;
  /// Power of the polynomial (1 is a straight line), > 0.
  TORCH_ARG(double, power) = 1.0;
};

/// base_lr * (1 - min(step, total_iters) / total_iters)^power (PyTorch's
/// closed form).
double polynomial_lr(double base_lr,
                     const PolynomialLROptions& options,
                     int64_t step);

/// PyTorch's `PolynomialLR`: decays the optimizer's LR to 0 over total_iters
/// steps along a polynomial, then holds 0.
class PolynomialLR final
    : public ClosedFormScheduler<PolynomialLROptions, polynomial_lr> {
 public:
  /// The optimizer must outlive the scheduler.
  explicit PolynomialLR(torch::optim::Optimizer& optimizer,
                        PolynomialLROptions options = {});

  std::string options_text() const override;
};

}  // namespace torchclr
