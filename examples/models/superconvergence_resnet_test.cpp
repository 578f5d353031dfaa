#include "superconvergence_resnet.h"

#include <gmock/gmock.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace torchclr::examples {
namespace {

// A square convolution's padding, read from the size of its output: LibTorch
// 1.13 and 2.x hold the option in different variant types. A 9x9 input
// leaves no remainder for kernels 1 and 3 at strides 1 and 2.
int64_t padding_of(torch::nn::Conv2dImpl& conv) {
  constexpr int64_t in = 9;
  const int64_t kernel = (*conv.options.kernel_size())[0];
  const int64_t stride = (*conv.options.stride())[0];
  torch::NoGradGuard no_grad;
  const int64_t out =
      conv.forward(torch::zeros({1, conv.options.in_channels(), in, in}))
          .size(2);
  return ((out - 1) * stride + kernel - in) / 2;
}

using ::testing::HasSubstr;
using ::testing::ThrowsMessage;

// Every layer with blobs of architectures/Resnet56Cifar.prototxt in
// github.com/lnsmith54/super-convergence at commit
// ecc561594b39442661e7e0a39d2820b0f4147324, in the file's order, written out
// from the file (its TRAIN and TEST BatchNorm layers share a name and their
// blobs: one line). A value the file leaves out is caffe.proto's default
// (lr_mult 1, decay_mult 1). One line per layer:
//   <name> Convolution <num_output> <kernel_size> <stride> <pad>
//          <weights' lr_mult:decay_mult> <bias' lr_mult:decay_mult>
//   <name> BatchNorm <moving_average_fraction>
//   <name> Scale bias_term
//   <name> InnerProduct <num_output> <weights' ...> <bias' ...>
// Every convolution's weight_filler is msra and bias_filler constant (0);
// post_FC's are xavier and constant. Resnet20Cifar.prototxt is the same list
// without blocks 4 to 9 of each stage.
constexpr const char* kResnet56CifarLayers = R"(
pre_conv Convolution 16 3 1 1 1:1 2:0
pre_bn BatchNorm 0.999
pre_scale Scale bias_term
L1_b1_cbr1_conv Convolution 16 3 1 1 1:1 2:0
L1_b1_cbr1_bn BatchNorm 0.999
L1_b1_cbr1_scale Scale bias_term
L1_b1_cbr2_conv Convolution 16 3 1 1 1:1 2:0
L1_b1_cbr2_bn BatchNorm 0.999
L1_b1_cbr2_scale Scale bias_term
L1_b2_cbr1_conv Convolution 16 3 1 1 1:1 2:0
L1_b2_cbr1_bn BatchNorm 0.999
L1_b2_cbr1_scale Scale bias_term
L1_b2_cbr2_conv Convolution 16 3 1 1 1:1 2:0
L1_b2_cbr2_bn BatchNorm 0.999
L1_b2_cbr2_scale Scale bias_term
L1_b3_cbr1_conv Convolution 16 3 1 1 1:1 2:0
L1_b3_cbr1_bn BatchNorm 0.999
L1_b3_cbr1_scale Scale bias_term
L1_b3_cbr2_conv Convolution 16 3 1 1 1:1 2:0
L1_b3_cbr2_bn BatchNorm 0.999
L1_b3_cbr2_scale Scale bias_term
L1_b4_cbr1_conv Convolution 16 3 1 1 1:1 2:0
L1_b4_cbr1_bn BatchNorm 0.999
L1_b4_cbr1_scale Scale bias_term
L1_b4_cbr2_conv Convolution 16 3 1 1 1:1 2:0
L1_b4_cbr2_bn BatchNorm 0.999
L1_b4_cbr2_scale Scale bias_term
L1_b5_cbr1_conv Convolution 16 3 1 1 1:1 2:0
L1_b5_cbr1_bn BatchNorm 0.999
L1_b5_cbr1_scale Scale bias_term
L1_b5_cbr2_conv Convolution 16 3 1 1 1:1 2:0
L1_b5_cbr2_bn BatchNorm 0.999
L1_b5_cbr2_scale Scale bias_term
L1_b6_cbr1_conv Convolution 16 3 1 1 1:1 2:0
L1_b6_cbr1_bn BatchNorm 0.999
L1_b6_cbr1_scale Scale bias_term
L1_b6_cbr2_conv Convolution 16 3 1 1 1:1 2:0
L1_b6_cbr2_bn BatchNorm 0.999
L1_b6_cbr2_scale Scale bias_term
L1_b7_cbr1_conv Convolution 16 3 1 1 1:1 2:0
L1_b7_cbr1_bn BatchNorm 0.999
L1_b7_cbr1_scale Scale bias_term
L1_b7_cbr2_conv Convolution 16 3 1 1 1:1 2:0
L1_b7_cbr2_bn BatchNorm 0.999
L1_b7_cbr2_scale Scale bias_term
L1_b8_cbr1_conv Convolution 16 3 1 1 1:1 2:0
L1_b8_cbr1_bn BatchNorm 0.999
L1_b8_cbr1_scale Scale bias_term
L1_b8_cbr2_conv Convolution 16 3 1 1 1:1 2:0
L1_b8_cbr2_bn BatchNorm 0.999
L1_b8_cbr2_scale Scale bias_term
L1_b9_cbr1_conv Convolution 16 3 1 1 1:1 2:0
L1_b9_cbr1_bn BatchNorm 0.999
L1_b9_cbr1_scale Scale bias_term
L1_b9_cbr2_conv Convolution 16 3 1 1 1:1 2:0
L1_b9_cbr2_bn BatchNorm 0.999
L1_b9_cbr2_scale Scale bias_term
L2_b1_cbr1_conv Convolution 16 3 2 1 1:1 2:0
L2_b1_cbr1_bn BatchNorm 0.999
L2_b1_cbr1_scale Scale bias_term
L2_b1_cbr2_conv Convolution 16 3 1 1 1:1 2:0
L2_b1_cbr2_bn BatchNorm 0.999
L2_b1_cbr2_scale Scale bias_term
L2_b2_cbr1_conv Convolution 32 3 1 1 1:1 2:0
L2_b2_cbr1_bn BatchNorm 0.999
L2_b2_cbr1_scale Scale bias_term
L2_b2_cbr2_conv Convolution 32 3 1 1 1:1 2:0
L2_b2_cbr2_bn BatchNorm 0.999
L2_b2_cbr2_scale Scale bias_term
L2_b3_cbr1_conv Convolution 32 3 1 1 1:1 2:0
L2_b3_cbr1_bn BatchNorm 0.999
L2_b3_cbr1_scale Scale bias_term
L2_b3_cbr2_conv Convolution 32 3 1 1 1:1 2:0
L2_b3_cbr2_bn BatchNorm 0.999
L2_b3_cbr2_scale Scale bias_term
L2_b4_cbr1_conv Convolution 32 3 1 1 1:1 2:0
L2_b4_cbr1_bn BatchNorm 0.999
L2_b4_cbr1_scale Scale bias_term
L2_b4_cbr2_conv Convolution 32 3 1 1 1:1 2:0
L2_b4_cbr2_bn BatchNorm 0.999
L2_b4_cbr2_scale Scale bias_term
L2_b5_cbr1_conv Convolution 32 3 1 1 1:1 2:0
L2_b5_cbr1_bn BatchNorm 0.999
L2_b5_cbr1_scale Scale bias_term
L2_b5_cbr2_conv Convolution 32 3 1 1 1:1 2:0
L2_b5_cbr2_bn BatchNorm 0.999
L2_b5_cbr2_scale Scale bias_term
L2_b6_cbr1_conv Convolution 32 3 1 1 1:1 2:0
L2_b6_cbr1_bn BatchNorm 0.999
L2_b6_cbr1_scale Scale bias_term
L2_b6_cbr2_conv Convolution 32 3 1 1 1:1 2:0
L2_b6_cbr2_bn BatchNorm 0.999
L2_b6_cbr2_scale Scale bias_term
L2_b7_cbr1_conv Convolution 32 3 1 1 1:1 2:0
L2_b7_cbr1_bn BatchNorm 0.999
L2_b7_cbr1_scale Scale bias_term
L2_b7_cbr2_conv Convolution 32 3 1 1 1:1 2:0
L2_b7_cbr2_bn BatchNorm 0.999
L2_b7_cbr2_scale Scale bias_term
L2_b8_cbr1_conv Convolution 32 3 1 1 1:1 2:0
L2_b8_cbr1_bn BatchNorm 0.999
L2_b8_cbr1_scale Scale bias_term
L2_b8_cbr2_conv Convolution 32 3 1 1 1:1 2:0
L2_b8_cbr2_bn BatchNorm 0.999
L2_b8_cbr2_scale Scale bias_term
L2_b9_cbr1_conv Convolution 32 3 1 1 1:1 2:0
L2_b9_cbr1_bn BatchNorm 0.999
L2_b9_cbr1_scale Scale bias_term
L2_b9_cbr2_conv Convolution 32 3 1 1 1:1 2:0
L2_b9_cbr2_bn BatchNorm 0.999
L2_b9_cbr2_scale Scale bias_term
L3_b1_cbr1_conv Convolution 32 3 2 1 1:1 2:0
L3_b1_cbr1_bn BatchNorm 0.999
L3_b1_cbr1_scale Scale bias_term
L3_b1_cbr2_conv Convolution 32 3 1 1 1:1 2:0
L3_b1_cbr2_bn BatchNorm 0.999
L3_b1_cbr2_scale Scale bias_term
L3_b2_cbr1_conv Convolution 64 3 1 1 1:1 2:0
L3_b2_cbr1_bn BatchNorm 0.999
L3_b2_cbr1_scale Scale bias_term
L3_b2_cbr2_conv Convolution 64 3 1 1 1:1 2:0
L3_b2_cbr2_bn BatchNorm 0.999
L3_b2_cbr2_scale Scale bias_term
L3_b3_cbr1_conv Convolution 64 3 1 1 1:1 2:0
L3_b3_cbr1_bn BatchNorm 0.999
L3_b3_cbr1_scale Scale bias_term
L3_b3_cbr2_conv Convolution 64 3 1 1 1:1 2:0
L3_b3_cbr2_bn BatchNorm 0.999
L3_b3_cbr2_scale Scale bias_term
L3_b4_cbr1_conv Convolution 64 3 1 1 1:1 2:0
L3_b4_cbr1_bn BatchNorm 0.999
L3_b4_cbr1_scale Scale bias_term
L3_b4_cbr2_conv Convolution 64 3 1 1 1:1 2:0
L3_b4_cbr2_bn BatchNorm 0.999
L3_b4_cbr2_scale Scale bias_term
L3_b5_cbr1_conv Convolution 64 3 1 1 1:1 2:0
L3_b5_cbr1_bn BatchNorm 0.999
L3_b5_cbr1_scale Scale bias_term
L3_b5_cbr2_conv Convolution 64 3 1 1 1:1 2:0
L3_b5_cbr2_bn BatchNorm 0.999
L3_b5_cbr2_scale Scale bias_term
L3_b6_cbr1_conv Convolution 64 3 1 1 1:1 2:0
L3_b6_cbr1_bn BatchNorm 0.999
L3_b6_cbr1_scale Scale bias_term
L3_b6_cbr2_conv Convolution 64 3 1 1 1:1 2:0
L3_b6_cbr2_bn BatchNorm 0.999
L3_b6_cbr2_scale Scale bias_term
L3_b7_cbr1_conv Convolution 64 3 1 1 1:1 2:0
L3_b7_cbr1_bn BatchNorm 0.999
L3_b7_cbr1_scale Scale bias_term
L3_b7_cbr2_conv Convolution 64 3 1 1 1:1 2:0
L3_b7_cbr2_bn BatchNorm 0.999
L3_b7_cbr2_scale Scale bias_term
L3_b8_cbr1_conv Convolution 64 3 1 1 1:1 2:0
L3_b8_cbr1_bn BatchNorm 0.999
L3_b8_cbr1_scale Scale bias_term
L3_b8_cbr2_conv Convolution 64 3 1 1 1:1 2:0
L3_b8_cbr2_bn BatchNorm 0.999
L3_b8_cbr2_scale Scale bias_term
L3_b9_cbr1_conv Convolution 64 3 1 1 1:1 2:0
L3_b9_cbr1_bn BatchNorm 0.999
L3_b9_cbr1_scale Scale bias_term
L3_b9_cbr2_conv Convolution 64 3 1 1 1:1 2:0
L3_b9_cbr2_bn BatchNorm 0.999
L3_b9_cbr2_scale Scale bias_term
post_FC InnerProduct 10 1:1 2:1
)";

int64_t count(const std::vector<torch::Tensor>& tensors) {
  int64_t total = 0;
  for (const auto& tensor : tensors) {
    total += tensor.numel();
  }
  return total;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream stream(text);
  for (std::string line; std::getline(stream, line);) {
    if (!line.empty()) {
      lines.push_back(line);
    }
  }
  return lines;
}

// The model's layers with parameters or statistics, in registration order,
// in the list's form: module "L2_b1.cbr1_conv" is layer "L2_b1_cbr1_conv",
// and a parameter's multipliers are those of its param group.
std::vector<std::string> model_layers(SuperConvergenceResNet& model) {
  std::map<const void*, std::string> multipliers;
  for (const auto& group : model->param_groups()) {
    for (const auto& param : group.params) {
      std::ostringstream pair;
      pair << group.lr_mult << ":" << group.decay_mult;
      multipliers[param.unsafeGetTensorImpl()] = pair.str();
    }
  }
  auto of = [&](const torch::Tensor& param) {
    return multipliers.at(param.unsafeGetTensorImpl());
  };
  std::vector<std::string> layers;
  for (const auto& item : model->named_modules("", /*include_self=*/false)) {
    std::string name = item.key();
    std::replace(name.begin(), name.end(), '.', '_');
    std::ostringstream line;
    line << name;
    const auto& module = item.value();
    if (auto* conv = module->as<torch::nn::Conv2d>()) {
      const auto& options = conv->options;
      line << " Convolution " << options.out_channels() << " "
           << (*options.kernel_size())[0] << " " << (*options.stride())[0]
           << " " << padding_of(*conv) << " " << of(conv->weight) << " "
           << of(conv->bias);
    } else if (const auto* bn = module->as<CaffeBatchNorm2d>()) {
      line << " BatchNorm " << bn->options().moving_average_fraction();
    } else if (const auto* scale = module->as<CaffeScale>()) {
      line << " Scale " << (scale->bias.defined() ? "bias_term" : "");
    } else if (const auto* fc = module->as<torch::nn::Linear>()) {
      line << " InnerProduct " << fc->options.out_features() << " "
           << of(fc->weight) << " " << of(fc->bias);
    } else {
      continue;  // the blocks themselves
    }
    layers.push_back(line.str());
  }
  return layers;
}

TEST(SuperConvergenceResNetTest, LayersAreResnet56CifarPrototxts) {
  SuperConvergenceResNet model;
  const auto expected = lines_of(kResnet56CifarLayers);
  ASSERT_EQ(expected.size(), 166u);  // 55 x (conv, BatchNorm, Scale) + post_FC
  EXPECT_EQ(model_layers(model), expected);
}

TEST(SuperConvergenceResNetTest, Resnet20IsTheListWithoutBlocksFourToNine) {
  SuperConvergenceResNet model(
      SuperConvergenceResNetOptions().blocks_per_stage(3));
  std::vector<std::string> expected;
  for (const auto& line : lines_of(kResnet56CifarLayers)) {
    const bool later_block = line[0] == 'L' && line[4] >= '4';
    if (!later_block) {
      expected.push_back(line);
    }
  }
  ASSERT_EQ(expected.size(), 58u);  // 19 x 3 + 1
  EXPECT_EQ(model_layers(model), expected);
}

// Counted by hand from the list: a 3x3 convolution C_in -> C_out has
// 9 C_in C_out weights and C_out biases; Scale 2C; BatchNorm's blobs 2C + 1.
// ResNet-56:
//   pre_conv 3 -> 16:                      432 + 16          =     448
//   stage 1: 18 convs 16 -> 16:            18 x (2,304 + 16) =  41,760
//   stage 2: 2 convs 16 -> 16 (L2_b1):     2 x 2,320         =   4,640
//            16 convs 32 -> 32:            16 x (9,216 + 32) = 147,968
//   stage 3: 2 convs 32 -> 32 (L3_b1):     2 x 9,248         =  18,496
//            16 convs 64 -> 64:            16 x (36,864 + 64)= 590,848
//   Scale:   2 x (16 + 18 x 16 + 2 x 16 + 16 x 32 + 2 x 32 + 16 x 64)
//            = 2 x 1,936                                      =   3,872
//   post_FC 64 -> 10:                      640 + 10          =     650
//   learnable: 808,682; BatchNorm blobs: 2 x 1,936 + 55 = 3,927.
// ResNet-20 (3 blocks per stage):
//   448 + 6 x 2,320 + 2 x 2,320 + 4 x 9,248 + 2 x 9,248 + 4 x 36,928
//   = 222,208 conv; Scale 2 x 592 = 1,184; post_FC 650: 224,042;
//   BatchNorm blobs 2 x 592 + 19 = 1,203.
TEST(SuperConvergenceResNetTest, ParameterCountsMatchThePrototxts) {
  SuperConvergenceResNet resnet56;
  EXPECT_EQ(count(resnet56->parameters()), 808682);
  EXPECT_EQ(count(resnet56->buffers()), 3927);
  SuperConvergenceResNet resnet20(
      SuperConvergenceResNetOptions().blocks_per_stage(3));
  EXPECT_EQ(count(resnet20->parameters()), 224042);
  EXPECT_EQ(count(resnet20->buffers()), 1203);
  SuperConvergenceResNet cifar100(
      SuperConvergenceResNetOptions().num_classes(100));
  EXPECT_EQ(count(cifar100->parameters()), 808682 - 650 + 64 * 100 + 100);
}

TEST(SuperConvergenceResNetTest, ParamGroupsCarryTheFilesMultipliers) {
  SuperConvergenceResNet model;
  const auto groups = model->param_groups();
  ASSERT_EQ(groups.size(), 3u);
  // (1, 1): 55 conv weights, 55 Scale weights and biases, post_FC weights.
  EXPECT_EQ(groups[0].lr_mult, 1);
  EXPECT_EQ(groups[0].decay_mult, 1);
  EXPECT_EQ(groups[0].params.size(), 55u + 110u + 1u);
  // (2, 0): 55 conv biases.
  EXPECT_EQ(groups[1].lr_mult, 2);
  EXPECT_EQ(groups[1].decay_mult, 0);
  EXPECT_EQ(groups[1].params.size(), 55u);
  // One per output channel: the 1,936 channels the BatchNorms see.
  EXPECT_EQ(count(groups[1].params), 1936);
  // (2, 1): post_FC's bias.
  EXPECT_EQ(groups[2].lr_mult, 2);
  EXPECT_EQ(groups[2].decay_mult, 1);
  EXPECT_EQ(count(groups[2].params), 10);
  EXPECT_EQ(count(groups[0].params) + count(groups[1].params) +
                count(groups[2].params),
            808682);
}

TEST(SuperConvergenceResNetTest, FillersAreTheFiles) {
  torch::manual_seed(0);
  SuperConvergenceResNet model;
  for (const auto& item : model->named_parameters()) {
    const auto& name = item.key();
    const auto& value = item.value();
    if (name.find("scale.weight") != std::string::npos) {
      EXPECT_TRUE(torch::equal(value, torch::ones_like(value))) << name;
    } else if (name.find("bias") != std::string::npos) {
      EXPECT_TRUE(torch::equal(value, torch::zeros_like(value))) << name;
    }
  }
  // msra: normal with std sqrt(2 / fan_in); 36,864 draws at fan_in 576.
  const auto conv = model->named_parameters()["L3_b9.cbr2_conv.weight"];
  EXPECT_NEAR(conv.std().item<double>(),
              std::sqrt(2.0 / 576),
              0.02 * std::sqrt(2.0 / 576));
  // xavier: uniform in +-sqrt(3 / 64).
  const auto fc = model->named_parameters()["post_FC.weight"];
  EXPECT_LE(fc.abs().max().item<double>(), std::sqrt(3.0 / 64));
  EXPECT_GT(fc.abs().max().item<double>(), 0.9 * std::sqrt(3.0 / 64));
}

TEST(SuperConvergenceResNetTest, TransitionPoolsTheInputThenAppendsZeros) {
  // With every parameter zero, the branch is 0 and the block is
  // concat(relu(avg_pool_3x3/2(x)), zeros).
  torch::NoGradGuard no_grad;
  SuperConvergenceBlock block(
      2, /*transition=*/true, SuperConvergenceResNetOptions());
  for (auto& parameter : block->parameters()) {
    parameter.zero_();
  }
  block->eval();
  // Channel 0: 0..15 as a 4x4 image; channel 1: its negative.
  const auto image = torch::arange(16, torch::kFloat).view({4, 4});
  const auto x = torch::stack({image, -image}).unsqueeze(0);
  const auto out = block(x);
  ASSERT_EQ(out.sizes(), (std::vector<int64_t>{1, 4, 2, 2}));
  // Caffe's rounded-up pooling: windows rows/columns {0, 1, 2} and {2, 3},
  // each averaged over its pixels inside the image: (0,0) rows 0-2 x
  // columns 0-2: mean row 1, column 1 -> 5; (0,1) columns 2-3: 4 + 2.5;
  // (1,0) rows 2-3: 4 x 2.5 + 1; (1,1): 10 + 2.5.
  EXPECT_TRUE(torch::allclose(out[0][0],
                              torch::tensor({{5.0f, 6.5f}, {11.0f, 12.5f}})));
  // The ReLU comes after the sum, before the zero channels.
  EXPECT_TRUE(torch::equal(out[0][1], torch::zeros({2, 2})));
  EXPECT_TRUE(torch::equal(out[0].slice(0, 2), torch::zeros({2, 2, 2})));
}

TEST(SuperConvergenceResNetTest, TransitionBranchKeepsTheInputWidth) {
  SuperConvergenceBlock block(
      16, /*transition=*/true, SuperConvergenceResNetOptions());
  const auto params = block->named_parameters();
  EXPECT_EQ(params["cbr1_conv.weight"].sizes(),
            (std::vector<int64_t>{16, 16, 3, 3}));
  EXPECT_EQ(params["cbr2_conv.weight"].sizes(),
            (std::vector<int64_t>{16, 16, 3, 3}));
  torch::NoGradGuard no_grad;
  block->eval();
  EXPECT_EQ(block(torch::randn({2, 16, 32, 32})).sizes(),
            (std::vector<int64_t>{2, 32, 16, 16}));
}

TEST(SuperConvergenceResNetTest, BatchNormOptionsReachEveryLayer) {
  SuperConvergenceResNet model(SuperConvergenceResNetOptions()
                                   .moving_average_fraction(0.95)
                                   .ghost_batch_size(125));
  int64_t batch_norms = 0;
  for (const auto& module : model->modules()) {
    if (const auto* bn = module->as<CaffeBatchNorm2d>()) {
      ++batch_norms;
      EXPECT_EQ(bn->options().moving_average_fraction(), 0.95);
      EXPECT_EQ(bn->options().ghost_batch_size(), 125);
    }
  }
  EXPECT_EQ(batch_norms, 55);
}

TEST(SuperConvergenceResNetTest, LogitsAndTrainingSteps) {
  torch::manual_seed(0);
  SuperConvergenceResNet model(
      SuperConvergenceResNetOptions().blocks_per_stage(3).ghost_batch_size(8));
  const auto images = torch::randn({16, 3, 32, 32});
  const auto labels = torch::randint(10, {16}, torch::kLong);
  EXPECT_EQ(model(images).sizes(), (std::vector<int64_t>{16, 10}));
  torch::optim::SGD optimizer(
      model->parameters(),
      torch::optim::SGDOptions(0.01).momentum(0.9).weight_decay(1e-4));
  auto loss_now = [&] {
    return torch::cross_entropy_loss(model(images), labels);
  };
  const double first_loss = loss_now().item<double>();
  for (int step = 0; step < 5; ++step) {
    optimizer.zero_grad();
    loss_now().backward();
    optimizer.step();
  }
  torch::NoGradGuard no_grad;
  EXPECT_LT(loss_now().item<double>(), 0.8 * first_loss);
}

TEST(SuperConvergenceResNetTest, GreyImagesOfOtherSizesPoolTheWholeMap) {
  torch::manual_seed(0);
  SuperConvergenceResNet model(
      SuperConvergenceResNetOptions().blocks_per_stage(3).in_channels(1));
  int64_t count = 0;
  for (const auto& p : model->parameters()) {
    count += p.numel();
  }
  // pre_conv loses two of its three input channels: 2 x 16 x 3 x 3 weights.
  EXPECT_EQ(count, 224042 - 2 * 16 * 3 * 3);
  model->eval();
  torch::NoGradGuard no_grad;
  // A 28x28 image (Fashion-MNIST's) ends as a 7x7 map, 16x24 as 4x6.
  EXPECT_EQ(model(torch::randn({4, 1, 28, 28})).sizes(),
            (std::vector<int64_t>{4, 10}));
  EXPECT_EQ(model(torch::randn({2, 1, 16, 24})).sizes(),
            (std::vector<int64_t>{2, 10}));
  EXPECT_THAT(
      [&] {
        model(torch::randn({2, 1, 30, 28}));
      },
      ThrowsMessage<c10::Error>(
          HasSubstr("expects images [N, 1, H, W] with H and W multiples of 4, "
                    "got [2, 1, 30, 28]")));
  EXPECT_THAT(
      [&] {
        model(torch::randn({2, 3, 28, 28}));
      },
      ThrowsMessage<c10::Error>(HasSubstr("got [2, 3, 28, 28]")));
}

TEST(SuperConvergenceResNetTest, BadOptionsAreRefused) {
  EXPECT_THAT(
      [] {
        SuperConvergenceResNet(
            SuperConvergenceResNetOptions().blocks_per_stage(0));
      },
      ThrowsMessage<c10::Error>(HasSubstr(
          "SuperConvergenceResNet: blocks_per_stage must be > 0, got 0")));
  EXPECT_THAT(
      [] {
        SuperConvergenceResNet(SuperConvergenceResNetOptions().num_classes(0));
      },
      ThrowsMessage<c10::Error>(
          HasSubstr("SuperConvergenceResNet: num_classes must be > 0, got 0")));
  EXPECT_THAT(
      [] {
        SuperConvergenceResNet(SuperConvergenceResNetOptions().in_channels(0));
      },
      ThrowsMessage<c10::Error>(
          HasSubstr("SuperConvergenceResNet: in_channels must be > 0, got 0")));
}

}  // namespace
}  // namespace torchclr::examples
