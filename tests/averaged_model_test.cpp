#include <gmock/gmock.h>
#include <torchclr/averaged_model.h>

#include <memory>
#include <string>
#include <vector>

#include "swa_test_model.h"
#include "test_util.h"

namespace torchclr::test {
namespace {

using ::testing::HasSubstr;
using ::testing::ThrowsMessage;

constexpr int64_t kUpdates = 5;  // the generator's UPDATES

// Every value of the averaged copy, flattened in the generator's order.
std::vector<double> flat_values(const torch::nn::Module& module) {
  std::vector<double> values;
  for (const auto& [name, tensor] : swa_tensors(module)) {
    const auto flat = tensor.detach().to(torch::kFloat64).reshape(-1);
    for (int64_t i = 0; i < flat.numel(); ++i) {
      values.push_back(flat[i].item<double>());
    }
  }
  return values;
}

std::vector<std::string> column_names(const torch::nn::Module& module) {
  std::vector<std::string> columns = {"n_averaged"};
  for (const auto& [name, tensor] : swa_tensors(module)) {
    for (int64_t i = 0; i < tensor.numel(); ++i) {
      columns.push_back(name + "_" + std::to_string(i));
    }
  }
  return columns;
}

// AveragedModel(version 0), then update_parameters(version k) for k = 1..5,
// against PyTorch's copy after every update (row k of `name`).
void expect_matches_pytorch(const std::string& name,
                            AveragedModelOptions options = {}) {
  const Reference ref = load_reference(name);
  auto model = make_swa_model();
  set_swa_version(*model, 0);
  AveragedModel swa(model, std::move(options));
  ASSERT_EQ(ref.columns, column_names(*swa->module()));
  ASSERT_EQ(ref.last_step, kUpdates);
  for (int64_t k = 0; k <= kUpdates; ++k) {
    if (k > 0) {
      set_swa_version(*model, k);
      swa->update_parameters(model);
    }
    const auto& expected = ref.rows.at(k);
    EXPECT_EQ(swa->n_averaged(), static_cast<int64_t>(expected[0]));
    const auto actual = flat_values(*swa->module());
    ASSERT_EQ(actual.size() + 1, expected.size());
    for (std::size_t i = 0; i < actual.size(); ++i) {
      expect_close(
          actual[i],
          expected[i + 1],
          name + " update " + std::to_string(k) + " " + ref.columns[i + 1]);
    }
  }
}

TEST(AveragedModelTest, EqualAverageMatchesPyTorch) {
  // Buffers keep the copy's (version 0) values: the reference checks that.
  expect_matches_pytorch("swa_equal_average");
}

// num_batches_tracked, a long tensor, is averaged in floating point and
// truncated by copy_, as in PyTorch.
TEST(AveragedModelTest, EqualAverageOfBuffersMatchesPyTorch) {
  expect_matches_pytorch("swa_equal_average_buffers",
                         AveragedModelOptions().use_buffers(true));
}

TEST(AveragedModelTest, ExponentialMovingAverageMatchesPyTorch) {
  expect_matches_pytorch(
      "swa_ema_buffers",
      AveragedModelOptions().use_buffers(true).avg_fn(
          [](const torch::Tensor& averaged,
             const torch::Tensor& model,
             int64_t) { return 0.75 * averaged + 0.25 * model; }));
}

TEST(AveragedModelTest, ForwardIsTheAveragedCopysAsInPyTorch) {
  const Reference ref = load_reference("swa_equal_average_output");
  auto model = make_swa_model();
  set_swa_version(*model, 0);
  AveragedModel swa(model);
  for (int64_t k = 1; k <= kUpdates; ++k) {
    set_swa_version(*model, k);
    swa->update_parameters(model);
  }
  swa->eval();
  torch::NoGradGuard no_grad;
  const auto inputs = swa_inputs().slice(0, 0, 3);
  const auto output = swa->forward(inputs).reshape(-1);
  ASSERT_EQ(output.numel(), static_cast<int64_t>(ref.columns.size()));
  for (int64_t i = 0; i < output.numel(); ++i) {
    expect_close(output[i].item<double>(),
                 ref.rows.at(0)[i],
                 "output " + std::to_string(i));
  }
  // The holder's call operator is the same forward.
  EXPECT_TRUE(torch::equal(swa(inputs).reshape(-1), output));
}

TEST(AveragedModelTest, CopyIsIndependentAndTheModelIsOnlyRead) {
  auto model = make_swa_model();
  set_swa_version(*model, 0);
  model->ptr(0)->as<torch::nn::Conv2dImpl>()->bias.requires_grad_(false);
  AveragedModel swa(model);
  EXPECT_EQ(swa->n_averaged(), 0);
  EXPECT_EQ(swa->options().use_buffers(), false);
  // A copy: the model's later changes do not reach it until an update.
  const auto before = flat_values(*swa->module());
  set_swa_version(*model, 1);
  EXPECT_EQ(flat_values(*swa->module()), before);
  // Its own tensors, with the model's requires_grad flags.
  EXPECT_NE(swa->module()->parameters()[0].data_ptr(),
            model->parameters()[0].data_ptr());
  const auto conv = swa->module()->ptr(0)->as<torch::nn::Conv2dImpl>();
  EXPECT_FALSE(conv->bias.requires_grad());
  EXPECT_TRUE(conv->weight.requires_grad());
  // The first update copies; the model is not changed by updates.
  const auto model_values = flat_values(*model);
  swa->update_parameters(model);
  EXPECT_EQ(flat_values(*model), model_values);
  EXPECT_TRUE(
      torch::equal(swa->module()->parameters()[0], model->parameters()[0]));
  EXPECT_EQ(swa->n_averaged(), 1);
  // The averaged copy's parameters are registered under "module.".
  EXPECT_TRUE(swa->named_parameters().contains("module.0.weight"));
  EXPECT_TRUE(swa->named_buffers().contains("n_averaged"));
}

TEST(AveragedModelTest, SaveAndLoadKeepTheAverageAndTheCount) {
  TempDir dir;
  const std::string path = dir.file("swa_model.pt");
  auto model = make_swa_model();
  auto swa = average_of_versions_0_to_3(model);
  torch::save(swa, path);

  auto other = make_swa_model();
  set_swa_version(*other, 7);
  AveragedModel resumed(other);
  torch::load(resumed, path);
  EXPECT_EQ(resumed->n_averaged(), 3);
  EXPECT_EQ(flat_values(*resumed->module()), flat_values(*swa->module()));
  // And both go on to the same average.
  set_swa_version(*model, 4);
  swa->update_parameters(model);
  resumed->update_parameters(model);
  EXPECT_EQ(resumed->n_averaged(), 4);
  EXPECT_EQ(flat_values(*resumed->module()), flat_values(*swa->module()));
}

// A module held by std::shared_ptr, deriving from Cloneable.
struct Affine : torch::nn::Cloneable<Affine> {
  Affine() {
    reset();
  }
  void reset() override {
    scale = register_parameter("scale", torch::ones({2}, torch::kFloat64));
  }
  torch::Tensor forward(const torch::Tensor& x) {
    return x * scale;
  }
  torch::Tensor scale;
};

// Deriving from Module alone: LibTorch cannot clone it.
struct NotCloneable : torch::nn::Module {
  NotCloneable() {
    register_parameter("w", torch::zeros({1}));
  }
  torch::Tensor forward(const torch::Tensor& x) {
    return x;
  }
};

TEST(AveragedModelTest, SharedPtrModuleAveragesByHand) {
  auto model = std::make_shared<Affine>();
  AveragedModel swa(model);
  // Scales 1, 3, 8 (the first is copied at the first update): mean 4.
  for (const double value : {1.0, 3.0, 8.0}) {
    torch::NoGradGuard no_grad;
    model->scale.fill_(value);
    swa->update_parameters(model);
  }
  EXPECT_EQ(swa->n_averaged(), 3);
  EXPECT_TRUE(torch::allclose(swa->module()->scale,
                              torch::full({2}, 4.0, torch::kFloat64)));
  const auto x = torch::tensor({1.0, -2.0}, torch::kFloat64);
  EXPECT_TRUE(torch::allclose(swa->forward(x),
                              torch::tensor({4.0, -8.0}, torch::kFloat64)));
  // An EMA of the same sequence, by hand: 1, then 0.5 * 1 + 0.5 * 3 = 2,
  // then 0.5 * 2 + 0.5 * 8 = 5.
  AveragedModel ema(
      model,
      AveragedModelOptions().avg_fn(
          [](const torch::Tensor& averaged,
             const torch::Tensor& current,
             int64_t) { return 0.5 * averaged + 0.5 * current; }));
  for (const double value : {1.0, 3.0, 8.0}) {
    torch::NoGradGuard no_grad;
    model->scale.fill_(value);
    ema->update_parameters(*model);
  }
  EXPECT_TRUE(torch::allclose(ema->module()->scale,
                              torch::full({2}, 5.0, torch::kFloat64)));
}

TEST(AveragedModelTest, AvgFnSeesTheCountOfModelsAveragedSoFar) {
  auto model = std::make_shared<Affine>();
  std::vector<int64_t> counts;
  AveragedModel swa(
      model,
      AveragedModelOptions().avg_fn([&](const torch::Tensor& averaged,
                                        const torch::Tensor&,
                                        int64_t num_averaged) {
        counts.push_back(num_averaged);
        return averaged;
      }));
  for (int i = 0; i < 4; ++i) {
    swa->update_parameters(model);
  }
  // Not called at the first update (a copy); one parameter per call.
  EXPECT_EQ(counts, (std::vector<int64_t>{1, 2, 3}));
}

TEST(AveragedModelTest, WhatCannotBeAveragedIsExplained) {
  EXPECT_THAT([] { AveragedModel swa(std::make_shared<NotCloneable>()); },
              ThrowsMessage<c10::Error>(
                  HasSubstr("AveragedModel: cannot copy the model")));
  EXPECT_THAT(
      [] { AveragedModel swa{std::shared_ptr<Affine>()}; },
      ThrowsMessage<c10::Error>(HasSubstr("AveragedModel: the model is null")));

  auto model = make_swa_model();
  AveragedModel swa(model);
  swa->update_parameters(model);
  auto other = std::make_shared<Affine>();
  EXPECT_THAT([&] { swa->update_parameters(other); },
              ThrowsMessage<c10::Error>(HasSubstr(
                  "AveragedModel: update_parameters got a model with 1 "
                  "parameters, the averaged copy has 8")));
  torch::nn::Sequential wider(torch::nn::Conv2d(2, 3, 3),
                              torch::nn::BatchNorm2d(3),
                              torch::nn::ReLU(),
                              torch::nn::Flatten(),
                              torch::nn::Linear(12, 5),
                              torch::nn::BatchNorm1d(4));
  EXPECT_THAT([&] { swa->update_parameters(wider); },
              ThrowsMessage<c10::Error>(HasSubstr(
                  "AveragedModel: update_parameters got a model whose tensor "
                  "4 is '4.weight' of shape [5, 12], the averaged copy's is "
                  "'4.weight' of shape [4, 12]")));
  EXPECT_EQ(swa->n_averaged(), 1);

  AveragedModel bad(
      model,
      AveragedModelOptions().avg_fn([](const torch::Tensor& averaged,
                                       const torch::Tensor&,
                                       int64_t) { return averaged.sum(); }));
  bad->update_parameters(model);
  EXPECT_THAT([&] { bad->update_parameters(model); },
              ThrowsMessage<c10::Error>(
                  HasSubstr("AveragedModel: avg_fn returned a tensor of shape "
                            "[] for '0.weight' of shape [3, 2, 3, 3]")));
}

TEST(AveragedModelTest, DeviceOptionPlacesTheCopyAndTheCount) {
  auto model = make_swa_model();
  AveragedModel swa(model, AveragedModelOptions().device(torch::kCPU));
  EXPECT_EQ(swa->module()->parameters()[0].device(), torch::Device("cpu"));
  EXPECT_EQ(swa->named_buffers(false)["n_averaged"].device(),
            torch::Device("cpu"));
}

TEST(AveragedModelTest, CopyOnTheGpuAveragesACpuModel_CUDA) {
  if (!torch::cuda::is_available()) {
    GTEST_SKIP() << "no CUDA device";
  }
  auto model = make_swa_model();
  set_swa_version(*model, 0);
  AveragedModel swa(model, AveragedModelOptions().device(torch::kCUDA));
  for (const auto& tensor : swa->module()->parameters()) {
    EXPECT_TRUE(tensor.is_cuda());
  }
  set_swa_version(*model, 1);
  swa->update_parameters(model);
  EXPECT_EQ(swa->n_averaged(), 1);
  set_swa_version(*model, 2);
  swa->update_parameters(model);
  // The mean of versions 1 and 2, computed on the CPU.
  auto first = make_swa_model();
  auto second = make_swa_model();
  set_swa_version(*first, 1);
  set_swa_version(*second, 2);
  const auto averaged = swa->module()->parameters();
  for (std::size_t i = 0; i < averaged.size(); ++i) {
    EXPECT_TRUE(torch::allclose(
        averaged[i].cpu(),
        first->parameters()[i] +
            (second->parameters()[i] - first->parameters()[i]) / 2));
  }
  // Without a device, the copy stays where the model is.
  model->to(torch::kCUDA);
  AveragedModel on_model_device(model);
  EXPECT_TRUE(on_model_device->module()->parameters()[0].is_cuda());
}

}  // namespace
}  // namespace torchclr::test
