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
    : Scheduler(optimizer, "MultiStepLR"), options_(std::move(options)) {
  for (int64_t milestone : options_.milestones()) {
    TORCH_CHECK(milestone > 0,
                "MultiStepLR: every milestone must be > 0, got ",
                milestone);
  }
  detail::check_unit_interval(options_.gamma(), "MultiStepLR", "gamma");
  detail::check_positive(base_lrs_, "MultiStepLR", "the optimizer's lr");
  sorted_milestones_ = options_.milestones();
  std::sort(sorted_milestones_.begin(), sorted_milestones_.end());
  initial_step();
}

void MultiStepLR::compute(int64_t epoch,
                          std::vector<double>& lrs,
                          std::vector<double>& momentums) const {
  for (std::size_t i = 0; i < lrs.size(); ++i) {
    lrs[i] = multi_step_lr(
        base_lrs_[i], sorted_milestones_, options_.gamma(), epoch);
  }
  momentums.clear();
}

std::string MultiStepLR::options_text() const {
  return detail::OptionsText()
      .add("milestones", sorted_milestones_)
      .add("gamma", options_.gamma())
      .str();
}

}  // namespace torchclr
