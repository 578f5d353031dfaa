#include <gmock/gmock.h>
#include <torchclr/torchclr.h>

#include "test_util.h"

namespace torchclr::test {
namespace {

using ::testing::HasSubstr;
using ::testing::ThrowsMessage;

TEST(MultiplicativeLRTest, ProductOfEveryFactorSoFar) {
  auto optimizer = make_sgd({1.0});
  std::vector<int64_t> calls;
  MultiplicativeLR scheduler(*optimizer, LRLambda([&](int64_t k) {
    calls.push_back(k);
    return 0.5 + 0.1 * static_cast<double>(k);
  }));
  for (int i = 0; i < 3; ++i) {
    scheduler.step();
  }
  EXPECT_DOUBLE_EQ(scheduler.get_last_lr()[0], 0.6 * 0.7 * 0.8);
  // One call per step, from step 1, as PyTorch.
  EXPECT_EQ(calls, (std::vector<int64_t>{1, 2, 3}));
  // An earlier step (as after a load) is recomputed from the start.
  EXPECT_DOUBLE_EQ(scheduler.lr_at(2, 0), 0.6 * 0.7);
}

TEST(MultiplicativeLRTest, NegativeFactorIsRefused) {
  auto optimizer = make_sgd({0.1});
  MultiplicativeLR scheduler(*optimizer,
                             LRLambda([](int64_t) { return -1.0; }));
  EXPECT_THAT(
      [&] { scheduler.step(); },
      ThrowsMessage<c10::Error>(HasSubstr(
          "MultiplicativeLR: lr_lambda(1) of param group 0 returned -1")));
}

}  // namespace
}  // namespace torchclr::test
