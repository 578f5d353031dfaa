#include <gmock/gmock.h>
#include <torchclr/torchclr.h>

#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "test_util.h"

namespace torchclr::test {
namespace {

using ::testing::HasSubstr;
using ::testing::ThrowsMessage;

TEST(StepLRTest, StepSizeBeyondUnsignedDecaysOnTime) {
  // LibTorch's StepLR takes an unsigned step size, which 2^33 would wrap.
  auto optimizer = make_sgd({0.1});
  const int64_t step_size = int64_t{1} << 33;
  StepLR scheduler(*optimizer, StepLROptions(step_size).gamma(0.5));
  EXPECT_EQ(scheduler.lr_at(step_size - 1, 0), 0.1);
  EXPECT_EQ(scheduler.lr_at(step_size, 0), 0.05);
  EXPECT_EQ(scheduler.lr_at(3 * step_size, 0), 0.1 / 8);
}

TEST(StepLRTest, BadOptionsNameTheOptionAndValue) {
  auto optimizer = make_sgd({0.1});
  EXPECT_THAT([&] { StepLR(*optimizer, 0); },
              ThrowsMessage<c10::Error>(
                  HasSubstr("StepLR: step_size must be > 0, got 0")));
}

// PyTorch takes any gamma; gamma > 1 grows the LR (parity with PyTorch in
// reference_test.cpp). What makes no schedule is refused.
TEST(StepLRTest, GammaMustBeFiniteAndPositive) {
  auto optimizer = make_sgd({0.1});
  const double inf = std::numeric_limits<double>::infinity();
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const std::vector<std::pair<double, std::string>> bad = {
      {0.0, "0"}, {-0.5, "-0.5"}, {inf, "inf"}, {-inf, "-inf"}, {nan, "nan"}};
  for (const auto& [gamma, text] : bad) {
    const std::string expected = " must be a finite number > 0, got " + text;
    EXPECT_THAT(
        [&] { StepLR(*optimizer, StepLROptions(3).gamma(gamma)); },
        ThrowsMessage<c10::Error>(HasSubstr("StepLR: gamma" + expected)));
    EXPECT_THAT(
        [&] { MultiStepLR(*optimizer, MultiStepLROptions({3}).gamma(gamma)); },
        ThrowsMessage<c10::Error>(HasSubstr("MultiStepLR: gamma" + expected)));
    EXPECT_THAT([&] { ExponentialLR(*optimizer, gamma); },
                ThrowsMessage<c10::Error>(
                    HasSubstr("ExponentialLR: gamma" + expected)));
  }
  EXPECT_EQ(optimizer->param_groups()[0].options().get_lr(), 0.1);

  // 0.1 * 1.5^floor(k / 3); 0.1 * 1.5^(milestones <= k); 0.1 * 1.5^k.
  StepLR step(*optimizer, StepLROptions(3).gamma(1.5));
  EXPECT_EQ(step.lr_at(2, 0), 0.1);
  EXPECT_DOUBLE_EQ(step.lr_at(7, 0), 0.1 * 1.5 * 1.5);
  MultiStepLR multi_step(*optimizer, MultiStepLROptions({3, 5}).gamma(1.5));
  EXPECT_DOUBLE_EQ(multi_step.lr_at(4, 0), 0.1 * 1.5);
  EXPECT_DOUBLE_EQ(multi_step.lr_at(9, 0), 0.1 * 1.5 * 1.5);
  ExponentialLR exponential(*optimizer, 1.5);
  EXPECT_DOUBLE_EQ(exponential.lr_at(3, 0), 0.1 * 1.5 * 1.5 * 1.5);
}

}  // namespace
}  // namespace torchclr::test
