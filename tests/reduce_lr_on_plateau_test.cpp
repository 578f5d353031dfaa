// ReduceLROnPlateau against PyTorch 1.13's own on fixed metric sequences
// (tests/data/reference/plateau_*.csv), its option and metric checks, its
// state files, and as the last stage of a SequentialLR after a warm-up.

#include <gmock/gmock.h>
#include <torchclr/torchclr.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <iterator>
#include <limits>
#include <map>
#include <sstream>

#include "test_util.h"

namespace torchclr::test {
namespace {

using ::testing::HasSubstr;
using ::testing::ThrowsMessage;

std::vector<double> lrs_of(const torch::optim::Optimizer& optimizer) {
  std::vector<double> lrs;
  for (const auto& group : optimizer.param_groups()) {
    lrs.push_back(group.options().get_lr());
  }
  return lrs;
}

void expect_same_state(const PlateauState& actual,
                       const PlateauState& expected) {
  EXPECT_EQ(actual.best, expected.best);
  EXPECT_EQ(actual.num_bad_epochs, expected.num_bad_epochs);
  EXPECT_EQ(actual.cooldown_counter, expected.cooldown_counter);
  EXPECT_EQ(actual.lrs, expected.lrs);
}

// A case of generate_reference.py's reduce_lr_on_plateau_cases(), with the
// same optimizer LRs, options and LRs set by hand.
struct ReferenceCase {
  std::string name;
  std::vector<double> lrs;
  ReduceLROnPlateauOptions options;
  /// step -> the LR of each group, set just before that step's step(metric).
  std::map<int64_t, std::vector<double>> manual_lrs = {};
};

void PrintTo(const ReferenceCase& c, std::ostream* out) {
  *out << c.name;
}

class ReduceLROnPlateauReferenceTest
    : public ::testing::TestWithParam<ReferenceCase> {};

TEST_P(ReduceLROnPlateauReferenceTest, MatchesPyTorch) {
  const auto& param = GetParam();
  const Reference ref = load_reference(param.name);
  auto column = [&](const std::string& name) {
    const auto it = std::find(ref.columns.begin(), ref.columns.end(), name);
    EXPECT_NE(it, ref.columns.end()) << param.name << ": no column " << name;
    return static_cast<std::size_t>(it - ref.columns.begin());
  };
  ASSERT_EQ(ref.num_groups, param.lrs.size());
  const auto metric = column("metric");
  const auto best = column("best");
  const auto bad = column("num_bad_epochs");
  const auto cooldown = column("cooldown_counter");

  auto optimizer = make_sgd(param.lrs);
  ReduceLROnPlateau scheduler(*optimizer, param.options);
  int compared = 0;
  for (const auto& [step, row] : ref.rows) {
    const std::string where = param.name + " step " + std::to_string(step);
    if (step > 0) {
      const auto manual = param.manual_lrs.find(step);
      if (manual != param.manual_lrs.end()) {
        for (std::size_t g = 0; g < ref.num_groups; ++g) {
          optimizer->param_groups()[g].options().set_lr(manual->second[g]);
        }
      }
      scheduler.step(row[metric]);
    }
    ASSERT_EQ(scheduler.last_epoch(), step) << where;
    for (std::size_t g = 0; g < ref.num_groups; ++g) {
      const std::string group = where + " group " + std::to_string(g);
      expect_close(optimizer->param_groups()[g].options().get_lr(),
                   row[g],
                   group + " lr");
      expect_close(scheduler.get_last_lr()[g], row[g], group + " last lr");
      ++compared;
    }
    const auto state = scheduler.plateau_state();
    if (std::isinf(row[best])) {
      EXPECT_EQ(state.best, row[best]) << where;
    } else {
      expect_close(state.best, row[best], where + " best");
    }
    EXPECT_EQ(state.num_bad_epochs, static_cast<int64_t>(row[bad])) << where;
    EXPECT_EQ(state.cooldown_counter, static_cast<int64_t>(row[cooldown]))
        << where;
  }
  EXPECT_GT(compared, 20);
}

INSTANTIATE_TEST_SUITE_P(
    PyTorch,
    ReduceLROnPlateauReferenceTest,
    ::testing::Values(
        ReferenceCase{"plateau_min_rel_groups",
                      {0.1, 0.05, 0.01},
                      ReduceLROnPlateauOptions()
                          .factor(0.5)
                          .patience(2)
                          .threshold(0.01)
                          .cooldown(1)
                          .min_lr({0.001, 0.02, 0.0099999})
                          .eps(1e-6)},
        ReferenceCase{"plateau_max_abs",
                      {0.2, 0.02},
                      ReduceLROnPlateauOptions()
                          .mode(PlateauMode::kMax)
                          .factor(0.3)
                          .patience(0)
                          .threshold(0.05)
                          .threshold_mode(ThresholdMode::kAbs)
                          .cooldown(2)
                          .min_lr(0.005)},
        ReferenceCase{"plateau_min_abs_eps",
                      {1.0, 0.01},
                      ReduceLROnPlateauOptions()
                          .factor(0.9)
                          .patience(1)
                          .threshold(0.1)
                          .threshold_mode(ThresholdMode::kAbs)
                          .min_lr({0.0, 0.0095})
                          .eps(1e-3)},
        ReferenceCase{"plateau_max_rel_negative",
                      {0.1, 0.3},
                      ReduceLROnPlateauOptions()
                          .mode(PlateauMode::kMax)
                          .patience(3)
                          .threshold(0.1)
                          .cooldown(1)
                          .min_lr({1e-4, 0.0})},
        ReferenceCase{
            "plateau_defaults", {0.1, 0.01}, ReduceLROnPlateauOptions()},
        ReferenceCase{
            "plateau_manual_lr",
            {0.1, 0.05},
            ReduceLROnPlateauOptions().factor(0.5).patience(1).min_lr({0.001,
                                                                       0.03}),
            {{5, {0.5, 0.02}}, {10, {0.004, 0.2}}, {16, {0.3, 0.001}}}}),
    [](const auto& info) { return info.param.name; });

TEST(ReduceLROnPlateauTest, FreeFunctionsFollowPyTorch) {
  EXPECT_TRUE(plateau_is_better(
      PlateauMode::kMin, ThresholdMode::kRel, 0.1, 0.89, 1.0));
  EXPECT_FALSE(
      plateau_is_better(PlateauMode::kMin, ThresholdMode::kRel, 0.1, 0.9, 1.0));
  EXPECT_TRUE(
      plateau_is_better(PlateauMode::kMin, ThresholdMode::kAbs, 0.5, 1.0, 2.0));
  EXPECT_TRUE(
      plateau_is_better(PlateauMode::kMax, ThresholdMode::kAbs, 0.5, 2.6, 2.0));
  EXPECT_FALSE(
      plateau_is_better(PlateauMode::kMax, ThresholdMode::kRel, 0.5, 3.0, 2.0));
  EXPECT_TRUE(plateau_is_better(
      PlateauMode::kMin, ThresholdMode::kRel, 1e-4, 1e300, kInf));
  // 0.1 * 0.5 = 0.05, above min_lr; a reduction of 0.0 or <= eps is skipped.
  EXPECT_EQ(plateau_reduced_lr(0.1, 0.5, 0.0, 1e-8), 0.05);
  EXPECT_EQ(plateau_reduced_lr(0.1, 0.5, 0.08, 1e-8), 0.08);
  EXPECT_EQ(plateau_reduced_lr(0.1, 0.5, 0.2, 1e-8), 0.1);
  EXPECT_EQ(plateau_reduced_lr(0.1, 0.5, 0.0, 0.06), 0.1);
}

struct BadOptions {
  std::string name;
  std::function<ReduceLROnPlateauOptions()> options;
  std::string message;
};

void PrintTo(const BadOptions& c, std::ostream* out) {
  *out << c.message;
}

class ReduceLROnPlateauBadOptionsTest
    : public ::testing::TestWithParam<BadOptions> {};

TEST_P(ReduceLROnPlateauBadOptionsTest, ThrowsNamingClassOptionAndValue) {
  auto optimizer = make_sgd({0.1});
  EXPECT_THAT(
      [&] { ReduceLROnPlateau scheduler(*optimizer, GetParam().options()); },
      ThrowsMessage<c10::Error>(HasSubstr(GetParam().message)));
  EXPECT_EQ(lrs_of(*optimizer), std::vector<double>{0.1});
}

INSTANTIATE_TEST_SUITE_P(
    Options,
    ReduceLROnPlateauBadOptionsTest,
    ::testing::Values(
        BadOptions{"factor_one",
                   [] { return ReduceLROnPlateauOptions().factor(1.0); },
                   "ReduceLROnPlateau: factor must be in (0, 1), got 1"},
        BadOptions{"factor_zero",
                   [] { return ReduceLROnPlateauOptions().factor(0.0); },
                   "ReduceLROnPlateau: factor must be in (0, 1), got 0"},
        BadOptions{"factor_nan",
                   [] { return ReduceLROnPlateauOptions().factor(kNaN); },
                   "ReduceLROnPlateau: factor must be in (0, 1), got nan"},
        BadOptions{"patience",
                   [] { return ReduceLROnPlateauOptions().patience(-1); },
                   "ReduceLROnPlateau: patience must be >= 0, got -1"},
        BadOptions{"cooldown",
                   [] { return ReduceLROnPlateauOptions().cooldown(-2); },
                   "ReduceLROnPlateau: cooldown must be >= 0, got -2"},
        BadOptions{
            "threshold_negative",
            [] { return ReduceLROnPlateauOptions().threshold(-0.1); },
            "ReduceLROnPlateau: threshold must be a finite number >= 0, got "
            "-0.1"},
        BadOptions{
            "threshold_inf",
            [] { return ReduceLROnPlateauOptions().threshold(kInf); },
            "ReduceLROnPlateau: threshold must be a finite number >= 0, got "
            "inf"},
        BadOptions{"threshold_min_rel",
                   [] { return ReduceLROnPlateauOptions().threshold(1.0); },
                   "ReduceLROnPlateau: threshold must be < 1 in min mode with "
                   "relative threshold_mode, got 1"},
        BadOptions{"eps",
                   [] { return ReduceLROnPlateauOptions().eps(-1e-8); },
                   "ReduceLROnPlateau: eps must be a finite number >= 0, got "
                   "-1e-08"},
        BadOptions{"min_lr_negative",
                   [] { return ReduceLROnPlateauOptions().min_lr(-0.5); },
                   "ReduceLROnPlateau: min_lr must be a finite number >= 0, "
                   "got -0.5"},
        BadOptions{
            "min_lr_count",
            [] {
              return ReduceLROnPlateauOptions().min_lr({0.1, 0.2});
            },
            "ReduceLROnPlateau: min_lr must have one value or one per param "
            "group (1), got 2"},
        BadOptions{"mode",
                   [] {
                     return ReduceLROnPlateauOptions().mode(
                         static_cast<PlateauMode>(7));
                   },
                   "ReduceLROnPlateau: mode must be kMin or kMax, got 7"},
        BadOptions{"threshold_mode",
                   [] {
                     return ReduceLROnPlateauOptions().threshold_mode(
                         static_cast<ThresholdMode>(-1));
                   },
                   "ReduceLROnPlateau: threshold_mode must be kRel or kAbs, "
                   "got -1"}),
    [](const auto& info) { return info.param.name; });

TEST(ReduceLROnPlateauTest, OptimizerLRMustBePositive) {
  auto optimizer = make_sgd({0.0});
  EXPECT_THAT([&] { ReduceLROnPlateau scheduler(*optimizer); },
              ThrowsMessage<c10::Error>(
                  HasSubstr("ReduceLROnPlateau: the optimizer's lr must be a "
                            "finite number > 0, got 0")));
}

TEST(ReduceLROnPlateauTest, NonFiniteMetricIsRefusedAndChangesNothing) {
  auto optimizer = make_sgd({0.1, 0.2});
  ReduceLROnPlateau scheduler(*optimizer,
                              ReduceLROnPlateauOptions().patience(0));
  scheduler.step(1.0);
  const auto before = scheduler.plateau_state();
  for (const double metric : {kNaN, kInf, -kInf}) {
    EXPECT_THAT([&] { scheduler.step(metric); },
                ThrowsMessage<c10::Error>(
                    HasSubstr("ReduceLROnPlateau: the metric must be finite, "
                              "got ")));
    expect_same_state(scheduler.plateau_state(), before);
    EXPECT_EQ(scheduler.last_epoch(), 1);
    EXPECT_EQ(lrs_of(*optimizer), (std::vector<double>{0.1, 0.2}));
  }
  EXPECT_THAT([&] { scheduler.step(kNaN); },
              ThrowsMessage<c10::Error>(HasSubstr("got nan")));
  // PyTorch would count NaN as a bad epoch and, with patience 0, reduce.
  scheduler.step(1.0);
  EXPECT_EQ(lrs_of(*optimizer), (std::vector<double>{0.1 * 0.1, 0.2 * 0.1}));
}

TEST(ReduceLROnPlateauTest, StepWithoutMetricKeepsTheLR) {
  auto optimizer = make_sgd({0.1});
  ReduceLROnPlateau scheduler(*optimizer,
                              ReduceLROnPlateauOptions().patience(0));
  scheduler.step(1.0);
  scheduler.step(1.0);
  ASSERT_EQ(scheduler.get_last_lr(), std::vector<double>{0.1 * 0.1});
  const auto before = scheduler.plateau_state();
  torch::optim::LRScheduler& base = scheduler;
  for (int i = 0; i < 5; ++i) {
    base.step();
    scheduler.step();
  }
  EXPECT_EQ(lrs_of(*optimizer), std::vector<double>{0.1 * 0.1});
  EXPECT_EQ(scheduler.last_epoch(), 12);
  expect_same_state(scheduler.plateau_state(), before);
}

const std::vector<double> kMetrics = {
    5.0, 4.0, 4.0, 4.0, 3.0, 3.5, 3.5, 3.5, 3.5, 3.5, 2.0, 2.0, 2.0, 2.0};

ReduceLROnPlateauOptions resumable_options() {
  return ReduceLROnPlateauOptions().factor(0.5).patience(1).cooldown(1).min_lr(
      {0.01, 0.002});
}

TEST(ReduceLROnPlateauTest, SaveMidRunLoadFreshContinuesIdentically) {
  TempDir dir;
  const auto path = dir.file("plateau.pt");
  auto optimizer = make_sgd({0.1, 0.2});
  ReduceLROnPlateau scheduler(*optimizer, resumable_options());
  const std::size_t saved_at = 9;  // one bad epoch into a plateau
  for (std::size_t i = 0; i < saved_at; ++i) {
    scheduler.step(kMetrics[i]);
  }
  ASSERT_EQ(scheduler.plateau_state().num_bad_epochs, 1);
  ASSERT_NE(scheduler.get_last_lr(), (std::vector<double>{0.1, 0.2}));
  torch::save(scheduler, path);

  // Built on an optimizer with other LRs: the archive's are taken.
  auto fresh_optimizer = make_sgd({0.3, 0.3});
  ReduceLROnPlateau fresh(*fresh_optimizer, resumable_options());
  torch::load(fresh, path);
  EXPECT_EQ(fresh.last_epoch(), scheduler.last_epoch());
  EXPECT_EQ(fresh.base_lrs(), scheduler.base_lrs());
  expect_same_state(fresh.plateau_state(), scheduler.plateau_state());
  EXPECT_EQ(lrs_of(*fresh_optimizer), lrs_of(*optimizer));
  for (std::size_t i = saved_at; i < kMetrics.size(); ++i) {
    scheduler.step(kMetrics[i]);
    fresh.step(kMetrics[i]);
    EXPECT_EQ(lrs_of(*fresh_optimizer), lrs_of(*optimizer)) << i;
    expect_same_state(fresh.plateau_state(), scheduler.plateau_state());
    EXPECT_EQ(fresh.last_epoch(), scheduler.last_epoch());
  }
  // Halved four times, group 0 held at its min_lr.
  expect_close(lrs_of(*optimizer)[0], 0.01, "final group 0");
  expect_close(lrs_of(*optimizer)[1], 0.0125, "final group 1");
}

TEST(ReduceLROnPlateauTest, LoadRefusesOtherOptionsChangingNothing) {
  TempDir dir;
  const auto path = dir.file("plateau.pt");
  auto optimizer = make_sgd({0.1, 0.2});
  ReduceLROnPlateau scheduler(*optimizer, resumable_options());
  scheduler.step(1.0);
  torch::save(scheduler, path);

  auto other_optimizer = make_sgd({0.3, 0.3});
  ReduceLROnPlateau other(*other_optimizer,
                          resumable_options().mode(PlateauMode::kMax));
  other.step(1.0);
  other.step(0.5);
  const auto before = other.plateau_state();
  EXPECT_THAT(
      [&] { torch::load(other, path); },
      ThrowsMessage<c10::Error>(HasSubstr(
          "ReduceLROnPlateau: the archive was saved with other options: saved "
          "'mode=min;")));
  expect_same_state(other.plateau_state(), before);
  EXPECT_EQ(other.last_epoch(), 2);
  EXPECT_EQ(lrs_of(*other_optimizer), (std::vector<double>{0.3, 0.3}));

  ExponentialLR exponential(*make_sgd({0.1, 0.2}), 0.9);
  torch::save(exponential, path);
  EXPECT_THAT([&] { torch::load(other, path); },
              ThrowsMessage<c10::Error>(HasSubstr(
                  "ReduceLROnPlateau: the archive holds the state of a "
                  "ExponentialLR, not a ReduceLROnPlateau")));
  expect_same_state(other.plateau_state(), before);
}

// Warm-up (LinearLR over 5 steps from 0.1 x) then ReduceLROnPlateau(factor
// 0.5, patience 1) from the base LRs [0.1, 0.2].
std::unique_ptr<SequentialLR> warmup_then_plateau(
    torch::optim::Optimizer& optimizer) {
  auto warmup = std::make_shared<LinearLR>(
      optimizer, LinearLROptions().start_factor(0.1).total_iters(5));
  auto plateau = std::make_shared<ReduceLROnPlateau>(
      optimizer, ReduceLROnPlateauOptions().factor(0.5).patience(1));
  return std::make_unique<SequentialLR>(
      optimizer,
      std::vector<std::shared_ptr<Scheduler>>{warmup, plateau},
      std::vector<int64_t>{5});
}

TEST(SequentialLRTest, WarmupThenPlateauReducesOnTheMetric) {
  auto optimizer = make_sgd({0.1, 0.2});
  auto scheduler = warmup_then_plateau(*optimizer);
  auto expect_lrs = [&](double scale, const std::string& where) {
    expect_close(optimizer->param_groups()[0].options().get_lr(),
                 0.1 * scale,
                 where + " group 0");
    expect_close(optimizer->param_groups()[1].options().get_lr(),
                 0.2 * scale,
                 where + " group 1");
  };
  // Warm-up: base * (0.1 + 0.9 k / 5). The warm-up's metrics (steadily
  // worse, which would trigger reductions) are not the plateau's.
  expect_lrs(0.1, "step 0");
  const double ramp[] = {0.28, 0.46, 0.64, 0.82};
  for (int k = 1; k <= 4; ++k) {
    scheduler->step(10.0 * k);
    expect_lrs(ramp[k - 1], "step " + std::to_string(k));
  }
  // Step 5: the plateau takes over from the base LRs; the metric of warm-up
  // step 4 is not given to it.
  scheduler->step(100.0);
  expect_lrs(1.0, "step 5");
  // best 1.0; bad 1; bad 2 > patience: x0.5; better; bad 1; bad 2: x0.5.
  const double metrics[] = {1.0, 1.0, 1.0, 0.5, 0.6, 0.6};
  const double scales[] = {1.0, 1.0, 0.5, 0.5, 0.5, 0.25};
  for (int i = 0; i < 6; ++i) {
    scheduler->step(metrics[i]);
    expect_lrs(scales[i], "step " + std::to_string(6 + i));
  }
  // Without a metric the step advances and the LR stays.
  scheduler->step();
  expect_lrs(0.25, "step 12");
  EXPECT_EQ(scheduler->last_epoch(), 12);
  EXPECT_THAT([&] { scheduler->step(kNaN); },
              ThrowsMessage<c10::Error>(HasSubstr(
                  "SequentialLR: the metric must be finite, got nan")));
  EXPECT_EQ(scheduler->last_epoch(), 12);
  expect_lrs(0.25, "after NaN");
}

TEST(SequentialLRTest, WarmupThenPlateauSaveLoadRoundTrips) {
  TempDir dir;
  const auto path = dir.file("sequential.pt");
  auto optimizer = make_sgd({0.1, 0.2});
  auto scheduler = warmup_then_plateau(*optimizer);
  const double metrics[] = {
      9, 9, 9, 9, 9, 1.0, 1.0, 1.0, 0.5, 0.6, 0.6, 0.6, 0.4, 0.4, 0.4, 0.4};
  const std::size_t saved_at = 10;  // plateau: one bad epoch, LR halved once
  for (std::size_t i = 0; i < saved_at; ++i) {
    scheduler->step(metrics[i]);
  }
  torch::save(*scheduler, path);

  auto fresh_optimizer = make_sgd({0.1, 0.2});
  auto fresh = warmup_then_plateau(*fresh_optimizer);
  torch::load(*fresh, path);
  EXPECT_EQ(fresh->last_epoch(), scheduler->last_epoch());
  EXPECT_EQ(lrs_of(*fresh_optimizer), lrs_of(*optimizer));
  for (std::size_t i = saved_at; i < std::size(metrics); ++i) {
    scheduler->step(metrics[i]);
    fresh->step(metrics[i]);
    EXPECT_EQ(lrs_of(*fresh_optimizer), lrs_of(*optimizer)) << i;
  }
  // Two more halvings after the load: the saved bad-epoch count counted.
  expect_close(lrs_of(*fresh_optimizer)[0], 0.0125, "final group 0");

  // An archive of other plateau options refuses the whole load.
  auto other_optimizer = make_sgd({0.1, 0.2});
  auto warmup = std::make_shared<LinearLR>(
      *other_optimizer, LinearLROptions().start_factor(0.1).total_iters(5));
  auto plateau = std::make_shared<ReduceLROnPlateau>(
      *other_optimizer, ReduceLROnPlateauOptions().factor(0.5).patience(0));
  SequentialLR other(*other_optimizer, {warmup, plateau}, {5});
  EXPECT_THAT([&] { torch::load(other, path); },
              ThrowsMessage<c10::Error>(HasSubstr(
                  "SequentialLR: the archive was saved with other options")));
  EXPECT_EQ(other.last_epoch(), 0);
  expect_close(lrs_of(*other_optimizer)[0], 0.01, "refused load");
}

// PyTorch's _reduce_lr multiplies the LR the group holds when the reduction
// is due, so an LR set by hand stays, through steps with and without a
// metric, until then (the PyTorch sequence is plateau_manual_lr).
TEST(ReduceLROnPlateauTest, LRChangedByHandStaysUntilTheNextReduction) {
  auto optimizer = make_sgd({0.1, 0.2});
  ReduceLROnPlateau scheduler(
      *optimizer,
      ReduceLROnPlateauOptions().factor(0.5).patience(1).min_lr({0.0, 0.15}));
  scheduler.step(1.0);
  optimizer->param_groups()[0].options().set_lr(0.7);
  optimizer->param_groups()[1].options().set_lr(0.1);
  torch::optim::LRScheduler& base = scheduler;
  base.step();
  scheduler.step();
  scheduler.step(1.0);  // one bad epoch: no reduction
  EXPECT_EQ(lrs_of(*optimizer), (std::vector<double>{0.7, 0.1}));
  EXPECT_EQ(scheduler.get_last_lr(), (std::vector<double>{0.7, 0.1}));
  EXPECT_EQ(scheduler.plateau_state().lrs, (std::vector<double>{0.7, 0.1}));
  // Two bad epochs: 0.7 * 0.5; group 1 is below its min_lr, where it stays.
  scheduler.step(1.0);
  EXPECT_EQ(lrs_of(*optimizer), (std::vector<double>{0.35, 0.1}));
  EXPECT_EQ(scheduler.get_last_lr(), (std::vector<double>{0.35, 0.1}));
  EXPECT_EQ(scheduler.last_epoch(), 5);
}

// An LR raised by hand above the base LR is saved and loaded (the archive's
// LRs were bounded by the base LRs before).
TEST(ReduceLROnPlateauTest, LRRaisedByHandIsSavedAndLoaded) {
  TempDir dir;
  const auto path = dir.file("plateau.pt");
  auto optimizer = make_sgd({0.1, 0.2});
  ReduceLROnPlateau scheduler(*optimizer, resumable_options());
  scheduler.step(1.0);
  optimizer->param_groups()[1].options().set_lr(0.9);
  scheduler.step(1.0);
  torch::save(scheduler, path);

  auto fresh_optimizer = make_sgd({0.1, 0.2});
  ReduceLROnPlateau fresh(*fresh_optimizer, resumable_options());
  torch::load(fresh, path);
  EXPECT_EQ(lrs_of(*fresh_optimizer), (std::vector<double>{0.1, 0.9}));
  expect_same_state(fresh.plateau_state(), scheduler.plateau_state());
  // The second bad epoch halves both.
  fresh.step(1.0);
  EXPECT_EQ(lrs_of(*fresh_optimizer), (std::vector<double>{0.05, 0.45}));
}

// The archive `Scheduler::save` writes (format 2), at `last_epoch`, key by
// key: for values the code would not write, or a step no test can reach.
torch::serialize::OutputArchive base_archive(const Scheduler& scheduler,
                                             int64_t last_epoch) {
  torch::serialize::OutputArchive out;
  out.write("torchclr_format_version", c10::IValue(int64_t{2}));
  out.write("policy", c10::IValue(scheduler.name()));
  out.write("num_param_groups",
            c10::IValue(static_cast<int64_t>(scheduler.num_groups())));
  out.write("last_epoch", c10::IValue(last_epoch));
  out.write("base_lrs", torch::tensor(scheduler.base_lrs(), torch::kFloat64));
  out.write("options", c10::IValue(scheduler.options_text()));
  return out;
}

torch::serialize::InputArchive readable(torch::serialize::OutputArchive& out) {
  std::stringstream bytes;
  out.save_to(bytes);
  torch::serialize::InputArchive in;
  in.load_from(bytes);
  return in;
}

// `base_archive` and a plateau state: best 1.0, no bad epoch, no cooldown.
torch::serialize::InputArchive plateau_archive(
    const ReduceLROnPlateau& scheduler,
    int64_t last_epoch,
    const std::vector<double>& lrs) {
  auto out = base_archive(scheduler, last_epoch);
  out.write("plateau_best", c10::IValue(1.0));
  out.write("plateau_num_bad_epochs", c10::IValue(int64_t{0}));
  out.write("plateau_cooldown_counter", c10::IValue(int64_t{0}));
  out.write("plateau_lrs", torch::tensor(lrs, torch::kFloat64));
  return readable(out);
}

TEST(ReduceLROnPlateauTest, LoadRefusesNegativeOrNonFiniteLRs) {
  auto optimizer = make_sgd({0.1, 0.2});
  ReduceLROnPlateau scheduler(*optimizer, resumable_options());
  for (const double lr : {-0.1, kNaN, kInf}) {
    auto archive = plateau_archive(scheduler, 3, {0.1, lr});
    EXPECT_THAT([&] { scheduler.load(archive); },
                ThrowsMessage<c10::Error>(
                    HasSubstr("ReduceLROnPlateau: the archive's plateau_lrs "
                              "holds ")));
    EXPECT_EQ(lrs_of(*optimizer), (std::vector<double>{0.1, 0.2}));
    EXPECT_EQ(scheduler.last_epoch(), 0);
  }
  auto archive = plateau_archive(scheduler, 0, {0.0, 3.0});
  scheduler.load(archive);
  EXPECT_EQ(lrs_of(*optimizer), (std::vector<double>{0.0, 3.0}));
}

// The step count is 64-bit here too: past 2^32 steps the plateau keeps its
// LRs and counts on, and a SequentialLR stays in its plateau stage (counted
// in 32 bits, it would be back in the warm-up).
TEST(ReduceLROnPlateauTest, StepsPastTwoTo32) {
  constexpr int64_t kTwoTo32 = int64_t{1} << 32;
  auto optimizer = make_sgd({0.1});
  ReduceLROnPlateau scheduler(
      *optimizer, ReduceLROnPlateauOptions().factor(0.5).patience(0));
  auto archive = plateau_archive(scheduler, kTwoTo32 - 2, {0.01});
  scheduler.load(archive);
  EXPECT_EQ(lrs_of(*optimizer), std::vector<double>{0.01});
  scheduler.step(2.0);  // worse than 1.0: halved
  scheduler.step();
  EXPECT_EQ(scheduler.last_epoch(), kTwoTo32);
  EXPECT_EQ(lrs_of(*optimizer), std::vector<double>{0.005});
  scheduler.step(2.0);
  EXPECT_EQ(scheduler.last_epoch(), kTwoTo32 + 1);
  EXPECT_EQ(lrs_of(*optimizer), std::vector<double>{0.0025});

  // warmup_then_plateau's plateau stage from step 5 on. load_step takes
  // only the step: the LRs are the param groups', as a restored optimizer
  // would hold them.
  auto sequential_optimizer = make_sgd({0.1, 0.2});
  auto sequential = warmup_then_plateau(*sequential_optimizer);
  sequential_optimizer->param_groups()[0].options().set_lr(0.03);
  sequential_optimizer->param_groups()[1].options().set_lr(0.06);
  auto out = base_archive(*sequential, kTwoTo32 - 2);
  auto sequential_archive = readable(out);
  sequential->load_step(sequential_archive);
  sequential->step(1.0);  // the plateau's first metric: the best
  sequential->step(1.0);  // one bad epoch
  EXPECT_EQ(sequential->last_epoch(), kTwoTo32);
  EXPECT_EQ(lrs_of(*sequential_optimizer), (std::vector<double>{0.03, 0.06}));
  sequential->step(1.0);  // two: halved
  EXPECT_EQ(sequential->last_epoch(), kTwoTo32 + 1);
  EXPECT_EQ(lrs_of(*sequential_optimizer), (std::vector<double>{0.015, 0.03}));
}

// Archives written before the LR was read from the param groups (commit
// 654e603, format 2) load and continue as they did.
TEST(ReduceLROnPlateauTest, ArchivesFromBeforeManualLRsLoad) {
  const std::string dir = test_data_path("archives/");
  {
    // resumable_options() after the metrics 5, 4, 4, 4, 3, 3.5 x 4: halved at
    // steps 4 and 7, best 3, one bad epoch, no cooldown left.
    auto optimizer = make_sgd({0.3, 0.3});
    ReduceLROnPlateau scheduler(*optimizer, resumable_options());
    torch::load(scheduler, dir + "reduce_lr_on_plateau_step9.pt");
    EXPECT_EQ(scheduler.last_epoch(), 9);
    EXPECT_EQ(scheduler.base_lrs(), (std::vector<double>{0.1, 0.2}));
    EXPECT_EQ(lrs_of(*optimizer), (std::vector<double>{0.025, 0.05}));
    const auto state = scheduler.plateau_state();
    EXPECT_EQ(state.best, 3.0);
    EXPECT_EQ(state.num_bad_epochs, 1);
    EXPECT_EQ(state.cooldown_counter, 0);
    scheduler.step(3.5);  // the second bad epoch
    EXPECT_EQ(lrs_of(*optimizer), (std::vector<double>{0.0125, 0.025}));
  }
  {
    // warmup_then_plateau after the metrics 9 x 5, 1, 1, 1, 0.5, 0.6: halved
    // at step 8, one bad epoch.
    auto optimizer = make_sgd({0.1, 0.2});
    auto scheduler = warmup_then_plateau(*optimizer);
    torch::load(*scheduler, dir + "sequential_lr_plateau_step10.pt");
    EXPECT_EQ(scheduler->last_epoch(), 10);
    EXPECT_EQ(lrs_of(*optimizer), (std::vector<double>{0.05, 0.1}));
    scheduler->step(0.6);
    EXPECT_EQ(lrs_of(*optimizer), (std::vector<double>{0.025, 0.05}));
  }
}

}  // namespace
}  // namespace torchclr::test
