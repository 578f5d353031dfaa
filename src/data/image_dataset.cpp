#include <c10/util/Exception.h>
#include <torchclr/data/image_dataset.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <system_error>

namespace torchclr::data::detail {

std::vector<uint8_t> read_file(const std::string& path, const char* format) {
  std::error_code error;
  const auto size = std::filesystem::file_size(path, error);
  TORCH_CHECK(!error, format, ": cannot open ", path, ": ", error.message());
  std::vector<uint8_t> bytes(size);
  std::ifstream in(path, std::ios::binary);
  TORCH_CHECK(in, format, ": cannot open ", path, ": ", std::strerror(errno));
  in.read(reinterpret_cast<char*>(bytes.data()),
          static_cast<std::streamsize>(size));
  TORCH_CHECK(static_cast<uint64_t>(in.gcount()) == size,
              format,
              ": ",
              path,
              ": read error at offset ",
              in.gcount(),
              ", expected ",
              size,
              " bytes");
  return bytes;
}

torch::Tensor mean_image(const torch::Tensor& images) {
  constexpr int64_t kSlice = 4096;
  const int64_t count = images.size(0);
  auto sum = torch::zeros(images.sizes().slice(1), torch::kLong);
  for (int64_t start = 0; start < count; start += kSlice) {
    sum += images.narrow(0, start, std::min(kSlice, count - start))
               .to(torch::kLong)
               .sum(0);
  }
  return (sum.to(torch::kDouble) / static_cast<double>(count))
      .to(torch::kFloat);
}

torch::Tensor random_crop_flip(const torch::Tensor& batch,
                               int64_t padding,
                               bool flip) {
  const int64_t count = batch.size(0);
  const int64_t channels = batch.size(1);
  const int64_t height = batch.size(2);
  const int64_t width = batch.size(3);
  const auto longs = torch::TensorOptions(torch::kLong);
  auto source = batch;
  auto row_offset = torch::zeros({count, 1}, longs);
  auto column_offset = torch::zeros({count, 1}, longs);
  if (padding > 0) {
    source =
        torch::constant_pad_nd(batch, {padding, padding, padding, padding});
    row_offset = torch::randint(2 * padding + 1, {count, 1}, longs);
    column_offset = torch::randint(2 * padding + 1, {count, 1}, longs);
  }
  auto columns = torch::arange(width, longs).expand({count, width});
  if (flip) {
    const auto flipped = torch::randint(2, {count, 1}, longs).to(torch::kBool);
    columns = torch::where(flipped, (width - 1) - columns, columns);
  }
  const auto rows = row_offset + torch::arange(height, longs);
  columns = column_offset + columns;
  // out[n][c][y][x] = source[n][c][rows[n][y]][columns[n][x]], as one gather
  // over each image's flattened plane (4x faster than advanced indexing).
  const int64_t source_height = height + 2 * padding;
  const int64_t source_width = width + 2 * padding;
  const auto plane_index = (rows.view({count, height, 1}) * source_width +
                            columns.view({count, 1, width}))
                               .view({count, 1, height * width})
                               .expand({count, channels, height * width});
  return source.reshape({count, channels, source_height * source_width})
      .gather(2, plane_index)
      .view({count, channels, height, width});
}

torch::Tensor prepare_batch(const torch::Tensor& pixels,
                            const torch::Tensor& mean,
                            const ImageDatasetOptions& options) {
  auto batch = pixels.to(torch::kFloat);
  if (mean.defined()) {
    batch.sub_(mean);
  }
  if (options.to_unit_range()) {
    batch.div_(255);
  }
  if (options.crop_padding() > 0 || options.horizontal_flip()) {
    batch = random_crop_flip(
        batch, options.crop_padding(), options.horizontal_flip());
  }
  return batch;
}

torch::Tensor resolve_mean_image(
    const char* name,
    const ImageDatasetOptions& options,
    const torch::Tensor& images,
    const std::function<torch::Tensor()>& train_images) {
  TORCH_CHECK(options.crop_padding() >= 0,
              name,
              ": crop_padding must be >= 0, got ",
              options.crop_padding());
  TORCH_CHECK(
      options.mode() == Mode::kTrain ||
          (options.crop_padding() == 0 && !options.horizontal_flip()),
      name,
      ": crop_padding and horizontal_flip are train-time augmentation, but the options load the test split");
  TORCH_CHECK(
      images.size(0) > 0, name, ": ", options.root(), " holds no images");
  // More padding than the image is wide would crop mostly zeros.
  const int64_t smaller_side = std::min(images.size(2), images.size(3));
  TORCH_CHECK(options.crop_padding() <= smaller_side,
              name,
              ": crop_padding must be at most the image's smaller side (",
              smaller_side,
              "), got ",
              options.crop_padding());
  if (!options.subtract_mean()) {
    TORCH_CHECK(!options.mean_image().defined(),
                name,
                ": mean_image is set but subtract_mean is false");
    return {};
  }
  const auto image_shape = images.sizes().slice(1);
  if (options.mean_image().defined()) {
    const auto& mean = options.mean_image();
    TORCH_CHECK(mean.is_floating_point() && mean.sizes() == image_shape,
                name,
                ": mean_image must be a float tensor of shape ",
                image_shape,
                ", got ",
                mean.scalar_type(),
                " of shape ",
                mean.sizes());
    return mean.to(torch::kFloat).contiguous();
  }
  if (options.mode() == Mode::kTrain) {
    return mean_image(images);
  }
  const auto train = train_images();
  TORCH_CHECK(train.size(0) > 0,
              name,
              ": the train split under ",
              options.root(),
              " holds no images to take the mean image from");
  TORCH_CHECK(train.sizes().slice(1) == image_shape,
              name,
              ": train images of shape ",
              train.sizes().slice(1),
              " do not match test images of shape ",
              image_shape);
  return mean_image(train);
}

void check_label_range(const torch::Tensor& labels,
                       int64_t classes,
                       const char* format,
                       const std::string& name,
                       const char* what,
                       int64_t first_offset,
                       int64_t stride) {
  const auto bad = (labels >= classes).nonzero();
  if (bad.numel() == 0) {
    return;
  }
  const int64_t at = bad[0][0].item<int64_t>();
  TORCH_CHECK(false,
              format,
              ": ",
              name,
              ": ",
              what,
              " ",
              labels[at].item<int64_t>(),
              " at offset ",
              first_offset + at * stride,
              " is out of range, expected 0..",
              classes - 1);
}

}  // namespace torchclr::data::detail
