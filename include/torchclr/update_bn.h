#pragma once

#include <c10/util/Exception.h>
#include <torch/data/example.h>
#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>
#include <torchclr/batch_source.h>

#include <functional>
#include <memory>
#include <optional>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

namespace torchclr {
namespace detail {

// The input of one batch, as PyTorch's update_bn takes it: the batch itself
// when it is a tensor, else its first element (the data of an example).
inline torch::Tensor batch_input(const torch::Tensor& batch) {
  return batch;
}
// `Example<>` and `TensorExample` (of LibTorch's `TensorDataset`).
template <typename Target>
torch::Tensor batch_input(
    const torch::data::Example<torch::Tensor, Target>& example) {
  return example.data;
}
// LibTorch's loader without a `Stack` transform yields vectors of examples.
template <typename Target>
torch::Tensor batch_input(
    const std::vector<torch::data::Example<torch::Tensor, Target>>& examples) {
  TORCH_CHECK(!examples.empty(), "update_bn: got an empty batch");
  std::vector<torch::Tensor> inputs;
  inputs.reserve(examples.size());
  for (const auto& example : examples) {
    inputs.push_back(example.data);
  }
  return torch::stack(inputs);
}
inline torch::Tensor batch_input(const Batch& batch) {
  return batch.input;
}
// PyTorch's list of tensors: the first one.
torch::Tensor batch_input(const std::vector<torch::Tensor>& tensors);
template <typename Second>
torch::Tensor batch_input(const std::pair<torch::Tensor, Second>& pair) {
  return pair.first;
}
template <typename... Rest>
torch::Tensor batch_input(const std::tuple<torch::Tensor, Rest...>& tuple) {
  return std::get<0>(tuple);
}

/// Resets the running statistics of every BatchNorm in `model` that tracks
/// them (BatchNorm1d/2d/3d), sets their momentum to none (a cumulative
/// average), puts `model` in training mode and runs `pass` without
/// gradients; then restores the momenta and every module's training flag,
/// also when `pass` throws. Without such a BatchNorm it does nothing and
/// does not run `pass`.
void recount_batch_norm(torch::nn::Module& model,
                        const std::function<void()>& pass);

template <typename Loader, typename Forward>
void update_bn_over(Loader& loader,
                    torch::nn::Module& model,
                    const Forward& forward,
                    const std::optional<torch::Device>& device) {
  auto run = [&](torch::Tensor input) {
    TORCH_CHECK(input.defined(), "update_bn: a batch has no input tensor");
    if (device) {
      input = input.to(*device);
    }
    forward(input);
  };
  recount_batch_norm(model, [&] {
    if constexpr (is_batch_source_v<Loader>) {
      while (auto batch = loader.next()) {
        run(batch->input);
      }
      loader.finish();
    } else {
      for (auto&& batch : loader) {
        run(batch_input(batch));
      }
    }
  });
}

}  // namespace detail

/// PyTorch's `torch.optim.swa_utils.update_bn`: one pass over `loader` in
/// training mode, without gradients, that recomputes every BatchNorm's
/// running mean and variance as the plain average over the pass (momentum
/// none, statistics reset first); then the momenta and training flags are
/// restored. A model without BatchNorm is left alone and `loader` unread.
/// Call it on an `AveragedModel` after training, whose BatchNorm statistics
/// belong to no set of weights it holds.
///
/// `loader`: a LibTorch data loader (pass `*loader`), any range (a
/// `std::vector`, ...) or a `BatchSource`; each batch a tensor, an
/// `Example<>` or `TensorExample` (stacked, or a vector of them: a loader
/// without `Stack`), a `Batch`, a pair or tuple whose first element is the
/// input, or a vector of tensors (the first is the input), as PyTorch takes
/// lists and tuples. `device`: where each input is moved first (PyTorch's
/// `device`); the model must already be there.
///
/// Deviations from PyTorch: every module gets back its own training flag
/// (PyTorch gives all the model's), also when the pass throws; BatchNorms
/// that do not track running statistics are skipped (PyTorch raises).
template <typename Loader, typename ModuleType>
void update_bn(Loader&& loader,
               const torch::nn::ModuleHolder<ModuleType>& model,
               std::optional<torch::Device> device = std::nullopt) {
  const auto module = model.ptr();
  detail::update_bn_over(
      loader,
      *module,
      [&](const torch::Tensor& input) { module->forward(input); },
      device);
}

/// As above, for a module held by a `std::shared_ptr`.
template <typename Loader,
          typename ModuleType,
          typename = std::enable_if_t<
              std::is_base_of_v<torch::nn::Module, ModuleType>>>
void update_bn(Loader&& loader,
               const std::shared_ptr<ModuleType>& model,
               std::optional<torch::Device> device = std::nullopt) {
  TORCH_CHECK(model != nullptr, "update_bn: the model is null");
  detail::update_bn_over(
      loader,
      *model,
      [&](const torch::Tensor& input) { model->forward(input); },
      device);
}

/// As above, with `forward(input)` run on each input instead of the model's
/// own `forward` (a forward with other arguments); `model` is the module
/// whose BatchNorms are updated.
template <typename Loader,
          typename Forward,
          typename = std::enable_if_t<
              std::is_invocable_v<Forward&, const torch::Tensor&>>>
void update_bn(Loader&& loader,
               torch::nn::Module& model,
               Forward&& forward,
               std::optional<torch::Device> device = std::nullopt) {
  detail::update_bn_over(loader, model, forward, device);
}

}  // namespace torchclr
