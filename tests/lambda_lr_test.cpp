#include <gmock/gmock.h>
#include <torchclr/torchclr.h>

#include "test_util.h"

namespace torchclr::test {
namespace {

using ::testing::HasSubstr;
using ::testing::ThrowsMessage;

TEST(LambdaLRTest, OneFunctionServesEveryGroup) {
  auto optimizer = make_sgd({0.1, 0.4});
  LambdaLR scheduler(*optimizer,
                     LRLambda([](int64_t k) { return 1.0 / (1 + k); }));
  scheduler.step();
  EXPECT_EQ(scheduler.get_last_lr(), (std::vector<double>{0.05, 0.2}));
}

TEST(LambdaLRTest, BadFunctionsAndValuesAreRefused) {
  auto optimizer = make_sgd({0.1, 0.2});
  EXPECT_THAT(
      [&] {
        LambdaLR(*optimizer,
                 std::vector<LRLambda>{[](int64_t) { return 1.0; },
                                       [](int64_t) { return 1.0; },
                                       [](int64_t) { return 1.0; }});
      },
      ThrowsMessage<c10::Error>(HasSubstr(
          "LambdaLR: lr_lambda must have one function or one per param group "
          "(2), got 3")));
  EXPECT_THAT([&] { LambdaLR(*optimizer, LRLambda()); },
              ThrowsMessage<c10::Error>(HasSubstr("lr_lambda 0 is empty")));
  LambdaLR scheduler(*optimizer, LRLambda([](int64_t k) {
    return k < 2 ? 1.0 : std::nan("");
  }));
  scheduler.step();
  EXPECT_THAT([&] { scheduler.step(); },
              ThrowsMessage<c10::Error>(
                  HasSubstr("LambdaLR: lr_lambda(2) of param group 0 returned "
                            "nan; it must return a finite value >= 0")));
  EXPECT_EQ(optimizer->param_groups()[0].options().get_lr(), 0.1);
}

TEST(LambdaLRTest, ArchiveStoresTheFunctionsName) {
  TempDir dir;
  auto optimizer = make_sgd({0.1});
  auto halve = [](int64_t k) { return std::pow(0.5, k); };
  LambdaLR saved(*optimizer, LambdaLROptions(halve).lambda_name("halve"));
  saved.step();
  torch::save(saved, dir.file("lambda.pt"));
  LambdaLR renamed(*optimizer, LambdaLROptions(halve).lambda_name("other"));
  EXPECT_THAT([&] { torch::load(renamed, dir.file("lambda.pt")); },
              ThrowsMessage<c10::Error>(HasSubstr("saved 'lr_lambda=halve")));
  LambdaLR same(*optimizer, LambdaLROptions(halve).lambda_name("halve"));
  torch::load(same, dir.file("lambda.pt"));
  EXPECT_EQ(same.get_last_lr()[0], 0.05);
}

}  // namespace
}  // namespace torchclr::test
