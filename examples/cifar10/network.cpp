#include "network.h"

#include <torchclr/adadelta.h>
#include <torchclr/caffe_sgd.h>

#include <stdexcept>

#include "cifar10_full.h"
#include "resnet56.h"
#include "superconvergence_resnet.h"

namespace torchclr::examples {
namespace {

// An `Optimizer` over `groups`, each with the options `make(lr, decay)`
// gives for its multiplied LR and weight decay (the defaults: the plain ones).
template <typename Optimizer, typename Make>
std::unique_ptr<torch::optim::Optimizer> build_optimizer(
    const std::vector<ParamGroupSpec>& groups,
    double lr,
    double weight_decay,
    Make make) {
  using Options = decltype(make(lr, weight_decay));
  std::vector<torch::optim::OptimizerParamGroup> param_groups;
  for (const auto& group : groups) {
    param_groups.emplace_back(
        group.params,
        std::make_unique<Options>(
            make(lr * group.lr_mult, weight_decay * group.decay_mult)));
  }
  return std::make_unique<Optimizer>(std::move(param_groups),
                                     make(lr, weight_decay));
}

// Refuses images other than 3x32x32 for the CIFAR ResNet `model`.
void require_cifar_images(const std::string& model,
                          const std::string& dataset,
                          int64_t channels,
                          int64_t height,
                          int64_t width) {
  if (channels != 3 || height != 32 || width != 32) {
    // The command line prints what() as it prints its own flag errors.
    throw std::invalid_argument(
        "--model: " + model + " takes 3x32x32 colour images; --dataset " +
        dataset + " has " + std::to_string(channels) + "x" +
        std::to_string(height) + "x" + std::to_string(width) +
        " (use cifar10 or cifar100, or --model cifar10_full)");
  }
}

}  // namespace

std::vector<double> Network::lr_multipliers() const {
  std::vector<double> multipliers;
  for (const auto& group : param_groups) {
    multipliers.push_back(group.lr_mult);
  }
  return multipliers;
}

const std::vector<std::string>& model_names() {
  static const std::vector<std::string> names = {"cifar10_full",
                                                 "resnet56",
                                                 "superconvergence_resnet56",
                                                 "superconvergence_resnet20"};
  return names;
}

bool has_caffe_batch_norm(const std::string& model) {
  return model == "superconvergence_resnet56" ||
         model == "superconvergence_resnet20";
}

Network make_network(const std::string& model,
                     const std::string& dataset,
                     int64_t channels,
                     int64_t height,
                     int64_t width,
                     int64_t num_classes,
                     const BatchNormSettings& batch_norm) {
  if (model == "cifar10_full") {
    Cifar10Full net(channels, height, width, num_classes);
    return {net.ptr(),
            [net](const torch::Tensor& x) mutable { return net->forward(x); },
            net->param_groups()};
  }
  if (model == "resnet56") {
    require_cifar_images(model, dataset, channels, height, width);
    ResNet56 net(num_classes);
    return {net.ptr(),
            [net](const torch::Tensor& x) mutable { return net->forward(x); },
            {ParamGroupSpec{net->parameters(), 1.0, 1.0}}};
  }
  if (has_caffe_batch_norm(model)) {
    if (height % 4 != 0 || width % 4 != 0) {
      throw std::invalid_argument("--model: " + model +
                                  " takes images whose height and width are "
                                  "multiples of 4; --dataset " +
                                  dataset + " has " + std::to_string(height) +
                                  "x" + std::to_string(width));
    }
    SuperConvergenceResNet net(
        SuperConvergenceResNetOptions()
            .blocks_per_stage(model == "superconvergence_resnet20" ? 3 : 9)
            .num_classes(num_classes)
            .in_channels(channels)
            .moving_average_fraction(batch_norm.moving_average_fraction)
            .ghost_batch_size(batch_norm.ghost_batch_size));
    return {net.ptr(),
            [net](const torch::Tensor& x) mutable { return net->forward(x); },
            net->param_groups()};
  }
  throw std::invalid_argument("--model: unknown model '" + model + "'");
}

const std::vector<std::string>& optimizer_names() {
  static const std::vector<std::string> names = {
      "sgd", "nesterov", "adam", "adamw", "rmsprop", "adagrad", "adadelta"};
  return names;
}

const std::vector<std::string>& solver_names() {
  static const std::vector<std::string> names = {"pytorch", "caffe"};
  return names;
}

std::string optimizer_kind(const std::string& optimizer,
                           const std::string& solver) {
  if (solver == "caffe" && (optimizer == "sgd" || optimizer == "nesterov")) {
    return "caffe_" + optimizer;
  }
  return optimizer;
}

std::string solver_text(const std::string& kind) {
  if (kind == "sgd") {
    return "solver pytorch: LibTorch's SGD, v <- m v + g + wd w; "
           "w <- w - lr v";
  }
  if (kind == "nesterov") {
    return "solver pytorch: LibTorch's SGD with Nesterov momentum, v <- m v "
           "+ g + wd w; w <- w - lr (g + wd w + m v)";
  }
  if (kind == "caffe_sgd") {
    return "solver caffe: Caffe's SGD, h <- m h + lr (g + wd w); w <- w - h";
  }
  if (kind == "caffe_nesterov") {
    return "solver caffe: Caffe's Nesterov, h <- m h + lr (g + wd w); "
           "w <- w - ((1 + m) h - m h_prev)";
  }
  return "";
}

std::unique_ptr<torch::optim::Optimizer> make_optimizer(
    const std::string& kind,
    const std::vector<ParamGroupSpec>& groups,
    double lr,
    double momentum,
    double weight_decay) {
  namespace optim = torch::optim;
  // Every group's options are the optimizer's own type: LibTorch's step()
  // casts them without a check.
  if (kind == "sgd" || kind == "nesterov") {
    const bool nesterov = kind == "nesterov";
    return build_optimizer<optim::SGD>(
        groups, lr, weight_decay, [&](double group_lr, double decay) {
          return optim::SGDOptions(group_lr)
              .momentum(momentum)
              .nesterov(nesterov)
              .weight_decay(decay);
        });
  }
  if (kind == "caffe_sgd" || kind == "caffe_nesterov") {
    const bool nesterov = kind == "caffe_nesterov";
    return build_optimizer<CaffeSGD>(
        groups, lr, weight_decay, [&](double group_lr, double decay) {
          return CaffeSGDOptions(group_lr)
              .momentum(momentum)
              .nesterov(nesterov)
              .weight_decay(decay);
        });
  }
  if (kind == "adam") {
    return build_optimizer<optim::Adam>(
        groups, lr, weight_decay, [&](double group_lr, double decay) {
          return optim::AdamOptions(group_lr)
              .betas({momentum, 0.999})
              .weight_decay(decay);
        });
  }
  if (kind == "adamw") {
    return build_optimizer<optim::AdamW>(
        groups, lr, weight_decay, [&](double group_lr, double decay) {
          return optim::AdamWOptions(group_lr)
              .betas({momentum, 0.999})
              .weight_decay(decay);
        });
  }
  if (kind == "rmsprop") {
    return build_optimizer<optim::RMSprop>(
        groups, lr, weight_decay, [&](double group_lr, double decay) {
          return optim::RMSpropOptions(group_lr).weight_decay(decay);
        });
  }
  if (kind == "adagrad") {
    return build_optimizer<optim::Adagrad>(
        groups, lr, weight_decay, [&](double group_lr, double decay) {
          return optim::AdagradOptions(group_lr).weight_decay(decay);
        });
  }
  if (kind == "adadelta") {
    return build_optimizer<Adadelta>(
        groups, lr, weight_decay, [&](double group_lr, double decay) {
          return AdadeltaOptions().lr(group_lr).weight_decay(decay);
        });
  }
  throw std::invalid_argument("--optimizer: unknown optimizer '" + kind + "'");
}

}  // namespace torchclr::examples
