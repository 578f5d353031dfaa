#include <gmock/gmock.h>
#include <torchclr/torchclr.h>

#include "test_util.h"

namespace torchclr::test {
namespace {

using ::testing::HasSubstr;
using ::testing::ThrowsMessage;

TEST(ChainedSchedulerTest, MultipliesTheFactorsFromTheFirstBaseLR) {
  auto optimizer = make_sgd({0.1});
  auto warm = std::make_shared<ConstantLR>(
      *optimizer, ConstantLROptions().factor(0.5).total_iters(2));
  auto decay = std::make_shared<ExponentialLR>(*optimizer, 0.9);
  ChainedScheduler scheduler(*optimizer, {warm, decay});
  EXPECT_DOUBLE_EQ(scheduler.get_last_lr()[0], 0.05);
  scheduler.step();
  EXPECT_DOUBLE_EQ(scheduler.get_last_lr()[0], 0.1 * 0.5 * 0.9);
  scheduler.step();
  EXPECT_DOUBLE_EQ(scheduler.get_last_lr()[0], 0.1 * 0.81);
}

TEST(ChainedSchedulerTest, RefusesSchedulersThatSetTheLRThemselves) {
  auto optimizer = make_sgd({0.1});
  auto decay = std::make_shared<ExponentialLR>(*optimizer, 0.9);
  auto cyclic =
      std::make_shared<CyclicLR>(*optimizer, CyclicLROptions(0.001, 0.01));
  EXPECT_THAT(
      [&] {
        ChainedScheduler(*optimizer, {decay, cyclic});
      },
      ThrowsMessage<c10::Error>(
          HasSubstr("ChainedScheduler: scheduler 1 (CyclicLR) sets the LR "
                    "itself rather than scaling the base LR")));
  auto other = make_sgd({0.1});
  auto elsewhere = std::make_shared<ExponentialLR>(*other, 0.9);
  EXPECT_THAT(
      [&] {
        ChainedScheduler(*optimizer, {decay, elsewhere});
      },
      ThrowsMessage<c10::Error>(HasSubstr(
          "scheduler 1 (ExponentialLR) drives a different optimizer")));
  EXPECT_THAT([&] { ChainedScheduler(*optimizer, {}); },
              ThrowsMessage<c10::Error>(
                  HasSubstr("ChainedScheduler: schedulers must not be empty")));
}

}  // namespace
}  // namespace torchclr::test
