#include <c10/util/MathConstants.h>
#include <gmock/gmock.h>
#include <torchclr/scheduler_text.h>
#include <torchclr/torchclr.h>

#include <cmath>
#include <limits>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "test_util.h"

namespace torchclr::test {
namespace {

using ::testing::HasSubstr;
using ::testing::ThrowsMessage;

double lr_of(const torch::optim::Optimizer& optimizer, std::size_t group = 0) {
  return optimizer.param_groups()[group].options().get_lr();
}

std::vector<double> lrs_of(const torch::optim::Optimizer& optimizer) {
  std::vector<double> lrs;
  for (const auto& group : optimizer.param_groups()) {
    lrs.push_back(group.options().get_lr());
  }
  return lrs;
}

// The cosine's alpha at t, by hand: (1 - cos(pi t)) / 2.
double cos_alpha(double t) {
  return (1 - std::cos(c10::pi<double> * t)) / 2;
}

TEST(SWALRTest, AnnealsFromTheOptimizerLRToSwaLRThenHolds) {
  auto optimizer = make_sgd({0.1, 0.2});
  SWALR scheduler(*optimizer, SWALROptions({0.05, 0.01}).anneal_epochs(4));
  // Step 0 leaves the LRs as they are.
  EXPECT_EQ(lrs_of(*optimizer), (std::vector<double>{0.1, 0.2}));
  scheduler.step();
  const double alpha = cos_alpha(0.25);
  EXPECT_DOUBLE_EQ(lr_of(*optimizer, 0), 0.05 * alpha + 0.1 * (1 - alpha));
  EXPECT_DOUBLE_EQ(lr_of(*optimizer, 1), 0.01 * alpha + 0.2 * (1 - alpha));
  scheduler.step();
  // Half-way: the mean of the two.
  EXPECT_DOUBLE_EQ(lr_of(*optimizer, 0), 0.075);
  EXPECT_DOUBLE_EQ(lr_of(*optimizer, 1), 0.105);
  for (int k = 3; k <= 10; ++k) {
    scheduler.step();
    if (k >= 4) {
      EXPECT_EQ(lrs_of(*optimizer), (std::vector<double>{0.05, 0.01}))
          << "step " << k;
    }
  }
}

TEST(SWALRTest, LinearAnnealByHand) {
  auto optimizer = make_sgd({0.1});
  SWALR scheduler(*optimizer,
                  SWALROptions(0.02).anneal_epochs(4).anneal_strategy(
                      AnnealStrategy::kLinear));
  // 0.1 + (0.02 - 0.1) * k / 4.
  const std::vector<double> expected = {0.1, 0.08, 0.06, 0.04, 0.02, 0.02};
  for (std::size_t k = 0; k < expected.size(); ++k) {
    if (k > 0) {
      scheduler.step();
    }
    EXPECT_DOUBLE_EQ(lr_of(*optimizer), expected[k]) << "step " << k;
  }
  EXPECT_DOUBLE_EQ(swa_annealed_lr(0.1, 0.02, scheduler.options(), 3),
                   0.1 - 0.08 * 0.75);
}

// PyTorch: `step = max(1, step)` when anneal_epochs is 0, so the LR is swa_lr
// from the construction on.
TEST(SWALRTest, ZeroAnnealEpochsSetsSwaLRAtConstruction) {
  auto optimizer = make_sgd({0.1, 0.3});
  SWALR scheduler(*optimizer,
                  SWALROptions(std::vector<double>{0.004, 0.5})
                      .anneal_epochs(0)
                      .anneal_strategy(AnnealStrategy::kLinear));
  for (int k = 0; k < 4; ++k) {
    EXPECT_EQ(lrs_of(*optimizer), (std::vector<double>{0.004, 0.5}));
    scheduler.step();
  }
}

// PyTorch's example builds SWALR with the other scheduler and steps it only
// when SWA starts: the anneal starts from the LR the optimizer holds then.
TEST(SWALRTest, AnnealStartsFromTheLRAtTheFirstStep) {
  auto optimizer = make_sgd({0.1});
  SWALR scheduler(*optimizer, SWALROptions(0.05).anneal_epochs(2));
  EXPECT_EQ(scheduler.anneal_start_lrs(), std::vector<double>{0.1});
  optimizer->param_groups()[0].options().set_lr(0.03);
  scheduler.step();
  EXPECT_EQ(scheduler.anneal_start_lrs(), std::vector<double>{0.03});
  EXPECT_DOUBLE_EQ(lr_of(*optimizer), 0.04);  // half-way from 0.03 to 0.05
  // Later changes by hand are overwritten (a documented deviation).
  optimizer->param_groups()[0].options().set_lr(0.9);
  scheduler.step();
  EXPECT_EQ(lr_of(*optimizer), 0.05);

  // An LR annealed to 0 by an earlier schedule is a valid start.
  auto zeroed = make_sgd({0.1});
  SWALR from_zero(*zeroed,
                  SWALROptions(0.05).anneal_epochs(4).anneal_strategy(
                      AnnealStrategy::kLinear));
  zeroed->param_groups()[0].options().set_lr(0.0);
  from_zero.step();
  EXPECT_DOUBLE_EQ(lr_of(*zeroed), 0.0125);
}

TEST(SWALRTest, BadOptionsNameTheOptionAndValue) {
  auto optimizer = make_sgd({0.1, 0.2});
  EXPECT_THAT([&] { SWALR(*optimizer, SWALROptions(-0.01)); },
              ThrowsMessage<c10::Error>(HasSubstr(
                  "SWALR: swa_lr must be finite and >= 0, got -0.01")));
  EXPECT_THAT(
      [&] {
        SWALR(*optimizer,
              SWALROptions({0.01, std::numeric_limits<double>::infinity()}));
      },
      ThrowsMessage<c10::Error>(
          HasSubstr("SWALR: swa_lr must be finite and >= 0, got inf")));
  EXPECT_THAT(
      [&] {
        SWALR(*optimizer, SWALROptions({0.01, 0.02, 0.03}));
      },
      ThrowsMessage<c10::Error>(
          HasSubstr("SWALR: swa_lr must have one value or one per "
                    "param group (2), got 3")));
  EXPECT_THAT([&] { SWALR(*optimizer, SWALROptions(0.01).anneal_epochs(-1)); },
              ThrowsMessage<c10::Error>(
                  HasSubstr("SWALR: anneal_epochs must be >= 0, got -1")));
  auto zero_lr = make_sgd({0.1});
  zero_lr->param_groups()[0].options().set_lr(0.0);
  EXPECT_THAT(
      [&] { SWALR(*zero_lr, SWALROptions(0.01)); },
      ThrowsMessage<c10::Error>(HasSubstr("SWALR: the optimizer's lr")));
}

TEST(SWALRTest, NonFiniteLRAtTheFirstStepIsRefusedAndChangesNothing) {
  auto optimizer = make_sgd({0.1, 0.2});
  SWALR scheduler(*optimizer, SWALROptions(0.05));
  optimizer->param_groups()[1].options().set_lr(
      std::numeric_limits<double>::quiet_NaN());
  EXPECT_THAT([&] { scheduler.step(); },
              ThrowsMessage<c10::Error>(HasSubstr(
                  "SWALR: param group 1 holds lr nan at the first step(), "
                  "where the anneal starts; expected a finite value >= 0")));
  EXPECT_EQ(scheduler.last_epoch(), 0);
  EXPECT_EQ(scheduler.anneal_start_lrs(), (std::vector<double>{0.1, 0.2}));
  EXPECT_EQ(lr_of(*optimizer, 0), 0.1);
}

TEST(SWALRTest, ChainedSchedulerRefusesIt) {
  auto optimizer = make_sgd({0.1});
  auto swa = std::make_shared<SWALR>(*optimizer, SWALROptions(0.05));
  auto decay = std::make_shared<ExponentialLR>(*optimizer, 0.9);
  EXPECT_THAT(
      [&] {
        ChainedScheduler(*optimizer,
                         std::vector<std::shared_ptr<Scheduler>>{decay, swa});
      },
      ThrowsMessage<c10::Error>(
          HasSubstr("ChainedScheduler: scheduler 1 (SWALR) sets the LR "
                    "itself rather than scaling the base LR")));
}

// Saved mid-anneal after starting from an LR set by hand, loaded into a fresh
// optimizer and scheduler: the same sequence, without the change by hand.
TEST(SWALRTest, SaveAndLoadContinueTheAnneal) {
  TempDir dir;
  const std::string path = dir.file("swalr.pt");
  const auto options = SWALROptions({0.05, 0.001}).anneal_epochs(7);
  auto optimizer = make_sgd({0.1, 0.2});
  SWALR scheduler(*optimizer, options);
  optimizer->param_groups()[0].options().set_lr(0.03);
  for (int k = 0; k < 3; ++k) {
    scheduler.step();
  }
  torch::save(scheduler, path);
  std::vector<std::vector<double>> expected;
  for (int k = 0; k < 8; ++k) {
    scheduler.step();
    expected.push_back(lrs_of(*optimizer));
  }

  auto resumed_optimizer = make_sgd({0.5, 0.5});
  SWALR resumed(*resumed_optimizer, options);
  torch::load(resumed, path);
  EXPECT_EQ(resumed.last_epoch(), 3);
  EXPECT_EQ(resumed.anneal_start_lrs(), (std::vector<double>{0.03, 0.2}));
  EXPECT_EQ(resumed.base_lrs(), (std::vector<double>{0.1, 0.2}));
  for (int k = 0; k < 8; ++k) {
    resumed.step();
    EXPECT_EQ(lrs_of(*resumed_optimizer), expected[k]) << "step " << 4 + k;
  }

  // Other options are refused, changing nothing.
  auto other_optimizer = make_sgd({0.1, 0.2});
  SWALR other(*other_optimizer, SWALROptions({0.05, 0.001}).anneal_epochs(6));
  EXPECT_THAT([&] { torch::load(other, path); },
              ThrowsMessage<c10::Error>(HasSubstr(
                  "SWALR: the archive was saved with other options")));
  EXPECT_EQ(other.last_epoch(), 0);
}

// Saved before its first step: the loaded scheduler takes its start at its
// own first step, from the LR the optimizer holds then.
TEST(SWALRTest, LoadedBeforeTheFirstStepStartsFromTheLRThen) {
  std::stringstream bytes;
  {
    auto optimizer = make_sgd({0.1});
    SWALR scheduler(*optimizer, SWALROptions(0.05).anneal_epochs(2));
    torch::serialize::OutputArchive archive;
    scheduler.save(archive);
    archive.save_to(bytes);
  }
  auto optimizer = make_sgd({0.1});
  SWALR scheduler(*optimizer, SWALROptions(0.05).anneal_epochs(2));
  torch::serialize::InputArchive archive;
  archive.load_from(bytes);
  scheduler.load(archive);
  optimizer->param_groups()[0].options().set_lr(0.07);
  scheduler.step();
  EXPECT_DOUBLE_EQ(lr_of(*optimizer), 0.06);
}

TEST(SWALRTest, DamagedStartLRsAreRefused) {
  auto optimizer = make_sgd({0.1});
  SWALR scheduler(*optimizer, SWALROptions(0.05));
  torch::serialize::OutputArchive out;
  scheduler.Scheduler::save(out);
  out.write("anneal_start_lrs", torch::tensor({-1.0}, torch::kFloat64));
  std::stringstream bytes;
  out.save_to(bytes);
  torch::serialize::InputArchive in;
  in.load_from(bytes);
  EXPECT_THAT([&] { scheduler.load(in); },
              ThrowsMessage<c10::Error>(
                  HasSubstr("SWALR: the archive's anneal_start_lrs holds -1, "
                            "expected finite values >= 0")));
}

// SequentialLR([CyclicLR, SWALR]) saved mid-anneal continues exactly.
TEST(SWALRTest, SequentialLRWithSWALRStageRestores) {
  TempDir dir;
  const std::string path = dir.file("sequential.pt");
  auto make = [](torch::optim::Optimizer& optimizer) {
    auto cyclic = std::make_shared<CyclicLR>(
        optimizer, CyclicLROptions(0.001, 0.006).step_size_up(3));
    auto swa =
        std::make_shared<SWALR>(optimizer, SWALROptions(0.05).anneal_epochs(6));
    return std::make_unique<SequentialLR>(
        optimizer,
        std::vector<std::shared_ptr<Scheduler>>{cyclic, swa},
        std::vector<int64_t>{8});
  };
  auto optimizer = make_sgd({0.1});
  auto scheduler = make(*optimizer);
  for (int k = 0; k < 10; ++k) {
    scheduler->step();
  }
  torch::save(*scheduler, path);
  std::vector<double> expected;
  for (int k = 0; k < 8; ++k) {
    scheduler->step();
    expected.push_back(lr_of(*optimizer));
  }
  auto resumed_optimizer = make_sgd({0.1});
  auto resumed = make(*resumed_optimizer);
  torch::load(*resumed, path);
  for (int k = 0; k < 8; ++k) {
    resumed->step();
    EXPECT_EQ(lr_of(*resumed_optimizer), expected[k]) << "step " << 11 + k;
  }
}

TEST(SWALRTest, TextForm) {
  auto optimizer = make_sgd({0.1, 0.2});
  SWALR scheduler(*optimizer,
                  SWALROptions(0.05).anneal_strategy(AnnealStrategy::kLinear));
  EXPECT_EQ(to_text(scheduler),
            "SWALR(swa_lr=[0.05, 0.05], anneal_epochs=10, "
            "anneal_strategy=\"linear\")");
  auto parsed_optimizer = make_sgd({0.1, 0.2});
  // PyTorch's positional order: swa_lr, anneal_epochs.
  const auto parsed = parse_scheduler(*parsed_optimizer, "SWALR(0.05, 3)");
  EXPECT_EQ(to_text(*parsed),
            "SWALR(swa_lr=[0.05, 0.05], anneal_epochs=3, "
            "anneal_strategy=\"cos\")");
  EXPECT_THAT(
      [&] {
        parse_scheduler(*parsed_optimizer,
                        "SWALR(swa_lr=0.05, anneal_strategy=\"cosine\")");
      },
      ThrowsMessage<c10::Error>(
          HasSubstr("SWALR option anneal_strategy: expected one of \"cos\", "
                    "\"linear\", got '\"cosine\"'")));
  EXPECT_THAT(
      [&] {
        parse_scheduler(*parsed_optimizer,
                        "SWALR(swa_lr=0.05, "
                        "anneal_epochs=-2)");
      },
      ThrowsMessage<c10::Error>(
          HasSubstr("SWALR: anneal_epochs must be >= 0, got -2")));
  EXPECT_THAT([&] { parse_scheduler(*parsed_optimizer, "SWALR()"); },
              ThrowsMessage<c10::Error>(HasSubstr("swa_lr")));
}

// parse_scheduler(to_text(s)) gives s's LRs bit for bit, alone and as a
// SequentialLR stage after a CyclicLR, for random options.
TEST(SWALRTest, TextRoundTripWithRandomOptions) {
  std::mt19937_64 rng(18);
  auto uniform = [&](double lo, double hi) {
    return std::uniform_real_distribution<double>(lo, hi)(rng);
  };
  auto pick = [&](int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
  };
  for (int trial = 0; trial < 40; ++trial) {
    const auto groups = static_cast<std::size_t>(pick(1, 3));
    std::vector<double> lrs, swa_lrs;
    for (std::size_t g = 0; g < groups; ++g) {
      lrs.push_back(std::pow(10.0, uniform(-4, 0)));
      swa_lrs.push_back(std::pow(10.0, uniform(-5, 0)));
    }
    const auto options =
        SWALROptions(swa_lrs)
            .anneal_epochs(pick(0, 30))
            .anneal_strategy(static_cast<AnnealStrategy>(pick(0, 1)));
    const bool staged = trial % 2 == 1;
    const int64_t milestone = pick(1, 20);
    auto make =
        [&](torch::optim::Optimizer& optimizer) -> std::unique_ptr<Scheduler> {
      if (!staged) {
        return std::make_unique<SWALR>(optimizer, options);
      }
      auto cyclic = std::make_shared<CyclicLR>(
          optimizer, CyclicLROptions(0.001, 0.01).step_size_up(pick(1, 9)));
      auto swa = std::make_shared<SWALR>(optimizer, options);
      return std::make_unique<SequentialLR>(
          optimizer,
          std::vector<std::shared_ptr<Scheduler>>{cyclic, swa},
          std::vector<int64_t>{milestone});
    };
    auto original_optimizer = make_sgd(lrs);
    const auto original = make(*original_optimizer);
    const std::string text = to_text(*original);
    SCOPED_TRACE(text);
    auto parsed_optimizer = make_sgd(lrs);
    std::unique_ptr<Scheduler> parsed;
    ASSERT_NO_THROW(parsed = parse_scheduler(*parsed_optimizer, text));
    ASSERT_EQ(to_text(*parsed), text);
    for (int k = 0; k < 60; ++k) {
      ASSERT_EQ(lrs_of(*parsed_optimizer), lrs_of(*original_optimizer))
          << "step " << k;
      original->step();
      parsed->step();
    }
  }
}

}  // namespace
}  // namespace torchclr::test
