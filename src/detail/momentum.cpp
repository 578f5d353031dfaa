#include <torch/optim/adam.h>
#include <torch/optim/adamw.h>
#include <torch/optim/rmsprop.h>
#include <torch/optim/sgd.h>
#include <torchclr/caffe_sgd.h>
#include <torchclr/detail/momentum.h>
#include <torchclr/momentum.h>

namespace torchclr::detail {

namespace optim = torch::optim;

MomentumKind momentum_kind(const optim::OptimizerOptions& options) {
  if (dynamic_cast<const optim::SGDOptions*>(&options)) {
    return MomentumKind::kSGD;
  }
  if (dynamic_cast<const optim::RMSpropOptions*>(&options)) {
    return MomentumKind::kRMSprop;
  }
  if (dynamic_cast<const optim::AdamOptions*>(&options)) {
    return MomentumKind::kAdam;
  }
  if (dynamic_cast<const optim::AdamWOptions*>(&options)) {
    return MomentumKind::kAdamW;
  }
  if (dynamic_cast<const CaffeSGDOptions*>(&options)) {
    return MomentumKind::kCaffeSGD;
  }
  return MomentumKind::kNone;
}

// The kind was found with dynamic_cast once, at construction; every step()
// then uses the cheaper static_cast.
double get_momentum(const optim::OptimizerOptions& options, MomentumKind kind) {
  switch (kind) {
    case MomentumKind::kSGD:
      return static_cast<const optim::SGDOptions&>(options).momentum();
    case MomentumKind::kRMSprop:
      return static_cast<const optim::RMSpropOptions&>(options).momentum();
    case MomentumKind::kAdam:
      return std::get<0>(
          static_cast<const optim::AdamOptions&>(options).betas());
    case MomentumKind::kAdamW:
      return std::get<0>(
          static_cast<const optim::AdamWOptions&>(options).betas());
    case MomentumKind::kCaffeSGD:
      return static_cast<const CaffeSGDOptions&>(options).momentum();
    case MomentumKind::kNone:
      break;
  }
  TORCH_INTERNAL_ASSERT(false, "get_momentum: the optimizer has no momentum");
}

void set_momentum(optim::OptimizerOptions& options,
                  MomentumKind kind,
                  double value) {
  switch (kind) {
    case MomentumKind::kSGD:
      static_cast<optim::SGDOptions&>(options).momentum(value);
      return;
    case MomentumKind::kRMSprop:
      static_cast<optim::RMSpropOptions&>(options).momentum(value);
      return;
    case MomentumKind::kAdam:
      std::get<0>(static_cast<optim::AdamOptions&>(options).betas()) = value;
      return;
    case MomentumKind::kAdamW:
      std::get<0>(static_cast<optim::AdamWOptions&>(options).betas()) = value;
      return;
    case MomentumKind::kCaffeSGD:
      static_cast<CaffeSGDOptions&>(options).momentum(value);
      return;
    case MomentumKind::kNone:
      break;
  }
  TORCH_INTERNAL_ASSERT(false, "set_momentum: the optimizer has no momentum");
}

}  // namespace torchclr::detail

namespace torchclr {

std::optional<double> get_momentum(
    const torch::optim::OptimizerOptions& options) {
  const auto kind = detail::momentum_kind(options);
  if (kind == detail::MomentumKind::kNone) {
    return std::nullopt;
  }
  return detail::get_momentum(options, kind);
}

}  // namespace torchclr
