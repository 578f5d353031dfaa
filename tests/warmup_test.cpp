#include <gmock/gmock.h>
#include <torchclr/torchclr.h>

#include "test_util.h"

namespace torchclr::test {
namespace {

using ::testing::HasSubstr;
using ::testing::ThrowsMessage;

TEST(WarmupTest, RampsToTheScheduleThenRunsItFromItsStart) {
  auto optimizer = make_sgd({0.1, 0.2});
  auto cosine = std::make_shared<CosineAnnealingLR>(*optimizer, 10);
  auto scheduler =
      with_warmup(*optimizer, cosine, WarmupOptions(4).start_factor(0.25));
  // Linear from 0.25 to 1 times the base LR over 4 steps.
  for (int64_t k = 0; k < 4; ++k) {
    EXPECT_DOUBLE_EQ(scheduler.get_last_lr()[1],
                     0.2 * (0.25 + 0.75 * static_cast<double>(k) / 4));
    scheduler.step();
  }
  // Then the cosine from its step 0.
  for (int64_t k = 0; k <= 10; ++k) {
    EXPECT_DOUBLE_EQ(scheduler.get_last_lr()[0],
                     0.05 * (1 + std::cos(M_PI * static_cast<double>(k) / 10)));
    scheduler.step();
  }
}

TEST(WarmupTest, BadOptionsAreNamed) {
  auto optimizer = make_sgd({0.1});
  auto decay = std::make_shared<ExponentialLR>(*optimizer, 0.9);
  EXPECT_THAT([&] { with_warmup(*optimizer, decay, 0); },
              ThrowsMessage<c10::Error>(
                  HasSubstr("LinearLR: total_iters must be > 0, got 0")));
  EXPECT_THAT(
      [&] { with_warmup(*optimizer, nullptr, 3); },
      ThrowsMessage<c10::Error>(HasSubstr("with_warmup: schedule is null")));
}

}  // namespace
}  // namespace torchclr::test
