// libFuzzer target for detail::parse_cifar_records, the code the CIFAR10 and
// CIFAR100 file readers run on each file's bytes.
//
// Input: one byte choosing the layout (even: CIFAR-10, odd: CIFAR-100), then
// the file. A c10::Error is the expected answer to a damaged file; any other
// exception, a sanitizer report, or a parse that disagrees with the input
// bytes is a crash.

#include <ATen/Parallel.h>
#include <c10/util/Exception.h>
#include <torchclr/data/cifar.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace {

void require(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "cifar_fuzz: invariant failed: %s\n", what);
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
  at::set_num_threads(1);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using torchclr::data::detail::CIFARFormat;
  using torchclr::data::detail::kCIFARImageBytes;
  if (size == 0) {
    return 0;
  }
  const bool cifar100 = data[0] % 2 == 1;
  const uint8_t* file = data + 1;
  const size_t file_size = size - 1;
  torchclr::data::detail::CIFARRecords records;
  try {
    records = torchclr::data::detail::parse_cifar_records(
        file,
        file_size,
        cifar100 ? CIFARFormat::kCIFAR100 : CIFARFormat::kCIFAR10,
        "fuzz input");
  } catch (const c10::Error&) {
    return 0;
  }

  const int64_t label_bytes = cifar100 ? 2 : 1;
  const auto record = static_cast<size_t>(label_bytes + kCIFARImageBytes);
  require(file_size > 0 && file_size % record == 0, "accepted a bad size");
  const auto count = static_cast<int64_t>(file_size / record);
  require(records.images.sizes() == c10::IntArrayRef({count, 3, 32, 32}),
          "images shape");
  require(records.images.scalar_type() == at::kByte, "images dtype");
  require(records.images.is_contiguous(), "images contiguous");
  require(records.labels.sizes() == c10::IntArrayRef({count, label_bytes}),
          "labels shape");
  require(records.labels.scalar_type() == at::kLong, "labels dtype");
  const int64_t classes[2][2] = {{10, 0}, {20, 100}};
  const auto labels = records.labels.accessor<int64_t, 2>();
  const auto* pixels = records.images.data_ptr<uint8_t>();
  for (int64_t k = 0; k < count; ++k) {
    const uint8_t* in = file + k * record;
    for (int64_t j = 0; j < label_bytes; ++j) {
      require(labels[k][j] == in[j], "label differs from its byte");
      require(labels[k][j] < classes[cifar100][j], "label out of range");
    }
    require(std::memcmp(pixels + k * kCIFARImageBytes,
                        in + label_bytes,
                        kCIFARImageBytes) == 0,
            "pixels differ from their bytes");
  }
  return 0;
}
