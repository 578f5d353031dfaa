// SplitBatches' augmentations: flip only mirrors (the super-convergence
// files' data layer), pad-crop also shifts, none leaves images alone.

#include "data.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

namespace torchclr::examples {
namespace {

using ::testing::HasSubstr;
using ::testing::ThrowsMessage;

constexpr int64_t kImages = 64;
constexpr int64_t kBatch = 16;
constexpr uint64_t kSeed = 3;

// Images no mirror or shift maps onto another: random values.
DataSplit random_split() {
  torch::manual_seed(0);
  return {torch::randn({kImages, 3, 8, 8}),
          torch::arange(kImages, torch::kLong)};
}

struct Kinds {
  int64_t unchanged = 0;
  int64_t mirrored = 0;
  int64_t other = 0;
};

// How each image of the first batches compares with the unaugmented batch
// (the same order: the shuffle does not depend on the augmentation).
Kinds compare_with_plain(const DataSplit& split, Augmentation augmentation) {
  SplitBatches plain(split, kBatch, kSeed, Augmentation::kNone);
  SplitBatches augmented(split, kBatch, kSeed, augmentation);
  Kinds kinds;
  for (int64_t iteration = 0; iteration < kImages / kBatch; ++iteration) {
    const auto before = plain.batch_at(iteration);
    const auto after = augmented.batch_at(iteration);
    EXPECT_TRUE(torch::equal(before.target, after.target));
    for (int64_t i = 0; i < kBatch; ++i) {
      if (torch::equal(after.input[i], before.input[i])) {
        ++kinds.unchanged;
      } else if (torch::equal(after.input[i], before.input[i].flip({2}))) {
        ++kinds.mirrored;
      } else {
        ++kinds.other;
      }
    }
  }
  return kinds;
}

TEST(SplitBatchesTest, FlipOnlyMirrorsLeftRight) {
  const auto kinds = compare_with_plain(random_split(), Augmentation::kFlip);
  EXPECT_EQ(kinds.other, 0);
  EXPECT_EQ(kinds.unchanged + kinds.mirrored, kImages);
  // Probability 1/2 each: 64 draws land far inside [16, 48].
  EXPECT_GE(kinds.mirrored, 16);
  EXPECT_LE(kinds.mirrored, 48);
}

TEST(SplitBatchesTest, PadCropAlsoShifts) {
  const auto kinds = compare_with_plain(random_split(), Augmentation::kPadCrop);
  // 81 offsets, one of them centred: most images move.
  EXPECT_GT(kinds.other, kImages / 2);
}

TEST(SplitBatchesTest, NoneLeavesImagesAlone) {
  const auto kinds = compare_with_plain(random_split(), Augmentation::kNone);
  EXPECT_EQ(kinds.unchanged, kImages);
}

TEST(SplitBatchesTest, FlipsAreDrawnFromSeedAndIteration) {
  const auto split = random_split();
  SplitBatches first(split, kBatch, kSeed, Augmentation::kFlip);
  SplitBatches second(split, kBatch, kSeed, Augmentation::kFlip);
  // Out of order: a resumed run starts in the middle.
  const auto later = second.batch_at(5);
  EXPECT_TRUE(torch::equal(second.batch_at(2).input, first.batch_at(2).input));
  EXPECT_TRUE(torch::equal(later.input, first.batch_at(5).input));
}

TEST(SplitBatchesTest, AugmentationNames) {
  for (const auto& name : augmentation_names()) {
    EXPECT_EQ(augmentation_name(augmentation_from_name(name)), name);
  }
  EXPECT_THAT([] { augmentation_from_name("crop"); },
              ThrowsMessage<c10::Error>(HasSubstr(
                  "--augment: expected none, flip or pad-crop, got 'crop'")));
}

}  // namespace
}  // namespace torchclr::examples
