#pragma once

// Caffe's `cifar10_full` network, the one the paper trains on CIFAR-10.

#include <torch/torch.h>

#include <vector>

#include "param_group_spec.h"

namespace torchclr::examples {

/// conv 32 5x5 -> max pool 3/2 -> ReLU -> LRN -> conv 32 5x5 -> ReLU -> avg
/// pool 3/2 -> LRN -> conv 64 5x5 -> ReLU -> avg pool 3/2 -> fc 10, with
/// Caffe's rounded-up pooling and its Gaussian initialisation. On the CPU,
/// the pool-ReLU and the LRNs are fused (fused_layers.h) and fc runs as a
/// 4x4 convolution (oneDNN) instead of a BLAS matrix product.
/// Cloneable (reset() builds the layers), so that an AveragedModel can copy it.
class Cifar10FullImpl : public torch::nn::Cloneable<Cifar10FullImpl> {
 public:
  /// `channels`, `height`, `width`: the input image shape (3x32x32 for
  /// CIFAR-10, 1x28x28 for Fashion-MNIST); `num_classes`: 10, or 100 for
  /// CIFAR-100.
  Cifar10FullImpl(int64_t channels,
                  int64_t height,
                  int64_t width,
                  int64_t num_classes = 10);

  /// Builds the layers, freshly initialised (what `clone` calls).
  void reset() override;

  torch::Tensor forward(torch::Tensor x);

  /// The multipliers of cifar10_full_train_test.prototxt as param groups
  /// (lr_mult, decay_mult): conv weights and conv3's bias (1, 1), conv1's
  /// and conv2's biases (2, 1), fc weights (1, 250), fc bias (2, 0).
  std::vector<ParamGroupSpec> param_groups();

 private:
  torch::Tensor features(torch::Tensor x);

  int64_t channels_, height_, width_, num_classes_;
  torch::nn::Conv2d conv1_{nullptr}, conv2_{nullptr}, conv3_{nullptr};
  torch::nn::Linear fc_{nullptr};
};
TORCH_MODULE(Cifar10Full);

}  // namespace torchclr::examples
