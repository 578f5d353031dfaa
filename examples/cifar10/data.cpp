#include "data.h"

#include <dlfcn.h>
#include <fmt/format.h>

#include <numeric>

#include "cli_checks.h"

namespace torchclr::examples {
namespace {

std::string default_dir(const std::string& dataset) {
  if (dataset == "cifar100") {
    return "data/cifar-100-binary";
  }
  return dataset == "fashion-mnist" ? "/usr/share/datasets/fashion-mnist"
                                    : "data/cifar-10-batches-bin";
}

template <typename Dataset>
std::pair<DataSplit, DataSplit> load_with(const DataFlags& flags,
                                          const std::string& dir) {
  using torchclr::data::ImageDatasetOptions;
  using torchclr::data::Mode;
  // Caffe feeds raw 0..255 pixels minus the mean image (no 1/255 scale); the
  // paper's learning rates and cifar10_full's 1e-4 init assume that range.
  Dataset train(ImageDatasetOptions(dir).to_unit_range(false).subtract_mean(
      flags.subtract_mean));
  auto test_options = ImageDatasetOptions(dir)
                          .mode(Mode::kTest)
                          .to_unit_range(false)
                          .subtract_mean(flags.subtract_mean);
  if (flags.subtract_mean) {
    test_options.mean_image(train.mean_image());
  }
  Dataset test(test_options);
  auto whole = [](Dataset& dataset, int64_t limit) {
    int64_t n = static_cast<int64_t>(*dataset.size());
    if (limit > 0) {
      n = std::min(n, limit);
    }
    std::vector<size_t> all(static_cast<size_t>(n));
    std::iota(all.begin(), all.end(), size_t{0});
    auto batch = dataset.get_batch(all);
    return DataSplit{batch.data, batch.target};
  };
  return {whole(train, flags.train_limit), whole(test, flags.test_limit)};
}

// Free memory of the current CUDA device in bytes, from the CUDA runtime
// that LibTorch loaded. Looked up at run time so that this file builds
// without the CUDA headers, against CPU-only LibTorch too; nullopt when the
// runtime is not found or fails.
std::optional<size_t> free_cuda_memory() {
  using MemGetInfo = int (*)(size_t*, size_t*);
  auto* mem_get_info =
      reinterpret_cast<MemGetInfo>(dlsym(RTLD_DEFAULT, "cudaMemGetInfo"));
  size_t free = 0, total = 0;
  if (mem_get_info == nullptr || mem_get_info(&free, &total) != 0) {
    return std::nullopt;
  }
  return free;
}

size_t bytes_of(const DataSplit& split) {
  return split.images.nbytes() + split.targets.nbytes();
}

DataSplit moved(const DataSplit& split, torch::Device device) {
  return {split.images.to(device), split.targets.to(device)};
}

DataSplit pinned(const DataSplit& split) {
  return {split.images.pin_memory(), split.targets.pin_memory()};
}

}  // namespace

std::pair<DataSplit, DataSplit> place_splits(DataSplit train,
                                             DataSplit test,
                                             torch::Device device,
                                             double device_share) {
  TORCH_CHECK(device_share >= 0 && device_share <= 1,
              "place_splits: device_share must be in [0, 1], got ",
              device_share);
  if (!device.is_cuda()) {
    return {std::move(train), std::move(test)};
  }
  // The model, its activations and the optimizer state need the rest.
  const double needed = static_cast<double>(bytes_of(train) + bytes_of(test));
  const auto free = free_cuda_memory();
  if (device_share > 0 &&
      (!free || needed <= device_share * static_cast<double>(*free))) {
    try {
      return {moved(train, device), moved(test, device)};
    } catch (const c10::Error&) {
      // Out of memory with no free-memory figure to go by: stay on the host.
    }
  }
  return {pinned(train), pinned(test)};
}

DataSplit DataSplit::first(int64_t count) const {
  if (count <= 0 || count >= size()) {
    return *this;
  }
  return {images.slice(0, 0, count), targets.slice(0, 0, count)};
}

void add_data_flags(CLI::App& app, DataFlags& flags) {
  app.add_option(
         "--dataset", flags.dataset, "cifar10, cifar100 or fashion-mnist")
      ->check(CLI::IsMember({"cifar10", "cifar100", "fashion-mnist"}))
      ->capture_default_str();
  app.add_option("--data",
                 flags.dir,
                 "Data folder (cifar10: data/cifar-10-batches-bin, cifar100: "
                 "data/cifar-100-binary, fashion-mnist: "
                 "/usr/share/datasets/fashion-mnist)");
  app.add_option("--subtract-mean", flags.subtract_mean)->capture_default_str();
  app.add_option(
         "--train-limit", flags.train_limit, "Use the first N images (0: all)")
      ->check(non_negative_number())
      ->capture_default_str();
  app.add_option("--test-limit",
                 flags.test_limit,
                 "Use the first N test images (0: all)")
      ->check(non_negative_number());
  app.add_option("--device", flags.device, "cpu, cuda or auto")
      ->check(CLI::IsMember({"cpu", "cuda", "auto"}))
      ->capture_default_str();
}

std::pair<DataSplit, DataSplit> load_data(const DataFlags& flags) {
  const std::string dir =
      flags.dir.empty() ? default_dir(flags.dataset) : flags.dir;
  auto [train, test] =
      flags.dataset == "fashion-mnist"
          ? load_with<torchclr::data::FashionMNIST>(flags, dir)
      : flags.dataset == "cifar100"
          ? load_with<torchclr::data::CIFAR100>(flags, dir)  // fine labels
          : load_with<torchclr::data::CIFAR10>(flags, dir);
  return place_splits(
      std::move(train), std::move(test), pick_device(flags.device));
}

torch::Device pick_device(const std::string& name) {
  if (name == "cuda") {
    TORCH_CHECK(torch::cuda::is_available(),
                "--device cuda was asked for, but no CUDA device is available "
                "(this LibTorch build or machine has none); use --device cpu");
    return torch::kCUDA;
  }
  if (name == "auto" && torch::cuda::is_available()) {
    return torch::kCUDA;
  }
  return torch::kCPU;
}

const std::vector<std::string>& augmentation_names() {
  static const std::vector<std::string> names = {"none", "flip", "pad-crop"};
  return names;
}

Augmentation augmentation_from_name(const std::string& name) {
  if (name == "none") {
    return Augmentation::kNone;
  }
  if (name == "flip") {
    return Augmentation::kFlip;
  }
  TORCH_CHECK(name == "pad-crop",
              "--augment: expected none, flip or pad-crop, got '",
              name,
              "'");
  return Augmentation::kPadCrop;
}

std::string augmentation_name(Augmentation augmentation) {
  switch (augmentation) {
    case Augmentation::kNone:
      return "none";
    case Augmentation::kFlip:
      return "flip";
    case Augmentation::kPadCrop:
      return "pad-crop";
  }
  TORCH_INTERNAL_ASSERT(false, "unknown Augmentation");
}

SplitBatches::SplitBatches(const DataSplit& split,
                           int64_t batch_size,
                           std::optional<uint64_t> seed,
                           Augmentation augmentation)
    : split_(split),
      batch_size_(batch_size),
      seed_(seed),
      augmentation_(seed ? augmentation : Augmentation::kNone),
      pinned_(split.images.is_pinned()) {
  TORCH_CHECK(!seed_ || split_.size() >= batch_size_,
              "the training split has ",
              split_.size(),
              " images, fewer than one batch of ",
              batch_size_);
}

int64_t SplitBatches::batches_per_epoch() const {
  return seed_ ? split_.size() / batch_size_
               : (split_.size() + batch_size_ - 1) / batch_size_;
}

torchclr::Batch SplitBatches::cut(int64_t begin, int64_t end) {
  if (!seed_) {
    // Views: pinned, or on the device, as the split is.
    return {split_.images.slice(0, begin, end),
            split_.targets.slice(0, begin, end)};
  }
  auto index = order_.slice(0, begin, end);
  if (!pinned_) {
    return {split_.images.index_select(0, index),
            split_.targets.index_select(0, index)};
  }
  // Gathered into pinned buffers, so that the copy to the device does not
  // block; the caching host allocator hands a buffer out again only once
  // the copy that read it is done.
  auto gather = [&](const torch::Tensor& from) {
    auto shape = from.sizes().vec();
    shape[0] = index.size(0);
    auto out = torch::empty(shape, from.options().pinned_memory(true));
    return torch::index_select_out(out, from, 0, index);
  };
  return {gather(split_.images), gather(split_.targets)};
}

torchclr::Batch SplitBatches::batch_at(int64_t iteration) {
  TORCH_INTERNAL_ASSERT(seed_, "batch_at needs a shuffled SplitBatches");
  const int64_t per_epoch = batches_per_epoch();
  const int64_t epoch = iteration / per_epoch;
  if (epoch != order_epoch_) {
    // Its own generator: the global one (model init, dropout) is untouched.
    auto generator = at::detail::createCPUGenerator(
        *seed_ * 1000003ULL + static_cast<uint64_t>(epoch));
    // Drawn on the CPU (the same order on every device), used where the
    // split is.
    order_ = torch::randperm(split_.size(), generator, torch::kLong)
                 .to(split_.images.device());
    order_epoch_ = epoch;
  }
  const int64_t begin = (iteration % per_epoch) * batch_size_;
  auto batch = cut(begin, begin + batch_size_);
  if (augmentation_ != Augmentation::kNone) {
    batch.input = augmented(batch.input, iteration);
  }
  return batch;
}

torch::Tensor SplitBatches::augmented(const torch::Tensor& images,
                                      int64_t iteration) const {
  constexpr int64_t kPad = 4;
  // Its own generator, as the epoch order's, apart from it by an odd offset.
  auto generator = at::detail::createCPUGenerator(
      *seed_ * 1000003ULL + 0x9e3779b97f4a7c15ULL +
      static_cast<uint64_t>(iteration));
  const int64_t n = images.size(0);
  if (augmentation_ == Augmentation::kFlip) {
    const auto flips = (torch::rand({n}, generator, torch::kFloat) < 0.5)
                           .view({n, 1, 1, 1})
                           .to(images.device());
    return torch::where(flips, images.flip({3}), images);
  }
  const int64_t height = images.size(2);
  const int64_t width = images.size(3);
  auto padded = torch::constant_pad_nd(images, {kPad, kPad, kPad, kPad}, 0);
  auto offsets =
      torch::randint(0, 2 * kPad + 1, {n, 2}, generator, torch::kLong);
  auto flips = torch::rand({n}, generator, torch::kFloat) < 0.5;
  auto offset = offsets.accessor<int64_t, 2>();
  auto flip = flips.accessor<bool, 1>();
  std::vector<torch::Tensor> out;
  out.reserve(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    auto image = padded[i]
                     .narrow(1, offset[i][0], height)
                     .narrow(2, offset[i][1], width);
    out.push_back(flip[i] ? image.flip({2}) : image);
  }
  return torch::stack(out);
}

std::optional<torchclr::Batch> SplitBatches::next() {
  if (pass_position_ == batches_per_epoch()) {
    pass_position_ = 0;
    return std::nullopt;
  }
  const int64_t position = pass_position_++;
  if (seed_) {
    // Pass p is epoch p of the shuffled sequence.
    if (position == 0) {
      ++pass_;
    }
    return batch_at(pass_ * batches_per_epoch() + position);
  }
  const int64_t begin = position * batch_size_;
  return cut(begin, std::min(split_.size(), begin + batch_size_));
}

}  // namespace torchclr::examples
