#pragma once

#include <torch/optim/optimizer.h>

namespace torchclr::detail {

/// Which option of a param group plays the role of momentum.
enum class MomentumKind {
  kNone,      ///< the optimizer has no momentum (Adagrad, LBFGS, ...)
  kSGD,       ///< `momentum`
  kRMSprop,   ///< `momentum`
  kAdam,      ///< `betas[0]` (beta1)
  kAdamW,     ///< `betas[0]` (beta1)
  kCaffeSGD,  ///< torchclr::CaffeSGD's `momentum`
};

/// The momentum kind of one param group's options.
MomentumKind momentum_kind(const torch::optim::OptimizerOptions& options);

/// Reads the momentum of `options`, which has kind `kind` (not kNone).
double get_momentum(const torch::optim::OptimizerOptions& options,
                    MomentumKind kind);

/// Sets the momentum of `options`, which has kind `kind` (not kNone).
void set_momentum(torch::optim::OptimizerOptions& options,
                  MomentumKind kind,
                  double value);

}  // namespace torchclr::detail
