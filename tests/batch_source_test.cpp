// Batch sources: iterator pairs and ranges of every accepted element type,
// passes that end and restart, and LibTorch data loaders (with workers).

#include <gmock/gmock.h>
#include <torchclr/batch_source.h>
#include <torchclr/lr_finder.h>

#include <tuple>

#include "test_util.h"
#include "training_fingerprint.h"

namespace torchclr::test {
namespace {

using ::testing::HasSubstr;
using ::testing::ThrowsMessage;

// The first element of every input of one pass, then whether the pass ended.
std::vector<int64_t> one_pass(BatchSource& source) {
  std::vector<int64_t> firsts;
  while (auto batch = source.next()) {
    firsts.push_back(batch->input.view(-1)[0].item<int64_t>());
  }
  return firsts;
}

TEST(BatchSourceTest, IteratorSourcePassesEndAndRestart) {
  const std::vector<std::pair<torch::Tensor, torch::Tensor>> pairs = {
      {torch::full({2}, 1), torch::zeros({2})},
      {torch::full({2}, 2), torch::zeros({2})}};
  auto source = make_batch_source(pairs.begin(), pairs.end());
  EXPECT_EQ(one_pass(source), (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(one_pass(source), (std::vector<int64_t>{1, 2}));
}

TEST(BatchSourceTest, RangeSourceTakesEveryElementType) {
  const std::vector<std::tuple<torch::Tensor, torch::Tensor>> tuples = {
      {torch::full({2}, 3), torch::zeros({2})}};
  RangeBatchSource<const std::vector<std::tuple<torch::Tensor, torch::Tensor>>>
      from_tuples(tuples);
  EXPECT_EQ(one_pass(from_tuples), (std::vector<int64_t>{3}));
  const std::vector<torch::data::Example<>> examples = {
      {torch::full({2}, 4), torch::zeros({1})}};
  RangeBatchSource<const std::vector<torch::data::Example<>>> from_examples(
      examples);
  EXPECT_EQ(one_pass(from_examples), (std::vector<int64_t>{4}));
  // Unstacked examples are stacked into one batch.
  const std::vector<std::vector<torch::data::Example<>>> unstacked = {
      {{torch::full({2}, 5), torch::tensor(0)},
       {torch::full({2}, 6), torch::tensor(1)}}};
  RangeBatchSource<const std::vector<std::vector<torch::data::Example<>>>>
      from_unstacked(unstacked);
  const auto batch = from_unstacked.next();
  ASSERT_TRUE(batch);
  EXPECT_EQ(batch->input.sizes(), (std::vector<int64_t>{2, 2}));
  EXPECT_TRUE(torch::equal(batch->target, torch::tensor({0, 1})));
  EXPECT_THAT(
      [] { detail::to_batch(std::vector<torch::data::Example<>>{}); },
      ThrowsMessage<c10::Error>(HasSubstr("LRRangeTest: got an empty batch")));
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

TEST(BatchSourceTest, RangeTestRunsOverLibTorchDataLoaders) {
  torch::manual_seed(0);
  const auto inputs = torch::randn({40, 4});
  const auto targets = torch::randint(0, 3, {40}, torch::kLong);
  Net net;
  torch::optim::SGD optimizer(net->parameters(),
                              torch::optim::SGDOptions(0.1).momentum(0.9));
  // Every run must reach num_iter: this tests the loaders, not the stop
  // rules (the threaded loader's random order could trip the climb-back).
  LRRangeTest range_test(
      net,
      optimizer,
      LRRangeTestOptions().num_iter(13).end_lr(1).stop_on_climb_back(false));
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

}  // namespace
}  // namespace torchclr::test
