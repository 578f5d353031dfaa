// clone() of every model (what torchclr::AveragedModel copies) is a deep
// copy: every parameter and buffer, down to the last block's BatchNorm, has
// the original's name and value in its own storage, and the copy computes
// what the original does. LibTorch's Cloneable::clone calls clone_ on each
// child, and Module::clone_ of a child that is not Cloneable does nothing,
// so a block left out would keep reset()'s fresh random weights.

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <memory>
#include <string>

#include "caffe_batch_norm.h"
#include "resnet56.h"
#include "superconvergence_resnet.h"

namespace torchclr::examples {
namespace {

// Expects `copy`'s parameters and buffers to be `original`'s, name by name,
// with equal values in storage of their own.
void expect_equal_and_separate(const torch::nn::Module& original,
                               const torch::nn::Module& copy) {
  const auto check =
      [](const auto& originals, const auto& copies, const char* what) {
        ASSERT_EQ(originals.size(), copies.size()) << what;
        for (const auto& item : originals) {
          const torch::Tensor* copied = copies.find(item.key());
          ASSERT_NE(copied, nullptr) << what << " " << item.key();
          EXPECT_TRUE(torch::equal(item.value(), *copied))
              << what << " " << item.key();
          EXPECT_NE(item.value().data_ptr(), copied->data_ptr())
              << what << " " << item.key() << " shares storage";
        }
      };
  check(original.named_parameters(), copy.named_parameters(), "parameter");
  check(original.named_buffers(), copy.named_buffers(), "buffer");
}

// Clones `model` after a few training steps (so that weights and BatchNorm
// statistics are no longer the initial ones), checks the copy, then changes
// the copy (a training forward and new parameter values) and checks that
// the original did not follow.
template <typename Model>
void check_clone(Model model) {
  torch::manual_seed(0);
  torch::optim::SGD sgd(model->parameters(), torch::optim::SGDOptions(0.1));
  for (int step = 0; step < 2; ++step) {
    sgd.zero_grad();
    torch::nn::functional::cross_entropy(
        model->forward(torch::randn({4, 3, 32, 32})), torch::randint(10, {4}))
        .backward();
    sgd.step();
  }
  const auto copy =
      std::dynamic_pointer_cast<typename Model::ContainedType>(model->clone());
  ASSERT_NE(copy, nullptr);
  expect_equal_and_separate(*model, *copy);

  // Same weights, statistics and structure: the same logits in evaluation.
  torch::NoGradGuard no_grad;
  model->eval();
  copy->eval();
  const auto images = torch::randn({2, 3, 32, 32});
  EXPECT_TRUE(torch::equal(model->forward(images), copy->forward(images)));

  const auto before =
      std::dynamic_pointer_cast<typename Model::ContainedType>(model->clone());
  copy->train();
  copy->forward(torch::randn({4, 3, 32, 32}));
  for (auto& parameter : copy->parameters()) {
    parameter.add_(1);
  }
  for (const auto& item : before->named_parameters()) {
    EXPECT_TRUE(
        torch::equal(item.value(), model->named_parameters()[item.key()]))
        << "parameter " << item.key() << " followed the copy";
    EXPECT_FALSE(
        torch::equal(item.value(), copy->named_parameters()[item.key()]))
        << "parameter " << item.key();
  }
  for (const auto& item : before->named_buffers()) {
    EXPECT_TRUE(torch::equal(item.value(), model->named_buffers()[item.key()]))
        << "buffer " << item.key() << " followed the copy";
  }
}

TEST(ModelCloneTest, ResNet56CopiesEveryParameterAndBuffer) {
  check_clone(ResNet56(10));
}

TEST(ModelCloneTest, SuperConvergenceResNet20CopiesEveryParameterAndBuffer) {
  check_clone(SuperConvergenceResNet(
      SuperConvergenceResNetOptions().blocks_per_stage(3).ghost_batch_size(2)));
}

TEST(ModelCloneTest, SuperConvergenceResNet56CopiesEveryParameterAndBuffer) {
  check_clone(SuperConvergenceResNet(SuperConvergenceResNetOptions()));
}

TEST(ModelCloneTest, CaffeBatchNormKeepsItsOptions) {
  CaffeBatchNorm2d batch_norm(CaffeBatchNormOptions(3)
                                  .moving_average_fraction(0.95)
                                  .eps(1e-3)
                                  .ghost_batch_size(2));
  batch_norm->forward(torch::randn({4, 3, 2, 2}));
  const auto copy =
      std::dynamic_pointer_cast<CaffeBatchNorm2dImpl>(batch_norm->clone());
  ASSERT_NE(copy, nullptr);
  expect_equal_and_separate(*batch_norm, *copy);
  EXPECT_EQ(copy->options().moving_average_fraction(), 0.95);
  EXPECT_EQ(copy->options().eps(), 1e-3);
  EXPECT_EQ(copy->options().ghost_batch_size(), 2);
  // The members are the registered buffers, not the original's.
  EXPECT_EQ(copy->mean_sum.data_ptr(),
            copy->named_buffers()["mean_sum"].data_ptr());
  EXPECT_NE(copy->mean_sum.data_ptr(), batch_norm->mean_sum.data_ptr());
}

}  // namespace
}  // namespace torchclr::examples
