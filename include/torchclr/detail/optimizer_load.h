#pragma once

// What torchclr's own optimizers (Adadelta, CaffeSGD) share: option checks
// per group, lazily made per-parameter state, the closure, and loading.

#include <torch/optim/optimizer.h>
#include <torch/serialize/archive.h>
#include <torchclr/detail/version.h>

#include <memory>
#include <string>
#include <vector>

namespace torchclr::detail {

/// `defaults` after `check(defaults, optimizer)`: checked before the base
/// class copies them into the groups.
template <typename Options, typename Check>
std::unique_ptr<Options> checked_defaults(const Options& defaults,
                                          const std::string& optimizer,
                                          Check check) {
  check(defaults, optimizer);
  return std::make_unique<Options>(defaults);
}

/// Checks every group's options, named "<optimizer> (param group i)".
template <typename Options, typename Check>
void check_groups(const std::vector<torch::optim::OptimizerParamGroup>& groups,
                  const std::string& optimizer,
                  Check check) {
  for (std::size_t i = 0; i < groups.size(); ++i) {
    check(static_cast<const Options&>(groups[i].options()),
          optimizer + " (param group " + std::to_string(i) + ")");
  }
}

/// The loss of `closure` run with gradients on, or an undefined tensor.
inline torch::Tensor run_closure(
    const torch::optim::Optimizer::LossClosure& closure) {
  if (closure == nullptr) {
    return {};
  }
  at::AutoGradMode enable_grad(true);
  return closure();
}

/// `param`'s state, made by `make()` on its first step with a gradient (as
/// PyTorch does), so parameters that never get one have no state.
template <typename State, typename StateMap, typename Make>
State& state_of(StateMap& states, const torch::Tensor& param, Make make) {
  const auto key = optimizer_state_key(param);
  auto found = states.find(key);
  if (found == states.end()) {
    found = states.emplace(key, make()).first;
  }
  return static_cast<State&>(*found->second);
}

/// Restores each group's options from `archive`, written by
/// `torch::optim::serialize<State, Options>`: LibTorch's loader leaves the
/// options as they are; PyTorch's load_state_dict restores them, and a
/// resumed run needs them. `check(options, owner)` validates each group,
/// named "<optimizer> (loaded param group i)".
template <typename Options, typename Check>
void load_group_options(torch::serialize::InputArchive& archive,
                        std::vector<torch::optim::OptimizerParamGroup>& groups,
                        const std::string& optimizer,
                        Check check) {
  torch::serialize::InputArchive groups_archive;
  archive.read("param_groups", groups_archive);
  for (std::size_t i = 0; i < groups.size(); ++i) {
    torch::serialize::InputArchive group_archive;
    groups_archive.read("param_groups/" + std::to_string(i), group_archive);
    torch::serialize::InputArchive options_archive;
    group_archive.read("options", options_archive);
    auto options = std::make_unique<Options>(0.0);
    options->serialize(options_archive);
    check(*options,
          optimizer + " (loaded param group " + std::to_string(i) + ")");
    groups[i].set_options(std::move(options));
  }
}

/// Archives load onto the CPU; as PyTorch's load_state_dict, `move(state,
/// param)` puts each loaded state on its parameter's device and dtype so
/// that a CUDA run can resume.
template <typename State, typename StateMap, typename Move>
void move_loaded_states(
    const std::vector<torch::optim::OptimizerParamGroup>& groups,
    StateMap& states,
    Move move) {
  for (const auto& group : groups) {
    for (const auto& param : group.params()) {
      const auto found = states.find(optimizer_state_key(param));
      if (found != states.end()) {
        move(static_cast<State&>(*found->second), param.options());
      }
    }
  }
}

}  // namespace torchclr::detail
