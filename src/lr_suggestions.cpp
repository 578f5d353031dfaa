#include <c10/util/Exception.h>
#include <torchclr/detail/checks.h>
#include <torchclr/lr_suggestions.h>

#include <algorithm>
#include <cmath>
#include <iterator>

namespace torchclr {
namespace {

// torch-lr-finder's defaults for its steepest-gradient suggestion.
constexpr std::size_t kSteepestSkipStart = 10;
constexpr std::size_t kSteepestSkipEnd = 5;
// fastai drops the last 5 points before its valley rule (and num_iter / 10
// at the start).
constexpr std::size_t kValleySkipEnd = 5;
// The paper's lower bound: the loss has clearly started to fall once 10% of
// its total fall is done (a fixed fraction is independent of the loss scale).
constexpr double kStartedToImprove = 0.1;
// The paper's upper bound: the bottom of the curve (moved back by the
// smoothing's lag), halved: the loss stops improving some way before its
// minimum, which lies past the stable LRs (see docs/range_test.md).
constexpr double kMaxLrBackoff = 2;
// Smith's rule of thumb: base_lr is 1/3 to 1/4 of max_lr.
constexpr double kBaseLrRuleOfThumb = 4;
// Climbing back: the loss must first have fallen this fraction below where it
// started (so that noise around a flat start never counts), and has broken
// once it has given back this fraction of its fall. Not all of it: an EMA
// reaches a plateau at the starting level only asymptotically. On a curve
// that falls to a tenth of its start, fastai's 4x and torch-lr-finder's 5x
// fire a third and 44% of the way back (see docs/range_test.md).
constexpr double kClimbBackMinFall = 0.1;
constexpr double kClimbBackFraction = 0.5;
// The paper's bounds on an accuracy curve, as fractions of the rise from the
// lowest smoothed accuracy before the peak to the peak. 10%: past the noise
// of a flat start, as the loss rule's kStartedToImprove. 90%: the knee where
// the rise slows (on a saturating a(lr) = A (1 - exp(-lr / tau)) the slope
// there is a tenth of its initial slope), and just before the peak where
// the accuracy turns. Levels rather than slopes: a slope of a sparse, noisy
// curve is noisier still.
constexpr double kAccuracyStartsToRise = 0.1;
constexpr double kAccuracySlows = 0.9;
// The accuracy collapsed once it has given back this fraction of its rise;
// the curve past that point is not read (as climb_back_point for the loss).
constexpr double kAccuracyCollapse = 0.5;

void check_curve(const std::vector<double>& lrs,
                 const std::vector<double>& smoothed_losses,
                 const char* function) {
  TORCH_CHECK(lrs.size() == smoothed_losses.size(),
              function,
              ": lrs and smoothed_losses must have the same length, got ",
              lrs.size(),
              " and ",
              smoothed_losses.size());
  for (std::size_t i = 0; i < lrs.size(); ++i) {
    TORCH_CHECK(std::isfinite(lrs[i]) && lrs[i] > 0 &&
                    std::isfinite(smoothed_losses[i]),
                function,
                ": point ",
                i,
                " is not finite (lr ",
                lrs[i],
                ", loss ",
                smoothed_losses[i],
                ")");
    TORCH_CHECK(i == 0 || lrs[i] > lrs[i - 1],
                function,
                ": lrs must be strictly increasing, but lrs[",
                i,
                "] = ",
                lrs[i],
                " follows ",
                lrs[i > 0 ? i - 1 : 0]);
  }
}

std::vector<double> head(const std::vector<double>& values, std::size_t size) {
  return {values.begin(), values.begin() + static_cast<std::ptrdiff_t>(size)};
}

void check_accuracy_curve(const std::vector<double>& lrs,
                          const std::vector<double>& accuracies) {
  constexpr const char* kName = "suggest_from_accuracy";
  TORCH_CHECK(lrs.size() == accuracies.size(),
              kName,
              ": lrs and accuracies must have the same length, got ",
              lrs.size(),
              " and ",
              accuracies.size());
  for (std::size_t i = 0; i < lrs.size(); ++i) {
    TORCH_CHECK(std::isfinite(lrs[i]) && lrs[i] >= 0,
                kName,
                ": lrs[",
                i,
                "] must be finite and >= 0, got ",
                lrs[i]);
    TORCH_CHECK(i == 0 || lrs[i] > lrs[i - 1],
                kName,
                ": lrs must be strictly increasing, but lrs[",
                i,
                "] = ",
                lrs[i],
                " follows ",
                lrs[i > 0 ? i - 1 : 0]);
    TORCH_CHECK(accuracies[i] >= 0 && accuracies[i] <= 1,
                kName,
                ": accuracies[",
                i,
                "] must be in [0, 1], got ",
                accuracies[i]);
  }
}

// The LR where the straight line from point i - 1 to point i reaches
// `level` (s[i - 1] < level <= s[i]).
double crossing_lr(const std::vector<double>& lrs,
                   const std::vector<double>& s,
                   std::size_t i,
                   double level) {
  const double fraction = (level - s[i - 1]) / (s[i] - s[i - 1]);
  return lrs[i - 1] + fraction * (lrs[i] - lrs[i - 1]);
}

}  // namespace

LossSmoother::LossSmoother(double smooth_f) : smooth_f_(smooth_f) {
  detail::check_unit_interval(smooth_f, "LossSmoother", "smooth_f");
}

double LossSmoother::add(double loss) {
  average_ = (1 - smooth_f_) * average_ + smooth_f_ * loss;
  ++count_;
  // 1 - (1 - f)^k, which stays > 0 also where 1 - f rounds to 1.
  return average_ /
         -std::expm1(static_cast<double>(count_) * std::log1p(-smooth_f_));
}

std::vector<double> smooth_losses(const std::vector<double>& losses,
                                  double smooth_f) {
  detail::check_unit_interval(smooth_f, "smooth_losses", "smooth_f");
  LossSmoother smoother(smooth_f);
  std::vector<double> smoothed;
  smoothed.reserve(losses.size());
  for (double loss : losses) {
    smoothed.push_back(smoother.add(loss));
  }
  return smoothed;
}

std::optional<std::size_t> climb_back_point(
    const std::vector<double>& smoothed_losses) {
  if (smoothed_losses.empty() || !(smoothed_losses.front() > 0)) {
    return std::nullopt;
  }
  const double first = smoothed_losses.front();
  double lowest = first;
  for (std::size_t i = 1; i < smoothed_losses.size(); ++i) {
    const double loss = smoothed_losses[i];
    const double fall = first - lowest;
    if (fall >= kClimbBackMinFall * first &&
        loss >= lowest + kClimbBackFraction * fall) {
      return i;
    }
    lowest = std::min(lowest, loss);
  }
  return std::nullopt;
}

std::optional<double> suggest_steepest_lr(
    const std::vector<double>& lrs,
    const std::vector<double>& smoothed_losses) {
  check_curve(lrs, smoothed_losses, "suggest_steepest_lr");
  if (lrs.size() < kSteepestSkipStart + kSteepestSkipEnd + 2) {
    return std::nullopt;
  }
  const auto& y = smoothed_losses;
  // Past the minimum the loss can only fall again after a spike, and a
  // slope found there lies beyond where training broke.
  const auto lowest = static_cast<std::size_t>(
      std::min_element(y.begin(), y.end()) - y.begin());
  const std::size_t first = kSteepestSkipStart;
  const std::size_t last = std::min(lrs.size() - kSteepestSkipEnd - 1, lowest);
  if (last <= first) {
    return std::nullopt;
  }
  auto x = [&](std::size_t i) { return std::log(lrs[i]); };
  // numpy.gradient(y, ln(lr)) on the window: second-order central
  // differences on the uneven grid inside, one-sided differences at its ends.
  auto gradient = [&](std::size_t i) {
    if (i == first) {
      return (y[i + 1] - y[i]) / (x(i + 1) - x(i));
    }
    if (i == last) {
      return (y[i] - y[i - 1]) / (x(i) - x(i - 1));
    }
    const double before = x(i) - x(i - 1);
    const double after = x(i + 1) - x(i);
    return -after / (before * (before + after)) * y[i - 1] +
           (after - before) / (before * after) * y[i] +
           before / (after * (before + after)) * y[i + 1];
  };
  std::size_t steepest = first;
  double steepest_gradient = gradient(first);
  for (std::size_t i = first + 1; i <= last; ++i) {
    const double g = gradient(i);
    if (g < steepest_gradient) {
      steepest = i;
      steepest_gradient = g;
    }
  }
  return lrs[steepest];
}

std::optional<double> suggest_valley_lr(
    const std::vector<double>& lrs,
    const std::vector<double>& smoothed_losses,
    int64_t num_iter) {
  check_curve(lrs, smoothed_losses, "suggest_valley_lr");
  TORCH_CHECK(num_iter >= 0,
              "suggest_valley_lr: num_iter must be >= 0, got ",
              num_iter);
  const auto skip_start = static_cast<std::size_t>(num_iter / 10);
  if (lrs.size() <= skip_start + kValleySkipEnd) {
    return std::nullopt;
  }
  const std::vector<double> losses(
      smoothed_losses.begin() + static_cast<std::ptrdiff_t>(skip_start),
      smoothed_losses.end() - static_cast<std::ptrdiff_t>(kValleySkipEnd));
  // fastai's valley(), line for line: lds[i] is the length of the longest
  // decreasing subsequence ending at i.
  const auto n = static_cast<int64_t>(losses.size());
  std::vector<int64_t> lds(losses.size(), 1);
  int64_t max_start = 0;
  int64_t max_end = 0;
  for (int64_t i = 1; i < n; ++i) {
    for (int64_t j = 0; j < i; ++j) {
      if (losses[i] < losses[j] && lds[i] < lds[j] + 1) {
        lds[i] = lds[j] + 1;
      }
      if (lds[max_end] < lds[i]) {
        max_end = i;
        max_start = max_end - lds[max_end];
      }
    }
  }
  const double sections = static_cast<double>(max_end - max_start) / 3;
  const auto index = max_start + static_cast<int64_t>(sections) +
                     static_cast<int64_t>(sections / 2);
  // fastai's max_start can be -1, and Python would then read lrs[-1], the
  // last point; we clamp to the first point of the valley instead.
  return lrs[skip_start +
             static_cast<std::size_t>(std::max<int64_t>(0, index))];
}

std::size_t smoothing_lag(double smooth_f) {
  return static_cast<std::size_t>(std::lround((1 - smooth_f) / smooth_f));
}

std::optional<std::pair<double, double>> suggest_paper_bounds(
    const std::vector<double>& lrs,
    const std::vector<double>& smoothed_losses,
    std::size_t lag) {
  check_curve(lrs, smoothed_losses, "suggest_paper_bounds");
  const auto& y = smoothed_losses;
  if (y.size() < 2) {
    return std::nullopt;
  }
  const auto lowest = static_cast<std::size_t>(
      std::min_element(y.begin(), y.end()) - y.begin());
  if (lowest == 0) {
    return std::nullopt;  // never improved
  }
  const auto highest = static_cast<std::size_t>(
      std::max_element(y.begin(), y.begin() + lowest + 1) - y.begin());
  const double fall = y[highest] - y[lowest];
  std::size_t started = highest;
  while (y[started] > y[highest] - kStartedToImprove * fall) {
    ++started;
  }
  // An EMA trails its input by `lag` points; read the LRs where the raw loss
  // was when the smoothed one got there.
  const double max_lr = lrs[lowest - std::min(lag, lowest)] / kMaxLrBackoff;
  started -= std::min(lag, started);
  const double base_lr = std::min(lrs[started], max_lr / kBaseLrRuleOfThumb);
  return std::make_pair(base_lr, max_lr);
}

LRSuggestions suggest_lrs(const std::vector<double>& lrs,
                          const std::vector<double>& smoothed_losses,
                          int64_t num_iter,
                          double smooth_f) {
  check_curve(lrs, smoothed_losses, "suggest_lrs");
  std::size_t usable = lrs.size();
  if (auto broke = climb_back_point(smoothed_losses)) {
    usable = *broke + 1;
  }
  const auto x = head(lrs, usable);
  const auto y = head(smoothed_losses, usable);
  LRSuggestions suggestions;
  if (auto bounds = suggest_paper_bounds(x, y, smoothing_lag(smooth_f))) {
    suggestions.base_lr = bounds->first;
    suggestions.max_lr = bounds->second;
  }
  suggestions.steepest_lr = suggest_steepest_lr(x, y);
  suggestions.valley_lr = suggest_valley_lr(x, y, num_iter);
  return suggestions;
}

std::vector<double> smooth_accuracies(const std::vector<double>& accuracies,
                                      std::size_t half_window) {
  const std::size_t n = accuracies.size();
  std::vector<double> smoothed(n);
  for (std::size_t i = 0; i < n; ++i) {
    // Not narrowed to a symmetric window at the ends: the last point alone
    // would be as noisy as the raw curve, and the peak is often there.
    const std::size_t first = i - std::min(half_window, i);
    const std::size_t last = std::min(n - 1, i + half_window);
    double sum = 0;
    for (std::size_t j = first; j <= last; ++j) {
      sum += accuracies[j];
    }
    smoothed[i] = sum / static_cast<double>(last - first + 1);
  }
  return smoothed;
}

std::optional<AccuracyBounds> suggest_from_accuracy(
    const std::vector<double>& lrs,
    const std::vector<double>& accuracies,
    double min_rise,
    std::size_t half_window) {
  check_accuracy_curve(lrs, accuracies);
  TORCH_CHECK(std::isfinite(min_rise) && min_rise > 0,
              "suggest_from_accuracy: min_rise must be finite and > 0, got ",
              min_rise);
  if (accuracies.empty()) {
    return std::nullopt;
  }
  const auto s = smooth_accuracies(accuracies, half_window);
  // The peak and the lowest point before it (the last one, so that a dip
  // back to the floor restarts the rise), up to a collapse.
  std::size_t peak = 0;
  std::size_t low = 0;
  std::size_t lowest_so_far = 0;
  std::size_t usable = s.size();
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] <= s[lowest_so_far]) {
      lowest_so_far = i;
    }
    if (s[i] > s[peak]) {
      peak = i;
      low = lowest_so_far;
    }
    const double rise = s[peak] - s[low];
    if (rise >= min_rise && s[i] <= s[peak] - kAccuracyCollapse * rise) {
      usable = i + 1;
      break;
    }
  }
  const double rise = s[peak] - s[low];
  if (peak == 0 || rise < min_rise) {
    return std::nullopt;
  }
  const double slows_level = s[low] + kAccuracySlows * rise;
  std::size_t slows = low + 1;
  while (s[slows] < slows_level) {
    ++slows;
  }
  // The last upward crossing before `slows`: a bump that falls back below
  // the level is not yet the rise.
  const double rises_level = s[low] + kAccuracyStartsToRise * rise;
  std::size_t rises = slows;
  while (s[rises - 1] >= rises_level) {
    --rises;
  }
  return AccuracyBounds{crossing_lr(lrs, s, rises, rises_level),
                        crossing_lr(lrs, s, slows, slows_level),
                        lrs[peak],
                        peak + 1 == usable};
}

}  // namespace torchclr
