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
    return {step % T_0, static_cast<double>(T_0), step / T_0};
  }
  // Cycles grow geometrically, so this loop runs O(log step) times.
  int64_t T_cur = step;
  int64_t T_i = T_0;
  int64_t cycle = 0;
  for (; T_cur >= T_i; ++cycle) {
    T_cur -= T_i;
    int64_t next = 0;
    if (__builtin_mul_overflow(T_i, T_mult, &next)) {
      // A cycle longer than int64_t counts holds every step that is left.
      return {T_cur,
              static_cast<double>(T_i) * static_cast<double>(T_mult),
              cycle + 1};
    }
    T_i = next;
  }
  return {T_cur, static_cast<double>(T_i), cycle};
}

double cosine_restart_lr(double base_lr,
                         const CosineAnnealingWarmRestartsOptions& options,
                         const RestartPosition& position) {
  const double eta_min = options.eta_min();
  if (options.cycle_limit() && position.cycle >= *options.cycle_limit()) {
    return eta_min;
  }
  if (options.cycle_decay() != 1.0) {
    base_lr *=
        std::pow(options.cycle_decay(), static_cast<double>(position.cycle));
  }
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
  detail::check_unit_interval(options_.cycle_decay(), name(), "cycle_decay");
  if (options_.cycle_limit()) {
    detail::check_positive_count(
        *options_.cycle_limit(), name(), "cycle_limit");
  }
  detail::check_positive(base_lrs(), name(), "the optimizer's lr");
  initial_step();
}

double CosineAnnealingWarmRestarts::lr_at(int64_t step,
                                          std::size_t group) const {
  return cosine_restart_lr(
      base_lrs()[group],
      options_,
      restart_position(step, options_.T_0(), options_.T_mult()));
}

// The options beyond PyTorch's are stored only when set, so archives of
// plain SGDR written before they existed still load.
std::string CosineAnnealingWarmRestarts::options_text() const {
  detail::OptionsText text;
  text.add("T_0", options_.T_0())
      .add("T_mult", options_.T_mult())
      .add("eta_min", options_.eta_min());
  if (options_.cycle_decay() != 1.0) {
    text.add("cycle_decay", options_.cycle_decay());
  }
  if (options_.cycle_limit()) {
    text.add("cycle_limit", *options_.cycle_limit());
  }
  return text.str();
}
}  // namespace torchclr
