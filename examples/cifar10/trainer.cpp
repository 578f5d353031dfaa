#include "trainer.h"

#include <fmt/format.h>
#include <torchclr/files.h>
#include <torchclr/momentum.h>
#include <torchclr/scheduler_text.h>

#include <filesystem>
#include <sstream>

#include "checkpoint.h"
#include "progress.h"
#include "swa.h"
#include "training_callbacks.h"

namespace torchclr::examples {
namespace {

namespace fs = std::filesystem;

bool is_eval_point(const TrainConfig& config, int64_t iteration) {
  return iteration % config.eval_every == 0 || iteration == config.iterations;
}

double momentum_of(torch::optim::Optimizer& optimizer) {
  const auto& options = optimizer.param_groups()[0].options();
  return torchclr::get_momentum(options).value_or(0.0);
}

// The loop: from `first_iteration` to config.iterations, one batch each;
// everything else (progress, evaluation, log, checkpoint, SWA) is a callback.
void train_loop(const TrainConfig& config,
                TrainingRun& run,
                int64_t first_iteration,
                DeviceBatches& batches,
                const Callbacks& callbacks) {
  auto& [model, optimizer, scheduler] = run;
  // Forward, loss and backward on this rank's share of the batch; in a job,
  // the gradients and the loss are then averaged over the ranks.
  const torchclr::TrainStep forward_backward = config.job.train_step(
      model.module, [&model = model](const torchclr::Batch& batch) {
        auto loss = torch::nn::functional::cross_entropy(
            model.forward(batch.input), batch.target);
        loss.backward();
        return loss;
      });
  for (int64_t iteration = first_iteration; iteration < config.iterations;) {
    const torchclr::Batch batch = batches.batch_at(iteration);
    optimizer->zero_grad();
    const torch::Tensor loss = forward_backward(batch);
    // What this iteration trains with; the scheduler then sets the next's.
    const double lr = optimizer->param_groups()[0].options().get_lr();
    const double momentum = momentum_of(*optimizer);
    optimizer->step();
    scheduler->step();
    ++iteration;
    const IterationEnd end{iteration, lr, momentum, loss};
    for (const auto& callback : callbacks.on_iteration) {
      callback(end);
    }
    if (is_eval_point(config, iteration)) {
      for (const auto& callback : callbacks.on_eval) {
        callback(end);
      }
    }
  }
}

void check_config(const TrainConfig& config, const DataSplit& train) {
  TORCH_CHECK(config.iterations > 0, "--iterations must be > 0");
  TORCH_CHECK(config.eval_every > 0, "--eval-every must be > 0");
  TORCH_CHECK(train.size() >= config.batch_size,
              "the training split has ",
              train.size(),
              " images, fewer than one batch of ",
              config.batch_size);
}

// Checks the folders and that every rank of the job has the same flags;
// returns the settings a checkpoint must share (run_settings).
std::string check_run(const TrainConfig& config,
                      const DataSplit& train,
                      const Scheduler& scheduler) {
  const Job& job = config.job;
  const RunOutput& output = config.output;
  // Folders that cannot be written fail now, not after the training.
  if (!output.out_dir.empty() && job.is_main()) {
    fs::create_directories(output.out_dir);
  }
  const auto checkpoint_folder = fs::path(output.checkpoint).parent_path();
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
                             output.resume,
                             output.checkpoint));
  return settings;
}

// The running SWA average of `model` with --swa-start, else none.
std::unique_ptr<SwaAverage> make_swa(const TrainConfig& config,
                                     const Network& model) {
  if (config.swa.start == 0) {
    return nullptr;
  }
  check_swa(config.swa.start, config.swa.every, config.iterations);
  return std::make_unique<SwaAverage>(
      model, config.swa.start, config.swa.every);
}

// The iteration to start from: 0, or the checkpoint's with --resume (read
// into `state`). Every rank must start from the same one with the same
// weights.
int64_t start_iteration(const TrainConfig& config,
                        const std::string& settings,
                        RunState& state) {
  const RunOutput& output = config.output;
  int64_t iteration = 0;
  if (output.resume && !output.checkpoint.empty() &&
      fs::exists(output.checkpoint)) {
    try {
      iteration = resume(config, settings, state);
    } catch (const c10::Error& e) {
      throw std::runtime_error("cannot resume from " + output.checkpoint +
                               ": " + e.what_without_backtrace());
    }
  }
  // Every rank reads the checkpoint: on several machines it must be on a
  // file system they share. Same seed and same checkpoint: same weights,
  // checked rather than broadcast so that a mismatch is reported.
  config.job.check_same(
      "the iteration to start from (with --resume every rank reads "
      "--checkpoint: is it on a file system they share?)",
      fmt::format("iteration={}", iteration));
  config.job.check_same_parameters(*state.run.model.module);
  return iteration;
}

// What the callbacks of one run share besides the run: the log and the
// meters they fill.
struct Meters {
  std::vector<LogRow>& log;
  LossMeter loss;
  Stopwatch clock;
  ProgressBar bar;
};

// Every iteration: SWA's average, the loss, and the progress line.
void add_iteration_callbacks(const TrainConfig& config,
                             TrainingRun& run,
                             SwaAverage* swa,
                             Meters& meters,
                             Callbacks& callbacks) {
  if (swa != nullptr) {
    callbacks.on_iteration.push_back([swa, &run](const IterationEnd& end) {
      swa->after_iteration(end.iteration, run.model);
    });
  }
  callbacks.on_iteration.push_back(
      [&meters](const IterationEnd& end) { meters.loss.add(end.loss); });
  callbacks.on_iteration.push_back([&config, &meters](const IterationEnd& end) {
    // Also at evaluations: a diverged run stops before it is evaluated.
    if (meters.bar.due(end.iteration) || is_eval_point(config, end.iteration)) {
      meters.bar.update(end.iteration,
                        fmt::format("lr {:.2e}  loss {:.3f}",
                                    end.lr,
                                    meters.loss.mean(end.iteration)));
    }
  });
}

// At evaluations: the clock stops; rank 0 evaluates on `curve_test`, logs,
// checkpoints and writes log.csv while the others wait for it.
void add_eval_callbacks(const TrainConfig& config,
                        TrainingRun& run,
                        const DataSplit& curve_test,
                        const std::string& settings,
                        const RunState& state,
                        Meters& meters,
                        Callbacks& callbacks) {
  auto& on_eval = callbacks.on_eval;
  on_eval.push_back([&meters](const IterationEnd&) { meters.clock.pause(); });
  if (config.job.is_main()) {
    on_eval.push_back([&, &device = config.device](const IterationEnd& end) {
      meters.log.push_back({end.iteration,
                            end.lr,
                            end.momentum,
                            meters.loss.mean(end.iteration),
                            evaluate(run.model, curve_test, device),
                            meters.clock.seconds()});
    });
  }
  if (config.job.is_main() && !config.output.checkpoint.empty()) {
    on_eval.push_back([&](const IterationEnd& end) {
      save_checkpoint(config, settings, state, end.iteration);
    });
  }
  if (config.job.is_main() && !config.output.out_dir.empty()) {
    on_eval.push_back([&](const IterationEnd&) {
      write_log(config.output.out_dir, meters.log);
    });
  }
  // The others wait here (at most --dist-timeout) while rank 0 evaluates.
  on_eval.push_back([&meters, &job = config.job](const IterationEnd&) {
    meters.loss.reset();
    job.barrier();
    meters.clock.resume();
  });
}

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
  if (!config.output.out_dir.empty()) {
    std::ostringstream bytes;
    torch::serialize::OutputArchive archive;
    averaged.module->save(archive);
    archive.save_to(bytes);
    torchclr::write_file_atomically(
        fs::path(config.output.out_dir) / "swa_model.pt", bytes.str(), "--out");
  }
}

// Rank 0: the final accuracy on the whole test split, SWA's average, the
// plot. Every rank: the weights' digest.
TrainResult finish(const TrainConfig& config,
                   TrainingRun& run,
                   SwaAverage* swa,
                   const DataSplit& train,
                   const DataSplit& test,
                   const DataSplit& curve_test,
                   Meters& meters) {
  TrainResult result;
  if (config.job.is_main()) {
    const auto& log = meters.log;
    const double curve_accuracy = log.empty() ? 0.0 : log.back().test_accuracy;
    result.final_accuracy = curve_test.size() == test.size()
                                ? curve_accuracy
                                : evaluate(run.model, test, config.device);
    if (swa != nullptr) {
      finish_swa(config, *swa, train, test, result);
    }
    meters.bar.finish(config.iterations,
                      fmt::format("accuracy {:.4f}", result.final_accuracy));
    if (!config.output.out_dir.empty()) {
      write_plot(config.output.out_dir, config.output.label);
    }
  }
  result.log = meters.log;
  result.seconds = meters.clock.seconds();
  result.weights_digest = digest(run.model);
  result.model = run.model.module;
  return result;
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

TrainResult train_network(const TrainConfig& config,
                          const DataSplit& train,
                          const DataSplit& test) {
  check_config(config, train);
  torch::manual_seed(config.seed);
  TrainingRun run = make_run(config.run, train, config.device);
  const std::string settings = check_run(config, train, *run.scheduler);
  std::vector<LogRow> log;
  const auto swa = make_swa(config, run.model);
  RunState state{run, to_text(*run.scheduler), log, swa.get()};
  const int64_t first_iteration = start_iteration(config, settings, state);

  Meters meters{
      log,
      LossMeter(config.device),
      Stopwatch(log.empty() ? 0.0 : log.back().seconds),
      ProgressBar(
          config.output.label, config.iterations, config.output.progress)};
  const DataSplit curve_test = test.first(config.eval_images);
  Callbacks callbacks;
  add_iteration_callbacks(config, run, swa.get(), meters, callbacks);
  add_eval_callbacks(
      config, run, curve_test, settings, state, meters, callbacks);
  DeviceBatches batches(train, config);
  train_loop(config, run, first_iteration, batches, callbacks);

  TrainResult result =
      finish(config, run, swa.get(), train, test, curve_test, meters);
  result.data_seconds = batches.seconds();
  return result;
}

}  // namespace torchclr::examples
