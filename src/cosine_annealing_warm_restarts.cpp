#include <c10/util/Exception.h>
#include <c10/util/MathConstants.h>
#include <torchclr/cosine_annealing_warm_restarts.h>
#include <torchclr/detail/checks.h>
#include <torchclr/detail/options_text.h>

#include <cmath>

namespace torchclr {
CosineAnnealingWarmRestartsOptions::CosineAnnealingWarmRestartsOptions(
    int64_t T_0)
    : T_0_(T_0) {}

RestartPosition restart_position(int64_t step, int64_t T_0, int64_t T_mult) {
  if (T_mult == 1) {
    return {step % T_0, static_cast<double>(T_0)};
  }
  // Cycles grow geometrically, so this loop runs O(log step) times.
  int64_t T_cur = step;
  int64_t T_i = T_0;
  while (T_cur >= T_i) {
    T_cur -= T_i;
    int64_t next = 0;
    if (__builtin_mul_overflow(T_i, T_mult, &next)) {
      // A cycle longer than int64_t counts holds every step that is left.
      return {T_cur, static_cast<double>(T_i) * static_cast<double>(T_mult)};
    }
    T_i = next;
  }
  return {T_cur, static_cast<double>(T_i)};
}

double cosine_restart_lr(double base_lr,
                         double eta_min,
                         const RestartPosition& position) {
  return eta_min + (base_lr - eta_min) *
                       (1 + std::cos(c10::pi<double> *
                                     static_cast<double>(position.T_cur) /
                                     position.T_i)) /
                       2;
}

CosineAnnealingWarmRestarts::CosineAnnealingWarmRestarts(
    torch::optim::Optimizer& optimizer,
    CosineAnnealingWarmRestartsOptions options)
    : OptionsScheduler(
          optimizer, "CosineAnnealingWarmRestarts", std::move(options)) {
  detail::check_positive_count(options_.T_0(), name(), "T_0");
  TORCH_CHECK(options_.T_mult() >= 1,
              name(),
              ": T_mult must be an integer >= 1, got ",
              options_.T_mult());
  detail::check_non_negative(options_.eta_min(), name(), "eta_min");
  detail::check_positive(base_lrs(), name(), "the optimizer's lr");
  initial_step();
}

double CosineAnnealingWarmRestarts::lr_at(int64_t step,
                                          std::size_t group) const {
  return cosine_restart_lr(
      base_lrs()[group],
      options_.eta_min(),
      restart_position(step, options_.T_0(), options_.T_mult()));
}

std::string CosineAnnealingWarmRestarts::options_text() const {
  return detail::OptionsText()
      .add("T_0", options_.T_0())
      .add("T_mult", options_.T_mult())
      .add("eta_min", options_.eta_min())
      .str();
}

}  // namespace torchclr
