// cifar10_full's param groups as `cifar10_clr train` builds them
// (make_network, make_optimizer, a schedule text read with the lr_mult as
// group_ratios), against the lr_mult and
// decay_mult of Caffe's examples/cifar10/cifar10_full_train_test.prototxt
// (BVLC/caffe), written out below from the file.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/torch.h>
#include <torchclr/caffe_sgd.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "caffe_batch_norm.h"
#include "network.h"
#include "paper_runs.h"
#include "schedule_flags.h"

namespace torchclr::examples {
namespace {

struct Multipliers {
  double lr_mult;
  double decay_mult;
};

// Each layer's first `param` block is its weights', the second its bias';
// a value not given is caffe.proto's ParamSpec default (lr_mult 1,
// decay_mult 1):
//   conv1, conv2: param { lr_mult: 1 } param { lr_mult: 2 }
//   conv3:        no param block
//   ip1:          param { lr_mult: 1 decay_mult: 250 }
//                 param { lr_mult: 2 decay_mult: 0 }
// ip1 is the module's `fc`.
const std::map<std::string, Multipliers>& prototxt() {
  static const std::map<std::string, Multipliers> multipliers = {
      {"conv1.weight", {1, 1}},
      {"conv1.bias", {2, 1}},
      {"conv2.weight", {1, 1}},
      {"conv2.bias", {2, 1}},
      {"conv3.weight", {1, 1}},
      {"conv3.bias", {1, 1}},
      {"fc.weight", {1, 250}},
      {"fc.bias", {2, 0}},
  };
  return multipliers;
}

// The solver of the test: plain SGD (momentum 0), so that one step is
// w <- w - lr lr_mult (g + weight_decay decay_mult w), under --solver
// pytorch (kind sgd) and caffe (caffe_sgd) alike.
constexpr double kLr = 0.01;
constexpr double kWeightDecay = 0.004;  // cifar10_full_solver.prototxt's

struct Training {
  Network network;
  std::unique_ptr<torch::optim::Optimizer> optimizer;
  std::unique_ptr<Scheduler> scheduler;
};

// A fresh cifar10_full in float64 for CIFAR-10's images, with the optimizer
// `kind` and the schedule `policy` (fixed: MultiStepLR from --lr kLr;
// triangular2: CyclicLR from base_lr kLr), as train_network builds them.
Training make_training(const std::string& policy, const std::string& kind) {
  torch::manual_seed(3);
  Training run;
  run.network = make_network("cifar10_full", "cifar10", 3, 32, 32, 10);
  // Every parameter away from zero (the biases start at zero, where no
  // decay shows), at a scale where the decay term is far above rounding.
  {
    torch::NoGradGuard no_grad;
    for (auto& param : run.network.module->parameters()) {
      param.normal_(0, 0.05);
    }
  }
  run.network.module->to(torch::kDouble);
  run.optimizer = make_optimizer(
      kind, run.network.param_groups, kLr, /*momentum=*/0.0, kWeightDecay);
  const std::string text =
      policy == "fixed" ? "MultiStepLR(milestones=[600, 650])"
                        : cyclic_text("triangular2", kLr, 10 * kLr, 2000);
  run.scheduler =
      make_scheduler({text, ""},
                     *run.optimizer,
                     ParseOptions().group_ratios(run.network.lr_multipliers()));
  return run;
}

// The options of the one group that holds `param`; fails the test when no
// group or several hold it.
const torch::optim::OptimizerOptions* group_of(
    torch::optim::Optimizer& optimizer,
    const torch::Tensor& param,
    const std::string& name) {
  const torch::optim::OptimizerOptions* found = nullptr;
  int holders = 0;
  for (auto& group : optimizer.param_groups()) {
    for (const auto& held : group.params()) {
      if (held.unsafeGetTensorImpl() == param.unsafeGetTensorImpl()) {
        found = &group.options();
        ++holders;
      }
    }
  }
  EXPECT_EQ(holders, 1) << name << " is in " << holders << " param groups";
  return holders == 1 ? found : nullptr;
}

// The weight decay of LibTorch's SGD's or CaffeSGD's options.
double weight_decay_of(const torch::optim::OptimizerOptions& options) {
  if (const auto* sgd =
          dynamic_cast<const torch::optim::SGDOptions*>(&options)) {
    return sgd->weight_decay();
  }
  return dynamic_cast<const CaffeSGDOptions&>(options).weight_decay();
}

// (policy, optimizer kind): fixed is MultiStepLR from --lr, triangular2
// CyclicLR from --base-lr, each scaling group i by its lr_mult; sgd is
// --solver pytorch, caffe_sgd --solver caffe.
class Cifar10FullParamGroupsTest
    : public ::testing::TestWithParam<std::tuple<std::string, std::string>> {
 protected:
  Training make() const {
    return make_training(std::get<0>(GetParam()), std::get<1>(GetParam()));
  }
};

TEST_P(Cifar10FullParamGroupsTest, OptimizerGroupsHoldThePrototxtMultipliers) {
  auto run = make();
  const auto named = run.network.module->named_parameters();
  ASSERT_EQ(named.size(), prototxt().size());
  std::size_t held = 0;
  for (const auto& group : run.optimizer->param_groups()) {
    held += group.params().size();
  }
  EXPECT_EQ(held, prototxt().size()) << "parameters held by the groups";
  for (const auto& item : named) {
    ASSERT_EQ(prototxt().count(item.key()), 1u) << item.key();
    const auto& want = prototxt().at(item.key());
    const auto* options = group_of(*run.optimizer, item.value(), item.key());
    ASSERT_NE(options, nullptr);
    EXPECT_DOUBLE_EQ(options->get_lr(), kLr * want.lr_mult) << item.key();
    EXPECT_DOUBLE_EQ(weight_decay_of(*options), kWeightDecay * want.decay_mult)
        << item.key();
  }
}

TEST_P(Cifar10FullParamGroupsTest,
       OneStepMovesEveryParameterByItsPrototxtMultipliers) {
  auto run = make();
  auto& module = *run.network.module;
  torch::manual_seed(4);
  const auto images = torch::randn({4, 3, 32, 32}, torch::kDouble);
  const auto labels = torch::randint(10, {4}, torch::kLong);

  // The gradient, by autograd on a copy of the model.
  auto copy = make_network("cifar10_full", "cifar10", 3, 32, 32, 10);
  copy.module->to(torch::kDouble);
  std::map<std::string, torch::Tensor> before;
  {
    torch::NoGradGuard no_grad;
    const auto source = module.named_parameters();
    for (auto& item : copy.module->named_parameters()) {
      item.value().copy_(source[item.key()]);
      before[item.key()] = source[item.key()].clone();
    }
  }
  torch::nn::functional::cross_entropy(copy.forward(images), labels).backward();
  std::map<std::string, torch::Tensor> grads;
  for (const auto& item : copy.module->named_parameters()) {
    grads[item.key()] = item.value().grad().clone();
  }

  // One step of the run, as the training loop takes it.
  run.optimizer->zero_grad();
  torch::nn::functional::cross_entropy(run.network.forward(images), labels)
      .backward();
  run.optimizer->step();
  run.scheduler->step();

  for (const auto& item : module.named_parameters()) {
    const auto& name = item.key();
    const auto& want = prototxt().at(name);
    const auto& w = before.at(name);
    const auto& g = grads.at(name);
    const auto expected =
        -kLr * want.lr_mult * (g + kWeightDecay * want.decay_mult * w);
    const auto change = item.value().detach() - w;
    // float64 rounding of w (|w| < 1) is below 1e-16; every decay and
    // gradient term the check must see is far above the tolerance.
    const double tolerance = 1e-13;
    EXPECT_LE((change - expected).abs().max().item<double>(), tolerance)
        << name << ": moved by " << change.abs().max().item<double>()
        << ", expected " << expected.abs().max().item<double>() << " (lr_mult "
        << want.lr_mult << ", decay_mult " << want.decay_mult << ")";
    // What a decay_mult or lr_mult off by one would add: far above it.
    const double decay_unit =
        kLr * want.lr_mult * kWeightDecay * w.abs().max().item<double>();
    EXPECT_GT(decay_unit, 1e4 * tolerance) << name;
    EXPECT_GT(kLr * g.abs().max().item<double>(), 1e4 * tolerance) << name;
  }
}

INSTANTIATE_TEST_SUITE_P(
    PoliciesAndSolvers,
    Cifar10FullParamGroupsTest,
    ::testing::Combine(::testing::Values("fixed", "triangular2"),
                       ::testing::Values("sgd", "caffe_sgd")),
    [](const auto& info) {
      return std::get<0>(info.param) + "_" + std::get<1>(info.param);
    });

TEST(SolverTest, CaffeTurnsSgdAndNesterovIntoCaffeSGD) {
  EXPECT_EQ(optimizer_kind("sgd", "caffe"), "caffe_sgd");
  EXPECT_EQ(optimizer_kind("nesterov", "caffe"), "caffe_nesterov");
  EXPECT_EQ(optimizer_kind("adam", "caffe"), "adam");
  EXPECT_EQ(optimizer_kind("sgd", "pytorch"), "sgd");
  EXPECT_EQ(optimizer_kind("nesterov", "pytorch"), "nesterov");
  auto network = make_network("cifar10_full", "cifar10", 3, 32, 32, 10);
  for (const bool nesterov : {false, true}) {
    const auto optimizer =
        make_optimizer(nesterov ? "caffe_nesterov" : "caffe_sgd",
                       network.param_groups,
                       0.001,
                       0.9,
                       0.004);
    ASSERT_EQ(optimizer->param_groups().size(), 4u);
    for (const auto& group : optimizer->param_groups()) {
      const auto& options =
          dynamic_cast<const CaffeSGDOptions&>(group.options());
      EXPECT_EQ(options.momentum(), 0.9);
      EXPECT_EQ(options.nesterov(), nesterov);
    }
  }
}

// Resnet56Cifar.prototxt (lnsmith54/super-convergence@ecc5615): every
// Convolution has param { lr_mult: 1 decay_mult: 1 } param { lr_mult: 2
// decay_mult: 0 }; Scale layers have no param block (1, 1); post_FC has
// param { lr_mult: 1 } param { lr_mult: 2 }, decay_mult left at 1.
Multipliers superconvergence_prototxt(const std::string& name) {
  const auto ends_with = [&](const std::string& tail) {
    return name.size() >= tail.size() &&
           name.compare(name.size() - tail.size(), tail.size(), tail) == 0;
  };
  if (ends_with("_conv.bias")) {
    return {2, 0};
  }
  if (name == "post_FC.bias") {
    return {2, 1};
  }
  return {1, 1};
}

TEST(SuperConvergenceParamGroupsTest,
     OptimizerGroupsHoldThePrototxtMultipliers) {
  auto network = make_network("superconvergence_resnet56",
                              "cifar10",
                              3,
                              32,
                              32,
                              10,
                              {/*moving_average_fraction=*/0.95,
                               /*ghost_batch_size=*/125});
  const auto optimizer = make_optimizer(
      "caffe_sgd", network.param_groups, 0.1, 0.9, /*weight_decay=*/1e-4);
  const auto named = network.module->named_parameters();
  // 55 convolutions and 55 Scale layers with weights and biases, post_FC.
  ASSERT_EQ(named.size(), 55u * 2 + 55u * 2 + 2u);
  for (const auto& item : named) {
    const auto want = superconvergence_prototxt(item.key());
    const auto* options = group_of(*optimizer, item.value(), item.key());
    ASSERT_NE(options, nullptr);
    EXPECT_DOUBLE_EQ(options->get_lr(), 0.1 * want.lr_mult) << item.key();
    EXPECT_DOUBLE_EQ(weight_decay_of(*options), 1e-4 * want.decay_mult)
        << item.key();
  }
  EXPECT_EQ(network.lr_multipliers(), (std::vector<double>{1, 2, 2}));
  // The BatchNorm settings reach the layers.
  const auto* bn =
      network.module->named_modules()["L2_b1.cbr1_bn"]->as<CaffeBatchNorm2d>();
  ASSERT_NE(bn, nullptr);
  EXPECT_EQ(bn->options().moving_average_fraction(), 0.95);
  EXPECT_EQ(bn->options().ghost_batch_size(), 125);
}

TEST(SolverTest, TextNamesTheUpdate) {
  EXPECT_EQ(solver_text("caffe_sgd"),
            "solver caffe: Caffe's SGD, h <- m h + lr (g + wd w); w <- w - h");
  EXPECT_EQ(solver_text("sgd"),
            "solver pytorch: LibTorch's SGD, v <- m v + g + wd w; "
            "w <- w - lr v");
  EXPECT_THAT(solver_text("caffe_nesterov"),
              ::testing::HasSubstr("Caffe's Nesterov"));
  EXPECT_THAT(solver_text("nesterov"),
              ::testing::HasSubstr("LibTorch's SGD with Nesterov momentum"));
  EXPECT_EQ(solver_text("adam"), "");
}

}  // namespace
}  // namespace torchclr::examples
