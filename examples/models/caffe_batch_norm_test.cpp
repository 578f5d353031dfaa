#include "caffe_batch_norm.h"

#include <gmock/gmock.h>
#include <torch/torch.h>

#include <cmath>
#include <stdexcept>
#include <vector>

namespace torchclr::examples {
namespace {

using ::testing::HasSubstr;
using ::testing::ThrowsMessage;

// BatchNormLayer<Dtype>::Forward_cpu of BVLC/caffe
// (src/caffe/layers/batch_norm_layer.cpp at commit 9b891540), transcribed
// loop by loop on a flat NCHW array in double precision: the three blobs,
// the batch mean, the variance as E((X - EX)^2), the moving averages with
// the m / (m - 1) correction, and the normalisation by sqrt(var + eps).
struct CaffeBatchNormReference {
  int num_channels;
  double moving_average_fraction;
  double eps = 1e-5;
  std::vector<double> blob0 = std::vector<double>(num_channels, 0.0);
  std::vector<double> blob1 = std::vector<double>(num_channels, 0.0);
  double blob2 = 0;

  std::vector<double> forward(const std::vector<double>& bottom,
                              int num,
                              int spatial_dim,
                              bool use_global_stats) {
    std::vector<double> mean(num_channels, 0.0), variance(num_channels, 0.0);
    auto at = [&](int n, int c, int s) {
      return bottom[(n * num_channels + c) * spatial_dim + s];
    };
    if (use_global_stats) {
      const double scale_factor = blob2 == 0 ? 0 : 1 / blob2;
      for (int c = 0; c < num_channels; ++c) {
        mean[c] = scale_factor * blob0[c];
        variance[c] = scale_factor * blob1[c];
      }
    } else {
      for (int c = 0; c < num_channels; ++c) {
        for (int n = 0; n < num; ++n) {
          for (int s = 0; s < spatial_dim; ++s) {
            mean[c] += at(n, c, s) / (num * spatial_dim);
          }
        }
        for (int n = 0; n < num; ++n) {
          for (int s = 0; s < spatial_dim; ++s) {
            variance[c] +=
                std::pow(at(n, c, s) - mean[c], 2) / (num * spatial_dim);
          }
        }
      }
      blob2 = blob2 * moving_average_fraction + 1;
      const int m = num * spatial_dim;
      const double bias_correction_factor = m > 1 ? double(m) / (m - 1) : 1;
      for (int c = 0; c < num_channels; ++c) {
        blob0[c] = mean[c] + moving_average_fraction * blob0[c];
        blob1[c] = bias_correction_factor * variance[c] +
                   moving_average_fraction * blob1[c];
      }
    }
    std::vector<double> top(bottom.size());
    for (int n = 0; n < num; ++n) {
      for (int c = 0; c < num_channels; ++c) {
        for (int s = 0; s < spatial_dim; ++s) {
          top[(n * num_channels + c) * spatial_dim + s] =
              (at(n, c, s) - mean[c]) / std::sqrt(variance[c] + eps);
        }
      }
    }
    return top;
  }
};

torch::Tensor to_tensor(const std::vector<double>& values,
                        torch::IntArrayRef shape) {
  return torch::tensor(values, torch::kFloat64).reshape(shape);
}

std::vector<double> to_vector(const torch::Tensor& tensor) {
  auto flat = tensor.to(torch::kFloat64).contiguous().flatten();
  return {flat.data_ptr<double>(), flat.data_ptr<double>() + flat.numel()};
}

// A module in double precision, so that it agrees with the transcription to
// rounding.
CaffeBatchNorm2d double_module(CaffeBatchNormOptions options) {
  CaffeBatchNorm2d module(options);
  module->to(torch::kFloat64);
  return module;
}

TEST(CaffeBatchNormTest, FirstStepsCheckedByHand) {
  // One channel, m = N H W = 4 values per step, moving_average_fraction 0.5.
  auto bn =
      double_module(CaffeBatchNormOptions(1).moving_average_fraction(0.5));
  // Step 1, values 1 2 3 4: mean 2.5, biased variance 1.25, corrected
  // 1.25 x 4/3 = 5/3. scale_factor 0 x 0.5 + 1 = 1.
  auto y = bn(to_tensor({1, 2, 3, 4}, {2, 1, 1, 2}));
  EXPECT_TRUE(torch::allclose(
      y,
      (to_tensor({1, 2, 3, 4}, {2, 1, 1, 2}) - 2.5) / std::sqrt(1.25 + 1e-5)));
  EXPECT_DOUBLE_EQ(bn->scale_factor.item<double>(), 1.0);
  EXPECT_DOUBLE_EQ(bn->mean_sum.item<double>(), 2.5);
  EXPECT_DOUBLE_EQ(bn->variance_sum.item<double>(), 5.0 / 3);
  // Step 2, values 2 4 6 8: mean 5, variance 5, corrected 20/3.
  // scale_factor 1.5, mean_sum 1.25 + 5 = 6.25, variance_sum 5/6 + 20/3 = 7.5.
  bn(to_tensor({2, 4, 6, 8}, {2, 1, 1, 2}));
  EXPECT_DOUBLE_EQ(bn->scale_factor.item<double>(), 1.5);
  EXPECT_DOUBLE_EQ(bn->mean_sum.item<double>(), 6.25);
  EXPECT_DOUBLE_EQ(bn->variance_sum.item<double>(), 7.5);
  // Test phase: mean 6.25 / 1.5 = 25/6, variance 7.5 / 1.5 = 5.
  bn->eval();
  const auto [mean, variance] = bn->global_statistics();
  EXPECT_DOUBLE_EQ(mean.item<double>(), 25.0 / 6);
  EXPECT_DOUBLE_EQ(variance.item<double>(), 5.0);
  EXPECT_NEAR(bn(to_tensor({0}, {1, 1, 1, 1})).item<double>(),
              -25.0 / 6 / std::sqrt(5 + 1e-5),
              1e-12);
}

TEST(CaffeBatchNormTest, TrainingAndTestMatchCaffesFormulas) {
  constexpr int kChannels = 3, kNum = 4, kSpatial = 6;
  const double fraction = 0.95;
  CaffeBatchNormReference caffe{kChannels, fraction};
  auto bn = double_module(
      CaffeBatchNormOptions(kChannels).moving_average_fraction(fraction));
  torch::manual_seed(3);
  for (int step = 0; step < 4; ++step) {
    // Each step's batch has its own offset and spread per channel.
    const auto x =
        (torch::randn({kNum, kChannels, 2, 3}, torch::kFloat64) * (1 + step) +
         step * torch::arange(kChannels, torch::kFloat64)
                    .view({1, kChannels, 1, 1}));
    bn->train();
    const auto expected = caffe.forward(to_vector(x), kNum, kSpatial, false);
    EXPECT_TRUE(torch::allclose(bn(x), to_tensor(expected, x.sizes())))
        << "training step " << step;
    EXPECT_TRUE(torch::allclose(bn->mean_sum, to_tensor(caffe.blob0, {3})));
    EXPECT_TRUE(torch::allclose(bn->variance_sum, to_tensor(caffe.blob1, {3})));
    EXPECT_NEAR(bn->scale_factor.item<double>(), caffe.blob2, 1e-12);
    // The test phase between training steps leaves the blobs alone.
    bn->eval();
    const auto test_input = torch::randn({2, kChannels, 2, 3}, torch::kFloat64);
    const auto test_expected =
        caffe.forward(to_vector(test_input), 2, kSpatial, true);
    EXPECT_TRUE(torch::allclose(bn(test_input),
                                to_tensor(test_expected, test_input.sizes())))
        << "test after step " << step;
  }
  EXPECT_NEAR(caffe.blob2, 1 + 0.95 + 0.95 * 0.95 + 0.95 * 0.95 * 0.95, 1e-12);
}

TEST(CaffeBatchNormTest, TestPhaseBeforeTrainingDividesBySqrtEps) {
  // blobs[2] is 0: Caffe's scale factor is 0, so mean = var = 0.
  auto bn = double_module(CaffeBatchNormOptions(2));
  bn->eval();
  const auto x = to_tensor({1, -2, 3, 4}, {1, 2, 1, 2});
  EXPECT_TRUE(torch::allclose(bn(x), x / std::sqrt(1e-5)));
}

TEST(CaffeBatchNormTest, OneValuePerChannelIsNotCorrected) {
  // m = 1: Caffe's correction factor is 1, not 1 / 0.
  torch::Tensor mean_sum = torch::zeros({1}), variance_sum = torch::zeros({1}),
                scale_factor = torch::zeros({1});
  accumulate_caffe_statistics(mean_sum,
                              variance_sum,
                              scale_factor,
                              torch::full({1}, 3.0),
                              torch::full({1}, 2.0),
                              /*count_per_channel=*/1,
                              0.9);
  EXPECT_FLOAT_EQ(variance_sum.item<float>(), 2.0f);
  accumulate_caffe_statistics(mean_sum,
                              variance_sum,
                              scale_factor,
                              torch::full({1}, 1.0),
                              torch::full({1}, 1.0),
                              /*count_per_channel=*/3,
                              0.9);
  EXPECT_FLOAT_EQ(mean_sum.item<float>(), 0.9f * 3 + 1);
  EXPECT_FLOAT_EQ(variance_sum.item<float>(), 0.9f * 2 + 1.5f);
  EXPECT_FLOAT_EQ(scale_factor.item<float>(), 1.9f);
}

TEST(CaffeBatchNormTest, GhostBatchesEqualEightSeparateBatchNorms) {
  // One process, batch 1,000 in groups of 125 = 8 GPUs of 125: the same
  // outputs and input gradients as 8 BatchNorms, one per share.
  constexpr int64_t kGhost = 125, kGpus = 8, kChannels = 3;
  torch::manual_seed(7);
  const auto x = torch::randn({kGhost * kGpus, kChannels, 4, 4}) * 3 + 1;
  const auto upstream = torch::randn_like(x);
  auto ghost = CaffeBatchNorm2d(CaffeBatchNormOptions(kChannels)
                                    .moving_average_fraction(0.95)
                                    .ghost_batch_size(kGhost));
  const auto ghost_input = x.clone().requires_grad_();
  const auto ghost_output = ghost(ghost_input);
  (ghost_output * upstream).sum().backward();

  std::vector<torch::Tensor> outputs, gradients;
  std::vector<CaffeBatchNorm2d> gpus;
  for (int64_t gpu = 0; gpu < kGpus; ++gpu) {
    gpus.emplace_back(
        CaffeBatchNormOptions(kChannels).moving_average_fraction(0.95));
    const auto share =
        x.slice(0, gpu * kGhost, (gpu + 1) * kGhost).clone().requires_grad_();
    const auto out = gpus.back()(share);
    (out * upstream.slice(0, gpu * kGhost, (gpu + 1) * kGhost))
        .sum()
        .backward();
    outputs.push_back(out.detach());
    gradients.push_back(share.grad());
  }
  EXPECT_TRUE(
      torch::allclose(ghost_output.detach(), torch::cat(outputs), 1e-5, 1e-5));
  EXPECT_TRUE(
      torch::allclose(ghost_input.grad(), torch::cat(gradients), 1e-5, 1e-5));
  // The running sums are GPU 0's, the root solver's: not another GPU's, nor
  // those of the whole batch.
  EXPECT_TRUE(torch::allclose(ghost->mean_sum, gpus[0]->mean_sum));
  EXPECT_TRUE(torch::allclose(ghost->variance_sum, gpus[0]->variance_sum));
  EXPECT_TRUE(torch::allclose(ghost->scale_factor, gpus[0]->scale_factor));
  EXPECT_FALSE(torch::allclose(ghost->mean_sum, gpus[1]->mean_sum, 1e-3));
  CaffeBatchNorm2d whole(
      CaffeBatchNormOptions(kChannels).moving_average_fraction(0.95));
  whole(x);
  EXPECT_FALSE(torch::allclose(ghost->mean_sum, whole->mean_sum, 1e-3));
}

TEST(CaffeBatchNormTest, RunningSumsTakeTheFirstGhostBatchOnly) {
  // Groups of 2 in a batch of 5: {0, 1}, {2, 3}, {4}. Channel values: the
  // first group holds 1 2 | 3 4 (m = 4, mean 2.5, corrected variance 5/3);
  // the others are far away and must not move the sums.
  auto bn = double_module(CaffeBatchNormOptions(1).ghost_batch_size(2));
  const auto x = to_tensor({1, 2, 3, 4, 100, 200, -50, 70, 9, 9}, {5, 1, 1, 2});
  const auto y = bn(x);
  EXPECT_DOUBLE_EQ(bn->mean_sum.item<double>(), 2.5);
  EXPECT_DOUBLE_EQ(bn->variance_sum.item<double>(), 5.0 / 3);
  EXPECT_DOUBLE_EQ(bn->scale_factor.item<double>(), 1.0);
  // The short last group is normalised on its own: constant, so 0.
  EXPECT_TRUE(torch::allclose(y.slice(0, 4),
                              torch::zeros({1, 1, 1, 2}, torch::kFloat64)));
}

// Two batches [4, 2, 1, 1]: channel 0 holds 1 2 3 4, then 5 7 9 11;
// channel 1 ten times those. Batch means 2.5 and 8 (25 and 80); biased
// variances 5 / 4 and 20 / 4, corrected by m / (m - 1) = 4 / 3 to 5 / 3 and
// 20 / 3 (channel 1: 100 times).
const std::vector<torch::Tensor>& two_batches() {
  static const std::vector<torch::Tensor> batches = [] {
    std::vector<torch::Tensor> made;
    for (const auto& values :
         {std::vector<double>{1, 2, 3, 4}, std::vector<double>{5, 7, 9, 11}}) {
      const auto channel = to_tensor(values, {4, 1, 1, 1});
      made.push_back(torch::cat({channel, channel * 10}, 1));
    }
    return made;
  }();
  return batches;
}

// A module whose sums hold other statistics: 3 training steps at its
// fraction, then evaluation mode, as after training.
CaffeBatchNorm2d trained_module(CaffeBatchNormOptions options) {
  auto bn = double_module(options);
  for (int step = 0; step < 3; ++step) {
    bn(torch::randn({6, 2, 2, 2}, torch::kFloat64) * 4 + 3);
  }
  bn->eval();
  return bn;
}

TEST(CaffeBatchNormTest, RecountAveragesTheBatchStatisticsOfThePass) {
  auto bn = trained_module(CaffeBatchNormOptions(2));
  int passes = 0;
  recount_caffe_batch_norm(*bn, [&] {
    ++passes;
    EXPECT_TRUE(bn->is_training());
    EXPECT_FALSE(torch::GradMode::is_enabled());
    for (const auto& batch : two_batches()) {
      bn(batch);
    }
  });
  EXPECT_EQ(passes, 1);
  // Plain sums over the two forwards (fraction 1), the old sums gone:
  // mean (2.5 + 8) / 2 = 5.25, variance (5 / 3 + 20 / 3) / 2 = 25 / 6.
  EXPECT_DOUBLE_EQ(bn->scale_factor.item<double>(), 2.0);
  const auto [mean, variance] = bn->global_statistics();
  EXPECT_DOUBLE_EQ(mean[0].item<double>(), 5.25);
  EXPECT_DOUBLE_EQ(mean[1].item<double>(), 52.5);
  EXPECT_DOUBLE_EQ(variance[0].item<double>(), 25.0 / 6);
  EXPECT_DOUBLE_EQ(variance[1].item<double>(), 2500.0 / 6);
  // Back as before: Caffe's fraction, evaluation mode.
  EXPECT_EQ(bn->options().moving_average_fraction(), 0.999);
  EXPECT_FALSE(bn->is_training());
}

TEST(CaffeBatchNormTest, RecountWithGhostBatchesAveragesTheFirstGroups) {
  // Groups of 2: the first group of each batch is 1 2 (mean 1.5, biased
  // variance 1 / 4, corrected by 2 / 1 to 1 / 2), then 5 7 (mean 6,
  // corrected variance 2): mean 3.75 and variance 1.25 over the pass.
  auto bn = trained_module(
      CaffeBatchNormOptions(2).moving_average_fraction(0.95).ghost_batch_size(
          2));
  recount_caffe_batch_norm(*bn, [&] {
    for (const auto& batch : two_batches()) {
      bn(batch);
    }
  });
  const auto [mean, variance] = bn->global_statistics();
  EXPECT_DOUBLE_EQ(mean[0].item<double>(), 3.75);
  EXPECT_DOUBLE_EQ(mean[1].item<double>(), 37.5);
  EXPECT_DOUBLE_EQ(variance[0].item<double>(), 1.25);
  EXPECT_DOUBLE_EQ(variance[1].item<double>(), 125.0);
  EXPECT_EQ(bn->options().moving_average_fraction(), 0.95);
}

TEST(CaffeBatchNormTest, RecountReachesNestedModulesAndRestoresOnThrow) {
  torch::nn::Sequential net(CaffeBatchNorm2d(CaffeBatchNormOptions(2)),
                            CaffeScale(2),
                            CaffeBatchNorm2d(CaffeBatchNormOptions(2)));
  net->to(torch::kFloat64);
  net->eval();
  net->ptr(1)->train();  // each module gets its own flag back
  EXPECT_THROW(recount_caffe_batch_norm(*net,
                                        [&] {
                                          net->forward(two_batches()[0]);
                                          throw std::runtime_error("stop");
                                        }),
               std::runtime_error);
  EXPECT_FALSE(net->is_training());
  EXPECT_TRUE(net->ptr(1)->is_training());
  EXPECT_FALSE(net->ptr(2)->is_training());
  for (const int64_t layer : {0, 2}) {
    const auto* bn = net->ptr(layer)->as<CaffeBatchNorm2dImpl>();
    EXPECT_EQ(bn->options().moving_average_fraction(), 0.999);
    EXPECT_DOUBLE_EQ(bn->scale_factor.item<double>(), 1.0);
  }
  // The first layer saw the batch itself: mean 2.5 and 25.
  const auto* first = net->ptr(0)->as<CaffeBatchNorm2dImpl>();
  EXPECT_DOUBLE_EQ(first->mean_sum[0].item<double>(), 2.5);
  EXPECT_DOUBLE_EQ(first->mean_sum[1].item<double>(), 25.0);
}

TEST(CaffeBatchNormTest, RecountWithoutCaffeBatchNormDoesNotRunThePass) {
  torch::nn::Sequential net(torch::nn::BatchNorm2d(2), CaffeScale(2));
  bool ran = false;
  recount_caffe_batch_norm(*net, [&] { ran = true; });
  EXPECT_FALSE(ran);
}

TEST(CaffeBatchNormTest, StatisticsSurviveSaveAndLoad) {
  auto bn = CaffeBatchNorm2d(CaffeBatchNormOptions(2));
  bn(torch::randn({4, 2, 3, 3}));
  std::stringstream stream;
  torch::save(bn, stream);
  auto copy = CaffeBatchNorm2d(CaffeBatchNormOptions(2));
  torch::load(copy, stream);
  EXPECT_TRUE(torch::equal(copy->mean_sum, bn->mean_sum));
  EXPECT_TRUE(torch::equal(copy->variance_sum, bn->variance_sum));
  EXPECT_TRUE(torch::equal(copy->scale_factor, bn->scale_factor));
}

TEST(CaffeScaleTest, MultipliesAndShiftsEachChannel) {
  CaffeScale scale(2);
  EXPECT_TRUE(torch::equal(scale->weight, torch::ones({2})));
  EXPECT_TRUE(torch::equal(scale->bias, torch::zeros({2})));
  {
    torch::NoGradGuard no_grad;
    scale->weight.copy_(torch::tensor({2.0f, -1.0f}));
    scale->bias.copy_(torch::tensor({0.5f, 3.0f}));
  }
  const auto x = torch::tensor({1.0f, 2.0f, 3.0f, 4.0f}).view({1, 2, 1, 2});
  EXPECT_TRUE(torch::equal(
      scale(x).detach(),
      torch::tensor({2.5f, 4.5f, 0.0f, -1.0f}).view({1, 2, 1, 2})));
}

TEST(CaffeBatchNormTest, GhostBatchesOnCudaMatchTheCpu_CUDA) {
  if (!torch::cuda::is_available()) {
    GTEST_SKIP() << "no CUDA device";
  }
  torch::manual_seed(11);
  const auto x = torch::randn({1000, 4, 8, 8}) * 2 + 3;
  auto options = CaffeBatchNormOptions(4).ghost_batch_size(125);
  CaffeBatchNorm2d cpu(options), cuda(options);
  cuda->to(torch::kCUDA);
  for (int step = 0; step < 3; ++step) {
    EXPECT_TRUE(
        torch::allclose(cpu(x), cuda(x.to(torch::kCUDA)).cpu(), 1e-4, 1e-4));
  }
  EXPECT_TRUE(torch::allclose(cpu->mean_sum, cuda->mean_sum.cpu(), 1e-4));
  EXPECT_TRUE(
      torch::allclose(cpu->variance_sum, cuda->variance_sum.cpu(), 1e-4));
  cpu->eval();
  cuda->eval();
  EXPECT_TRUE(
      torch::allclose(cpu(x), cuda(x.to(torch::kCUDA)).cpu(), 1e-4, 1e-4));
}

TEST(CaffeBatchNormTest, BadOptionsAndInputsAreRefused) {
  EXPECT_THAT([] { CaffeBatchNorm2d(CaffeBatchNormOptions(0)); },
              ThrowsMessage<c10::Error>(HasSubstr(
                  "CaffeBatchNorm2d: num_features must be > 0, got 0")));
  EXPECT_THAT(
      [] {
        CaffeBatchNorm2d(CaffeBatchNormOptions(2).moving_average_fraction(1.5));
      },
      ThrowsMessage<c10::Error>(
          HasSubstr("CaffeBatchNorm2d: moving_average_fraction must be in [0, "
                    "1], got 1.5")));
  EXPECT_THAT(
      [] { CaffeBatchNorm2d(CaffeBatchNormOptions(2).ghost_batch_size(-1)); },
      ThrowsMessage<c10::Error>(
          HasSubstr("CaffeBatchNorm2d: ghost_batch_size must be >= 0")));
  EXPECT_THAT([] { CaffeBatchNorm2d(CaffeBatchNormOptions(2).eps(0)); },
              ThrowsMessage<c10::Error>(
                  HasSubstr("CaffeBatchNorm2d: eps must be > 0, got 0")));
  EXPECT_THAT(
      [] {
        CaffeBatchNorm2d(2)(torch::zeros({4, 3, 2, 2}));
      },
      ThrowsMessage<c10::Error>(HasSubstr(
          "CaffeBatchNorm2d: expected input [N, 2, H, W], got [4, 3, 2, 2]")));
  EXPECT_THAT([] { CaffeScale(0); },
              ThrowsMessage<c10::Error>(
                  HasSubstr("CaffeScale: channels must be > 0, got 0")));
}

}  // namespace
}  // namespace torchclr::examples
