#pragma once

// CIFAR-10 and CIFAR-100 in the official binary layout
// (https://www.cs.toronto.edu/~kriz/cifar.html): each record is its label
// byte(s) and 3072 pixel bytes, the red, green and blue 32x32 planes in turn,
// each row-major.

#include <torch/types.h>
#include <torchclr/data/image_dataset.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace torchclr::data {

/// CIFAR-10: `root` holds data_batch_1.bin ... data_batch_5.bin (train, 50000
/// images) and test_batch.bin (10000), the contents of cifar-10-batches-bin/.
/// Images are 3x32x32, targets 0..9. See `ImageDataset` for the accessors.
class CIFAR10 final : public ImageDataset<CIFAR10> {
 public:
  /// Loads `mode`'s split from `root`, scaled to [0, 1] (LibTorch's MNIST
  /// constructor).
  explicit CIFAR10(const std::string& root, Mode mode = Mode::kTrain);
  /// Loads the split that `options` name, prepared as they say.
  explicit CIFAR10(ImageDatasetOptions options);
};

/// Which of CIFAR-100's two label sets becomes `targets()`.
enum class CIFAR100Labels {
  kFine,    ///< 100 classes, 0..99
  kCoarse,  ///< 20 superclasses, 0..19
};

/// CIFAR-100: `root` holds train.bin (50000 images) and test.bin (10000), the
/// contents of cifar-100-binary/. Each record has a coarse then a fine label.
class CIFAR100 final : public ImageDataset<CIFAR100> {
 public:
  /// Loads `mode`'s split from `root` with the label set `labels`, scaled to
  /// [0, 1].
  explicit CIFAR100(const std::string& root,
                    Mode mode = Mode::kTrain,
                    CIFAR100Labels labels = CIFAR100Labels::kFine);
  /// Loads the split that `options` name, prepared as they say, with the label
  /// set `labels`.
  explicit CIFAR100(ImageDatasetOptions options,
                    CIFAR100Labels labels = CIFAR100Labels::kFine);

  /// Which label set `targets()` holds.
  CIFAR100Labels label_type() const noexcept {
    return label_type_;
  }
  /// The 100-class labels, int64 N.
  const torch::Tensor& fine_targets() const {
    return fine_targets_;
  }
  /// The 20-superclass labels, int64 N.
  const torch::Tensor& coarse_targets() const {
    return coarse_targets_;
  }

 private:
  struct Loaded;
  CIFAR100(ImageDatasetOptions options, CIFAR100Labels labels, Loaded loaded);

  CIFAR100Labels label_type_;
  torch::Tensor fine_targets_;
  torch::Tensor coarse_targets_;
};

namespace detail {

/// Bytes of one CIFAR image: 3 planes of 32x32.
constexpr int64_t kCIFARImageBytes = 3 * 32 * 32;

/// The record layout to parse.
enum class CIFARFormat {
  kCIFAR10,   ///< label, 3072 pixels: 3073-byte records
  kCIFAR100,  ///< coarse label, fine label, 3072 pixels: 3074-byte records
};

/// The records of one file.
struct CIFARRecords {
  /// uint8 Nx3x32x32.
  torch::Tensor images;
  /// int64 Nx1 (CIFAR-10) or Nx2 (CIFAR-100: coarse, fine), range-checked.
  torch::Tensor labels;
};

/// Parses the whole of one CIFAR file held in memory (the path the file
/// readers take, and the fuzzer's entry). `name` is the file's path for error
/// messages. Throws `c10::Error` on an empty file, a size that is not a whole
/// number of records, or a label out of range, naming the byte offset.
CIFARRecords parse_cifar_records(const uint8_t* data,
                                 size_t size,
                                 CIFARFormat format,
                                 const std::string& name);

}  // namespace detail

}  // namespace torchclr::data
