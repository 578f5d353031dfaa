#pragma once

#include <c10/util/Exception.h>
#include <torch/arg.h>
#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>

namespace torchclr {

/// avg_fn(averaged, model, num_averaged): the new value of an averaged
/// parameter from its current value, the model's value and the number of
/// models averaged so far (>= 1 when it is called). PyTorch's `avg_fn`, with
/// `num_averaged` as an integer rather than a tensor.
using AveragingFunction =
    std::function<torch::Tensor(const torch::Tensor& averaged,
                                const torch::Tensor& model,
                                int64_t num_averaged)>;

/// PyTorch's default `avg_fn`, the running equal-weight average:
/// averaged + (model - averaged) / (num_averaged + 1).
torch::Tensor equal_weight_average(const torch::Tensor& averaged,
                                   const torch::Tensor& model,
                                   int64_t num_averaged);

/// Options of `AveragedModel`, with PyTorch's keyword names and defaults.
struct AveragedModelOptions {
  /// Where the averaged copy lives; by default where the model's tensors
  /// are. `n_averaged` lives here too (on the CPU by default, as in PyTorch).
  TORCH_ARG(std::optional<torch::Device>, device) = std::nullopt;
  /// The averaging; empty means `equal_weight_average`. An exponential
  /// moving average: `[](auto& avg, auto& p, int64_t) { return 0.9 * avg +
  /// 0.1 * p; }`.
  TORCH_ARG(AveragingFunction, avg_fn) = nullptr;
  /// Average the buffers too (BatchNorm's running statistics), as well as
  /// the parameters; otherwise the buffers keep the values copied at
  /// construction, and `update_bn` recomputes them.
  TORCH_ARG(bool, use_buffers) = false;
};

/// What every `AveragedModelImpl` shares, whatever the module type: the copy,
/// registered as the submodule "module", the buffer "n_averaged" and the
/// averaging itself.
class AveragedModelBase : public torch::nn::Module {
 public:
  /// PyTorch's `update_parameters`: the first call copies `model`'s
  /// parameters (and buffers, with `use_buffers`), later calls average them
  /// in with `avg_fn`; then counts one more model. `model` must have the
  /// layout of the copied one (checked first: count, names' order and
  /// shapes); its tensors may live on another device and are read, never
  /// changed. If `avg_fn` throws or returns another shape, the tensors before
  /// that one are already averaged and the model is not counted.
  void update_parameters(const torch::nn::Module& model);
  /// `update_parameters` for a `TORCH_MODULE` holder: `update_parameters(net)`.
  template <typename ModuleType>
  void update_parameters(const torch::nn::ModuleHolder<ModuleType>& model) {
    update_parameters(static_cast<const torch::nn::Module&>(*model));
  }
  /// `update_parameters` for a `std::shared_ptr` to a module; throws on null.
  template <typename ModuleType,
            typename = std::enable_if_t<
                std::is_base_of_v<torch::nn::Module, ModuleType>>>
  void update_parameters(const std::shared_ptr<ModuleType>& model) {
    TORCH_CHECK(model != nullptr, "AveragedModel: update_parameters got null");
    update_parameters(static_cast<const torch::nn::Module&>(*model));
  }

  /// The number of `update_parameters` calls (PyTorch's `n_averaged`), kept
  /// in the buffer "n_averaged" so that `torch::save`/`torch::load` of this
  /// module keep it with the averaged weights.
  int64_t n_averaged() const;

  /// The options it was built with (not saved, as in PyTorch).
  const AveragedModelOptions& options() const noexcept {
    return options_;
  }

 protected:
  /// Copies `model` with LibTorch's `clone` (so it must derive from
  /// `torch::nn::Cloneable`, as `TORCH_MODULE` modules and LibTorch's own
  /// do) onto `options.device()`; throws, naming AveragedModel, otherwise.
  AveragedModelBase(const torch::nn::Module& model,
                    AveragedModelOptions options);

  /// The copy, as its concrete type (checked).
  template <typename ModuleType>
  std::shared_ptr<ModuleType> averaged_as() const {
    auto typed = std::dynamic_pointer_cast<ModuleType>(averaged_);
    TORCH_CHECK(typed != nullptr,
                "AveragedModel: the model's clone() returned a ",
                averaged_->name(),
                ", not the model's own type; derive the model from "
                "torch::nn::Cloneable<its own type>");
    return typed;
  }

 private:
  std::shared_ptr<torch::nn::Module> averaged_;
  torch::Tensor n_averaged_;
  AveragedModelOptions options_;
};

/// PyTorch's `torch.optim.swa_utils.AveragedModel` for a module of type
/// `ModuleType` (`NetImpl` of a `TORCH_MODULE(Net)`, `torch::nn::
/// SequentialImpl`, or a `Module` subclass derived from `Cloneable`): a deep
/// copy of the model whose parameters `update_parameters` averages, and
/// whose `forward` is the copy's. Use it through the holder `AveragedModel`.
template <typename ModuleType>
class AveragedModelImpl : public AveragedModelBase {
 public:
  /// A copy of `model` (a `ModuleHolder`: `TORCH_MODULE`, `Sequential`).
  explicit AveragedModelImpl(const torch::nn::ModuleHolder<ModuleType>& model,
                             AveragedModelOptions options = {})
      : AveragedModelImpl(model.ptr(), std::move(options)) {}
  /// A copy of `model`, held by a `std::shared_ptr`.
  explicit AveragedModelImpl(const std::shared_ptr<ModuleType>& model,
                             AveragedModelOptions options = {})
      : AveragedModelBase(non_null(model), std::move(options)),
        module_(averaged_as<ModuleType>()) {}

  /// The averaged copy's `forward`.
  template <typename... Args>
  decltype(auto) forward(Args&&... args) {
    return module_->forward(std::forward<Args>(args)...);
  }

  /// The averaged copy (PyTorch's `.module`).
  const std::shared_ptr<ModuleType>& module() const noexcept {
    return module_;
  }

 private:
  static const torch::nn::Module& non_null(
      const std::shared_ptr<ModuleType>& model) {
    TORCH_CHECK(model != nullptr, "AveragedModel: the model is null");
    return *model;
  }

  std::shared_ptr<ModuleType> module_;
};

/// The `ModuleHolder` of `AveragedModelImpl`: `torchclr::AveragedModel
/// swa_model(model);` for a `TORCH_MODULE` holder, a `Sequential` or a
/// `std::shared_ptr` to a module; then `swa_model->update_parameters(model)`,
/// `swa_model->forward(x)` (or `swa_model(x)`), `torch::save(swa_model,
/// path)`.
template <typename ModuleType>
class AveragedModel
    : public torch::nn::ModuleHolder<AveragedModelImpl<ModuleType>> {
 public:
  using torch::nn::ModuleHolder<AveragedModelImpl<ModuleType>>::ModuleHolder;

  /// The averaged copy's `forward` (LibTorch's own call operator cannot see
  /// a template `forward`).
  template <typename... Args>
  decltype(auto) operator()(Args&&... args) {
    return this->get()->forward(std::forward<Args>(args)...);
  }
};

/// Deduction from a `TORCH_MODULE` holder: `AveragedModel swa_model(net)` is
/// an `AveragedModel<NetImpl>`.
template <typename ModuleType>
AveragedModel(const torch::nn::ModuleHolder<ModuleType>&)
    -> AveragedModel<ModuleType>;
/// Deduction from a `TORCH_MODULE` holder and options:
/// `AveragedModel swa_model(net, options)`.
template <typename ModuleType>
AveragedModel(const torch::nn::ModuleHolder<ModuleType>&, AveragedModelOptions)
    -> AveragedModel<ModuleType>;
/// Deduction from a `std::shared_ptr` to a module:
/// `AveragedModel swa_model(module_ptr)`.
template <typename ModuleType>
AveragedModel(std::shared_ptr<ModuleType>) -> AveragedModel<ModuleType>;
/// Deduction from a `std::shared_ptr` to a module and options:
/// `AveragedModel swa_model(module_ptr, options)`.
template <typename ModuleType>
AveragedModel(std::shared_ptr<ModuleType>, AveragedModelOptions)
    -> AveragedModel<ModuleType>;

}  // namespace torchclr
