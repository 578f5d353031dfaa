#include <c10/util/Exception.h>
#include <torchclr/data/cifar.h>

#include <filesystem>
#include <utility>
#include <vector>

namespace torchclr::data {
namespace {

constexpr int64_t kCIFAR10TrainBatches = 5;

detail::CIFARRecords read_records(const std::string& root,
                                  const std::string& file,
                                  detail::CIFARFormat format) {
  const std::string path = (std::filesystem::path(root) / file).string();
  const auto bytes = detail::read_file(path, "cifar");
  return detail::parse_cifar_records(bytes.data(), bytes.size(), format, path);
}

detail::CIFARRecords read_cifar10(const std::string& root, Mode mode) {
  if (mode == Mode::kTest) {
    return read_records(root, "test_batch.bin", detail::CIFARFormat::kCIFAR10);
  }
  std::vector<torch::Tensor> images;
  std::vector<torch::Tensor> labels;
  for (int64_t batch = 1; batch <= kCIFAR10TrainBatches; ++batch) {
    auto records = read_records(root,
                                "data_batch_" + std::to_string(batch) + ".bin",
                                detail::CIFARFormat::kCIFAR10);
    images.push_back(std::move(records.images));
    labels.push_back(std::move(records.labels));
  }
  return {torch::cat(images), torch::cat(labels)};
}

detail::CIFARRecords read_cifar100(const std::string& root, Mode mode) {
  return read_records(root,
                      mode == Mode::kTrain ? "train.bin" : "test.bin",
                      detail::CIFARFormat::kCIFAR100);
}

}  // namespace

namespace detail {

CIFARRecords parse_cifar_records(const uint8_t* data,
                                 size_t size,
                                 CIFARFormat format,
                                 const std::string& name) {
  const bool cifar100 = format == CIFARFormat::kCIFAR100;
  const int64_t label_bytes = cifar100 ? 2 : 1;
  const auto record = static_cast<size_t>(label_bytes + kCIFARImageBytes);
  TORCH_CHECK(size > 0,
              "cifar: ",
              name,
              ": empty file, expected records of ",
              record,
              " bytes");
  const size_t whole = size / record * record;
  TORCH_CHECK(size == whole,
              "cifar: ",
              name,
              ": size ",
              size,
              " is not a multiple of the ",
              record,
              "-byte record: truncated at offset ",
              whole,
              ", expected ",
              record - (size - whole),
              " more bytes");
  const auto count = static_cast<int64_t>(size / record);
  // A view of the caller's bytes; everything returned is a copy.
  const auto records = torch::from_blob(const_cast<uint8_t*>(data),
                                        {count, static_cast<int64_t>(record)},
                                        torch::kByte);
  auto labels = records.narrow(1, 0, label_bytes).to(torch::kLong);

  struct LabelKind {
    const char* what;
    int64_t classes;
  };
  const std::vector<LabelKind> kinds =
      cifar100
          ? std::vector<LabelKind>{{"coarse label", 20}, {"fine label", 100}}
          : std::vector<LabelKind>{{"label", 10}};
  for (int64_t column = 0; column < label_bytes; ++column) {
    check_label_range(labels.select(1, column),
                      kinds[column].classes,
                      "cifar",
                      name,
                      kinds[column].what,
                      column,
                      static_cast<int64_t>(record));
  }
  auto images = records.narrow(1, label_bytes, kCIFARImageBytes)
                    .clone(at::MemoryFormat::Contiguous)
                    .view({count, 3, 32, 32});
  return {std::move(images), std::move(labels)};
}

}  // namespace detail

CIFAR10::CIFAR10(const std::string& root, Mode mode)
    : CIFAR10(ImageDatasetOptions(root).mode(mode)) {}

CIFAR10::CIFAR10(ImageDatasetOptions options)
    : ImageDataset(
          "CIFAR10",
          options,
          [&] {
            auto records = read_cifar10(options.root(), options.mode());
            return detail::ImageSplit{std::move(records.images),
                                      records.labels.select(1, 0).contiguous()};
          }(),
          [&] { return read_cifar10(options.root(), Mode::kTrain).images; }) {}

struct CIFAR100::Loaded {
  torch::Tensor images;
  torch::Tensor coarse;
  torch::Tensor fine;
};

CIFAR100::CIFAR100(const std::string& root, Mode mode, CIFAR100Labels labels)
    : CIFAR100(ImageDatasetOptions(root).mode(mode), labels) {}

CIFAR100::CIFAR100(ImageDatasetOptions options, CIFAR100Labels labels)
    : CIFAR100(options, labels, [&] {
        auto records = read_cifar100(options.root(), options.mode());
        return Loaded{std::move(records.images),
                      records.labels.select(1, 0).contiguous(),
                      records.labels.select(1, 1).contiguous()};
      }()) {}

CIFAR100::CIFAR100(ImageDatasetOptions options,
                   CIFAR100Labels labels,
                   Loaded loaded)
    : ImageDataset(
          "CIFAR100",
          options,
          {loaded.images,
           labels == CIFAR100Labels::kFine ? loaded.fine : loaded.coarse},
          [&] { return read_cifar100(options.root(), Mode::kTrain).images; }),
      label_type_(labels),
      fine_targets_(std::move(loaded.fine)),
      coarse_targets_(std::move(loaded.coarse)) {}

}  // namespace torchclr::data
