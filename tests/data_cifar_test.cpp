#include <gmock/gmock.h>
#include <torchclr/data/cifar.h>

#include <filesystem>
#include <functional>
#include <set>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "test_util.h"

namespace torchclr::test {
namespace {

using data::CIFAR10;
using data::CIFAR100;
using data::CIFAR100Labels;
using data::ImageDatasetOptions;
using data::Mode;
using testing::HasSubstr;
using testing::StartsWith;
using testing::ThrowsMessage;

constexpr int64_t kSide = 32;
constexpr int64_t kPlane = kSide * kSide;

using Pixel =
    std::function<uint8_t(int64_t image, int64_t c, int64_t y, int64_t x)>;

/// Appends one record in the official layout: the label bytes, then the red,
/// green and blue 32x32 planes, each row-major.
void append_record(std::vector<uint8_t>& file,
                   const std::vector<uint8_t>& labels,
                   int64_t image,
                   const Pixel& pixel) {
  file.insert(file.end(), labels.begin(), labels.end());
  for (int64_t c = 0; c < 3; ++c) {
    for (int64_t y = 0; y < kSide; ++y) {
      for (int64_t x = 0; x < kSide; ++x) {
        file.push_back(pixel(image, c, y, x));
      }
    }
  }
}

/// A pattern that differs between images, planes, rows and columns, and
/// between (y, x) and (x, y).
uint8_t pattern(int64_t image, int64_t c, int64_t y, int64_t x) {
  return static_cast<uint8_t>((image * 29 + c * 101 + y * 7 + x * 13) % 256);
}

int64_t cifar10_label(int64_t image) {
  return (image * 3 + 1) % 10;
}

constexpr int64_t kPerBatch = 2;  // train: 5 files of 2 = 10 images
constexpr int64_t kTestImages = 3;
constexpr int64_t kTestImageBase = 100;  // test images are 100, 101, 102

/// CIFAR-10 files: train image k (0..9) is record k % 2 of data_batch_(k/2+1).
void write_cifar10(const TempDir& dir, const Pixel& pixel = pattern) {
  for (int64_t batch = 0; batch < 5; ++batch) {
    std::vector<uint8_t> file;
    for (int64_t i = 0; i < kPerBatch; ++i) {
      const int64_t image = batch * kPerBatch + i;
      append_record(
          file, {static_cast<uint8_t>(cifar10_label(image))}, image, pixel);
    }
    write_bytes(dir.file("data_batch_" + std::to_string(batch + 1) + ".bin"),
                file);
  }
  std::vector<uint8_t> file;
  for (int64_t i = 0; i < kTestImages; ++i) {
    const int64_t image = kTestImageBase + i;
    append_record(
        file, {static_cast<uint8_t>(cifar10_label(image))}, image, pixel);
  }
  write_bytes(dir.file("test_batch.bin"), file);
}

/// The uint8 Nx3x32x32 tensor of `images` drawn with `pixel`.
torch::Tensor expected_images(const std::vector<int64_t>& images,
                              const Pixel& pixel = pattern) {
  auto out = torch::empty(
      {static_cast<int64_t>(images.size()), 3, kSide, kSide}, torch::kByte);
  auto a = out.accessor<uint8_t, 4>();
  for (size_t n = 0; n < images.size(); ++n) {
    for (int64_t c = 0; c < 3; ++c) {
      for (int64_t y = 0; y < kSide; ++y) {
        for (int64_t x = 0; x < kSide; ++x) {
          a[n][c][y][x] = pixel(images[n], c, y, x);
        }
      }
    }
  }
  return out;
}

std::vector<int64_t> range(int64_t begin, int64_t end) {
  std::vector<int64_t> out;
  for (int64_t i = begin; i < end; ++i) {
    out.push_back(i);
  }
  return out;
}

torch::Tensor labels_of(const std::vector<int64_t>& images,
                        int64_t (*label)(int64_t)) {
  std::vector<int64_t> out;
  for (auto image : images) {
    out.push_back(label(image));
  }
  return torch::tensor(out, torch::kLong);
}

std::vector<size_t> all_indices(size_t count) {
  std::vector<size_t> out(count);
  for (size_t i = 0; i < count; ++i) {
    out[i] = i;
  }
  return out;
}

TEST(CIFAR10Test, RoundTripsPixelsAndLabels) {
  TempDir dir;
  write_cifar10(dir);
  CIFAR10 train(dir.path());
  ASSERT_EQ(train.size().value(), 10u);
  EXPECT_TRUE(train.is_train());
  EXPECT_EQ(train.images().sizes(), torch::IntArrayRef({10, 3, 32, 32}));
  EXPECT_EQ(train.images().scalar_type(), torch::kByte);
  EXPECT_TRUE(torch::equal(train.images(), expected_images(range(0, 10))));
  EXPECT_TRUE(
      torch::equal(train.targets(), labels_of(range(0, 10), cifar10_label)));

  CIFAR10 test(dir.path(), Mode::kTest);
  ASSERT_EQ(test.size().value(), 3u);
  EXPECT_FALSE(test.is_train());
  const auto test_images = range(kTestImageBase, kTestImageBase + kTestImages);
  EXPECT_TRUE(torch::equal(test.images(), expected_images(test_images)));
  EXPECT_TRUE(
      torch::equal(test.targets(), labels_of(test_images, cifar10_label)));

  // Defaults: float in [0, 1].
  const auto example = train.get(4);
  EXPECT_EQ(example.data.scalar_type(), torch::kFloat);
  EXPECT_TRUE(torch::allclose(example.data,
                              expected_images({4})[0].to(torch::kFloat) / 255));
  EXPECT_EQ(example.target.item<int64_t>(), cifar10_label(4));
}

TEST(CIFAR10Test, ParsesRecordsFromMemory) {
  std::vector<uint8_t> file;
  append_record(file, {7}, 0, pattern);
  append_record(file, {2}, 1, pattern);
  const auto records = data::detail::parse_cifar_records(
      file.data(), file.size(), data::detail::CIFARFormat::kCIFAR10, "memory");
  EXPECT_TRUE(torch::equal(records.images, expected_images({0, 1})));
  EXPECT_TRUE(
      torch::equal(records.labels, torch::tensor({{7}, {2}}, torch::kLong)));
}

TEST(CIFAR10Test, GetBatchEqualsStackedGet) {
  TempDir dir;
  write_cifar10(dir);
  CIFAR10 train(ImageDatasetOptions(dir.path()).subtract_mean(true));
  const std::vector<size_t> indices = {7, 0, 3, 3, 9};
  const auto batch = train.get_batch(indices);
  std::vector<torch::Tensor> data;
  std::vector<torch::Tensor> targets;
  for (auto i : indices) {
    auto example = train.get(i);
    data.push_back(example.data);
    targets.push_back(example.target);
  }
  EXPECT_TRUE(torch::equal(batch.data, torch::stack(data)));
  EXPECT_TRUE(torch::equal(batch.target, torch::stack(targets)));

  const auto empty = train.get_batch(std::vector<size_t>{});
  EXPECT_EQ(empty.data.sizes(), torch::IntArrayRef({0, 3, 32, 32}));
  EXPECT_EQ(empty.target.numel(), 0);
}

TEST(CIFAR10Test, DataLoaderYieldsIndexedBatches) {
  TempDir dir;
  write_cifar10(dir);
  CIFAR10 train(dir.path());
  const auto images = train.images().to(torch::kFloat) / 255;
  const auto targets = train.targets();
  auto loader =
      torch::data::make_data_loader<torch::data::samplers::SequentialSampler>(
          std::move(train), torch::data::DataLoaderOptions().batch_size(4));
  std::vector<int64_t> sizes;
  int64_t start = 0;
  for (auto& batch : *loader) {
    static_assert(
        std::is_same_v<std::decay_t<decltype(batch)>, torch::data::Example<>>);
    const int64_t size = batch.data.size(0);
    sizes.push_back(size);
    EXPECT_TRUE(torch::allclose(batch.data, images.narrow(0, start, size)));
    EXPECT_TRUE(torch::equal(batch.target, targets.narrow(0, start, size)));
    start += size;
  }
  EXPECT_EQ(sizes, (std::vector<int64_t>{4, 4, 2}));
}

TEST(CIFAR10Test, IndexOutOfRangeIsAnError) {
  TempDir dir;
  write_cifar10(dir);
  CIFAR10 train(dir.path());
  EXPECT_THAT([&] { train.get(10); },
              ThrowsMessage<c10::Error>(HasSubstr(
                  "CIFAR10: index 10 is out of range for 10 examples")));
}

// Train image k has pixel 10 k + c + 3 (x % 2), plus 1 for image 0; the test
// images are all 200. By hand, the train mean is
// (10 * 45 + 1) / 10 + c + 3 (x % 2) = 45.1 + c + 3 (x % 2).
uint8_t mean_pattern(int64_t image, int64_t c, int64_t /*y*/, int64_t x) {
  if (image >= kTestImageBase) {
    return 200;
  }
  return static_cast<uint8_t>(10 * image + c + 3 * (x % 2) + (image == 0));
}

double expected_mean(int64_t c, int64_t x) {
  return 45.1 + c + 3 * (x % 2);
}

/// Expects `actual` (float 3x32x32) to be `value(c, x)` everywhere.
void expect_image(const torch::Tensor& actual,
                  const std::function<double(int64_t, int64_t)>& value) {
  ASSERT_EQ(actual.sizes(), torch::IntArrayRef({3, 32, 32}));
  auto a = actual.accessor<float, 3>();
  for (int64_t c = 0; c < 3; ++c) {
    for (int64_t y = 0; y < kSide; ++y) {
      for (int64_t x = 0; x < kSide; ++x) {
        ASSERT_NEAR(a[c][y][x], value(c, x), 1e-5)
            << "c " << c << " y " << y << " x " << x;
      }
    }
  }
}

TEST(CIFAR10Test, SubtractsTheTrainMeanImage) {
  TempDir dir;
  write_cifar10(dir, mean_pattern);
  CIFAR10 train(ImageDatasetOptions(dir.path()).subtract_mean(true));
  ASSERT_TRUE(train.mean_image().defined());
  expect_image(train.mean_image(), expected_mean);
  // Image 9: 90 + c + 3 (x % 2) - mean = 44.9.
  expect_image(train.get(9).data, [](int64_t, int64_t) { return 44.9 / 255; });

  // The test split subtracts the train mean, computed from the train files or
  // passed in; either way the same numbers.
  const auto test_value = [](int64_t c, int64_t x) {
    return (200 - expected_mean(c, x)) / 255;
  };
  CIFAR10 test(
      ImageDatasetOptions(dir.path()).mode(Mode::kTest).subtract_mean(true));
  expect_image(test.mean_image(), expected_mean);
  expect_image(test.get(1).data, test_value);
  CIFAR10 test_given(ImageDatasetOptions(dir.path())
                         .mode(Mode::kTest)
                         .subtract_mean(true)
                         .mean_image(train.mean_image()));
  expect_image(test_given.get(1).data, test_value);

  CIFAR10 raw(ImageDatasetOptions(dir.path())
                  .mode(Mode::kTest)
                  .subtract_mean(true)
                  .to_unit_range(false));
  expect_image(raw.get(0).data,
               [](int64_t c, int64_t x) { return 200 - expected_mean(c, x); });
}

TEST(CIFAR10Test, MeanImageOptionsAreChecked) {
  TempDir dir;
  write_cifar10(dir);
  EXPECT_THAT(
      [&] {
        CIFAR10(ImageDatasetOptions(dir.path())
                    .mode(Mode::kTest)
                    .subtract_mean(true)
                    .mean_image(torch::zeros({1, 28, 28})));
      },
      ThrowsMessage<c10::Error>(HasSubstr(
          "CIFAR10: mean_image must be a float tensor of shape [3, 32, 32], got Float of shape [1, 28, 28]")));
  EXPECT_THAT(
      [&] {
        CIFAR10(ImageDatasetOptions(dir.path())
                    .mean_image(torch::zeros({3, 32, 32})));
      },
      ThrowsMessage<c10::Error>(
          HasSubstr("CIFAR10: mean_image is set but subtract_mean is false")));
}

/// The float images of the train split, as the batch before augmentation.
torch::Tensor plain_batch(const CIFAR10& dataset) {
  return dataset.images().to(torch::kFloat) / 255;
}

/// `image` (3x32x32) zero-padded by `padding` on every side, built by hand.
torch::Tensor padded(const torch::Tensor& image, int64_t padding) {
  auto out = torch::zeros({3, kSide + 2 * padding, kSide + 2 * padding});
  out.narrow(1, padding, kSide).narrow(2, padding, kSide).copy_(image);
  return out;
}

/// The (row, column) offset of the window of `source` (padded by `padding`)
/// that `crop` equals, mirrored when `mirrored`; (-1, -1) if none does.
std::pair<int64_t, int64_t> find_window(const torch::Tensor& crop,
                                        const torch::Tensor& source,
                                        int64_t padding,
                                        bool mirrored) {
  const auto big = padded(source, padding);
  for (int64_t dy = 0; dy <= 2 * padding; ++dy) {
    for (int64_t dx = 0; dx <= 2 * padding; ++dx) {
      auto window = big.narrow(1, dy, kSide).narrow(2, dx, kSide);
      if (mirrored) {
        window = window.flip({2});
      }
      if (torch::equal(crop, window)) {
        return {dy, dx};
      }
    }
  }
  return {-1, -1};
}

TEST(CIFAR10Test, HorizontalFlipMirrorsAboutHalfTheImages) {
  TempDir dir;
  write_cifar10(dir);
  CIFAR10 train(ImageDatasetOptions(dir.path()).horizontal_flip(true));
  const auto plain = plain_batch(train);
  torch::manual_seed(0);
  int64_t flipped = 0;
  int64_t kept = 0;
  for (int round = 0; round < 4; ++round) {
    const auto batch = train.get_batch(all_indices(10)).data;
    ASSERT_EQ(batch.sizes(), torch::IntArrayRef({10, 3, 32, 32}));
    for (int64_t i = 0; i < 10; ++i) {
      if (torch::equal(batch[i], plain[i])) {
        ++kept;
      } else {
        ASSERT_TRUE(torch::equal(batch[i], plain[i].flip({2}))) << i;
        ++flipped;
      }
    }
  }
  EXPECT_GT(flipped, 5);
  EXPECT_GT(kept, 5);
}

TEST(CIFAR10Test, RandomCropIsAWindowOfTheZeroPaddedImage) {
  TempDir dir;
  write_cifar10(dir);
  constexpr int64_t kPadding = 4;
  CIFAR10 train(ImageDatasetOptions(dir.path()).crop_padding(kPadding));
  const auto plain = plain_batch(train);
  torch::manual_seed(1);
  std::set<std::pair<int64_t, int64_t>> offsets;
  for (int round = 0; round < 3; ++round) {
    const auto batch = train.get_batch(all_indices(10)).data;
    ASSERT_EQ(batch.sizes(), torch::IntArrayRef({10, 3, 32, 32}));
    for (int64_t i = 0; i < 10; ++i) {
      const auto offset = find_window(batch[i], plain[i], kPadding, false);
      ASSERT_NE(offset.first, -1) << "image " << i << " is no window";
      offsets.insert(offset);
    }
  }
  EXPECT_GT(offsets.size(), 10u);  // 30 draws from 81 offsets
}

TEST(CIFAR10Test, CropAndFlipTogetherAreReproducible) {
  TempDir dir;
  write_cifar10(dir);
  CIFAR10 train(
      ImageDatasetOptions(dir.path()).crop_padding(4).horizontal_flip(true));
  const auto plain = plain_batch(train);
  torch::manual_seed(42);
  const auto first = train.get_batch(all_indices(10)).data;
  const auto second = train.get_batch(all_indices(10)).data;
  torch::manual_seed(42);
  const auto again = train.get_batch(all_indices(10)).data;
  EXPECT_TRUE(torch::equal(first, again));
  EXPECT_FALSE(torch::equal(first, second));
  int64_t mirrored = 0;
  for (int64_t i = 0; i < 10; ++i) {
    const bool plain_window =
        find_window(first[i], plain[i], 4, false).first != -1;
    const bool mirrored_window =
        find_window(first[i], plain[i], 4, true).first != -1;
    EXPECT_TRUE(plain_window || mirrored_window) << i;
    mirrored += mirrored_window;
  }
  EXPECT_GT(mirrored, 0);
  EXPECT_EQ(train.get_batch(std::vector<size_t>{}).data.sizes(),
            torch::IntArrayRef({0, 3, 32, 32}));
}

TEST(CIFAR10Test, AugmentationIsForTheTrainSplit) {
  TempDir dir;
  write_cifar10(dir);
  const auto train_time_only = ThrowsMessage<c10::Error>(HasSubstr(
      "CIFAR10: crop_padding and horizontal_flip are train-time augmentation, but the options load the test split"));
  EXPECT_THAT(
      [&] {
        CIFAR10(
            ImageDatasetOptions(dir.path()).mode(Mode::kTest).crop_padding(4));
      },
      train_time_only);
  EXPECT_THAT(
      [&] {
        CIFAR10(ImageDatasetOptions(dir.path())
                    .mode(Mode::kTest)
                    .horizontal_flip(true));
      },
      train_time_only);
  EXPECT_THAT(
      [&] { CIFAR10(ImageDatasetOptions(dir.path()).crop_padding(-1)); },
      ThrowsMessage<c10::Error>(
          HasSubstr("CIFAR10: crop_padding must be >= 0, got -1")));
  // More than the 32-pixel side would crop mostly zeros.
  EXPECT_THAT(
      [&] { CIFAR10(ImageDatasetOptions(dir.path()).crop_padding(33)); },
      ThrowsMessage<c10::Error>(HasSubstr(
          "CIFAR10: crop_padding must be at most the image's smaller side (32), got 33")));
  EXPECT_NO_THROW(CIFAR10(ImageDatasetOptions(dir.path()).crop_padding(32)));
}

TEST(CIFAR10Test, MissingFileNamesItsPath) {
  TempDir dir;
  EXPECT_THAT(
      [&] { CIFAR10 train(dir.path()); },
      ThrowsMessage<c10::Error>(StartsWith(
          "cifar: cannot open " + dir.file("data_batch_1.bin") + ": ")));
  write_cifar10(dir);
  std::filesystem::remove(dir.file("test_batch.bin"));
  EXPECT_THAT([&] { CIFAR10(dir.path(), Mode::kTest); },
              ThrowsMessage<c10::Error>(HasSubstr("cifar: cannot open " +
                                                  dir.file("test_batch.bin"))));
}

TEST(CIFAR10Test, TruncatedFileNamesSizeAndOffset) {
  TempDir dir;
  write_cifar10(dir);
  std::vector<uint8_t> file;
  append_record(file, {1}, 0, pattern);
  append_record(file, {2}, 1, pattern);
  file.resize(file.size() + 100, 0);
  write_bytes(dir.file("data_batch_3.bin"), file);
  // 2 records of 3073 bytes end at 6146; the third has 100 of its 3073 bytes.
  EXPECT_THAT(
      [&] { CIFAR10 train(dir.path()); },
      ThrowsMessage<c10::Error>(HasSubstr(
          "cifar: " + dir.file("data_batch_3.bin") +
          ": size 6246 is not a multiple of the 3073-byte record: truncated at offset 6146, expected 2973 more bytes")));

  write_bytes(dir.file("test_batch.bin"), {});
  EXPECT_THAT([&] { CIFAR10(dir.path(), Mode::kTest); },
              ThrowsMessage<c10::Error>(
                  HasSubstr("cifar: " + dir.file("test_batch.bin") +
                            ": empty file, expected records of 3073 bytes")));
}

TEST(CIFAR10Test, LabelOutOfRangeNamesItsOffset) {
  TempDir dir;
  write_cifar10(dir);
  std::vector<uint8_t> file;
  append_record(file, {9}, 0, pattern);
  append_record(file, {10}, 1, pattern);
  write_bytes(dir.file("data_batch_5.bin"), file);
  EXPECT_THAT([&] { CIFAR10 train(dir.path()); },
              ThrowsMessage<c10::Error>(HasSubstr(
                  "cifar: " + dir.file("data_batch_5.bin") +
                  ": label 10 at offset 3073 is out of range, expected 0..9")));
}

int64_t coarse_label(int64_t image) {
  return (image * 7 + 3) % 20;
}

int64_t fine_label(int64_t image) {
  return (image * 17 + 5) % 100;
}

void write_cifar100(const TempDir& dir) {
  for (const auto& [name, first, count] :
       {std::tuple<const char*, int64_t, int64_t>{"train.bin", 0, 6},
        {"test.bin", kTestImageBase, 2}}) {
    std::vector<uint8_t> file;
    for (int64_t image = first; image < first + count; ++image) {
      append_record(file,
                    {static_cast<uint8_t>(coarse_label(image)),
                     static_cast<uint8_t>(fine_label(image))},
                    image,
                    pattern);
    }
    write_bytes(dir.file(name), file);
  }
}

TEST(CIFAR100Test, ReadsFineAndCoarseLabels) {
  TempDir dir;
  write_cifar100(dir);
  CIFAR100 fine(dir.path());
  EXPECT_EQ(fine.label_type(), CIFAR100Labels::kFine);
  ASSERT_EQ(fine.size().value(), 6u);
  EXPECT_TRUE(torch::equal(fine.images(), expected_images(range(0, 6))));
  EXPECT_TRUE(torch::equal(fine.targets(), labels_of(range(0, 6), fine_label)));
  EXPECT_TRUE(
      torch::equal(fine.fine_targets(), labels_of(range(0, 6), fine_label)));
  EXPECT_TRUE(torch::equal(fine.coarse_targets(),
                           labels_of(range(0, 6), coarse_label)));

  CIFAR100 coarse(dir.path(), Mode::kTest, CIFAR100Labels::kCoarse);
  const auto test_images = range(kTestImageBase, kTestImageBase + 2);
  EXPECT_TRUE(torch::equal(coarse.images(), expected_images(test_images)));
  EXPECT_TRUE(
      torch::equal(coarse.targets(), labels_of(test_images, coarse_label)));
  EXPECT_EQ(coarse.get(1).target.item<int64_t>(),
            coarse_label(kTestImageBase + 1));
}

TEST(CIFAR100Test, LabelsOutOfRangeNameTheirOffset) {
  TempDir dir;
  write_cifar100(dir);
  std::vector<uint8_t> file;
  append_record(file, {19, 99}, 0, pattern);
  append_record(file, {0, 0}, 1, pattern);
  append_record(file, {3, 100}, 2, pattern);
  write_bytes(dir.file("train.bin"), file);
  // Record 2 starts at 2 * 3074 = 6148; its fine label is the second byte.
  EXPECT_THAT(
      [&] { CIFAR100 train(dir.path()); },
      ThrowsMessage<c10::Error>(HasSubstr(
          "cifar: " + dir.file("train.bin") +
          ": fine label 100 at offset 6149 is out of range, expected 0..99")));

  file.clear();
  append_record(file, {20, 5}, 0, pattern);
  write_bytes(dir.file("test.bin"), file);
  EXPECT_THAT(
      [&] { CIFAR100(dir.path(), Mode::kTest); },
      ThrowsMessage<c10::Error>(HasSubstr(
          "cifar: " + dir.file("test.bin") +
          ": coarse label 20 at offset 0 is out of range, expected 0..19")));

  // A CIFAR-10 file read as CIFAR-100 is caught by its size.
  file.clear();
  append_record(file, {1}, 0, pattern);
  append_record(file, {1}, 1, pattern);
  write_bytes(dir.file("test.bin"), file);
  EXPECT_THAT(
      [&] { CIFAR100(dir.path(), Mode::kTest); },
      ThrowsMessage<c10::Error>(HasSubstr(
          "cifar: " + dir.file("test.bin") +
          ": size 6146 is not a multiple of the 3074-byte record: truncated at offset 3074, expected 2 more bytes")));
}

}  // namespace
}  // namespace torchclr::test
