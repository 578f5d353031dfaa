#pragma once

// MNIST and Fashion-MNIST in the IDX format (http://yann.lecun.com/exdb/mnist):
// a big-endian magic number 0x000008NN (unsigned bytes, NN dimensions), NN
// big-endian uint32 dimension sizes, then the bytes in row-major order. Files
// may be gzip-compressed, as distributed.

#include <torch/types.h>
#include <torchclr/data/image_dataset.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace torchclr::data {

/// MNIST or Fashion-MNIST (same files, same 10 classes): `root` holds
/// train-images-idx3-ubyte, train-labels-idx1-ubyte (60000) and
/// t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte (10000), each plain or with
/// `.gz` (the plain file is read when both exist). Images are 1xHxW (28x28),
/// targets 0..9. See `ImageDataset` for the accessors.
class MNIST final : public ImageDataset<MNIST> {
 public:
  /// Loads `mode`'s split from `root`, scaled to [0, 1] (LibTorch's MNIST
  /// constructor, with gzip and Fashion-MNIST).
  explicit MNIST(const std::string& root, Mode mode = Mode::kTrain);
  /// Loads the split that `options` name, prepared as they say.
  explicit MNIST(ImageDatasetOptions options);
};

/// Fashion-MNIST is a drop-in replacement for MNIST: same format and names.
using FashionMNIST = MNIST;

namespace detail {

/// Magic number of an IDX file of unsigned bytes in 3 dimensions (images).
constexpr uint32_t kIdxImagesMagic = 0x00000803;
/// Magic number of an IDX file of unsigned bytes in 1 dimension (labels).
constexpr uint32_t kIdxLabelsMagic = 0x00000801;
/// Classes of MNIST and Fashion-MNIST.
constexpr int64_t kMNISTClasses = 10;

/// True if `data` starts with the gzip magic bytes 1f 8b.
bool is_gzip(const uint8_t* data, size_t size);

/// Inflates a whole gzip file held in memory (all its members). `name` is the
/// file's path for error messages; offsets in them count compressed bytes.
std::vector<uint8_t> gunzip(const uint8_t* data,
                            size_t size,
                            const std::string& name);

/// Parses one uncompressed IDX file held in memory into a uint8 tensor of the
/// dimensions its header gives. Throws `c10::Error` naming `name`, the byte
/// offset and what was expected, for a magic other than `expected_magic`, a
/// zero item dimension, a truncated header or body, or trailing bytes.
torch::Tensor parse_idx(const uint8_t* data,
                        size_t size,
                        uint32_t expected_magic,
                        const std::string& name);

/// A plain or gzip IDX file held in memory: `gunzip` if `is_gzip`, then
/// `parse_idx`, whose offsets then count decompressed bytes (the messages add
/// "(decompressed)" after the name). The path the file readers take, and the
/// fuzzer's entry.
torch::Tensor decode_idx(const uint8_t* data,
                         size_t size,
                         uint32_t expected_magic,
                         const std::string& name);

/// Pairs uint8 NxHxW images with uint8 N labels: checks the counts agree and
/// every label is below `kMNISTClasses` (naming its offset in `labels_name`),
/// and returns Nx1xHxW images with int64 targets.
ImageSplit make_idx_split(const torch::Tensor& images,
                          const torch::Tensor& labels,
                          const std::string& images_name,
                          const std::string& labels_name);

}  // namespace detail

}  // namespace torchclr::data
