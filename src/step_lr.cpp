#include <torchclr/detail/checks.h>
#include <torchclr/detail/options_text.h>
#include <torchclr/step_lr.h>

#include <cmath>

namespace torchclr {

StepLROptions::StepLROptions(int64_t step_size) : step_size_(step_size) {}

double step_lr(double base_lr, const StepLROptions& options, int64_t step) {
  return base_lr * std::pow(options.gamma(),
                            static_cast<double>(step / options.step_size()));
}

StepLR::StepLR(torch::optim::Optimizer& optimizer, StepLROptions options)
    : ClosedFormScheduler(optimizer, "StepLR", std::move(options), true) {
  detail::check_positive_count(options_.step_size(), name(), "step_size");
  // Any finite gamma > 0, as PyTorch: above 1 the LR grows (warm-ups, range
  // tests), as PyTorch's does, until it would pass the largest double,
  // where step() throws (PyTorch would set inf).
  detail::check_positive(options_.gamma(), name(), "gamma");
  initial_step();
}

std::string StepLR::options_text() const {
  return detail::OptionsText()
      .add("step_size", options_.step_size())
      .add("gamma", options_.gamma())
      .str();
}

}  // namespace torchclr
