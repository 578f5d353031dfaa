#include <c10/util/Exception.h>
#include <torchclr/detail/checks.h>
#include <torchclr/detail/options_text.h>
#include <torchclr/exponential_lr.h>

#include <cmath>

namespace torchclr {

ExponentialLROptions::ExponentialLROptions(double gamma) : gamma_(gamma) {}

double exponential_lr(double base_lr,
                      const ExponentialLROptions& options,
                      int64_t step) {
  return base_lr * std::pow(options.gamma(), static_cast<double>(step));
}

ExponentialLR::ExponentialLR(torch::optim::Optimizer& optimizer,
                             ExponentialLROptions options)
    : ClosedFormScheduler(
          optimizer, "ExponentialLR", std::move(options), true) {
  // Any finite gamma > 0, as PyTorch: above 1 the LR grows (warm-ups, range
  // tests), as PyTorch's does, until it would pass the largest double,
  // where step() throws (PyTorch would set inf).
  detail::check_positive(options_.gamma(), name(), "gamma");
  initial_step();
}

std::string ExponentialLR::options_text() const {
  return detail::OptionsText().add("gamma", options_.gamma()).str();
}

}  // namespace torchclr
