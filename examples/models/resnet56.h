#pragma once

// He et al.'s CIFAR ResNet-56 ("Deep Residual Learning for Image
// Recognition", 2016, section 4.2), the network of the super-convergence
// paper (Smith and Topin 2017).

#include <torch/torch.h>

#include <cstdint>
#include <vector>

namespace torchclr::examples {

/// Two 3x3 convolutions with BatchNorm and a parameter-free shortcut
/// (the paper's option A): relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)).
/// When the block halves the image and widens the channels, the shortcut takes
/// every second pixel and pads the new channels with zeros.
class ResNetBasicBlockImpl : public torch::nn::Cloneable<ResNetBasicBlockImpl> {
 public:
  ResNetBasicBlockImpl(int64_t in_channels, int64_t channels, int64_t stride);

  /// Builds the layers (LibTorch's default initialisation).
  void reset() override;

  torch::Tensor forward(const torch::Tensor& x);

 private:
  torch::Tensor shortcut(const torch::Tensor& x) const;

  torch::nn::Conv2d conv1_{nullptr}, conv2_{nullptr};
  torch::nn::BatchNorm2d bn1_{nullptr}, bn2_{nullptr};
  int64_t in_channels_;
  int64_t channels_;
  int64_t stride_;
  int64_t padded_channels_;  // zero channels added on each side of the input
};
TORCH_MODULE(ResNetBasicBlock);

/// ResNet-56 for 3x32x32 images: conv 3x3 16 -> BN -> ReLU -> three stages
/// of 9 basic blocks (16, 32 and 64 channels at 32x32, 16x16 and 8x8; the
/// first block of stages 2 and 3 has stride 2) -> global average pool ->
/// linear to `num_classes`. 853,018 parameters for 10 classes (He et al.'s
/// 0.85M). Convolution weights use He et al.'s (2015) Kaiming
/// normal initialisation (the classifier keeps LibTorch's default); BatchNorm
/// starts at weight 1, bias 0. Cloneable, blocks included, so that an
/// AveragedModel can copy it.
class ResNet56Impl : public torch::nn::Cloneable<ResNet56Impl> {
 public:
  /// Basic blocks per stage: 56 = 6 * 9 + 2 layers with weights.
  static constexpr int64_t kBlocksPerStage = 9;

  /// `num_classes`: 10 for CIFAR-10, 100 for CIFAR-100.
  explicit ResNet56Impl(int64_t num_classes = 10);

  /// Builds and initialises the layers (the constructor's, and clone()'s
  /// fresh copy before the weights are copied in).
  void reset() override;

  /// Logits [N, num_classes] of images [N, 3, 32, 32].
  torch::Tensor forward(const torch::Tensor& x);

  /// The output of each of the three stages for images [N, 3, 32, 32]:
  /// [N, 16, 32, 32], [N, 32, 16, 16] and [N, 64, 8, 8].
  std::vector<torch::Tensor> stage_outputs(const torch::Tensor& x);

 private:
  torch::nn::Conv2d conv_{nullptr};
  torch::nn::BatchNorm2d bn_{nullptr};
  std::vector<torch::nn::Sequential> stages_;
  torch::nn::Linear fc_{nullptr};
  int64_t num_classes_;
};
TORCH_MODULE(ResNet56);

}  // namespace torchclr::examples
