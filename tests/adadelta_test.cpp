#include <gmock/gmock.h>
#include <torch/torch.h>
#include <torchclr/adadelta.h>
#include <torchclr/cyclic_lr.h>
#include <torchclr/detail/version.h>
#include <torchclr/momentum.h>
#include <torchclr/one_cycle_lr.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <iomanip>
#include <iostream>
#include <string>
#include <vector>

#include "test_util.h"

namespace torchclr::test {
namespace {

using ::testing::HasSubstr;
using ::testing::ThrowsMessage;

constexpr int64_t kSteps = 20;

// The model and data of tests/data/generate_adadelta_reference.py, in float64.
torch::nn::Linear make_model() {
  torch::nn::Linear linear(4, 3);
  linear->to(torch::kDouble);
  torch::NoGradGuard no_grad;
  linear->weight.copy_(0.1 *
                       torch::sin(1.3 * torch::arange(12, torch::kDouble) + 0.5)
                           .reshape({3, 4}));
  linear->bias.copy_(0.1 * torch::cos(0.7 * torch::arange(3, torch::kDouble)));
  return linear;
}

// The parameters as the reference files order them: weight row-major, bias.
std::vector<double> flat_parameters(const torch::nn::Linear& linear) {
  const auto flat =
      torch::cat({linear->weight.detach().reshape(-1), linear->bias.detach()});
  return {flat.data_ptr<double>(), flat.data_ptr<double>() + flat.numel()};
}

// Both sides compute in float64 with the same formulas, so they differ by
// rounding alone: measured against LibTorch 1.13 / PyTorch 1.13, at most
// 1.4e-13 relative (weights that cancel down to 1e-3 or 1e-4, such as w_10 of
// adadelta_groups_maximize at step 8), 4e-14 elsewhere; 1e-12 leaves a margin
// of seven times for other BLAS summation orders.
constexpr double kRelativeTolerance = 1e-12;

// Checks one value and returns its relative difference (0 for 0 == 0).
double expect_relative(double actual,
                       double expected,
                       const std::string& what) {
  const double scale = std::max(std::abs(actual), std::abs(expected));
  EXPECT_LE(std::abs(actual - expected), kRelativeTolerance * scale)
      << std::setprecision(17) << what << ": got " << actual << ", PyTorch "
      << expected;
  return scale == 0 ? 0 : std::abs(actual - expected) / scale;
}

// Steps `optimizer` through a reference run with a closure, checking the loss
// before each step and the parameters after it against PyTorch's.
void expect_matches_reference(const std::string& name,
                              torch::nn::Linear& linear,
                              torch::optim::Optimizer& optimizer,
                              int64_t first_step = 0) {
  const Reference ref = load_reference(name);
  ASSERT_EQ(ref.last_step, kSteps);
  ASSERT_EQ(ref.columns.size(), 16u);  // loss, 12 weights, 3 biases
  const auto x = regression_inputs();
  const auto y = regression_targets();
  double worst = 0;
  for (int64_t step = first_step; step < kSteps; ++step) {
    const torch::Tensor loss = optimizer.step([&] {
      optimizer.zero_grad();
      auto value = torch::mse_loss(linear(x), y);
      value.backward();
      return value;
    });
    const auto context = name + " step " + std::to_string(step);
    worst = std::max(
        worst,
        expect_relative(loss.item<double>(), ref.rows.at(step)[0], context));
    const auto params = flat_parameters(linear);
    const auto& expected = ref.rows.at(step + 1);
    for (std::size_t i = 0; i < params.size(); ++i) {
      worst = std::max(
          worst,
          expect_relative(
              params[i], expected[i + 1], context + " " + ref.columns[i + 1]));
    }
  }
  // The margin under the tolerance, for the comment above to be checked.
  std::cout << name << ": worst relative difference to PyTorch " << worst
            << "\n";
}

TEST(AdadeltaTest, DefaultsMatchPyTorch) {
  const AdadeltaOptions options;
  EXPECT_EQ(options.lr(), 1.0);
  EXPECT_EQ(options.rho(), 0.9);
  EXPECT_EQ(options.eps(), 1e-6);
  EXPECT_EQ(options.weight_decay(), 0.0);
  EXPECT_FALSE(options.maximize());
}

TEST(AdadeltaTest, DefaultOptionsMatchPyTorchStepByStep) {
  auto linear = make_model();
  Adadelta optimizer(linear->parameters());
  expect_matches_reference("adadelta_defaults", linear, optimizer);
}

TEST(AdadeltaTest, WeightDecayMatchesPyTorchStepByStep) {
  auto linear = make_model();
  Adadelta optimizer(
      linear->parameters(),
      AdadeltaOptions(0.5).rho(0.95).eps(1e-5).weight_decay(0.1));
  expect_matches_reference("adadelta_weight_decay", linear, optimizer);
}

TEST(AdadeltaTest, GroupOptionsAndMaximizeMatchPyTorchStepByStep) {
  auto linear = make_model();
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(std::vector<torch::Tensor>{linear->weight});
  groups.emplace_back(
      std::vector<torch::Tensor>{linear->bias},
      std::make_unique<AdadeltaOptions>(
          AdadeltaOptions(0.3).rho(0.8).weight_decay(0.01).maximize(true)));
  Adadelta optimizer(std::move(groups), AdadeltaOptions(2.0).maximize(true));
  expect_matches_reference("adadelta_groups_maximize", linear, optimizer);
}

TEST(AdadeltaTest, StateIsCreatedOnFirstStepAndCountsSteps) {
  auto linear = make_model();
  Adadelta optimizer(linear->parameters());
  EXPECT_TRUE(optimizer.state().empty());
  for (int i = 0; i < 3; ++i) {
    optimizer.zero_grad();
    torch::mse_loss(linear(regression_inputs()), regression_targets())
        .backward();
    optimizer.step();
  }
  ASSERT_EQ(optimizer.state().size(), 2u);
  for (const auto& entry : optimizer.state()) {
    const auto& state = static_cast<const AdadeltaParamState&>(*entry.second);
    EXPECT_EQ(state.step(), 3);
    EXPECT_TRUE(state.square_avg().defined());
    EXPECT_TRUE(state.acc_delta().defined());
  }
}

TEST(AdadeltaTest, ParametersWithoutGradientAreLeftAlone) {
  auto used = torch::ones({2}, torch::requires_grad());
  auto unused = torch::ones({2}, torch::requires_grad());
  Adadelta optimizer(std::vector<torch::Tensor>{used, unused});
  (used * used).sum().backward();
  optimizer.step();
  EXPECT_TRUE(torch::equal(unused, torch::ones({2})));
  EXPECT_FALSE(torch::equal(used, torch::ones({2})));
  EXPECT_EQ(optimizer.state().size(), 1u);
}

TEST(AdadeltaTest, FirstStepMatchesHandCalculation) {
  // g = 2 theta = 4 at theta = 2; v = (1 - rho) g^2 = 1.6;
  // d = sqrt(0 + eps) / sqrt(v + eps) * g; theta <- theta - lr d.
  auto theta = torch::full({1}, 2.0, torch::dtype(torch::kDouble));
  theta.set_requires_grad(true);
  Adadelta optimizer(std::vector<torch::Tensor>{theta});
  (theta * theta).sum().backward();
  optimizer.step();
  const double delta = std::sqrt(1e-6) / std::sqrt(1.6 + 1e-6) * 4.0;
  EXPECT_NEAR(theta.item<double>(), 2.0 - delta, 1e-15);
}

TEST(AdadeltaTest, ComplexParameterUpdatesRealAndImaginaryPartsSeparately) {
  // PyTorch views complex state as pairs of reals: a complex parameter moves
  // exactly as the real pair (re, im) with the same gradient.
  auto complex = torch::complex(torch::tensor({1.0, -2.0}, torch::kDouble),
                                torch::tensor({0.5, 3.0}, torch::kDouble));
  complex.set_requires_grad(true);
  auto real = torch::view_as_real(complex.detach()).clone().requires_grad_();
  Adadelta complex_optimizer(std::vector<torch::Tensor>{complex},
                             AdadeltaOptions(0.7).weight_decay(0.1));
  Adadelta real_optimizer(std::vector<torch::Tensor>{real},
                          AdadeltaOptions(0.7).weight_decay(0.1));
  const auto grad = torch::tensor({0.3, -1.0, 2.0, 0.25}, torch::kDouble);
  for (int i = 0; i < 3; ++i) {
    complex.mutable_grad() = torch::view_as_complex(grad.reshape({2, 2}));
    real.mutable_grad() = grad.reshape({2, 2});
    complex_optimizer.step();
    real_optimizer.step();
  }
  EXPECT_TRUE(torch::allclose(
      torch::view_as_real(complex.detach()), real, 1e-15, 1e-15));
}

TEST(AdadeltaTest, SaveMidRunAndLoadIntoFreshOptimizerResumesExactly) {
  const TempDir dir;
  const int64_t saved_at = 7;
  const auto options =
      AdadeltaOptions(0.5).rho(0.95).eps(1e-5).weight_decay(0.1);
  auto linear = make_model();
  Adadelta optimizer(linear->parameters(), options);
  const auto x = regression_inputs();
  const auto y = regression_targets();
  for (int64_t step = 0; step < saved_at; ++step) {
    optimizer.zero_grad();
    torch::mse_loss(linear(x), y).backward();
    optimizer.step();
  }
  torch::save(linear, dir.file("model.pt"));
  torch::save(optimizer, dir.file("optimizer.pt"));

  // A fresh model and optimizer, built with other options: load restores the
  // group options along with the state.
  auto resumed = make_model();
  torch::load(resumed, dir.file("model.pt"));
  Adadelta resumed_optimizer(resumed->parameters(), AdadeltaOptions(9.0));
  torch::load(resumed_optimizer, dir.file("optimizer.pt"));
  EXPECT_TRUE(static_cast<const AdadeltaOptions&>(
                  resumed_optimizer.param_groups()[0].options()) == options);
  ASSERT_EQ(resumed_optimizer.state().size(), 2u);
  for (const auto& param : resumed->parameters()) {
    const auto& state = static_cast<const AdadeltaParamState&>(
        *resumed_optimizer.state().at(detail::optimizer_state_key(param)));
    EXPECT_EQ(state.step(), saved_at);
  }

  // Both runs continue identically, and still match PyTorch's.
  for (int64_t step = saved_at; step < kSteps; ++step) {
    for (auto* run : {&optimizer, &resumed_optimizer}) {
      auto& model = run == &optimizer ? linear : resumed;
      run->zero_grad();
      torch::mse_loss(model(x), y).backward();
      run->step();
    }
    EXPECT_EQ(flat_parameters(linear), flat_parameters(resumed))
        << "after step " << step;
  }
  const auto ref = load_reference("adadelta_weight_decay");
  const auto params = flat_parameters(resumed);
  for (std::size_t i = 0; i < params.size(); ++i) {
    expect_relative(params[i], ref.rows.at(kSteps)[i + 1], ref.columns[i + 1]);
  }
}

TEST(AdadeltaTest, LoadMovesStateToTheParameterDtype) {
  // PyTorch's load_state_dict casts the state to each parameter's dtype and
  // device; a float64 checkpoint resumes a float32 model in float32.
  const TempDir dir;
  auto wide =
      torch::ones({2}, torch::dtype(torch::kDouble).requires_grad(true));
  Adadelta saved(std::vector<torch::Tensor>{wide});
  (wide * wide).sum().backward();
  saved.step();
  torch::save(saved, dir.file("optimizer.pt"));

  auto narrow = torch::ones({2}, torch::requires_grad());
  Adadelta loaded(std::vector<torch::Tensor>{narrow});
  torch::load(loaded, dir.file("optimizer.pt"));
  const auto& state = static_cast<const AdadeltaParamState&>(
      *loaded.state().at(detail::optimizer_state_key(narrow)));
  EXPECT_EQ(state.square_avg().scalar_type(), torch::kFloat);
  EXPECT_EQ(state.acc_delta().scalar_type(), torch::kFloat);
  EXPECT_EQ(state.step(), 1);
}

TEST(AdadeltaTest, LoadWithAnotherGroupCountIsRefused) {
  const TempDir dir;
  auto saved = make_optimizer<Adadelta>({1.0, 1.0}, AdadeltaOptions());
  torch::save(*saved, dir.file("optimizer.pt"));
  auto loaded = make_optimizer<Adadelta>({1.0}, AdadeltaOptions());
  EXPECT_THAT([&] { torch::load(*loaded, dir.file("optimizer.pt")); },
              ThrowsMessage<c10::Error>(
                  HasSubstr("different number of parameter groups")));
}

TEST(AdadeltaTest, LrIsReadAndSetThroughTheBaseOptions) {
  // Schedulers change the LR through OptimizerOptions::get_lr/set_lr.
  auto optimizer =
      make_optimizer<Adadelta>({1.0, 0.5}, AdadeltaOptions(1.0).rho(0.8));
  auto& options = optimizer->param_groups()[1].options();
  EXPECT_EQ(options.get_lr(), 0.5);
  options.set_lr(0.25);
  EXPECT_EQ(static_cast<AdadeltaOptions&>(options).lr(), 0.25);
  EXPECT_EQ(static_cast<AdadeltaOptions&>(options).rho(), 0.8);
}

TEST(AdadeltaTest, HasNoMomentumForSchedulers) {
  auto optimizer = make_optimizer<Adadelta>({1.0}, AdadeltaOptions());
  EXPECT_EQ(get_momentum(optimizer->param_groups()[0].options()), std::nullopt);
}

TEST(AdadeltaTest, CyclingMomentumIsRefusedWithAClearMessage) {
  auto optimizer = make_optimizer<Adadelta>({1.0}, AdadeltaOptions());
  EXPECT_THAT([&] { CyclicLR(*optimizer, CyclicLROptions(0.1, 1.0)); },
              ThrowsMessage<c10::Error>(
                  HasSubstr("CyclicLR: cycle_momentum is true but the "
                            "optimizer has no momentum")));
  EXPECT_THAT([&] { OneCycleLR(*optimizer, OneCycleLROptions(1.0, 100)); },
              ThrowsMessage<c10::Error>(
                  HasSubstr("OneCycleLR: cycle_momentum is true but the "
                            "optimizer has no momentum")));
}

TEST(AdadeltaTest, CyclicLRWithoutMomentumCyclesTheLR) {
  auto optimizer = make_optimizer<Adadelta>({1.0}, AdadeltaOptions());
  CyclicLR scheduler(
      *optimizer,
      CyclicLROptions(0.1, 1.0).step_size_up(4).cycle_momentum(false));
  EXPECT_DOUBLE_EQ(optimizer->param_groups()[0].options().get_lr(), 0.1);
  for (int i = 0; i < 2; ++i) {
    optimizer->step();
    scheduler.step();
  }
  // Half way up: 0.1 + (1.0 - 0.1) * 2 / 4.
  EXPECT_DOUBLE_EQ(optimizer->param_groups()[0].options().get_lr(), 0.55);
}

TEST(AdadeltaTest, SparseGradientIsRefused) {
  auto param = torch::zeros({3}, torch::requires_grad());
  Adadelta optimizer(std::vector<torch::Tensor>{param});
  param.mutable_grad() =
      torch::sparse_coo_tensor(torch::tensor({{1}}), torch::tensor({1.0}), {3});
  EXPECT_THAT([&] { optimizer.step(); },
              ThrowsMessage<c10::Error>(
                  HasSubstr("Adadelta does not support sparse gradients")));
}

using BadAdadeltaOption = BadOption<AdadeltaOptions>;

class AdadeltaBadOptionsTest
    : public ::testing::TestWithParam<BadAdadeltaOption> {};

TEST_P(AdadeltaBadOptionsTest, DefaultsNameTheOptionAndValue) {
  auto param = torch::zeros({1}, torch::requires_grad());
  EXPECT_THAT(
      [&] { Adadelta(std::vector<torch::Tensor>{param}, GetParam().options); },
      ThrowsMessage<c10::Error>(HasSubstr("Adadelta: " + GetParam().message)));
}

TEST_P(AdadeltaBadOptionsTest, GroupOptionsNameTheGroupOptionAndValue) {
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(
      std::vector<torch::Tensor>{torch::zeros({1}, torch::requires_grad())});
  groups.emplace_back(
      std::vector<torch::Tensor>{torch::zeros({1}, torch::requires_grad())},
      std::make_unique<AdadeltaOptions>(GetParam().options));
  EXPECT_THAT([&] { Adadelta(std::move(groups)); },
              ThrowsMessage<c10::Error>(HasSubstr("Adadelta (param group 1): " +
                                                  GetParam().message)));
}

INSTANTIATE_TEST_SUITE_P(
    Options,
    AdadeltaBadOptionsTest,
    ::testing::Values(
        BadAdadeltaOption{AdadeltaOptions(-0.1),
                          "lr must be a finite number >= 0, got -0.1"},
        BadAdadeltaOption{AdadeltaOptions().rho(1.5),
                          "rho must be in [0, 1], got 1.5"},
        BadAdadeltaOption{AdadeltaOptions().rho(-0.5),
                          "rho must be in [0, 1], got -0.5"},
        BadAdadeltaOption{AdadeltaOptions().rho(NAN),
                          "rho must be in [0, 1], got nan"},
        BadAdadeltaOption{AdadeltaOptions().eps(-1e-8),
                          "eps must be a finite number >= 0, got -1e-08"},
        BadAdadeltaOption{AdadeltaOptions().weight_decay(-1),
                          "weight_decay must be a finite number >= 0, got -1"}),
    [](const auto& info) {
      return param_name(info.index, info.param.message);
    });

}  // namespace
}  // namespace torchclr::test
