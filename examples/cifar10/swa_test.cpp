// `train --swa-start`: the averaged network is the mean of the iterates it
// saw (computed here from runs stopped at those iterations), SWA leaves the
// training itself unchanged, and bad settings are refused naming the flag.

#include "swa.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <vector>

#include "trainer.h"

namespace torchclr::examples {
namespace {

// 40 random 3x16x16 images of 10 classes: enough for a few batches.
DataSplit tiny_split(int64_t seed) {
  torch::manual_seed(seed);
  return {torch::randn({40, 3, 16, 16}), torch::randint(10, {40})};
}

TrainConfig tiny_run(int64_t iterations) {
  TrainConfig config;
  config.run.schedule = {"StepLR(step_size=3, gamma=0.5)", ""};
  config.run.lr = 0.01;
  config.iterations = iterations;
  config.eval_every = 2;
  config.batch_size = 10;
  config.output.progress = false;
  return config;
}

std::vector<torch::Tensor> weights(const torch::nn::Module& module) {
  std::vector<torch::Tensor> tensors;
  for (const auto& p : module.parameters()) {
    tensors.push_back(p.detach().clone());
  }
  return tensors;
}

TEST(SwaTest, AverageIsTheMeanOfTheIteratesItSaw) {
  const DataSplit train = tiny_split(1);
  const DataSplit test = tiny_split(2);
  // The iterates after iterations 2, 4 and 6: runs stopped there.
  std::vector<std::vector<torch::Tensor>> iterates;
  for (const int64_t stop : {2, 4, 6}) {
    iterates.push_back(
        weights(*train_network(tiny_run(stop), train, test).model));
  }
  TrainConfig config = tiny_run(6);
  config.swa.start = 2;
  config.swa.every = 2;
  const TrainResult result = train_network(config, train, test);
  EXPECT_EQ(result.swa_models, 3);
  // SWA only watches: the last iterate is the plain run's.
  const auto last = weights(*result.model);
  const auto averaged = weights(*result.swa_model);
  ASSERT_EQ(averaged.size(), iterates[2].size());
  for (std::size_t i = 0; i < averaged.size(); ++i) {
    EXPECT_TRUE(torch::equal(last[i], iterates[2][i])) << "parameter " << i;
    const auto mean = (iterates[0][i] + iterates[1][i] + iterates[2][i]) / 3;
    EXPECT_TRUE(torch::allclose(averaged[i], mean, 1e-6, 1e-7))
        << "parameter " << i << ": off by "
        << (averaged[i] - mean).abs().max().item<double>();
  }
}

TEST(SwaTest, BadSettingsAreRefusedNamingTheFlag) {
  EXPECT_THAT([] { check_swa("cifar10_full", 7, 1, 6); },
              testing::ThrowsMessage<CLI::ValidationError>(testing::HasSubstr(
                  "--swa-start: must be in [1, --iterations 6] (the first "
                  "iteration averaged), got 7")));
  EXPECT_THAT([] { check_swa("cifar10_full", 2, 0, 6); },
              testing::ThrowsMessage<CLI::ValidationError>(
                  testing::HasSubstr("--swa-every: must be >= 1, got 0")));
  EXPECT_THAT([] { check_swa("resnet56", 2, 1, 6); },
              testing::ThrowsMessage<CLI::ValidationError>(
                  testing::HasSubstr("--model resnet56 is not cloneable yet")));
  EXPECT_NO_THROW(check_swa("cifar10_full", 0, 0, 6));  // off
}

}  // namespace
}  // namespace torchclr::examples
