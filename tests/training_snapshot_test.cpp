// The snapshot behind the range test's restore, on its own: whatever
// training does after it is taken, restore() puts back bit for bit.

#include <gmock/gmock.h>
#include <torchclr/detail/training_snapshot.h>

#include "test_util.h"
#include "training_fingerprint.h"

namespace torchclr::test {
namespace {

using ::testing::HasSubstr;
using ::testing::ThrowsMessage;

void train_steps(Net& net, torch::optim::Optimizer& optimizer, int steps) {
  for (int step = 0; step < steps; ++step) {
    optimizer.zero_grad();
    torch::nn::functional::cross_entropy(
        net->forward(torch::randn({8, 4})),
        torch::randint(0, 3, {8}, torch::kLong))
        .backward();
    optimizer.step();
  }
}

class TrainingSnapshotTest : public ::testing::TestWithParam<std::string> {};

TEST_P(TrainingSnapshotTest, RestoreUndoesTrainingAndOptionChanges) {
  torch::manual_seed(1);
  Net net;
  auto optimizer = make_named_optimizer(GetParam(), net);
  train_steps(net, *optimizer, 2);  // state and gradients to keep
  net->bn->eval();
  const auto before = fingerprint(net, *optimizer);
  detail::TrainingSnapshot snapshot(*net, *optimizer, "test");
  for (auto& group : optimizer->param_groups()) {
    group.options().set_lr(0.5);
  }
  net->train();
  train_steps(net, *optimizer, 3);
  snapshot.restore();
  expect_same(before, fingerprint(net, *optimizer), GetParam());
}

INSTANTIATE_TEST_SUITE_P(Optimizers,
                         TrainingSnapshotTest,
                         ::testing::Values("SGD", "Adam", "AdamW", "RMSprop"),
                         [](const auto& info) {
                           return std::string(info.param);
                         });

TEST(TrainingSnapshotTest, RemovesStatesCreatedSinceAndGradientsToo) {
  torch::manual_seed(2);
  Net net;
  auto optimizer = make_named_optimizer("Adam", net);
  const auto before = fingerprint(net, *optimizer);
  ASSERT_TRUE(optimizer->state().empty());
  detail::TrainingSnapshot snapshot(*net, *optimizer, "test");
  train_steps(net, *optimizer, 1);
  ASSERT_FALSE(optimizer->state().empty());
  snapshot.restore();
  EXPECT_TRUE(optimizer->state().empty());
  for (const auto& parameter : net->parameters()) {
    EXPECT_FALSE(parameter.grad().defined());
  }
  expect_same(before, fingerprint(net, *optimizer), "fresh Adam");
}

TEST(TrainingSnapshotTest, RefusesAnOptimizerThatGainedAGroup) {
  Net net;
  torch::optim::SGD optimizer(net->fc1->parameters(),
                              torch::optim::SGDOptions(0.1));
  detail::TrainingSnapshot snapshot(*net, optimizer, "Owner");
  optimizer.add_param_group(
      torch::optim::OptimizerParamGroup(net->fc2->parameters()));
  EXPECT_THAT([&] { snapshot.restore(); },
              ThrowsMessage<c10::Error>(HasSubstr(
                  "Owner: the optimizer had 1 param groups before the run and "
                  "has 2 after; cannot restore it")));
}

}  // namespace
}  // namespace torchclr::test
