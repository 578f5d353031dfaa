#include "training_callbacks.h"

#include <fmt/format.h>
#include <torchclr/files.h>

#include <cmath>
#include <filesystem>

namespace torchclr::examples {

namespace fs = std::filesystem;

LossMeter::LossMeter(torch::Device device)
    : sum_(torch::zeros({}, torch::TensorOptions(device))) {}

void LossMeter::add(const torch::Tensor& loss) {
  sum_ += loss.detach();
  ++count_;
}

double LossMeter::mean(int64_t iteration) const {
  const double mean = sum_.item<double>() / static_cast<double>(count_);
  TORCH_CHECK(std::isfinite(mean),
              "training diverged: the loss is not finite by iteration ",
              iteration,
              " (lower the learning rate)");
  return mean;
}

void LossMeter::reset() {
  sum_.zero_();
  count_ = 0;
}

Stopwatch::Stopwatch(double seconds)
    : seconds_(seconds), started_(std::chrono::steady_clock::now()) {}

void Stopwatch::pause() {
  seconds_ +=
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started_)
          .count();
}

void Stopwatch::resume() {
  started_ = std::chrono::steady_clock::now();
}

DeviceBatches::DeviceBatches(const DataSplit& train, const TrainConfig& config)
    : global_(train, config.batch_size, config.seed, config.augmentation),
      share_(global_, config.job),
      device_(config.device) {}

torchclr::Batch DeviceBatches::batch_at(int64_t iteration) {
  const auto started = std::chrono::steady_clock::now();
  auto batch = share_.batch_at(iteration);
  torchclr::Batch on_device{batch.input.to(device_, /*non_blocking=*/true),
                            batch.target.to(device_, /*non_blocking=*/true)};
  seconds_ +=
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started)
          .count();
  return on_device;
}

double evaluate(Network& model, const DataSplit& test, torch::Device device) {
  torch::NoGradGuard no_grad;
  model.module->eval();
  // Counted on the device and read once: no wait for the device per batch.
  auto correct =
      torch::zeros({}, torch::TensorOptions(device).dtype(torch::kLong));
  SplitBatches batches(test, 1000, std::nullopt);
  while (auto batch = batches.next()) {
    auto predicted =
        model.forward(batch->input.to(device, /*non_blocking=*/true)).argmax(1);
    correct +=
        predicted.eq(batch->target.to(device, /*non_blocking=*/true)).sum();
  }
  model.module->train();
  return static_cast<double>(correct.item<int64_t>()) /
         static_cast<double>(test.size());
}

std::string digest(Network& model) {
  uint64_t hash = 1469598103934665603ULL;
  for (const auto& parameter : model.module->parameters()) {
    auto data = parameter.detach().cpu().contiguous();
    const auto* bytes = static_cast<const uint8_t*>(data.data_ptr());
    for (size_t i = 0; i < data.nbytes(); ++i) {
      hash = (hash ^ bytes[i]) * 1099511628211ULL;
    }
  }
  return fmt::format("{:016x}", hash);
}

void write_log(const std::string& out_dir, const std::vector<LogRow>& log) {
  torchclr::write_file_atomically(
      fs::path(out_dir) / "log.csv", log_csv(log), "--out");
}

// gnuplot takes a while to start: the plot is drawn once, at the end.
void write_plot(const std::string& out_dir, const std::string& label) {
  const std::string csv = (fs::path(out_dir) / "log.csv").string();
  const std::string png = (fs::path(out_dir) / "accuracy.png").string();
  const std::string script = fmt::format(
      "set terminal pngcairo size 800,400 noenhanced\n"
      "set datafile separator ','\n"
      "set title {0}\n"
      "set xlabel 'iteration'\nset ylabel 'test accuracy'\n"
      "set y2label 'learning rate'\nset y2tics\nset ytics nomirror\n"
      "set key bottom right\nset grid\n"
      "plot {1} every ::1 using 1:5 with linespoints title 'accuracy', "
      "'' every ::1 using 1:2 with lines axes x1y2 title 'lr'\n",
      gnuplot_quote(label + ": test accuracy and learning rate"),
      gnuplot_quote(csv));
  const auto plot = torchclr::render_gnuplot(script, png);
  if (plot.status != torchclr::PlotStatus::kWritten) {
    fmt::print(stderr, "note: no plot ({}); wrote {}\n", plot.message, csv);
  }
}

}  // namespace torchclr::examples
