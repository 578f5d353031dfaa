#include <gmock/gmock.h>
#include <torchclr/averaged_model.h>
#include <torchclr/update_bn.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "swa_test_model.h"
#include "test_util.h"

namespace torchclr::test {
namespace {

using ::testing::HasSubstr;
using ::testing::ThrowsMessage;

// The running statistics of both BatchNorms, in the generator's columns.
void expect_statistics(const std::string& name,
                       const torch::nn::Sequential& model) {
  const Reference ref = load_reference(name);
  std::vector<std::string> columns;
  std::vector<double> values;
  for (const auto& item : model->named_buffers()) {
    const auto flat = item.value().to(torch::kFloat64).reshape(-1);
    for (int64_t i = 0; i < flat.numel(); ++i) {
      columns.push_back(item.key() + "_" + std::to_string(i));
      values.push_back(flat[i].item<double>());
    }
  }
  ASSERT_EQ(columns, ref.columns);
  for (std::size_t i = 0; i < values.size(); ++i) {
    expect_close(values[i], ref.rows.at(0)[i], name + " " + columns[i]);
  }
}

torch::nn::BatchNorm2dImpl& norm2d(const torch::nn::Sequential& model) {
  return *model->ptr(1)->as<torch::nn::BatchNorm2dImpl>();
}
torch::nn::BatchNorm1dImpl& norm1d(const torch::nn::Sequential& model) {
  return *model->ptr(5)->as<torch::nn::BatchNorm1dImpl>();
}

// The generator's first case: version 2 in eval mode, BatchNorm2d's momentum
// 0.3 and BatchNorm1d's none, batches of 4, 4 and 3 inputs.
torch::nn::Sequential prepared_model() {
  auto model = make_swa_model();
  set_swa_version(*model, 2);
  norm2d(model).options.momentum(0.3);
  norm1d(model).options.momentum(c10::nullopt);
  model->eval();
  return model;
}

std::vector<torch::Tensor> three_batches() {
  const auto x = swa_inputs();
  return {x.slice(0, 0, 4), x.slice(0, 4, 8), x.slice(0, 8, 11)};
}

TEST(UpdateBnTest, BatchesOfTensorsMatchPyTorch) {
  auto model = prepared_model();
  update_bn(three_batches(), model);
  expect_statistics("update_bn_model", model);
  // Momenta and the eval mode are back.
  EXPECT_EQ(norm2d(model).options.momentum(), c10::optional<double>(0.3));
  EXPECT_FALSE(norm1d(model).options.momentum().has_value());
  for (const auto& module : model->modules()) {
    EXPECT_FALSE(module->is_training());
  }
}

// Every batch type PyTorch's update_bn takes (a tensor, or a list or tuple
// whose first element is the input) gives the same statistics.
TEST(UpdateBnTest, EveryBatchTypeGivesTheSameStatistics) {
  std::vector<std::pair<torch::Tensor, torch::Tensor>> pairs;
  std::vector<std::tuple<torch::Tensor, torch::Tensor>> tuples;
  std::vector<std::vector<torch::Tensor>> lists;
  std::vector<torch::data::Example<>> examples;
  std::vector<Batch> batches;
  for (const auto& x : three_batches()) {
    const auto y = torch::zeros({x.size(0)});
    pairs.emplace_back(x, y);
    tuples.emplace_back(x, y);
    lists.push_back({x, y});
    examples.push_back({x, y});
    batches.push_back({x, y});
  }
  auto check = [](const char* what, auto&& loader) {
    SCOPED_TRACE(what);
    auto model = prepared_model();
    update_bn(loader, model);
    expect_statistics("update_bn_model", model);
  };
  check("pairs", pairs);
  check("tuples", tuples);
  check("lists", lists);
  check("examples", examples);
  check("batches", batches);
  auto source = make_batch_source(batches.begin(), batches.end());
  check("BatchSource", source);
}

// One scalar-target example per input, for LibTorch's data loader.
class InputDataset : public torch::data::datasets::Dataset<InputDataset> {
 public:
  explicit InputDataset(torch::Tensor inputs) : inputs_(std::move(inputs)) {}
  torch::data::Example<> get(size_t index) override {
    return {inputs_[static_cast<int64_t>(index)], torch::zeros({})};
  }
  torch::optional<size_t> size() const override {
    return static_cast<size_t>(inputs_.size(0));
  }

 private:
  torch::Tensor inputs_;
};

// PyTorch's intended use: update_bn(loader, swa_model) after training, here
// with an AveragedModel of versions 0..3 and batches of 3, 3, 3 and 2.
TEST(UpdateBnTest, AveragedModelThroughDataLoadersMatchesPyTorch) {
  auto make_averaged = [] {
    return average_of_versions_0_to_3(make_swa_model());
  };
  namespace data = torch::data;
  {
    SCOPED_TRACE("Example<> with Stack");
    auto swa = make_averaged();
    auto loader = data::make_data_loader<data::samplers::SequentialSampler>(
        InputDataset(swa_inputs()).map(data::transforms::Stack<>()), 3);
    update_bn(*loader, swa);
    expect_statistics("update_bn_averaged_model", swa->module());
  }
  {
    SCOPED_TRACE("vectors of Example<>, two workers");
    auto swa = make_averaged();
    auto loader = data::make_data_loader<data::samplers::SequentialSampler>(
        InputDataset(swa_inputs()),
        data::DataLoaderOptions(3).workers(2).enforce_ordering(true));
    update_bn(*loader, swa);
    expect_statistics("update_bn_averaged_model", swa->module());
  }
  {
    SCOPED_TRACE("TensorDataset");
    auto swa = make_averaged();
    auto loader = data::make_data_loader<data::samplers::SequentialSampler>(
        data::datasets::TensorDataset(swa_inputs())
            .map(data::transforms::Stack<data::TensorExample>()),
        3);
    update_bn(*loader, swa);
    expect_statistics("update_bn_averaged_model", swa->module());
  }
}

// A BatchSource that counts the batches asked for.
class CountingSource : public BatchSource {
 public:
  std::optional<Batch> next() override {
    ++calls;
    return std::nullopt;
  }
  int calls = 0;
};

TEST(UpdateBnTest, ModelWithoutBatchNormIsLeftAloneAndTheLoaderUnread) {
  torch::nn::Sequential model(torch::nn::Linear(3, 2), torch::nn::ReLU());
  model->eval();
  CountingSource source;
  update_bn(source, model);
  EXPECT_EQ(source.calls, 0);
  EXPECT_FALSE(model->is_training());
}

TEST(UpdateBnTest, EachModuleGetsItsOwnFlagBackAlsoWhenForwardThrows) {
  auto model = prepared_model();
  model->train();
  norm1d(model).eval();  // a frozen BatchNorm in a training model
  int calls = 0;
  EXPECT_THROW(update_bn(three_batches(),
                         *model,
                         [&](const torch::Tensor& input) {
                           EXPECT_TRUE(norm1d(model).is_training());
                           EXPECT_FALSE(torch::GradMode::is_enabled());
                           model->forward(input);
                           if (++calls == 2) {
                             throw std::runtime_error("stop");
                           }
                         }),
               std::runtime_error);
  EXPECT_EQ(calls, 2);
  EXPECT_TRUE(model->is_training());
  EXPECT_TRUE(norm2d(model).is_training());
  EXPECT_FALSE(norm1d(model).is_training());
  EXPECT_EQ(norm2d(model).options.momentum(), c10::optional<double>(0.3));
  EXPECT_FALSE(norm1d(model).options.momentum().has_value());
  // Two batches were counted, with the cumulative average.
  EXPECT_EQ(norm2d(model).num_batches_tracked.item<int64_t>(), 2);
}

// Without running statistics there is nothing to update (PyTorch raises).
TEST(UpdateBnTest, BatchNormWithoutRunningStatisticsIsSkipped) {
  torch::nn::Sequential model(torch::nn::BatchNorm1d(
      torch::nn::BatchNorm1dOptions(3).track_running_stats(false)));
  CountingSource source;
  update_bn(source, model);
  EXPECT_EQ(source.calls, 0);
}

// Through a shared_ptr module, and with the empty pass PyTorch also allows:
// the statistics are reset and nothing is counted.
TEST(UpdateBnTest, EmptyLoaderLeavesResetStatistics) {
  auto norm = std::make_shared<torch::nn::BatchNorm1dImpl>(2);
  {
    torch::NoGradGuard no_grad;
    norm->running_mean.fill_(5);
    norm->running_var.fill_(7);
    norm->num_batches_tracked.fill_(9);
  }
  update_bn(std::vector<torch::Tensor>{}, norm);
  EXPECT_TRUE(torch::equal(norm->running_mean, torch::zeros({2})));
  EXPECT_TRUE(torch::equal(norm->running_var, torch::ones({2})));
  EXPECT_EQ(norm->num_batches_tracked.item<int64_t>(), 0);
}

TEST(UpdateBnTest, BadBatchesAreExplained) {
  auto model = prepared_model();
  EXPECT_THAT(
      [&] { update_bn(std::vector<std::vector<torch::Tensor>>{{}}, model); },
      ThrowsMessage<c10::Error>(HasSubstr(
          "update_bn: got a batch that is an empty list of tensors")));
  EXPECT_THAT(
      [&] { update_bn(std::vector<torch::Tensor>{torch::Tensor()}, model); },
      ThrowsMessage<c10::Error>(
          HasSubstr("update_bn: a batch has no input tensor")));
  EXPECT_THAT(
      [&] {
        update_bn(std::vector<torch::Tensor>{},
                  std::shared_ptr<torch::nn::LinearImpl>());
      },
      ThrowsMessage<c10::Error>(HasSubstr("update_bn: the model is null")));
}

TEST(UpdateBnTest, DeviceMovesEveryInput_CUDA) {
  if (!torch::cuda::is_available()) {
    GTEST_SKIP() << "no CUDA device";
  }
  auto model = prepared_model();
  model->to(torch::kCUDA);
  update_bn(three_batches(), model, torch::Device(torch::kCUDA));
  model->to(torch::kCPU);
  // The GPU's kernels may round differently: close, not equal to 1e-12.
  const Reference ref = load_reference("update_bn_model");
  const auto mean = norm1d(model).running_mean;
  for (int64_t i = 0; i < 4; ++i) {
    EXPECT_NEAR(mean[i].item<double>(), ref.rows.at(0)[7 + i], 1e-9);
  }
}

}  // namespace
}  // namespace torchclr::test
