#pragma once

// What the training loop and the range test train: the model (--model) and
// the optimizer (--optimizer) over its param groups, built in one place.

#include <torch/torch.h>

#include <memory>
#include <string>
#include <vector>

#include "policy_cli.h"

namespace torchclr::examples {

/// One param group and its solver multipliers (Caffe's lr_mult and
/// decay_mult): its LR is lr x lr_mult, its weight decay weight_decay x
/// decay_mult.
struct ParamGroupSpec {
  std::vector<torch::Tensor> params;
  double lr_mult = 1.0;
  double decay_mult = 1.0;
};

/// Names accepted by --optimizer.
const std::vector<std::string>& optimizer_names();

/// The optimizer `kind` over `groups`: sgd, nesterov (SGD with Nesterov
/// momentum), adam, adamw, rmsprop, adagrad or adadelta (torchclr's), with
/// PyTorch's defaults except the LR, the weight decay and `momentum` (SGD's
/// and RMSprop's momentum, Adam's and AdamW's beta1; unused by adagrad,
/// adadelta and rmsprop, which keep PyTorch's 0).
std::unique_ptr<torch::optim::Optimizer> make_optimizer(
    const std::string& kind,
    const std::vector<ParamGroupSpec>& groups,
    double lr,
    double momentum,
    double weight_decay);

/// `policy` with momentum cycling that follows `optimizer`: one_cycle's
/// default cycling is turned off for an optimizer without momentum
/// (torchclr::get_momentum is nullopt), and --cycle-momentum with one is
/// refused naming the optimizer.
PolicyFlags momentum_follows_optimizer(
    PolicyFlags policy,
    const std::string& optimizer_kind,
    const torch::optim::Optimizer& optimizer);

}  // namespace torchclr::examples
