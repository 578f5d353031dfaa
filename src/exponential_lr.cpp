#include <c10/util/Exception.h>
#include <torchclr/detail/checks.h>
#include <torchclr/detail/options_text.h>
#include <torchclr/exponential_lr.h>

#include <cmath>

namespace torchclr {

ExponentialLROptions::ExponentialLROptions(double gamma) : gamma_(gamma) {}

double exponential_lr(double base_lr, double gamma, int64_t step) {
  return base_lr * std::pow(gamma, static_cast<double>(step));
}

ExponentialLR::ExponentialLR(torch::optim::Optimizer& optimizer,
                             ExponentialLROptions options)
    : OptionsScheduler(optimizer, "ExponentialLR", options) {
  detail::check_unit_interval(options_.gamma(), name(), "gamma");
  detail::check_positive(base_lrs(), name(), "the optimizer's lr");
  set_scales_base_lr();
  initial_step();
}

double ExponentialLR::lr_at(int64_t step, std::size_t group) const {
  return exponential_lr(base_lrs()[group], options_.gamma(), step);
}

std::string ExponentialLR::options_text() const {
  return detail::OptionsText().add("gamma", options_.gamma()).str();
}

}  // namespace torchclr
