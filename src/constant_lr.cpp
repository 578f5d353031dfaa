#include <c10/util/Exception.h>
#include <torchclr/constant_lr.h>
#include <torchclr/detail/checks.h>
#include <torchclr/detail/options_text.h>

#include <cmath>

namespace torchclr {

double constant_lr(double base_lr,
                   const ConstantLROptions& options,
                   int64_t step) {
  return step < options.total_iters() ? base_lr * options.factor() : base_lr;
}

ConstantLR::ConstantLR(torch::optim::Optimizer& optimizer,
                       ConstantLROptions options)
    : OptionsScheduler(optimizer, "ConstantLR", options) {
  TORCH_CHECK(std::isfinite(options_.factor()) && options_.factor() >= 0 &&
                  options_.factor() <= 1,
              name(),
              ": factor must be in [0, 1], got ",
              options_.factor());
  detail::check_positive_count(options_.total_iters(), name(), "total_iters");
  detail::check_positive(base_lrs(), name(), "the optimizer's lr");
  set_scales_base_lr();
  initial_step();
}

double ConstantLR::lr_at(int64_t step, std::size_t group) const {
  return constant_lr(base_lrs()[group], options_, step);
}

std::string ConstantLR::options_text() const {
  return detail::OptionsText()
      .add("factor", options_.factor())
      .add("total_iters", options_.total_iters())
      .str();
}

}  // namespace torchclr
