#include <gmock/gmock.h>
#include <torchclr/data/idx.h>
#include <zlib.h>

#include <array>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "test_util.h"

namespace torchclr::test {
namespace {

using data::FashionMNIST;
using data::ImageDatasetOptions;
using data::MNIST;
using data::Mode;
using data::detail::kIdxImagesMagic;
using data::detail::kIdxLabelsMagic;
using testing::HasSubstr;
using testing::StartsWith;
using testing::ThrowsMessage;

using Bytes = std::vector<uint8_t>;

Bytes read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), {});
}

/// Writes `bytes` with zlib's gzip writer.
void write_gzip(const std::string& path, const Bytes& bytes) {
  gzFile file = gzopen(path.c_str(), "wb");
  ASSERT_NE(file, nullptr) << path;
  ASSERT_EQ(gzwrite(file, bytes.data(), static_cast<unsigned>(bytes.size())),
            static_cast<int>(bytes.size()));
  ASSERT_EQ(gzclose(file), Z_OK);
}

/// The gzip compression of `bytes`, through a file.
Bytes gzip_bytes(const TempDir& dir, const Bytes& bytes) {
  const auto path = dir.file("scratch.gz");
  write_gzip(path, bytes);
  return read_bytes(path);
}

void append_u32_big_endian(Bytes& out, uint32_t value) {
  out.push_back(static_cast<uint8_t>(value >> 24));
  out.push_back(static_cast<uint8_t>(value >> 16));
  out.push_back(static_cast<uint8_t>(value >> 8));
  out.push_back(static_cast<uint8_t>(value));
}

/// An IDX file as LeCun's page describes it: big-endian magic, big-endian
/// dimension sizes, then the data.
Bytes idx_file(uint32_t magic,
               const std::vector<uint32_t>& dims,
               const Bytes& payload) {
  Bytes out;
  append_u32_big_endian(out, magic);
  for (auto d : dims) {
    append_u32_big_endian(out, d);
  }
  out.insert(out.end(), payload.begin(), payload.end());
  return out;
}

constexpr int64_t kHeight = 4;
constexpr int64_t kWidth = 3;
constexpr int64_t kImageBytes = kHeight * kWidth;

uint8_t pixel(int64_t image, int64_t y, int64_t x) {
  return static_cast<uint8_t>((image * 31 + y * 3 + x * 50) % 256);
}

/// Row-major pixels of images first .. first + count - 1.
Bytes pixels(int64_t first, int64_t count) {
  Bytes out;
  for (int64_t image = first; image < first + count; ++image) {
    for (int64_t y = 0; y < kHeight; ++y) {
      for (int64_t x = 0; x < kWidth; ++x) {
        out.push_back(pixel(image, y, x));
      }
    }
  }
  return out;
}

Bytes images_file(int64_t first, int64_t count) {
  return idx_file(kIdxImagesMagic,
                  {static_cast<uint32_t>(count), kHeight, kWidth},
                  pixels(first, count));
}

Bytes labels_file(const Bytes& labels) {
  return idx_file(
      kIdxLabelsMagic, {static_cast<uint32_t>(labels.size())}, labels);
}

torch::Tensor expected_images(int64_t first, int64_t count) {
  auto out = torch::empty({count, 1, kHeight, kWidth}, torch::kByte);
  auto a = out.accessor<uint8_t, 4>();
  for (int64_t n = 0; n < count; ++n) {
    for (int64_t y = 0; y < kHeight; ++y) {
      for (int64_t x = 0; x < kWidth; ++x) {
        a[n][0][y][x] = pixel(first + n, y, x);
      }
    }
  }
  return out;
}

const Bytes kTrainLabels = {3, 1, 4, 1, 5};
const Bytes kTestLabels = {9, 2};
constexpr int64_t kTestFirst = 100;

/// Train files plain, test files gzip-compressed only.
void write_mnist(const TempDir& dir) {
  write_bytes(dir.file("train-images-idx3-ubyte"), images_file(0, 5));
  write_bytes(dir.file("train-labels-idx1-ubyte"), labels_file(kTrainLabels));
  write_gzip(dir.file("t10k-images-idx3-ubyte.gz"), images_file(kTestFirst, 2));
  write_gzip(dir.file("t10k-labels-idx1-ubyte.gz"), labels_file(kTestLabels));
}

torch::Tensor targets(const Bytes& labels) {
  return torch::tensor(std::vector<int64_t>(labels.begin(), labels.end()));
}

TEST(MNISTTest, ReadsPlainAndGzipFiles) {
  TempDir dir;
  write_mnist(dir);
  MNIST train(dir.path());
  ASSERT_EQ(train.size().value(), 5u);
  EXPECT_EQ(train.images().sizes(), torch::IntArrayRef({5, 1, 4, 3}));
  EXPECT_TRUE(torch::equal(train.images(), expected_images(0, 5)));
  EXPECT_TRUE(torch::equal(train.targets(), targets(kTrainLabels)));

  MNIST test(dir.path(), Mode::kTest);
  ASSERT_EQ(test.size().value(), 2u);
  EXPECT_TRUE(torch::equal(test.images(), expected_images(kTestFirst, 2)));
  EXPECT_TRUE(torch::equal(test.targets(), targets(kTestLabels)));
  const auto example = test.get(1);
  EXPECT_TRUE(torch::allclose(
      example.data,
      expected_images(kTestFirst + 1, 1)[0].to(torch::kFloat) / 255));
  EXPECT_EQ(example.target.item<int64_t>(), 2);
}

TEST(MNISTTest, PrefersThePlainFileToTheGzipOne) {
  TempDir dir;
  write_mnist(dir);
  write_gzip(dir.file("train-labels-idx1-ubyte.gz"),
             labels_file({0, 0, 0, 0, 0}));
  EXPECT_TRUE(torch::equal(MNIST(dir.path()).targets(), targets(kTrainLabels)));
  std::filesystem::remove(dir.file("train-labels-idx1-ubyte"));
  EXPECT_TRUE(torch::equal(MNIST(dir.path()).targets(),
                           torch::zeros({5}, torch::kLong)));
}

TEST(MNISTTest, GetBatchEqualsStackedGetAndSubtractsTheMean) {
  TempDir dir;
  write_mnist(dir);
  // By hand: the train mean at (y, x) is the mean of pixel(k, y, x), k = 0..4,
  // none of which wraps past 255 here.
  auto mean = torch::empty({1, kHeight, kWidth});
  for (int64_t y = 0; y < kHeight; ++y) {
    for (int64_t x = 0; x < kWidth; ++x) {
      mean[0][y][x] = (31.0 * (0 + 1 + 2 + 3 + 4) + 5 * (y * 3 + x * 50)) / 5;
    }
  }
  FashionMNIST test(
      ImageDatasetOptions(dir.path()).mode(Mode::kTest).subtract_mean(true));
  EXPECT_TRUE(torch::allclose(test.mean_image(), mean));
  const std::vector<size_t> indices = {1, 0, 1};
  const auto batch = test.get_batch(indices);
  for (size_t i = 0; i < indices.size(); ++i) {
    const auto example = test.get(indices[i]);
    EXPECT_TRUE(torch::equal(batch.data[i], example.data));
    EXPECT_TRUE(torch::equal(batch.target[i], example.target));
    const auto raw =
        expected_images(kTestFirst + static_cast<int64_t>(indices[i]), 1)[0];
    EXPECT_TRUE(
        torch::allclose(example.data, (raw.to(torch::kFloat) - mean) / 255));
  }
}

TEST(MNISTTest, TestSplitMeanNeedsTrainImages) {
  TempDir dir;
  write_mnist(dir);
  write_bytes(dir.file("train-images-idx3-ubyte"), images_file(0, 0));
  write_bytes(dir.file("train-labels-idx1-ubyte"), labels_file({}));
  EXPECT_THAT(
      [&] {
        MNIST(ImageDatasetOptions(dir.path())
                  .mode(Mode::kTest)
                  .subtract_mean(true));
      },
      ThrowsMessage<c10::Error>(
          HasSubstr("MNIST: the train split under " + dir.path() +
                    " holds no images to take the mean image from")));
}

TEST(IDXTest, ParsesFromMemory) {
  const auto file = images_file(0, 3);
  const auto images = data::detail::parse_idx(
      file.data(), file.size(), kIdxImagesMagic, "memory");
  EXPECT_TRUE(torch::equal(images, expected_images(0, 3).squeeze(1)));
  const auto labels = labels_file({7, 0});
  EXPECT_TRUE(
      torch::equal(data::detail::parse_idx(
                       labels.data(), labels.size(), kIdxLabelsMagic, "m"),
                   torch::tensor({7, 0}, torch::kByte)));
}

TEST(IDXTest, ReadsConcatenatedGzipMembers) {
  TempDir dir;
  const auto file = images_file(0, 3);
  const Bytes head(file.begin(), file.begin() + 10);
  const Bytes tail(file.begin() + 10, file.end());
  auto gz = gzip_bytes(dir, head);
  const auto second = gzip_bytes(dir, tail);
  gz.insert(gz.end(), second.begin(), second.end());
  EXPECT_EQ(data::detail::gunzip(gz.data(), gz.size(), "two members"), file);
  EXPECT_TRUE(torch::equal(
      data::detail::decode_idx(gz.data(), gz.size(), kIdxImagesMagic, "m"),
      expected_images(0, 3).squeeze(1)));
}

/// Loads the train split from `dir`, for `EXPECT_THAT(..., ThrowsMessage)`.
auto load_train(const TempDir& dir) {
  return [&dir] { MNIST train(dir.path()); };
}

TEST(IDXTest, MissingFileNamesBothNames) {
  TempDir dir;
  EXPECT_THAT(load_train(dir),
              ThrowsMessage<c10::Error>(HasSubstr(
                  "idx: found neither " + dir.file("train-images-idx3-ubyte") +
                  " nor " + dir.file("train-images-idx3-ubyte.gz"))));
}

TEST(IDXTest, BadMagicNamesFileOffsetAndExpectation) {
  TempDir dir;
  write_mnist(dir);
  // A labels file where the images belong.
  write_bytes(dir.file("train-images-idx3-ubyte"), labels_file(kTrainLabels));
  EXPECT_THAT(
      load_train(dir),
      ThrowsMessage<c10::Error>(HasSubstr(
          "idx: " + dir.file("train-images-idx3-ubyte") +
          ": bad magic 0x00000801 at offset 0, expected 0x00000803 (unsigned bytes, 3 dimensions)")));

  std::filesystem::remove(dir.file("train-images-idx3-ubyte"));
  write_gzip(dir.file("train-images-idx3-ubyte.gz"), Bytes(40, 0));
  EXPECT_THAT(
      load_train(dir),
      ThrowsMessage<c10::Error>(HasSubstr(
          "idx: " + dir.file("train-images-idx3-ubyte.gz") +
          " (decompressed): bad magic 0x00000000 at offset 0, expected 0x00000803 (unsigned bytes, 3 dimensions)")));
}

/// A damaged train images file and the error after "idx: <path>".
struct DamagedImages {
  const char* name;
  Bytes file;
  const char* message;
};

void PrintTo(const DamagedImages& damaged, std::ostream* out) {
  *out << damaged.name;
}

Bytes resized(Bytes bytes, size_t size) {
  bytes.resize(size, 0);
  return bytes;
}

class IDXDamagedImagesTest : public testing::TestWithParam<DamagedImages> {};

TEST_P(IDXDamagedImagesTest, NamesTheOffset) {
  TempDir dir;
  write_mnist(dir);
  const auto path = dir.file("train-images-idx3-ubyte");
  write_bytes(path, GetParam().file);
  EXPECT_THAT(load_train(dir),
              ThrowsMessage<c10::Error>(
                  HasSubstr("idx: " + path + GetParam().message)));
}

INSTANTIATE_TEST_SUITE_P(
    IDXTest,
    IDXDamagedImagesTest,
    testing::Values(
        DamagedImages{
            "MagicCut",
            {0, 0},
            ": truncated at offset 0: expected a 4-byte magic number, found 2 bytes"},
        DamagedImages{
            "DimensionsCut",
            {0, 0, 8, 3, 0, 0, 0, 5, 0},
            ": truncated at offset 4: expected 12 bytes of dimension sizes, found 5"},
        // 5 images of 12 bytes after a 16-byte header, but only 50 bytes of
        // pixels: images 0..3 end at 16 + 48 = 64, and image 4 has 2 of its 12
        // bytes.
        DamagedImages{
            "LastImageCut",
            resized(images_file(0, 5), 16 + 50),
            ": truncated at offset 64: expected 12 more bytes for image 4 of 5, found 2"},
        DamagedImages{
            "TrailingBytes",
            resized(images_file(0, 5), 16 + 60 + 7),
            ": 7 unexpected bytes at offset 76, expected the file to end after 5 images"},
        DamagedImages{"ZeroDimension",
                      idx_file(kIdxImagesMagic, {5, 4, 0}, {}),
                      ": dimension 2 at offset 12 is 0, expected >= 1"},
        // Dimensions whose product does not fit in 64 bits.
        DamagedImages{
            "ImageOver64Bits",
            idx_file(kIdxImagesMagic, {2, 0xffffffff, 0xffffffff}, {}),
            ": dimension 2 at offset 12 makes one image more than 2^63 - 1 bytes, expected a size a tensor can hold"},
        // Found by idx_fuzz: no images, but an image size that fits in 64 bits
        // and not in a tensor's int64_t strides (it crashed inside LibTorch).
        DamagedImages{
            "ImageOverTensorStrides",
            idx_file(kIdxImagesMagic, {0, 0xdc10bc01, 0xb0600000}, {}),
            ": dimension 2 at offset 12 makes one image more than 2^63 - 1 bytes, expected a size a tensor can hold"},
        // 2^31 images of 2^32 bytes: each fits, all of them do not.
        DamagedImages{
            "AllImagesOver64Bits",
            idx_file(kIdxImagesMagic, {0x80000000, 0x10000, 0x10000}, {}),
            ": truncated at offset 16: expected 4294967296 more bytes for image 0 of 2147483648, found 0"}),
    [](const testing::TestParamInfo<DamagedImages>& info) {
      return std::string(info.param.name);
    });

TEST(IDXTest, LabelsMustMatchTheImages) {
  TempDir dir;
  write_mnist(dir);
  write_bytes(dir.file("train-labels-idx1-ubyte"), labels_file({1, 2, 3, 4}));
  EXPECT_THAT(load_train(dir),
              ThrowsMessage<c10::Error>(HasSubstr(
                  "idx: " + dir.file("train-images-idx3-ubyte") +
                  " holds 5 images but " + dir.file("train-labels-idx1-ubyte") +
                  " holds 4 labels, expected one label per image")));

  // Label 2 sits at offset 8 + 2.
  write_bytes(dir.file("train-labels-idx1-ubyte"),
              labels_file({1, 2, 10, 4, 5}));
  EXPECT_THAT(load_train(dir),
              ThrowsMessage<c10::Error>(HasSubstr(
                  "idx: " + dir.file("train-labels-idx1-ubyte") +
                  ": label 10 at offset 10 is out of range, expected 0..9")));
}

TEST(IDXTest, DamagedGzipIsAnError) {
  TempDir dir;
  write_mnist(dir);
  const auto path = dir.file("t10k-images-idx3-ubyte.gz");
  const auto good = read_bytes(path);
  const auto load_test = [&] { MNIST(dir.path(), Mode::kTest); };

  auto truncated = good;
  truncated.resize(good.size() - 10);
  write_bytes(path, truncated);
  EXPECT_THAT(load_test,
              ThrowsMessage<c10::Error>(HasSubstr(
                  "idx: " + path + ": gzip stream truncated at offset " +
                  std::to_string(truncated.size()) +
                  ": expected more compressed data before its end")));

  // Flip bits in the deflate data (after the 10-byte gzip header): either
  // the stream or its CRC-32 no longer checks out.
  auto corrupt = good;
  for (size_t i = 10; i < corrupt.size() - 8; ++i) {
    corrupt[i] ^= 0x5a;
  }
  write_bytes(path, corrupt);
  EXPECT_THAT(load_test,
              ThrowsMessage<c10::Error>(StartsWith(
                  "idx: " + path + ": corrupt gzip data at offset ")));

  auto trailing = good;
  trailing.insert(trailing.end(), {1, 2, 3});
  write_bytes(path, trailing);
  EXPECT_THAT(load_test,
              ThrowsMessage<c10::Error>(HasSubstr(
                  "idx: " + path +
                  ": 3 unexpected bytes after the gzip stream at offset " +
                  std::to_string(good.size()) +
                  ", expected the end of the file or another gzip member")));
}

constexpr const char* kFashionMNIST = "/usr/share/datasets/fashion-mnist";

TEST(MNISTTest, ReadsDebianFashionMNIST) {
  if (!std::filesystem::exists(kFashionMNIST)) {
    GTEST_SKIP() << kFashionMNIST
                 << " is absent (Debian's Fashion-MNIST data is not installed)";
  }
  FashionMNIST train(kFashionMNIST);
  FashionMNIST test(kFashionMNIST, Mode::kTest);
  EXPECT_EQ(train.images().sizes(), torch::IntArrayRef({60000, 1, 28, 28}));
  EXPECT_EQ(test.images().sizes(), torch::IntArrayRef({10000, 1, 28, 28}));
  // Zalando's README: 6000 train and 1000 test images per class. TensorFlow's
  // Keras tutorial prints train labels [9, 0, 0, ..., 3, 0, 5] and test
  // label 0 as 9 (ankle boots).
  EXPECT_TRUE(torch::equal(torch::bincount(train.targets()),
                           torch::full({10}, 6000, torch::kLong)));
  EXPECT_TRUE(torch::equal(torch::bincount(test.targets()),
                           torch::full({10}, 1000, torch::kLong)));
  EXPECT_TRUE(torch::equal(train.targets().narrow(0, 0, 3),
                           torch::tensor({9, 0, 0}, torch::kLong)));
  EXPECT_TRUE(torch::equal(train.targets().narrow(0, 59997, 3),
                           torch::tensor({3, 0, 5}, torch::kLong)));
  EXPECT_EQ(test.targets()[0].item<int64_t>(), 9);
  const auto batch = train.get_batch(std::vector<size_t>{0, 59999});
  EXPECT_EQ(batch.data.sizes(), torch::IntArrayRef({2, 1, 28, 28}));
  EXPECT_LE(batch.data.max().item<float>(), 1.0f);
  EXPECT_GE(batch.data.min().item<float>(), 0.0f);
}

}  // namespace
}  // namespace torchclr::test
