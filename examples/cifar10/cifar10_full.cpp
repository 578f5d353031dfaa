#include "cifar10_full.h"

namespace torchclr::examples {
namespace F = torch::nn::functional;

torch::Tensor within_channel_lrn(const torch::Tensor& x,
                                 int64_t local_size,
                                 double alpha,
                                 double beta) {
  auto mean_square = F::avg_pool2d(x.square(),
                                   F::AvgPool2dFuncOptions(local_size)
                                       .stride(1)
                                       .padding(local_size / 2)
                                       .count_include_pad(true));
  return x * mean_square.mul_(alpha).add_(1).pow_(-beta);
}

namespace {

torch::nn::Conv2d conv(int64_t in, int64_t out, double std) {
  torch::nn::Conv2d layer(
      torch::nn::Conv2dOptions(in, out, 5).stride(1).padding(2));
  torch::NoGradGuard no_grad;
  layer->weight.normal_(0, std);
  layer->bias.zero_();
  return layer;
}

torch::Tensor pool(const torch::Tensor& x, bool max) {
  // Caffe rounds pooled sizes up: 32 -> 16 -> 8 -> 4.
  if (max) {
    return F::max_pool2d(x,
                         F::MaxPool2dFuncOptions(3).stride(2).ceil_mode(true));
  }
  return F::avg_pool2d(x, F::AvgPool2dFuncOptions(3).stride(2).ceil_mode(true));
}

}  // namespace

Cifar10FullImpl::Cifar10FullImpl(int64_t channels,
                                 int64_t height,
                                 int64_t width,
                                 int64_t num_classes) {
  conv1_ = register_module("conv1", conv(channels, 32, 1e-4));
  conv2_ = register_module("conv2", conv(32, 32, 0.01));
  conv3_ = register_module("conv3", conv(32, 64, 0.01));
  const auto flat =
      features(torch::zeros({1, channels, height, width})).size(1);
  fc_ = register_module("fc", torch::nn::Linear(flat, num_classes));
  torch::NoGradGuard no_grad;
  fc_->weight.normal_(0, 0.01);
  fc_->bias.zero_();
}

torch::Tensor Cifar10FullImpl::features(torch::Tensor x) {
  x = within_channel_lrn(torch::relu(pool(conv1_(x), true)));
  x = within_channel_lrn(pool(torch::relu(conv2_(x)), false));
  x = pool(torch::relu(conv3_(x)), false);
  return x.flatten(1);
}

torch::Tensor Cifar10FullImpl::forward(torch::Tensor x) {
  return fc_(features(std::move(x)));
}

std::vector<double> Cifar10FullImpl::lr_multipliers() {
  return {1.0, 2.0, 1.0};
}

std::vector<ParamGroupSpec> Cifar10FullImpl::param_groups() {
  const auto mult = lr_multipliers();
  return {
      {{conv1_->weight, conv2_->weight, conv3_->weight}, mult[0], 1.0},
      {{conv1_->bias, conv2_->bias, conv3_->bias, fc_->bias}, mult[1], 0.0},
      {{fc_->weight}, mult[2], 250.0},
  };
}

}  // namespace torchclr::examples
