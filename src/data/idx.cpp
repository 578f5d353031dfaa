#include <c10/util/Exception.h>
#include <torchclr/data/idx.h>
#include <zlib.h>

#include <algorithm>
#include <climits>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <memory>
#include <utility>

namespace torchclr::data {
namespace {

constexpr size_t kMagicBytes = 4;
constexpr size_t kDimensionBytes = 4;
// deflate cannot expand data by more than about 1032:1.
constexpr size_t kMaxDeflateRatio = 1032;

std::string hex32(uint32_t value) {
  char text[16];
  std::snprintf(text, sizeof(text), "0x%08x", value);
  return text;
}

uint32_t big_endian32(const uint8_t* bytes) {
  return static_cast<uint32_t>(bytes[0]) << 24 |
         static_cast<uint32_t>(bytes[1]) << 16 |
         static_cast<uint32_t>(bytes[2]) << 8 | static_cast<uint32_t>(bytes[3]);
}

uint32_t little_endian32(const uint8_t* bytes) {
  return static_cast<uint32_t>(bytes[3]) << 24 |
         static_cast<uint32_t>(bytes[2]) << 16 |
         static_cast<uint32_t>(bytes[1]) << 8 | static_cast<uint32_t>(bytes[0]);
}

std::string decoded_name(const uint8_t* data,
                         size_t size,
                         const std::string& path) {
  return detail::is_gzip(data, size) ? path + " (decompressed)" : path;
}

// The plain file if it exists, else the .gz one.
std::string find_idx_file(const std::string& root, const std::string& stem) {
  const std::string plain = (std::filesystem::path(root) / stem).string();
  const std::string gzip = plain + ".gz";
  std::error_code error;
  if (std::filesystem::exists(plain, error)) {
    return plain;
  }
  TORCH_CHECK(std::filesystem::exists(gzip, error),
              "idx: found neither ",
              plain,
              " nor ",
              gzip);
  return gzip;
}

struct IdxFile {
  torch::Tensor values;
  std::string name;  // path, plus "(decompressed)" for gzip
};

IdxFile read_idx(const std::string& root,
                 const std::string& stem,
                 uint32_t magic) {
  const std::string path = find_idx_file(root, stem);
  const auto bytes = detail::read_file(path, "idx");
  return {detail::decode_idx(bytes.data(), bytes.size(), magic, path),
          decoded_name(bytes.data(), bytes.size(), path)};
}

std::string prefix(Mode mode) {
  return mode == Mode::kTrain ? "train" : "t10k";
}

detail::ImageSplit read_mnist(const std::string& root, Mode mode) {
  const auto images = read_idx(
      root, prefix(mode) + "-images-idx3-ubyte", detail::kIdxImagesMagic);
  const auto labels = read_idx(
      root, prefix(mode) + "-labels-idx1-ubyte", detail::kIdxLabelsMagic);
  return detail::make_idx_split(
      images.values, labels.values, images.name, labels.name);
}

}  // namespace

namespace detail {

bool is_gzip(const uint8_t* data, size_t size) {
  return size >= 2 && data[0] == 0x1f && data[1] == 0x8b;
}

std::vector<uint8_t> gunzip(const uint8_t* data,
                            size_t size,
                            const std::string& name) {
  z_stream stream{};
  // 16 + MAX_WBITS: a gzip wrapper, whose CRC and length inflate checks.
  TORCH_CHECK(inflateInit2(&stream, 16 + MAX_WBITS) == Z_OK,
              "idx: ",
              name,
              ": cannot start zlib: ",
              stream.msg ? stream.msg : "out of memory");
  const std::unique_ptr<z_stream, int (*)(z_streamp)> guard(&stream,
                                                            inflateEnd);

  // The trailer's ISIZE (length mod 2^32) is a good first guess at the output
  // size; clamped, since a damaged file can claim anything.
  size_t guess = size >= 4 ? little_endian32(data + size - 4) : 0;
  guess = std::min(std::max(guess, size), kMaxDeflateRatio * size + 4096);
  std::vector<uint8_t> out(std::max<size_t>(guess, 1));
  size_t in_pos = 0;
  size_t out_pos = 0;
  while (true) {
    if (out_pos == out.size()) {
      out.resize(out.size() * 2);
    }
    stream.next_in = const_cast<Bytef*>(data + in_pos);
    stream.avail_in =
        static_cast<uInt>(std::min<size_t>(size - in_pos, UINT_MAX));
    stream.next_out = out.data() + out_pos;
    stream.avail_out =
        static_cast<uInt>(std::min<size_t>(out.size() - out_pos, UINT_MAX));
    const int status = inflate(&stream, Z_NO_FLUSH);
    in_pos = static_cast<size_t>(stream.next_in - data);
    out_pos = static_cast<size_t>(stream.next_out - out.data());
    if (status == Z_STREAM_END) {
      if (in_pos == size) {
        break;
      }
      // Concatenated members make one file (as gzip(1) reads them).
      TORCH_CHECK(is_gzip(data + in_pos, size - in_pos),
                  "idx: ",
                  name,
                  ": ",
                  size - in_pos,
                  " unexpected bytes after the gzip stream at offset ",
                  in_pos,
                  ", expected the end of the file or another gzip member");
      TORCH_CHECK(
          inflateReset(&stream) == Z_OK, "idx: ", name, ": zlib reset failed");
      continue;
    }
    TORCH_CHECK(status != Z_BUF_ERROR || in_pos < size,
                "idx: ",
                name,
                ": gzip stream truncated at offset ",
                in_pos,
                ": expected more compressed data before its end");
    // Z_BUF_ERROR with input left over and room to write is no progress at
    // all; reported like corrupt data rather than looping.
    TORCH_CHECK(
        status == Z_OK || (status == Z_BUF_ERROR && out_pos == out.size()),
        "idx: ",
        name,
        ": corrupt gzip data at offset ",
        in_pos,
        ": ",
        stream.msg ? stream.msg : "zlib error " + std::to_string(status));
  }
  out.resize(out_pos);
  return out;
}

torch::Tensor parse_idx(const uint8_t* data,
                        size_t size,
                        uint32_t expected_magic,
                        const std::string& name) {
  const size_t dimensions = expected_magic & 0xff;
  const char* item = expected_magic == kIdxImagesMagic   ? "image"
                     : expected_magic == kIdxLabelsMagic ? "label"
                                                         : "item";
  TORCH_CHECK(size >= kMagicBytes,
              "idx: ",
              name,
              ": truncated at offset 0: expected a 4-byte magic number, found ",
              size,
              " bytes");
  const uint32_t magic = big_endian32(data);
  TORCH_CHECK(magic == expected_magic,
              "idx: ",
              name,
              ": bad magic ",
              hex32(magic),
              " at offset 0, expected ",
              hex32(expected_magic),
              " (unsigned bytes, ",
              dimensions,
              " dimensions)");
  const size_t header = kMagicBytes + kDimensionBytes * dimensions;
  TORCH_CHECK(size >= header,
              "idx: ",
              name,
              ": truncated at offset ",
              kMagicBytes,
              ": expected ",
              header - kMagicBytes,
              " bytes of dimension sizes, found ",
              size - kMagicBytes);

  // Tensor sizes and strides are int64_t: an item of more than 2^63 - 1 bytes
  // cannot be held even when the file has no items at all.
  constexpr size_t kMaxBytes = std::numeric_limits<int64_t>::max();
  std::vector<int64_t> shape(dimensions);
  size_t item_bytes = 1;
  for (size_t d = 0; d < dimensions; ++d) {
    const uint32_t extent =
        big_endian32(data + kMagicBytes + kDimensionBytes * d);
    shape[d] = extent;
    if (d == 0) {
      continue;
    }
    const size_t offset = kMagicBytes + kDimensionBytes * d;
    TORCH_CHECK(extent > 0,
                "idx: ",
                name,
                ": dimension ",
                d,
                " at offset ",
                offset,
                " is 0, expected >= 1");
    const bool too_big =
        __builtin_mul_overflow(item_bytes, size_t{extent}, &item_bytes) ||
        item_bytes > kMaxBytes;
    TORCH_CHECK(!too_big,
                "idx: ",
                name,
                ": dimension ",
                d,
                " at offset ",
                offset,
                " makes one ",
                item,
                " more than 2^63 - 1 bytes, expected a size a tensor can hold");
  }
  const size_t count = dimensions > 0 ? static_cast<size_t>(shape[0]) : 1;
  size_t total = 0;
  const bool overflow =
      __builtin_mul_overflow(item_bytes, count, &total) || total > kMaxBytes;
  const size_t available = size - header;
  if (overflow || available < total) {
    // Name the first item that is not all there.
    const size_t complete = available / item_bytes;
    const size_t at = header + complete * item_bytes;
    TORCH_CHECK(false,
                "idx: ",
                name,
                ": truncated at offset ",
                at,
                ": expected ",
                item_bytes,
                " more bytes for ",
                item,
                " ",
                complete,
                " of ",
                count,
                ", found ",
                size - at);
  }
  TORCH_CHECK(available == total,
              "idx: ",
              name,
              ": ",
              available - total,
              " unexpected bytes at offset ",
              header + total,
              ", expected the file to end after ",
              count,
              " ",
              item,
              "s");
  return torch::from_blob(
             const_cast<uint8_t*>(data + header), shape, torch::kByte)
      .clone();
}

torch::Tensor decode_idx(const uint8_t* data,
                         size_t size,
                         uint32_t expected_magic,
                         const std::string& name) {
  if (!is_gzip(data, size)) {
    return parse_idx(data, size, expected_magic, name);
  }
  const auto plain = gunzip(data, size, name);
  return parse_idx(plain.data(),
                   plain.size(),
                   expected_magic,
                   decoded_name(data, size, name));
}

ImageSplit make_idx_split(const torch::Tensor& images,
                          const torch::Tensor& labels,
                          const std::string& images_name,
                          const std::string& labels_name) {
  TORCH_INTERNAL_ASSERT(images.dim() == 3 && labels.dim() == 1);
  TORCH_CHECK(images.size(0) == labels.size(0),
              "idx: ",
              images_name,
              " holds ",
              images.size(0),
              " images but ",
              labels_name,
              " holds ",
              labels.size(0),
              " labels, expected one label per image");
  const auto targets = labels.to(torch::kLong);
  check_label_range(targets,
                    kMNISTClasses,
                    "idx",
                    labels_name,
                    "label",
                    static_cast<int64_t>(kMagicBytes + kDimensionBytes),
                    1);
  return {images.unsqueeze(1), targets};
}

}  // namespace detail

MNIST::MNIST(const std::string& root, Mode mode)
    : MNIST(ImageDatasetOptions(root).mode(mode)) {}

MNIST::MNIST(ImageDatasetOptions options)
    : ImageDataset(
          "MNIST", options, read_mnist(options.root(), options.mode()), [&] {
            return read_idx(options.root(),
                            "train-images-idx3-ubyte",
                            detail::kIdxImagesMagic)
                .values.unsqueeze(1);
          }) {}

}  // namespace torchclr::data
