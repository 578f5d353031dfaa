#pragma once

// The model of tests/data/generate_swa_reference.py and its closed-form
// "versions", shared by averaged_model_test.cpp and update_bn_test.cpp.

#include <torch/torch.h>
#include <torchclr/averaged_model.h>

#include <string>
#include <utility>
#include <vector>

namespace torchclr::test {

/// Sequential(Conv2d(2, 3, 3), BatchNorm2d(3), ReLU(), Flatten(),
/// Linear(12, 4), BatchNorm1d(4)) in float64.
inline torch::nn::Sequential make_swa_model() {
  torch::nn::Sequential model(torch::nn::Conv2d(2, 3, 3),
                              torch::nn::BatchNorm2d(3),
                              torch::nn::ReLU(),
                              torch::nn::Flatten(),
                              torch::nn::Linear(12, 4),
                              torch::nn::BatchNorm1d(4));
  model->to(torch::kFloat64);
  // LibTorch's Module::to(dtype) converts every buffer, PyTorch's only the
  // floating-point ones: num_batches_tracked stays long in PyTorch.
  for (const auto& buffer : model->buffers()) {
    if (buffer.dim() == 0) {
      buffer.set_data(buffer.to(torch::kLong));
    }
  }
  return model;
}

/// named_parameters(), then named_buffers(): PyTorch's order.
inline std::vector<std::pair<std::string, torch::Tensor>> swa_tensors(
    const torch::nn::Module& model) {
  std::vector<std::pair<std::string, torch::Tensor>> tensors;
  for (const auto& item : model.named_parameters()) {
    tensors.emplace_back(item.key(), item.value());
  }
  for (const auto& item : model.named_buffers()) {
    tensors.emplace_back(item.key(), item.value());
  }
  return tensors;
}

/// Version k of the model: tensor j (of `swa_tensors`) is
/// 0.2 * sin(0.37 * arange(numel) + (0.5 * j + 1.1 * k)), plus 1 for the
/// BatchNorms' weight and running_var; num_batches_tracked is 3 * k + j.
inline void set_swa_version(torch::nn::Module& model, int64_t k) {
  torch::NoGradGuard no_grad;
  const auto tensors = swa_tensors(model);
  for (std::size_t j = 0; j < tensors.size(); ++j) {
    const auto& [name, tensor] = tensors[j];
    if (tensor.scalar_type() == torch::kLong) {
      tensor.fill_(3 * k + static_cast<int64_t>(j));
      continue;
    }
    auto values =
        0.2 * torch::sin(0.37 * torch::arange(tensor.numel(), torch::kFloat64) +
                         (0.5 * static_cast<double>(j) +
                          1.1 * static_cast<double>(k)));
    if (name == "1.weight" || name == "1.running_var" || name == "5.weight" ||
        name == "5.running_var") {
      values = 1 + values;
    }
    tensor.copy_(values.reshape(tensor.sizes()));
  }
}

/// An AveragedModel of `model` made at version 0 and updated with versions
/// 1..3 (`model` is left at version 3): the generator's "versions 0..3".
inline AveragedModel<torch::nn::SequentialImpl> average_of_versions_0_to_3(
    torch::nn::Sequential model) {
  set_swa_version(*model, 0);
  AveragedModel swa(model);
  for (int64_t k = 1; k <= 3; ++k) {
    set_swa_version(*model, k);
    swa->update_parameters(model);
  }
  return swa;
}

/// The generator's inputs: sin(0.29 * arange(11 * 32)).reshape(11, 2, 4, 4).
inline torch::Tensor swa_inputs() {
  return torch::sin(0.29 * torch::arange(11 * 32, torch::kFloat64))
      .reshape({11, 2, 4, 4});
}

}  // namespace torchclr::test
