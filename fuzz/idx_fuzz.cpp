// libFuzzer target for detail::decode_idx (gzip detection, inflate, IDX
// parsing) and detail::make_idx_split, the code the MNIST file readers run on
// each file's bytes.
//
// Input: one byte choosing what the rest is, mod 3: 0 an images file, 1 a
// labels file, 2 both, split where the next two bytes (little-endian, mod the
// length left) say. Files may be plain or gzip. A c10::Error is the expected
// answer to a damaged file; any other exception, a sanitizer report, or a
// result that disagrees with the input bytes is a crash.

#include <ATen/Parallel.h>
#include <c10/util/Exception.h>
#include <torchclr/data/idx.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace {

using torchclr::data::detail::kIdxImagesMagic;
using torchclr::data::detail::kIdxLabelsMagic;

void require(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "idx_fuzz: invariant failed: %s\n", what);
    std::abort();
  }
}

uint32_t big_endian32(const uint8_t* bytes) {
  return static_cast<uint32_t>(bytes[0]) << 24 |
         static_cast<uint32_t>(bytes[1]) << 16 |
         static_cast<uint32_t>(bytes[2]) << 8 | static_cast<uint32_t>(bytes[3]);
}

// Decodes one file and checks an accepted one against its bytes.
at::Tensor decode_checked(const uint8_t* data, size_t size, uint32_t magic) {
  auto values =
      torchclr::data::detail::decode_idx(data, size, magic, "fuzz input");
  // decode_idx succeeded, so gunzip does too and gives the plain file.
  std::vector<uint8_t> plain(data, data + size);
  if (torchclr::data::detail::is_gzip(data, size)) {
    plain = torchclr::data::detail::gunzip(data, size, "fuzz input");
  }
  const size_t dims = magic & 0xff;
  const size_t header = 4 + 4 * dims;
  require(plain.size() >= header, "accepted a short header");
  require(big_endian32(plain.data()) == magic, "accepted a bad magic");
  require(values.dim() == static_cast<int64_t>(dims), "rank");
  require(values.scalar_type() == at::kByte, "dtype");
  require(values.is_contiguous(), "contiguous");
  for (size_t d = 0; d < dims; ++d) {
    require(values.size(d) == big_endian32(plain.data() + 4 + 4 * d),
            "shape differs from the header");
  }
  require(plain.size() - header == static_cast<size_t>(values.numel()),
          "accepted a wrong body size");
  require(values.numel() == 0 || std::memcmp(values.data_ptr<uint8_t>(),
                                             plain.data() + header,
                                             values.numel()) == 0,
          "values differ from their bytes");
  return values;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
  at::set_num_threads(1);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) {
    return 0;
  }
  const int what = data[0] % 3;
  try {
    if (what == 0) {
      decode_checked(data + 1, size - 1, kIdxImagesMagic);
    } else if (what == 1) {
      decode_checked(data + 1, size - 1, kIdxLabelsMagic);
    } else {
      if (size < 3) {
        return 0;
      }
      const size_t rest = size - 3;
      const size_t split =
          rest == 0 ? 0 : (data[1] | static_cast<size_t>(data[2]) << 8) % rest;
      const auto images = decode_checked(data + 3, split, kIdxImagesMagic);
      const auto labels =
          decode_checked(data + 3 + split, rest - split, kIdxLabelsMagic);
      const auto pair =
          torchclr::data::detail::make_idx_split(images, labels, "a", "b");
      require(pair.images.dim() == 4 && pair.images.size(1) == 1, "images");
      require(at::equal(pair.images.squeeze(1), images), "images changed");
      require(pair.targets.scalar_type() == at::kLong, "targets dtype");
      require(pair.targets.size(0) == images.size(0), "target count");
      require(pair.targets.numel() == 0 ||
                  pair.targets.max().item<int64_t>() <
                      torchclr::data::detail::kMNISTClasses,
              "target out of range");
      require(at::equal(pair.targets, labels.to(at::kLong)), "targets");
    }
  } catch (const c10::Error&) {
    return 0;
  }
  return 0;
}
