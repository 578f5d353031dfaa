#include <gmock/gmock.h>
#include <torchclr/torchclr.h>

#include "test_util.h"

namespace torchclr::test {
namespace {

using ::testing::HasSubstr;
using ::testing::ThrowsMessage;

TEST(CosineAnnealingWarmRestartsTest, CycleDecayLowersEachPeak) {
  auto optimizer = make_sgd({0.1});
  CosineAnnealingWarmRestarts scheduler(
      *optimizer,
      CosineAnnealingWarmRestartsOptions(4).T_mult(2).cycle_decay(0.5));
  EXPECT_DOUBLE_EQ(scheduler.lr_at(0, 0), 0.1);
  EXPECT_DOUBLE_EQ(scheduler.lr_at(4, 0), 0.05);    // cycle 1 starts
  EXPECT_DOUBLE_EQ(scheduler.lr_at(8, 0), 0.025);   // half way through it
  EXPECT_DOUBLE_EQ(scheduler.lr_at(12, 0), 0.025);  // cycle 2 starts
}

TEST(CosineAnnealingWarmRestartsTest, CycleLimitHoldsEtaMin) {
  auto optimizer = make_sgd({0.1});
  CosineAnnealingWarmRestarts scheduler(
      *optimizer,
      CosineAnnealingWarmRestartsOptions(5).eta_min(0.001).cycle_limit(2));
  EXPECT_GT(scheduler.lr_at(9, 0), 0.001);
  EXPECT_EQ(scheduler.lr_at(10, 0), 0.001);
  EXPECT_EQ(scheduler.lr_at(1000, 0), 0.001);
}

TEST(CosineAnnealingWarmRestartsTest, BadCycleOptionsAreNamed) {
  auto optimizer = make_sgd({0.1});
  EXPECT_THAT(
      [&] {
        CosineAnnealingWarmRestarts(
            *optimizer, CosineAnnealingWarmRestartsOptions(5).cycle_decay(0));
      },
      ThrowsMessage<c10::Error>(HasSubstr(
          "CosineAnnealingWarmRestarts: cycle_decay must be in (0, 1], got 0")));
  EXPECT_THAT(
      [&] {
        CosineAnnealingWarmRestarts(
            *optimizer, CosineAnnealingWarmRestartsOptions(5).cycle_limit(0));
      },
      ThrowsMessage<c10::Error>(HasSubstr(
          "CosineAnnealingWarmRestarts: cycle_limit must be > 0, got 0")));
}

}  // namespace
}  // namespace torchclr::test
