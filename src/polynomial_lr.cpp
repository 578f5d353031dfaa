#include <torchclr/detail/checks.h>
#include <torchclr/detail/options_text.h>
#include <torchclr/polynomial_lr.h>

#include <algorithm>
#include <cmath>

namespace torchclr {

double polynomial_lr(double base_lr,
                     const PolynomialLROptions& options,
                     int64_t step) {
  const auto total = options.total_iters();
  return base_lr * std::pow(1.0 - static_cast<double>(std::min(total, step)) /
                                      static_cast<double>(total),
                            options.power());
}

PolynomialLR::PolynomialLR(torch::optim::Optimizer& optimizer,
                           PolynomialLROptions options)
    : ClosedFormScheduler(optimizer, "PolynomialLR", std::move(options), true) {
  detail::check_positive_count(options_.total_iters(), name(), "total_iters");
  detail::check_positive(options_.power(), name(), "power");
  initial_step();
}

std::string PolynomialLR::options_text() const {
  return detail::OptionsText()
      .add("total_iters", options_.total_iters())
      .add("power", options_.power())
      .str();
}

}  // namespace torchclr
