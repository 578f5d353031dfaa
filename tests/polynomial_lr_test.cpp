#include <gmock/gmock.h>
#include <torchclr/torchclr.h>

#include "test_util.h"

namespace torchclr::test {
namespace {

using ::testing::HasSubstr;
using ::testing::ThrowsMessage;

TEST(PolynomialLRTest, FollowsThePolynomialAndHoldsZero) {
  auto optimizer = make_sgd({0.2});
  PolynomialLR scheduler(*optimizer,
                         PolynomialLROptions().total_iters(4).power(2.0));
  // (1 - k/4)^2 * 0.2 at k = 0..4, then 0.
  const double expected[] = {0.2, 0.2 * 0.5625, 0.2 * 0.25, 0.2 * 0.0625, 0};
  for (int64_t k = 0; k < 5; ++k) {
    EXPECT_DOUBLE_EQ(scheduler.lr_at(k, 0), expected[k]) << k;
  }
  EXPECT_EQ(scheduler.lr_at(100, 0), 0.0);
}

TEST(PolynomialLRTest, BadOptionsNameTheOptionAndValue) {
  auto optimizer = make_sgd({0.1});
  EXPECT_THAT([&] { PolynomialLR(*optimizer, PolynomialLROptions().power(0)); },
              ThrowsMessage<c10::Error>(HasSubstr(
                  "PolynomialLR: power must be a finite number > 0, got 0")));
  EXPECT_THAT(
      [&] { PolynomialLR(*optimizer, PolynomialLROptions().total_iters(-2)); },
      ThrowsMessage<c10::Error>(
          HasSubstr("PolynomialLR: total_iters must be > 0, got -2")));
}

}  // namespace
}  // namespace torchclr::test
