#include "trainer.h"

#include <fmt/format.h>
#include <torchclr/files.h>
#include <torchclr/momentum.h>
#include <torchclr/scheduler.h>
#include <torchclr/scheduler_text.h>

#include <chrono>
#include <filesystem>
#include <sstream>

#include "checkpoint.h"
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

namespace {

// The averaged network after update_bn: evaluated on the whole test split
// into `result`, and saved beside the run's log as swa_model.pt.
void finish_swa(const TrainConfig& config,
                SwaAverage& swa,
                const DataSplit& train,
                const DataSplit& test,
                TrainResult& result) {
  Network averaged = swa.finish(train, config.batch_size, config.device);
  result.swa_models = swa.n_averaged();
  result.swa_accuracy = evaluate(averaged, test, config.device);
  result.swa_model = averaged.module;
  result.swa_digest = digest(averaged);
  if (!config.out_dir.empty()) {
    std::ostringstream bytes;
    torch::serialize::OutputArchive archive;
    averaged.module->save(archive);
    archive.save_to(bytes);
    torchclr::write_file_atomically(
        fs::path(config.out_dir) / "swa_model.pt", bytes.str(), "--out");
  }
}

// Checks the folders and that every rank of the job has the same flags;
// returns the settings a checkpoint must share (run_settings).
std::string check_run(const TrainConfig& config,
                      const DataSplit& train,
                      const Scheduler& scheduler) {
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
                 fmt::format("{};schedule={};iterations={};eval_every={};"
                             "seed={};batch_size={};resume={};checkpoint={}",
                             settings,
                             to_text(scheduler),
                             config.iterations,
                             config.eval_every,
                             config.seed,
                             config.batch_size,
                             config.resume,
                             config.checkpoint));
  return settings;
}

// The running SWA average of `model` with --swa-start, else none.
std::unique_ptr<SwaAverage> make_swa(const TrainConfig& config,
                                     const Network& model) {
  if (config.swa_start == 0) {
    return nullptr;
  }
  check_swa(
      config.model, config.swa_start, config.swa_every, config.iterations);
  return std::make_unique<SwaAverage>(
      model, config.swa_start, config.swa_every);
}

}  // namespace

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
                                        config.lr,
                                        config.momentum,
                                        config.weight_decay);
  torch::optim::Optimizer& optimizer = *optimizer_owner;
  // Caffe's semantics: a single LR in the text is the LR of the groups at
  // lr_mult 1, and the others train at their multiple of it.
  auto scheduler =
      make_scheduler(config.schedule,
                     optimizer,
                     ParseOptions().group_ratios(model.lr_multipliers()));
  const Job& job = config.job;
  const std::string settings = check_run(config, train, *scheduler);

  int64_t iteration = 0;
  std::vector<LogRow> log;
  const auto swa = make_swa(config, model);
  RunState state{
      model, optimizer, *scheduler, to_text(*scheduler), log, swa.get()};
  if (config.resume && !config.checkpoint.empty() &&
      fs::exists(config.checkpoint)) {
    try {
      iteration = resume(config, settings, state);
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
    if (swa) {
      swa->after_iteration(iteration, model);
    }
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
        save_checkpoint(config, settings, state, iteration);
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
    if (swa) {
      finish_swa(config, *swa, train, test, result);
    }
    bar.finish(iteration,
               fmt::format("accuracy {:.4f}", result.final_accuracy));
    write_plot(config);
  }
  result.log = log;
  result.seconds = seconds;
  result.data_seconds = data_seconds;
  result.weights_digest = digest(model);
  result.model = model.module;
  return result;
}

}  // namespace torchclr::examples
