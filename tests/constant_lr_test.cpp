#include <gmock/gmock.h>
#include <torchclr/torchclr.h>

#include "test_util.h"

namespace torchclr::test {
namespace {

using ::testing::HasSubstr;
using ::testing::ThrowsMessage;

TEST(ConstantLRTest, FactorUntilTotalItersThenTheBaseLR) {
  auto optimizer = make_sgd({0.3});
  ConstantLR scheduler(*optimizer,
                       ConstantLROptions().factor(0.5).total_iters(2));
  EXPECT_EQ(scheduler.get_last_lr()[0], 0.15);
  scheduler.step();
  EXPECT_EQ(scheduler.get_last_lr()[0], 0.15);
  scheduler.step();
  EXPECT_EQ(scheduler.get_last_lr()[0], 0.3);
}

TEST(ConstantLRTest, BadOptionsNameTheOptionAndValue) {
  auto optimizer = make_sgd({0.1});
  EXPECT_THAT([&] { ConstantLR(*optimizer, ConstantLROptions().factor(1.5)); },
              ThrowsMessage<c10::Error>(
                  HasSubstr("ConstantLR: factor must be in [0, 1], got 1.5")));
  EXPECT_THAT([&] { ConstantLR(*optimizer, ConstantLROptions().factor(NAN)); },
              ThrowsMessage<c10::Error>(
                  HasSubstr("factor must be in [0, 1], got nan")));
  EXPECT_THAT(
      [&] { ConstantLR(*optimizer, ConstantLROptions().total_iters(0)); },
      ThrowsMessage<c10::Error>(
          HasSubstr("ConstantLR: total_iters must be > 0, got 0")));
}

}  // namespace
}  // namespace torchclr::test
