#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/torch.h>
#include <torchclr/detail/version.h>

#include <string>
#include <type_traits>

namespace torchclr::test {
namespace {

TEST(VersionTest, ReportsTheLibTorchItWasBuiltWith) {
  const std::string expected = std::to_string(TORCH_VERSION_MAJOR) + "." +
                               std::to_string(TORCH_VERSION_MINOR) + "." +
                               std::to_string(TORCH_VERSION_PATCH);
  EXPECT_EQ(detail::torch_version(), expected);
  EXPECT_THAT(std::string(TORCH_VERSION), testing::StartsWith(expected));
}

TEST(VersionTest, AtLeastComparesMajorThenMinor) {
  EXPECT_TRUE(TORCHCLR_TORCH_VERSION_AT_LEAST(1, 13));
  EXPECT_TRUE(TORCHCLR_TORCH_VERSION_AT_LEAST(0, 99));
  EXPECT_TRUE(TORCHCLR_TORCH_VERSION_AT_LEAST(TORCH_VERSION_MAJOR,
                                              TORCH_VERSION_MINOR));
  EXPECT_FALSE(TORCHCLR_TORCH_VERSION_AT_LEAST(TORCH_VERSION_MAJOR,
                                               TORCH_VERSION_MINOR + 1));
  EXPECT_FALSE(TORCHCLR_TORCH_VERSION_AT_LEAST(TORCH_VERSION_MAJOR + 1, 0));
}

TEST(VersionTest, OptimizerStateKeyIsTheTypeOfThisRelease) {
  // Text in 1.x, the TensorImpl address in 2.x: the seam picked the right one.
  EXPECT_EQ((std::is_same_v<detail::OptimizerStateKey, void*>),
            TORCHCLR_TORCH_VERSION_AT_LEAST(2, 0));
  EXPECT_EQ((std::is_same_v<detail::OptimizerStateKey, std::string>),
            !TORCHCLR_TORCH_VERSION_AT_LEAST(2, 0));
}

TEST(VersionTest, OptimizerStateKeyFindsAParametersState) {
  auto weight = torch::ones({2}, torch::requires_grad());
  auto bias = torch::ones({1}, torch::requires_grad());
  torch::optim::SGD optimizer({weight, bias},
                              torch::optim::SGDOptions(0.1).momentum(0.9));
  (weight.sum() * 2 + bias.sum()).backward();
  optimizer.step();  // creates momentum buffers for both parameters
  const auto& state = optimizer.state();
  ASSERT_EQ(state.size(), 2u);
  const auto& buffer = static_cast<const torch::optim::SGDParamState&>(
                           *state.at(detail::optimizer_state_key(weight)))
                           .momentum_buffer();
  EXPECT_TRUE(buffer.equal(torch::full({2}, 2.0)));
  EXPECT_EQ(state.count(detail::optimizer_state_key(bias)), 1u);
  EXPECT_EQ(state.count(detail::optimizer_state_key(torch::ones({1}))), 0u);
}

}  // namespace
}  // namespace torchclr::test
