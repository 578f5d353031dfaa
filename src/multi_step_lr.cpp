#include <c10/util/Exception.h>
#include <torchclr/detail/checks.h>
#include <torchclr/detail/options_text.h>
#include <torchclr/multi_step_lr.h>

#include <algorithm>
#include <cmath>

namespace torchclr {

MultiStepLROptions::MultiStepLROptions(std::vector<int64_t> milestones)
    : milestones_(std::move(milestones)) {}

double multi_step_lr(double base_lr,
                     const std::vector<int64_t>& sorted_milestones,
                     double gamma,
                     int64_t step) {
  const auto passed =
      std::upper_bound(
          sorted_milestones.begin(), sorted_milestones.end(), step) -
      sorted_milestones.begin();
  return base_lr * std::pow(gamma, static_cast<double>(passed));
}

MultiStepLR::MultiStepLR(torch::optim::Optimizer& optimizer,
                         MultiStepLROptions options)
    : OptionsScheduler(optimizer, "MultiStepLR", std::move(options)) {
  for (int64_t milestone : options_.milestones()) {
    TORCH_CHECK(milestone > 0,
                name(),
                ": every milestone must be > 0, got ",
                milestone);
  }
  // Any finite gamma > 0, as PyTorch: above 1 the LR grows (warm-ups, range
  // tests), as PyTorch's does, until it would pass the largest double,
  // where step() throws (PyTorch would set inf).
  detail::check_positive(options_.gamma(), name(), "gamma");
  detail::check_positive(base_lrs(), name(), "the optimizer's lr");
  sorted_milestones_ = options_.milestones();
  std::sort(sorted_milestones_.begin(), sorted_milestones_.end());
  set_scales_base_lr();
  initial_step();
}

double MultiStepLR::lr_at(int64_t step, std::size_t group) const {
  return multi_step_lr(
      base_lrs()[group], sorted_milestones_, options_.gamma(), step);
}

std::string MultiStepLR::options_text() const {
  return detail::OptionsText()
      .add("milestones", sorted_milestones_)
      .add("gamma", options_.gamma())
      .str();
}

}  // namespace torchclr
