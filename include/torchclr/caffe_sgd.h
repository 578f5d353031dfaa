#pragma once

#include <torch/arg.h>
#include <torch/optim/optimizer.h>
#include <torch/serialize/archive.h>

#include <vector>

namespace torchclr {

/// Options of `CaffeSGD`, named as LibTorch's `SGDOptions` (Caffe's solver
/// fields: base_lr x lr_mult, momentum, weight_decay x decay_mult, type:
/// "Nesterov").
struct CaffeSGDOptions
    : public torch::optim::OptimizerCloneableOptions<CaffeSGDOptions> {
  /// Options with learning rate `lr`; implicit, as LibTorch's `SGDOptions` is.
  CaffeSGDOptions(double lr);  // NOLINT: implicit, as LibTorch's SGDOptions
  /// The group's LR (Caffe's base_lr x lr_mult, as the LR policy sets it).
  TORCH_ARG(double, lr);
  /// Decay of the history h, in [0, 1].
  TORCH_ARG(double, momentum) = 0;
  /// L2 penalty (Caffe's weight_decay x decay_mult): g <- g + decay * w.
  TORCH_ARG(double, weight_decay) = 0;
  /// Caffe's NesterovSolver: w <- w - ((1 + momentum) h - momentum h_prev).
  TORCH_ARG(bool, nesterov) = false;

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
  friend bool operator==(const CaffeSGDOptions& lhs,
                         const CaffeSGDOptions& rhs);
};

/// Per-parameter state of `CaffeSGD`: Caffe's `history_` blob.
struct CaffeSGDParamState
    : public torch::optim::OptimizerCloneableParamState<CaffeSGDParamState> {
  /// h, the last update with the LR already in it (parameter units).
  TORCH_ARG(torch::Tensor, history);

 public:
  /// Reads the parameter's history from a checkpoint (`torch::load`).
  void serialize(torch::serialize::InputArchive& archive) override;
  /// Writes the parameter's history to a checkpoint (`torch::save`).
  void serialize(torch::serialize::OutputArchive& archive) const override;
  /// True when the histories are equal.
  friend bool operator==(const CaffeSGDParamState& lhs,
                         const CaffeSGDParamState& rhs);
};

/// SGD with momentum as Caffe's SGDSolver computes it (sgd_solver.cpp,
/// Regularize and ComputeUpdateValue), the LR inside the history:
///   g <- grad + weight_decay * w
///   h <- momentum * h + lr * g
///   w <- w - h
/// and, with `nesterov`, as Caffe's NesterovSolver: w <- w - ((1 + momentum)
/// h - momentum h_prev). LibTorch's SGD keeps the LR outside
/// (v <- momentum * v + g; w <- w - lr * v): the two agree while the LR is
/// constant; when it changes from lr1 to lr2, Caffe's step differs from
/// LibTorch's by momentum * (lr1 - lr2) * v (the history keeps the old LR).
/// Keras and TensorFlow's momentum optimizers take Caffe's form.
/// Every parameter keeps a history from its first step, also at momentum 0
/// (then h is the last update), so that cycled momentum behaves as Caffe's.
/// Schedulers set the LR and cycle `momentum` as they do LibTorch's SGD.
/// Saved and loaded with `torch::save(optimizer, path)` / `torch::load`.
class CaffeSGD : public torch::optim::Optimizer {
 public:
  /// Throws c10::Error naming the option when an option of `defaults` or of
  /// any group is out of range (lr, weight_decay >= 0; momentum in [0, 1]).
  explicit CaffeSGD(std::vector<torch::optim::OptimizerParamGroup> param_groups,
                    CaffeSGDOptions defaults);
  /// One param group holding `params`, with the options `defaults`.
  explicit CaffeSGD(std::vector<torch::Tensor> params,
                    CaffeSGDOptions defaults);

  /// One update of every parameter that has a gradient; returns the loss of
  /// `closure` (evaluated with grad mode on) when one is given.
  torch::Tensor step(LossClosure closure = nullptr) override;
  /// Writes the options of every group and the history of every parameter.
  void save(torch::serialize::OutputArchive& archive) const override;
  /// Restores the histories and each group's options (as Adadelta does); the
  /// groups must have the same parameter counts as when saved.
  void load(torch::serialize::InputArchive& archive) override;
};

}  // namespace torchclr
