#include <c10/util/Exception.h>
#include <torchclr/batch_source.h>

namespace torchclr {

Batch detail::to_batch(const std::vector<torch::data::Example<>>& examples) {
  TORCH_CHECK(!examples.empty(), "LRRangeTest: got an empty batch");
  std::vector<torch::Tensor> inputs;
  std::vector<torch::Tensor> targets;
  inputs.reserve(examples.size());
  targets.reserve(examples.size());
  for (const auto& example : examples) {
    inputs.push_back(example.data);
    targets.push_back(example.target);
  }
  return {torch::stack(inputs), torch::stack(targets)};
}

}  // namespace torchclr
