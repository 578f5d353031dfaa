#include <torch/optim/serialize.h>
#include <torch/torch.h>
#include <torchclr/adadelta.h>
#include <torchclr/detail/checks.h>
#include <torchclr/detail/optimizer_load.h>
#include <torchclr/detail/version.h>

#include <memory>
#include <string>

namespace torchclr {
namespace {

void check_adadelta_options(const AdadeltaOptions& options,
                            const std::string& owner) {
  detail::check_non_negative(options.lr(), owner, "lr");
  TORCH_CHECK(options.rho() >= 0 && options.rho() <= 1,
              owner,
              ": rho must be in [0, 1], got ",
              options.rho());
  detail::check_non_negative(options.eps(), owner, "eps");
  detail::check_non_negative(options.weight_decay(), owner, "weight_decay");
}

std::unique_ptr<AdadeltaParamState> zero_averages(const torch::Tensor& param) {
  auto state = std::make_unique<AdadeltaParamState>();
  state->square_avg(torch::zeros_like(param, at::MemoryFormat::Preserve));
  state->acc_delta(torch::zeros_like(param, at::MemoryFormat::Preserve));
  return state;
}

bool same_tensor_values(const torch::Tensor& lhs, const torch::Tensor& rhs) {
  if (!lhs.defined() || !rhs.defined()) {
    return lhs.defined() == rhs.defined();
  }
  return torch::equal(lhs, rhs);
}

}  // namespace

AdadeltaOptions::AdadeltaOptions(double lr) : lr_(lr) {}

double AdadeltaOptions::get_lr() const {
  return lr();
}

void AdadeltaOptions::set_lr(const double lr) {
  this->lr(lr);
}

void AdadeltaOptions::serialize(
    torch::serialize::OutputArchive& archive) const {
  _TORCH_OPTIM_SERIALIZE_TORCH_ARG(lr);
  _TORCH_OPTIM_SERIALIZE_TORCH_ARG(rho);
  _TORCH_OPTIM_SERIALIZE_TORCH_ARG(eps);
  _TORCH_OPTIM_SERIALIZE_TORCH_ARG(weight_decay);
  _TORCH_OPTIM_SERIALIZE_TORCH_ARG(maximize);
}

void AdadeltaOptions::serialize(torch::serialize::InputArchive& archive) {
  _TORCH_OPTIM_DESERIALIZE_TORCH_ARG(double, lr);
  _TORCH_OPTIM_DESERIALIZE_TORCH_ARG(double, rho);
  _TORCH_OPTIM_DESERIALIZE_TORCH_ARG(double, eps);
  _TORCH_OPTIM_DESERIALIZE_TORCH_ARG(double, weight_decay);
  _TORCH_OPTIM_DESERIALIZE_TORCH_ARG(bool, maximize);
}

bool operator==(const AdadeltaOptions& lhs, const AdadeltaOptions& rhs) {
  return lhs.lr() == rhs.lr() && lhs.rho() == rhs.rho() &&
         lhs.eps() == rhs.eps() && lhs.weight_decay() == rhs.weight_decay() &&
         lhs.maximize() == rhs.maximize();
}

void AdadeltaParamState::serialize(
    torch::serialize::OutputArchive& archive) const {
  _TORCH_OPTIM_SERIALIZE_TORCH_ARG(square_avg);
  _TORCH_OPTIM_SERIALIZE_TORCH_ARG(acc_delta);
  _TORCH_OPTIM_SERIALIZE_TORCH_ARG(step);
}

void AdadeltaParamState::serialize(torch::serialize::InputArchive& archive) {
  _TORCH_OPTIM_DESERIALIZE_TORCH_ARG(torch::Tensor, square_avg);
  _TORCH_OPTIM_DESERIALIZE_TORCH_ARG(torch::Tensor, acc_delta);
  _TORCH_OPTIM_DESERIALIZE_TORCH_ARG(int64_t, step);
}

bool operator==(const AdadeltaParamState& lhs, const AdadeltaParamState& rhs) {
  return lhs.step() == rhs.step() &&
         same_tensor_values(lhs.square_avg(), rhs.square_avg()) &&
         same_tensor_values(lhs.acc_delta(), rhs.acc_delta());
}

Adadelta::Adadelta(std::vector<torch::optim::OptimizerParamGroup> param_groups,
                   AdadeltaOptions defaults)
    : Optimizer(std::move(param_groups),
                detail::checked_defaults(
                    defaults, "Adadelta", check_adadelta_options)) {
  detail::check_groups<AdadeltaOptions>(
      param_groups_, "Adadelta", check_adadelta_options);
}

Adadelta::Adadelta(std::vector<torch::Tensor> params, AdadeltaOptions defaults)
    : Adadelta(
          std::vector<torch::optim::OptimizerParamGroup>{
              torch::optim::OptimizerParamGroup(std::move(params))},
          std::move(defaults)) {}

torch::Tensor Adadelta::step(LossClosure closure) {
  torch::NoGradGuard no_grad;
  const auto loss = detail::run_closure(closure);
  for (auto& group : param_groups_) {
    const auto& options = static_cast<const AdadeltaOptions&>(group.options());
    const double rho = options.rho();
    const double eps = options.eps();
    for (auto& param : group.params()) {
      if (!param.grad().defined()) {
        continue;
      }
      TORCH_CHECK(!param.grad().is_sparse(),
                  "Adadelta does not support sparse gradients");
      auto grad = options.maximize() ? -param.grad() : param.grad();
      if (options.weight_decay() != 0) {
        grad = grad.add(param, options.weight_decay());
      }
      auto& state = detail::state_of<AdadeltaParamState>(
          state_, param, [&] { return zero_averages(param); });
      state.step(state.step() + 1);

      auto square_avg = state.square_avg();
      auto acc_delta = state.acc_delta();
      // As PyTorch: real and imaginary parts are averaged separately.
      const bool complex = param.is_complex();
      if (complex) {
        square_avg = torch::view_as_real(square_avg);
        acc_delta = torch::view_as_real(acc_delta);
        grad = torch::view_as_real(grad);
      }
      square_avg.mul_(rho).addcmul_(grad, grad, 1 - rho);
      const auto rms_grad = square_avg.add(eps).sqrt_();
      auto delta = acc_delta.add(eps).sqrt_().div_(rms_grad).mul_(grad);
      acc_delta.mul_(rho).addcmul_(delta, delta, 1 - rho);
      if (complex) {
        delta = torch::view_as_complex(delta);
      }
      param.add_(delta, -options.lr());
    }
  }
  return loss;
}

void Adadelta::save(torch::serialize::OutputArchive& archive) const {
  torch::optim::serialize<AdadeltaParamState, AdadeltaOptions>(archive, *this);
}

void Adadelta::load(torch::serialize::InputArchive& archive) {
  // Restores the state and checks the group and parameter counts.
  torch::optim::serialize<AdadeltaParamState, AdadeltaOptions>(archive, *this);
  detail::load_group_options<AdadeltaOptions>(
      archive, param_groups_, "Adadelta", check_adadelta_options);
  detail::move_loaded_states<AdadeltaParamState>(
      param_groups_, state_, [](auto& state, const auto& options) {
        state.square_avg(state.square_avg().to(options));
        state.acc_delta(state.acc_delta().to(options));
      });
}

}  // namespace torchclr
