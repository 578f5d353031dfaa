#include <gmock/gmock.h>
#include <torchclr/torchclr.h>

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
  EXPECT_THAT([&] { StepLR(*optimizer, StepLROptions(3).gamma(1.5)); },
              ThrowsMessage<c10::Error>(
                  HasSubstr("StepLR: gamma must be in (0, 1], got 1.5")));
}

}  // namespace
}  // namespace torchclr::test
