// LRRangeTest: the sweep's formulas, a known answer (gradient descent on
// least squares), exact restoration of the model and optimizer, stop
// reasons, per-group ratios, the train_step hook and the options' checks.

#include <gmock/gmock.h>
#include <torchclr/lr_finder.h>

#include <cmath>
#include <limits>
#include <stdexcept>
#include <tuple>

#include "test_util.h"
#include "training_fingerprint.h"

namespace torchclr::test {
namespace {

using ::testing::HasSubstr;
using ::testing::ThrowsMessage;

// --- The sweep's formulas -------------------------------------------------

TEST(LRRangeTestTest, ExponentialSweepIsGeometric) {
  const auto options =
      LRRangeTestOptions().start_lr(1e-6).end_lr(1e2).num_iter(9);
  EXPECT_DOUBLE_EQ(range_test_lr(0, options), 1e-6);
  // Eight equal steps over eight decades: one decade per step.
  EXPECT_NEAR(range_test_lr(1, options), 1e-5, 1e-18);
  EXPECT_NEAR(range_test_lr(4, options), 1e-2, 1e-15);
  EXPECT_NEAR(range_test_lr(8, options), 1e2, 1e-12);
}

TEST(LRRangeTestTest, LinearSweepIsArithmetic) {
  const auto options =
      LRRangeTestOptions().start_lr(0.001).end_lr(0.021).num_iter(5).sweep(
          LRSweep::kLinear);
  EXPECT_DOUBLE_EQ(range_test_lr(0, options), 0.001);
  EXPECT_NEAR(range_test_lr(1, options), 0.006, 1e-15);
  EXPECT_NEAR(range_test_lr(2, options), 0.011, 1e-15);
  EXPECT_NEAR(range_test_lr(4, options), 0.021, 1e-15);
  EXPECT_THAT([&] { range_test_lr(5, options); },
              ThrowsMessage<c10::Error>(HasSubstr(
                  "LRRangeTest: iteration must be in [0, num_iter = 5), got "
                  "5")));
}

TEST(LRRangeTestTest, ToCyclicOptionsUsesThePaperStepSize) {
  LRRangeTestResult result;
  result.suggestions.base_lr = 0.001;
  result.suggestions.max_lr = 0.006;
  // The paper's CIFAR-10 run: 500 iterations per epoch, stepsize 2000.
  auto options = result.to_cyclic_options(500);
  EXPECT_EQ(options.base_lr().values(), std::vector<double>{0.001});
  EXPECT_EQ(options.max_lr().values(), std::vector<double>{0.006});
  EXPECT_EQ(options.step_size_up(), 2000);
  EXPECT_EQ(result.to_cyclic_options(390, 2.5).step_size_up(), 975);
  EXPECT_THAT([&] { result.to_cyclic_options(0); },
              ThrowsMessage<c10::Error>(HasSubstr(
                  "LRRangeTest: iters_per_epoch must be > 0, got 0")));
  EXPECT_THAT([&] { result.to_cyclic_options(500, 1e300); },
              ThrowsMessage<c10::Error>(
                  HasSubstr("LRRangeTest: step_size_epochs (1e+300) * "
                            "iters_per_epoch (500) is more steps than int64_t "
                            "counts")));
  result.suggestions = {};
  EXPECT_THAT([&] { result.to_cyclic_options(500); },
              ThrowsMessage<c10::Error>(
                  HasSubstr("LRRangeTest: to_cyclic_options needs the base_lr "
                            "and max_lr suggestions")));
}

TEST(LRRangeTestTest, ToCyclicOptionsScalesBoundsByGroupRatios) {
  LRRangeTestResult result;
  result.suggestions.base_lr = 0.001;
  result.suggestions.max_lr = 0.006;
  result.group_ratios = {1, 2, 0.5};
  const auto options = result.to_cyclic_options(500);
  EXPECT_EQ(options.base_lr().values(),
            (std::vector<double>{0.001, 0.002, 0.0005}));
  EXPECT_EQ(options.max_lr().values(),
            (std::vector<double>{0.006, 0.012, 0.003}));
  EXPECT_EQ(options.step_size_up(), 2000);
}

// --- Known answer: full-batch gradient descent on least squares -----------

// loss(w) = mean((X w - y)^2) has Hessian H = 2 X^T X / n, and gradient
// descent multiplies the error along each eigenvector by (1 - lr lambda):
// it converges iff lr < 2 / lambda_max. X = U diag(s) V^T with orthonormal
// U, V, so lambda_max = 2 s_max^2 / n in closed form as well.
struct LeastSquares {
  torch::Tensor design;
  torch::Tensor target;
  double lambda_max;
};

LeastSquares make_least_squares(double condition,
                                double largest_singular_value,
                                uint64_t seed) {
  constexpr int64_t n = 64;
  constexpr int64_t d = 6;
  torch::manual_seed(seed);
  const auto options = torch::dtype(torch::kFloat64);
  const auto u = std::get<0>(torch::linalg_qr(torch::randn({n, d}, options)));
  const auto v = std::get<0>(torch::linalg_qr(torch::randn({d, d}, options)));
  const auto exponents = torch::arange(d, options) / static_cast<double>(d - 1);
  const auto singular =
      largest_singular_value * torch::pow(condition, -exponents);
  const auto design = u.matmul(torch::diag(singular)).matmul(v.t());
  const auto weights = torch::randn({d, 1}, options);
  const auto target =
      design.matmul(weights) + 0.1 * torch::randn({n, 1}, options);
  const auto hessian = 2.0 * design.t().matmul(design) / static_cast<double>(n);
  const double lambda_max =
      torch::linalg_eigvalsh(hessian, "L").max().item<double>();
  const double closed_form = 2.0 * largest_singular_value *
                             largest_singular_value / static_cast<double>(n);
  EXPECT_NEAR(lambda_max, closed_form, 1e-9 * closed_form);
  return {design, target, lambda_max};
}

LRRangeTestResult least_squares_range_test(const LeastSquares& problem,
                                           const LRRangeTestOptions& options) {
  auto model = torch::nn::Linear(
      torch::nn::LinearOptions(problem.design.size(1), 1).bias(false));
  model->to(torch::kFloat64);
  {
    torch::NoGradGuard no_grad;
    model->weight.zero_();
  }
  torch::optim::SGD optimizer(model->parameters(),
                              torch::optim::SGDOptions(0.1));
  LRRangeTest range_test(
      model,
      optimizer,
      LRRangeTestOptions(options).loss_fn(
          [](const torch::Tensor& output, const torch::Tensor& target) {
            return torch::mse_loss(output, target);
          }));
  const std::vector<Batch> full_batch = {{problem.design, problem.target}};
  return range_test.run(full_batch);
}

struct LeastSquaresCase {
  double condition;
  double largest_singular_value;
  LRSweep sweep;
};

void PrintTo(const LeastSquaresCase& c, std::ostream* out) {
  *out << (c.sweep == LRSweep::kExponential ? "exponential" : "linear")
       << ", condition " << c.condition << ", s_max "
       << c.largest_singular_value;
}

class LeastSquaresTest : public ::testing::TestWithParam<LeastSquaresCase> {};

TEST_P(LeastSquaresTest, MaxLrIsBelowTheStabilityLimit) {
  const auto& c = GetParam();
  const auto problem =
      make_least_squares(c.condition, c.largest_singular_value, 7);
  const double limit = 2.0 / problem.lambda_max;
  const bool exponential = c.sweep == LRSweep::kExponential;
  // One fixed sweep per kind, whatever the answer.
  const auto options =
      exponential
          ? LRRangeTestOptions().start_lr(1e-5).end_lr(1e2).num_iter(200)
          : LRRangeTestOptions().start_lr(1e-3).end_lr(20).num_iter(400).sweep(
                LRSweep::kLinear);
  const auto result = least_squares_range_test(problem, options);
  const std::string context = "2/lambda_max " + std::to_string(limit);
  const auto& points = result.points;
  // Below the limit every step lowers the loss (up to rounding) ...
  for (std::size_t k = 0; k + 1 < points.size(); ++k) {
    if (points[k].lr < limit) {
      EXPECT_LE(points[k + 1].loss, points[k].loss * (1 + 1e-12))
          << context << ", step " << k << " at lr " << points[k].lr;
    }
  }
  // ... so divergence can only be seen above it, and is seen soon after.
  EXPECT_EQ(result.stop_reason, RangeTestStopReason::kDiverged) << context;
  EXPECT_GT(result.stop_lr, limit) << context;
  EXPECT_LT(result.stop_lr, 10 * limit) << context;
  // The suggested max_lr stays on the stable side, within a small factor:
  // the turn is seen ~6x past the limit with an exponential sweep, ~2x
  // with a linear one; max_lr is half the lag-corrected bottom.
  ASSERT_TRUE(result.suggestions.max_lr) << context;
  EXPECT_LT(*result.suggestions.max_lr, limit) << context;
  EXPECT_GT(*result.suggestions.max_lr, limit / (exponential ? 3 : 10))
      << context;
  ASSERT_TRUE(result.suggestions.base_lr) << context;
  EXPECT_LT(*result.suggestions.base_lr, *result.suggestions.max_lr / 3)
      << context;
  // Steepest descent and valley sit on the falling part, below the limit.
  // (Both skip points by count, made for exponential sweeps: with a linear
  // one the whole fall can lie in the skipped start.)
  if (exponential) {
    ASSERT_TRUE(result.suggestions.steepest_lr) << context;
    EXPECT_LT(*result.suggestions.steepest_lr, limit) << context;
    ASSERT_TRUE(result.suggestions.valley_lr) << context;
    EXPECT_LT(*result.suggestions.valley_lr, limit) << context;
  }
}

// 2 / lambda_max = n / s_max^2 = 64 / s_max^2: 1, 4, 0.25, 0.0625; 1, 4.
INSTANTIATE_TEST_SUITE_P(
    LRRangeTestTest,
    LeastSquaresTest,
    ::testing::Values(LeastSquaresCase{1, 8, LRSweep::kExponential},
                      LeastSquaresCase{10, 4, LRSweep::kExponential},
                      LeastSquaresCase{100, 16, LRSweep::kExponential},
                      LeastSquaresCase{1000, 32, LRSweep::kExponential},
                      LeastSquaresCase{30, 8, LRSweep::kLinear},
                      LeastSquaresCase{3, 4, LRSweep::kLinear}),
    [](const auto& info) {
      const auto& c = info.param;
      return std::string(c.sweep == LRSweep::kExponential ? "exponential"
                                                          : "linear") +
             "_condition_" + std::to_string(static_cast<int>(c.condition)) +
             "_s_max_" +
             std::to_string(static_cast<int>(c.largest_singular_value));
    });

// --- Restoration ----------------------------------------------------------

std::vector<Batch> classification_batches(int64_t count, int64_t size) {
  std::vector<Batch> batches;
  for (int64_t i = 0; i < count; ++i) {
    batches.push_back(
        {torch::randn({size, 4}), torch::randint(0, 3, {size}, torch::kLong)});
  }
  return batches;
}

// State, running statistics and gradients that are not zero.
void warm_up(Net& net,
             torch::optim::Optimizer& optimizer,
             const std::vector<Batch>& batches) {
  for (int step = 0; step < 2; ++step) {
    optimizer.zero_grad();
    torch::nn::functional::cross_entropy(net->forward(batches[0].input),
                                         batches[0].target)
        .backward();
    optimizer.step();
  }
  torch::nn::functional::cross_entropy(net->forward(batches[1].input),
                                       batches[1].target)
      .backward();
}

enum class Outcome { kCompleted, kDiverged, kNonFinite, kThrows };

std::string outcome_name(Outcome outcome) {
  switch (outcome) {
    case Outcome::kCompleted:
      return "Completed";
    case Outcome::kDiverged:
      return "Diverged";
    case Outcome::kNonFinite:
      return "NonFinite";
    case Outcome::kThrows:
      return "Throws";
  }
  return "?";
}

void PrintTo(Outcome outcome, std::ostream* out) {
  *out << outcome_name(outcome);
}

class RestoreTest
    : public ::testing::TestWithParam<std::tuple<std::string, bool, Outcome>> {
};

TEST_P(RestoreTest, RestoresModelAndOptimizerBitForBit) {
  const std::string kind = std::get<0>(GetParam());
  const bool warm = std::get<1>(GetParam());
  const Outcome outcome = std::get<2>(GetParam());
  const auto batches = classification_batches(3, 8);
  torch::manual_seed(3);
  Net net;
  auto optimizer = make_named_optimizer(kind, net);
  net->train();
  if (warm) {
    warm_up(net, *optimizer, batches);
  }
  net->bn->eval();  // mixed training flags must survive too
  const auto before = fingerprint(net, *optimizer);
  const auto original_weight = net->fc1->weight.detach().clone();

  int64_t calls = 0;
  bool trained = false;
  auto options =
      LRRangeTestOptions()
          .start_lr(1e-3)
          .end_lr(outcome == Outcome::kDiverged ? 1e3 : 1e-1)
          .num_iter(6)
          // The outcome is the loss function's, not the stop rules': a
          // 6-point curve can trip the climb-back rule (it did on LibTorch
          // 2.6), and warm RMSprop at LR 0.1 can really reach 5x its best
          // loss (it did on LibTorch 2.6 on another CPU).
          .stop_on_climb_back(false)
          .diverge_threshold(outcome == Outcome::kDiverged ? 5 : kInf)
          .on_progress([&](int64_t, double, double) {
            trained =
                trained || !torch::equal(net->fc1->weight, original_weight);
          })
          .loss_fn([&](const torch::Tensor& output,
                       const torch::Tensor& target) {
            ++calls;
            auto loss = torch::nn::functional::cross_entropy(output, target);
            if (outcome == Outcome::kDiverged) {
              return loss * std::pow(10.0, calls);
            }
            if (outcome == Outcome::kNonFinite && calls == 4) {
              return loss * kNaN;
            }
            if (outcome == Outcome::kThrows && calls == 4) {
              throw std::runtime_error("user loss failed");
            }
            return loss;
          });
  LRRangeTest range_test(net, *optimizer, options);
  if (outcome == Outcome::kThrows) {
    EXPECT_THROW(range_test.run(batches), std::runtime_error);
  } else {
    const auto result = range_test.run(batches);
    const auto expected =
        outcome == Outcome::kCompleted  ? RangeTestStopReason::kCompleted
        : outcome == Outcome::kDiverged ? RangeTestStopReason::kDiverged
                                        : RangeTestStopReason::kNonFiniteLoss;
    EXPECT_EQ(result.stop_reason, expected);
  }
  EXPECT_TRUE(trained) << "the sweep changed nothing";
  expect_same(before, fingerprint(net, *optimizer), "after the run");
}

INSTANTIATE_TEST_SUITE_P(
    LRRangeTestTest,
    RestoreTest,
    ::testing::Combine(::testing::Values("SGD", "Adam", "AdamW", "RMSprop"),
                       ::testing::Bool(),
                       ::testing::Values(Outcome::kCompleted,
                                         Outcome::kDiverged,
                                         Outcome::kNonFinite,
                                         Outcome::kThrows)),
    [](const auto& info) {
      return std::get<0>(info.param) +
             (std::get<1>(info.param) ? "_warm_" : "_cold_") +
             outcome_name(std::get<2>(info.param));
    });

// --- Per-group ratios -----------------------------------------------------

// Net's two groups at lr 0.1 and 0.2, SGD with momentum, warmed up.
struct TwoGroupRun {
  std::vector<Batch> batches;
  Net net;
  std::unique_ptr<torch::optim::SGD> optimizer;

  TwoGroupRun() {
    torch::manual_seed(5);
    batches = classification_batches(3, 8);
    optimizer = std::make_unique<torch::optim::SGD>(
        two_groups(net), torch::optim::SGDOptions(0.1).momentum(0.9));
    optimizer->param_groups()[1].options().set_lr(0.2);
    warm_up(net, *optimizer, batches);
  }

  // The LRs of both groups at every iteration.
  std::vector<std::pair<double, double>> group_lrs(LRRangeTestOptions options,
                                                   LRRangeTestResult* result) {
    std::vector<std::pair<double, double>> lrs;
    // Eight iterations whatever the loss does.
    options.num_iter(8)
        .start_lr(1e-4)
        .end_lr(1)
        .diverge_threshold(kInf)
        .stop_on_climb_back(false)
        .on_progress([&](int64_t, double, double) {
          lrs.emplace_back(optimizer->param_groups()[0].options().get_lr(),
                           optimizer->param_groups()[1].options().get_lr());
        });
    *result = LRRangeTest(net, *optimizer, options).run(batches);
    return lrs;
  }
};

TEST(LRRangeTestTest, SweepsEachGroupAtItsRatioAndRestoresEverything) {
  TwoGroupRun run;
  const auto before = fingerprint(run.net, *run.optimizer);
  LRRangeTestResult result;
  const auto lrs = run.group_lrs(LRRangeTestOptions(), &result);
  const auto sweep = LRRangeTestOptions().num_iter(8).start_lr(1e-4).end_lr(1);
  ASSERT_EQ(lrs.size(), 8u);
  ASSERT_EQ(result.points.size(), 8u);
  for (std::size_t k = 0; k < lrs.size(); ++k) {
    // 0.2 / 0.1 is exactly 2 in binary, so the products are exact.
    const double swept = range_test_lr(static_cast<int64_t>(k), sweep);
    EXPECT_EQ(lrs[k].first, swept) << k;
    EXPECT_EQ(lrs[k].second, 2 * swept) << k;
    EXPECT_EQ(result.points[k].lr, swept) << k;
  }
  EXPECT_EQ(result.group_ratios, (std::vector<double>{1, 2}));
  expect_same(before, fingerprint(run.net, *run.optimizer), "after the run");
  EXPECT_EQ(run.optimizer->param_groups()[0].options().get_lr(), 0.1);
  EXPECT_EQ(run.optimizer->param_groups()[1].options().get_lr(), 0.2);
  // The CLR bounds keep the ratio.
  result.suggestions.base_lr = 0.01;
  result.suggestions.max_lr = 0.04;
  const auto cyclic = result.to_cyclic_options(100);
  EXPECT_EQ(cyclic.base_lr().values(), (std::vector<double>{0.01, 0.02}));
  EXPECT_EQ(cyclic.max_lr().values(), (std::vector<double>{0.04, 0.08}));
}

TEST(LRRangeTestTest, GroupRatiosCanBeGivenOrAllOne) {
  TwoGroupRun run;
  LRRangeTestResult result;
  const auto sweep = LRRangeTestOptions().num_iter(8).start_lr(1e-4).end_lr(1);
  // The old behaviour: every group at the swept LR.
  auto lrs = run.group_lrs(LRRangeTestOptions().group_ratios({1.0}), &result);
  ASSERT_EQ(lrs.size(), 8u);
  for (std::size_t k = 0; k < lrs.size(); ++k) {
    const double swept = range_test_lr(static_cast<int64_t>(k), sweep);
    EXPECT_EQ(lrs[k].first, swept) << k;
    EXPECT_EQ(lrs[k].second, swept) << k;
  }
  EXPECT_EQ(result.group_ratios, (std::vector<double>{1, 1}));
  // Ratios of the caller's choosing.
  lrs = run.group_lrs(LRRangeTestOptions().group_ratios({1, 4}), &result);
  for (std::size_t k = 0; k < lrs.size(); ++k) {
    EXPECT_EQ(lrs[k].second, 4 * lrs[k].first) << k;
  }
  EXPECT_EQ(result.group_ratios, (std::vector<double>{1, 4}));
}

// --- Stop reasons ---------------------------------------------------------

// A scalar model whose loss the tests script: loss_fn ignores the output.
struct ScriptedRun {
  torch::nn::Linear model{torch::nn::Linear(1, 1)};
  torch::optim::SGD optimizer{model->parameters(), torch::optim::SGDOptions(1)};
  std::vector<Batch> data = {{torch::ones({2, 1}), torch::zeros({2, 1})}};

  LRRangeTestResult run(
      std::vector<double> losses,
      LRRangeTestOptions options = LRRangeTestOptions().num_iter(20)) {
    std::size_t call = 0;
    options.loss_fn([losses, call](const torch::Tensor& output,
                                   const torch::Tensor&) mutable {
      return 0 * output.sum() + losses.at(call++);
    });
    return LRRangeTest(model, optimizer, options).run(data);
  }
};

class NonFiniteLossTest : public ::testing::TestWithParam<double> {};

TEST_P(NonFiniteLossTest, StopsTheSweepAndStaysOffTheCurve) {
  ScriptedRun run;
  const auto result = run.run({3, 2.5, 2, 1.5, 1, GetParam(), 0.5, 0.5});
  EXPECT_EQ(result.stop_reason, RangeTestStopReason::kNonFiniteLoss);
  EXPECT_EQ(result.stop_iteration, 5);
  EXPECT_DOUBLE_EQ(result.stop_lr,
                   range_test_lr(5, LRRangeTestOptions().num_iter(20)));
  ASSERT_EQ(result.points.size(), 5u);
  for (const auto& point : result.points) {
    EXPECT_TRUE(std::isfinite(point.loss));
    EXPECT_TRUE(std::isfinite(point.smoothed_loss));
  }
  // The smoothing saw only the finite losses.
  EXPECT_DOUBLE_EQ(result.points.back().smoothed_loss,
                   smooth_losses({3, 2.5, 2, 1.5, 1}, 0.05).back());
  ASSERT_TRUE(result.suggestions.max_lr);
  EXPECT_TRUE(std::isfinite(*result.suggestions.max_lr));
}

INSTANTIATE_TEST_SUITE_P(LRRangeTestTest,
                         NonFiniteLossTest,
                         ::testing::Values(kNaN, kInf, -kInf),
                         [](const auto& info) {
                           return std::isnan(info.param) ? std::string("nan")
                                  : info.param > 0       ? "inf"
                                                         : "minus_inf";
                         });

TEST(LRRangeTestTest, DivergenceComparesSmoothedLossWithTheBest) {
  // smooth_f 1: smoothed == raw. Best 1 at iteration 2; 4.9 is within 5x,
  // 5.1 is not. (The climb-back rule, which 4.9 would trigger, is off: this
  // is the ratio rule alone.)
  const auto options =
      LRRangeTestOptions().num_iter(7).smooth_f(1).stop_on_climb_back(false);
  ScriptedRun run;
  const auto result = run.run({3, 2, 1, 4.9, 5.1, 1, 1}, options);
  EXPECT_EQ(result.stop_reason, RangeTestStopReason::kDiverged);
  EXPECT_EQ(result.stop_iteration, 4);
  ASSERT_EQ(result.points.size(), 5u);
  EXPECT_FLOAT_EQ(result.points.back().loss, 5.1);
  EXPECT_DOUBLE_EQ(result.stop_lr,
                   range_test_lr(4, LRRangeTestOptions().num_iter(7)));
  ScriptedRun unlimited;
  EXPECT_EQ(unlimited
                .run({3, 2, 1, 4.9, 5.1, 1, 1},
                     LRRangeTestOptions(options).diverge_threshold(kInf))
                .stop_reason,
            RangeTestStopReason::kCompleted);
  // A ratio to a best <= 0 means nothing: the rule waits for a positive best.
  ScriptedRun negative;
  EXPECT_EQ(
      negative.run({-1, -2, 3, 9}, LRRangeTestOptions().num_iter(4).smooth_f(1))
          .stop_reason,
      RangeTestStopReason::kCompleted);
}

TEST(LRRangeTestTest, ClimbingBackStopsTheSweep) {
  // smooth_f 1: first 3, best 1; half of the fall is given back at 2, first
  // reached by 2.5 at iteration 3 (5x the best would be 5).
  ScriptedRun run;
  const auto result = run.run({3, 2, 1, 2.5, 4, 1},
                              LRRangeTestOptions().num_iter(6).smooth_f(1));
  EXPECT_EQ(result.stop_reason, RangeTestStopReason::kDiverged);
  EXPECT_EQ(result.stop_iteration, 3);
  EXPECT_EQ(result.points.size(), 4u);
}

TEST(LRRangeTestTest, CollapseToChanceLevelStopsTheSweepBeforeAnySuggestion) {
  // A classifier's loss: chance level 2.3 for 10 iterations, down to 1.0 by
  // iteration 49, flat, then at iteration 60 it collapses back to chance
  // level for good. 2.3 is never 5x the best, so the ratio rule alone runs
  // to the end; climbing back stops once the default EMA has covered half
  // of the way from its bottom (about 1.28) to 2.3, ln 2 / 0.05 = 14 points
  // on.
  std::vector<double> losses(10, 2.3);
  for (int k = 10; k < 50; ++k) {
    losses.push_back(2.3 - 1.3 * (k - 10) / 39.0);
  }
  losses.resize(60, 1.0);
  losses.resize(100, 2.3);
  const auto options = LRRangeTestOptions().num_iter(100).end_lr(1);
  ScriptedRun run;
  const auto result = run.run(losses, options);
  EXPECT_EQ(result.stop_reason, RangeTestStopReason::kDiverged);
  EXPECT_GT(result.stop_iteration, 60);
  EXPECT_LE(result.stop_iteration, 80);
  const double collapse_lr = range_test_lr(60, options);
  const auto& s = result.suggestions;
  for (const auto& lr : {s.base_lr, s.max_lr, s.steepest_lr, s.valley_lr}) {
    ASSERT_TRUE(lr);
    EXPECT_LT(*lr, collapse_lr);
  }
  ScriptedRun ratio_only;
  EXPECT_EQ(
      ratio_only
          .run(losses, LRRangeTestOptions(options).stop_on_climb_back(false))
          .stop_reason,
      RangeTestStopReason::kCompleted);
}

// --- The training step ----------------------------------------------------

TEST(LRRangeTestTest, CyclesTheDataAndAccumulatesBatches) {
  torch::nn::Linear model(1, 1);
  torch::optim::SGD optimizer(model->parameters(), torch::optim::SGDOptions(1));
  std::vector<Batch> data;
  for (int i = 0; i < 3; ++i) {
    data.push_back({torch::ones({1, 1}), torch::full({1, 1}, i)});
  }
  std::vector<int64_t> seen;
  std::vector<int64_t> progress;
  auto options =
      LRRangeTestOptions()
          .num_iter(5)
          .end_lr(1e-3)
          .accumulation_steps(2)
          .loss_fn([&](const torch::Tensor& output, const torch::Tensor& t) {
            seen.push_back(t.item<int64_t>());
            return (output * 0).sum() + 1.0 + t.sum();
          })
          .on_progress([&](int64_t iteration, double, double) {
            progress.push_back(iteration);
          });
  const auto result = LRRangeTest(model, optimizer, options).run(data);
  EXPECT_EQ(seen, (std::vector<int64_t>{0, 1, 2, 0, 1, 2, 0, 1, 2, 0}));
  EXPECT_EQ(progress, (std::vector<int64_t>{0, 1, 2, 3, 4}));
  ASSERT_EQ(result.points.size(), 5u);
  // Mean of the two accumulated losses: (1 + 2) / 2, then (3 + 1) / 2 ...
  EXPECT_DOUBLE_EQ(result.points[0].loss, 1.5);
  EXPECT_DOUBLE_EQ(result.points[1].loss, 2.0);
  EXPECT_DOUBLE_EQ(result.points[2].loss, 2.5);
  EXPECT_EQ(result.stop_reason, RangeTestStopReason::kCompleted);
  EXPECT_EQ(result.stop_iteration, 5);
}

// The same sweep through the default step and through a train_step hook that
// computes the loss itself: the same curve and the same trained weights.
class TrainStepTest : public ::testing::TestWithParam<int64_t> {};

TEST_P(TrainStepTest, HookGivesTheSameSweepAsTheDefaultStep) {
  const int64_t accumulation_steps = GetParam();
  torch::manual_seed(11);
  const auto batches = classification_batches(4, 8);
  std::vector<torch::Tensor> trained;
  std::vector<LRRangeTestResult> results;
  for (bool hook : {false, true}) {
    torch::manual_seed(3);
    Net net;
    torch::optim::SGD optimizer(net->parameters(),
                                torch::optim::SGDOptions(0.1).momentum(0.9));
    int64_t hook_calls = 0;
    auto options = LRRangeTestOptions()
                       .num_iter(6)
                       .start_lr(1e-3)
                       .end_lr(1)
                       .accumulation_steps(accumulation_steps)
                       .on_progress([&](int64_t iteration, double, double) {
                         if (iteration == 5) {
                           trained.push_back(net->fc1->weight.detach().clone());
                         }
                       });
    if (hook) {
      options.train_step([&](const Batch& batch) {
        ++hook_calls;
        auto loss = torch::nn::functional::cross_entropy(
            net->forward(batch.input), batch.target);
        loss.backward();
        return loss.detach();
      });
    }
    results.push_back(LRRangeTest(net, optimizer, options).run(batches));
    EXPECT_EQ(hook_calls, hook ? 6 * accumulation_steps : 0);
  }
  ASSERT_EQ(results[0].points.size(), 6u);
  ASSERT_EQ(results[1].points.size(), 6u);
  for (std::size_t k = 0; k < 6; ++k) {
    // Halving is exact in binary: the hook's summed gradients divided by 2
    // equal the sum of the halved losses' gradients.
    EXPECT_EQ(results[0].points[k].loss, results[1].points[k].loss) << k;
  }
  EXPECT_TRUE(torch::equal(trained[0], trained[1]));
}

INSTANTIATE_TEST_SUITE_P(LRRangeTestTest,
                         TrainStepTest,
                         ::testing::Values(1, 2),
                         [](const auto& info) {
                           return "accumulation_steps_" +
                                  std::to_string(info.param);
                         });

TEST(LRRangeTestTest, HookReturningNaNStopsTheSweepAndRestores) {
  torch::manual_seed(5);
  const auto batches = classification_batches(3, 8);
  Net net;
  auto optimizer = make_named_optimizer("Adam", net);
  warm_up(net, *optimizer, batches);
  const auto before = fingerprint(net, *optimizer);
  int64_t calls = 0;
  auto options =
      LRRangeTestOptions().num_iter(10).train_step([&](const Batch& batch) {
        auto loss = torch::nn::functional::cross_entropy(
            net->forward(batch.input), batch.target);
        loss.backward();
        return ++calls == 4 ? loss * kNaN : loss;
      });
  // No forward function at all: the hook is the whole step.
  const auto result =
      LRRangeTest(net.ptr(), nullptr, *optimizer, options).run(batches);
  EXPECT_EQ(result.stop_reason, RangeTestStopReason::kNonFiniteLoss);
  EXPECT_EQ(result.stop_iteration, 3);
  EXPECT_EQ(result.points.size(), 3u);
  expect_same(before, fingerprint(net, *optimizer), "after the run");
}

TEST(LRRangeTestTest, ValidationMetricIsWeightedByBatchSize) {
  // forward returns its input, so the predictions are known: argmax of the
  // rows [1,0] [0,1] [1,0] | [0,1] against targets 0 1 1 | 1 is 3 of 4 right
  // (the mean of per-batch accuracies would be (2/3 + 1) / 2).
  torch::nn::Linear model(2, 2);
  torch::optim::SGD optimizer(model->parameters(), torch::optim::SGDOptions(1));
  std::vector<bool> training_modes;
  auto forward = [&](const torch::Tensor& input) {
    training_modes.push_back(model->is_training());
    return input + 0 * model->weight.sum();
  };
  const std::vector<Batch> train = {
      {torch::eye(2), torch::tensor({0, 1}, torch::kLong)}};
  const std::vector<Batch> validation = {
      {torch::tensor({{1., 0.}, {0., 1.}, {1., 0.}}),
       torch::tensor({0, 1, 1}, torch::kLong)},
      {torch::tensor({{0., 1.}}), torch::tensor({1}, torch::kLong)}};
  for (auto metric : {RangeTestMetric::kAccuracy, RangeTestMetric::kLoss}) {
    SCOPED_TRACE(metric == RangeTestMetric::kAccuracy ? "accuracy" : "loss");
    training_modes.clear();
    LRRangeTest range_test(
        model.ptr(),
        forward,
        optimizer,
        LRRangeTestOptions().num_iter(7).eval_every(3).metric(metric));
    const auto result = range_test.run(train, validation);
    ASSERT_EQ(result.points.size(), 7u);
    // Cross-entropy of logits [1, 0]: log(1 + e^-1) for class 0, and
    // 1 + log(1 + e^-1) for class 1; one of the four rows is wrong.
    const double expected = metric == RangeTestMetric::kAccuracy
                                ? 0.75
                                : std::log1p(std::exp(-1.0)) + 0.25;
    for (const auto& point : result.points) {
      if (point.iteration == 2 || point.iteration == 5) {
        ASSERT_TRUE(point.metric) << point.iteration;
        EXPECT_NEAR(*point.metric, expected, 1e-6);
      } else {
        EXPECT_FALSE(point.metric) << point.iteration;
      }
    }
    // 7 training forwards in train mode, 2 evaluations of 2 batches in eval.
    EXPECT_EQ(training_modes,
              (std::vector<bool>{true,
                                 true,
                                 true,
                                 false,
                                 false,
                                 true,
                                 true,
                                 true,
                                 false,
                                 false,
                                 true}));
    EXPECT_TRUE(model->is_training());
  }
}

TEST(LRRangeTestTest, AcceptsHoldersPointersAndIterators) {
  torch::manual_seed(0);
  const auto batches = classification_batches(2, 4);
  const auto options = LRRangeTestOptions().num_iter(3);
  torch::nn::Sequential sequential(
      torch::nn::Linear(4, 5), torch::nn::ReLU(), torch::nn::Linear(5, 3));
  torch::optim::Adam adam(sequential->parameters());
  EXPECT_EQ(LRRangeTest(sequential, adam, options).run(batches).points.size(),
            3u);
  auto pointer = std::make_shared<NetImpl>();
  torch::optim::SGD sgd(pointer->parameters(), torch::optim::SGDOptions(0.1));
  LRRangeTest range_test(pointer, sgd, options);
  auto source = make_batch_source(batches.begin(), batches.end());
  EXPECT_EQ(range_test.run(source).points.size(), 3u);
  std::vector<std::pair<torch::Tensor, torch::Tensor>> pairs = {
      {batches[0].input, batches[0].target}};
  EXPECT_EQ(range_test.run(pairs).points.size(), 3u);
}

// --- Options' checks ------------------------------------------------------

struct BadOptionsCase {
  LRRangeTestOptions options;
  std::string message;
};

void PrintTo(const BadOptionsCase& c, std::ostream* out) {
  *out << c.message;
}

class BadOptionsTest : public ::testing::TestWithParam<BadOptionsCase> {};

TEST_P(BadOptionsTest, IsRejectedByTheConstructor) {
  Net net;
  auto optimizer = make_named_optimizer("SGD", net);  // two param groups
  EXPECT_THAT([&] { (void)LRRangeTest(net, *optimizer, GetParam().options); },
              ThrowsMessage<c10::Error>(HasSubstr(GetParam().message)));
}

INSTANTIATE_TEST_SUITE_P(
    LRRangeTestTest,
    BadOptionsTest,
    ::testing::Values(
        BadOptionsCase{
            LRRangeTestOptions().start_lr(0),
            "LRRangeTest: start_lr must be a finite number > 0, got 0"},
        BadOptionsCase{
            LRRangeTestOptions().end_lr(1e-8),
            "LRRangeTest: end_lr (1e-08) must be above start_lr (1e-07)"},
        BadOptionsCase{LRRangeTestOptions().start_lr(1e-310),
                       "LRRangeTest: end_lr / start_lr (10 / 1e-310) "
                       "overflows a double"},
        BadOptionsCase{LRRangeTestOptions().num_iter(1),
                       "LRRangeTest: num_iter must be >= 2, got 1"},
        BadOptionsCase{LRRangeTestOptions().smooth_f(0),
                       "LRRangeTest: smooth_f must be in (0, 1], got 0"},
        BadOptionsCase{LRRangeTestOptions().diverge_threshold(1),
                       "LRRangeTest: diverge_threshold must be > 1"},
        BadOptionsCase{LRRangeTestOptions().accumulation_steps(0),
                       "LRRangeTest: accumulation_steps must be > 0, got 0"},
        BadOptionsCase{LRRangeTestOptions().eval_every(-1),
                       "LRRangeTest: eval_every must be > 0, got -1"},
        BadOptionsCase{LRRangeTestOptions().group_ratios({1, 2, 3}),
                       "LRRangeTest: group_ratios must have one value or one "
                       "per param group (2), got 3"},
        BadOptionsCase{LRRangeTestOptions().group_ratios({1, -2}),
                       "LRRangeTest: group_ratios must be a finite number > "
                       "0, got -2"},
        BadOptionsCase{LRRangeTestOptions().group_ratios({2, 4}),
                       "LRRangeTest: group_ratios[0] must be 1 (the swept LR "
                       "is group 0's), got 2"}),
    [](const auto& info) {
      // "LRRangeTest: start_lr must ...": the option after the class name.
      const auto& message = info.param.message;
      return param_name(info.index, message.substr(message.find(' ') + 1));
    });

TEST(LRRangeTestTest, RejectsBadModelsAndData) {
  Net net;
  torch::optim::SGD optimizer(net->parameters(), torch::optim::SGDOptions(1));
  const std::vector<Batch> empty;
  EXPECT_THAT([&] { LRRangeTest(net, optimizer).run(empty); },
              ThrowsMessage<c10::Error>(
                  HasSubstr("LRRangeTest: the training data is empty")));
  const auto batches = classification_batches(1, 4);
  EXPECT_THAT(
      [&] {
        LRRangeTest(net,
                    optimizer,
                    LRRangeTestOptions().loss_fn(
                        [](const torch::Tensor& output, const torch::Tensor&) {
                          return output;
                        }))
            .run(batches);
      },
      ThrowsMessage<c10::Error>(HasSubstr(
          "LRRangeTest: loss_fn must return a single value, got shape [4, "
          "3]")));
  EXPECT_THAT(
      [&] {
        LRRangeTest(net, optimizer, LRRangeTestOptions().device(torch::kCUDA))
            .run(batches);
      },
      ThrowsMessage<c10::Error>(
          HasSubstr("LRRangeTest: the module has a parameter on cpu but device "
                    "is cuda")));
  const auto hook_options = LRRangeTestOptions().train_step(
      [&](const Batch& batch) { return net->forward(batch.input); });
  EXPECT_THAT(
      [&] { LRRangeTest(net, optimizer, hook_options).run(batches); },
      ThrowsMessage<c10::Error>(HasSubstr(
          "LRRangeTest: train_step must return a single value, got shape [4, "
          "3]")));
  EXPECT_THAT([&] { LRRangeTest(net.ptr(), nullptr, optimizer); },
              ThrowsMessage<c10::Error>(
                  HasSubstr("LRRangeTest: the forward function is empty and "
                            "no train_step is set")));
  EXPECT_THAT(
      [&] {
        LRRangeTest(net.ptr(), nullptr, optimizer, hook_options)
            .run(batches, batches);
      },
      ThrowsMessage<c10::Error>(HasSubstr(
          "LRRangeTest: a validation pass needs a forward function")));
  torch::optim::SGD zero_lr(net->parameters(), torch::optim::SGDOptions(0));
  EXPECT_THAT([&] { LRRangeTest(net, zero_lr).run(batches); },
              ThrowsMessage<c10::Error>(
                  HasSubstr("LRRangeTest: group_ratios come from the param "
                            "groups' LRs, which must be finite and > 0, but "
                            "group 0 has lr 0; set group_ratios")));
}

}  // namespace
}  // namespace torchclr::test
