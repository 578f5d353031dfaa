#include <torch/torch.h>
#include <torchclr/averaged_model.h>

#include <string>
#include <vector>

namespace torchclr {
namespace {

// PyTorch's order: the parameters, then (with use_buffers) the buffers.
std::vector<std::pair<std::string, torch::Tensor>> averaged_tensors(
    const torch::nn::Module& module, bool use_buffers) {
  std::vector<std::pair<std::string, torch::Tensor>> tensors;
  for (const auto& item : module.named_parameters()) {
    tensors.emplace_back(item.key(), item.value());
  }
  if (use_buffers) {
    for (const auto& item : module.named_buffers()) {
      tensors.emplace_back(item.key(), item.value());
    }
  }
  return tensors;
}

}  // namespace

torch::Tensor equal_weight_average(const torch::Tensor& averaged,
                                   const torch::Tensor& model,
                                   int64_t num_averaged) {
  return averaged + (model - averaged) / (num_averaged + 1);
}

AveragedModelBase::AveragedModelBase(const torch::nn::Module& model,
                                     AveragedModelOptions options)
    : options_(std::move(options)) {
  c10::optional<torch::Device> device;
  if (options_.device()) {
    device = *options_.device();
  }
  try {
    averaged_ = model.clone(device);
  } catch (const c10::Error& error) {
    TORCH_CHECK(false,
                "AveragedModel: cannot copy the model (",
                model.name(),
                "): ",
                error.what_without_backtrace());
  }
  // clone() re-creates the parameters with reset(); PyTorch's deepcopy keeps
  // which of them are frozen.
  const auto original = model.parameters();
  const auto copied = averaged_->parameters();
  TORCH_CHECK(original.size() == copied.size(),
              "AveragedModel: the clone of ",
              model.name(),
              " has ",
              copied.size(),
              " parameters, the model ",
              original.size());
  for (std::size_t i = 0; i < copied.size(); ++i) {
    copied[i].requires_grad_(original[i].requires_grad());
  }
  register_module("module", averaged_);
  n_averaged_ =
      register_buffer("n_averaged",
                      torch::zeros({},
                                   torch::TensorOptions(torch::kLong)
                                       .device(device.value_or(torch::kCPU))));
}

int64_t AveragedModelBase::n_averaged() const {
  return n_averaged_.item<int64_t>();
}

void AveragedModelBase::update_parameters(const torch::nn::Module& model) {
  torch::NoGradGuard no_grad;
  const bool use_buffers = options_.use_buffers();
  const auto averaged = averaged_tensors(*averaged_, use_buffers);
  const auto current = averaged_tensors(model, use_buffers);
  const char* what = use_buffers ? "parameters and buffers" : "parameters";
  TORCH_CHECK(averaged.size() == current.size(),
              "AveragedModel: update_parameters got a model with ",
              current.size(),
              " ",
              what,
              ", the averaged copy has ",
              averaged.size());
  for (std::size_t i = 0; i < averaged.size(); ++i) {
    TORCH_CHECK(averaged[i].first == current[i].first &&
                    averaged[i].second.sizes() == current[i].second.sizes(),
                "AveragedModel: update_parameters got a model whose tensor ",
                i,
                " is '",
                current[i].first,
                "' of shape ",
                current[i].second.sizes(),
                ", the averaged copy's is '",
                averaged[i].first,
                "' of shape ",
                averaged[i].second.sizes());
  }
  const int64_t count = n_averaged();
  for (std::size_t i = 0; i < averaged.size(); ++i) {
    torch::Tensor target = averaged[i].second.detach();
    const torch::Tensor source = current[i].second.detach().to(target.device());
    if (count == 0) {
      target.copy_(source);
      continue;
    }
    const torch::Tensor value =
        options_.avg_fn() ? options_.avg_fn()(target, source, count)
                          : equal_weight_average(target, source, count);
    TORCH_CHECK(value.defined(),
                "AveragedModel: avg_fn returned an undefined tensor for '",
                averaged[i].first,
                "'");
    TORCH_CHECK(value.sizes() == target.sizes(),
                "AveragedModel: avg_fn returned a tensor of shape ",
                value.sizes(),
                " for '",
                averaged[i].first,
                "' of shape ",
                target.sizes());
    target.copy_(value);
  }
  n_averaged_ += 1;
}

}  // namespace torchclr
