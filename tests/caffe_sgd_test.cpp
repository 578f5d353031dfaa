#include <gmock/gmock.h>
#include <torch/torch.h>
#include <torchclr/caffe_sgd.h>
#include <torchclr/cyclic_lr.h>
#include <torchclr/detail/version.h>
#include <torchclr/momentum.h>
#include <torchclr/one_cycle_lr.h>
#include <torchclr/step_lr.h>

#include <algorithm>
#include <cmath>
#include <sstream>
#include <string>
#include <vector>

#include "test_util.h"

namespace torchclr::test {
namespace {

using ::testing::HasSubstr;
using ::testing::ThrowsMessage;

// Float64 throughout: the comparisons below are at the level of rounding.
// The model's loss on the references' data.
torch::Tensor loss_of(const torch::Tensor& weight, const torch::Tensor& bias) {
  return torch::mse_loss(torch::addmm(bias, regression_inputs(), weight.t()),
                         regression_targets());
}

// A 4 -> 3 linear layer: {weight, bias}, with gradients.
std::vector<torch::Tensor> make_params() {
  return {(0.1 * torch::sin(1.3 * torch::arange(12, torch::kDouble) + 0.5))
              .reshape({3, 4})
              .requires_grad_(),
          (0.1 * torch::cos(0.7 * torch::arange(3, torch::kDouble)))
              .requires_grad_()};
}

void train_step(torch::optim::Optimizer& optimizer,
                const std::vector<torch::Tensor>& params) {
  optimizer.zero_grad();
  loss_of(params[0], params[1]).backward();
  optimizer.step();
}

std::vector<double> values(const torch::Tensor& tensor) {
  const auto flat = tensor.detach().to(torch::kDouble).contiguous().reshape(-1);
  return {flat.data_ptr<double>(), flat.data_ptr<double>() + flat.numel()};
}

// Caffe's solver settings per parameter: its layer's lr_mult and decay_mult.
struct Multipliers {
  double lr_mult;
  double decay_mult;
};

// Caffe's SGDSolver::ApplyUpdate (sgd_solver.cpp) and NesterovSolver's
// ComputeUpdateValue (nesterov_solver.cpp) transcribed as loops over plain
// doubles, one blob (data, diff, history_) per parameter; history_ starts at
// zero (PreSolve). Only the gradients come from autograd, on this copy's
// own data.
class CaffeTranscription {
 public:
  CaffeTranscription(const std::vector<torch::Tensor>& params,
                     std::vector<Multipliers> multipliers)
      : multipliers_(std::move(multipliers)) {
    for (const auto& param : params) {
      data_.push_back(values(param));
      history_.emplace_back(param.numel(), 0.0);
    }
  }

  // One solver iteration at `rate` (GetLearningRate) with the solver's
  // `momentum` and `weight_decay`.
  void apply_update(double rate,
                    double momentum,
                    double weight_decay,
                    bool nesterov) {
    auto diffs = gradients();
    for (std::size_t id = 0; id < data_.size(); ++id) {
      auto& data = data_[id];
      auto& history = history_[id];
      auto& diff = diffs[id];
      const std::size_t count = data.size();
      // Regularize (L2): caffe_axpy(count, local_decay, data, diff).
      const double local_decay = weight_decay * multipliers_[id].decay_mult;
      if (local_decay != 0) {
        for (std::size_t i = 0; i < count; ++i) {
          diff[i] = local_decay * data[i] + diff[i];
        }
      }
      const double local_rate = rate * multipliers_[id].lr_mult;
      // Nesterov: caffe_copy(history, update).
      const std::vector<double> update = history;
      // caffe_cpu_axpby(count, local_rate, diff, momentum, history).
      for (std::size_t i = 0; i < count; ++i) {
        history[i] = local_rate * diff[i] + momentum * history[i];
      }
      // SGD: caffe_copy(history, diff). Nesterov: caffe_cpu_axpby(count,
      // 1 + momentum, history, -momentum, update), caffe_copy(update, diff).
      for (std::size_t i = 0; i < count; ++i) {
        diff[i] = nesterov ? (1 + momentum) * history[i] + -momentum * update[i]
                           : history[i];
      }
      // Net::Update -> Blob::Update: data <- data - diff.
      for (std::size_t i = 0; i < count; ++i) {
        data[i] -= diff[i];
      }
    }
  }

  const std::vector<double>& data(std::size_t id) const {
    return data_[id];
  }

 private:
  std::vector<std::vector<double>> gradients() const {
    auto weight = torch::tensor(data_[0], torch::kDouble)
                      .reshape({3, 4})
                      .requires_grad_();
    auto bias = torch::tensor(data_[1], torch::kDouble).requires_grad_();
    loss_of(weight, bias).backward();
    return {values(weight.grad()), values(bias.grad())};
  }

  std::vector<Multipliers> multipliers_;
  std::vector<std::vector<double>> data_;
  std::vector<std::vector<double>> history_;
};

// Largest |a - b| over two parameter lists.
double max_difference(const std::vector<double>& actual,
                      const std::vector<double>& expected) {
  double largest = 0;
  for (std::size_t i = 0; i < actual.size(); ++i) {
    largest = std::max(largest, std::abs(actual[i] - expected[i]));
  }
  return largest;
}

// {weight, bias} as two groups: the weight at lr, decay x1; the bias at 2 lr
// and decay x3 (per-group options, as Caffe's lr_mult and decay_mult give).
constexpr Multipliers kWeight{1.0, 1.0};
constexpr Multipliers kBias{2.0, 3.0};

std::vector<torch::optim::OptimizerParamGroup> caffe_groups(
    const std::vector<torch::Tensor>& params,
    double lr,
    double momentum,
    double weight_decay,
    bool nesterov) {
  std::vector<torch::optim::OptimizerParamGroup> groups;
  for (std::size_t i = 0; i < 2; ++i) {
    const auto& mult = i == 0 ? kWeight : kBias;
    groups.emplace_back(std::vector<torch::Tensor>{params[i]},
                        std::make_unique<CaffeSGDOptions>(
                            CaffeSGDOptions(lr * mult.lr_mult)
                                .momentum(momentum)
                                .weight_decay(weight_decay * mult.decay_mult)
                                .nesterov(nesterov)));
  }
  return groups;
}

// Rounding level for these float64 parameters (|w| < 0.2, one unit in the
// last place 3e-17) over a few dozen steps; the runs below differ from their
// references by at most 7e-17 (LibTorch 1.13, x86-64).
constexpr double kRounding = 1e-15;

// The schedule of the transcription test: CyclicLR's triangle (base 0.01,
// max 0.1, 3 steps up, momentum cycled 0.9 -> 0.8) for two cycles, then a
// StepLR from 0.01 that drops x0.1 after 4 steps. Written here as closed
// forms (Smith's triangle, section 3.1 of arXiv 1506.01186).
constexpr int64_t kCyclicSteps = 12;
constexpr int64_t kTotalSteps = 20;

double triangle_height(int64_t step) {
  const double cycle = std::floor(1 + step / 6.0);
  return std::max(0.0, 1 - std::abs(step / 3.0 - 2 * cycle + 1));
}

double expected_rate(int64_t step) {
  if (step < kCyclicSteps) {
    return 0.01 + (0.1 - 0.01) * triangle_height(step);
  }
  return step < kCyclicSteps + 4 ? 0.01 : 0.001;
}

double expected_momentum(int64_t step) {
  return step < kCyclicSteps ? 0.9 - (0.9 - 0.8) * triangle_height(step) : 0.9;
}

class CaffeSGDTranscriptionTest : public ::testing::TestWithParam<bool> {};

TEST_P(CaffeSGDTranscriptionTest, MatchesCaffeOverACyclicStretchAndADrop) {
  const bool nesterov = GetParam();
  const double weight_decay = 0.05;
  auto params = make_params();
  CaffeTranscription caffe(params, {kWeight, kBias});
  CaffeSGD optimizer(caffe_groups(params, 0.01, 0.9, weight_decay, nesterov),
                     CaffeSGDOptions(0.01));
  std::unique_ptr<Scheduler> scheduler = std::make_unique<CyclicLR>(
      optimizer,
      CyclicLROptions(GroupValues({0.01, 0.02}), GroupValues({0.1, 0.2}))
          .step_size_up(3)
          .base_momentum(0.8)
          .max_momentum(0.9));
  double largest = 0;
  for (int64_t step = 0; step < kTotalSteps; ++step) {
    if (step == kCyclicSteps) {
      scheduler = std::make_unique<StepLR>(optimizer, StepLROptions(4));
    }
    const auto context = "step " + std::to_string(step);
    for (std::size_t g = 0; g < 2; ++g) {
      const auto& options = static_cast<const CaffeSGDOptions&>(
          optimizer.param_groups()[g].options());
      const double mult = g == 0 ? kWeight.lr_mult : kBias.lr_mult;
      expect_close(options.lr(), expected_rate(step) * mult, context + " lr");
      expect_close(
          options.momentum(), expected_momentum(step), context + " momentum");
    }
    train_step(optimizer, params);
    scheduler->step();
    caffe.apply_update(
        expected_rate(step), expected_momentum(step), weight_decay, nesterov);
    for (std::size_t id = 0; id < 2; ++id) {
      const double difference =
          max_difference(values(params[id]), caffe.data(id));
      EXPECT_LE(difference, kRounding) << context << " param " << id;
      largest = std::max(largest, difference);
    }
  }
  // The run moved the weights far beyond rounding.
  EXPECT_GT(max_difference(values(params[0]), values(make_params()[0])), 0.01);
  std::ostringstream text;
  text << largest;
  RecordProperty("largest_difference", text.str());
}

INSTANTIATE_TEST_SUITE_P(SGDAndNesterov,
                         CaffeSGDTranscriptionTest,
                         ::testing::Bool(),
                         [](const auto& info) {
                           return info.param ? "Nesterov" : "SGD";
                         });

TEST(CaffeSGDTest, OptionsDefaultAndChain) {
  const auto options = CaffeSGDOptions(0.1);
  EXPECT_EQ(options.lr(), 0.1);
  EXPECT_EQ(options.momentum(), 0.0);
  EXPECT_EQ(options.weight_decay(), 0.0);
  EXPECT_FALSE(options.nesterov());
  const auto chained =
      CaffeSGDOptions(0.2).momentum(0.9).weight_decay(0.004).nesterov(true);
  EXPECT_EQ(chained.lr(), 0.2);
  EXPECT_EQ(chained.momentum(), 0.9);
  EXPECT_EQ(chained.weight_decay(), 0.004);
  EXPECT_TRUE(chained.nesterov());
}

TEST(CaffeSGDTest, TwoStepsMatchHandCalculation) {
  // loss = theta^2 at theta = 2, lr 0.1, momentum 0.9, decay 0.1:
  // g = 4 + 0.2 = 4.2, h = 0.42, theta = 1.58;
  // g = 3.16 + 0.158 = 3.318, h = 0.378 + 0.3318 = 0.7098, theta = 0.8702.
  auto theta = torch::full({1}, 2.0, torch::dtype(torch::kDouble));
  theta.set_requires_grad(true);
  CaffeSGD optimizer(std::vector<torch::Tensor>{theta},
                     CaffeSGDOptions(0.1).momentum(0.9).weight_decay(0.1));
  for (const double expected : {1.58, 0.8702}) {
    optimizer.zero_grad();
    (theta * theta).sum().backward();
    optimizer.step();
    EXPECT_NEAR(theta.item<double>(), expected, 1e-15);
  }
  const auto& state = static_cast<const CaffeSGDParamState&>(
      *optimizer.state().at(detail::optimizer_state_key(theta)));
  EXPECT_NEAR(state.history().item<double>(), 0.7098, 1e-15);
}

class CaffeSGDAgainstLibTorchTest : public ::testing::TestWithParam<bool> {};

TEST_P(CaffeSGDAgainstLibTorchTest, EqualToLibTorchSGDWhileTheLRIsConstant) {
  // h = lr v while lr is constant, so w moves by the same h = lr v.
  const bool nesterov = GetParam();
  auto caffe_params = make_params();
  auto torch_params = make_params();
  CaffeSGD caffe(caffe_groups(caffe_params, 0.05, 0.9, 0.05, nesterov),
                 CaffeSGDOptions(0.05));
  std::vector<torch::optim::OptimizerParamGroup> groups;
  for (std::size_t i = 0; i < 2; ++i) {
    const auto& mult = i == 0 ? kWeight : kBias;
    groups.emplace_back(std::vector<torch::Tensor>{torch_params[i]},
                        std::make_unique<torch::optim::SGDOptions>(
                            torch::optim::SGDOptions(0.05 * mult.lr_mult)
                                .momentum(0.9)
                                .weight_decay(0.05 * mult.decay_mult)
                                .nesterov(nesterov)));
  }
  torch::optim::SGD libtorch(std::move(groups), torch::optim::SGDOptions(0.05));
  for (int step = 0; step < 30; ++step) {
    train_step(caffe, caffe_params);
    train_step(libtorch, torch_params);
    for (std::size_t id = 0; id < 2; ++id) {
      EXPECT_LE(
          max_difference(values(caffe_params[id]), values(torch_params[id])),
          kRounding)
          << "step " << step << " param " << id;
    }
  }

  // A x0.1 drop, by StepLR on both, from the same weights: Caffe's history
  // still holds the old LR. With v LibTorch's momentum buffer before the
  // step, Caffe moves w by m lr1 v + lr2 g and LibTorch by lr2 (m v + g)
  // (Nesterov: m^2 lr1 v + (1 + m) lr2 g against lr2 (m^2 v + (1 + m) g)),
  // so Caffe's w ends lower by m (lr1 - lr2) v (Nesterov: m^2 (lr1 - lr2) v).
  StepLR caffe_drop(caffe, StepLROptions(1));
  StepLR torch_drop(libtorch, StepLROptions(1));
  caffe_drop.step();
  torch_drop.step();
  std::vector<std::vector<double>> buffers;
  {
    torch::NoGradGuard no_grad;
    for (std::size_t id = 0; id < 2; ++id) {
      caffe_params[id].copy_(torch_params[id]);
      const auto& state = static_cast<const torch::optim::SGDParamState&>(
          *libtorch.state().at(detail::optimizer_state_key(torch_params[id])));
      buffers.push_back(values(state.momentum_buffer()));
    }
  }
  train_step(caffe, caffe_params);
  train_step(libtorch, torch_params);
  const double factor = nesterov ? 0.9 * 0.9 : 0.9;
  for (std::size_t id = 0; id < 2; ++id) {
    const double lr1 = 0.05 * (id == 0 ? kWeight : kBias).lr_mult;
    const double lr2 = 0.1 * lr1;
    const auto caffe_w = values(caffe_params[id]);
    const auto torch_w = values(torch_params[id]);
    double largest_gap = 0;
    for (std::size_t i = 0; i < caffe_w.size(); ++i) {
      const double predicted = -factor * (lr1 - lr2) * buffers[id][i];
      EXPECT_NEAR(caffe_w[i] - torch_w[i], predicted, kRounding)
          << "param " << id << " element " << i;
      largest_gap = std::max(largest_gap, std::abs(predicted));
    }
    // The two forms differ by far more than rounding.
    EXPECT_GT(largest_gap, 1e-4) << "param " << id;
  }
}

INSTANTIATE_TEST_SUITE_P(SGDAndNesterov,
                         CaffeSGDAgainstLibTorchTest,
                         ::testing::Bool(),
                         [](const auto& info) {
                           return info.param ? "Nesterov" : "SGD";
                         });

TEST(CaffeSGDTest, KeepsAHistoryAtMomentumZero) {
  // Caffe's history is the last update at momentum 0; a momentum cycled up
  // from 0 then carries it, as in Caffe.
  auto theta = torch::full({1}, 2.0, torch::dtype(torch::kDouble));
  theta.set_requires_grad(true);
  CaffeSGD optimizer(std::vector<torch::Tensor>{theta}, CaffeSGDOptions(0.1));
  (theta * theta).sum().backward();
  optimizer.step();  // g = 4, h = 0.4, theta = 1.6
  static_cast<CaffeSGDOptions&>(optimizer.param_groups()[0].options())
      .momentum(0.5);
  optimizer.zero_grad();
  (theta * theta).sum().backward();
  optimizer.step();  // g = 3.2, h = 0.2 + 0.32 = 0.52, theta = 1.08
  EXPECT_NEAR(theta.item<double>(), 1.08, 1e-15);
}

TEST(CaffeSGDTest, ParametersWithoutGradientAreLeftAlone) {
  auto used = torch::ones({2}, torch::requires_grad());
  auto unused = torch::ones({2}, torch::requires_grad());
  CaffeSGD optimizer(std::vector<torch::Tensor>{used, unused},
                     CaffeSGDOptions(0.1).momentum(0.9).weight_decay(0.1));
  (used * used).sum().backward();
  optimizer.step();
  EXPECT_TRUE(torch::equal(unused, torch::ones({2})));
  EXPECT_FALSE(torch::equal(used, torch::ones({2})));
  EXPECT_EQ(optimizer.state().size(), 1u);
}

TEST(CaffeSGDTest, SchedulersSetItsLRAndCycleItsMomentum) {
  auto params = make_params();
  CaffeSGD optimizer(caffe_groups(params, 0.1, 0.0, 0.0, false),
                     CaffeSGDOptions(0.1));
  auto& options =
      static_cast<CaffeSGDOptions&>(optimizer.param_groups()[1].options());
  EXPECT_EQ(get_momentum(options), 0.0);
  // OneCycleLR starts at max_lr / div_factor with max_momentum.
  OneCycleLR scheduler(optimizer, OneCycleLROptions(1.0, 100));
  expect_close(options.lr(), 1.0 / 25, "lr");
  expect_close(options.momentum(), 0.95, "momentum");
  EXPECT_EQ(get_momentum(options), 0.95);
}

TEST(CaffeSGDTest, SaveMidRunAndLoadIntoFreshOptimizerResumesExactly) {
  const TempDir dir;
  const int64_t saved_at = 7;
  auto make_scheduler = [](torch::optim::Optimizer& optimizer) {
    return std::make_unique<CyclicLR>(
        optimizer,
        CyclicLROptions(GroupValues({0.01, 0.02}), GroupValues({0.1, 0.2}))
            .step_size_up(3));
  };
  auto params = make_params();
  CaffeSGD optimizer(caffe_groups(params, 0.01, 0.9, 0.05, true),
                     CaffeSGDOptions(0.01));
  auto scheduler = make_scheduler(optimizer);
  for (int64_t step = 0; step < saved_at; ++step) {
    train_step(optimizer, params);
    scheduler->step();
  }
  torch::save(params, dir.file("params.pt"));
  torch::save(optimizer, dir.file("optimizer.pt"));
  torch::save(*scheduler, dir.file("scheduler.pt"));

  // A fresh run built with other options: load restores the group options
  // (Nesterov, decay, the scheduled LR and momentum) and the histories.
  std::vector<torch::Tensor> resumed_params;  // torch::load appends
  torch::load(resumed_params, dir.file("params.pt"));
  ASSERT_EQ(resumed_params.size(), 2u);
  for (auto& param : resumed_params) {
    param.requires_grad_();
  }
  CaffeSGD resumed(caffe_groups(resumed_params, 0.5, 0.0, 0.0, false),
                   CaffeSGDOptions(0.5));
  auto resumed_scheduler = make_scheduler(resumed);
  torch::load(resumed, dir.file("optimizer.pt"));
  torch::load(*resumed_scheduler, dir.file("scheduler.pt"));
  for (std::size_t g = 0; g < 2; ++g) {
    EXPECT_TRUE(static_cast<const CaffeSGDOptions&>(
                    resumed.param_groups()[g].options()) ==
                static_cast<const CaffeSGDOptions&>(
                    optimizer.param_groups()[g].options()))
        << "group " << g;
  }
  ASSERT_EQ(resumed.state().size(), 2u);
  for (std::size_t id = 0; id < 2; ++id) {
    const auto key = detail::optimizer_state_key(params[id]);
    const auto resumed_key = detail::optimizer_state_key(resumed_params[id]);
    EXPECT_TRUE(
        static_cast<const CaffeSGDParamState&>(
            *resumed.state().at(resumed_key)) ==
        static_cast<const CaffeSGDParamState&>(*optimizer.state().at(key)));
  }

  for (int64_t step = saved_at; step < 15; ++step) {
    train_step(optimizer, params);
    scheduler->step();
    train_step(resumed, resumed_params);
    resumed_scheduler->step();
    for (std::size_t id = 0; id < 2; ++id) {
      EXPECT_EQ(values(params[id]), values(resumed_params[id]))
          << "after step " << step << " param " << id;
    }
  }
}

TEST(CaffeSGDTest, LoadMovesHistoryToTheParameterDtype) {
  const TempDir dir;
  auto wide =
      torch::ones({2}, torch::dtype(torch::kDouble).requires_grad(true));
  CaffeSGD saved(std::vector<torch::Tensor>{wide},
                 CaffeSGDOptions(0.1).momentum(0.9));
  (wide * wide).sum().backward();
  saved.step();
  torch::save(saved, dir.file("optimizer.pt"));

  auto narrow = torch::ones({2}, torch::requires_grad());
  CaffeSGD loaded(std::vector<torch::Tensor>{narrow}, CaffeSGDOptions(0.1));
  torch::load(loaded, dir.file("optimizer.pt"));
  const auto& state = static_cast<const CaffeSGDParamState&>(
      *loaded.state().at(detail::optimizer_state_key(narrow)));
  EXPECT_EQ(state.history().scalar_type(), torch::kFloat);
  EXPECT_TRUE(torch::allclose(state.history(), torch::full({2}, 0.2f)));
}

TEST(CaffeSGDTest, LoadWithAnotherGroupCountIsRefused) {
  const TempDir dir;
  auto saved = make_optimizer<CaffeSGD>({0.1, 0.1}, CaffeSGDOptions(0.1));
  torch::save(*saved, dir.file("optimizer.pt"));
  auto loaded = make_optimizer<CaffeSGD>({0.1}, CaffeSGDOptions(0.1));
  EXPECT_THAT([&] { torch::load(*loaded, dir.file("optimizer.pt")); },
              ThrowsMessage<c10::Error>(
                  HasSubstr("different number of parameter groups")));
}

TEST(CaffeSGDTest, SparseGradientIsRefused) {
  auto param = torch::zeros({3}, torch::requires_grad());
  CaffeSGD optimizer(std::vector<torch::Tensor>{param}, CaffeSGDOptions(0.1));
  param.mutable_grad() =
      torch::sparse_coo_tensor(torch::tensor({{1}}), torch::tensor({1.0}), {3});
  EXPECT_THAT([&] { optimizer.step(); },
              ThrowsMessage<c10::Error>(
                  HasSubstr("CaffeSGD does not support sparse gradients")));
}

using BadCaffeSGDOption = BadOption<CaffeSGDOptions>;

class CaffeSGDBadOptionsTest
    : public ::testing::TestWithParam<BadCaffeSGDOption> {};

TEST_P(CaffeSGDBadOptionsTest, DefaultsNameTheOptionAndValue) {
  auto param = torch::zeros({1}, torch::requires_grad());
  EXPECT_THAT(
      [&] { CaffeSGD(std::vector<torch::Tensor>{param}, GetParam().options); },
      ThrowsMessage<c10::Error>(HasSubstr("CaffeSGD: " + GetParam().message)));
}

TEST_P(CaffeSGDBadOptionsTest, GroupOptionsNameTheGroupOptionAndValue) {
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(
      std::vector<torch::Tensor>{torch::zeros({1}, torch::requires_grad())});
  groups.emplace_back(
      std::vector<torch::Tensor>{torch::zeros({1}, torch::requires_grad())},
      std::make_unique<CaffeSGDOptions>(GetParam().options));
  EXPECT_THAT([&] { CaffeSGD(std::move(groups), CaffeSGDOptions(0.1)); },
              ThrowsMessage<c10::Error>(HasSubstr("CaffeSGD (param group 1): " +
                                                  GetParam().message)));
}

INSTANTIATE_TEST_SUITE_P(
    Options,
    CaffeSGDBadOptionsTest,
    ::testing::Values(
        BadCaffeSGDOption{CaffeSGDOptions(-0.1),
                          "lr must be a finite number >= 0, got -0.1"},
        BadCaffeSGDOption{CaffeSGDOptions(INFINITY),
                          "lr must be a finite number >= 0, got inf"},
        BadCaffeSGDOption{CaffeSGDOptions(0.1).momentum(1.5),
                          "momentum must be in [0, 1], got 1.5"},
        BadCaffeSGDOption{CaffeSGDOptions(0.1).momentum(-0.5),
                          "momentum must be in [0, 1], got -0.5"},
        BadCaffeSGDOption{CaffeSGDOptions(0.1).momentum(NAN),
                          "momentum must be in [0, 1], got nan"},
        BadCaffeSGDOption{
            CaffeSGDOptions(0.1).weight_decay(-1),
            "weight_decay must be a finite number >= 0, got -1"}));

}  // namespace
}  // namespace torchclr::test
