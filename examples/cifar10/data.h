#pragma once

// The data of cifar10_clr: a whole split in memory, the flags that choose it,
// and the one batcher every experiment draws its batches from.

#include <torchclr/torchclr.h>

#include <CLI/CLI.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace torchclr::examples {

/// What happens to each training image before a batch is handed out.
enum class Augmentation {
  kNone,
  /// Mirrored left-right with probability 1/2, nothing else: Caffe's data
  /// layer with mirror: true and crop_size equal to the image size, as the
  /// super-convergence files have it (crop_size 32 on 32x32 crops nothing).
  kFlip,
  /// Padded by 4 zeros (the mean, after mean subtraction), cropped back at a
  /// random offset and flipped with probability 1/2: He et al.'s CIFAR
  /// augmentation.
  kPadCrop,
};

/// Names accepted by --augment: none, flip and pad-crop.
const std::vector<std::string>& augmentation_names();
/// The Augmentation `name` stands for; throws naming it when unknown.
Augmentation augmentation_from_name(const std::string& name);
/// The name of `augmentation`, as --augment takes it.
std::string augmentation_name(Augmentation augmentation);

/// A whole split in memory: float images NxCxHxW and int64 labels N.
struct DataSplit {
  torch::Tensor images;
  torch::Tensor targets;

  int64_t size() const {
    return images.size(0);
  }
  /// The first `count` images (all of them when `count` is 0 or larger).
  DataSplit first(int64_t count) const;
};

/// Which data set, where, and how much of it.
struct DataFlags {
  std::string dataset = "cifar10";
  std::string dir;              ///< empty: the data set's usual folder
  bool subtract_mean = true;    ///< Caffe's mean image, as in the paper
  int64_t train_limit = 0;      ///< use the first N training images (0: all)
  int64_t test_limit = 0;       ///< use the first N test images (0: all)
  std::string device = "auto";  ///< cpu, cuda or auto
};

/// Registers --dataset, --data, --subtract-mean, --train-limit, --test-limit
/// and --device on `app`.
void add_data_flags(CLI::App& app, DataFlags& flags);

/// The training and test splits `flags` name, as Caffe feeds them: raw
/// 0..255 pixels minus the training split's mean image, placed for the
/// device --device picks (`place_splits`).
std::pair<DataSplit, DataSplit> load_data(const DataFlags& flags);

/// Where the splits live while a run on `device` reads them: on a CUDA
/// device when both together take at most `device_share` of its free memory
/// (no batch is ever copied from the host then), else in pinned host memory
/// (batches are cut into pinned buffers and copied without blocking).
/// Unchanged for the CPU.
std::pair<DataSplit, DataSplit> place_splits(DataSplit train,
                                             DataSplit test,
                                             torch::Device device,
                                             double device_share = 0.5);

/// The device --device names; throws when CUDA is asked for but missing.
torch::Device pick_device(const std::string& name);

/// Batches of one split. Shuffled: each epoch is a permutation drawn from
/// (seed, epoch) alone and holds whole batches only, so batch k of a run is
/// the same whether or not the run was resumed. In order: the whole split,
/// the last batch possibly smaller. Also a `BatchSource` for the range test.
class SplitBatches final : public torchclr::BatchSource {
 public:
  /// `seed` empty: in order. The split must outlive this object; batches
  /// are on its device (in pinned memory when it is pinned). Shuffled
  /// batches are augmented as `augmentation` says, with draws from
  /// (seed, iteration) alone so a resumed run sees the same batches.
  SplitBatches(const DataSplit& split,
               int64_t batch_size,
               std::optional<uint64_t> seed,
               Augmentation augmentation = Augmentation::kNone);

  /// Batch number `iteration` (from 0) of the endless shuffled sequence.
  torchclr::Batch batch_at(int64_t iteration);
  /// The next batch of the current pass; empty at its end.
  std::optional<torchclr::Batch> next() override;

  int64_t batches_per_epoch() const;

 private:
  torchclr::Batch cut(int64_t begin, int64_t end);
  torch::Tensor augmented(const torch::Tensor& images, int64_t iteration) const;

  const DataSplit& split_;
  int64_t batch_size_;
  std::optional<uint64_t> seed_;
  Augmentation augmentation_;
  bool pinned_;
  torch::Tensor order_;
  int64_t order_epoch_ = -1;
  int64_t pass_ = -1;
  int64_t pass_position_ = 0;
};

}  // namespace torchclr::examples
