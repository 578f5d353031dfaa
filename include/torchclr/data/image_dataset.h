#pragma once

// What the image datasets (CIFAR-10/100, MNIST/Fashion-MNIST) share: the
// options, and a base class that holds a whole split as one uint8 tensor and
// cuts batches out of it by indexing.

#include <c10/util/ArrayRef.h>
#include <c10/util/Exception.h>
#include <torch/arg.h>
#include <torch/data/datasets/base.h>
#include <torch/data/example.h>
#include <torch/types.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

/// Datasets read from their distributed files: CIFAR-10/100, MNIST and
/// Fashion-MNIST.
namespace torchclr::data {

/// Which split to load (LibTorch's `MNIST::Mode`).
enum class Mode { kTrain, kTest };

/// Where an image dataset's files are, which split to load and how each batch
/// is prepared. Batches are float32 NxCxHxW:
/// (pixel - mean_image) / 255, then the random crop and flip.
struct ImageDatasetOptions {
  /// `root` holds the dataset's files, for example the contents of the official
  /// archive's `cifar-10-batches-bin/` folder.
  explicit ImageDatasetOptions(std::string root) : root_(std::move(root)) {}

  /// The folder that holds the dataset's files.
  TORCH_ARG(std::string, root);
  /// The split to load: train or test.
  TORCH_ARG(Mode, mode) = Mode::kTrain;
  /// Divide by 255, giving [0, 1] (torchvision's `ToTensor`); off: 0..255.
  TORCH_ARG(bool, to_unit_range) = true;
  /// Subtract the training split's mean image (Caffe's `mean_file`, as in the
  /// CLR paper's CIFAR-10 runs) from both splits.
  TORCH_ARG(bool, subtract_mean) = false;
  /// The mean image to subtract, float CxHxW in raw 0..255 pixel units: pass
  /// the train split's `mean_image()` to the test split. Left undefined, it is
  /// computed from the train split's files (reading them for a test split).
  TORCH_ARG(torch::Tensor, mean_image);
  /// Random crop of the original size after zero padding by this many pixels
  /// per side (torchvision's `RandomCrop(size, padding)`), at most the
  /// image's smaller side; 0 is off. Train split only.
  TORCH_ARG(int64_t, crop_padding) = 0;
  /// Flip each image left-right with probability 1/2
  /// (`RandomHorizontalFlip()`). Train split only. Crop and flip draw from
  /// torch's default generator: `torch::manual_seed` makes them reproducible
  /// (with the data loader's default of 0 workers).
  TORCH_ARG(bool, horizontal_flip) = false;
};

namespace detail {

/// A whole split: uint8 NxCxHxW images and int64 N targets.
struct ImageSplit {
  torch::Tensor images;
  torch::Tensor targets;
};

/// The bytes of the file at `path`; `format` ("cifar", "idx") starts the
/// error message.
std::vector<uint8_t> read_file(const std::string& path, const char* format);

/// Checks that every value of the 1-D integer tensor `labels` is below
/// `classes`. Otherwise throws "<format>: <name>: <what> <value> at offset
/// <offset> is out of range, expected 0..<classes - 1>" for the first bad
/// label, whose byte offset in the file is `first_offset + index * stride`.
void check_label_range(const torch::Tensor& labels,
                       int64_t classes,
                       const char* format,
                       const std::string& name,
                       const char* what,
                       int64_t first_offset,
                       int64_t stride);

/// Mean over the first dimension of uint8 NxCxHxW images, as float CxHxW in
/// 0..255 units. Summed exactly in int64, a slice at a time, so a 50000-image
/// split never exists as one int64 or float copy.
torch::Tensor mean_image(const torch::Tensor& images);

/// Random crop (after zero padding by `padding`) and random left-right flip of
/// every image of a float NxCxHxW batch, as one gather. Draws from torch's
/// default generator: N row offsets, N column offsets (if padding > 0), then N
/// coin flips (if `flip`), so `torch::manual_seed` makes it reproducible.
torch::Tensor random_crop_flip(const torch::Tensor& batch,
                               int64_t padding,
                               bool flip);

/// uint8 NxCxHxW pixels to the float batch `options` asks for.
torch::Tensor prepare_batch(const torch::Tensor& pixels,
                            const torch::Tensor& mean,
                            const ImageDatasetOptions& options);

/// Checks `options` against the loaded split and returns the mean image to
/// subtract (undefined when `subtract_mean` is off). `train_images` loads the
/// train split's pixels; it is called only for a test split without a given
/// `mean_image`.
torch::Tensor resolve_mean_image(
    const char* name,
    const ImageDatasetOptions& options,
    const torch::Tensor& images,
    const std::function<torch::Tensor()>& train_images);

}  // namespace detail

/// Base of the image datasets: the whole split in one uint8 NxCxHxW tensor
/// (4x smaller than float: CIFAR-10's train split is 150 MB), converted to
/// float per batch. A `BatchDataset` whose `get_batch` returns one stacked
/// `Example` made by `index_select`, so `torch::data::make_data_loader(dataset,
/// options)` yields batches directly, without `Stack` and without stacking one
/// example at a time. (`Dataset<Self>::get_batch` must return a
/// `std::vector<Example<>>`, so a `Dataset` subclass could not do this.)
template <typename Self>
class ImageDataset
    : public torch::data::datasets::BatchDataset<Self, torch::data::Example<>> {
 public:
  /// The split to load, as `CIFAR10::Mode::kTest` (LibTorch's `MNIST::Mode`).
  using Mode = data::Mode;

  /// The example at `index`: float CxHxW data and a 0-dim int64 target,
  /// prepared as `get_batch` prepares a batch of one.
  torch::data::Example<> get(size_t index) {
    const size_t indices[] = {index};
    auto batch = get_batch(indices);
    return {batch.data[0], batch.target[0]};
  }

  /// The examples at `indices` as one float NxCxHxW batch and int64 N targets,
  /// gathered with `index_select` and prepared per `options()`.
  torch::data::Example<> get_batch(torch::ArrayRef<size_t> indices) override {
    const auto count = static_cast<size_t>(images_.size(0));
    auto index = torch::empty({static_cast<int64_t>(indices.size())},
                              torch::TensorOptions(torch::kLong));
    auto* index_data = index.data_ptr<int64_t>();
    for (size_t i = 0; i < indices.size(); ++i) {
      TORCH_CHECK(indices[i] < count,
                  name_,
                  ": index ",
                  indices[i],
                  " is out of range for ",
                  count,
                  " examples");
      index_data[i] = static_cast<int64_t>(indices[i]);
    }
    return {detail::prepare_batch(
                images_.index_select(0, index), mean_image_, options_),
            targets_.index_select(0, index)};
  }

  /// Number of examples in the split.
  torch::optional<size_t> size() const override {
    return static_cast<size_t>(images_.size(0));
  }

  /// True if this is the training split.
  bool is_train() const noexcept {
    return options_.mode() == Mode::kTrain;
  }

  /// The raw pixels of the whole split, uint8 NxCxHxW (LibTorch's MNIST holds
  /// floats here; `get_batch` gives the prepared floats).
  const torch::Tensor& images() const {
    return images_;
  }

  /// All targets, int64 N.
  const torch::Tensor& targets() const {
    return targets_;
  }

  /// The mean image subtracted from every batch, float CxHxW in 0..255 units;
  /// undefined unless `subtract_mean`. Pass it to the test split's options.
  const torch::Tensor& mean_image() const {
    return mean_image_;
  }

  /// The options the dataset was loaded with.
  const ImageDatasetOptions& options() const noexcept {
    return options_;
  }

 protected:
  /// `train_images` loads the train split's pixels, for the mean image of a
  /// test split.
  ImageDataset(const char* name,
               ImageDatasetOptions options,
               detail::ImageSplit split,
               const std::function<torch::Tensor()>& train_images)
      : name_(name),
        options_(std::move(options)),
        images_(std::move(split.images)),
        targets_(std::move(split.targets)) {
    TORCH_INTERNAL_ASSERT(images_.dim() == 4 &&
                          images_.scalar_type() == torch::kByte);
    TORCH_INTERNAL_ASSERT(targets_.dim() == 1 &&
                          targets_.size(0) == images_.size(0));
    mean_image_ =
        detail::resolve_mean_image(name_, options_, images_, train_images);
  }

 private:
  const char* name_;
  ImageDatasetOptions options_;
  torch::Tensor images_;
  torch::Tensor targets_;
  torch::Tensor mean_image_;
};

}  // namespace torchclr::data
