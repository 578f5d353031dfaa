// `train --swa-start`: the averaged network is the mean of the iterates it
// saw (computed here from runs stopped at those iterations), for
// cifar10_full and for a ResNet with Caffe's BatchNorm, whose statistics are
// then recomputed over the training data; SWA leaves the training itself
// unchanged, and bad settings are refused naming the flag.

#include "swa.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "caffe_batch_norm.h"
#include "resnet56.h"
#include "tiny_run.h"
#include "trainer.h"

namespace torchclr::examples {
namespace {

std::vector<torch::Tensor> weights(const torch::nn::Module& module) {
  std::vector<torch::Tensor> tensors;
  for (const auto& p : module.parameters()) {
    tensors.push_back(p.detach().clone());
  }
  return tensors;
}

// Runs `base` with SWA from iteration 2, every 2 iterations, over 6, and
// checks the average against the iterates after iterations 2, 4 and 6 (runs
// stopped there); returns the run.
TrainResult expect_mean_of_iterates(const TrainConfig& base,
                                    const DataSplit& train,
                                    const DataSplit& test) {
  std::vector<std::vector<torch::Tensor>> iterates;
  for (const int64_t stop : {2, 4, 6}) {
    TrainConfig config = base;
    config.iterations = stop;
    iterates.push_back(weights(*train_network(config, train, test).model));
  }
  TrainConfig config = base;
  config.iterations = 6;
  config.swa.start = 2;
  config.swa.every = 2;
  TrainResult result = train_network(config, train, test);
  EXPECT_EQ(result.swa_models, 3);
  // SWA only watches: the last iterate is the plain run's.
  const auto last = weights(*result.model);
  const auto averaged = weights(*result.swa_model);
  EXPECT_EQ(averaged.size(), iterates[2].size());
  for (std::size_t i = 0; i < averaged.size() && i < iterates[2].size(); ++i) {
    EXPECT_TRUE(torch::equal(last[i], iterates[2][i])) << "parameter " << i;
    const auto mean = (iterates[0][i] + iterates[1][i] + iterates[2][i]) / 3;
    EXPECT_TRUE(torch::allclose(averaged[i], mean, 1e-6, 1e-7))
        << "parameter " << i << ": off by "
        << (averaged[i] - mean).abs().max().item<double>();
  }
  return result;
}

TEST(SwaTest, AverageIsTheMeanOfTheIteratesItSaw) {
  expect_mean_of_iterates(tiny_run(6), tiny_split(1), tiny_split(2));
}

// `conv`'s per-channel output mean and unbiased variance on the first
// `group` images of each batch of 8 of the 40 `images`, averaged over the 5
// batches: what a cumulative-average recount of the BatchNorm after `conv`
// must hold.
std::pair<torch::Tensor, torch::Tensor> mean_batch_statistics(
    torch::nn::Conv2dImpl& conv, const torch::Tensor& images, int64_t group) {
  torch::Tensor mean_sum = torch::zeros({16});
  torch::Tensor variance_sum = torch::zeros({16});
  for (int64_t begin = 0; begin < 40; begin += 8) {
    const auto out = conv.forward(images.slice(0, begin, begin + group));
    mean_sum += out.mean({0, 2, 3});
    variance_sum += out.var({0, 2, 3}, /*unbiased=*/true);
  }
  return {mean_sum / 5, variance_sum / 5};
}

TEST(SwaTest, ResNetWithCaffeBatchNormIsAveragedAndItsStatisticsRecounted) {
  // ResNet-20 of the super-convergence files on 32x32 images, batch 8 in
  // ghost groups of 4.
  const DataSplit train = tiny_split(1, 32);
  const DataSplit test = tiny_split(2, 32);
  TrainConfig config = tiny_run(6);
  config.run.model = "superconvergence_resnet20";
  config.batch_size = 8;
  config.run.batch_norm.ghost_batch_size = 4;
  const TrainResult result = expect_mean_of_iterates(config, train, test);

  // The recount: one pass in order over the 5 batches of 8, each adding its
  // first ghost group's statistics (images 0-3, 8-11, ...) at fraction 1.
  // pre_bn's input is pre_conv's output, so its mean is the average over
  // those groups of pre_conv(group)'s per-channel means.
  torch::NoGradGuard no_grad;
  const auto& children = result.swa_model->named_children();
  auto* pre_conv = children["pre_conv"]->as<torch::nn::Conv2d>();
  auto* pre_bn = children["pre_bn"]->as<CaffeBatchNorm2dImpl>();
  ASSERT_NE(pre_conv, nullptr);
  ASSERT_NE(pre_bn, nullptr);
  const auto [want_mean, want_variance] =
      mean_batch_statistics(*pre_conv, train.images, 4);
  EXPECT_EQ(pre_bn->scale_factor.item<double>(), 5.0);
  EXPECT_EQ(pre_bn->options().moving_average_fraction(), 0.999);
  const auto [mean, variance] = pre_bn->global_statistics();
  EXPECT_TRUE(torch::allclose(mean, want_mean, 1e-4, 1e-5));
  EXPECT_TRUE(torch::allclose(variance, want_variance, 1e-4, 1e-5));
  for (const auto& module : result.swa_model->modules()) {
    if (const auto* bn = module->as<CaffeBatchNorm2dImpl>()) {
      EXPECT_EQ(bn->scale_factor.item<double>(), 5.0);
    }
  }
}

TEST(SwaTest, ResNet56AverageGetsLibTorchBatchNormStatistics) {
  // update_bn with momentum None: the stem BatchNorm's running mean and
  // variance are the averages over the 5 batches of 8 of its input's batch
  // mean and unbiased variance, whatever they were before.
  const DataSplit train = tiny_split(1, 32);
  torch::manual_seed(3);
  const Network network = make_network("resnet56", "cifar10", 3, 32, 32, 10);
  SwaAverage swa(network, 1, 1);
  swa.after_iteration(1, network);
  EXPECT_EQ(swa.n_averaged(), 1);
  const Network averaged = swa.finish(train, 8, torch::kCPU);
  torch::NoGradGuard no_grad;
  const auto children = averaged.module->named_children();
  auto* conv = children["conv"]->as<torch::nn::Conv2d>();
  auto* bn = children["bn"]->as<torch::nn::BatchNorm2d>();
  ASSERT_NE(conv, nullptr);
  ASSERT_NE(bn, nullptr);
  const auto [mean, variance] = mean_batch_statistics(*conv, train.images, 8);
  EXPECT_TRUE(torch::allclose(bn->running_mean, mean, 1e-4, 1e-5));
  EXPECT_TRUE(torch::allclose(bn->running_var, variance, 1e-4, 1e-5));
  // The averaged network's forward is its own.
  const auto images = train.images.slice(0, 0, 2);
  averaged.module->eval();
  EXPECT_TRUE(
      torch::equal(averaged.forward(images),
                   averaged.module->as<ResNet56Impl>()->forward(images)));
}

TEST(SwaTest, BadSettingsAreRefusedNamingTheFlag) {
  EXPECT_THAT([] { check_swa(7, 1, 6); },
              testing::ThrowsMessage<CLI::ValidationError>(testing::HasSubstr(
                  "--swa-start: must be in [1, --iterations 6] (the first "
                  "iteration averaged), got 7")));
  EXPECT_THAT([] { check_swa(2, 0, 6); },
              testing::ThrowsMessage<CLI::ValidationError>(
                  testing::HasSubstr("--swa-every: must be >= 1, got 0")));
  EXPECT_NO_THROW(check_swa(2, 1, 6));
  EXPECT_NO_THROW(check_swa(0, 0, 6));  // off
}

}  // namespace
}  // namespace torchclr::examples
