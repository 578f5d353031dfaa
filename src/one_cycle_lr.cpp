#include <c10/util/Exception.h>
#include <c10/util/MathConstants.h>
#include <torchclr/detail/checks.h>
#include <torchclr/detail/options_text.h>
#include <torchclr/one_cycle_lr.h>

#include <cmath>

namespace torchclr {
namespace {
enum LRPoint { kInitialLR, kMaxLR, kMinLR };
enum MomentumPoint { kMaxMomentum, kBaseMomentum };

}  // namespace

OneCycleLROptions::OneCycleLROptions(GroupValues max_lr, int64_t total_steps)
    : max_lr_(std::move(max_lr)), total_steps_(total_steps) {}

double anneal(AnnealStrategy strategy, double start, double end, double pct) {
  if (strategy == AnnealStrategy::kCos) {
    const double cos_out = std::cos(c10::pi<double> * pct) + 1;
    return end + (start - end) / 2.0 * cos_out;
  }
  return (end - start) * pct + start;
}

OneCycleLR::OneCycleLR(torch::optim::Optimizer& optimizer,
                       OneCycleLROptions options)
    : OptionsScheduler(optimizer, "OneCycleLR", std::move(options)) {
  const auto& o = options_;
  detail::check_positive_count(o.total_steps(), name(), "total_steps");
  TORCH_CHECK(o.pct_start() > 0 && o.pct_start() < 1,
              name(),
              ": pct_start must be in (0, 1), got ",
              o.pct_start());
  detail::check_positive(o.div_factor(), name(), "div_factor");
  detail::check_positive(o.final_div_factor(), name(), "final_div_factor");

  const double total = static_cast<double>(o.total_steps());
  const double warmup_end = o.pct_start() * total - 1;
  // A phase of zero length would make PyTorch divide 0 by 0 at its first step.
  TORCH_CHECK(
      warmup_end > 0,
      name(),
      ": pct_start * total_steps must be > 1 so the warm-up lasts at least "
      "one step, got ",
      o.pct_start(),
      " * ",
      o.total_steps());
  if (o.three_phase()) {
    const double down_end = 2 * o.pct_start() * total - 2;
    TORCH_CHECK(
        down_end < total - 1,
        name(),
        ": with three_phase, pct_start must leave room for the last phase, "
        "got pct_start=",
        o.pct_start(),
        " with total_steps=",
        o.total_steps());
    phases_ = {{warmup_end, kInitialLR, kMaxLR, kMaxMomentum, kBaseMomentum},
               {down_end, kMaxLR, kInitialLR, kBaseMomentum, kMaxMomentum},
               {total - 1, kInitialLR, kMinLR, kMaxMomentum, kMaxMomentum}};
  } else {
    phases_ = {{warmup_end, kInitialLR, kMaxLR, kMaxMomentum, kBaseMomentum},
               {total - 1, kMaxLR, kMinLR, kBaseMomentum, kMaxMomentum}};
  }

  const auto groups = num_groups();
  const auto max_lrs = o.max_lr().resolve(groups, name(), "max_lr");
  detail::check_positive(max_lrs, name(), "max_lr");
  for (std::size_t i = 0; i < groups; ++i) {
    const double initial_lr = max_lrs[i] / o.div_factor();
    lr_points_.push_back(
        {initial_lr, max_lrs[i], initial_lr / o.final_div_factor()});
    detail::check_positive(lr_points_.back()[kMinLR],
                           name(),
                           "max_lr / div_factor / final_div_factor");
  }
  std::vector<double> initial_lrs;
  for (const auto& points : lr_points_) {
    initial_lrs.push_back(points[kInitialLR]);
  }
  set_base_lrs_from_options(std::move(initial_lrs));
  if (o.cycle_momentum()) {
    require_momentum();
    const auto base =
        o.base_momentum().resolve(groups, name(), "base_momentum");
    const auto max = o.max_momentum().resolve(groups, name(), "max_momentum");
    detail::check_momentum_bounds(base, max, name());
    for (std::size_t i = 0; i < groups; ++i) {
      momentum_points_.push_back({max[i], base[i]});
    }
  }
  initial_step();
}

// Follows PyTorch's OneCycleLR.get_lr expression by expression.
OneCycleLR::PhaseProgress OneCycleLR::progress_at(int64_t step) const {
  TORCH_CHECK(step <= options_.total_steps(),
              name(),
              ": tried to step ",
              step,
              " times; the specified number of total steps is ",
              options_.total_steps());
  const double at = static_cast<double>(step);
  double start_step = 0;
  const Phase* phase = &phases_.back();
  for (const auto& candidate : phases_) {
    if (at <= candidate.end_step || &candidate == &phases_.back()) {
      phase = &candidate;
      break;
    }
    start_step = candidate.end_step;
  }
  // Step total_steps lies past the last phase's end, where PyTorch
  // extrapolates (to a negative LR with linear annealing); hold the end.
  return {phase,
          (at - start_step) / (phase->end_step - start_step),
          step == options_.total_steps()};
}

double OneCycleLR::anneal_between(const PhaseProgress& progress,
                                  double start,
                                  double end) const {
  return progress.past_end
             ? end
             : anneal(options_.anneal_strategy(), start, end, progress.pct);
}

double OneCycleLR::lr_at(int64_t step, std::size_t group) const {
  const auto progress = progress_at(step);
  const auto& points = lr_points_[group];
  return anneal_between(progress,
                        points[progress.phase->start_lr],
                        points[progress.phase->end_lr]);
}

std::optional<double> OneCycleLR::momentum_at(int64_t step,
                                              std::size_t group) const {
  const auto progress = progress_at(step);
  const auto& points = momentum_points_[group];
  return anneal_between(progress,
                        points[progress.phase->start_momentum],
                        points[progress.phase->end_momentum]);
}

std::string OneCycleLR::options_text() const {
  const auto& o = options_;
  detail::OptionsText text;
  std::vector<double> max_lrs;
  for (const auto& points : lr_points_) {
    max_lrs.push_back(points[kMaxLR]);
  }
  text.add("max_lr", max_lrs)
      .add("total_steps", o.total_steps())
      .add("pct_start", o.pct_start())
      .add("anneal_strategy",
           o.anneal_strategy() == AnnealStrategy::kCos ? "cos" : "linear")
      .add("div_factor", o.div_factor())
      .add("final_div_factor", o.final_div_factor())
      .add("three_phase", o.three_phase())
      .add("cycle_momentum", o.cycle_momentum());
  if (o.cycle_momentum()) {
    std::vector<double> base;
    std::vector<double> max;
    for (const auto& points : momentum_points_) {
      max.push_back(points[kMaxMomentum]);
      base.push_back(points[kBaseMomentum]);
    }
    text.add("base_momentum", base).add("max_momentum", max);
  }
  return text.str();
}

}  // namespace torchclr
