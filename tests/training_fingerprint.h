#pragma once

// A small network, optimizers with two param groups, and a deep copy of
// everything an LR range test must leave as it found it, for the tests of
// the range test and of its snapshot.

#include <gtest/gtest.h>
#include <torch/torch.h>
#include <torchclr/detail/version.h>

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace torchclr::test {

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

/// Two param groups: fc1 with bn, and fc2.
inline std::vector<torch::optim::OptimizerParamGroup> two_groups(Net& net) {
  auto first = net->fc1->parameters();
  for (const auto& p : net->bn->parameters()) {
    first.push_back(p);
  }
  return {torch::optim::OptimizerParamGroup(first),
          torch::optim::OptimizerParamGroup(net->fc2->parameters())};
}

/// "SGD", "Adam", "AdamW" or "RMSprop" over `two_groups`, with different LRs
/// and momenta in the two groups.
std::unique_ptr<torch::optim::Optimizer> make_named_optimizer(
    const std::string& kind, Net& net);

/// Everything the range test must leave as it found it, deep-copied.
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

Fingerprint fingerprint(Net& net, torch::optim::Optimizer& optimizer);

/// Expects bit-for-bit equality of everything in the two fingerprints.
void expect_same(const Fingerprint& before,
                 const Fingerprint& after,
                 const std::string& context);

}  // namespace torchclr::test
