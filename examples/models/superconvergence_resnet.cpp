#include "superconvergence_resnet.h"

#include <cmath>
#include <string>

namespace torchclr::examples {
namespace F = torch::nn::functional;

namespace {

constexpr int64_t kStemChannels = 16;
constexpr int64_t kStages = 3;

// convolution_param { num_output pad: 1 kernel_size: 3 stride weight_filler
// { type: "msra" } bias_filler { type: "constant" } }.
torch::nn::Conv2d caffe_conv3x3(int64_t in_channels,
                                int64_t out_channels,
                                int64_t stride) {
  torch::nn::Conv2d conv(torch::nn::Conv2dOptions(in_channels, out_channels, 3)
                             .stride(stride)
                             .padding(1)
                             .bias(true));
  torch::NoGradGuard no_grad;
  // Caffe's MSRAFiller: normal, std sqrt(2 / fan_in), fan_in = C_in k k.
  torch::nn::init::kaiming_normal_(
      conv->weight, /*a=*/0, torch::kFanIn, torch::kReLU);
  conv->bias.zero_();
  return conv;
}

CaffeBatchNorm2d batch_norm(int64_t channels,
                            const SuperConvergenceResNetOptions& options) {
  return CaffeBatchNorm2d(
      CaffeBatchNormOptions(channels)
          .moving_average_fraction(options.moving_average_fraction())
          .ghost_batch_size(options.ghost_batch_size()));
}

}  // namespace

SuperConvergenceBlockImpl::SuperConvergenceBlockImpl(
    int64_t channels,
    bool transition,
    const SuperConvergenceResNetOptions& options)
    : channels_(channels), transition_(transition), options_(options) {
  reset();
}

void SuperConvergenceBlockImpl::reset() {
  cbr1_conv_ = register_module(
      "cbr1_conv", caffe_conv3x3(channels_, channels_, transition_ ? 2 : 1));
  cbr1_bn_ = register_module("cbr1_bn", batch_norm(channels_, options_));
  cbr1_scale_ = register_module("cbr1_scale", CaffeScale(channels_));
  cbr2_conv_ =
      register_module("cbr2_conv", caffe_conv3x3(channels_, channels_, 1));
  cbr2_bn_ = register_module("cbr2_bn", batch_norm(channels_, options_));
  cbr2_scale_ = register_module("cbr2_scale", CaffeScale(channels_));
}

torch::Tensor SuperConvergenceBlockImpl::forward(const torch::Tensor& x) {
  auto branch = torch::relu(cbr1_scale_(cbr1_bn_(cbr1_conv_(x))));
  branch = cbr2_scale_(cbr2_bn_(cbr2_conv_(branch)));
  if (!transition_) {
    return torch::relu(branch + x);
  }
  // pooling_param { pool: AVE kernel_size: 3 stride: 2 }: Caffe rounds the
  // output size up (32 -> 16) and divides a window cut by the border by the
  // pixels inside it, as ceil_mode does without padding.
  const auto pooled =
      F::avg_pool2d(x, F::AvgPool2dFuncOptions(3).stride(2).ceil_mode(true));
  const auto sum = torch::relu(branch + pooled);
  return torch::cat({sum, torch::zeros_like(sum)}, 1);
}

SuperConvergenceResNetImpl::SuperConvergenceResNetImpl(
    const SuperConvergenceResNetOptions& options)
    : options_(options) {
  TORCH_CHECK(options.blocks_per_stage() > 0,
              "SuperConvergenceResNet: blocks_per_stage must be > 0, got ",
              options.blocks_per_stage());
  TORCH_CHECK(options.num_classes() > 0,
              "SuperConvergenceResNet: num_classes must be > 0, got ",
              options.num_classes());
  TORCH_CHECK(options.in_channels() > 0,
              "SuperConvergenceResNet: in_channels must be > 0, got ",
              options.in_channels());
  reset();
}

void SuperConvergenceResNetImpl::reset() {
  const SuperConvergenceResNetOptions& options = options_;
  // clone() copy-constructs first: the copy's blocks_ still hold the
  // original's blocks.
  blocks_.clear();
  pre_conv_ = register_module(
      "pre_conv", caffe_conv3x3(options.in_channels(), kStemChannels, 1));
  pre_bn_ = register_module("pre_bn", batch_norm(kStemChannels, options));
  pre_scale_ = register_module("pre_scale", CaffeScale(kStemChannels));
  int64_t channels = kStemChannels;
  for (int64_t stage = 1; stage <= kStages; ++stage) {
    for (int64_t block = 1; block <= options.blocks_per_stage(); ++block) {
      const bool transition = stage > 1 && block == 1;
      blocks_.push_back(register_module(
          "L" + std::to_string(stage) + "_b" + std::to_string(block),
          SuperConvergenceBlock(channels, transition, options)));
      channels *= transition ? 2 : 1;
    }
  }
  post_fc_ = register_module(
      "post_FC", torch::nn::Linear(channels, options.num_classes()));
  torch::NoGradGuard no_grad;
  // Caffe's XavierFiller: uniform in +-sqrt(3 / fan_in).
  const double bound = std::sqrt(3.0 / static_cast<double>(channels));
  post_fc_->weight.uniform_(-bound, bound);
  post_fc_->bias.zero_();
}

torch::Tensor SuperConvergenceResNetImpl::forward(const torch::Tensor& x) {
  TORCH_CHECK(x.dim() == 4 && x.size(1) == options_.in_channels() &&
                  x.size(2) % 4 == 0 && x.size(3) % 4 == 0,
              "SuperConvergenceResNet: expects images [N, ",
              options_.in_channels(),
              ", H, W] with H and W multiples of 4, got ",
              x.sizes());
  auto out = torch::relu(pre_scale_(pre_bn_(pre_conv_(x))));
  for (auto& block : blocks_) {
    out = block(out);
  }
  // pooling_param { pool: AVE kernel_size: 8 stride: 1 }: the whole 8x8 map
  // of a 32x32 image; other sizes average their whole map too.
  out = F::avg_pool2d(
      out, F::AvgPool2dFuncOptions({out.size(2), out.size(3)}).stride(1));
  return post_fc_(out.flatten(1));
}

std::vector<ParamGroupSpec> SuperConvergenceResNetImpl::param_groups() {
  ParamGroupSpec weights{{}, 1, 1};
  ParamGroupSpec conv_biases{{}, 2, 0};
  for (const auto& module : modules(/*include_self=*/false)) {
    if (const auto* conv = module->as<torch::nn::Conv2d>()) {
      weights.params.push_back(conv->weight);
      conv_biases.params.push_back(conv->bias);
    } else if (const auto* scale = module->as<CaffeScale>()) {
      weights.params.push_back(scale->weight);
      weights.params.push_back(scale->bias);
    }
  }
  weights.params.push_back(post_fc_->weight);
  return {weights, conv_biases, {{post_fc_->bias}, 2, 1}};
}

}  // namespace torchclr::examples
