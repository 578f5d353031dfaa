#pragma once

#include <torch/arg.h>
#include <torchclr/scheduler.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace torchclr {

/// A factor of the step, as PyTorch's `lr_lambda`.
using LRLambda = std::function<double(int64_t)>;

/// Options of `LambdaLR` (and `MultiplicativeLR`): one function for every
/// param group, or one per group, as PyTorch's `lr_lambda`.
struct LambdaLROptions {
  /// One function for every param group.
  /* implicit */ LambdaLROptions(LRLambda lr_lambda);
  /// One function per param group, in the optimizer's group order.
  /* implicit */ LambdaLROptions(std::vector<LRLambda> lr_lambda);

  /// The factor of base_lr at each step: one function, or one per group.
  TORCH_ARG(std::vector<LRLambda>, lr_lambda);
  /// What archives store for the functions, which cannot be compared: a
  /// resume checks that the caller gives the same name.
  TORCH_ARG(std::string, lambda_name) = "custom";
};

/// PyTorch's `LambdaLR`: lr = base_lr * lr_lambda(step), from the optimizer's
/// LRs at construction. The function must return a finite value >= 0.
class LambdaLR final : public OptionsScheduler<LambdaLROptions> {
 public:
  /// The optimizer must outlive the scheduler.
  explicit LambdaLR(torch::optim::Optimizer& optimizer,
                    LambdaLROptions options);

  std::string options_text() const override;
  double lr_at(int64_t step, std::size_t group) const override;
};

namespace detail {

/// Checks a `LambdaLROptions` for `num_groups` groups on behalf of `owner`.
void check_lambdas(const LambdaLROptions& options,
                   std::size_t num_groups,
                   const std::string& owner);
/// Calls the lambda of `group` at `step`; throws, naming `owner`, the step
/// and the value, unless it returned a finite value >= 0.
double call_lambda(const LambdaLROptions& options,
                   std::size_t group,
                   int64_t step,
                   const std::string& owner);
/// `options`' archive text.
std::string lambda_options_text(const LambdaLROptions& options,
                                std::size_t num_groups);

}  // namespace detail
}  // namespace torchclr
