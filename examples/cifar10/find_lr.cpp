// `cifar10_clr range-test`: sweep the LR upwards and suggest CLR bounds.

#include "find_lr.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>

#include "cifar10_full.h"
#include "cli_checks.h"
#include "commands.h"
#include "paper_range_test.h"
#include "paper_runs.h"
#include "progress.h"

namespace torchclr::examples {

namespace fs = std::filesystem;

void add_range_flags(CLI::App& app, RangeFlags& flags) {
  app.add_option("--start-lr", flags.start_lr)
      ->check(finite_number())
      ->check(positive_number())
      ->capture_default_str();
  app.add_option("--end-lr", flags.end_lr)
      ->check(finite_number())
      ->check(positive_number())
      ->capture_default_str();
  app.add_option("--num-iter", flags.num_iter)
      ->check(positive_number())
      ->capture_default_str();
  app.add_option("--sweep", flags.sweep, "exponential or linear")
      ->check(CLI::IsMember({"exponential", "linear"}))
      ->capture_default_str();
}

std::string format_lr(const std::optional<double>& lr) {
  return lr ? fmt::format("{:.3g}", *lr) : std::string("none");
}

namespace {

// Every rank of the job must sweep with the same flags.
void check_same_flags(const RangeFlags& flags, const TrainConfig& config) {
  config.job.check_same(
      "the range test's flags",
      fmt::format("method={};start_lr={};end_lr={};num_iter={};"
                  "sweep={};eval_every={};eval_images={};"
                  "batch_size={};optimizer={}",
                  flags.method,
                  flags.start_lr,
                  flags.end_lr,
                  flags.num_iter,
                  flags.sweep,
                  flags.eval_every,
                  flags.eval_images,
                  config.batch_size,
                  config.run.optimizer));
}

// The sweep's options for `flags`; the train step is `model`'s forward,
// loss and backward (in a job, averaged over the ranks).
torchclr::LRRangeTestOptions sweep_options(const RangeFlags& flags,
                                           const TrainConfig& config,
                                           Network& model) {
  torchclr::LRRangeTestOptions options;
  options.start_lr(flags.start_lr)
      .end_lr(flags.end_lr)
      .num_iter(flags.num_iter)
      .sweep(flags.sweep == "linear" ? torchclr::LRSweep::kLinear
                                     : torchclr::LRSweep::kExponential)
      .metric(torchclr::RangeTestMetric::kAccuracy)
      .eval_every(std::max<int64_t>(1, flags.eval_every))
      .device(config.device)
      .train_step(config.job.train_step(
          model.module, [&model](const torchclr::Batch& batch) {
            auto loss = torch::nn::functional::cross_entropy(
                model.forward(batch.input), batch.target);
            loss.backward();
            return loss;
          }));
  if (flags.method == "paper") {
    // The paper reads the accuracy over the whole range, also where the
    // network breaks; only a non-finite loss ends its sweep early.
    options.diverge_threshold(std::numeric_limits<double>::infinity())
        .stop_on_climb_back(false);
  }
  return options;
}

// Writes the sweep's files into `out` (rank 0).
void write_range_files(const RangeFlags& flags,
                       const torchclr::LRRangeTestResult& result,
                       const std::string& lrs_csv,
                       const fs::path& out) {
  torchclr::write_file_atomically(out / "range_test_lrs.csv", lrs_csv, "--out");
  if (flags.method == "paper") {
    torchclr::write_csv(result, out / "range_test.csv");
    return;
  }
  const auto report = torchclr::write_csv_and_plot(
      result, out / "range_test.csv", out / "range_test.png");
  if (report.status != torchclr::PlotStatus::kWritten) {
    fmt::print(stderr, "note: no range-test plot ({})\n", report.message);
  }
}

}  // namespace

torchclr::LRRangeTestResult find_lr(const RangeFlags& flags,
                                    const TrainConfig& config,
                                    const DataSplit& train,
                                    const DataSplit& test,
                                    const fs::path& out) {
  const Job& job = config.job;
  if (job.is_main()) {
    fs::create_directories(out);  // fails here, not after the sweep
  }
  check_same_flags(flags, config);
  torch::manual_seed(config.seed);
  Network model = make_model(config.run, train, config.device);
  job.check_same_parameters(*model.module);
  auto optimizer = make_optimizer(config.run.optimizer,
                                  model.param_groups,
                                  flags.start_lr,
                                  config.run.momentum,
                                  config.run.weight_decay);
  // Each param group's LR as the optimizer held it at every step, one CSV
  // row each: the sweep keeps Caffe's lr_mult (cifar10_full's conv1, conv2
  // and fc biases at twice the weights').
  std::string lrs_csv = "iteration";
  for (size_t i = 0; i < optimizer->param_groups().size(); ++i) {
    lrs_csv += fmt::format(",group{}_lr", i);
  }
  lrs_csv += "\n";

  ProgressBar bar("range-test (" + flags.method + ")",
                  flags.num_iter,
                  config.output.progress);
  auto options = sweep_options(flags, config, model);
  options.on_progress([&](int64_t iteration, double lr, double loss) {
    lrs_csv += fmt::format("{}", iteration);
    for (const auto& group : optimizer->param_groups()) {
      lrs_csv += fmt::format(",{}", group.options().get_lr());
    }
    lrs_csv += "\n";
    if (bar.due(iteration + 1)) {
      bar.update(iteration + 1,
                 fmt::format("lr {:.2e}  loss {:.3f}", lr, loss));
    }
  });
  torchclr::LRRangeTest range_test(
      model.module, model.forward, *optimizer, options);
  // Every rank sweeps over its share of the same global batches and, with
  // the distributed step, records the same curve; each evaluates the whole
  // validation subset (the same weights give the same metric).
  SplitBatches global_batches(train, config.batch_size, config.seed);
  ShareBatches batches(global_batches, job);
  const DataSplit validation = test.first(flags.eval_images);
  SplitBatches validation_batches(validation, 500, std::nullopt);
  auto result = flags.eval_every > 0
                    ? range_test.run(batches, &validation_batches)
                    : range_test.run(batches);
  bar.finish(result.stop_iteration, "done");
  if (job.is_main()) {
    write_range_files(flags, result, lrs_csv, out);
  }
  return result;
}

namespace {

struct RangeTestFlags {
  CommonFlags common;
  RangeFlags range;
  RangeMethodFlags method;
  double step_size_epochs = 4;
};

int run_range_test(const RangeTestFlags& flags, const CLI::App& app) {
  const TrainConfig config = train_config(flags.common);
  const auto [train, test] = load_data(flags.common.data);
  const fs::path out =
      flags.common.out.empty() ? "out/range_test" : flags.common.out;
  const auto outcome = run_range_method(
      flags.method, flags.range, app, config, train, test, out);
  const auto& result = outcome.result;
  const auto& s = result.suggestions;
  const char* reasons[] = {"completed", "diverged", "non-finite loss"};
  fmt::print(
      "range test on {}: {}\n  {} iterations, stopped: {} at lr {:.3g}\n"
      "  {} rule: base_lr {}  max_lr {}\n",
      flags.common.data.dataset,
      outcome.description,
      result.stop_iteration,
      reasons[static_cast<int>(result.stop_reason)],
      result.stop_lr,
      outcome.method == "paper" ? "paper (accuracy)" : "paper (loss)",
      format_lr(outcome.base_lr),
      format_lr(outcome.max_lr));
  std::string summary = fmt::format("method={}\nbase_lr={}\nmax_lr={}\n",
                                    outcome.method,
                                    format_lr(outcome.base_lr),
                                    format_lr(outcome.max_lr));
  if (outcome.method == "paper") {
    fmt::print("  on the loss, for comparison: base_lr {}  max_lr {}\n",
               format_lr(s.base_lr),
               format_lr(s.max_lr));
  }
  fmt::print("  steepest descent: {}\n  fastai valley:    {}\n",
             format_lr(s.steepest_lr),
             format_lr(s.valley_lr));
  summary += fmt::format("steepest_lr={}\nvalley_lr={}\n",
                         format_lr(s.steepest_lr),
                         format_lr(s.valley_lr));
  if (outcome.base_lr && outcome.max_lr) {
    const int64_t per_epoch = train.size() / config.batch_size;
    const int64_t step_size = std::max<int64_t>(
        1,
        std::llround(flags.step_size_epochs * static_cast<double>(per_epoch)));
    summary += fmt::format("step_size_up={}\n", step_size);
    fmt::print(
        "  train with:       cifar10_clr train --dataset {} --schedule '{}'\n",
        flags.common.data.dataset,
        cyclic_text("triangular",
                    std::stod(fmt::format("{:.3g}", *outcome.base_lr)),
                    std::stod(fmt::format("{:.3g}", *outcome.max_lr)),
                    step_size));
  }
  if (config.job.is_main()) {
    torchclr::write_file_atomically(out / "suggestions.txt", summary, "--out");
    fmt::print("wrote {}\n", (out / "range_test.csv").string());
  }
  return 0;
}

}  // namespace

Command add_range_test_command(CLI::App& app) {
  auto flags = std::make_shared<RangeTestFlags>();
  auto* range = app.add_subcommand(
      "range-test", "Sweep the LR upwards and suggest CLR bounds");
  add_common_flags(*range, flags->common);
  add_range_flags(*range, flags->range);
  add_range_method_flags(*range, flags->method, "--method", "--epochs");
  flags->method.own_eval_flags = true;
  range
      ->add_option(
          "--eval-every",
          flags->range.eval_every,
          "Test accuracy every n iterations, as the paper did (0: off)")
      ->check(non_negative_number());
  range->add_option("--eval-images", flags->range.eval_images)
      ->check(positive_number())
      ->capture_default_str();
  range
      ->add_option("--step-size-epochs",
                   flags->step_size_epochs,
                   "Suggested CLR half cycle, in epochs (up to 1e6)")
      ->check(finite_number())
      ->check(CLI::Range(1e-6, 1e6))
      ->capture_default_str();
  return {range, [flags, range] { return run_range_test(*flags, *range); }};
}

}  // namespace torchclr::examples
