#include <gmock/gmock.h>
#include <torchclr/torchclr.h>

#include "test_util.h"

namespace torchclr::test {
namespace {

using ::testing::HasSubstr;
using ::testing::ThrowsMessage;

TEST(CosineAnnealingLRTest, ReachesEtaMinAtTMaxAndComesBack) {
  auto optimizer = make_sgd({0.1});
  CosineAnnealingLR scheduler(*optimizer,
                              CosineAnnealingLROptions(10).eta_min(0.01));
  EXPECT_DOUBLE_EQ(scheduler.lr_at(5, 0), 0.01 + 0.09 / 2);
  EXPECT_DOUBLE_EQ(scheduler.lr_at(10, 0), 0.01);
  // PyTorch's cosine goes on past T_max: back at the base LR at 2 T_max.
  EXPECT_DOUBLE_EQ(scheduler.lr_at(20, 0), 0.1);
}

TEST(CosineAnnealingLRTest, BadOptionsNameTheOptionAndValue) {
  auto optimizer = make_sgd({0.1});
  EXPECT_THAT([&] { CosineAnnealingLR(*optimizer, 0); },
              ThrowsMessage<c10::Error>(
                  HasSubstr("CosineAnnealingLR: T_max must be > 0, got 0")));
  EXPECT_THAT(
      [&] {
        CosineAnnealingLR(*optimizer, CosineAnnealingLROptions(5).eta_min(-1));
      },
      ThrowsMessage<c10::Error>(HasSubstr(
          "CosineAnnealingLR: eta_min must be a finite number >= 0, got -1")));
}

}  // namespace
}  // namespace torchclr::test
