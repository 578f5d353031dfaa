#pragma once

#include <torch/arg.h>
#include <torchclr/scheduler.h>

#include <string>
namespace torchclr {

/// Options of `ExponentialLR`.
struct ExponentialLROptions {
  /// Options with the decay factor `gamma` (required, as in PyTorch).
  /* implicit */ ExponentialLROptions(double gamma);

  /// Factor per step, finite and > 0: < 1 decays, > 1 grows the LR (PyTorch
  /// accepts both).
  TORCH_ARG(double, gamma);
};

/// base_lr * gamma^step (PyTorch's closed form).
double exponential_lr(double base_lr,
                      const ExponentialLROptions& options,
                      int64_t step);

/// The paper's "exp" baseline, PyTorch's `ExponentialLR`: lr = base_lr *
/// gamma^k, from the optimizer's LRs at construction. PyTorch multiplies by
/// gamma at every step; the closed form agrees to ~1e-13 after 10^5 steps.
class ExponentialLR final
    : public ClosedFormScheduler<ExponentialLROptions, exponential_lr> {
 public:
  /// The optimizer must outlive the scheduler.
  explicit ExponentialLR(torch::optim::Optimizer& optimizer,
                         ExponentialLROptions options);

  std::string options_text() const override;
};

}  // namespace torchclr
