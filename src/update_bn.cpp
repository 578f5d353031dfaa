#include <torch/torch.h>
#include <torchclr/update_bn.h>

#include <type_traits>
#include <vector>

namespace torchclr {
namespace detail {
namespace {

using Momentum = std::decay_t<
    decltype(std::declval<torch::nn::BatchNormOptions&>().momentum())>;

// A BatchNorm that tracks running statistics: what update_bn resets, sets
// and restores.
struct Norm {
  torch::nn::BatchNormOptions* options;
  torch::Tensor running_mean;
  torch::Tensor running_var;
  torch::Tensor num_batches_tracked;
  Momentum momentum;
};

// Adds `module` to `norms` if it is an `Impl` that tracks running statistics.
template <typename Impl>
void add_norm(torch::nn::Module& module, std::vector<Norm>& norms) {
  auto* norm = dynamic_cast<Impl*>(&module);
  if (norm != nullptr && norm->options.track_running_stats() &&
      norm->running_mean.defined()) {
    norms.push_back({&norm->options,
                     norm->running_mean,
                     norm->running_var,
                     norm->num_batches_tracked,
                     norm->options.momentum()});
  }
}

}  // namespace

torch::Tensor batch_input(const std::vector<torch::Tensor>& tensors) {
  TORCH_CHECK(!tensors.empty(),
              "update_bn: got a batch that is an empty list of tensors");
  return tensors.front();
}

void recount_batch_norm(torch::nn::Module& model,
                        const std::function<void()>& pass) {
  std::vector<Norm> norms;
  // modules() lists each module before its children, so restoring the flags
  // in this order gives every module its own.
  const auto modules = model.modules();
  for (const auto& module : modules) {
    add_norm<torch::nn::BatchNorm1dImpl>(*module, norms);
    add_norm<torch::nn::BatchNorm2dImpl>(*module, norms);
    add_norm<torch::nn::BatchNorm3dImpl>(*module, norms);
  }
  if (norms.empty()) {
    return;
  }
  std::vector<bool> training;
  training.reserve(modules.size());
  for (const auto& module : modules) {
    training.push_back(module->is_training());
  }
  auto restore = [&] {
    for (const auto& norm : norms) {
      norm.options->momentum(norm.momentum);
    }
    for (std::size_t i = 0; i < modules.size(); ++i) {
      modules[i]->train(training[i]);
    }
  };
  // PyTorch's zeros_like, ones_like and `*= 0`, in place.
  for (auto& norm : norms) {
    norm.running_mean.zero_();
    norm.running_var.fill_(1);
    if (norm.num_batches_tracked.defined()) {
      norm.num_batches_tracked.zero_();
    }
    norm.options->momentum(c10::nullopt);
  }
  model.train(true);
  try {
    torch::NoGradGuard no_grad;
    pass();
  } catch (...) {
    restore();
    throw;
  }
  restore();
}

}  // namespace detail
}  // namespace torchclr
