#include "resnet56.h"

#include <string>

namespace torchclr::examples {
namespace {

torch::nn::Conv2d conv3x3(int64_t in_channels,
                          int64_t out_channels,
                          int64_t stride) {
  // No bias: the BatchNorm that follows has its own.
  return torch::nn::Conv2d(
      torch::nn::Conv2dOptions(in_channels, out_channels, 3)
          .stride(stride)
          .padding(1)
          .bias(false));
}

}  // namespace

ResNetBasicBlockImpl::ResNetBasicBlockImpl(int64_t in_channels,
                                           int64_t channels,
                                           int64_t stride)
    : in_channels_(in_channels),
      channels_(channels),
      stride_(stride),
      padded_channels_((channels - in_channels) / 2) {
  TORCH_CHECK(stride == 1 || stride == 2,
              "ResNetBasicBlock: stride must be 1 or 2, got ",
              stride);
  TORCH_CHECK(channels == in_channels || channels == 2 * in_channels,
              "ResNetBasicBlock: channels must be in_channels or twice it "
              "(option A shortcut), got ",
              in_channels,
              " -> ",
              channels);
  reset();
}

void ResNetBasicBlockImpl::reset() {
  conv1_ = register_module("conv1", conv3x3(in_channels_, channels_, stride_));
  bn1_ = register_module("bn1", torch::nn::BatchNorm2d(channels_));
  conv2_ = register_module("conv2", conv3x3(channels_, channels_, 1));
  bn2_ = register_module("bn2", torch::nn::BatchNorm2d(channels_));
}

torch::Tensor ResNetBasicBlockImpl::shortcut(const torch::Tensor& x) const {
  if (stride_ == 1 && padded_channels_ == 0) {
    return x;
  }
  auto subsampled =
      stride_ == 1
          ? x
          : x.slice(2, 0, x.size(2), stride_).slice(3, 0, x.size(3), stride_);
  // Pad dims are listed last dimension first: (W, W, H, H, C, C).
  return torch::constant_pad_nd(
      subsampled, {0, 0, 0, 0, padded_channels_, padded_channels_});
}

torch::Tensor ResNetBasicBlockImpl::forward(const torch::Tensor& x) {
  auto out = torch::relu(bn1_(conv1_(x)));
  out = bn2_(conv2_(out));
  return torch::relu(out + shortcut(x));
}

ResNet56Impl::ResNet56Impl(int64_t num_classes) : num_classes_(num_classes) {
  TORCH_CHECK(
      num_classes > 0, "ResNet56: num_classes must be > 0, got ", num_classes);
  reset();
}

void ResNet56Impl::reset() {
  // clone() copy-constructs first: the copy's stages_ still hold the
  // original's stages.
  stages_.clear();
  conv_ = register_module("conv", conv3x3(3, 16, 1));
  bn_ = register_module("bn", torch::nn::BatchNorm2d(16));
  int64_t in_channels = 16;
  for (const int64_t channels : {16, 32, 64}) {
    torch::nn::Sequential stage;
    for (int64_t block = 0; block < kBlocksPerStage; ++block) {
      const int64_t stride = (block == 0 && channels != in_channels) ? 2 : 1;
      stage->push_back(ResNetBasicBlock(in_channels, channels, stride));
      in_channels = channels;
    }
    stages_.push_back(
        register_module("stage" + std::to_string(stages_.size() + 1), stage));
  }
  fc_ = register_module("fc", torch::nn::Linear(64, num_classes_));

  // He et al. initialise the convolutions as in their 2015 paper (Kaiming
  // normal, fan-in); the classifier keeps LibTorch's default, as torchvision's
  // ResNets do, so that the first logits are small.
  torch::NoGradGuard no_grad;
  for (auto& module : modules(/*include_self=*/false)) {
    if (auto* conv = module->as<torch::nn::Conv2d>()) {
      torch::nn::init::kaiming_normal_(
          conv->weight, /*a=*/0, torch::kFanIn, torch::kReLU);
    }
  }
}

std::vector<torch::Tensor> ResNet56Impl::stage_outputs(const torch::Tensor& x) {
  std::vector<torch::Tensor> outputs;
  auto out = torch::relu(bn_(conv_(x)));
  for (auto& stage : stages_) {
    out = stage->forward(out);
    outputs.push_back(out);
  }
  return outputs;
}

torch::Tensor ResNet56Impl::forward(const torch::Tensor& x) {
  const auto features = stage_outputs(x).back();
  return fc_(torch::adaptive_avg_pool2d(features, {1, 1}).flatten(1));
}

}  // namespace torchclr::examples
