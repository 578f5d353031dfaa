#pragma once

// Learning rates read off an LR range-test curve: the loss smoothing, where
// the run broke, the four suggestion rules on the loss, and the paper's
// bounds read off an accuracy curve (see docs/range_test.md).

#include <cstddef>
#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

namespace torchclr {

/// Learning rates read off a range-test curve (see docs/range_test.md). Each
/// is empty when the curve is too short for its rule or never improves.
/// Every rule reads the curve only up to where the run broke
/// (`climb_back_point`).
struct LRSuggestions {
  /// Paper's lower bound: where the loss has clearly started to fall (10% of
  /// its fall from the highest point before its minimum), capped at
  /// max_lr / 4 (the paper's rule of thumb).
  std::optional<double> base_lr;
  /// Paper's upper bound: half the LR at the bottom of the curve, because the
  /// loss stops improving before it turns and turns only once the
  /// instability has grown (see docs/range_test.md). Both bounds are read
  /// where the raw loss was, `smoothing_lag(smooth_f)` points before the
  /// smoothed curve shows the fall and the bottom.
  std::optional<double> max_lr;
  /// After torch-lr-finder: the steepest descent, argmin of
  /// d(smoothed loss)/d(ln lr), skipping the first 10 and last 5 points and
  /// looking only up to the smoothed minimum.
  std::optional<double> steepest_lr;
  /// fastai's `valley`: the longest decreasing run of the smoothed loss, at
  /// half of its second third, skipping the first num_iter/10 and last 5.
  std::optional<double> valley_lr;
};

/// The bias-corrected exponential moving average of the losses, one at a
/// time: avg_k = (1 - f) avg_{k-1} + f loss_k with avg_0 = 0, smoothed_k =
/// avg_k / (1 - (1 - f)^k), k from 1 (fastai's smoothing with beta = 1 - f).
class LossSmoother {
 public:
  /// `smooth_f` in (0, 1]; 1 turns smoothing off.
  explicit LossSmoother(double smooth_f);

  /// Adds the next loss and returns the smoothed loss up to it.
  double add(double loss);

 private:
  double smooth_f_;
  double average_ = 0;
  int64_t count_ = 0;
};

/// `LossSmoother` over a whole curve.
std::vector<double> smooth_losses(const std::vector<double>& losses,
                                  double smooth_f);

/// Where the run broke by climbing back towards where it started: the index
/// of the first smoothed loss that has given back half of its fall
/// (>= lowest + 0.5 * (first - lowest), lowest so far), once it has fallen
/// at least 10% below a positive first value. Empty when it never does. A
/// classifier that collapses to chance level stops here; its loss never
/// reaches 5x its best.
std::optional<std::size_t> climb_back_point(
    const std::vector<double>& smoothed_losses);

/// After torch-lr-finder's rule on (lrs, smoothed losses), up to the
/// smoothed minimum (see docs/range_test.md for the differences).
std::optional<double> suggest_steepest_lr(
    const std::vector<double>& lrs, const std::vector<double>& smoothed_losses);

/// fastai's `valley` rule; `num_iter` is the requested sweep length.
std::optional<double> suggest_valley_lr(
    const std::vector<double>& lrs,
    const std::vector<double>& smoothed_losses,
    int64_t num_iter);

/// How many points the bias-corrected EMA with weight `smooth_f` trails its
/// input by: (1 - smooth_f) / smooth_f, rounded.
std::size_t smoothing_lag(double smooth_f);

/// The paper's (base_lr, max_lr) on (lrs, smoothed losses), read `lag`
/// points earlier than the smoothed curve shows them.
std::optional<std::pair<double, double>> suggest_paper_bounds(
    const std::vector<double>& lrs,
    const std::vector<double>& smoothed_losses,
    std::size_t lag = 0);

/// All four suggestions for a curve smoothed with `smooth_f` (1: raw), each
/// read only up to `climb_back_point` (inclusive) when there is one.
LRSuggestions suggest_lrs(const std::vector<double>& lrs,
                          const std::vector<double>& smoothed_losses,
                          int64_t num_iter,
                          double smooth_f = 1.0);

/// The paper's bounds read off a test-accuracy curve (§3.3: "Note the
/// learning rate value when the accuracy starts to increase and when the
/// accuracy slows, becomes ragged, or starts to fall"), by
/// `suggest_from_accuracy`.
struct AccuracyBounds {
  /// Where the smoothed accuracy last crosses upwards 10% of its rise (from
  /// its lowest point before the peak to the peak) before `max_lr`.
  double base_lr;
  /// Where the smoothed accuracy first reaches 90% of its rise.
  double max_lr;
  /// LR of the highest smoothed accuracy (the first, if several).
  double peak_lr;
  /// The peak is the last point read: the sweep ended before the accuracy
  /// turned, and a wider sweep may move `max_lr` up.
  bool still_rising;
};

/// The centred moving average of `accuracies`: each point's mean over the
/// points within `half_window` of it (fewer near the ends). Centred, so the
/// curve does not lag behind the LR as an EMA would; a straight stretch away
/// from the ends is unchanged.
std::vector<double> smooth_accuracies(const std::vector<double>& accuracies,
                                      std::size_t half_window);

/// The paper's (base_lr, max_lr) on (lrs, accuracies in [0, 1]): smooth with
/// `smooth_accuracies(half_window)`; read only up to where the accuracy has
/// given back half of its rise (a collapse); the rise runs from the lowest
/// smoothed accuracy before the peak to the peak; `max_lr` is where 90% of
/// the rise is first reached, `base_lr` where 10% was last crossed upwards
/// before that, both interpolated linearly between points. Empty when the
/// rise is below `min_rise` (a flat or falling curve). lrs must be finite,
/// >= 0 and strictly increasing.
std::optional<AccuracyBounds> suggest_from_accuracy(
    const std::vector<double>& lrs,
    const std::vector<double>& accuracies,
    double min_rise = 0.05,
    std::size_t half_window = 2);

}  // namespace torchclr
