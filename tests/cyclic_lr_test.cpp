#include <gmock/gmock.h>
#include <torchclr/cyclic_lr.h>

#include <atomic>
#include <cmath>
#include <thread>

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

using BadCyclicLROption = BadOption<CyclicLROptions>;

class CyclicLRBadOptionsTest
    : public ::testing::TestWithParam<BadCyclicLROption> {};

TEST_P(CyclicLRBadOptionsTest, NameTheOptionAndValue) {
  auto optimizer = make_sgd({0.1, 0.1});
  EXPECT_THAT([&] { CyclicLR(*optimizer, GetParam().options); },
              ThrowsMessage<c10::Error>(HasSubstr(GetParam().message)));
}

INSTANTIATE_TEST_SUITE_P(
    AllOptions,
    CyclicLRBadOptionsTest,
    ::testing::Values(
        BadCyclicLROption{CyclicLROptions(0.0, 0.1),
                          "base_lr must be a finite number > 0, got 0"},
        BadCyclicLROption{CyclicLROptions(0.01, NAN),
                          "max_lr must be a finite number"},
        BadCyclicLROption{CyclicLROptions(0.01, 0.001),
                          "max_lr (0.001) must not be below base_lr (0.01)"},
        BadCyclicLROption{CyclicLROptions(0.001, 0.01).step_size_up(0),
                          "step_size_up must be > 0, got 0"},
        BadCyclicLROption{CyclicLROptions(0.001, 0.01).step_size_down(-3),
                          "step_size_down must be > 0, got -3"},
        BadCyclicLROption{CyclicLROptions(0.001, 0.01).gamma(0),
                          "gamma must be a finite number > 0, got 0"},
        BadCyclicLROption{CyclicLROptions(0.001, 0.01)
                              .mode(CyclicMode::kExpRange)
                              .gamma(INFINITY),
                          "gamma must be a finite number > 0, got inf"},
        BadCyclicLROption{
            CyclicLROptions(0.001, 0.01)
                .mode(CyclicMode::kExpRangePaper)
                .gamma(1.0001),
            "CyclicLR: gamma must be in (0, 1] for mode exp_range_paper (both "
            "bounds times gamma^iterations), got 1.0001"},
        BadCyclicLROption{CyclicLROptions(0.001, 0.01)
                              .mode(CyclicMode::kExpRangePaper)
                              .gamma(0),
                          "gamma must be in (0, 1] for mode exp_range_paper"},
        BadCyclicLROption{CyclicLROptions(0.001, 0.01)
                              .mode(CyclicMode::kExpRangePaper)
                              .gamma(NAN),
                          "gamma must be in (0, 1] for mode exp_range_paper"},
        BadCyclicLROption{
            CyclicLROptions({0.001, 0.002, 0.003}, 0.01),
            "base_lr must have one value or one per param group (2), got 3"},
        BadCyclicLROption{
            CyclicLROptions(0.001, 0.01).base_momentum(0.95),
            "base_momentum (0.95) must not exceed max_momentum (0.9)"},
        BadCyclicLROption{CyclicLROptions(0.001, 0.01).max_momentum(1.0),
                          "max_momentum must be in [0, 1), got 1"}),
    [](const auto& info) {
      return param_name(info.index, info.param.message);
    });

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

// The paper's exp_range written out as its section 3.1 states it, with the
// triangle of its Torch listing (section 3.1): each bound times gamma^it.
double paper_exp_range(
    int64_t it, double base_lr, double max_lr, double stepsize, double gamma) {
  const double cycle = std::floor(1 + it / (2 * stepsize));
  const double x = std::abs(it / stepsize - 2 * cycle + 1);
  const double triangle = std::max(0.0, 1 - x);
  const double decay = std::pow(gamma, static_cast<double>(it));
  const double lower = base_lr * decay;
  const double upper = max_lr * decay;
  return lower + (upper - lower) * triangle;
}

// Table 1's exp_range row: 0.001-0.006, stepsize 2,000, gamma 0.99994, for
// its 42,000 iterations, every step against the formula above; momentum
// cycles as with PyTorch's exp_range (amplitude times gamma^it).
TEST(CyclicLRTest, ExpRangePaperFollowsThePapersFormulaFor42000Steps) {
  auto optimizer = make_sgd({0.1});
  CyclicLR scheduler(*optimizer,
                     CyclicLROptions(0.001, 0.006)
                         .step_size_up(2000)
                         .mode(CyclicMode::kExpRangePaper)
                         .gamma(0.99994));
  int compared = 0;
  for (int64_t it = 0; it <= 42000; ++it) {
    if (it > 0) {
      scheduler.step();
    }
    const double lr = optimizer->param_groups()[0].options().get_lr();
    const double expected = paper_exp_range(it, 0.001, 0.006, 2000, 0.99994);
    const double cycle = std::floor(1 + it / 4000.0);
    const double triangle =
        std::max(0.0, 1 - std::abs(it / 2000.0 - 2 * cycle + 1));
    const double momentum =
        0.9 - 0.1 * triangle * std::pow(0.99994, static_cast<double>(it));
    if (std::abs(lr - expected) > 1e-12 * expected ||
        std::abs(scheduler.get_last_momentum()[0] - momentum) > 1e-12) {
      ADD_FAILURE() << "step " << it << ": lr " << lr << " (expected "
                    << expected << "), momentum "
                    << scheduler.get_last_momentum()[0] << " (expected "
                    << momentum << ")";
      break;
    }
    ++compared;
  }
  EXPECT_EQ(compared, 42001);
  // By hand: gamma^42000 = exp(42000 ln 0.99994) = 0.0804535; step 42,000 is
  // a peak (10.5 cycles), step 40,000 a trough (gamma^40000 = 0.0907114).
  EXPECT_NEAR(scheduler.get_last_lr()[0], 0.006 * 0.0804535, 1e-9);
  EXPECT_NEAR(scheduler.lr_at(40000, 0), 0.001 * 0.0907114, 1e-10);
  // PyTorch's form never goes below base_lr.
  auto pytorch_optimizer = make_sgd({0.1});
  CyclicLR pytorch_form(*pytorch_optimizer,
                        CyclicLROptions(0.001, 0.006)
                            .step_size_up(2000)
                            .mode(CyclicMode::kExpRange)
                            .gamma(0.99994));
  EXPECT_DOUBLE_EQ(pytorch_form.lr_at(40000, 0), 0.001);
}

TEST(CyclicLRTest, ExpRangePaperIsPyTorchsExpRangeWhenBaseLrIsZero) {
  // base_lr 0 is refused by CyclicLR (as by every torchclr LR), so the free
  // functions: bit for bit equal over three cycles of both waveforms.
  int compared = 0;
  for (auto waveform : {Waveform::kTriangle, Waveform::kSine}) {
    for (int64_t step = 0; step <= 60; ++step) {
      const auto position = cyclic_position(step, 7, 13, waveform);
      const double scale =
          cyclic_scale(CyclicMode::kExpRangePaper, 0.97, position, step);
      EXPECT_EQ(scale,
                cyclic_scale(CyclicMode::kExpRange, 0.97, position, step));
      EXPECT_EQ(cyclic_lr_scaled_bounds(0.0, 0.006, position.height, scale),
                cyclic_lr(0.0, 0.006, position.height, scale))
          << "step " << step;
      ++compared;
    }
  }
  EXPECT_EQ(compared, 122);
  // With base_lr > 0 the two differ by base_lr * (gamma^k - 1) alone, and
  // cycle momentum alike.
  auto paper_optimizer = make_sgd({0.1, 0.1});
  auto pytorch_optimizer = make_sgd({0.1, 0.1});
  const auto options = [](CyclicMode mode) {
    return CyclicLROptions({0.001, 0.002}, {0.006, 0.01})
        .step_size_up(7)
        .step_size_down(13)
        .mode(mode)
        .gamma(0.97)
        .base_momentum({0.8, 0.85})
        .max_momentum({0.9, 0.95});
  };
  CyclicLR paper(*paper_optimizer, options(CyclicMode::kExpRangePaper));
  CyclicLR pytorch(*pytorch_optimizer, options(CyclicMode::kExpRange));
  for (int64_t step = 0; step <= 60; ++step) {
    if (step > 0) {
      paper.step();
      pytorch.step();
    }
    const double decay = std::pow(0.97, static_cast<double>(step));
    for (std::size_t g = 0; g < 2; ++g) {
      const double base = g == 0 ? 0.001 : 0.002;
      EXPECT_NEAR(paper.get_last_lr()[g] - pytorch.get_last_lr()[g],
                  base * (decay - 1),
                  1e-17)
          << "step " << step << " group " << g;
      EXPECT_EQ(paper.get_last_momentum()[g], pytorch.get_last_momentum()[g]);
    }
  }
}

TEST(CyclicLRTest, ExpRangePaperStateRoundTripsAndRefusesOtherModes) {
  TempDir dir;
  const auto options = [](CyclicMode mode) {
    return CyclicLROptions(0.001, 0.006)
        .step_size_up(20)
        .mode(mode)
        .gamma(0.99);
  };
  auto optimizer = make_sgd({0.1});
  CyclicLR saved(*optimizer, options(CyclicMode::kExpRangePaper));
  EXPECT_THAT(saved.options_text(), HasSubstr("mode=exp_range_paper;"));
  for (int i = 0; i < 57; ++i) {
    saved.step();
  }
  torch::save(saved, dir.file("paper.pt"));

  auto resumed_optimizer = make_sgd({0.5});
  CyclicLR resumed(*resumed_optimizer, options(CyclicMode::kExpRangePaper));
  torch::load(resumed, dir.file("paper.pt"));
  EXPECT_EQ(resumed.last_epoch(), 57);
  // Step 57: cycle 2, 17 of 20 up; both bounds times 0.99^57.
  expect_close(resumed_optimizer->param_groups()[0].options().get_lr(),
               (0.001 + 0.005 * 17 / 20) * std::pow(0.99, 57),
               "resumed lr");

  auto other_optimizer = make_sgd({0.1});
  CyclicLR pytorch_form(*other_optimizer, options(CyclicMode::kExpRange));
  EXPECT_THAT([&] { torch::load(pytorch_form, dir.file("paper.pt")); },
              ThrowsMessage<c10::Error>(
                  HasSubstr("CyclicLR: the archive was saved with other "
                            "options")));
  EXPECT_EQ(pytorch_form.last_epoch(), 0);
}

TEST(CyclicLRTest, ExpRangeTakesGammaAboveOneAsPyTorchDoes) {
  auto optimizer = make_sgd({0.1});
  CyclicLR scheduler(*optimizer,
                     CyclicLROptions(0.001, 0.006)
                         .step_size_up(100)
                         .mode(CyclicMode::kExpRange)
                         .gamma(1.1));
  for (int i = 0; i < 34; ++i) {
    scheduler.step();
  }
  // Step 34: 0.34 of the way up, amplitude 1.1^34 = 25.4374: past max_lr.
  const double scale = std::pow(1.1, 34);
  expect_close(scheduler.get_last_lr()[0], 0.001 + 0.005 * 0.34 * scale, "lr");
  EXPECT_GT(scheduler.get_last_lr()[0], 0.006);
  expect_close(scheduler.get_last_momentum()[0], 0.9 - 0.1 * 0.34 * scale, "m");
  // Step 35 would set momentum 0.9 - 0.1 * 0.35 * 1.1^35 = -0.0836: refused,
  // and the optimizer keeps step 34's values.
  EXPECT_THAT([&] { scheduler.step(); },
              ThrowsMessage<c10::Error>(HasSubstr(
                  "CyclicLR: mode exp_range with gamma 1.1 takes the momentum "
                  "of param group 0 to -0.0835853 at step 35, below 0; pass "
                  "cycle_momentum(false) or a smaller gamma")));
  EXPECT_EQ(scheduler.last_epoch(), 34);
  expect_close(optimizer->param_groups()[0].options().get_lr(),
               0.001 + 0.005 * 0.34 * scale,
               "lr after the refused step");
}

TEST(CyclicLRTest, ExpRangeWithGammaAboveOneRefusesAnInfiniteLR) {
  auto optimizer = make_sgd({0.1});
  CyclicLR scheduler(*optimizer,
                     CyclicLROptions(0.001, 0.006)
                         .step_size_up(100)
                         .mode(CyclicMode::kExpRange)
                         .gamma(1e10)
                         .cycle_momentum(false));
  for (int i = 0; i < 30; ++i) {
    scheduler.step();
  }
  // 1e10^31 = 1e310 overflows a double.
  EXPECT_THAT([&] { scheduler.step(); },
              ThrowsMessage<c10::Error>(HasSubstr(
                  "CyclicLR: mode exp_range with gamma 1e+10 gives the "
                  "non-finite LR inf at step 31")));
  EXPECT_EQ(scheduler.last_epoch(), 30);
  EXPECT_TRUE(std::isfinite(optimizer->param_groups()[0].options().get_lr()));
}

// A reader thread (a plot) asks lr_at and momentum_at for other steps while
// this thread steps: both see the formula at every call. With a cache shared
// between threads, the reader's calls would change the shape that step()
// computes for its other groups and momentum.
TEST(CyclicLRTest, LrAtFromAnotherThreadWhileStepping) {
  constexpr int64_t kSteps = 20000;
  auto optimizer = make_sgd({0.1, 0.1, 0.1});
  CyclicLR scheduler(*optimizer,
                     CyclicLROptions({0.001, 0.002, 0.003}, 0.006)
                         .step_size_up(50)
                         .mode(CyclicMode::kExpRangePaper)
                         .gamma(0.9999));
  const auto expected = [](int64_t step, std::size_t group) {
    return paper_exp_range(step, 0.001 * (group + 1), 0.006, 50, 0.9999);
  };
  std::atomic<bool> stop{false};
  std::atomic<int64_t> reads{0};
  std::atomic<int64_t> reader_errors{0};
  std::thread reader([&] {
    for (int64_t i = 0; !stop.load(); ++i) {
      const int64_t step = (i * 7919) % (2 * kSteps);
      const std::size_t group = static_cast<std::size_t>(i % 3);
      const double want = expected(step, group);
      if (std::abs(scheduler.lr_at(step, group) - want) > 1e-12 * want ||
          !scheduler.momentum_at(step, group)) {
        reader_errors.fetch_add(1);
      }
      reads.fetch_add(1);
    }
  });
  // The reader runs before and during the whole stepping.
  while (reads.load() < 100) {
    std::this_thread::yield();
  }
  int64_t stepper_errors = 0;
  int64_t reads_seen = reads.load();
  for (int64_t step = 1; step <= kSteps; ++step) {
    // Every 500 steps, wait for the reader to have read again, so that the
    // two interleave however the threads are scheduled.
    while (step % 500 == 0 && reads.load() == reads_seen) {
      std::this_thread::yield();
    }
    reads_seen = reads.load();
    scheduler.step();
    for (std::size_t g = 0; g < 3; ++g) {
      const double want = expected(step, g);
      if (std::abs(optimizer->param_groups()[g].options().get_lr() - want) >
          1e-12 * want) {
        ++stepper_errors;
      }
    }
  }
  stop.store(true);
  reader.join();
  EXPECT_EQ(stepper_errors, 0);
  EXPECT_EQ(reader_errors.load(), 0);
  EXPECT_GE(reads.load(), 100 + kSteps / 500);
}

}  // namespace
}  // namespace torchclr::test
