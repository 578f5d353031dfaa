#include <gmock/gmock.h>
#include <torchclr/cyclic_lr.h>

#include <cmath>

#include "test_util.h"

namespace torchclr::test {
namespace {

using ::testing::HasSubstr;
using ::testing::ThrowsMessage;

constexpr double kPi = 3.14159265358979323846;

TEST(CyclicLRTest, WaveformsFollowTheirFormulas) {
  // step_size_up 4, down 4: step 1 is t = 1/4 into the rise, step 6 is
  // t = 1/2 on the way down.
  const double t_up = 0.25;
  const double t_down = 0.5;
  EXPECT_DOUBLE_EQ(cyclic_position(1, 4, 4, Waveform::kTriangle).height, t_up);
  EXPECT_DOUBLE_EQ(cyclic_position(1, 4, 4, Waveform::kSine).height,
                   (1 - std::cos(kPi * t_up)) / 2);
  EXPECT_DOUBLE_EQ(cyclic_position(1, 4, 4, Waveform::kParabolic).height,
                   1 - (1 - t_up) * (1 - t_up));
  EXPECT_DOUBLE_EQ(cyclic_position(6, 4, 4, Waveform::kSine).height,
                   (1 - std::cos(kPi * t_down)) / 2);
  EXPECT_DOUBLE_EQ(cyclic_position(6, 4, 4, Waveform::kParabolic).height,
                   1 - (1 - t_down) * (1 - t_down));
  for (auto waveform :
       {Waveform::kTriangle, Waveform::kSine, Waveform::kParabolic}) {
    EXPECT_DOUBLE_EQ(cyclic_position(0, 4, 4, waveform).height, 0.0);
    EXPECT_DOUBLE_EQ(cyclic_position(4, 4, 4, waveform).height, 1.0);
    EXPECT_DOUBLE_EQ(cyclic_position(8, 4, 4, waveform).height, 0.0);
    EXPECT_DOUBLE_EQ(cyclic_position(8, 4, 4, waveform).cycle, 2.0);
  }
}

TEST(CyclicLRTest, SineWaveformSetsTheOptimizer) {
  auto optimizer = make_sgd({0.1});
  CyclicLR scheduler(
      *optimizer,
      CyclicLROptions(0.001, 0.009).step_size_up(4).waveform(Waveform::kSine));
  scheduler.step();  // t = 1/4
  const double height = (1 - std::cos(kPi / 4)) / 2;
  EXPECT_NEAR(optimizer->param_groups()[0].options().get_lr(),
              0.001 + 0.008 * height,
              1e-15);
  EXPECT_NEAR(scheduler.get_last_momentum()[0], 0.9 - 0.1 * height, 1e-15);
}

TEST(CyclicLRTest, CyclesAdamBeta1AndLeavesBeta2) {
  auto optimizer = make_optimizer<torch::optim::AdamW>(
      {0.1}, torch::optim::AdamWOptions(0.1).betas({0.9, 0.99}));
  CyclicLR scheduler(*optimizer,
                     CyclicLROptions(0.001, 0.005)
                         .step_size_up(2)
                         .base_momentum(0.85)
                         .max_momentum(0.95));
  auto betas = [&] {
    return static_cast<torch::optim::AdamWOptions&>(
               optimizer->param_groups()[0].options())
        .betas();
  };
  EXPECT_DOUBLE_EQ(std::get<0>(betas()), 0.95);
  scheduler.step();  // halfway up: beta1 halfway down
  EXPECT_NEAR(std::get<0>(betas()), 0.90, 1e-15);
  scheduler.step();  // peak LR, lowest beta1
  EXPECT_NEAR(std::get<0>(betas()), 0.85, 1e-15);
  EXPECT_DOUBLE_EQ(std::get<1>(betas()), 0.99);
}

TEST(CyclicLRTest, GetLastLrReturnsOneValuePerGroup) {
  auto optimizer = make_sgd({0.1, 0.1});
  CyclicLR scheduler(
      *optimizer,
      CyclicLROptions({0.001, 0.002}, {0.003, 0.006}).step_size_up(2));
  scheduler.step();
  ASSERT_EQ(scheduler.get_last_lr().size(), 2u);
  EXPECT_DOUBLE_EQ(scheduler.get_last_lr()[0], 0.002);
  EXPECT_DOUBLE_EQ(scheduler.get_last_lr()[1], 0.004);
  EXPECT_EQ(scheduler.last_epoch(), 1);
}

TEST(CyclicLRTest, OptimizerWithoutMomentumIsRejected) {
  auto optimizer = make_optimizer<torch::optim::Adagrad>(
      {0.1}, torch::optim::AdagradOptions(0.1));
  EXPECT_THAT([&] { CyclicLR(*optimizer, CyclicLROptions(0.001, 0.01)); },
              ThrowsMessage<c10::Error>(HasSubstr(
                  "CyclicLR: cycle_momentum is true but the optimizer has no "
                  "momentum")));
  CyclicLR scheduler(*optimizer,
                     CyclicLROptions(0.001, 0.01).cycle_momentum(false));
  EXPECT_DOUBLE_EQ(optimizer->param_groups()[0].options().get_lr(), 0.001);
}

struct BadOption {
  CyclicLROptions options;
  std::string message;
};

class CyclicLRBadOptionsTest : public ::testing::TestWithParam<BadOption> {};

TEST_P(CyclicLRBadOptionsTest, NameTheOptionAndValue) {
  auto optimizer = make_sgd({0.1, 0.1});
  EXPECT_THAT([&] { CyclicLR(*optimizer, GetParam().options); },
              ThrowsMessage<c10::Error>(HasSubstr(GetParam().message)));
}

INSTANTIATE_TEST_SUITE_P(
    AllOptions,
    CyclicLRBadOptionsTest,
    ::testing::Values(
        BadOption{CyclicLROptions(0.0, 0.1),
                  "base_lr must be a finite number > 0, got 0"},
        BadOption{CyclicLROptions(0.01, NAN), "max_lr must be a finite number"},
        BadOption{CyclicLROptions(0.01, 0.001),
                  "max_lr (0.001) must not be below base_lr (0.01)"},
        BadOption{CyclicLROptions(0.001, 0.01).step_size_up(0),
                  "step_size_up must be > 0, got 0"},
        BadOption{CyclicLROptions(0.001, 0.01).step_size_down(-3),
                  "step_size_down must be > 0, got -3"},
        BadOption{CyclicLROptions(0.001, 0.01).gamma(0),
                  "gamma must be in (0, 1], got 0"},
        BadOption{
            CyclicLROptions({0.001, 0.002, 0.003}, 0.01),
            "base_lr must have one value or one per param group (2), got 3"},
        BadOption{CyclicLROptions(0.001, 0.01).base_momentum(0.95),
                  "base_momentum (0.95) must not exceed max_momentum (0.9)"},
        BadOption{CyclicLROptions(0.001, 0.01).max_momentum(1.0),
                  "max_momentum must be in [0, 1), got 1"}));

TEST(CyclicLRTest, ScaleFnOutsideUnitIntervalThrowsInsteadOfBadLR) {
  auto optimizer = make_sgd({0.1});
  CyclicLROptions options(0.001, 0.01);
  options.step_size_up(2).scale_fn([](double cycle) { return cycle - 1.5; });
  // Cycle 1 gives -0.5: rejected at construction's first step.
  EXPECT_THAT(
      [&] { CyclicLR(*optimizer, options); },
      ThrowsMessage<c10::Error>(HasSubstr(
          "scale_fn(1) returned -0.5; it must return a value in [0, 1]")));
}

}  // namespace
}  // namespace torchclr::test
