#include "cifar10_full.h"

#include "fused_layers.h"

namespace torchclr::examples {
namespace F = torch::nn::functional;

namespace {

torch::nn::Conv2d conv(int64_t in, int64_t out, double std) {
  torch::nn::Conv2d layer(
      torch::nn::Conv2dOptions(in, out, 5).stride(1).padding(2));
  torch::NoGradGuard no_grad;
  layer->weight.normal_(0, std);
  layer->bias.zero_();
  return layer;
}

// Caffe rounds pooled sizes up: 32 -> 16 -> 8 -> 4.
torch::Tensor avg_pool(const torch::Tensor& x) {
  return F::avg_pool2d(x, F::AvgPool2dFuncOptions(3).stride(2).ceil_mode(true));
}

}  // namespace

Cifar10FullImpl::Cifar10FullImpl(int64_t channels,
                                 int64_t height,
                                 int64_t width,
                                 int64_t num_classes)
    : channels_(channels),
      height_(height),
      width_(width),
      num_classes_(num_classes) {
  reset();
}

void Cifar10FullImpl::reset() {
  conv1_ = register_module("conv1", conv(channels_, 32, 1e-4));
  conv2_ = register_module("conv2", conv(32, 32, 0.01));
  conv3_ = register_module("conv3", conv(32, 64, 0.01));
  const auto flat =
      features(torch::zeros({1, channels_, height_, width_})).numel();
  fc_ = register_module("fc", torch::nn::Linear(flat, num_classes_));
  torch::NoGradGuard no_grad;
  fc_->weight.normal_(0, 0.01);
  fc_->bias.zero_();
}

torch::Tensor Cifar10FullImpl::features(torch::Tensor x) {
  x = within_channel_lrn(max_pool_relu(conv1_(x)));
  // In place: a convolution's backward pass needs its input, not its output.
  x = within_channel_lrn(avg_pool(conv2_(x).relu_()));
  return avg_pool(conv3_(x).relu_());
}

torch::Tensor Cifar10FullImpl::forward(torch::Tensor x) {
  auto maps = features(std::move(x));
  if (!maps.device().is_cpu()) {
    return fc_(maps.flatten(1));
  }
  // The same weights as a convolution over the whole map, so that the step
  // runs in oneDNN and LibTorch's threads only: Debian's LibTorch sends the
  // matrix product to OpenBLAS, whose own threads spin against LibTorch's
  // for the cores (fc forward and backward took 0.4 ms with one OpenBLAS
  // thread, 23-67 ms with its default two on the busy 2-core machine; as a
  // convolution 1.4-4.4 ms).
  auto weight = fc_->weight.view(
      {fc_->weight.size(0), maps.size(1), maps.size(2), maps.size(3)});
  return F::conv2d(maps, weight, F::Conv2dFuncOptions().bias(fc_->bias))
      .flatten(1);
}

// Caffe's multipliers, from BVLC/caffe's
// examples/cifar10/cifar10_full_train_test.prototxt: a layer's first
// `param` block is its weights', the second its bias'; a value not given is
// ParamSpec's default (caffe.proto: lr_mult 1, decay_mult 1).
//   conv1: param { lr_mult: 1 } param { lr_mult: 2 }  -> (1, 1) and (2, 1)
//   conv2: param { lr_mult: 1 } param { lr_mult: 2 }  -> (1, 1) and (2, 1)
//   conv3: no param block                             -> (1, 1) and (1, 1)
//   ip1:   param { lr_mult: 1 decay_mult: 250 }
//          param { lr_mult: 2 decay_mult: 0 }         -> (1, 250) and (2, 0)
// One group per (lr_mult, decay_mult) pair, the 1x LR, 1x decay group first.
std::vector<ParamGroupSpec> Cifar10FullImpl::param_groups() {
  return {
      {{conv1_->weight, conv2_->weight, conv3_->weight, conv3_->bias}, 1, 1},
      {{conv1_->bias, conv2_->bias}, 2, 1},
      {{fc_->weight}, 1, 250},
      {{fc_->bias}, 2, 0},
  };
}

}  // namespace torchclr::examples
