#include "trainer.h"

#include <fmt/format.h>
#include <torchclr/files.h>
#include <torchclr/momentum.h>
#include <torchclr/scheduler.h>

#include <chrono>
#include <filesystem>
#include <sstream>

#include "network.h"
#include "progress.h"

namespace torchclr::examples {
namespace {

namespace fs = std::filesystem;

double momentum_of(torch::optim::Optimizer& optimizer) {
  const auto& options = optimizer.param_groups()[0].options();
  return torchclr::get_momentum(options).value_or(0.0);
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
  if (config.model == "cifar10_full") {
    return "";
  }
  if (!has_caffe_batch_norm(config.model)) {
    return fmt::format("model={};", config.model);
  }
  return fmt::format("model={};moving_average_fraction={};ghost_batch_size={};",
                     config.model,
                     config.batch_norm.moving_average_fraction,
                     config.batch_norm.ghost_batch_size);
}

// What a resumed run must share with the checkpoint beyond the flags checked
// one by one: every policy flag, the optimizer's settings and the data shape.
std::string run_settings(const TrainConfig& config, const DataSplit& train) {
  const auto shape = train.images.sizes();
  // The optimizer joins the text only when not SGD, so checkpoints written
  // before --optimizer existed still resume; so do the model and --augment
  // (pad-crop keeps the text it had when --augment was a flag).
  return fmt::format(
      "{};{}{}{}momentum={};weight_decay={};eval_images={};train_images={}",
      describe(config.policy),
      config.optimizer == "sgd"
          ? std::string()
          : fmt::format("optimizer={};", config.optimizer),
      model_text(config),
      augmentation_text(config.augmentation),
      config.momentum,
      config.weight_decay,
      config.eval_images,
      fmt::join(shape.begin(), shape.end(), "x"));
}

void save_checkpoint(const TrainConfig& config,
                     const std::string& settings,
                     const std::string& path,
                     Network& model,
                     torch::optim::Optimizer& optimizer,
                     Scheduler& scheduler,
                     int64_t iteration,
                     const std::vector<LogRow>& log) {
  torch::serialize::OutputArchive archive;
  torch::serialize::OutputArchive model_archive, optimizer_archive,
      scheduler_archive;
  model.module->save(model_archive);
  optimizer.save(optimizer_archive);
  scheduler.save(scheduler_archive);
  archive.write("model", model_archive);
  archive.write("optimizer", optimizer_archive);
  archive.write("scheduler", scheduler_archive);
  archive.write("iteration", c10::IValue(iteration));
  archive.write("policy", c10::IValue(config.policy.policy));
  archive.write("optimizer_kind", c10::IValue(config.optimizer));
  archive.write("iterations", c10::IValue(config.iterations));
  archive.write("seed", c10::IValue(static_cast<int64_t>(config.seed)));
  archive.write("batch_size", c10::IValue(config.batch_size));
  archive.write("world_size", c10::IValue(config.job.size()));
  archive.write("settings", c10::IValue(settings));
  if (!log.empty()) {
    archive.write("log", log_tensor(log));
  }
  std::ostringstream bytes;
  archive.save_to(bytes);
  torchclr::write_file_atomically(path, bytes.str(), "--checkpoint");
}

void write_log(const TrainConfig& config, const std::vector<LogRow>& log) {
  if (!config.out_dir.empty()) {
    torchclr::write_file_atomically(
        fs::path(config.out_dir) / "log.csv", log_csv(log), "--out");
  }
}

// gnuplot takes a while to start: the plot is drawn once, at the end.
void write_plot(const TrainConfig& config) {
  if (config.out_dir.empty()) {
    return;
  }
  const std::string csv = (fs::path(config.out_dir) / "log.csv").string();
  const std::string png = (fs::path(config.out_dir) / "accuracy.png").string();
  const std::string script = fmt::format(
      "set terminal pngcairo size 800,400 noenhanced\n"
      "set datafile separator ','\n"
      "set title {0}\n"
      "set xlabel 'iteration'\nset ylabel 'test accuracy'\n"
      "set y2label 'learning rate'\nset y2tics\nset ytics nomirror\n"
      "set key bottom right\nset grid\n"
      "plot {1} every ::1 using 1:5 with linespoints title 'accuracy', "
      "'' every ::1 using 1:2 with lines axes x1y2 title 'lr'\n",
      gnuplot_quote(config.label + ": test accuracy and learning rate"),
      gnuplot_quote(csv));
  const auto plot = torchclr::render_gnuplot(script, png);
  if (plot.status != torchclr::PlotStatus::kWritten) {
    fmt::print(stderr, "note: no plot ({}); wrote {}\n", plot.message, csv);
  }
}

// Loads a checkpoint of `save_checkpoint` into the freshly built run and
// returns its iteration; refuses one written for other settings.
int64_t resume(const TrainConfig& config,
               const std::string& settings,
               Network& model,
               torch::optim::Optimizer& optimizer,
               Scheduler& scheduler,
               std::vector<LogRow>& log) {
  torch::serialize::InputArchive archive;
  archive.load_from(config.checkpoint);
  c10::IValue value;
  archive.read("policy", value);
  TORCH_CHECK(value.toStringRef() == config.policy.policy,
              "it was written by --policy ",
              value.toStringRef(),
              ", not ",
              config.policy.policy);
  // Checkpoints from before --optimizer have no key: they are SGD's.
  const std::string saved_optimizer =
      archive.try_read("optimizer_kind", value) ? value.toStringRef() : "sgd";
  TORCH_CHECK(saved_optimizer == config.optimizer,
              "it was written with --optimizer ",
              saved_optimizer,
              ", not ",
              config.optimizer);
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
  model.module->load(model_archive);
  optimizer.load(optimizer_archive);
  scheduler.load(scheduler_archive);
  torch::Tensor saved_log;
  if (archive.try_read("log", saved_log)) {
    log = log_rows(saved_log);
  }
  return iteration;
}

}  // namespace

std::string log_csv(const std::vector<LogRow>& log) {
  std::string csv = "iteration,lr,momentum,train_loss,test_accuracy,seconds\n";
  for (const auto& r : log) {
    csv += fmt::format("{},{},{},{:.6f},{:.4f},{:.2f}\n",
                       r.iteration,
                       r.lr,
                       r.momentum,
                       r.train_loss,
                       r.test_accuracy,
                       r.seconds);
  }
  return csv;
}

Network make_model(const TrainConfig& config, const DataSplit& train) {
  Network model = make_network(config.model,
                               config.dataset,
                               train.images.size(1),
                               train.images.size(2),
                               train.images.size(3),
                               config.num_classes,
                               config.batch_norm);
  model.module->to(config.device);
  return model;
}

TrainResult train_network(const TrainConfig& config,
                          const DataSplit& train,
                          const DataSplit& test) {
  TORCH_CHECK(config.iterations > 0, "--iterations must be > 0");
  TORCH_CHECK(config.eval_every > 0, "--eval-every must be > 0");
  TORCH_CHECK(train.size() >= config.batch_size,
              "the training split has ",
              train.size(),
              " images, fewer than one batch of ",
              config.batch_size);

  torch::manual_seed(config.seed);
  Network model = make_model(config, train);
  auto optimizer_owner = make_optimizer(config.optimizer,
                                        model.param_groups,
                                        config.policy.lr,
                                        config.momentum,
                                        config.weight_decay);
  torch::optim::Optimizer& optimizer = *optimizer_owner;
  auto scheduler = make_scheduler(
      momentum_follows_optimizer(config.policy, config.optimizer, optimizer),
      optimizer,
      config.iterations,
      model.lr_multipliers());
  const Job& job = config.job;
  // Folders that cannot be written fail now, not after the training.
  if (!config.out_dir.empty() && job.is_main()) {
    fs::create_directories(config.out_dir);
  }
  const auto checkpoint_folder = fs::path(config.checkpoint).parent_path();
  TORCH_CHECK(!job.is_main() || checkpoint_folder.empty() ||
                  fs::is_directory(checkpoint_folder),
              "--checkpoint: the folder ",
              checkpoint_folder.string(),
              " does not exist");
  const std::string settings = run_settings(config, train);
  // A rank started with other flags would train another model in lockstep
  // with this one, or fall out of step and hang the others.
  job.check_same("the run's flags",
                 fmt::format("{};iterations={};eval_every={};seed={};"
                             "batch_size={};resume={};checkpoint={}",
                             settings,
                             config.iterations,
                             config.eval_every,
                             config.seed,
                             config.batch_size,
                             config.resume,
                             config.checkpoint));

  int64_t iteration = 0;
  std::vector<LogRow> log;
  if (config.resume && !config.checkpoint.empty() &&
      fs::exists(config.checkpoint)) {
    try {
      iteration = resume(config, settings, model, optimizer, *scheduler, log);
    } catch (const c10::Error& e) {
      throw std::runtime_error("cannot resume from " + config.checkpoint +
                               ": " + e.what_without_backtrace());
    }
  }
  // Every rank reads the checkpoint: on several machines it must be on a
  // file system they share. Same seed and same checkpoint: same weights,
  // checked rather than broadcast so that a mismatch is reported.
  job.check_same(
      "the iteration to start from (with --resume every rank reads "
      "--checkpoint: is it on a file system they share?)",
      fmt::format("iteration={}", iteration));
  job.check_same_parameters(*model.module);
  const torchclr::TrainStep train_step =
      job.train_step(model.module, [&model](const torchclr::Batch& batch) {
        auto loss = torch::nn::functional::cross_entropy(
            model.forward(batch.input), batch.target);
        loss.backward();
        return loss;
      });

  SplitBatches global_batches(
      train, config.batch_size, config.seed, config.augmentation);
  ShareBatches batches(global_batches, job);
  const DataSplit curve_test = test.first(config.eval_images);
  double seconds = log.empty() ? 0.0 : log.back().seconds;
  double data_seconds = 0;
  // The loss is summed on the device and read at evaluations and progress
  // redraws only: a per-step item() would wait for the device every step.
  auto loss_sum = torch::zeros({}, torch::TensorOptions(config.device));
  int64_t loss_count = 0;
  double iteration_lr = 0;
  double iteration_momentum = 0;
  ProgressBar bar(config.label, config.iterations, config.progress);
  auto started = std::chrono::steady_clock::now();
  while (iteration < config.iterations) {
    const auto data_started = std::chrono::steady_clock::now();
    auto batch = batches.batch_at(iteration);
    auto images = batch.input.to(config.device, /*non_blocking=*/true);
    auto targets = batch.target.to(config.device, /*non_blocking=*/true);
    data_seconds += std::chrono::duration<double>(
                        std::chrono::steady_clock::now() - data_started)
                        .count();

    optimizer.zero_grad();
    // The loss of the whole global batch: this rank's share, averaged over
    // the ranks with the gradients.
    const auto loss = train_step({images, targets});
    // What this iteration trains with; the scheduler then sets the next's.
    iteration_lr = optimizer.param_groups()[0].options().get_lr();
    iteration_momentum = momentum_of(optimizer);
    optimizer.step();
    scheduler->step();
    ++iteration;
    loss_sum += loss.detach();
    ++loss_count;
    const bool evaluate_now =
        iteration % config.eval_every == 0 || iteration == config.iterations;
    if (!evaluate_now && !bar.due(iteration)) {
      continue;
    }
    const double mean_loss =
        loss_sum.item<double>() / static_cast<double>(loss_count);
    TORCH_CHECK(std::isfinite(mean_loss),
                "training diverged: the loss is not finite by iteration ",
                iteration,
                " (lower the learning rate)");
    bar.update(iteration,
               fmt::format("lr {:.2e}  loss {:.3f}", iteration_lr, mean_loss));
    if (!evaluate_now) {
      continue;
    }
    const auto now = std::chrono::steady_clock::now();
    seconds += std::chrono::duration<double>(now - started).count();
    loss_sum.zero_();
    loss_count = 0;
    if (job.is_main()) {
      const double accuracy = evaluate(model, curve_test, config.device);
      log.push_back({iteration,
                     iteration_lr,
                     iteration_momentum,
                     mean_loss,
                     accuracy,
                     seconds});
      if (!config.checkpoint.empty()) {
        save_checkpoint(config,
                        settings,
                        config.checkpoint,
                        model,
                        optimizer,
                        *scheduler,
                        iteration,
                        log);
      }
      write_log(config, log);
    }
    // The others wait here (at most --dist-timeout) while rank 0 evaluates.
    job.barrier();
    started = std::chrono::steady_clock::now();
  }
  TrainResult result;
  if (job.is_main()) {
    const double curve_accuracy = log.empty() ? 0.0 : log.back().test_accuracy;
    result.final_accuracy = curve_test.size() == test.size()
                                ? curve_accuracy
                                : evaluate(model, test, config.device);
    bar.finish(iteration,
               fmt::format("accuracy {:.4f}", result.final_accuracy));
    write_plot(config);
  }
  result.log = log;
  result.seconds = seconds;
  result.data_seconds = data_seconds;
  result.weights_digest = digest(model);
  return result;
}

}  // namespace torchclr::examples
