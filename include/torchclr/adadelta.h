#pragma once

#include <torch/arg.h>
#include <torch/optim/optimizer.h>
#include <torch/serialize/archive.h>

#include <vector>

namespace torchclr {

/// Options of `Adadelta`, with PyTorch's keyword names and defaults
/// (`torch.optim.Adadelta(lr=1.0, rho=0.9, eps=1e-6, weight_decay=0,
/// maximize=False)`).
struct AdadeltaOptions
    : public torch::optim::OptimizerCloneableOptions<AdadeltaOptions> {
  /// Options with learning rate `lr`; implicit, as LibTorch's options are.
  AdadeltaOptions(double lr = 1.0);  // NOLINT: implicit, as LibTorch's options
  /// Scale of the update before it is applied to the parameters.
  TORCH_ARG(double, lr) = 1.0;
  /// Decay of the running averages of g^2 and of the squared update, in [0, 1].
  TORCH_ARG(double, rho) = 0.9;
  /// Added inside both square roots: sqrt(u + eps) / sqrt(v + eps).
  TORCH_ARG(double, eps) = 1e-6;
  /// L2 penalty: g <- g + weight_decay * theta.
  TORCH_ARG(double, weight_decay) = 0;
  /// Ascend the objective instead of descending it (g <- -g).
  TORCH_ARG(bool, maximize) = false;

 public:
  /// Reads the group's options from a checkpoint (`torch::load`).
  void serialize(torch::serialize::InputArchive& archive) override;
  /// Writes the group's options to a checkpoint (`torch::save`).
  void serialize(torch::serialize::OutputArchive& archive) const override;
  /// The group's `lr`, as LibTorch's schedulers read it.
  double get_lr() const override;
  /// Sets the group's `lr`, as LibTorch's schedulers do.
  void set_lr(const double lr) override;
  /// True when every option is equal.
  friend bool operator==(const AdadeltaOptions& lhs,
                         const AdadeltaOptions& rhs);
};

/// Per-parameter state of `Adadelta` (PyTorch's `state[p]`).
struct AdadeltaParamState
    : public torch::optim::OptimizerCloneableParamState<AdadeltaParamState> {
  /// Running average of the squared gradient, v.
  TORCH_ARG(torch::Tensor, square_avg);
  /// Running average of the squared update, u.
  TORCH_ARG(torch::Tensor, acc_delta);
  /// Steps taken with this parameter.
  TORCH_ARG(int64_t, step) = 0;

 public:
  /// Reads the parameter's state from a checkpoint (`torch::load`).
  void serialize(torch::serialize::InputArchive& archive) override;
  /// Writes the parameter's state to a checkpoint (`torch::save`).
  void serialize(torch::serialize::OutputArchive& archive) const override;
  /// True when the step counts and both running averages are equal.
  friend bool operator==(const AdadeltaParamState& lhs,
                         const AdadeltaParamState& rhs);
};

/// Zeiler's ADADELTA (arXiv:1212.5701) as PyTorch 1.13 implements it:
///   v <- rho v + (1 - rho) g^2
///   d <- sqrt(u + eps) / sqrt(v + eps) * g
///   u <- rho u + (1 - rho) d^2
///   theta <- theta - lr d
/// LibTorch has no Adadelta; this is `torch.optim.Adadelta` for LibTorch,
/// saved and loaded with `torch::save(optimizer, path)` / `torch::load`.
/// It has no momentum: schedulers that cycle momentum need
/// `cycle_momentum(false)`.
class Adadelta : public torch::optim::Optimizer {
 public:
  /// Throws c10::Error naming the option when an option of `defaults` or of
  /// any group is out of range (lr, eps, weight_decay >= 0, rho in [0, 1]).
  explicit Adadelta(std::vector<torch::optim::OptimizerParamGroup> param_groups,
                    AdadeltaOptions defaults = {});
  /// One param group holding `params`, with the options `defaults`.
  explicit Adadelta(std::vector<torch::Tensor> params,
                    AdadeltaOptions defaults = {});

  /// One update of every parameter that has a gradient; returns the loss of
  /// `closure` (evaluated with grad mode on) when one is given.
  torch::Tensor step(LossClosure closure = nullptr) override;
  /// Writes the options of every group and the state of every parameter.
  void save(torch::serialize::OutputArchive& archive) const override;
  /// Restores the state and, as PyTorch's `load_state_dict` (unlike
  /// LibTorch's optimizers), each group's options; the groups must have the
  /// same parameter counts as when saved.
  void load(torch::serialize::InputArchive& archive) override;
};

}  // namespace torchclr
