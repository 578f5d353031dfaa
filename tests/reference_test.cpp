// Every policy against PyTorch 1.13's own scheduler of the same name: the
// sequences in tests/data/reference/ come from generate_reference.py there.

#include <torchclr/torchclr.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "scheduler_texts.h"
#include "test_util.h"

namespace torchclr::test {
namespace {

double momentum_of(const torch::optim::OptimizerOptions& options) {
  if (auto* sgd = dynamic_cast<const torch::optim::SGDOptions*>(&options)) {
    return sgd->momentum();
  }
  if (auto* rms = dynamic_cast<const torch::optim::RMSpropOptions*>(&options)) {
    return rms->momentum();
  }
  return std::get<0>(
      dynamic_cast<const torch::optim::AdamOptions&>(options).betas());
}

// Steps `scheduler` to the reference's last step, through the LibTorch base
// class, and compares the optimizer's LR and momentum at every recorded step.
// Returns the number of compared values so a test cannot pass vacuously.
int compare(const std::string& name,
            torch::optim::Optimizer& optimizer,
            torch::optim::LRScheduler& scheduler,
            int64_t last_step = -1) {
  const Reference ref = load_reference(name);
  EXPECT_EQ(optimizer.param_groups().size(), ref.num_groups) << name;
  if (last_step < 0) {
    last_step = ref.last_step;
  }
  int compared = 0;
  for (int64_t step = 0; step <= last_step; ++step) {
    if (step > 0) {
      scheduler.step();
    }
    auto row = ref.rows.find(step);
    if (row == ref.rows.end()) {
      continue;
    }
    for (std::size_t g = 0; g < ref.num_groups; ++g) {
      const auto& options = optimizer.param_groups()[g].options();
      const std::string where = name + " step " + std::to_string(step) +
                                " group " + std::to_string(g);
      expect_close(options.get_lr(), row->second[g], where + " lr");
      ++compared;
      if (ref.has_momentum) {
        expect_close(momentum_of(options),
                     row->second[ref.num_groups + g],
                     where + " momentum");
        ++compared;
      }
    }
  }
  EXPECT_GT(compared, 0) << name;
  return compared;
}

TEST(CyclicLRTest, TriangularMatchesPyTorch) {
  auto optimizer = make_sgd({0.1});
  CyclicLR scheduler(*optimizer,
                     CyclicLROptions(0.001, 0.006).step_size_up(20));
  compare("cyclic_triangular", *optimizer, scheduler);
}

TEST(CyclicLRTest, AsymmetricPerGroupBoundsMatchPyTorch) {
  auto optimizer = make_sgd({0.1, 0.1});
  CyclicLR scheduler(*optimizer,
                     CyclicLROptions({0.001, 0.01}, {0.006, 0.05})
                         .step_size_up(7)
                         .step_size_down(13)
                         .base_momentum({0.8, 0.85})
                         .max_momentum({0.9, 0.95}));
  compare("cyclic_triangular_asymmetric_groups", *optimizer, scheduler);
}

TEST(CyclicLRTest, Triangular2MatchesPyTorch) {
  auto optimizer = make_sgd({0.1, 0.1, 0.1});
  CyclicLR scheduler(*optimizer,
                     CyclicLROptions(0.001, 0.005)
                         .step_size_up(10)
                         .mode(CyclicMode::kTriangular2));
  compare("cyclic_triangular2", *optimizer, scheduler);
}

TEST(CyclicLRTest, ExpRangeMatchesPyTorch) {
  auto optimizer = make_sgd({0.1});
  CyclicLR scheduler(*optimizer,
                     CyclicLROptions(0.001, 0.006)
                         .step_size_up(10)
                         .mode(CyclicMode::kExpRange)
                         .gamma(0.99));
  compare("cyclic_exp_range", *optimizer, scheduler);
}

// PyTorch's form with Table 1's settings; the paper's own form
// (kExpRangePaper) has no PyTorch counterpart: cyclic_lr_test.cpp checks it.
TEST(CyclicLRTest, ExpRangeWithTable1SettingsOver42000StepsMatchesPyTorch) {
  auto optimizer = make_sgd({0.1});
  CyclicLR scheduler(*optimizer,
                     CyclicLROptions(0.001, 0.006)
                         .step_size_up(2000)
                         .mode(CyclicMode::kExpRange)
                         .gamma(0.99994));
  compare("cyclic_exp_range_table1_settings", *optimizer, scheduler);
}

// ---- exp_range with gamma > 1 (issues 16 and 20) ----
TEST(CyclicLRTest, ExpRangeWithGammaAboveOneMatchesPyTorch) {
  auto optimizer = make_sgd({0.1, 0.1});
  CyclicLR scheduler(*optimizer,
                     CyclicLROptions({0.001, 0.002}, {0.006, 0.004})
                         .step_size_up(2000)
                         .step_size_down(1500)
                         .mode(CyclicMode::kExpRange)
                         .gamma(1.0001)
                         .base_momentum({0.8, 0.85})
                         .max_momentum({0.9, 0.95}));
  EXPECT_EQ(compare("cyclic_exp_range_gamma_above_one", *optimizer, scheduler),
            542 * 4);
  // The amplitude grew past max_lr, as in PyTorch.
  EXPECT_GT(scheduler.lr_at(19250, 0), 0.006 * 4);
}
// ---- end of exp_range with gamma > 1 ----

TEST(CyclicLRTest, WithoutMomentumCyclingLeavesMomentumAlone) {
  auto optimizer = make_sgd({0.1}, 0.5);
  CyclicLR scheduler(
      *optimizer,
      CyclicLROptions(0.01, 0.1).step_size_up(5).cycle_momentum(false));
  compare("cyclic_no_momentum", *optimizer, scheduler);
  EXPECT_TRUE(scheduler.get_last_momentum().empty());
}

TEST(CyclicLRTest, RMSpropMomentumMatchesPyTorch) {
  auto optimizer = make_optimizer<torch::optim::RMSprop>(
      {0.1}, torch::optim::RMSpropOptions(0.1).momentum(0.9));
  CyclicLR scheduler(*optimizer,
                     CyclicLROptions(0.001, 0.01)
                         .step_size_up(6)
                         .base_momentum(0.7)
                         .max_momentum(0.95));
  compare("cyclic_rmsprop", *optimizer, scheduler);
}

TEST(CyclicLRTest, ScaleFnOverIterationsMatchesPyTorch) {
  auto optimizer = make_sgd({0.1});
  CyclicLR scheduler(
      *optimizer,
      CyclicLROptions(0.001, 0.01)
          .step_size_up(8)
          .scale_fn([](double x) { return 1.0 / (1.0 + 0.01 * x); })
          .scale_mode(ScaleMode::kIterations));
  compare("cyclic_scale_fn_iterations", *optimizer, scheduler);
}

TEST(CyclicLRTest, ScaleFnOverCyclesMatchesPyTorch) {
  auto optimizer = make_sgd({0.1});
  CyclicLR scheduler(
      *optimizer,
      CyclicLROptions(0.001, 0.01).step_size_up(8).scale_fn([](double x) {
        return std::pow(0.5, x);
      }));
  compare("cyclic_scale_fn_cycle", *optimizer, scheduler);
}

TEST(OneCycleLRTest, CosMatchesPyTorch) {
  auto optimizer = make_sgd({0.1});
  OneCycleLR scheduler(*optimizer, OneCycleLROptions(0.1, 100));
  // Step 100, past the schedule's end, is a documented deviation.
  compare("one_cycle_cos", *optimizer, scheduler, 99);
}

TEST(OneCycleLRTest, LinearThreePhaseWithAdamBeta1MatchesPyTorch) {
  auto optimizer = make_optimizer<torch::optim::Adam>(
      {0.1, 0.1}, torch::optim::AdamOptions());
  OneCycleLR scheduler(*optimizer,
                       OneCycleLROptions({0.1, 0.01}, 100)
                           .pct_start(0.25)
                           .anneal_strategy(AnnealStrategy::kLinear)
                           .div_factor(10)
                           .final_div_factor(100)
                           .three_phase(true));
  compare("one_cycle_linear_three_phase_adam", *optimizer, scheduler, 99);
}

TEST(OneCycleLRTest, LongScheduleMatchesPyTorch) {
  auto optimizer = make_sgd({0.1});
  OneCycleLR scheduler(*optimizer,
                       OneCycleLROptions(0.05, 10000)
                           .pct_start(0.45)
                           .base_momentum(0.8)
                           .max_momentum(0.9));
  compare("one_cycle_long", *optimizer, scheduler, 9999);
}

TEST(OneCycleLRTest, ThreePhaseWithoutMomentumCyclingMatchesPyTorch) {
  auto optimizer = make_optimizer<torch::optim::RMSprop>(
      {0.1, 0.1}, torch::optim::RMSpropOptions(0.1).momentum(0.9));
  OneCycleLR scheduler(*optimizer,
                       OneCycleLROptions({0.1, 0.05}, 50)
                           .three_phase(true)
                           .cycle_momentum(false));
  compare("one_cycle_rmsprop_no_momentum", *optimizer, scheduler, 49);
}

TEST(OneCycleLRTest, PerGroupMomentumOnRMSpropMatchesPyTorch) {
  auto optimizer = make_optimizer<torch::optim::RMSprop>(
      {0.1, 0.1}, torch::optim::RMSpropOptions(0.1).momentum(0.9));
  OneCycleLR scheduler(*optimizer,
                       OneCycleLROptions(0.02, 37)
                           .pct_start(0.4)
                           .base_momentum(std::vector<double>{0.8, 0.7})
                           .max_momentum(std::vector<double>{0.9, 0.95}));
  compare("one_cycle_rmsprop_group_momentum", *optimizer, scheduler, 36);
}

TEST(CosineAnnealingWarmRestartsTest, GrowingCyclesMatchPyTorch) {
  auto optimizer = make_sgd({0.1, 0.05});
  CosineAnnealingWarmRestarts scheduler(
      *optimizer,
      CosineAnnealingWarmRestartsOptions(10).T_mult(2).eta_min(0.001));
  compare("cosine_restarts_mult2", *optimizer, scheduler);
}

TEST(CosineAnnealingWarmRestartsTest, EqualCyclesMatchPyTorch) {
  auto optimizer = make_sgd({0.1});
  CosineAnnealingWarmRestarts scheduler(*optimizer, 7);
  compare("cosine_restarts_mult1", *optimizer, scheduler);
}

TEST(ExponentialLRTest, PaperExpOver70000StepsMatchesPyTorch) {
  auto optimizer = make_sgd({0.001});
  ExponentialLR scheduler(*optimizer, 0.99994);
  compare("exponential_paper", *optimizer, scheduler);
}

TEST(ExponentialLRTest, PerGroupLRsMatchPyTorch) {
  auto optimizer = make_sgd({0.1, 0.3});
  ExponentialLR scheduler(*optimizer, 0.9);
  compare("exponential_groups", *optimizer, scheduler);
}

TEST(LinearLRTest, PaperDecayMatchesPyTorch) {
  auto optimizer = make_sgd({0.007});
  LinearLR scheduler(
      *optimizer,
      LinearLROptions().start_factor(1.0).end_factor(1.0 / 7).total_iters(
          4000));
  compare("linear_decay_paper", *optimizer, scheduler);
}

TEST(LinearLRTest, DefaultsMatchPyTorch) {
  auto optimizer = make_sgd({0.1});
  LinearLR scheduler(*optimizer);
  compare("linear_default", *optimizer, scheduler);
}

TEST(MultiStepLRTest, RepeatedMilestoneMatchesPyTorch) {
  auto optimizer = make_sgd({0.1, 0.2});
  MultiStepLR scheduler(*optimizer,
                        MultiStepLROptions({30, 80, 80}).gamma(0.1));
  compare("multi_step", *optimizer, scheduler);
}

TEST(SequentialLRTest, PaperTriangular2StagesMatchPyTorch) {
  auto optimizer = make_sgd({0.1});
  auto stage = [&](double base, double max, int64_t step_size) {
    return std::make_shared<CyclicLR>(
        *optimizer,
        CyclicLROptions(base, max).step_size_up(step_size).mode(
            CyclicMode::kTriangular2));
  };
  SequentialLR scheduler(*optimizer,
                         {stage(0.001, 0.005, 20),
                          stage(0.0001, 0.0005, 10),
                          stage(0.00001, 0.00005, 5)},
                         {160, 220});
  compare("sequential_triangular2_paper", *optimizer, scheduler);
}

TEST(SequentialLRTest, WarmupThenExponentialMatchesPyTorch) {
  auto optimizer = make_sgd({0.1, 0.2});
  auto warmup = std::make_shared<LinearLR>(
      *optimizer, LinearLROptions().start_factor(0.1).total_iters(5));
  auto decay = std::make_shared<ExponentialLR>(*optimizer, 0.9);
  SequentialLR scheduler(*optimizer, {warmup, decay}, {5});
  compare("sequential_warmup_exponential", *optimizer, scheduler);
}

TEST(SequentialLRTest, CyclicThenWarmRestartsMatchesPyTorch) {
  // The restarts start from the cyclic stage's base_lr, PyTorch's initial_lr.
  auto optimizer = make_sgd({0.1});
  auto cyclic = std::make_shared<CyclicLR>(
      *optimizer, CyclicLROptions(0.001, 0.006).step_size_up(5));
  auto restarts = std::make_shared<CosineAnnealingWarmRestarts>(
      *optimizer, CosineAnnealingWarmRestartsOptions(7).T_mult(2));
  SequentialLR scheduler(*optimizer, {cyclic, restarts}, {20});
  compare("sequential_cyclic_then_restarts", *optimizer, scheduler);
}

TEST(StepLRTest, PerGroupLRsMatchPyTorch) {
  auto optimizer = make_sgd({0.1, 0.2});
  StepLR scheduler(*optimizer, StepLROptions(7).gamma(0.5));
  compare("step_lr_groups", *optimizer, scheduler);
}

TEST(ConstantLRTest, DefaultsMatchPyTorch) {
  auto optimizer = make_sgd({0.1});
  ConstantLR scheduler(*optimizer);
  compare("constant_lr_default", *optimizer, scheduler);
}

TEST(ConstantLRTest, PerGroupLRsMatchPyTorch) {
  auto optimizer = make_sgd({0.1, 0.3});
  ConstantLR scheduler(*optimizer,
                       ConstantLROptions().factor(0.5).total_iters(3));
  compare("constant_lr_groups", *optimizer, scheduler);
}

TEST(PolynomialLRTest, DefaultsMatchPyTorch) {
  auto optimizer = make_sgd({0.1});
  PolynomialLR scheduler(*optimizer);
  compare("polynomial_lr_default", *optimizer, scheduler);
}

TEST(PolynomialLRTest, SquareBeyondTotalItersMatchesPyTorch) {
  auto optimizer = make_sgd({0.1, 0.05});
  PolynomialLR scheduler(*optimizer,
                         PolynomialLROptions().total_iters(20).power(2.0));
  compare("polynomial_lr_power2", *optimizer, scheduler);
}

TEST(CosineAnnealingLRTest, PastTMaxMatchesPyTorch) {
  auto optimizer = make_sgd({0.1, 0.05});
  CosineAnnealingLR scheduler(*optimizer,
                              CosineAnnealingLROptions(10).eta_min(0.001));
  compare("cosine_annealing_past_t_max", *optimizer, scheduler);
}

TEST(LambdaLRTest, OneFunctionPerGroupMatchesPyTorch) {
  auto optimizer = make_sgd({0.1, 0.2});
  LambdaLR scheduler(
      *optimizer,
      std::vector<LRLambda>{
          [](int64_t step) { return std::pow(0.95, step); },
          [](int64_t step) { return 1.0 / (1 + static_cast<double>(step)); }});
  compare("lambda_lr_per_group", *optimizer, scheduler);
}

double up_every_third(int64_t step) {
  return step % 3 != 0 ? 0.9 : 1.05;
}

TEST(MultiplicativeLRTest, MatchesPyTorch) {
  auto optimizer = make_sgd({0.1, 0.2});
  MultiplicativeLR scheduler(*optimizer, LRLambda(up_every_third));
  compare("multiplicative_lr", *optimizer, scheduler);
}

// Every pair of generate_reference.py's CHAINABLE (the list's kChainable
// texts, same names and options), chained in PyTorch's order.
class ChainedPairTest
    : public ::testing::TestWithParam<std::pair<ScheduleText, ScheduleText>> {};

TEST_P(ChainedPairTest, MatchesPyTorch) {
  const auto& [first, second] = GetParam();
  auto optimizer = make_sgd({0.1, 0.2});
  auto scheduler = make_scheduler(
      *optimizer,
      "ChainedScheduler([" + first.text + ", " + second.text + "])");
  compare("chained_" + first.name + "_" + second.name, *optimizer, *scheduler);
}

std::vector<std::pair<ScheduleText, ScheduleText>> every_pair() {
  const auto chainable = schedule_texts(TextSet::kChainable);
  std::vector<std::pair<ScheduleText, ScheduleText>> pairs;
  for (std::size_t i = 0; i < chainable.size(); ++i) {
    for (std::size_t j = i + 1; j < chainable.size(); ++j) {
      pairs.emplace_back(chainable[i], chainable[j]);
    }
  }
  return pairs;
}

INSTANTIATE_TEST_SUITE_P(EveryChainablePair,
                         ChainedPairTest,
                         ::testing::ValuesIn(every_pair()),
                         [](const auto& info) {
                           return info.param.first.name + "_" +
                                  info.param.second.name;
                         });

// gamma > 1, which PyTorch accepts: the LR grows (generate_reference.py's
// gamma_above_one_cases()).
TEST(ExponentialLRTest, GammaAboveOneGrowsAsPyTorch) {
  auto optimizer = make_sgd({0.001, 0.01});
  ExponentialLR scheduler(*optimizer, 1.01);
  compare("exponential_gamma_1_01", *optimizer, scheduler);
  auto fast = make_sgd({1e-6});
  ExponentialLR doubling(*fast, 1.5);
  compare("exponential_gamma_1_5", *fast, doubling);
}

TEST(StepLRTest, GammaAboveOneGrowsAsPyTorch) {
  auto optimizer = make_sgd({0.1, 0.2});
  StepLR scheduler(*optimizer, StepLROptions(3).gamma(1.01));
  compare("step_lr_gamma_1_01", *optimizer, scheduler);
  auto fast = make_sgd({1e-4});
  StepLR doubling(*fast, StepLROptions(5).gamma(2.0));
  compare("step_lr_gamma_2", *fast, doubling);
}

TEST(MultiStepLRTest, GammaAboveOneGrowsAsPyTorch) {
  auto optimizer = make_sgd({0.1, 0.2});
  MultiStepLR scheduler(*optimizer,
                        MultiStepLROptions({3, 9, 9, 20}).gamma(1.01));
  compare("multi_step_gamma_1_01", *optimizer, scheduler);
  auto fast = make_sgd({0.001});
  MultiStepLR tripling(*fast, MultiStepLROptions({2, 5, 5, 11}).gamma(3.0));
  compare("multi_step_gamma_3", *fast, tripling);
}

TEST(ChainedSchedulerTest, GrowthTimesDecayMatchesPyTorch) {
  auto optimizer = make_sgd({0.01, 0.02});
  auto growth = std::make_shared<ExponentialLR>(*optimizer, 1.01);
  auto decay =
      std::make_shared<StepLR>(*optimizer, StepLROptions(4).gamma(0.5));
  ChainedScheduler scheduler(*optimizer, {growth, decay});
  compare("chained_exponential_1_01_step", *optimizer, scheduler);
}

// ---- SWALR (issue 18) ----
// The random configurations of generate_reference.py's swalr_cases(), read
// from its swalr_random_cases.csv: name, lrs, swa_lr (one value: one for all
// groups), anneal_epochs, anneal_strategy.
std::vector<double> numbers(const std::string& text) {
  std::vector<double> values;
  std::stringstream cells(text);
  std::string cell;
  while (std::getline(cells, cell, ';')) {
    values.push_back(std::strtod(cell.c_str(), nullptr));
  }
  return values;
}

TEST(SWALRTest, RandomConfigurationsMatchPyTorch) {
  std::ifstream in(test_data_path("reference/swalr_random_cases.csv"));
  ASSERT_TRUE(in);
  std::string line;
  std::getline(in, line);
  int cases = 0;
  int zero_anneal = 0;
  int one_for_all = 0;
  while (std::getline(in, line)) {
    std::stringstream row(line);
    std::string name, lrs, swa_lr, epochs, strategy;
    std::getline(row, name, ',');
    std::getline(row, lrs, ',');
    std::getline(row, swa_lr, ',');
    std::getline(row, epochs, ',');
    std::getline(row, strategy, ',');
    auto optimizer = make_sgd(numbers(lrs));
    const auto swa_lrs = numbers(swa_lr);
    SWALR scheduler(
        *optimizer,
        SWALROptions(swa_lrs)
            .anneal_epochs(std::stoll(epochs))
            .anneal_strategy(strategy == "cos" ? AnnealStrategy::kCos
                                               : AnnealStrategy::kLinear));
    EXPECT_GT(compare(name, *optimizer, scheduler), 0);
    ++cases;
    zero_anneal += epochs == "0";
    one_for_all += swa_lrs.size() == 1 && optimizer->param_groups().size() > 1;
  }
  EXPECT_EQ(cases, 16);
  EXPECT_GT(zero_anneal, 0);
  EXPECT_GT(one_for_all, 0);
}

// PyTorch's SequentialLR steps SWALR with step(0), which does not restart its
// step count: the anneal starts from CyclicLR's last LR, one step along.
void compare_after_cyclic(const std::string& name,
                          AnnealStrategy strategy,
                          int64_t anneal_epochs) {
  auto optimizer = make_sgd({0.1, 0.1});
  auto cyclic = std::make_shared<CyclicLR>(
      *optimizer,
      CyclicLROptions({0.001, 0.002}, {0.006, 0.01}).step_size_up(4));
  auto swa = std::make_shared<SWALR>(*optimizer,
                                     SWALROptions({0.05, 0.003})
                                         .anneal_epochs(anneal_epochs)
                                         .anneal_strategy(strategy));
  SequentialLR scheduler(*optimizer, {cyclic, swa}, {11});
  compare(name, *optimizer, scheduler);
}

TEST(SWALRTest, AfterCyclicLRInSequentialLRMatchesPyTorch) {
  compare_after_cyclic("swalr_after_cyclic_cos", AnnealStrategy::kCos, 5);
  compare_after_cyclic("swalr_after_cyclic_linear", AnnealStrategy::kLinear, 8);
  compare_after_cyclic("swalr_after_cyclic_no_anneal", AnnealStrategy::kCos, 0);
}

// PyTorch's own example: both built first, CosineAnnealingLR stepped for 12
// epochs, then SWALR, which anneals from the LR the cosine left.
TEST(SWALRTest, SteppedAfterAnotherSchedulerMatchesPyTorch) {
  const Reference ref = load_reference("swalr_after_cosine");
  auto optimizer = make_sgd({0.1, 0.02});
  CosineAnnealingLR cosine(*optimizer, 30);
  SWALR swa(*optimizer, SWALROptions(0.01).anneal_epochs(6));
  ASSERT_EQ(ref.last_step, 24);
  for (int64_t step = 0; step <= ref.last_step; ++step) {
    if (step > 0) {
      if (step <= 12) {
        cosine.step();
      } else {
        swa.step();
      }
    }
    for (std::size_t g = 0; g < 2; ++g) {
      expect_close(optimizer->param_groups()[g].options().get_lr(),
                   ref.rows.at(step)[g],
                   "step " + std::to_string(step));
    }
  }
}
// ---- end of SWALR ----

}  // namespace
}  // namespace torchclr::test
