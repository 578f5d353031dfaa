#include <torchclr/one_cycle_lr.h>

#include "test_util.h"

namespace torchclr::test {
namespace {

TEST(OneCycleLRTest, SteppingPastTotalStepsThrows) {
  auto optimizer = make_sgd({0.1});
  OneCycleLR scheduler(*optimizer, OneCycleLROptions(0.1, 10));
  for (int i = 0; i < 10; ++i) {
    scheduler.step();
  }
  EXPECT_NE(
      error_of([&] { scheduler.step(); })
          .find("OneCycleLR: tried to step 11 times; the specified number of "
                "total steps is 10"),
      std::string::npos);
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

TEST(OneCycleLRTest, BadOptionsNameTheOptionAndValue) {
  auto optimizer = make_sgd({0.1});
  auto error = [&](OneCycleLROptions options) {
    return error_of([&] { OneCycleLR(*optimizer, options); });
  };
  EXPECT_NE(
      error(OneCycleLROptions(0.1, 0)).find("total_steps must be > 0, got 0"),
      std::string::npos);
  EXPECT_NE(error(OneCycleLROptions(0.1, 100).pct_start(1.0))
                .find("pct_start must be in (0, 1), got 1"),
            std::string::npos);
  EXPECT_NE(error(OneCycleLROptions(0.1, 100).pct_start(0))
                .find("pct_start must be in (0, 1), got 0"),
            std::string::npos);
  EXPECT_NE(error(OneCycleLROptions(-0.1, 100))
                .find("max_lr must be a finite number "
                      "> 0, got -0.1"),
            std::string::npos);
  EXPECT_NE(error(OneCycleLROptions(0.1, 100).div_factor(0))
                .find("div_factor must be a finite number > 0, got 0"),
            std::string::npos);
  EXPECT_NE(error(OneCycleLROptions(0.1, 3))
                .find("pct_start * total_steps must be > "
                      "1"),
            std::string::npos);
  EXPECT_NE(error(OneCycleLROptions(0.1, 100).three_phase(true).pct_start(0.6))
                .find("with three_phase, pct_start must leave room"),
            std::string::npos);
}

}  // namespace
}  // namespace torchclr::test
