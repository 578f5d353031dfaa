#include <c10/util/Exception.h>
#include <torch/serialize/archive.h>
#include <torch/utils.h>
#include <torchclr/detail/training_snapshot.h>

#include <sstream>
#include <string>
#include <unordered_set>

namespace torchclr::detail {

TrainingSnapshot::TrainingSnapshot(torch::nn::Module& module,
                                   torch::optim::Optimizer& optimizer,
                                   const char* owner)
    : optimizer_(optimizer), owner_(owner) {
  // A tensor can be both the module's and a param group's: copy it once.
  std::unordered_set<const void*> seen;
  auto save = [&](const torch::Tensor& tensor) {
    if (tensor.defined() && seen.insert(tensor.unsafeGetTensorImpl()).second) {
      save_tensor(tensor);
    }
  };
  for (const auto& parameter : module.parameters()) {
    save(parameter);
  }
  for (const auto& buffer : module.buffers()) {
    save(buffer);
  }
  for (const auto& group : optimizer.param_groups()) {
    for (const auto& parameter : group.params()) {
      save(parameter);
    }
  }
  module.apply([this](torch::nn::Module& submodule) {
    training_.emplace_back(&submodule, submodule.is_training());
  });
  for (const auto& group : optimizer.param_groups()) {
    options_.push_back(group.options().clone());
  }
  save_states();
}

void TrainingSnapshot::save_tensor(const torch::Tensor& tensor) {
  SavedTensor saved{tensor, tensor.detach().clone(), {}, {}};
  // grad() of a non-leaf warns; parameters and buffers are leaves.
  saved.leaf = tensor.is_leaf();
  if (saved.leaf && tensor.grad().defined()) {
    saved.grad = tensor.grad();
    saved.grad_value = tensor.grad().detach().clone();
  }
  tensors_.push_back(std::move(saved));
}

void TrainingSnapshot::restore() {
  torch::NoGradGuard no_grad;
  for (auto& saved : tensors_) {
    saved.live.copy_(saved.value);
    if (saved.grad.defined()) {
      saved.grad.copy_(saved.grad_value);
    }
    // Only where needed: mutable_grad() gives a buffer autograd metadata.
    if (saved.leaf && (saved.grad.defined() || saved.live.grad().defined())) {
      saved.live.mutable_grad() = saved.grad;
    }
  }
  // Pre-order: a parent's train() resets its children, which come after.
  for (auto& [submodule, training] : training_) {
    submodule->train(training);
  }
  auto& groups = optimizer_.param_groups();
  TORCH_CHECK(groups.size() == options_.size(),
              owner_,
              ": the optimizer had ",
              options_.size(),
              " param groups before the run and has ",
              groups.size(),
              " after; cannot restore it");
  for (std::size_t i = 0; i < groups.size(); ++i) {
    groups[i].set_options(std::move(options_[i]));
  }
  auto& state = optimizer_.state();
  state.clear();
  for (auto& [key, param_state] : states_) {
    state[key] = std::move(param_state);
  }
}

void TrainingSnapshot::save_states() {
  const auto& state = optimizer_.state();
  if (state.empty()) {
    return;
  }
  torch::serialize::OutputArchive out;
  std::size_t index = 0;
  for (const auto& [key, param_state] : state) {
    torch::serialize::OutputArchive entry(out.compilation_unit());
    param_state->serialize(entry);
    out.write(std::to_string(index++), entry);
    states_.emplace_back(key, param_state->clone());
  }
  std::stringstream bytes;
  out.save_to(bytes);
  torch::serialize::InputArchive in;
  in.load_from(bytes);
  for (std::size_t i = 0; i < states_.size(); ++i) {
    torch::serialize::InputArchive entry;
    in.read(std::to_string(i), entry);
    // Overwrites the shallow clone's tensors with the deserialized copies.
    states_[i].second->serialize(entry);
  }
}

}  // namespace torchclr::detail
