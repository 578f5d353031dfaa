#pragma once

// A copy of everything an LR range test changes in a module and its
// optimizer, put back bit for bit by restore().

#include <torch/nn/module.h>
#include <torch/optim/optimizer.h>
#include <torchclr/detail/version.h>

#include <memory>
#include <utility>
#include <vector>

namespace torchclr::detail {

/// Copies the module's and the optimizer's parameters, their gradients, the
/// buffers, every submodule's training flag, the param groups' options and
/// the optimizer's per-parameter state. Tensors are deep copies on their
/// device; optimizer states are copied through their own serialize(), the
/// only generic deep copy LibTorch offers (clone() shares the tensors, and
/// Optimizer::load neither removes states created since nor restores
/// options). The caller keeps the module and the optimizer alive.
class TrainingSnapshot {
 public:
  /// `owner` names the caller in error messages.
  TrainingSnapshot(torch::nn::Module& module,
                   torch::optim::Optimizer& optimizer,
                   const char* owner);

  /// Puts everything back; gradients are refilled in their original tensors
  /// (or undefined again). Leaves the snapshot spent: the saved states move
  /// into the optimizer. Throws if the number of param groups changed.
  void restore();

 private:
  struct SavedTensor {
    torch::Tensor live;
    torch::Tensor value;
    torch::Tensor grad;  // the original gradient tensor, refilled in place
    torch::Tensor grad_value;
    bool leaf = true;
  };

  void save_tensor(const torch::Tensor& tensor);
  void save_states();

  torch::optim::Optimizer& optimizer_;
  const char* owner_;
  std::vector<SavedTensor> tensors_;
  std::vector<std::pair<torch::nn::Module*, bool>> training_;
  std::vector<std::unique_ptr<torch::optim::OptimizerOptions>> options_;
  std::vector<std::pair<OptimizerStateKey,
                        std::unique_ptr<torch::optim::OptimizerParamState>>>
      states_;
};

}  // namespace torchclr::detail
