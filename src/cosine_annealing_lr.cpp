#include <c10/util/MathConstants.h>
#include <torchclr/cosine_annealing_lr.h>
#include <torchclr/detail/checks.h>
#include <torchclr/detail/options_text.h>

#include <cmath>

namespace torchclr {

CosineAnnealingLROptions::CosineAnnealingLROptions(int64_t T_max)
    : T_max_(T_max) {}

double cosine_annealing_lr(double base_lr,
                           const CosineAnnealingLROptions& options,
                           int64_t step) {
  const double eta_min = options.eta_min();
  return eta_min +
         (base_lr - eta_min) *
             (1 + std::cos(c10::pi<double> * static_cast<double>(step) /
                           static_cast<double>(options.T_max()))) /
             2;
}

CosineAnnealingLR::CosineAnnealingLR(torch::optim::Optimizer& optimizer,
                                     CosineAnnealingLROptions options)
    : ClosedFormScheduler(
          optimizer, "CosineAnnealingLR", std::move(options), false) {
  detail::check_positive_count(options_.T_max(), name(), "T_max");
  detail::check_non_negative(options_.eta_min(), name(), "eta_min");
  initial_step();
}

std::string CosineAnnealingLR::options_text() const {
  return detail::OptionsText()
      .add("T_max", options_.T_max())
      .add("eta_min", options_.eta_min())
      .str();
}

}  // namespace torchclr
