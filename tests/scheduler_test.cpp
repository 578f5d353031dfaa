// Behaviour shared by every scheduler: state files, param-group checks, the
// baselines' option checks, and LRs that stay finite and positive.

#include <c10/util/MathConstants.h>
#include <gmock/gmock.h>
#include <torchclr/scheduler_text.h>
#include <torchclr/torchclr.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <limits>
#include <random>
#include <sstream>
#include <string>

#include "scheduler_texts.h"
#include "test_util.h"

namespace torchclr::test {
namespace {

using ::testing::HasSubstr;
using ::testing::ThrowsMessage;

// Every group's LR, then every group's momentum (the optimizer is SGD).
std::vector<double> values_of(torch::optim::Optimizer& optimizer) {
  std::vector<double> values;
  for (auto& group : optimizer.param_groups()) {
    values.push_back(group.options().get_lr());
  }
  for (auto& group : optimizer.param_groups()) {
    values.push_back(
        static_cast<torch::optim::SGDOptions&>(group.options()).momentum());
  }
  return values;
}

class SchedulerRestoreTest : public ::testing::TestWithParam<ScheduleText> {};

TEST_P(SchedulerRestoreTest, MidCycleContinuesTheExactSequence) {
  const auto make = [](torch::optim::Optimizer& optimizer) {
    return make_scheduler(optimizer, GetParam().text);
  };
  {
    TempDir dir;
    const std::string path = dir.file("scheduler.pt");
    // The uninterrupted run.
    auto optimizer = make_sgd({0.1, 0.2});
    auto scheduler = make(*optimizer);
    for (int i = 0; i < 23; ++i) {
      scheduler->step();
    }
    torch::save(*scheduler, path);
    torch::save(*optimizer, path + ".optim");
    std::vector<std::vector<double>> expected;
    for (int i = 0; i < 30; ++i) {
      scheduler->step();
      expected.push_back(values_of(*optimizer));
    }
    // A fresh optimizer and scheduler, as in a new process.
    auto resumed_optimizer = make_sgd({0.1, 0.2});
    auto resumed = make(*resumed_optimizer);
    torch::load(*resumed_optimizer, path + ".optim");
    torch::load(*resumed, path);
    EXPECT_EQ(resumed->last_epoch(), 23);
    for (int i = 0; i < 30; ++i) {
      resumed->step();
      EXPECT_EQ(values_of(*resumed_optimizer), expected[i])
          << "step " << 24 + i;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(EveryPolicy,
                         SchedulerRestoreTest,
                         ::testing::ValuesIn(schedule_texts(TextSet::kPolicy)),
                         [](const auto& info) { return info.param.name; });

// The list's "with_warmup" text builds what with_warmup builds: the same
// text and, step by step, the same LRs and momentum.
TEST(SchedulerTest, WithWarmupIsTheListedText) {
  auto optimizer = make_sgd({0.1, 0.2});
  auto warmed = with_warmup(
      *optimizer, std::make_shared<CosineAnnealingLR>(*optimizer, 20), 8);
  auto listed_optimizer = make_sgd({0.1, 0.2});
  auto listed = make_scheduler(*listed_optimizer,
                               schedule_text(TextSet::kPolicy, "with_warmup"));
  EXPECT_EQ(to_text(*listed), to_text(warmed));
  for (int k = 0; k < 40; ++k) {
    ASSERT_EQ(values_of(*listed_optimizer), values_of(*optimizer))
        << "step " << k;
    warmed.step();
    listed->step();
  }
}

// Every policy but ReduceLROnPlateau sets the LR from its closed form: an LR
// changed by hand is overwritten at the next step(), which then gives what a
// run without the change gives. (PyTorch's chainable schedulers would scale
// the changed LR instead; the README says which do what.)
TEST(SchedulerTest, LRChangedByHandIsOverwrittenAtTheNextStep) {
  for (const auto& policy : schedule_texts(TextSet::kPolicy)) {
    auto changed = make_sgd({0.1, 0.2});
    auto untouched = make_sgd({0.1, 0.2});
    auto scheduler = make_scheduler(*changed, policy.text);
    auto reference = make_scheduler(*untouched, policy.text);
    for (int k = 1; k <= 12; ++k) {
      if (k == 5) {
        changed->param_groups()[0].options().set_lr(0.7);
        changed->param_groups()[1].options().set_lr(1e-5);
      }
      scheduler->step();
      reference->step();
      EXPECT_EQ(values_of(*changed), values_of(*untouched))
          << policy.name << " step " << k;
    }
  }
}

TEST(SchedulerTest, LoadRefusesAnotherPolicyOrGroupCount) {
  TempDir dir;
  const std::string path = dir.file("torchclr_mismatch.pt");
  auto optimizer = make_sgd({0.1});
  ExponentialLR exponential(*optimizer, 0.9);
  torch::save(exponential, path);

  auto other = make_sgd({0.1});
  LinearLR linear(*other);
  EXPECT_THAT([&] { torch::load(linear, path); },
              ThrowsMessage<c10::Error>(HasSubstr(
                  "LinearLR: the archive holds the state of a ExponentialLR, "
                  "not a LinearLR")));
  auto two_groups = make_sgd({0.1, 0.1});
  ExponentialLR wider(*two_groups, 0.9);
  EXPECT_THAT(
      [&] { torch::load(wider, path); },
      ThrowsMessage<c10::Error>(HasSubstr(
          "the archive was saved with 1 param groups but this scheduler "
          "has 2")));
  {
    // A damaged archive: the policy is stored as a number.
    torch::serialize::OutputArchive damaged;
    damaged.write("torchclr_format_version", c10::IValue(int64_t{2}));
    damaged.write("policy", c10::IValue(int64_t{7}));
    damaged.save_to(path);
  }
  EXPECT_THAT([&] { torch::load(linear, path); },
              ThrowsMessage<c10::Error>(HasSubstr(
                  "LinearLR: the archive's 'policy' is not a string")));
  torch::save(*optimizer, path);
  EXPECT_THAT([&] { torch::load(linear, path); },
              ThrowsMessage<c10::Error>(HasSubstr(
                  "LinearLR: the archive holds no torchclr scheduler state")));
}

TEST(SchedulerTest, LoadRefusesOtherOptionsAndChangesNothing) {
  TempDir dir;
  const std::string path = dir.file("torchclr_other_options.pt");
  auto optimizer = make_sgd({0.1});
  CyclicLR saved(*optimizer,
                 CyclicLROptions(0.001, 0.005)
                     .step_size_up(4)
                     .mode(CyclicMode::kTriangular2));
  for (int i = 0; i < 9; ++i) {
    saved.step();
  }
  torch::save(saved, path);

  // triangular and triangular2 agree over the first cycle: only the options
  // tell them apart.
  auto other_optimizer = make_sgd({0.1});
  CyclicLR other(*other_optimizer,
                 CyclicLROptions(0.001, 0.005).step_size_up(4));
  other.step();
  const auto lrs_before = values_of(*other_optimizer);
  EXPECT_THAT(
      [&] { torch::load(other, path); },
      ThrowsMessage<c10::Error>(HasSubstr(
          "CyclicLR: the archive was saved with other options: saved "
          "'base_lr=[0.001];max_lr=[0.0050000000000000001];step_size_up=4;"
          "step_size_down=4;waveform=triangle;mode=triangular2;gamma=1;"
          "cycle_momentum=true;base_momentum=[0.80000000000000004];"
          "max_momentum=[0.90000000000000002]', this scheduler has "
          "'base_lr=[0.001];max_lr=[0.0050000000000000001];step_size_up=4;"
          "step_size_down=4;waveform=triangle;mode=triangular;gamma=1;"
          "cycle_momentum=true;base_momentum=[0.80000000000000004];"
          "max_momentum=[0.90000000000000002]'")));
  EXPECT_EQ(other.last_epoch(), 1);
  EXPECT_EQ(values_of(*other_optimizer), lrs_before);

  ExponentialLR exponential(*make_sgd({0.1}), 0.9);
  torch::save(exponential, path);
  auto fresh = make_sgd({0.1});
  ExponentialLR faster(*fresh, 0.8);
  EXPECT_THAT([&] { torch::load(faster, path); },
              ThrowsMessage<c10::Error>(HasSubstr(
                  "saved 'gamma=0.90000000000000002', this scheduler has "
                  "'gamma=0.80000000000000004'")));
  EXPECT_EQ(faster.get_last_lr(), std::vector<double>{0.1});
}

TEST(SequentialLRTest, RefusedLoadLeavesEveryStageAsItWas) {
  TempDir dir;
  const std::string path = dir.file("torchclr_sequential_refused.pt");
  auto make = [](torch::optim::Optimizer& optimizer, bool linear) {
    auto first = std::make_shared<CyclicLR>(
        optimizer,
        CyclicLROptions(linear ? 0.002 : 0.001, 0.006).step_size_up(2));
    std::shared_ptr<Scheduler> second;
    if (linear) {
      second = std::make_shared<LinearLR>(optimizer);
    } else {
      second = std::make_shared<ExponentialLR>(optimizer, 0.9);
    }
    return std::make_unique<SequentialLR>(
        optimizer,
        std::vector<std::shared_ptr<Scheduler>>{first, second},
        std::vector<int64_t>{4});
  };
  auto saved_optimizer = make_sgd({0.1});
  auto saved = make(*saved_optimizer, false);
  torch::save(*saved, path);

  auto optimizer = make_sgd({0.1});
  auto scheduler = make(*optimizer, true);
  scheduler->step();
  EXPECT_THAT([&] { torch::load(*scheduler, path); },
              ThrowsMessage<c10::Error>(HasSubstr(
                  "SequentialLR: the archive was saved with other options")));
  // It goes on exactly as a scheduler that never saw the archive.
  auto reference_optimizer = make_sgd({0.1});
  auto reference = make(*reference_optimizer, true);
  reference->step();
  for (int i = 0; i < 8; ++i) {
    scheduler->step();
    reference->step();
    EXPECT_EQ(values_of(*optimizer), values_of(*reference_optimizer));
  }
}

TEST(CosineAnnealingWarmRestartsTest, HugeTMultEndsAndHoldsTheLongCycle) {
  // T_0 * T_mult overflows int64_t: the second cycle is longer than any step
  // count, and its start is PyTorch's base LR (PyTorch's ints do not overflow).
  auto optimizer = make_sgd({0.1});
  CosineAnnealingWarmRestarts scheduler(
      *optimizer,
      CosineAnnealingWarmRestartsOptions(3).T_mult(int64_t{1} << 62));
  std::vector<double> lrs{scheduler.get_last_lr()[0]};
  for (int i = 0; i < 5; ++i) {
    scheduler.step();
    lrs.push_back(scheduler.get_last_lr()[0]);
  }
  EXPECT_DOUBLE_EQ(lrs[0], 0.1);
  EXPECT_DOUBLE_EQ(lrs[1], 0.075);
  EXPECT_DOUBLE_EQ(lrs[2], 0.025);
  for (int k = 3; k < 6; ++k) {
    EXPECT_DOUBLE_EQ(lrs[k], 0.1) << "step " << k;
  }
  // Cycles of 1 and 2^62 steps, then one of 2^124 that int64_t cannot hold.
  const auto far = restart_position(
      std::numeric_limits<int64_t>::max(), 1, int64_t{1} << 62);
  EXPECT_EQ(far.T_cur,
            std::numeric_limits<int64_t>::max() - 1 - (int64_t{1} << 62));
  EXPECT_DOUBLE_EQ(far.T_i, std::ldexp(1.0, 124));
}

TEST(SchedulerTest, StepThroughBaseClassSetsLRAndMomentum) {
  auto optimizer = make_sgd({0.1});
  std::unique_ptr<torch::optim::LRScheduler> scheduler =
      std::make_unique<CyclicLR>(*optimizer,
                                 CyclicLROptions(0.001, 0.003).step_size_up(2));
  scheduler->step();
  const auto& options = static_cast<torch::optim::SGDOptions&>(
      optimizer->param_groups()[0].options());
  EXPECT_DOUBLE_EQ(options.lr(), 0.002);
  EXPECT_DOUBLE_EQ(options.momentum(), 0.85);
}

// gamma > 1 is PyTorch's too, but an LR past the largest double is refused
// (PyTorch would set inf), before the step changes anything.
TEST(SchedulerTest, LRThatWouldOverflowIsRefusedAtItsStep) {
  auto optimizer = make_sgd({0.1, 0.2});
  StepLR scheduler(*optimizer, StepLROptions(1).gamma(1e308));
  scheduler.step();
  EXPECT_EQ(scheduler.get_last_lr(),
            (std::vector<double>{0.1 * 1e308, 0.2 * 1e308}));
  // 0.1 * 1e308^2 is past the largest double, about 1.8e308.
  EXPECT_THAT([&] { scheduler.step(); },
              ThrowsMessage<c10::Error>(HasSubstr(
                  "StepLR: the LR of param group 0 at step 2 would be inf, "
                  "expected a finite number >= 0")));
  EXPECT_EQ(scheduler.last_epoch(), 1);
  EXPECT_EQ(scheduler.get_last_lr(),
            (std::vector<double>{0.1 * 1e308, 0.2 * 1e308}));
  EXPECT_EQ(optimizer->param_groups()[1].options().get_lr(), 0.2 * 1e308);
}

TEST(SchedulerTest, ParamGroupAddedAfterConstructionIsReported) {
  auto optimizer = make_sgd({0.1});
  ExponentialLR scheduler(*optimizer, 0.9);
  optimizer->add_param_group(torch::optim::OptimizerParamGroup(
      {torch::zeros({1}, torch::requires_grad())}));
  EXPECT_THAT([&] { scheduler.step(); },
              ThrowsMessage<c10::Error>(HasSubstr(
                  "ExponentialLR: the optimizer has 2 param groups but the "
                  "scheduler was built for 1")));
}

TEST(SchedulerTest, BaselineBadOptionsNameTheOptionAndValue) {
  auto optimizer = make_sgd({0.1});
  EXPECT_THAT([&] { ExponentialLR(*optimizer, 0.0); },
              ThrowsMessage<c10::Error>(HasSubstr(
                  "ExponentialLR: gamma must be a finite number > 0, got 0")));
  EXPECT_THAT([&] { LinearLR(*optimizer, LinearLROptions().start_factor(0)); },
              ThrowsMessage<c10::Error>(HasSubstr(
                  "LinearLR: start_factor must be in (0, 1], got 0")));
  EXPECT_THAT([&] { LinearLR(*optimizer, LinearLROptions().total_iters(0)); },
              ThrowsMessage<c10::Error>(
                  HasSubstr("LinearLR: total_iters must be > 0, got 0")));
  EXPECT_THAT(
      [&] {
        MultiStepLR(*optimizer, MultiStepLROptions({5, 0}));
      },
      ThrowsMessage<c10::Error>(
          HasSubstr("MultiStepLR: every milestone must be > 0, got 0")));
  EXPECT_THAT(
      [&] {
        CosineAnnealingWarmRestarts(*optimizer,
                                    CosineAnnealingWarmRestartsOptions(0));
      },
      ThrowsMessage<c10::Error>(
          HasSubstr("CosineAnnealingWarmRestarts: T_0 must be > 0, got 0")));
  EXPECT_THAT(
      [&] {
        CosineAnnealingWarmRestarts(
            *optimizer, CosineAnnealingWarmRestartsOptions(5).eta_min(-1));
      },
      ThrowsMessage<c10::Error>(
          HasSubstr("eta_min must be a finite number >= 0, got -1")));
  auto zero_lr = make_sgd({0.0});
  EXPECT_THAT(
      [&] { ExponentialLR(*zero_lr, 0.9); },
      ThrowsMessage<c10::Error>(HasSubstr(
          "ExponentialLR: the optimizer's lr must be a finite number > 0, "
          "got 0")));
}

TEST(SequentialLRTest, BadArgumentsAreExplained) {
  auto optimizer = make_sgd({0.1});
  auto other = make_sgd({0.1});
  auto a = std::make_shared<ExponentialLR>(*optimizer, 0.9);
  auto b = std::make_shared<ExponentialLR>(*optimizer, 0.8);
  auto foreign = std::make_shared<ExponentialLR>(*other, 0.8);
  EXPECT_THAT(
      [&] {
        SequentialLR(*optimizer, {a, b}, {});
      },
      ThrowsMessage<c10::Error>(
          HasSubstr("expected one milestone fewer than schedulers, got 2 "
                    "schedulers and 0 milestones")));
  EXPECT_THAT(
      [&] {
        SequentialLR(*optimizer, {a, foreign}, {3});
      },
      ThrowsMessage<c10::Error>(HasSubstr(
          "scheduler 1 (ExponentialLR) drives a different optimizer")));
  EXPECT_THAT(
      [&] {
        SequentialLR(*optimizer, {a, b, a}, {5, 5});
      },
      ThrowsMessage<c10::Error>(
          HasSubstr("milestones must be > 0 and strictly increasing, got 5 at "
                    "index 1")));
}

// Random valid options of every policy, stepped far beyond their schedules:
// the optimizer never sees a non-finite or negative LR.
TEST(SchedulerTest, ValidOptionsNeverGiveNonFiniteOrNegativeLR) {
  std::mt19937_64 rng(1234);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  auto log_uniform = [&](double lo, double hi) {
    return lo * std::pow(hi / lo, unit(rng));
  };
  auto pick = [&](int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
  };
  int checked = 0;
  for (int trial = 0; trial < 200; ++trial) {
    auto optimizer = make_sgd({log_uniform(1e-8, 10.0)});
    const double base = log_uniform(1e-10, 1.0);
    const double max = base * log_uniform(1.0, 1e6);
    const int64_t total = pick(2, 500);
    std::vector<std::unique_ptr<Scheduler>> schedulers;
    schedulers.push_back(std::make_unique<CyclicLR>(
        *optimizer,
        CyclicLROptions(base, max)
            .step_size_up(pick(1, 50))
            .step_size_down(pick(1, 50))
            // All four modes, kExpRangePaper included; gamma stays in
            // [0.5, 1), which the paper's form requires to be in (0, 1].
            .mode(static_cast<CyclicMode>(
                pick(0, static_cast<int64_t>(CyclicMode::kExpRangePaper))))
            .gamma(log_uniform(0.5, 1.0))
            .waveform(static_cast<Waveform>(pick(0, 2)))));
    const double pct = std::max(unit(rng) * 0.49, 1.5 / total);
    if (pct * total > 1 && pct < 0.5) {
      schedulers.push_back(std::make_unique<OneCycleLR>(
          *optimizer,
          OneCycleLROptions(max, total)
              .pct_start(pct)
              .anneal_strategy(static_cast<AnnealStrategy>(pick(0, 1)))
              .div_factor(log_uniform(1e-2, 1e4))
              .final_div_factor(log_uniform(1e-2, 1e5))
              .three_phase(pick(0, 1) == 1)));
    }
    schedulers.push_back(std::make_unique<CosineAnnealingWarmRestarts>(
        *optimizer,
        CosineAnnealingWarmRestartsOptions(pick(1, 30))
            .T_mult(pick(1, 3))
            .eta_min(unit(rng) < 0.5 ? 0.0 : base)));
    schedulers.push_back(
        std::make_unique<ExponentialLR>(*optimizer, log_uniform(0.5, 1.0)));
    schedulers.push_back(
        std::make_unique<LinearLR>(*optimizer,
                                   LinearLROptions()
                                       .start_factor(log_uniform(1e-6, 1.0))
                                       .end_factor(unit(rng))
                                       .total_iters(pick(1, 100))));
    for (auto& scheduler : schedulers) {
      const bool bounded = dynamic_cast<OneCycleLR*>(scheduler.get());
      const int64_t steps = bounded ? total : 3000;
      for (int64_t k = 0; k < steps; ++k) {
        scheduler->step();
        const double lr = optimizer->param_groups()[0].options().get_lr();
        ASSERT_TRUE(std::isfinite(lr) && lr >= 0)
            << scheduler->name() << " trial " << trial << " step " << k
            << " lr " << lr;
        ++checked;
      }
    }
  }
  EXPECT_GT(checked, 100000);
}

}  // namespace
}  // namespace torchclr::test

namespace torchclr::test {
namespace {

// Archives written by the code before the scheduler base was reshaped (format
// version 2, commit f352406) load unchanged.
TEST(SchedulerTest, ArchivesFromBeforeTheReshapeLoad) {
  const std::string dir = test_data_path("archives/");
  {
    auto optimizer = make_sgd({0.5});
    CyclicLR scheduler(*optimizer,
                       CyclicLROptions(0.001, 0.006)
                           .step_size_up(10)
                           .mode(CyclicMode::kTriangular2));
    torch::load(scheduler, dir + "cyclic_lr_triangular2_step17.pt");
    // Step 17 of a 20-step cycle: falling, t = 0.3 of the way from the top.
    EXPECT_EQ(scheduler.last_epoch(), 17);
    expect_close(scheduler.get_last_lr()[0], 0.001 + 0.005 * 0.3, "lr");
    expect_close(scheduler.get_last_momentum()[0], 0.9 - 0.1 * 0.3, "m");
  }
  {
    auto optimizer = make_sgd({0.5});
    auto up = [&](double low, int64_t step_size) {
      return std::make_shared<CyclicLR>(*optimizer,
                                        CyclicLROptions(low, 5 * low)
                                            .step_size_up(step_size)
                                            .mode(CyclicMode::kTriangular2));
    };
    auto first = up(0.001, 4);
    auto second = up(0.0001, 2);
    auto decay = std::make_shared<ExponentialLR>(*optimizer, 0.9);
    SequentialLR scheduler(*optimizer, {first, second, decay}, {16, 24});
    torch::load(scheduler, dir + "sequential_lr_step27.pt");
    EXPECT_EQ(scheduler.last_epoch(), 27);
    // Stage 3 from the first stage's base LR, 3 steps in; momentum where
    // stage 2 left it (its step 7: cycle 2 at half height, scale 1/2).
    expect_close(scheduler.get_last_lr()[0], 0.001 * 0.9 * 0.9 * 0.9, "lr");
    expect_close(
        scheduler.get_last_momentum()[0], 0.9 - 0.1 * 0.5 * 0.5, "momentum");
  }
}

}  // namespace
}  // namespace torchclr::test

namespace torchclr::test {
namespace {

// A run resumed into a longer plan: OneCycleLR's "tried to step N times" is
// avoided by taking only the step count, and only when asked.
TEST(SchedulerTest, LoadStepContinuesAChangedPlanOnlyWhenAsked) {
  TempDir dir;
  const std::string path = dir.file("one_cycle.pt");
  auto optimizer = make_sgd({0.1});
  OneCycleLR short_run(*optimizer, OneCycleLROptions(0.1, 100));
  for (int i = 0; i < 60; ++i) {
    short_run.step();
  }
  torch::save(short_run, path);

  auto resumed_optimizer = make_sgd({0.1});
  OneCycleLR longer(*resumed_optimizer, OneCycleLROptions(0.1, 300));
  EXPECT_THAT([&] { torch::load(longer, path); },
              ThrowsMessage<c10::Error>(HasSubstr(
                  "OneCycleLR: the archive was saved with other options")));
  EXPECT_EQ(longer.last_epoch(), 0);
  torch::serialize::InputArchive archive;
  archive.load_from(path);
  longer.load_step(archive);
  EXPECT_EQ(longer.last_epoch(), 60);
  EXPECT_EQ(longer.get_last_lr()[0], longer.lr_at(60, 0));
  for (int i = 0; i < 240; ++i) {
    longer.step();
  }
  EXPECT_EQ(longer.last_epoch(), 300);

  auto exponential = make_sgd({0.1});
  ExponentialLR other_policy(*exponential, 0.9);
  archive.load_from(path);
  EXPECT_THAT([&] { other_policy.load_step(archive); },
              ThrowsMessage<c10::Error>(HasSubstr(
                  "the archive holds the state of a OneCycleLR, not a "
                  "ExponentialLR")));
}

}  // namespace
}  // namespace torchclr::test

namespace torchclr::test {
namespace {

constexpr int64_t kTwoTo32 = int64_t{1} << 32;

// The archive `Scheduler::save` writes (format 2), at a step no test can
// reach by stepping: written key by key.
torch::serialize::InputArchive state_at(const Scheduler& scheduler,
                                        int64_t last_epoch) {
  torch::serialize::OutputArchive out;
  out.write("torchclr_format_version", c10::IValue(int64_t{2}));
  out.write("policy", c10::IValue(scheduler.name()));
  out.write("num_param_groups",
            c10::IValue(static_cast<int64_t>(scheduler.num_groups())));
  out.write("last_epoch", c10::IValue(last_epoch));
  out.write("base_lrs", torch::tensor(scheduler.base_lrs(), torch::kFloat64));
  out.write("options", c10::IValue(scheduler.options_text()));
  std::stringstream bytes;
  out.save_to(bytes);
  torch::serialize::InputArchive in;
  in.load_from(bytes);
  return in;
}

double lr_of(const torch::optim::Optimizer& optimizer) {
  return optimizer.param_groups()[0].options().get_lr();
}

// LibTorch counts steps in a 32-bit `unsigned`; past 2^32 steps a schedule
// counted there would restart at step 0.
TEST(SchedulerTest, StepCountPastTwoTo32KeepsTheSchedule) {
  // StepLR: 0.1 * 0.5^floor(k / 2^31): 0.05 up to 2^32 - 1, then 0.025 (a
  // restart would give 0.1).
  auto optimizer = make_sgd({0.1});
  StepLR step(*optimizer, StepLROptions(kTwoTo32 / 2).gamma(0.5));
  auto archive = state_at(step, kTwoTo32 - 2);
  step.load_step(archive);
  EXPECT_EQ(step.last_epoch(), kTwoTo32 - 2);
  EXPECT_EQ(lr_of(*optimizer), 0.05);
  torch::optim::LRScheduler& base = step;
  base.step();
  EXPECT_EQ(lr_of(*optimizer), 0.05);
  base.step();
  EXPECT_EQ(step.last_epoch(), kTwoTo32);
  EXPECT_EQ(lr_of(*optimizer), 0.025);
  step.step();
  EXPECT_EQ(step.last_epoch(), kTwoTo32 + 1);
  EXPECT_EQ(step.get_last_lr()[0], 0.025);

  // ExponentialLR with gamma = 1 - 2^-32 (exact): 0.1 (1 - 2^-32)^k, from
  // log1p rather than pow (about 0.1 / e at 2^32).
  auto exp_optimizer = make_sgd({0.1});
  const double epsilon = std::ldexp(1.0, -32);
  ExponentialLR exponential(*exp_optimizer, 1.0 - epsilon);
  auto exp_archive = state_at(exponential, kTwoTo32 - 2);
  exponential.load(exp_archive);
  for (int64_t k = kTwoTo32 - 2; k <= kTwoTo32 + 2; ++k) {
    EXPECT_EQ(exponential.last_epoch(), k);
    expect_close(lr_of(*exp_optimizer),
                 0.1 * std::exp(static_cast<double>(k) * std::log1p(-epsilon)),
                 "exponential step " + std::to_string(k));
    exponential.step();
  }

  // CosineAnnealingLR, period 2 T_max = 2000: step 2^32 + j is step
  // 1296 + j of a period (2^32 = 2147483 * 2000 + 1296); a restart would be
  // at step j. Loose: the phase, ~1.35e7 radians, is rounded to ~1e-9.
  auto cos_optimizer = make_sgd({0.1});
  CosineAnnealingLR cosine(*cos_optimizer,
                           CosineAnnealingLROptions(1000).eta_min(0.001));
  auto cos_archive = state_at(cosine, kTwoTo32 - 2);
  cosine.load(cos_archive);
  for (int64_t j = -2; j <= 3; ++j) {
    const double phase = c10::pi<double> * static_cast<double>(1296 + j) / 1000;
    EXPECT_NEAR(
        lr_of(*cos_optimizer), 0.001 + 0.099 * (1 + std::cos(phase)) / 2, 1e-8)
        << "cosine step 2^32 + " << j;
    EXPECT_EQ(cosine.last_epoch(), kTwoTo32 + j);
    cosine.step();
  }
}

TEST(SchedulerTest, CompositesStepPastTwoTo32) {
  // with_warmup: 10 warm-up steps, then StepLR(2^31, 0.5) from its step 0;
  // step 2^32 + 10 is the StepLR's step 2^32: 0.1 * 0.25 (counted in 32
  // bits, it would be step 10: 0.1).
  auto optimizer = make_sgd({0.1});
  auto warmed =
      with_warmup(*optimizer,
                  std::make_shared<StepLR>(
                      *optimizer, StepLROptions(kTwoTo32 / 2).gamma(0.5)),
                  10);
  auto archive = state_at(warmed, kTwoTo32 + 8);
  warmed.load_step(archive);
  EXPECT_EQ(lr_of(*optimizer), 0.05);
  warmed.step();
  EXPECT_EQ(lr_of(*optimizer), 0.05);
  warmed.step();
  EXPECT_EQ(warmed.last_epoch(), kTwoTo32 + 10);
  EXPECT_EQ(lr_of(*optimizer), 0.025);

  // SequentialLR with a milestone past 2^32: ConstantLR (0.5 x for 3
  // steps, then 1 x) until 2^32 + 1, then ExponentialLR(0.5) from step 0.
  auto seq_optimizer = make_sgd({0.1});
  auto constant = std::make_shared<ConstantLR>(
      *seq_optimizer, ConstantLROptions().factor(0.5).total_iters(3));
  auto decay = std::make_shared<ExponentialLR>(*seq_optimizer, 0.5);
  SequentialLR sequential(*seq_optimizer, {constant, decay}, {kTwoTo32 + 1});
  auto seq_archive = state_at(sequential, kTwoTo32 - 1);
  sequential.load_step(seq_archive);
  const double expected[] = {0.1, 0.1, 0.1, 0.05, 0.025};
  for (const double lr : expected) {
    EXPECT_EQ(lr_of(*seq_optimizer), lr) << sequential.last_epoch();
    sequential.step();
  }
  EXPECT_EQ(sequential.last_epoch(), kTwoTo32 + 4);

  // ChainedScheduler: StepLR(2^31, 0.5) times StepLR(2^32 + 1, 2).
  auto chain_optimizer = make_sgd({0.1});
  auto halve = std::make_shared<StepLR>(*chain_optimizer,
                                        StepLROptions(kTwoTo32 / 2).gamma(0.5));
  auto grow = std::make_shared<StepLR>(*chain_optimizer,
                                       StepLROptions(kTwoTo32 + 1).gamma(2));
  ChainedScheduler chained(*chain_optimizer, {halve, grow});
  auto chain_archive = state_at(chained, kTwoTo32 - 1);
  chained.load_step(chain_archive);
  EXPECT_EQ(lr_of(*chain_optimizer), 0.05);
  chained.step();
  EXPECT_EQ(lr_of(*chain_optimizer), 0.025);
  chained.step();
  EXPECT_EQ(lr_of(*chain_optimizer), 0.05);
  EXPECT_EQ(chained.last_epoch(), kTwoTo32 + 1);
}

TEST(SchedulerTest, StepCountNeverWrapsAtInt64Max) {
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  auto optimizer = make_sgd({0.1});
  ExponentialLR scheduler(*optimizer, 0.9);
  for (const int64_t epoch : {kMax, int64_t{-1}}) {
    auto archive = state_at(scheduler, epoch);
    EXPECT_THAT(
        [&] { scheduler.load_step(archive); },
        ThrowsMessage<c10::Error>(HasSubstr(
            "ExponentialLR: the archive's last_epoch " + std::to_string(epoch) +
            " is out of range, expected [0, 9223372036854775806]")));
  }
  auto archive = state_at(scheduler, kMax - 1);
  scheduler.load_step(archive);
  EXPECT_EQ(scheduler.last_epoch(), kMax - 1);
  EXPECT_EQ(lr_of(*optimizer), 0.0);  // 0.1 * 0.9^(2^63 - 2) underflows
  optimizer->param_groups()[0].options().set_lr(0.1);
  EXPECT_THAT([&] { scheduler.step(); },
              ThrowsMessage<c10::Error>(HasSubstr(
                  "ExponentialLR: the step count would overflow int64 after "
                  "step 9223372036854775806")));
  EXPECT_EQ(scheduler.last_epoch(), kMax - 1);
  EXPECT_EQ(lr_of(*optimizer), 0.1);
}

}  // namespace
}  // namespace torchclr::test
