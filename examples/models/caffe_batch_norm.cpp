#include "caffe_batch_norm.h"

#include <utility>
#include <vector>

namespace torchclr::examples {
namespace {

torch::Tensor per_channel(const torch::Tensor& values) {
  return values.view({1, -1, 1, 1});
}

}  // namespace

void accumulate_caffe_statistics(torch::Tensor& mean_sum,
                                 torch::Tensor& variance_sum,
                                 torch::Tensor& scale_factor,
                                 const torch::Tensor& batch_mean,
                                 const torch::Tensor& batch_variance,
                                 int64_t count_per_channel,
                                 double moving_average_fraction) {
  const int64_t m = count_per_channel;
  const double bias_correction =
      m > 1 ? static_cast<double>(m) / static_cast<double>(m - 1) : 1.0;
  scale_factor.mul_(moving_average_fraction).add_(1);
  mean_sum.mul_(moving_average_fraction).add_(batch_mean);
  variance_sum.mul_(moving_average_fraction)
      .add_(batch_variance, bias_correction);
}

CaffeBatchNorm2dImpl::CaffeBatchNorm2dImpl(CaffeBatchNormOptions options)
    : options_(options) {
  TORCH_CHECK(options_.num_features() > 0,
              "CaffeBatchNorm2d: num_features must be > 0, got ",
              options_.num_features());
  const double fraction = options_.moving_average_fraction();
  TORCH_CHECK(fraction >= 0 && fraction <= 1,
              "CaffeBatchNorm2d: moving_average_fraction must be in [0, 1], "
              "got ",
              fraction);
  TORCH_CHECK(options_.eps() > 0,
              "CaffeBatchNorm2d: eps must be > 0, got ",
              options_.eps());
  TORCH_CHECK(options_.ghost_batch_size() >= 0,
              "CaffeBatchNorm2d: ghost_batch_size must be >= 0 (0: the whole "
              "batch), got ",
              options_.ghost_batch_size());
  reset();
}

void CaffeBatchNorm2dImpl::reset() {
  const int64_t channels = options_.num_features();
  mean_sum = register_buffer("mean_sum", torch::zeros({channels}));
  variance_sum = register_buffer("variance_sum", torch::zeros({channels}));
  scale_factor = register_buffer("scale_factor", torch::zeros({1}));
}

void recount_caffe_batch_norm(torch::nn::Module& model,
                              const std::function<void()>& pass) {
  std::vector<std::pair<CaffeBatchNorm2dImpl*, double>> fractions;
  for (const auto& module : model.modules()) {
    if (auto* batch_norm = module->as<CaffeBatchNorm2dImpl>()) {
      fractions.emplace_back(batch_norm,
                             batch_norm->options_.moving_average_fraction());
    }
  }
  if (fractions.empty()) {
    return;
  }
  std::vector<std::pair<torch::nn::Module*, bool>> training;
  for (const auto& module : model.modules()) {
    training.emplace_back(module.get(), module->is_training());
  }
  auto restore = [&] {
    for (auto& [batch_norm, fraction] : fractions) {
      batch_norm->options_.moving_average_fraction(fraction);
    }
    for (auto& [module, was_training] : training) {
      module->train(was_training);
    }
  };
  {
    torch::NoGradGuard no_grad;
    for (auto& [batch_norm, fraction] : fractions) {
      batch_norm->mean_sum.zero_();
      batch_norm->variance_sum.zero_();
      batch_norm->scale_factor.zero_();
      batch_norm->options_.moving_average_fraction(1.0);
    }
    model.train(true);
    try {
      pass();
    } catch (...) {
      restore();
      throw;
    }
  }
  restore();
}

std::pair<torch::Tensor, torch::Tensor>
CaffeBatchNorm2dImpl::global_statistics() const {
  // Caffe multiplies by 1 / blobs[2], or by 0 while that is 0.
  const auto factor = torch::where(scale_factor == 0,
                                   torch::zeros_like(scale_factor),
                                   scale_factor.reciprocal());
  return {mean_sum * factor, variance_sum * factor};
}

torch::Tensor CaffeBatchNorm2dImpl::forward(const torch::Tensor& x) {
  TORCH_CHECK(x.dim() == 4 && x.size(1) == options_.num_features(),
              "CaffeBatchNorm2d: expected input [N, ",
              options_.num_features(),
              ", H, W], got ",
              x.sizes());
  const double eps = options_.eps();
  if (!is_training()) {
    const auto [mean, variance] = global_statistics();
    return (x - per_channel(mean)) * per_channel((variance + eps).rsqrt());
  }
  const int64_t ghost = options_.ghost_batch_size();
  std::vector<torch::Tensor> groups =
      ghost > 0 ? x.split(ghost) : std::vector<torch::Tensor>{x};
  std::vector<torch::Tensor> normalised;
  normalised.reserve(groups.size());
  for (const auto& group : groups) {
    normalised.push_back(torch::batch_norm(group,
                                           /*weight=*/{},
                                           /*bias=*/{},
                                           /*running_mean=*/{},
                                           /*running_var=*/{},
                                           /*training=*/true,
                                           /*momentum=*/0.0,
                                           eps,
                                           /*cudnn_enabled=*/true));
  }
  {
    torch::NoGradGuard no_grad;
    const auto& first = groups.front();
    const auto [variance, mean] =
        torch::var_mean(first, {0, 2, 3}, /*unbiased=*/false);
    accumulate_caffe_statistics(mean_sum,
                                variance_sum,
                                scale_factor,
                                mean,
                                variance,
                                first.numel() / first.size(1),
                                options_.moving_average_fraction());
  }
  return normalised.size() == 1 ? normalised.front()
                                : torch::cat(normalised, 0);
}

CaffeScaleImpl::CaffeScaleImpl(int64_t channels) : channels_(channels) {
  TORCH_CHECK(channels > 0, "CaffeScale: channels must be > 0, got ", channels);
  reset();
}

void CaffeScaleImpl::reset() {
  weight = register_parameter("weight", torch::ones({channels_}));
  bias = register_parameter("bias", torch::zeros({channels_}));
}

torch::Tensor CaffeScaleImpl::forward(const torch::Tensor& x) {
  TORCH_CHECK(x.dim() == 4 && x.size(1) == weight.size(0),
              "CaffeScale: expected input [N, ",
              weight.size(0),
              ", H, W], got ",
              x.sizes());
  return torch::addcmul(per_channel(bias), x, per_channel(weight));
}

}  // namespace torchclr::examples
