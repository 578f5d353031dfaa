#include <gmock/gmock.h>
#include <torchclr/one_cycle_lr.h>

#include "test_util.h"

namespace torchclr::test {
namespace {

using ::testing::HasSubstr;
using ::testing::ThrowsMessage;

TEST(OneCycleLRTest, SteppingPastTotalStepsThrows) {
  auto optimizer = make_sgd({0.1});
  OneCycleLR scheduler(*optimizer, OneCycleLROptions(0.1, 10));
  for (int i = 0; i < 10; ++i) {
    scheduler.step();
  }
  EXPECT_THAT([&] { scheduler.step(); },
              ThrowsMessage<c10::Error>(HasSubstr(
                  "OneCycleLR: tried to step 11 times; the specified number of "
                  "total steps is 10")));
  EXPECT_EQ(scheduler.last_epoch(), 10);
}

TEST(OneCycleLRTest, LastStepHoldsMinLRInsteadOfExtrapolating) {
  // PyTorch's linear annealing extrapolates step total_steps to a negative LR.
  auto optimizer = make_sgd({0.1});
  OneCycleLR scheduler(
      *optimizer,
      OneCycleLROptions(0.1, 10).anneal_strategy(AnnealStrategy::kLinear));
  for (int i = 0; i < 10; ++i) {
    scheduler.step();
  }
  const double min_lr = 0.1 / 25 / 1e4;
  EXPECT_DOUBLE_EQ(optimizer->param_groups()[0].options().get_lr(), min_lr);
  EXPECT_DOUBLE_EQ(scheduler.get_last_momentum()[0], 0.95);
}

TEST(OneCycleLRTest, StartsAtMaxLROverDivFactor) {
  auto optimizer = make_sgd({0.5, 0.5});
  OneCycleLR scheduler(*optimizer, OneCycleLROptions({0.1, 0.2}, 100));
  EXPECT_DOUBLE_EQ(scheduler.get_last_lr()[0], 0.1 / 25);
  EXPECT_DOUBLE_EQ(scheduler.get_last_lr()[1], 0.2 / 25);
  EXPECT_DOUBLE_EQ(scheduler.get_last_momentum()[1], 0.95);
}

using BadOneCycleLROption = BadOption<OneCycleLROptions>;

class OneCycleLRBadOptionsTest
    : public ::testing::TestWithParam<BadOneCycleLROption> {};

TEST_P(OneCycleLRBadOptionsTest, NameTheOptionAndValue) {
  auto optimizer = make_sgd({0.1, 0.1});
  EXPECT_THAT([&] { OneCycleLR(*optimizer, GetParam().options); },
              ThrowsMessage<c10::Error>(HasSubstr(GetParam().message)));
}

INSTANTIATE_TEST_SUITE_P(
    AllOptions,
    OneCycleLRBadOptionsTest,
    ::testing::Values(
        BadOneCycleLROption{OneCycleLROptions(0.1, 0),
                            "total_steps must be > 0, got 0"},
        BadOneCycleLROption{OneCycleLROptions(0.1, 100).pct_start(1.0),
                            "pct_start must be in (0, 1), got 1"},
        BadOneCycleLROption{OneCycleLROptions(0.1, 100).pct_start(0),
                            "pct_start must be in (0, 1), got 0"},
        BadOneCycleLROption{OneCycleLROptions(-0.1, 100),
                            "max_lr must be a finite number > 0, got -0.1"},
        BadOneCycleLROption{OneCycleLROptions(0.1, 100).div_factor(0),
                            "div_factor must be a finite number > 0, got 0"},
        BadOneCycleLROption{OneCycleLROptions(0.1, 3),
                            "pct_start * total_steps must be > 1"},
        BadOneCycleLROption{
            OneCycleLROptions(0.1, 100).three_phase(true).pct_start(0.6),
            "with three_phase, pct_start must leave room"}),
    [](const auto& info) {
      return param_name(info.index, info.param.message);
    });

}  // namespace
}  // namespace torchclr::test
