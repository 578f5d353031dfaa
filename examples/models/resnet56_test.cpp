#include "resnet56.h"

#include <gmock/gmock.h>
#include <torch/torch.h>

namespace torchclr::examples {
namespace {

using ::testing::HasSubstr;
using ::testing::ThrowsMessage;

int64_t count_parameters(torch::nn::Module& module) {
  int64_t count = 0;
  for (const auto& parameter : module.parameters()) {
    count += parameter.numel();
  }
  return count;
}

// He et al.'s ResNet-56, counted by hand. A 3x3 conv from c_in to c_out has
// 9 c_in c_out weights (no bias); a BatchNorm over c channels has 2c.
//   stem:    conv 3->16: 432, BN 16: 32                              =     464
//   stage 1: 9 blocks of 2 x (conv 16->16: 2,304 + BN: 32) = 9 x 4,672 = 42,048
//   stage 2: first block conv 16->32: 4,608 + conv 32->32: 9,216
//            + 2 BN: 128 = 13,952; 8 blocks of 2 x (9,216 + 64)
//            = 8 x 18,560 = 148,480                                  = 162,432
//   stage 3: first block conv 32->64: 18,432 + conv 64->64: 36,864
//            + 2 BN: 256 = 55,552; 8 blocks of 2 x (36,864 + 128)
//            = 8 x 73,984 = 591,872                                  = 647,424
//   fc:      64 x classes + classes
// Option A shortcuts have no parameters. For 10 classes: 852,368 + 650 =
// 853,018, He et al.'s "0.85M".
constexpr int64_t kWithoutClassifier = 464 + 42048 + 162432 + 647424;

TEST(ResNet56Test, ParameterCountMatchesHeEtAl) {
  ResNet56 model(10);
  EXPECT_EQ(count_parameters(*model), kWithoutClassifier + 64 * 10 + 10);
  EXPECT_EQ(count_parameters(*model), 853018);
}

TEST(ResNet56Test, ParameterCountForCifar100) {
  ResNet56 model(100);
  EXPECT_EQ(count_parameters(*model), kWithoutClassifier + 64 * 100 + 100);
}

TEST(ResNet56Test, HasFiftyFiveConvolutionsAndOneLinearLayer) {
  ResNet56 model;
  int64_t convolutions = 0;
  int64_t linears = 0;
  for (const auto& module : model->modules()) {
    convolutions += module->as<torch::nn::Conv2d>() != nullptr;
    linears += module->as<torch::nn::Linear>() != nullptr;
  }
  EXPECT_EQ(convolutions, 1 + 3 * 9 * 2);
  EXPECT_EQ(linears, 1);
}

TEST(ResNet56Test, OutputShapeIsBatchByClasses) {
  torch::NoGradGuard no_grad;
  for (const int64_t classes : {10, 100}) {
    ResNet56 model(classes);
    model->eval();
    const auto logits = model(torch::randn({2, 3, 32, 32}));
    EXPECT_EQ(logits.sizes(), (std::vector<int64_t>{2, classes}));
  }
}

TEST(ResNet56Test, StageShapesHalveTheImageAndDoubleTheChannels) {
  torch::NoGradGuard no_grad;
  ResNet56 model;
  model->eval();
  const auto stages = model->stage_outputs(torch::randn({3, 3, 32, 32}));
  ASSERT_EQ(stages.size(), 3u);
  EXPECT_EQ(stages[0].sizes(), (std::vector<int64_t>{3, 16, 32, 32}));
  EXPECT_EQ(stages[1].sizes(), (std::vector<int64_t>{3, 32, 16, 16}));
  EXPECT_EQ(stages[2].sizes(), (std::vector<int64_t>{3, 64, 8, 8}));
}

TEST(ResNet56Test, ShortcutPadsNewChannelsWithZeros) {
  // With every weight of the residual branch zero, a block is relu(shortcut).
  torch::NoGradGuard no_grad;
  ResNetBasicBlock block(2, 4, 2);
  for (auto& parameter : block->parameters()) {
    parameter.zero_();
  }
  block->eval();
  const auto x = torch::arange(2 * 4 * 4, torch::kFloat).reshape({1, 2, 4, 4});
  const auto out = block(x);
  ASSERT_EQ(out.sizes(), (std::vector<int64_t>{1, 4, 2, 2}));
  EXPECT_TRUE(torch::equal(out[0][0], torch::zeros({2, 2})));
  EXPECT_TRUE(torch::equal(out[0][3], torch::zeros({2, 2})));
  // Channels 1 and 2 are the input's every second pixel: rows/columns 0, 2.
  EXPECT_TRUE(
      torch::equal(out[0][1], torch::tensor({{0.f, 2.f}, {8.f, 10.f}})));
  EXPECT_TRUE(
      torch::equal(out[0][2], torch::tensor({{16.f, 18.f}, {24.f, 26.f}})));
}

TEST(ResNet56Test, SgdStepsOnRandomDataReduceTheLoss) {
  torch::manual_seed(0);
  ResNet56 model;
  model->train();
  const auto images = torch::randn({16, 3, 32, 32});
  const auto labels = torch::randint(10, {16}, torch::kLong);
  // He et al.'s warm-up LR (0.01); at larger LRs the first few steps of a
  // freshly initialised deep network jump around before the loss falls.
  torch::optim::SGD optimizer(
      model->parameters(),
      torch::optim::SGDOptions(0.01).momentum(0.9).weight_decay(1e-4));
  auto loss_now = [&] {
    return torch::cross_entropy_loss(model(images), labels);
  };
  double first_loss = 0;
  for (int step = 0; step < 5; ++step) {
    optimizer.zero_grad();
    auto loss = loss_now();
    if (step == 0) {
      first_loss = loss.item<double>();
    }
    loss.backward();
    optimizer.step();
  }
  torch::NoGradGuard no_grad;
  const double last_loss = loss_now().item<double>();
  EXPECT_LT(last_loss, 0.8 * first_loss);
}

TEST(ResNet56Test, BadArgumentsAreRefused) {
  EXPECT_THAT([] { ResNet56(0); },
              ThrowsMessage<c10::Error>(
                  HasSubstr("ResNet56: num_classes must be > 0, got 0")));
  EXPECT_THAT([] { ResNetBasicBlock(16, 48, 2); },
              ThrowsMessage<c10::Error>(HasSubstr(
                  "ResNetBasicBlock: channels must be in_channels or twice")));
}

}  // namespace
}  // namespace torchclr::examples
