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

// The checkpoint's words for `augmentation`.
std::string augmentation_text(Augmentation augmentation) {
  switch (augmentation) {
    case Augmentation::kNone:
      return "";
    case Augmentation::kFlip:
      return "augment=flip;";
    case Augmentation::kPadCrop:
      return "augment=1;";
  }
  TORCH_INTERNAL_ASSERT(false, "unknown Augmentation");
}

// The checkpoint's words for the model (none for cifar10_full, so that
// checkpoints written before --model existed still resume).
std::string model_text(const TrainConfig& config) {
  if (config.run.model == "cifar10_full") {
    return "";
  }
  if (!has_caffe_batch_norm(config.run.model)) {
    return fmt::format("model={};", config.run.model);
  }
  return fmt::format("model={};moving_average_fraction={};ghost_batch_size={};",
                     config.run.model,
                     config.run.batch_norm.moving_average_fraction,
                     config.run.batch_norm.ghost_batch_size);
}

}  // namespace

std::string run_settings(const TrainConfig& config, const DataSplit& train) {
  const auto shape = train.images.sizes();
  // The optimizer joins the text only when not SGD, so checkpoints written
  // before --optimizer existed still resume; so do the model and --augment
  // (pad-crop keeps the text it had when --augment was a flag).
  return fmt::format(
      "lr={};{}{}{}{}momentum={};weight_decay={};eval_images={};"
      "train_images={}",
      config.run.lr,
      config.swa.start > 0 ? fmt::format("swa_start={};swa_every={};",
                                         config.swa.start,
                                         config.swa.every)
                           : std::string(),
      config.run.optimizer == "sgd"
          ? std::string()
          : fmt::format("optimizer={};", config.run.optimizer),
      model_text(config),
      augmentation_text(config.augmentation),
      config.run.momentum,
      config.run.weight_decay,
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
  if (!state.log.empty()) {
    archive.write("log", log_tensor(state.log));
  }
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
  c10::IValue value;
  TORCH_CHECK(archive.try_read("schedule", value),
              "it holds no schedule text (it was written before schedules "
              "were texts): start the run afresh");
  TORCH_CHECK(value.toStringRef() == state.schedule_text,
              "it was written with the schedule '",
              value.toStringRef(),
              "', this run has '",
              state.schedule_text,
              "'");
  // Checkpoints from before --optimizer have no key: they are SGD's.
  const std::string saved_optimizer =
      archive.try_read("optimizer_kind", value) ? value.toStringRef() : "sgd";
  TORCH_CHECK(saved_optimizer == config.run.optimizer,
              "it was written with --optimizer ",
              saved_optimizer,
              ", not ",
              config.run.optimizer);
  auto expect_same = [&](const char* key, const char* flag, int64_t current) {
    archive.read(key, value);
    TORCH_CHECK(value.toInt() == current,
                "it was written with ",
                flag,
                " ",
                value.toInt(),
                ", not ",
                current);
  };
  expect_same("iterations", "--iterations", config.iterations);
  expect_same("seed", "--seed", static_cast<int64_t>(config.seed));
  expect_same("batch_size", "--batch-size", config.batch_size);
  // Checkpoints from before data-parallel training have no key: one process
  // wrote them.
  const int64_t saved_world_size =
      archive.try_read("world_size", value) ? value.toInt() : 1;
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
  archive.read("settings", value);
  TORCH_CHECK(value.isString() && value.toStringRef() == settings,
              "it was written with other settings: '",
              value,
              "', this run has '",
              settings,
              "'");
  archive.read("iteration", value);
  const int64_t iteration = value.toInt();
  TORCH_CHECK(iteration >= 0 && iteration <= config.iterations,
              "bad iteration ",
              iteration);
  torch::serialize::InputArchive model_archive, optimizer_archive,
      scheduler_archive;
  archive.read("model", model_archive);
  archive.read("optimizer", optimizer_archive);
  archive.read("scheduler", scheduler_archive);
  state.run.model.module->load(model_archive);
  state.run.optimizer->load(optimizer_archive);
  state.run.scheduler->load(scheduler_archive);
  torch::Tensor saved_log;
  if (archive.try_read("log", saved_log)) {
    state.log = log_rows(saved_log);
  }
  if (state.swa != nullptr) {
    torch::serialize::InputArchive swa_archive;
    TORCH_CHECK(archive.try_read("swa", swa_archive),
                "it holds no SWA average");
    state.swa->load(swa_archive);
  }
  return iteration;
}

}  // namespace torchclr::examples
