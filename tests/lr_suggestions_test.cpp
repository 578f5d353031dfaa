// The suggestion rules on hand-made curves: the smoothing, where a run broke,
// torch-lr-finder's steepest descent, fastai's valley and the paper's bounds
// on the loss and on the accuracy.

#include <gmock/gmock.h>
#include <torchclr/lr_finder.h>
#include <torchclr/lr_suggestions.h>

#include <cmath>
#include <limits>

#include "test_util.h"

namespace torchclr::test {
namespace {

using ::testing::HasSubstr;
using ::testing::ThrowsMessage;

std::vector<double> one_to(std::size_t n) {
  std::vector<double> values;
  for (std::size_t i = 1; i <= n; ++i) {
    values.push_back(static_cast<double>(i));
  }
  return values;
}

// lr = 10^(k/4) for k = 0..count-1: ln lr has even steps ln(10)/4.
std::vector<double> quarter_decades(int count) {
  std::vector<double> lrs;
  for (int k = 0; k < count; ++k) {
    lrs.push_back(std::pow(10.0, k / 4.0));
  }
  return lrs;
}

TEST(LRSuggestionsTest, SmoothedLossIsBiasCorrectedEma) {
  // f = 0.5: avg1 = 2, smoothed1 = 2 / (1 - 0.5) = 4; avg2 = 0.5 * 2 + 0.5 *
  // 2 = 2, smoothed2 = 2 / (1 - 0.25) = 8/3; avg3 = 0.5 * 2 + 0.5 * 8 = 5,
  // smoothed3 = 5 / (1 - 0.125) = 40/7.
  const auto smoothed = smooth_losses({4, 2, 8}, 0.5);
  ASSERT_EQ(smoothed.size(), 3u);
  EXPECT_DOUBLE_EQ(smoothed[0], 4.0);
  EXPECT_DOUBLE_EQ(smoothed[1], 8.0 / 3.0);
  EXPECT_DOUBLE_EQ(smoothed[2], 40.0 / 7.0);
  // f = 1 is no smoothing at all.
  EXPECT_EQ(smooth_losses({3, 1, 2}, 1.0), (std::vector<double>{3, 1, 2}));
  // Where 1 - f rounds to 1 the correction still divides by k f, not by 0:
  // the smoothed loss is the running mean.
  const auto tiny = smooth_losses({4, 2, 6}, 1e-17);
  EXPECT_DOUBLE_EQ(tiny[0], 4.0);
  EXPECT_DOUBLE_EQ(tiny[1], 3.0);
  EXPECT_DOUBLE_EQ(tiny[2], 4.0);
  // One loss at a time gives the same.
  LossSmoother smoother(0.5);
  EXPECT_DOUBLE_EQ(smoother.add(4), 4.0);
  EXPECT_DOUBLE_EQ(smoother.add(2), 8.0 / 3.0);
  EXPECT_THAT([] { LossSmoother(0); },
              ThrowsMessage<c10::Error>(HasSubstr(
                  "LossSmoother: smooth_f must be in (0, 1], got 0")));
}

TEST(LRSuggestionsTest, ClimbBackNeedsAFallAndHalfOfItGivenBack) {
  // First 2.3, lowest 1.0 by index 3: the fall is 1.3, half of it is given
  // back at 1.65. 1.6 is below; 1.7 (index 6) is the first at or above.
  EXPECT_EQ(climb_back_point({2.3, 2.2, 1.5, 1.0, 1.2, 1.6, 1.7, 2.3}), 6u);
  // Exactly half counts.
  EXPECT_EQ(climb_back_point({2, 1, 1.5}), 2u);
  // Noise around a flat start is no fall: 10% of 2.31 is 0.231.
  EXPECT_FALSE(climb_back_point({2.31, 2.29, 2.30, 2.32, 2.35}));
  EXPECT_FALSE(climb_back_point({2.3, 2.1, 2.3}));
  // A curve that keeps falling, one that is not positive, and no curve.
  EXPECT_FALSE(climb_back_point({3, 2, 1, 0.5}));
  EXPECT_FALSE(climb_back_point({-1, -2, -1}));
  EXPECT_FALSE(climb_back_point({}));
}

TEST(LRSuggestionsTest, ValleyFollowsFastai) {
  // num_iter 20: fastai keeps points [20 / 10, n - 5) = [2, 9), i.e. the
  // losses 5 4 6 3 2 7 1. Its longest-decreasing-subsequence pass, by hand:
  // lds = 1 2 1 3 4 1 5; max_end moves to 1 (start 1 - 2 = -1), 3 (start 0),
  // 4 (start 0), and at i = 6 it first exceeds at j = 4 with lds 5 (start
  // 6 - 5 = 1). sections = (6 - 1) / 3 = 1.67, idx = 1 + 1 + int(0.83) = 2,
  // the point at 2 + 2 = 4 of the full curve, whose lr is 5.
  const std::vector<double> losses = {9, 9, 5, 4, 6, 3, 2, 7, 1, 8, 8, 8, 8, 8};
  EXPECT_EQ(suggest_valley_lr(one_to(losses.size()), losses, 20), 5.0);
  // Three more falling points: max_end 9, start 1, sections 8/3, idx 4.
  const std::vector<double> longer = {
      9, 9, 5, 4, 6, 3, 2, 7, 1, 0.5, 0.4, 0.3, 8, 8, 8, 8, 8};
  EXPECT_EQ(suggest_valley_lr(one_to(longer.size()), longer, 20), 7.0);
  // Nothing left once the skipped points are gone.
  EXPECT_FALSE(suggest_valley_lr(one_to(7), std::vector<double>(7, 1.0), 20));
}

TEST(LRSuggestionsTest, SteepestIsMinGradientAgainstLogLr) {
  // Even steps h = ln(10)/4 in ln lr. torch-lr-finder skips the first 10 and
  // last 5 points, leaving k = 10..14, so the cliff at k = 0 does not count.
  // Gradients (numpy.gradient): k=10: (10-10)/h = 0, k=11: (9-10)/2h, k=12:
  // (6-10)/2h, k=13: (5.5-9)/2h, k=14: (5.5-6)/h = -1/2h. The steepest is
  // k = 12, lr = 10^3.
  std::vector<double> lrs = quarter_decades(20);
  std::vector<double> losses = {100, 10, 10, 10, 10,  10, 10, 10, 10, 10,
                                10,  10, 9,  6,  5.5, 5,  5,  5,  5,  5};
  const auto steepest = suggest_steepest_lr(lrs, losses);
  ASSERT_TRUE(steepest);
  EXPECT_DOUBLE_EQ(*steepest, 1e3);
  // 16 points leave fewer than 2 after skipping.
  lrs.resize(16);
  losses.resize(16);
  EXPECT_FALSE(suggest_steepest_lr(lrs, losses));
}

TEST(LRSuggestionsTest, SteepestLooksOnlyBeforeTheMinimum) {
  // The minimum 7.8 is at k = 14; a spike at k = 15 falls back at k = 16,
  // a slope of (7.9 - 30)/2h there, far steeper than anything before the
  // minimum. Up to k = 14: k=11: (9-10)/2h, k=12: (8-10)/2h, k=13:
  // (7.8-9)/2h, k=14 (the window's end, one-sided): (7.8-8)/h. The steepest
  // is k = 12, lr = 10^3; without the cut it would be k = 16, lr = 10^4.
  const std::vector<double> losses = {10,  10,  10,  10,  10,  10,  10,  10,
                                      10,  10,  10,  10,  9,   8,   7.8, 30,
                                      7.9, 7.9, 7.9, 7.9, 7.9, 7.9, 7.9, 7.9};
  const auto steepest = suggest_steepest_lr(quarter_decades(24), losses);
  ASSERT_TRUE(steepest);
  EXPECT_DOUBLE_EQ(*steepest, 1e3);
  // A minimum inside the skipped start leaves no window.
  std::vector<double> falling_early(24, 5);
  falling_early[10] = 1;
  EXPECT_FALSE(suggest_steepest_lr(quarter_decades(24), falling_early));
}

TEST(LRSuggestionsTest, PaperBoundsReadTheFallAndTheBottom) {
  const std::vector<double> lrs = {
      1e-4, 1e-3, 1e-2, 0.03, 0.1, 0.2, 0.4, 1, 3, 10};
  // Highest point before the minimum: 5.1 at index 1; the minimum 1.4 at
  // index 7. 10% of the fall (3.7) is reached at 4.5 <= 4.73, index 2.
  // max_lr = lr[7] / 2 = 0.5; base_lr = lr[2] = 0.01 (below 0.5 / 4).
  const std::vector<double> curve = {5, 5.1, 4.5, 4, 3, 2, 1.5, 1.4, 2, 9};
  auto bounds = suggest_paper_bounds(lrs, curve);
  ASSERT_TRUE(bounds);
  EXPECT_DOUBLE_EQ(bounds->first, 0.01);
  EXPECT_DOUBLE_EQ(bounds->second, 0.5);
  // With a smoothing lag of 2 points both are read 2 points earlier:
  // max_lr = lr[5] / 2 = 0.1, base_lr = lr[0] = 1e-4.
  bounds = suggest_paper_bounds(lrs, curve, 2);
  ASSERT_TRUE(bounds);
  EXPECT_DOUBLE_EQ(bounds->first, 1e-4);
  EXPECT_DOUBLE_EQ(bounds->second, 0.1);
  // A late, narrow fall (10% reached at index 5, lr 0.2 > 0.5 / 4): base_lr
  // falls back to the paper's rule of thumb, max_lr / 4.
  const std::vector<double> late = {5, 5, 5, 5, 5, 4, 2, 1.4, 2, 9};
  bounds = suggest_paper_bounds(lrs, late);
  ASSERT_TRUE(bounds);
  EXPECT_DOUBLE_EQ(bounds->first, 0.125);
  EXPECT_DOUBLE_EQ(bounds->second, 0.5);
  // A curve that never falls below its first point has no bounds.
  EXPECT_FALSE(suggest_paper_bounds(lrs, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10}));
  // The lag of the default smoothing, 0.05: 0.95 / 0.05 = 19 points.
  EXPECT_EQ(smoothing_lag(0.05), 19u);
  EXPECT_EQ(smoothing_lag(1.0), 0u);
}

TEST(LRSuggestionsTest, SuggestionsIgnoreTheCurvePastTheClimbBack) {
  // 40 points, lr = 10^(k/4). The loss falls from 2.3 to 1.0 by k = 14,
  // collapses to 2.3 at k = 20 (the climb-back point), then falls again to
  // 0.5 on the way down from the spike. Every rule must read k <= 20 only.
  std::vector<double> losses;
  for (int k = 0; k < 40; ++k) {
    if (k < 4) {
      losses.push_back(2.3);
    } else if (k <= 14) {
      losses.push_back(2.3 - 1.3 * (k - 4) / 10.0);
    } else if (k < 20) {
      losses.push_back(1.0);
    } else {
      losses.push_back(2.3 - 1.8 * (k - 20) / 19.0);
    }
  }
  const auto lrs = quarter_decades(40);
  ASSERT_EQ(climb_back_point(losses), 20u);
  const auto suggestions = suggest_lrs(lrs, losses, 40);
  const std::vector<std::optional<double>> all = {suggestions.base_lr,
                                                  suggestions.max_lr,
                                                  suggestions.steepest_lr,
                                                  suggestions.valley_lr};
  for (const auto& lr : all) {
    ASSERT_TRUE(lr);
    EXPECT_LE(*lr, lrs[20]);
  }
  // The same as the rules give on the first 21 points.
  const std::vector<double> head_lrs(lrs.begin(), lrs.begin() + 21);
  const std::vector<double> head_losses(losses.begin(), losses.begin() + 21);
  EXPECT_EQ(suggestions.steepest_lr,
            suggest_steepest_lr(head_lrs, head_losses));
  EXPECT_EQ(suggestions.valley_lr,
            suggest_valley_lr(head_lrs, head_losses, 40));
  // Without the cut, the paper's max_lr would sit at the second, later
  // minimum: past the collapse.
  const auto uncut = suggest_paper_bounds(lrs, losses);
  ASSERT_TRUE(uncut);
  EXPECT_GT(uncut->second, lrs[20]);
}

TEST(LRSuggestionsTest, SuggestionsRejectBadCurves) {
  EXPECT_THAT(
      [] {
        suggest_steepest_lr({1, 2}, {1});
      },
      ThrowsMessage<c10::Error>(
          HasSubstr("suggest_steepest_lr: lrs and smoothed_losses "
                    "must have the same length, got 2 and 1")));
  EXPECT_THAT(
      [] {
        suggest_valley_lr({1, 1}, {1, 1}, 2);
      },
      ThrowsMessage<c10::Error>(
          HasSubstr("suggest_valley_lr: lrs must be strictly increasing")));
  EXPECT_THAT(
      [] {
        suggest_paper_bounds({1, 2}, {1, kNaN});
      },
      ThrowsMessage<c10::Error>(
          HasSubstr("suggest_paper_bounds: point 1 is not finite")));
  EXPECT_THAT(
      [] {
        suggest_lrs({1, 2}, {1, kNaN}, 2);
      },
      ThrowsMessage<c10::Error>(
          HasSubstr("suggest_lrs: point 1 is not finite")));
}

// lr_i = i * step for i = 0..count-1.
std::vector<double> even_lrs(std::size_t count, double step) {
  std::vector<double> lrs;
  for (std::size_t i = 0; i < count; ++i) {
    lrs.push_back(static_cast<double>(i) * step);
  }
  return lrs;
}

TEST(AccuracyBoundsTest, SmoothingIsACentredMeanTruncatedAtTheEnds) {
  // Half window 1: (0 + 0.3) / 2, (0 + 0.3 + 0.6) / 3, (0.3 + 0.6 + 0.3) / 3.
  const auto one = smooth_accuracies({0, 0.3, 0.6, 0.3, 0}, 1);
  ASSERT_EQ(one.size(), 5u);
  EXPECT_DOUBLE_EQ(one[0], 0.15);
  EXPECT_DOUBLE_EQ(one[1], 0.3);
  EXPECT_DOUBLE_EQ(one[2], 0.4);
  EXPECT_DOUBLE_EQ(one[3], 0.3);
  EXPECT_DOUBLE_EQ(one[4], 0.15);
  // Half window 2: the middle takes all five, point 1 four, point 0 three.
  const auto two = smooth_accuracies({0, 0.3, 0.6, 0.3, 0}, 2);
  EXPECT_DOUBLE_EQ(two[0], 0.3);
  EXPECT_DOUBLE_EQ(two[1], 0.3);
  EXPECT_DOUBLE_EQ(two[2], 0.24);
  // A straight line is unchanged where the window is whole.
  const auto line = smooth_accuracies({0.1, 0.2, 0.3, 0.4, 0.5, 0.6}, 1);
  for (std::size_t i = 1; i + 1 < line.size(); ++i) {
    EXPECT_NEAR(line[i], 0.1 * static_cast<double>(i + 1), 1e-15) << i;
  }
  EXPECT_EQ(smooth_accuracies({0.2, 0.4}, 0), (std::vector<double>{0.2, 0.4}));
}

TEST(AccuracyBoundsTest, RiseThenPlateau) {
  // Flat at 0.1 up to lr 2, +0.1 per point to 0.6 at lr 7, then flat. Rise
  // 0.1 -> 0.6 from the last floor point (2) to the first top point (7):
  // 10% = 0.15 halfway from 2 to 3, 90% = 0.55 halfway from 6 to 7.
  const auto bounds = suggest_from_accuracy(
      even_lrs(11, 1e-3),
      {0.1, 0.1, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.6, 0.6, 0.6},
      0.05,
      0);
  ASSERT_TRUE(bounds);
  EXPECT_NEAR(bounds->base_lr, 2.5e-3, 1e-15);
  EXPECT_NEAR(bounds->max_lr, 6.5e-3, 1e-15);
  EXPECT_DOUBLE_EQ(bounds->peak_lr, 7e-3);
  EXPECT_FALSE(bounds->still_rising);
}

TEST(AccuracyBoundsTest, RiseThenFall) {
  // Rise 0.1 (lr 1) -> 0.7 (lr 4), then down. 10% = 0.16: 1 + 0.06 / 0.2;
  // 90% = 0.64: 3 + 0.14 / 0.2.
  const auto bounds = suggest_from_accuracy(
      even_lrs(7, 1e-3), {0.1, 0.1, 0.3, 0.5, 0.7, 0.5, 0.3}, 0.05, 0);
  ASSERT_TRUE(bounds);
  EXPECT_NEAR(bounds->base_lr, 1.3e-3, 1e-15);
  EXPECT_NEAR(bounds->max_lr, 3.7e-3, 1e-15);
  EXPECT_DOUBLE_EQ(bounds->peak_lr, 4e-3);
  EXPECT_FALSE(bounds->still_rising);
}

TEST(AccuracyBoundsTest, FlatOrFallingCurvesGiveNone) {
  const auto lrs = even_lrs(8, 1e-3);
  EXPECT_FALSE(suggest_from_accuracy(lrs, std::vector<double>(8, 0.1)));
  // Noise of +-0.015 around chance: a rise of 0.03 is below min_rise.
  EXPECT_FALSE(suggest_from_accuracy(
      lrs, {0.1, 0.13, 0.1, 0.13, 0.1, 0.13, 0.1, 0.13}, 0.05, 0));
  EXPECT_FALSE(suggest_from_accuracy(
      lrs, {0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1}, 0.05, 0));
  EXPECT_FALSE(
      suggest_from_accuracy(std::vector<double>{}, std::vector<double>{}));
  EXPECT_FALSE(suggest_from_accuracy(std::vector<double>{0.1},
                                     std::vector<double>{0.5}));
}

TEST(AccuracyBoundsTest, NoisyRiseLandsWithinAPointOfTheCleanAnswer) {
  // Clean: 0.1 up to point 10, +0.025 per point to 0.6 at point 30, then
  // flat; its 10% (0.15) is at point 12 and its 90% (0.55) at point 28.
  // Noise +-0.03 alternating is +-0.006 after the 5-point mean (0.01 on the
  // 3-point mean of the last point), a quarter of a point's rise; the floor
  // and the top move by as much, which moves the levels by less.
  std::vector<double> accuracies;
  for (int i = 0; i <= 40; ++i) {
    const double clean = 0.1 + 0.025 * std::clamp(i - 10, 0, 20);
    accuracies.push_back(clean + (i % 2 == 0 ? 0.03 : -0.03));
  }
  const double step = 5e-4;
  const auto bounds = suggest_from_accuracy(even_lrs(41, step), accuracies);
  ASSERT_TRUE(bounds);
  EXPECT_GT(bounds->base_lr, 11 * step);
  EXPECT_LT(bounds->base_lr, 13 * step);
  EXPECT_GT(bounds->max_lr, 27 * step);
  EXPECT_LT(bounds->max_lr, 29 * step);
}

TEST(AccuracyBoundsTest, BaseIgnoresABumpThatFallsBack) {
  // Floor 0.1 at lr 0, top 0.4 at lr 4: levels 0.13 and 0.37. The bump to
  // 0.14 at lr 1 (a rise of 0.04, below min_rise, so no collapse when it
  // falls back to 0.12) crosses 0.13 first; the rise crosses it for good at
  // 2 + 0.01 / 0.13, and 0.37 at 3 + 0.12 / 0.15.
  const auto bounds = suggest_from_accuracy(
      even_lrs(6, 1.0), {0.1, 0.14, 0.12, 0.25, 0.4, 0.4}, 0.05, 0);
  ASSERT_TRUE(bounds);
  EXPECT_NEAR(bounds->base_lr, 2 + 0.01 / 0.13, 1e-12);
  EXPECT_NEAR(bounds->max_lr, 3.8, 1e-12);
}

TEST(AccuracyBoundsTest, CurvePastACollapseIsNotRead) {
  // 0.1 -> 0.5 at lr 2, then 0.2 at lr 4 (more than half of the rise given
  // back): the later, higher recovery is past the break. Levels 0.14, 0.46.
  const auto bounds = suggest_from_accuracy(
      even_lrs(9, 1.0), {0.1, 0.3, 0.5, 0.5, 0.2, 0.1, 0.4, 0.7, 0.8}, 0.05, 0);
  ASSERT_TRUE(bounds);
  EXPECT_NEAR(bounds->base_lr, 0.2, 1e-12);
  EXPECT_NEAR(bounds->max_lr, 1.8, 1e-12);
  EXPECT_DOUBLE_EQ(bounds->peak_lr, 2.0);
  EXPECT_FALSE(bounds->still_rising);
}

TEST(AccuracyBoundsTest, PeakAtTheEndIsStillRising) {
  // Rise 0.3: levels 0.13 (0 + 0.03 / 0.1) and 0.37 (2 + 0.07 / 0.1).
  const auto bounds =
      suggest_from_accuracy(even_lrs(4, 1.0), {0.1, 0.2, 0.3, 0.4}, 0.05, 0);
  ASSERT_TRUE(bounds);
  EXPECT_NEAR(bounds->base_lr, 0.3, 1e-12);
  EXPECT_NEAR(bounds->max_lr, 2.7, 1e-12);
  EXPECT_TRUE(bounds->still_rising);
}

TEST(AccuracyBoundsTest, ReadsTheEvaluatedPointsOfARun) {
  LRRangeTestResult result;
  result.metric = RangeTestMetric::kAccuracy;
  const std::vector<double> accuracies = {0.1, 0.1, 0.3, 0.5, 0.7, 0.5, 0.3};
  for (int i = 0; i < 14; ++i) {
    RangeTestPoint point{i, 1e-3 * i, 2.0, 2.0, std::nullopt};
    if (i % 2 == 1) {  // evaluated every 2nd step: lr 1e-3, 3e-3, ...
      point.metric = accuracies[static_cast<std::size_t>(i / 2)];
    }
    result.points.push_back(point);
  }
  // As RiseThenFall with every LR mapped to 2 lr + 1e-3.
  const auto bounds = result.accuracy_bounds(0.05, 0);
  ASSERT_TRUE(bounds);
  EXPECT_NEAR(bounds->base_lr, 3.6e-3, 1e-15);
  EXPECT_NEAR(bounds->max_lr, 8.4e-3, 1e-15);
  result.metric = RangeTestMetric::kLoss;
  EXPECT_THAT([&] { result.accuracy_bounds(); },
              ThrowsMessage<c10::Error>(
                  HasSubstr("LRRangeTestResult::accuracy_bounds: the run's "
                            "metric must be accuracy")));
}

TEST(AccuracyBoundsTest, RejectsBadCurves) {
  EXPECT_THAT(
      [] {
        suggest_from_accuracy({0, 1}, {0.1});
      },
      ThrowsMessage<c10::Error>(
          HasSubstr("suggest_from_accuracy: lrs and accuracies must have the "
                    "same length, got 2 and 1")));
  EXPECT_THAT(
      [] {
        suggest_from_accuracy({0, 1}, {0.1, 1.5});
      },
      ThrowsMessage<c10::Error>(HasSubstr(
          "suggest_from_accuracy: accuracies[1] must be in [0, 1], got 1.5")));
  EXPECT_THAT(
      [] {
        suggest_from_accuracy({0, 0}, {0.1, 0.2});
      },
      ThrowsMessage<c10::Error>(
          HasSubstr("suggest_from_accuracy: lrs must be strictly increasing")));
  EXPECT_THAT(
      [] {
        suggest_from_accuracy({-1, 0}, {0.1, 0.2});
      },
      ThrowsMessage<c10::Error>(HasSubstr(
          "suggest_from_accuracy: lrs[0] must be finite and >= 0, got -1")));
  EXPECT_THAT(
      [] {
        suggest_from_accuracy({0, 1}, {0.1, 0.2}, 0);
      },
      ThrowsMessage<c10::Error>(HasSubstr(
          "suggest_from_accuracy: min_rise must be finite and > 0, got 0")));
}

}  // namespace
}  // namespace torchclr::test
