#include <c10/util/Exception.h>
#include <c10/util/MathConstants.h>
#include <torchclr/cyclic_lr.h>
#include <torchclr/detail/checks.h>
#include <torchclr/detail/options_text.h>

#include <atomic>
#include <cmath>

namespace torchclr {
namespace {

// Names each constructed schedule for the per-thread memo of `shape_at`.
std::atomic<uint64_t> next_schedule_id{1};

constexpr const char* kModeNames[] = {
    "triangular", "triangular2", "exp_range", "exp_range_paper"};

double shape(Waveform waveform, double t) {
  switch (waveform) {
    case Waveform::kTriangle:
      return t;
    case Waveform::kSine:
      return (1.0 - std::cos(c10::pi<double> * t)) / 2.0;
    case Waveform::kParabolic:
      return 1.0 - (1.0 - t) * (1.0 - t);
  }
  TORCH_INTERNAL_ASSERT(false, "unknown waveform");
}

}  // namespace

CyclicLROptions::CyclicLROptions(GroupValues base_lr, GroupValues max_lr)
    : base_lr_(std::move(base_lr)), max_lr_(std::move(max_lr)) {}

// The expressions follow PyTorch's CyclicLR.get_lr term by term, in the same
// order, so that the doubles agree to the last bits.
CyclePosition cyclic_position(int64_t step,
                              double step_size_up,
                              double step_size_down,
                              Waveform waveform) {
  const double total_size = step_size_up + step_size_down;
  const double step_ratio = step_size_up / total_size;
  const double cycle = std::floor(1 + step / total_size);
  const double x = 1. + step / total_size - cycle;
  const double t =
      x <= step_ratio ? x / step_ratio : (x - 1) / (step_ratio - 1);
  return {cycle, shape(waveform, t)};
}

double cyclic_scale(CyclicMode mode,
                    double gamma,
                    const CyclePosition& position,
                    int64_t step) {
  switch (mode) {
    case CyclicMode::kTriangular:
      return 1.0;
    case CyclicMode::kTriangular2:
      return 1 / std::pow(2., position.cycle - 1);
    case CyclicMode::kExpRange:
    case CyclicMode::kExpRangePaper:
      return std::pow(gamma, static_cast<double>(step));
  }
  TORCH_INTERNAL_ASSERT(false, "unknown CyclicMode");
}

double cyclic_lr(double base_lr, double max_lr, double height, double scale) {
  const double base_height = (max_lr - base_lr) * height;
  return base_lr + base_height * scale;
}

double cyclic_lr_scaled_bounds(double base_lr,
                               double max_lr,
                               double height,
                               double scale) {
  return (base_lr + (max_lr - base_lr) * height) * scale;
}

double cyclic_momentum(double base_momentum,
                       double max_momentum,
                       double height,
                       double scale) {
  const double base_height = (max_momentum - base_momentum) * height;
  return max_momentum - base_height * scale;
}

CyclicLR::CyclicLR(torch::optim::Optimizer& optimizer, CyclicLROptions options)
    : OptionsScheduler(optimizer, "CyclicLR", std::move(options)),
      schedule_id_(next_schedule_id.fetch_add(1, std::memory_order_relaxed)) {
  const auto groups = num_groups();
  auto base_lrs = options_.base_lr().resolve(groups, name(), "base_lr");
  max_lrs_ = options_.max_lr().resolve(groups, name(), "max_lr");
  detail::check_positive(base_lrs, name(), "base_lr");
  detail::check_positive(max_lrs_, name(), "max_lr");
  for (std::size_t i = 0; i < groups; ++i) {
    TORCH_CHECK(max_lrs_[i] >= base_lrs[i],
                name(),
                ": max_lr (",
                max_lrs_[i],
                ") must not be below base_lr (",
                base_lrs[i],
                ")");
  }
  set_base_lrs_from_options(std::move(base_lrs));
  detail::check_positive_count(options_.step_size_up(), name(), "step_size_up");
  step_size_down_ = static_cast<double>(
      options_.step_size_down().value_or(options_.step_size_up()));
  if (options_.step_size_down()) {
    detail::check_positive_count(
        *options_.step_size_down(), name(), "step_size_down");
  }
  if (options_.mode() == CyclicMode::kExpRangePaper) {
    // Above 1 both bounds would grow past the ones given, without limit.
    TORCH_CHECK(std::isfinite(options_.gamma()) && options_.gamma() > 0 &&
                    options_.gamma() <= 1,
                name(),
                ": gamma must be in (0, 1] for mode exp_range_paper (both "
                "bounds times gamma^iterations), got ",
                options_.gamma());
  } else {
    // PyTorch takes any gamma; above 1 exp_range's amplitude grows.
    detail::check_positive(options_.gamma(), name(), "gamma");
  }
  if (options_.cycle_momentum()) {
    require_momentum();
    base_momentums_ =
        options_.base_momentum().resolve(groups, name(), "base_momentum");
    max_momentums_ =
        options_.max_momentum().resolve(groups, name(), "max_momentum");
    detail::check_momentum_bounds(base_momentums_, max_momentums_, name());
  }
  initial_step();
}

// A per-thread memo, so that `lr_at` from another thread (a plot) neither
// races with `step()` nor slows it: `step()` asks for every group's LR and
// momentum at one step, and the shape is computed once for them all.
CyclicLR::StepShape CyclicLR::shape_at(int64_t step) const {
  thread_local StepShape memo;
  if (memo.schedule_id != schedule_id_ || memo.step != step) {
    const auto position =
        cyclic_position(step,
                        static_cast<double>(options_.step_size_up()),
                        step_size_down_,
                        options_.waveform());
    // scale_at may call a user's scale_fn, which may ask this thread's memo
    // for another schedule: assign only once it has returned.
    const double scale = scale_at(position, step);
    memo = {schedule_id_, step, position, scale};
  }
  return memo;
}

double CyclicLR::scale_at(const CyclePosition& position, int64_t step) const {
  if (!options_.scale_fn()) {
    return cyclic_scale(options_.mode(), options_.gamma(), position, step);
  }
  const double argument = options_.scale_mode() == ScaleMode::kCycle
                              ? position.cycle
                              : static_cast<double>(step);
  const double scale = options_.scale_fn()(argument);
  TORCH_CHECK(std::isfinite(scale) && scale >= 0 && scale <= 1,
              name(),
              ": scale_fn(",
              argument,
              ") returned ",
              scale,
              "; it must return a value in [0, 1]");
  return scale;
}

double CyclicLR::lr_at(int64_t step, std::size_t group) const {
  const auto shape = shape_at(step);
  const bool scales_bounds =
      !options_.scale_fn() && options_.mode() == CyclicMode::kExpRangePaper;
  const double lr = scales_bounds
                        ? cyclic_lr_scaled_bounds(base_lrs()[group],
                                                  max_lrs_[group],
                                                  shape.position.height,
                                                  shape.scale)
                        : cyclic_lr(base_lrs()[group],
                                    max_lrs_[group],
                                    shape.position.height,
                                    shape.scale);
  // Only gamma > 1 gets here: every other scale is in [0, 1].
  TORCH_CHECK(std::isfinite(lr),
              name(),
              ": mode exp_range with gamma ",
              options_.gamma(),
              " gives the non-finite LR ",
              lr,
              " at step ",
              step,
              " (gamma^",
              step,
              " = ",
              shape.scale,
              ")");
  return lr;
}

std::optional<double> CyclicLR::momentum_at(int64_t step,
                                            std::size_t group) const {
  const auto shape = shape_at(step);
  const double momentum = cyclic_momentum(base_momentums_[group],
                                          max_momentums_[group],
                                          shape.position.height,
                                          shape.scale);
  TORCH_CHECK(momentum >= 0,
              name(),
              ": mode exp_range with gamma ",
              options_.gamma(),
              " takes the momentum of param group ",
              group,
              " to ",
              momentum,
              " at step ",
              step,
              ", below 0; pass cycle_momentum(false) or a smaller gamma");
  return momentum;
}

std::string CyclicLR::options_text() const {
  constexpr const char* kWaveforms[] = {"triangle", "sine", "parabolic"};
  detail::OptionsText text;
  text.add("base_lr", base_lrs())
      .add("max_lr", max_lrs_)
      .add("step_size_up", options_.step_size_up())
      .add("step_size_down", step_size_down_)
      .add("waveform", kWaveforms[static_cast<int>(options_.waveform())]);
  // A custom scale_fn replaces mode and gamma; the function itself cannot be
  // compared, only that there is one and what it is given.
  if (options_.scale_fn()) {
    text.add("scale_fn", "custom")
        .add("scale_mode",
             options_.scale_mode() == ScaleMode::kCycle ? "cycle"
                                                        : "iterations");
  } else {
    text.add("mode", kModeNames[static_cast<int>(options_.mode())])
        .add("gamma", options_.gamma());
  }
  text.add("cycle_momentum", options_.cycle_momentum());
  if (options_.cycle_momentum()) {
    text.add("base_momentum", base_momentums_)
        .add("max_momentum", max_momentums_);
  }
  return text.str();
}

}  // namespace torchclr
