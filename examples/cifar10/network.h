#pragma once

// What the training loop and the range test train: the model (--model) and
// the optimizer (--optimizer) over its param groups, built in one place.

#include <torch/torch.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "param_group_spec.h"

namespace torchclr::examples {

/// A model to train: the module (parameters, save/load, train/eval), its
/// forward and its param groups.
struct Network {
  std::shared_ptr<torch::nn::Module> module;
  std::function<torch::Tensor(const torch::Tensor&)> forward;
  std::vector<ParamGroupSpec> param_groups;

  /// The lr_mult of each param group, in order.
  std::vector<double> lr_multipliers() const;
};

/// Names accepted by --model.
const std::vector<std::string>& model_names();

/// Whether `model` is one of the super-convergence files' ResNets
/// (superconvergence_resnet56, superconvergence_resnet20), the models with
/// Caffe's BatchNorm.
bool has_caffe_batch_norm(const std::string& model);

/// The Caffe BatchNorm settings of the super-convergence ResNets; the other
/// models ignore them.
struct BatchNormSettings {
  double moving_average_fraction = 0.999;  ///< the files' value
  int64_t ghost_batch_size = 0;            ///< 0: the whole batch
};

/// A fresh `model` (cifar10_full: Caffe's, with its solver's multipliers;
/// resnet56: He et al.'s CIFAR ResNet-56, one group;
/// superconvergence_resnet56 and _resnet20: the super-convergence files'
/// networks with their multipliers and `batch_norm`) for images
/// channels x height x width of `dataset` with `num_classes` classes. Throws,
/// naming the model and the data set, when the model cannot take the images.
Network make_network(const std::string& model,
                     const std::string& dataset,
                     int64_t channels,
                     int64_t height,
                     int64_t width,
                     int64_t num_classes,
                     const BatchNormSettings& batch_norm = {});

/// Names accepted by --optimizer.
const std::vector<std::string>& optimizer_names();

/// Names accepted by --solver: pytorch (LibTorch's SGD, v <- m v + g;
/// w <- w - lr v) and caffe (torchclr::CaffeSGD, h <- m h + lr g; w <- w - h).
const std::vector<std::string>& solver_names();

/// The optimizer kind that make_optimizer builds for --optimizer `optimizer`
/// under --solver `solver`: caffe turns sgd and nesterov into caffe_sgd and
/// caffe_nesterov; every other optimizer, and every optimizer under pytorch,
/// keeps its name.
std::string optimizer_kind(const std::string& optimizer,
                           const std::string& solver);

/// One line saying which update an SGD `kind` (sgd, nesterov, caffe_sgd,
/// caffe_nesterov) runs, with its formula; empty for other optimizers.
std::string solver_text(const std::string& kind);

/// The optimizer `kind` over `groups`: sgd, nesterov (SGD with Nesterov
/// momentum), caffe_sgd and caffe_nesterov (the same with Caffe's update,
/// torchclr::CaffeSGD), adam, adamw, rmsprop, adagrad or adadelta
/// (torchclr's), with PyTorch's defaults except the LR, the weight decay and
/// `momentum` (SGD's and RMSprop's momentum, Adam's and AdamW's beta1; unused
/// by adagrad, adadelta and rmsprop, which keep PyTorch's 0).
std::unique_ptr<torch::optim::Optimizer> make_optimizer(
    const std::string& kind,
    const std::vector<ParamGroupSpec>& groups,
    double lr,
    double momentum,
    double weight_decay);

}  // namespace torchclr::examples
