#include "checkpoint.h"

#include <fmt/format.h>
#include <torchclr/files.h>

#include <sstream>

namespace torchclr::examples {
namespace {

torch::Tensor log_tensor(const std::vector<LogRow>& log) {
  std::vector<double> flat;
  for (const auto& row : log) {
    flat.insert(flat.end(),
                {static_cast<double>(row.iteration),
                 row.lr,
                 row.momentum,
                 row.train_loss,
                 row.test_accuracy,
                 row.seconds});
  }
  return torch::tensor(flat, torch::kFloat64).reshape({-1, 6});
}

std::vector<LogRow> log_rows(const torch::Tensor& tensor) {
  std::vector<LogRow> log;
  auto t = tensor.contiguous();
  for (int64_t i = 0; i < t.size(0); ++i) {
    auto r = t[i];
    log.push_back({static_cast<int64_t>(r[0].item<double>()),
                   r[1].item<double>(),
                   r[2].item<double>(),
                   r[3].item<double>(),
                   r[4].item<double>(),
                   r[5].item<double>()});
  }
  return log;
}

// The checkpoint's words for the model and, for the models with Caffe's
// BatchNorm, its settings.
std::string model_text(const RunSpec& spec) {
  if (!has_caffe_batch_norm(spec.model)) {
    return fmt::format("model={}", spec.model);
  }
  return fmt::format("model={};moving_average_fraction={};ghost_batch_size={}",
                     spec.model,
                     spec.batch_norm.moving_average_fraction,
                     spec.batch_norm.ghost_batch_size);
}

// Reads the required `key` into `value` (an IValue, a tensor or an archive).
template <typename Value>
void read_key(torch::serialize::InputArchive& archive,
              const char* key,
              Value& value) {
  TORCH_CHECK(archive.try_read(key, value),
              "it has no '",
              key,
              "' (it was not written by this version of cifar10_clr): start "
              "the run afresh");
}

// Refuses a checkpoint whose integer `key` (set by `flag`) is not `current`.
void expect_same(torch::serialize::InputArchive& archive,
                 const char* key,
                 const char* flag,
                 int64_t current) {
  c10::IValue value;
  read_key(archive, key, value);
  TORCH_CHECK(value.toInt() == current,
              "it was written with ",
              flag,
              " ",
              value.toInt(),
              ", not ",
              current);
}

// Refuses a checkpoint written for another run than `config`'s.
void check_same_run(torch::serialize::InputArchive& archive,
                    const TrainConfig& config,
                    const std::string& settings,
                    const RunState& state) {
  c10::IValue value;
  read_key(archive, "schedule", value);
  TORCH_CHECK(value.toStringRef() == state.schedule_text,
              "it was written with the schedule '",
              value.toStringRef(),
              "', this run has '",
              state.schedule_text,
              "'");
  read_key(archive, "optimizer_kind", value);
  TORCH_CHECK(value.toStringRef() == config.run.optimizer,
              "it was written with --optimizer ",
              value.toStringRef(),
              ", not ",
              config.run.optimizer);
  expect_same(archive, "iterations", "--iterations", config.iterations);
  expect_same(archive, "seed", "--seed", static_cast<int64_t>(config.seed));
  expect_same(archive, "batch_size", "--batch-size", config.batch_size);
  read_key(archive, "world_size", value);
  const int64_t saved_world_size = value.toInt();
  TORCH_CHECK(saved_world_size == config.job.size(),
              "it was written by a job of WORLD_SIZE ",
              saved_world_size,
              ", this one has ",
              config.job.size(),
              ": each process computes its share of every batch, and other "
              "shares sum the gradients in another order, so the run would "
              "not continue as the interrupted one would have (resume with "
              "WORLD_SIZE ",
              saved_world_size,
              ")");
  read_key(archive, "settings", value);
  TORCH_CHECK(value.isString() && value.toStringRef() == settings,
              "it was written with other settings: '",
              value,
              "', this run has '",
              settings,
              "'");
}

}  // namespace

std::string run_settings(const TrainConfig& config, const DataSplit& train) {
  const RunSpec& spec = config.run;
  const auto shape = train.images.sizes();
  return fmt::format(
      "lr={};swa_start={};swa_every={};optimizer={};{};augment={};"
      "momentum={};weight_decay={};eval_images={};train_images={}",
      spec.lr,
      config.swa.start,
      config.swa.every,
      spec.optimizer,
      model_text(spec),
      augmentation_name(config.augmentation),
      spec.momentum,
      spec.weight_decay,
      config.eval_images,
      fmt::join(shape.begin(), shape.end(), "x"));
}

void save_checkpoint(const TrainConfig& config,
                     const std::string& settings,
                     const RunState& state,
                     int64_t iteration) {
  torch::serialize::OutputArchive archive;
  torch::serialize::OutputArchive model_archive, optimizer_archive,
      scheduler_archive;
  state.run.model.module->save(model_archive);
  state.run.optimizer->save(optimizer_archive);
  state.run.scheduler->save(scheduler_archive);
  archive.write("model", model_archive);
  archive.write("optimizer", optimizer_archive);
  archive.write("scheduler", scheduler_archive);
  archive.write("iteration", c10::IValue(iteration));
  archive.write("schedule", c10::IValue(state.schedule_text));
  archive.write("optimizer_kind", c10::IValue(config.run.optimizer));
  archive.write("iterations", c10::IValue(config.iterations));
  archive.write("seed", c10::IValue(static_cast<int64_t>(config.seed)));
  archive.write("batch_size", c10::IValue(config.batch_size));
  archive.write("world_size", c10::IValue(config.job.size()));
  archive.write("settings", c10::IValue(settings));
  archive.write("log", log_tensor(state.log));
  if (state.swa != nullptr) {
    torch::serialize::OutputArchive swa_archive;
    state.swa->save(swa_archive);
    archive.write("swa", swa_archive);
  }
  std::ostringstream bytes;
  archive.save_to(bytes);
  torchclr::write_file_atomically(
      config.output.checkpoint, bytes.str(), "--checkpoint");
}

int64_t resume(const TrainConfig& config,
               const std::string& settings,
               RunState& state) {
  torch::serialize::InputArchive archive;
  archive.load_from(config.output.checkpoint);
  check_same_run(archive, config, settings, state);
  c10::IValue value;
  read_key(archive, "iteration", value);
  const int64_t iteration = value.toInt();
  TORCH_CHECK(iteration >= 0 && iteration <= config.iterations,
              "bad iteration ",
              iteration);
  torch::serialize::InputArchive model_archive, optimizer_archive,
      scheduler_archive;
  read_key(archive, "model", model_archive);
  read_key(archive, "optimizer", optimizer_archive);
  read_key(archive, "scheduler", scheduler_archive);
  state.run.model.module->load(model_archive);
  state.run.optimizer->load(optimizer_archive);
  state.run.scheduler->load(scheduler_archive);
  torch::Tensor saved_log;
  read_key(archive, "log", saved_log);
  state.log = log_rows(saved_log);
  if (state.swa != nullptr) {
    torch::serialize::InputArchive swa_archive;
    read_key(archive, "swa", swa_archive);
    state.swa->load(swa_archive);
  }
  return iteration;
}

}  // namespace torchclr::examples
