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
    : ClosedFormScheduler(optimizer, "ConstantLR", std::move(options), true) {
  TORCH_CHECK(std::isfinite(options_.factor()) && options_.factor() >= 0 &&
                  options_.factor() <= 1,
              name(),
              ": factor must be in [0, 1], got ",
              options_.factor());
  detail::check_positive_count(options_.total_iters(), name(), "total_iters");
  initial_step();
}

std::string ConstantLR::options_text() const {
  return detail::OptionsText()
      .add("factor", options_.factor())
      .add("total_iters", options_.total_iters())
      .str();
}

}  // namespace torchclr
