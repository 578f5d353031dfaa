#pragma once

// Loading what torchclr's own optimizers save, shared by Adadelta and
// CaffeSGD.

#include <torch/optim/optimizer.h>
#include <torch/serialize/archive.h>

#include <memory>
#include <string>
#include <vector>

namespace torchclr::detail {

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

}  // namespace torchclr::detail
