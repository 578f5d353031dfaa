#pragma once

// The CIFAR ResNets of Smith and Topin's Caffe files for "Super-Convergence"
// (arXiv 1708.07120), github.com/lnsmith54/super-convergence at commit
// ecc561594b39442661e7e0a39d2820b0f4147324:
// architectures/Resnet56Cifar.prototxt and Resnet20Cifar.prototxt, layer by
// layer. They differ from He et al.'s ResNet-56 (resnet56.h): convolutions with
// biases, Caffe's BatchNorm + Scale layers, and transition blocks whose branch
// keeps the input's width, whose shortcut is a 3x3 average pool, and which
// concatenate zero channels after the sum.

#include <torch/arg.h>
#include <torch/torch.h>

#include <cstdint>
#include <vector>

#include "caffe_batch_norm.h"
#include "param_group_spec.h"

namespace torchclr::examples {

struct SuperConvergenceResNetOptions {
  /// Blocks per stage: 9 for Resnet56Cifar.prototxt (6 x 9 + 2 = 56 layers
  /// with weights), 3 for Resnet20Cifar.prototxt.
  TORCH_ARG(int64_t, blocks_per_stage) = 9;
  /// post_FC's num_output: 10 (CIFAR-10), or 100 as the authors' x.sh edits
  /// it for CIFAR-100.
  TORCH_ARG(int64_t, num_classes) = 10;
  /// pre_conv's input channels: 3 in the files (CIFAR's colour images), 1
  /// for grey images such as Fashion-MNIST's.
  TORCH_ARG(int64_t, in_channels) = 3;
  /// Every BatchNorm's moving_average_fraction: 0.999 in the files; x.sh
  /// turns it into 0.95 for the 1cycle (clrsolver.prototxt) runs.
  TORCH_ARG(double, moving_average_fraction) = 0.999;
  /// Every BatchNorm's ghost_batch_size (0: the whole batch); 125 is one of
  /// the authors' 8 GPUs' share of their batch of 1,000.
  TORCH_ARG(int64_t, ghost_batch_size) = 0;
};

/// One residual block of the files, named as they name its layers
/// (L<stage>_b<block>_cbr1_conv ...). Ordinary block: conv 3x3 (bias) ->
/// BatchNorm -> Scale -> ReLU -> conv 3x3 (bias) -> BatchNorm -> Scale, plus
/// the input, -> ReLU. Transition block (the first of stages 2 and 3): the
/// first conv has stride 2 and both keep the input's C channels; the
/// shortcut is a 3x3 average pool with stride 2 (Caffe's, rounded up); after
/// the sum and the ReLU, C zero channels are concatenated (DummyData +
/// Concat), giving 2C channels at half the size.
class SuperConvergenceBlockImpl
    : public torch::nn::Cloneable<SuperConvergenceBlockImpl> {
 public:
  SuperConvergenceBlockImpl(int64_t channels,
                            bool transition,
                            const SuperConvergenceResNetOptions& options);

  /// Builds and initialises the layers.
  void reset() override;

  torch::Tensor forward(const torch::Tensor& x);

 private:
  int64_t channels_;
  bool transition_;
  SuperConvergenceResNetOptions options_;
  torch::nn::Conv2d cbr1_conv_{nullptr}, cbr2_conv_{nullptr};
  CaffeBatchNorm2d cbr1_bn_{nullptr}, cbr2_bn_{nullptr};
  CaffeScale cbr1_scale_{nullptr}, cbr2_scale_{nullptr};
};
TORCH_MODULE(SuperConvergenceBlock);

/// pre_conv 3x3 16 -> pre_bn -> pre_scale -> ReLU -> three stages of
/// blocks_per_stage blocks (16, 32 and 64 channels at 32x32, 16x16, 8x8) ->
/// post_pool (average 8x8) -> post_FC, for images [N, 3, 32, 32]. Other
/// images [N, in_channels, H, W] with H and W multiples of 4 (the two
/// transitions must halve them evenly) go through the same layers, post_pool
/// averaging the whole final H/4 x W/4 map as 8x8 is for 32x32. 808,682
/// learnable parameters for ResNet-56 (224,042 for ResNet-20) and 3,927
/// BatchNorm statistics. Initialised as the files' fillers say: convolution
/// weights "msra" (normal, std sqrt(2 / fan_in)), post_FC's "xavier"
/// (uniform +-sqrt(3 / fan_in)), biases 0, Scale 1 and 0. Cloneable,
/// blocks and Caffe layers included, so that an AveragedModel can copy it.
class SuperConvergenceResNetImpl
    : public torch::nn::Cloneable<SuperConvergenceResNetImpl> {
 public:
  explicit SuperConvergenceResNetImpl(
      const SuperConvergenceResNetOptions& options = {});

  /// Builds and initialises the layers (the constructor's, and clone()'s
  /// fresh copy before the weights are copied in).
  void reset() override;

  /// Logits [N, num_classes] of images [N, in_channels, H, W].
  torch::Tensor forward(const torch::Tensor& x);

  /// The files' param multipliers (lr_mult, decay_mult), one group per pair:
  /// (1, 1) conv weights, Scale weights and biases (no param block: Caffe's
  /// defaults) and post_FC's weights; (2, 0) conv biases; (2, 1) post_FC's
  /// bias (param { lr_mult: 2 }, decay_mult left at its default 1).
  std::vector<ParamGroupSpec> param_groups();

  const SuperConvergenceResNetOptions& options() const {
    return options_;
  }

 private:
  SuperConvergenceResNetOptions options_;
  torch::nn::Conv2d pre_conv_{nullptr};
  CaffeBatchNorm2d pre_bn_{nullptr};
  CaffeScale pre_scale_{nullptr};
  std::vector<SuperConvergenceBlock> blocks_;
  torch::nn::Linear post_fc_{nullptr};
};
TORCH_MODULE(SuperConvergenceResNet);

}  // namespace torchclr::examples
