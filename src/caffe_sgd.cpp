#include <torch/optim/serialize.h>
#include <torch/torch.h>
#include <torchclr/caffe_sgd.h>
#include <torchclr/detail/checks.h>
#include <torchclr/detail/optimizer_load.h>
#include <torchclr/detail/version.h>

#include <cmath>
#include <memory>
#include <string>

namespace torchclr {
namespace {

void check_caffe_sgd_options(const CaffeSGDOptions& options,
                             const std::string& owner) {
  detail::check_non_negative(options.lr(), owner, "lr");
  TORCH_CHECK(options.momentum() >= 0 && options.momentum() <= 1,
              owner,
              ": momentum must be in [0, 1], got ",
              options.momentum());
  detail::check_non_negative(options.weight_decay(), owner, "weight_decay");
}

// Caffe's PreSolve makes every history zero; here it is made on a
// parameter's first step with a gradient, which gives the same first step.
std::unique_ptr<CaffeSGDParamState> zero_history(const torch::Tensor& param) {
  auto state = std::make_unique<CaffeSGDParamState>();
  state->history(torch::zeros_like(param, at::MemoryFormat::Preserve));
  return state;
}

}  // namespace

CaffeSGDOptions::CaffeSGDOptions(double lr) : lr_(lr) {}

double CaffeSGDOptions::get_lr() const {
  return lr();
}

void CaffeSGDOptions::set_lr(const double lr) {
  this->lr(lr);
}

void CaffeSGDOptions::serialize(
    torch::serialize::OutputArchive& archive) const {
  _TORCH_OPTIM_SERIALIZE_TORCH_ARG(lr);
  _TORCH_OPTIM_SERIALIZE_TORCH_ARG(momentum);
  _TORCH_OPTIM_SERIALIZE_TORCH_ARG(weight_decay);
  _TORCH_OPTIM_SERIALIZE_TORCH_ARG(nesterov);
}

void CaffeSGDOptions::serialize(torch::serialize::InputArchive& archive) {
  _TORCH_OPTIM_DESERIALIZE_TORCH_ARG(double, lr);
  _TORCH_OPTIM_DESERIALIZE_TORCH_ARG(double, momentum);
  _TORCH_OPTIM_DESERIALIZE_TORCH_ARG(double, weight_decay);
  _TORCH_OPTIM_DESERIALIZE_TORCH_ARG(bool, nesterov);
}

bool operator==(const CaffeSGDOptions& lhs, const CaffeSGDOptions& rhs) {
  return lhs.lr() == rhs.lr() && lhs.momentum() == rhs.momentum() &&
         lhs.weight_decay() == rhs.weight_decay() &&
         lhs.nesterov() == rhs.nesterov();
}

void CaffeSGDParamState::serialize(
    torch::serialize::OutputArchive& archive) const {
  _TORCH_OPTIM_SERIALIZE_TORCH_ARG(history);
}

void CaffeSGDParamState::serialize(torch::serialize::InputArchive& archive) {
  _TORCH_OPTIM_DESERIALIZE_TORCH_ARG(torch::Tensor, history);
}

bool operator==(const CaffeSGDParamState& lhs, const CaffeSGDParamState& rhs) {
  if (!lhs.history().defined() || !rhs.history().defined()) {
    return lhs.history().defined() == rhs.history().defined();
  }
  return torch::equal(lhs.history(), rhs.history());
}

CaffeSGD::CaffeSGD(std::vector<torch::optim::OptimizerParamGroup> param_groups,
                   CaffeSGDOptions defaults)
    : Optimizer(std::move(param_groups),
                detail::checked_defaults(
                    defaults, "CaffeSGD", check_caffe_sgd_options)) {
  detail::check_groups<CaffeSGDOptions>(
      param_groups_, "CaffeSGD", check_caffe_sgd_options);
}

CaffeSGD::CaffeSGD(std::vector<torch::Tensor> params, CaffeSGDOptions defaults)
    : CaffeSGD(
          std::vector<torch::optim::OptimizerParamGroup>{
              torch::optim::OptimizerParamGroup(std::move(params))},
          std::move(defaults)) {}

torch::Tensor CaffeSGD::step(LossClosure closure) {
  torch::NoGradGuard no_grad;
  const auto loss = detail::run_closure(closure);
  for (auto& group : param_groups_) {
    const auto& options = static_cast<const CaffeSGDOptions&>(group.options());
    const double momentum = options.momentum();
    for (auto& param : group.params()) {
      if (!param.grad().defined()) {
        continue;
      }
      TORCH_CHECK(!param.grad().is_sparse(),
                  "CaffeSGD does not support sparse gradients");
      // Regularize: Caffe adds the decay to the gradient.
      auto grad = param.grad();
      if (options.weight_decay() != 0) {
        grad = grad.add(param, options.weight_decay());
      }
      // ComputeUpdateValue: h <- momentum h + local_rate g.
      auto history = detail::state_of<CaffeSGDParamState>(state_, param, [&] {
                       return zero_history(param);
                     }).history();
      if (!options.nesterov()) {
        history.mul_(momentum).add_(grad, options.lr());
        param.sub_(history);
        continue;
      }
      // NesterovSolver: step back over the old history, then over-step.
      const auto previous = history.clone();
      history.mul_(momentum).add_(grad, options.lr());
      param.sub_(history.mul(1 + momentum).sub_(previous, momentum));
    }
  }
  return loss;
}

void CaffeSGD::save(torch::serialize::OutputArchive& archive) const {
  torch::optim::serialize<CaffeSGDParamState, CaffeSGDOptions>(archive, *this);
}

void CaffeSGD::load(torch::serialize::InputArchive& archive) {
  // Restores the histories and checks the group and parameter counts.
  torch::optim::serialize<CaffeSGDParamState, CaffeSGDOptions>(archive, *this);
  detail::load_group_options<CaffeSGDOptions>(
      archive, param_groups_, "CaffeSGD", check_caffe_sgd_options);
  detail::move_loaded_states<CaffeSGDParamState>(
      param_groups_, state_, [](auto& state, const auto& options) {
        state.history(state.history().to(options));
      });
}

}  // namespace torchclr
