#include <c10/util/Exception.h>
#include <torch/serialize/archive.h>
#include <torch/types.h>
#include <torchclr/detail/checks.h>
#include <torchclr/detail/options_text.h>
#include <torchclr/reduce_lr_on_plateau.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

namespace torchclr {
namespace {

// PyTorch's `mode_worse`: the best metric before any was seen.
double worst_metric(PlateauMode mode) {
  return mode == PlateauMode::kMin ? std::numeric_limits<double>::infinity()
                                   : -std::numeric_limits<double>::infinity();
}

}  // namespace

bool plateau_is_better(PlateauMode mode,
                       ThresholdMode threshold_mode,
                       double threshold,
                       double metric,
                       double best) {
  const bool relative = threshold_mode == ThresholdMode::kRel;
  if (mode == PlateauMode::kMin) {
    return relative ? metric < best * (1. - threshold)
                    : metric < best - threshold;
  }
  return relative ? metric > best * (threshold + 1.)
                  : metric > best + threshold;
}

double plateau_reduced_lr(double lr, double factor, double min_lr, double eps) {
  const double reduced = std::max(lr * factor, min_lr);
  return lr - reduced > eps ? reduced : lr;
}

ReduceLROnPlateau::ReduceLROnPlateau(torch::optim::Optimizer& optimizer,
                                     ReduceLROnPlateauOptions options)
    : OptionsScheduler(optimizer, "ReduceLROnPlateau", std::move(options)) {
  TORCH_CHECK(options_.mode() == PlateauMode::kMin ||
                  options_.mode() == PlateauMode::kMax,
              name(),
              ": mode must be kMin or kMax, got ",
              static_cast<int>(options_.mode()));
  TORCH_CHECK(options_.threshold_mode() == ThresholdMode::kRel ||
                  options_.threshold_mode() == ThresholdMode::kAbs,
              name(),
              ": threshold_mode must be kRel or kAbs, got ",
              static_cast<int>(options_.threshold_mode()));
  const double factor = options_.factor();
  TORCH_CHECK(std::isfinite(factor) && factor > 0 && factor < 1,
              name(),
              ": factor must be in (0, 1), got ",
              factor);
  TORCH_CHECK(options_.patience() >= 0,
              name(),
              ": patience must be >= 0, got ",
              options_.patience());
  TORCH_CHECK(options_.cooldown() >= 0,
              name(),
              ": cooldown must be >= 0, got ",
              options_.cooldown());
  detail::check_non_negative(options_.threshold(), name(), "threshold");
  // best * (1 - threshold) would be 0 or below (NaN against the first +inf):
  // no loss could ever count as an improvement.
  TORCH_CHECK(options_.mode() != PlateauMode::kMin ||
                  options_.threshold_mode() != ThresholdMode::kRel ||
                  options_.threshold() < 1,
              name(),
              ": threshold must be < 1 in min mode with relative "
              "threshold_mode, got ",
              options_.threshold());
  detail::check_non_negative(options_.eps(), name(), "eps");
  min_lrs_ = options_.min_lr().resolve(num_groups(), name(), "min_lr");
  for (const double min_lr : min_lrs_) {
    detail::check_non_negative(min_lr, name(), "min_lr");
  }
  detail::check_positive(base_lrs(), name(), "the optimizer's lr");
  best_ = worst_metric(options_.mode());
  initial_step();
}

void ReduceLROnPlateau::update(double metric) {
  TORCH_CHECK(std::isfinite(metric),
              name(),
              ": the metric must be finite, got ",
              metric,
              "; the LRs are unchanged");
  check_param_groups();
  if (plateau_is_better(options_.mode(),
                        options_.threshold_mode(),
                        options_.threshold(),
                        metric,
                        best_)) {
    best_ = metric;
    num_bad_epochs_ = 0;
  } else {
    ++num_bad_epochs_;
  }
  if (cooldown_counter_ > 0) {
    --cooldown_counter_;
    num_bad_epochs_ = 0;
  }
  if (num_bad_epochs_ > options_.patience()) {
    // PyTorch's _reduce_lr: from the LR the group holds now, which the user
    // may have changed since the last step.
    auto& groups = optimizer().param_groups();
    for (std::size_t i = 0; i < num_groups(); ++i) {
      auto& group_options = groups[i].options();
      group_options.set_lr(plateau_reduced_lr(group_options.get_lr(),
                                              options_.factor(),
                                              min_lrs_[i],
                                              options_.eps()));
    }
    cooldown_counter_ = options_.cooldown();
    num_bad_epochs_ = 0;
  }
}

void ReduceLROnPlateau::step(double metric) {
  update(metric);
  step();
}

double ReduceLROnPlateau::lr_at(int64_t /*step*/, std::size_t group) const {
  return optimizer().param_groups()[group].options().get_lr();
}

PlateauState ReduceLROnPlateau::plateau_state() const {
  PlateauState state;
  state.best = best_;
  state.num_bad_epochs = num_bad_epochs_;
  state.cooldown_counter = cooldown_counter_;
  for (std::size_t i = 0; i < num_groups(); ++i) {
    state.lrs.push_back(optimizer().param_groups()[i].options().get_lr());
  }
  return state;
}

std::string ReduceLROnPlateau::options_text() const {
  return detail::OptionsText()
      .add("mode", options_.mode() == PlateauMode::kMin ? "min" : "max")
      .add("factor", options_.factor())
      .add("patience", options_.patience())
      .add("threshold", options_.threshold())
      .add("threshold_mode",
           options_.threshold_mode() == ThresholdMode::kRel ? "rel" : "abs")
      .add("cooldown", options_.cooldown())
      .add("min_lr", min_lrs_)
      .add("eps", options_.eps())
      .str();
}

void ReduceLROnPlateau::save(torch::serialize::OutputArchive& archive) const {
  Scheduler::save(archive);
  const auto state = plateau_state();
  archive.write("plateau_best", c10::IValue(state.best));
  archive.write("plateau_num_bad_epochs", c10::IValue(state.num_bad_epochs));
  archive.write("plateau_cooldown_counter",
                c10::IValue(state.cooldown_counter));
  archive.write("plateau_lrs", torch::tensor(state.lrs, torch::kFloat64));
}

PlateauState ReduceLROnPlateau::read_plateau_state(
    torch::serialize::InputArchive& archive) const {
  c10::IValue value;
  // Reads `key`, which must hold an integer in [0, max].
  auto read_count = [&](const char* key, int64_t max) {
    TORCH_CHECK(archive.try_read(key, value),
                name(),
                ": the archive has no '",
                key,
                "'");
    TORCH_CHECK(value.isInt() && value.toInt() >= 0 && value.toInt() <= max,
                name(),
                ": the archive's '",
                key,
                "' is ",
                value,
                ", expected an integer in [0, ",
                max,
                "]");
    return value.toInt();
  };
  PlateauState state;
  state.num_bad_epochs =
      read_count("plateau_num_bad_epochs", options_.patience());
  state.cooldown_counter =
      read_count("plateau_cooldown_counter", options_.cooldown());
  TORCH_CHECK(archive.try_read("plateau_best", value),
              name(),
              ": the archive has no 'plateau_best'");
  TORCH_CHECK(
      value.isDouble() && (std::isfinite(value.toDouble()) ||
                           value.toDouble() == worst_metric(options_.mode())),
      name(),
      ": the archive's 'plateau_best' is ",
      value,
      ", expected a finite number or the mode's worst value");
  state.best = value.toDouble();
  torch::Tensor lrs;
  TORCH_CHECK(archive.try_read("plateau_lrs", lrs),
              name(),
              ": the archive has no 'plateau_lrs'");
  lrs = lrs.to(torch::kFloat64).contiguous();
  TORCH_CHECK(
      lrs.dim() == 1 && lrs.numel() == static_cast<int64_t>(num_groups()),
      name(),
      ": the archive's plateau_lrs has ",
      lrs.numel(),
      " entries, expected ",
      num_groups());
  const double* data = lrs.data_ptr<double>();
  state.lrs.assign(data, data + lrs.numel());
  // Not bounded by the base LRs: an LR raised by hand is kept, as in PyTorch.
  for (std::size_t i = 0; i < state.lrs.size(); ++i) {
    TORCH_CHECK(std::isfinite(state.lrs[i]) && state.lrs[i] >= 0,
                name(),
                ": the archive's plateau_lrs holds ",
                state.lrs[i],
                " for group ",
                i,
                ", expected a finite value >= 0");
  }
  return state;
}

void ReduceLROnPlateau::restore_plateau_state(const PlateauState& state) {
  TORCH_INTERNAL_ASSERT(state.lrs.size() == num_groups());
  best_ = state.best;
  num_bad_epochs_ = state.num_bad_epochs;
  cooldown_counter_ = state.cooldown_counter;
  auto& groups = optimizer().param_groups();
  for (std::size_t i = 0; i < num_groups(); ++i) {
    groups[i].options().set_lr(state.lrs[i]);
  }
}

void ReduceLROnPlateau::load(torch::serialize::InputArchive& archive) {
  const auto state = read_state(archive);
  const auto plateau = read_plateau_state(archive);
  check_param_groups();
  restore_base_lrs(state);
  restore_plateau_state(plateau);
  apply(state.last_epoch);
}

}  // namespace torchclr
