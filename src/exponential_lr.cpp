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
    : Scheduler(optimizer, "ExponentialLR"), options_(options) {
  detail::check_unit_interval(options_.gamma(), "ExponentialLR", "gamma");
  detail::check_positive(base_lrs_, "ExponentialLR", "the optimizer's lr");
  initial_step();
}

void ExponentialLR::compute(int64_t epoch,
                            std::vector<double>& lrs,
                            std::vector<double>& momentums) const {
  for (std::size_t i = 0; i < lrs.size(); ++i) {
    lrs[i] = exponential_lr(base_lrs_[i], options_.gamma(), epoch);
  }
  momentums.clear();
}

std::string ExponentialLR::options_text() const {
  return detail::OptionsText().add("gamma", options_.gamma()).str();
}

}  // namespace torchclr
