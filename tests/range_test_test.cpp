// LRRangeTest: the sweep's formulas, the suggestion rules on hand-made curves,
// a known answer (gradient descent on least squares), exact restoration of
// the model and optimizer, stop reasons, data sources and the report files.

#include <torchclr/detail/version.h>
#include <torchclr/range_test.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <stdexcept>

#include "test_util.h"

namespace torchclr::test {
namespace {

namespace fs = std::filesystem;

// gmock's HasSubstr without linking gmock.
::testing::AssertionResult contains(const std::string& text,
                                    const std::string& part) {
  if (text.find(part) != std::string::npos) {
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure()
         << "\"" << text << "\" does not contain \"" << part << "\"";
}

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

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
  EXPECT_TRUE(
      contains(error_of([&] { range_test_lr(5, options); }),
               "LRRangeTest: iteration must be in [0, num_iter = 5), got 5"));
}

TEST(LRRangeTestTest, SmoothedLossIsBiasCorrectedEma) {
  // f = 0.5: avg1 = 2, smoothed1 = 2 / (1 - 0.5) = 4; avg2 = 0.5 * 2 + 0.5 *
  // 2 = 2, smoothed2 = 2 / (1 - 0.25) = 8/3; avg3 = 0.5 * 2 + 0.5 * 8 = 5,
  // smoothed3 = 5 / (1 - 0.125) = 40/7.
  const auto smoothed = smooth_losses({4, 2, 8}, 0.5);
  ASSERT_EQ(smoothed.size(), 3u);
  EXPECT_DOUBLE_EQ(smoothed[0], 4.0);
  EXPECT_DOUBLE_EQ(smoothed[1], 8.0 / 3.0);
  EXPECT_DOUBLE_EQ(smoothed[2], 40.0 / 7.0);
  // f = 1 is no smoothing at all.
  EXPECT_EQ(smooth_losses({3, 1, 2}, 1.0), (std::vector<double>{3, 1, 2}));
  // Where 1 - f rounds to 1 the correction still divides by k f, not by 0:
  // the smoothed loss is the running mean.
  const auto tiny = smooth_losses({4, 2, 6}, 1e-17);
  EXPECT_DOUBLE_EQ(tiny[0], 4.0);
  EXPECT_DOUBLE_EQ(tiny[1], 3.0);
  EXPECT_DOUBLE_EQ(tiny[2], 4.0);
}

// --- Suggestion rules on hand-made curves ---------------------------------

std::vector<double> one_to(std::size_t n) {
  std::vector<double> values;
  for (std::size_t i = 1; i <= n; ++i) {
    values.push_back(static_cast<double>(i));
  }
  return values;
}

TEST(LRRangeTestTest, ValleyFollowsFastai) {
  // num_iter 20: fastai keeps points [20 / 10, n - 5) = [2, 9), i.e. the
  // losses 5 4 6 3 2 7 1. Its longest-decreasing-subsequence pass, by hand:
  // lds = 1 2 1 3 4 1 5; max_end moves to 1 (start 1 - 2 = -1), 3 (start 0),
  // 4 (start 0), and at i = 6 it first exceeds at j = 4 with lds 5 (start
  // 6 - 5 = 1). sections = (6 - 1) / 3 = 1.67, idx = 1 + 1 + int(0.83) = 2,
  // the point at 2 + 2 = 4 of the full curve, whose lr is 5.
  const std::vector<double> losses = {9, 9, 5, 4, 6, 3, 2, 7, 1, 8, 8, 8, 8, 8};
  EXPECT_EQ(suggest_valley_lr(one_to(losses.size()), losses, 20), 5.0);
  // Three more falling points: max_end 9, start 1, sections 8/3, idx 4.
  const std::vector<double> longer = {
      9, 9, 5, 4, 6, 3, 2, 7, 1, 0.5, 0.4, 0.3, 8, 8, 8, 8, 8};
  EXPECT_EQ(suggest_valley_lr(one_to(longer.size()), longer, 20), 7.0);
  // Nothing left once the skipped points are gone.
  EXPECT_FALSE(suggest_valley_lr(one_to(7), std::vector<double>(7, 1.0), 20));
}

TEST(LRRangeTestTest, SteepestIsMinGradientAgainstLogLr) {
  // lr = 10^(k/4): ln lr has even steps h = ln(10)/4. torch-lr-finder skips
  // the first 10 and last 5 points, leaving k = 10..14, so the cliff at k = 0
  // does not count. Gradients (numpy.gradient): k=10: (10-10)/h = 0, k=11:
  // (9-10)/2h, k=12: (6-10)/2h, k=13: (5.5-9)/2h, k=14: (5.5-6)/h = -1/2h.
  // The steepest is k = 12, lr = 10^3.
  std::vector<double> lrs;
  for (int k = 0; k < 20; ++k) {
    lrs.push_back(std::pow(10.0, k / 4.0));
  }
  std::vector<double> losses = {100, 10, 10, 10, 10,  10, 10, 10, 10, 10,
                                10,  10, 9,  6,  5.5, 5,  5,  5,  5,  5};
  const auto steepest = suggest_steepest_lr(lrs, losses);
  ASSERT_TRUE(steepest);
  EXPECT_DOUBLE_EQ(*steepest, 1e3);
  // 16 points leave fewer than 2 after skipping.
  lrs.resize(16);
  losses.resize(16);
  EXPECT_FALSE(suggest_steepest_lr(lrs, losses));
}

TEST(LRRangeTestTest, PaperBoundsReadTheFallAndTheBottom) {
  const std::vector<double> lrs = {
      1e-4, 1e-3, 1e-2, 0.03, 0.1, 0.2, 0.4, 1, 3, 10};
  // Highest point before the minimum: 5.1 at index 1; the minimum 1.4 at
  // index 7. 10% of the fall (3.7) is reached at 4.5 <= 4.73, index 2.
  // max_lr = lr[7] / 2 = 0.5; base_lr = lr[2] = 0.01 (below 0.5 / 4).
  const std::vector<double> curve = {5, 5.1, 4.5, 4, 3, 2, 1.5, 1.4, 2, 9};
  auto bounds = suggest_paper_bounds(lrs, curve);
  ASSERT_TRUE(bounds);
  EXPECT_DOUBLE_EQ(bounds->first, 0.01);
  EXPECT_DOUBLE_EQ(bounds->second, 0.5);
  // With a smoothing lag of 2 points both are read 2 points earlier:
  // max_lr = lr[5] / 2 = 0.1, base_lr = lr[0] = 1e-4.
  bounds = suggest_paper_bounds(lrs, curve, 2);
  ASSERT_TRUE(bounds);
  EXPECT_DOUBLE_EQ(bounds->first, 1e-4);
  EXPECT_DOUBLE_EQ(bounds->second, 0.1);
  // A late, narrow fall (10% reached at index 5, lr 0.2 > 0.5 / 4): base_lr
  // falls back to the paper's rule of thumb, max_lr / 4.
  const std::vector<double> late = {5, 5, 5, 5, 5, 4, 2, 1.4, 2, 9};
  bounds = suggest_paper_bounds(lrs, late);
  ASSERT_TRUE(bounds);
  EXPECT_DOUBLE_EQ(bounds->first, 0.125);
  EXPECT_DOUBLE_EQ(bounds->second, 0.5);
  // A curve that never falls below its first point has no bounds.
  EXPECT_FALSE(suggest_paper_bounds(lrs, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10}));
  // The lag of the default smoothing, 0.05: 0.95 / 0.05 = 19 points.
  EXPECT_EQ(smoothing_lag(0.05), 19u);
  EXPECT_EQ(smoothing_lag(1.0), 0u);
}

TEST(LRRangeTestTest, SuggestionsRejectBadCurves) {
  EXPECT_TRUE(
      contains(error_of([] {
                 suggest_steepest_lr({1, 2}, {1});
               }),
               "suggest_steepest_lr: lrs and smoothed_losses must have the "
               "same length, got 2 and 1"));
  EXPECT_TRUE(contains(error_of([] {
                         suggest_valley_lr({1, 1}, {1, 1}, 2);
                       }),
                       "suggest_valley_lr: lrs must be strictly increasing"));
  EXPECT_TRUE(contains(error_of([] {
                         suggest_paper_bounds({1, 2}, {1, kNaN});
                       }),
                       "suggest_paper_bounds: point 1 is not finite"));
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
  EXPECT_TRUE(contains(error_of([&] { result.to_cyclic_options(0); }),
                       "LRRangeTest: iters_per_epoch must be > 0, got 0"));
  EXPECT_TRUE(contains(error_of([&] { result.to_cyclic_options(500, 1e300); }),
                       "LRRangeTest: step_size_epochs (1e+300) * "
                       "iters_per_epoch (500) is more steps than int64_t "
                       "counts"));
  result.suggestions = {};
  EXPECT_TRUE(
      contains(error_of([&] { result.to_cyclic_options(500); }),
               "LRRangeTest: to_cyclic_options needs the base_lr and max_lr "
               "suggestions"));
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

TEST(LRRangeTestTest, LeastSquaresMaxLrIsBelowTheStabilityLimit) {
  struct Case {
    double condition;
    double largest_singular_value;
    LRSweep sweep;
  };
  // 2 / lambda_max = n / s_max^2 = 64 / s_max^2: 1, 4, 0.25, 0.0625; 1, 4.
  const std::vector<Case> cases = {
      {1, 8, LRSweep::kExponential},
      {10, 4, LRSweep::kExponential},
      {100, 16, LRSweep::kExponential},
      {1000, 32, LRSweep::kExponential},
      {30, 8, LRSweep::kLinear},
      {3, 4, LRSweep::kLinear},
  };
  for (const auto& c : cases) {
    const auto problem =
        make_least_squares(c.condition, c.largest_singular_value, 7);
    const double limit = 2.0 / problem.lambda_max;
    const bool exponential = c.sweep == LRSweep::kExponential;
    // One fixed sweep per kind, whatever the answer.
    const auto options =
        exponential
            ? LRRangeTestOptions().start_lr(1e-5).end_lr(1e2).num_iter(200)
            : LRRangeTestOptions()
                  .start_lr(1e-3)
                  .end_lr(20)
                  .num_iter(400)
                  .sweep(LRSweep::kLinear);
    const auto result = least_squares_range_test(problem, options);
    const std::string context =
        (exponential ? "exponential" : "linear") + std::string(", condition ") +
        std::to_string(c.condition) + ", 2/lambda_max " + std::to_string(limit);
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
}

// --- Restoration ----------------------------------------------------------

struct NetImpl : torch::nn::Module {
  NetImpl()
      : fc1(register_module("fc1", torch::nn::Linear(4, 8))),
        bn(register_module("bn", torch::nn::BatchNorm1d(8))),
        fc2(register_module("fc2", torch::nn::Linear(8, 3))) {}

  torch::Tensor forward(const torch::Tensor& input) {
    return fc2(torch::relu(bn(fc1(input))));
  }

  torch::nn::Linear fc1;
  torch::nn::BatchNorm1d bn;
  torch::nn::Linear fc2;
};
TORCH_MODULE(Net);

std::vector<Batch> classification_batches(int64_t count, int64_t size) {
  std::vector<Batch> batches;
  for (int64_t i = 0; i < count; ++i) {
    batches.push_back(
        {torch::randn({size, 4}), torch::randint(0, 3, {size}, torch::kLong)});
  }
  return batches;
}

// Two param groups with different LRs and momenta.
std::vector<torch::optim::OptimizerParamGroup> two_groups(Net& net) {
  auto first = net->fc1->parameters();
  for (const auto& p : net->bn->parameters()) {
    first.push_back(p);
  }
  return {torch::optim::OptimizerParamGroup(first),
          torch::optim::OptimizerParamGroup(net->fc2->parameters())};
}

std::unique_ptr<torch::optim::Optimizer> make_named_optimizer(
    const std::string& kind, Net& net) {
  using namespace torch::optim;
  std::unique_ptr<Optimizer> optimizer;
  if (kind == "SGD") {
    optimizer = std::make_unique<SGD>(
        two_groups(net),
        SGDOptions(0.05).momentum(0.9).nesterov(true).weight_decay(1e-4));
    static_cast<SGDOptions&>(optimizer->param_groups()[1].options())
        .momentum(0.5);
  } else if (kind == "Adam") {
    optimizer = std::make_unique<Adam>(two_groups(net),
                                       AdamOptions(1e-3).amsgrad(true));
    static_cast<AdamOptions&>(optimizer->param_groups()[1].options())
        .betas({0.8, 0.99});
  } else if (kind == "AdamW") {
    optimizer = std::make_unique<AdamW>(two_groups(net),
                                        AdamWOptions(1e-3).weight_decay(0.05));
    static_cast<AdamWOptions&>(optimizer->param_groups()[1].options())
        .betas({0.85, 0.98});
  } else {
    optimizer = std::make_unique<RMSprop>(
        two_groups(net), RMSpropOptions(1e-3).momentum(0.9).centered(true));
    static_cast<RMSpropOptions&>(optimizer->param_groups()[1].options())
        .momentum(0.7);
  }
  optimizer->param_groups()[1].options().set_lr(0.0123);
  return optimizer;
}

// Same dtype, shape and bits (NaN == NaN, 0.0 != -0.0).
bool bitwise_equal(const torch::Tensor& a, const torch::Tensor& b) {
  if (a.defined() != b.defined()) {
    return false;
  }
  if (!a.defined()) {
    return true;
  }
  if (a.scalar_type() != b.scalar_type() || a.sizes() != b.sizes()) {
    return false;
  }
  if (a.scalar_type() == torch::kFloat) {
    return torch::equal(a.view(torch::kInt), b.view(torch::kInt));
  }
  if (a.scalar_type() == torch::kDouble) {
    return torch::equal(a.view(torch::kLong), b.view(torch::kLong));
  }
  return torch::equal(a, b);
}

// The tensors and step counts of one param state, whatever the optimizer.
std::pair<std::vector<torch::Tensor>, int64_t> state_fields(
    const torch::optim::OptimizerParamState& state) {
  using namespace torch::optim;
  if (auto* s = dynamic_cast<const SGDParamState*>(&state)) {
    return {{s->momentum_buffer()}, 0};
  }
  if (auto* s = dynamic_cast<const AdamParamState*>(&state)) {
    return {{s->exp_avg(), s->exp_avg_sq(), s->max_exp_avg_sq()}, s->step()};
  }
  if (auto* s = dynamic_cast<const AdamWParamState*>(&state)) {
    return {{s->exp_avg(), s->exp_avg_sq(), s->max_exp_avg_sq()}, s->step()};
  }
  if (auto* s = dynamic_cast<const RMSpropParamState*>(&state)) {
    return {{s->square_avg(), s->momentum_buffer(), s->grad_avg()}, s->step()};
  }
  ADD_FAILURE() << "unknown param state type";
  return {};
}

bool options_equal(const torch::optim::OptimizerOptions& a,
                   const torch::optim::OptimizerOptions& b) {
  using namespace torch::optim;
  if (auto* x = dynamic_cast<const SGDOptions*>(&a)) {
    return *x == dynamic_cast<const SGDOptions&>(b);
  }
  if (auto* x = dynamic_cast<const AdamOptions*>(&a)) {
    return *x == dynamic_cast<const AdamOptions&>(b);
  }
  if (auto* x = dynamic_cast<const AdamWOptions*>(&a)) {
    return *x == dynamic_cast<const AdamWOptions&>(b);
  }
  if (auto* x = dynamic_cast<const RMSpropOptions*>(&a)) {
    return *x == dynamic_cast<const RMSpropOptions&>(b);
  }
  ADD_FAILURE() << "unknown options type";
  return false;
}

// Everything the range test must leave as it found it, deep-copied.
struct Fingerprint {
  std::vector<std::pair<std::string, torch::Tensor>> tensors;
  std::vector<std::pair<std::string, torch::Tensor>> grads;
  std::vector<const void*> grad_identity;
  std::vector<bool> training;
  std::vector<std::unique_ptr<torch::optim::OptimizerOptions>> options;
  std::map<detail::OptimizerStateKey,
           std::pair<std::vector<torch::Tensor>, int64_t>>
      state;
};

Fingerprint fingerprint(Net& net, torch::optim::Optimizer& optimizer) {
  Fingerprint print;
  for (const auto& item : net->named_parameters()) {
    print.tensors.emplace_back(item.key(), item.value().detach().clone());
    const auto& grad = item.value().grad();
    print.grads.emplace_back(
        item.key(), grad.defined() ? grad.detach().clone() : torch::Tensor());
    print.grad_identity.push_back(grad.defined() ? grad.unsafeGetTensorImpl()
                                                 : nullptr);
  }
  for (const auto& item : net->named_buffers()) {
    print.tensors.emplace_back(item.key(), item.value().detach().clone());
  }
  for (const auto& module : net->modules()) {
    print.training.push_back(module->is_training());
  }
  for (const auto& group : optimizer.param_groups()) {
    print.options.push_back(group.options().clone());
  }
  for (const auto& [key, state] : optimizer.state()) {
    auto fields = state_fields(*state);
    for (auto& tensor : fields.first) {
      if (tensor.defined()) {
        tensor = tensor.clone();
      }
    }
    print.state[key] = fields;
  }
  return print;
}

void expect_same(const Fingerprint& before,
                 const Fingerprint& after,
                 const std::string& context) {
  ASSERT_EQ(before.tensors.size(), after.tensors.size()) << context;
  for (std::size_t i = 0; i < before.tensors.size(); ++i) {
    EXPECT_TRUE(
        bitwise_equal(before.tensors[i].second, after.tensors[i].second))
        << context << ": " << before.tensors[i].first;
  }
  for (std::size_t i = 0; i < before.grads.size(); ++i) {
    EXPECT_TRUE(bitwise_equal(before.grads[i].second, after.grads[i].second))
        << context << ": grad of " << before.grads[i].first;
    EXPECT_EQ(before.grad_identity[i], after.grad_identity[i])
        << context << ": grad tensor of " << before.grads[i].first;
  }
  EXPECT_EQ(before.training, after.training) << context;
  ASSERT_EQ(before.options.size(), after.options.size()) << context;
  for (std::size_t i = 0; i < before.options.size(); ++i) {
    EXPECT_TRUE(options_equal(*before.options[i], *after.options[i]))
        << context << ": options of group " << i;
  }
  ASSERT_EQ(before.state.size(), after.state.size()) << context;
  for (const auto& [key, fields] : before.state) {
    ASSERT_EQ(after.state.count(key), 1u) << context;
    const auto& other = after.state.at(key);
    EXPECT_EQ(fields.second, other.second) << context << ": step";
    ASSERT_EQ(fields.first.size(), other.first.size()) << context;
    for (std::size_t i = 0; i < fields.first.size(); ++i) {
      EXPECT_TRUE(bitwise_equal(fields.first[i], other.first[i]))
          << context << ": state tensor " << i;
    }
  }
}

enum class Outcome { kCompleted, kDiverged, kNonFinite, kThrows };

TEST(LRRangeTestTest, RestoresModelAndOptimizerBitForBit) {
  const auto batches = classification_batches(3, 8);
  for (const std::string kind : {"SGD", "Adam", "AdamW", "RMSprop"}) {
    for (bool warm : {false, true}) {
      for (auto outcome : {Outcome::kCompleted,
                           Outcome::kDiverged,
                           Outcome::kNonFinite,
                           Outcome::kThrows}) {
        const std::string context = kind + (warm ? " warm" : " fresh") +
                                    " outcome " +
                                    std::to_string(static_cast<int>(outcome));
        torch::manual_seed(3);
        Net net;
        auto optimizer = make_named_optimizer(kind, net);
        net->train();
        if (warm) {
          // State, running statistics and gradients that are not zero.
          for (int step = 0; step < 2; ++step) {
            optimizer->zero_grad();
            torch::nn::functional::cross_entropy(net->forward(batches[0].input),
                                                 batches[0].target)
                .backward();
            optimizer->step();
          }
          torch::nn::functional::cross_entropy(net->forward(batches[1].input),
                                               batches[1].target)
              .backward();
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
                .on_progress([&](int64_t, double, double) {
                  trained = trained ||
                            !torch::equal(net->fc1->weight, original_weight);
                })
                .loss_fn([&](const torch::Tensor& output,
                             const torch::Tensor& target) {
                  ++calls;
                  auto loss =
                      torch::nn::functional::cross_entropy(output, target);
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
          EXPECT_THROW(range_test.run(batches), std::runtime_error) << context;
        } else {
          const auto result = range_test.run(batches);
          const auto expected = outcome == Outcome::kCompleted
                                    ? RangeTestStopReason::kCompleted
                                : outcome == Outcome::kDiverged
                                    ? RangeTestStopReason::kDiverged
                                    : RangeTestStopReason::kNonFiniteLoss;
          EXPECT_EQ(result.stop_reason, expected) << context;
        }
        EXPECT_TRUE(trained) << context << ": the sweep changed nothing";
        expect_same(before, fingerprint(net, *optimizer), context);
      }
    }
  }
}

// --- Stop reasons and data sources ----------------------------------------

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

TEST(LRRangeTestTest, NonFiniteLossStopsTheSweepAndStaysOffTheCurve) {
  for (double bad : {kNaN, kInf, -kInf}) {
    ScriptedRun run;
    const auto result = run.run({3, 2.5, 2, 1.5, 1, bad, 0.5, 0.5});
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
}

TEST(LRRangeTestTest, DivergenceComparesSmoothedLossWithTheBest) {
  // smooth_f 1: smoothed == raw. Best 1 at iteration 2; 4.9 is within 5x,
  // 5.1 is not.
  ScriptedRun run;
  const auto result = run.run({3, 2, 1, 4.9, 5.1, 1, 1},
                              LRRangeTestOptions().num_iter(7).smooth_f(1));
  EXPECT_EQ(result.stop_reason, RangeTestStopReason::kDiverged);
  EXPECT_EQ(result.stop_iteration, 4);
  ASSERT_EQ(result.points.size(), 5u);
  EXPECT_FLOAT_EQ(result.points.back().loss, 5.1);
  EXPECT_DOUBLE_EQ(result.stop_lr,
                   range_test_lr(4, LRRangeTestOptions().num_iter(7)));
  ScriptedRun unlimited;
  EXPECT_EQ(
      unlimited
          .run({3, 2, 1, 4.9, 5.1, 1, 1},
               LRRangeTestOptions().num_iter(7).smooth_f(1).diverge_threshold(
                   kInf))
          .stop_reason,
      RangeTestStopReason::kCompleted);
  // A ratio to a best <= 0 means nothing: the rule waits for a positive best.
  ScriptedRun negative;
  EXPECT_EQ(
      negative.run({-1, -2, 3, 9}, LRRangeTestOptions().num_iter(4).smooth_f(1))
          .stop_reason,
      RangeTestStopReason::kCompleted);
}

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

class PairDataset : public torch::data::datasets::Dataset<PairDataset> {
 public:
  PairDataset(torch::Tensor inputs, torch::Tensor targets)
      : inputs_(std::move(inputs)), targets_(std::move(targets)) {}

  torch::data::Example<> get(size_t index) override {
    return {inputs_[index], targets_[index]};
  }
  torch::optional<size_t> size() const override {
    return inputs_.size(0);
  }

 private:
  torch::Tensor inputs_;
  torch::Tensor targets_;
};

TEST(LRRangeTestTest, RunsOverLibTorchDataLoaders) {
  const auto inputs = torch::randn({40, 4});
  const auto targets = torch::randint(0, 3, {40}, torch::kLong);
  torch::manual_seed(0);
  Net net;
  torch::optim::SGD optimizer(net->parameters(),
                              torch::optim::SGDOptions(0.1).momentum(0.9));
  LRRangeTest range_test(
      net, optimizer, LRRangeTestOptions().num_iter(13).end_lr(1));
  // Stacked batches (Example<>), 10 per pass: cycled once.
  auto stacked =
      torch::data::make_data_loader<torch::data::samplers::SequentialSampler>(
          PairDataset(inputs, targets).map(torch::data::transforms::Stack<>()),
          4);
  EXPECT_EQ(range_test.run(*stacked).points.size(), 13u);
  // Unstacked batches (std::vector<Example<>>), with a validation loader.
  auto unstacked =
      torch::data::make_data_loader<torch::data::samplers::SequentialSampler>(
          PairDataset(inputs, targets), 8);
  const auto result = range_test.run(*unstacked, *stacked);
  EXPECT_EQ(result.points.size(), 13u);
  EXPECT_TRUE(result.points.back().metric);
  // Workers prefetch; a loader left mid-pass would refuse a new begin(), so
  // the run drains it and the caller can use it right away.
  auto threaded = torch::data::make_data_loader(
      PairDataset(inputs, targets).map(torch::data::transforms::Stack<>()),
      torch::data::DataLoaderOptions(2).workers(2));
  EXPECT_EQ(range_test.run(*threaded).points.size(), 13u);
  int64_t batches = 0;
  for (auto& batch : *threaded) {
    batches += batch.data.size(0) > 0 ? 1 : 0;
  }
  EXPECT_EQ(batches, 20);
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

TEST(LRRangeTestTest, RejectsBadOptionsAndData) {
  Net net;
  torch::optim::SGD optimizer(net->parameters(), torch::optim::SGDOptions(1));
  auto message = [&](LRRangeTestOptions options) {
    return error_of([&] { (void)LRRangeTest(net, optimizer, options); });
  };
  EXPECT_TRUE(
      contains(message(LRRangeTestOptions().start_lr(0)),
               "LRRangeTest: start_lr must be a finite number > 0, got 0"));
  EXPECT_TRUE(
      contains(message(LRRangeTestOptions().end_lr(1e-8)),
               "LRRangeTest: end_lr (1e-08) must be above start_lr (1e-07)"));
  EXPECT_TRUE(contains(message(LRRangeTestOptions().start_lr(1e-310)),
                       "LRRangeTest: end_lr / start_lr (10 / 1e-310) "
                       "overflows a double"));
  EXPECT_TRUE(contains(message(LRRangeTestOptions().num_iter(1)),
                       "LRRangeTest: num_iter must be >= 2, got 1"));
  EXPECT_TRUE(contains(message(LRRangeTestOptions().smooth_f(0)),
                       "LRRangeTest: smooth_f must be in (0, 1], got 0"));
  EXPECT_TRUE(contains(message(LRRangeTestOptions().diverge_threshold(1)),
                       "LRRangeTest: diverge_threshold must be > 1"));
  EXPECT_TRUE(contains(message(LRRangeTestOptions().accumulation_steps(0)),
                       "LRRangeTest: accumulation_steps must be > 0, got 0"));
  EXPECT_TRUE(contains(message(LRRangeTestOptions().eval_every(-1)),
                       "LRRangeTest: eval_every must be > 0, got -1"));

  const std::vector<Batch> empty;
  EXPECT_TRUE(
      contains(error_of([&] { LRRangeTest(net, optimizer).run(empty); }),
               "LRRangeTest: the training data is empty"));
  const auto batches = classification_batches(1, 4);
  EXPECT_TRUE(
      contains(error_of([&] {
                 LRRangeTest(net,
                             optimizer,
                             LRRangeTestOptions().loss_fn(
                                 [](const torch::Tensor& output,
                                    const torch::Tensor&) { return output; }))
                     .run(batches);
               }),
               "LRRangeTest: loss_fn must return a single value, got shape "
               "[4, 3]"));
  EXPECT_TRUE(contains(
      error_of([&] {
        LRRangeTest(net, optimizer, LRRangeTestOptions().device(torch::kCUDA))
            .run(batches);
      }),
      "LRRangeTest: the module has a parameter on cpu but device "
      "is cuda"));
}

// --- Report files ---------------------------------------------------------

fs::path fresh_directory(const std::string& name) {
  const auto path =
      fs::temp_directory_path() / (name + "_" + std::to_string(::getpid()));
  fs::remove_all(path);
  fs::create_directories(path);
  return path;
}

std::vector<std::string> read_lines(const fs::path& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    lines.push_back(line);
  }
  return lines;
}

LRRangeTestResult small_result() {
  LRRangeTestResult result;
  result.metric = RangeTestMetric::kAccuracy;
  const std::vector<double> losses = {2.3, 2.2, 1.9, 1.2, 0.9, 1.1, 3.0};
  const auto smoothed = smooth_losses(losses, 0.5);
  for (std::size_t i = 0; i < losses.size(); ++i) {
    result.points.push_back(
        {static_cast<int64_t>(i),
         1e-4 * std::pow(10.0, static_cast<double>(i) / 2),
         losses[i],
         smoothed[i],
         i % 2 == 1 ? std::optional<double>(0.1 * static_cast<double>(i))
                    : std::nullopt});
  }
  result.suggestions.base_lr = 1e-3;
  result.suggestions.max_lr = 1e-2;
  return result;
}

TEST(LRRangeTestTest, WritesCsvAndPlot) {
  const auto directory = fresh_directory("torchclr_range_plot");
  const auto result = small_result();
  const auto report = write_csv_and_plot(
      result, directory / "range.csv", directory / "range.png");
  const auto lines = read_lines(directory / "range.csv");
  ASSERT_EQ(lines.size(), 8u);
  EXPECT_EQ(lines[0], "iteration,lr,loss,smoothed_loss,val_accuracy");
  // Full precision, and an empty field where nothing was evaluated.
  std::istringstream row(lines[2]);
  std::string cell;
  std::vector<std::string> cells;
  while (std::getline(row, cell, ',')) {
    cells.push_back(cell);
  }
  ASSERT_EQ(cells.size(), 5u);
  EXPECT_EQ(std::stod(cells[1]), result.points[1].lr);
  EXPECT_EQ(std::stod(cells[3]), result.points[1].smoothed_loss);
  EXPECT_EQ(std::stod(cells[4]), 0.1);
  EXPECT_EQ(lines[1].back(), ',');
  if (report.status == PlotStatus::kGnuplotMissing) {
    GTEST_SKIP() << "gnuplot is not installed: " << report.message;
  }
  ASSERT_EQ(report.status, PlotStatus::kWritten) << report.message;
  std::ifstream png(directory / "range.png", std::ios::binary);
  char magic[4] = {};
  png.read(magic, 4);
  EXPECT_EQ(std::string(magic + 1, 3), "PNG");
  // Nothing temporary is left behind.
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(directory)) {
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"range.csv", "range.png"}));
  fs::remove_all(directory);
}

TEST(LRRangeTestTest, ReportsMissingOrFailingGnuplot) {
  const auto directory = fresh_directory("torchclr_range_noplot");
  const auto result = small_result();
  auto report = write_csv_and_plot(result,
                                   directory / "range.csv",
                                   directory / "range.png",
                                   "/nonexistent/gnuplot");
  EXPECT_EQ(report.status, PlotStatus::kGnuplotMissing);
  EXPECT_TRUE(contains(report.message, "/nonexistent/gnuplot"));
  EXPECT_TRUE(fs::exists(directory / "range.csv"));
  EXPECT_FALSE(fs::exists(directory / "range.png"));
  // `false` runs and exits 1 without writing anything.
  report = write_csv_and_plot(
      result, directory / "range.csv", directory / "range.png", "false");
  EXPECT_EQ(report.status, PlotStatus::kGnuplotFailed);
  EXPECT_TRUE(contains(report.message, "exited with status 1"));
  EXPECT_FALSE(fs::exists(directory / "range.png"));
  report = write_csv_and_plot(
      LRRangeTestResult{}, directory / "empty.csv", directory / "empty.png");
  EXPECT_EQ(report.status, PlotStatus::kNoData);
  EXPECT_EQ(read_lines(directory / "empty.csv").size(), 1u);
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(directory)) {
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"empty.csv", "range.csv"}));
  EXPECT_TRUE(contains(error_of([&] {
                         write_csv(result,
                                   directory / "missing_dir" / "range.csv");
                       }),
                       "LRRangeTest: cannot open"));
  fs::remove_all(directory);
}

}  // namespace
}  // namespace torchclr::test
