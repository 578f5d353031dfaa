#pragma once

#include <torch/optim/optimizer.h>

#include <optional>

namespace torchclr {

/// The momentum of a param group as the schedulers cycle it: SGD's,
/// CaffeSGD's and RMSprop's `momentum`, Adam's and AdamW's beta1; nullopt for
/// optimizers without one (Adagrad, LBFGS, ...).
std::optional<double> get_momentum(
    const torch::optim::OptimizerOptions& options);

}  // namespace torchclr
