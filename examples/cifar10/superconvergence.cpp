// `cifar10_clr compare --superconvergence`: Smith and Topin's
// super-convergence run ("Super-Convergence", arXiv 1708.07120, Fig. 1a) as
// the authors' Caffe files run it (github.com/lnsmith54/super-convergence at
// ecc5615: x.sh, solver.prototxt, clrsolver.prototxt,
// architectures/Resnet56Cifar.prototxt; their logs in Results/):
//   network   Resnet56Cifar.prototxt (superconvergence_resnet56), Caffe's
//             BatchNorm with moving_average_fraction 0.999, which x.sh turns
//             into 0.95 for every CLR run
//   batch     8 GPUs x 125 = 1,000: BatchNorm statistics per GPU (ghost
//             batches of 125), the running ones GPU 0's (caffe_batch_norm.h)
//   data      the mean image subtracted, mirror: true, crop_size: 32 on
//             32x32 images: random flips only
//   1cycle    clrsolver.prototxt: triangular, base_lr 0.1, max_lr 3,
//             stepsize 5,000, max_iter 10,000 (their log: 92.44% at 10,000)
//   baseline  solver.prototxt: multistep, base_lr 0.35, gamma 0.1 at 50,000
//             and 70,000, max_iter 80,000 (their log: 90.32% at 80,000)
//   both      momentum 0.9, weight_decay 1e-4, Caffe's SGD
// A flag given replaces its default: --model (resnet56 is He et al.'s
// network), --ghost-batch-size, --moving-average-fraction (for both runs),
// --augment, --solver, --batch-size, and --clr-bounds range-test (1cycle
// between the bounds our range test reads off a linear sweep to 3).

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <set>

#include "comparison.h"
#include "paper_runs.h"
#include "schedule_flags.h"

namespace torchclr::examples {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kPaperBatchSize = 1000;  // 8 GPUs x 125
constexpr int64_t kGhostBatchSize = 125;
constexpr double kCycleFraction = 0.95;      // x.sh: s/0.999/0.95/
constexpr double kBaselineFraction = 0.999;  // Resnet56Cifar.prototxt
constexpr double kFilesBaseLr = 0.1;         // clrsolver.prototxt
constexpr double kFilesMaxLr = 3.0;
constexpr int64_t kStepSize = 5000;  // one cycle: max_iter 10,000
constexpr int64_t kRangeIterations = 5000;
// A scaled sweep shorter than this leaves the suggestion rules too few points
// to read a curve from.
constexpr int64_t kMinRangeIterations = 50;
constexpr double kRangeEndLr = 3.0;

struct Run {
  std::string name;
  std::string schedule;  ///< the schedule text, for the table
  TrainConfig config;
  std::string paper;  ///< the authors' run, for the table
  TrainResult result;
};

// 1cycle's bounds and where they come from.
struct ClrBounds {
  double base_lr = kFilesBaseLr;
  double max_lr = kFilesMaxLr;
  std::string source = "clrsolver.prototxt";
};

// `flags` with the files' settings where the command line left them out.
CompareFlags with_files_defaults(const CompareFlags& flags) {
  CompareFlags paper = flags;
  auto& common = paper.common;
  if (!flags.was_given("--model")) {
    common.model = "superconvergence_resnet56";
  }
  if (!flags.was_given("--batch-size")) {
    common.batch_size = kPaperBatchSize;
  }
  if (!flags.was_given("--augment")) {
    common.augment = "flip";
  }
  if (has_caffe_batch_norm(common.model) &&
      !flags.was_given("--ghost-batch-size")) {
    common.batch_norm.ghost_batch_size = kGhostBatchSize;
  }
  return paper;
}

// `config`'s BatchNorm with `fraction` unless --moving-average-fraction set
// it.
TrainConfig with_fraction(TrainConfig config,
                          const CompareFlags& flags,
                          double fraction) {
  if (has_caffe_batch_norm(config.run.model) &&
      !flags.was_given("--moving-average-fraction")) {
    config.run.batch_norm.moving_average_fraction = fraction;
  }
  return config;
}

// What the runs train: network, BatchNorm, augmentation and solver.
std::string setup_text(const TrainConfig& base, const std::vector<Run>& runs) {
  std::string batch_norm =
      "LibTorch's BatchNorm2d over each whole batch (He et al.'s network)";
  if (has_caffe_batch_norm(base.run.model)) {
    const int64_t ghost = base.run.batch_norm.ghost_batch_size;
    batch_norm = fmt::format(
        "Caffe's, statistics over {}, running statistics from the first "
        "group (Caffe's GPU 0); moving_average_fraction {:g} ({}) and {:g} "
        "({})",
        ghost > 0 ? fmt::format("ghost batches of {} images", ghost)
                  : std::string("each whole batch"),
        runs[0].config.run.batch_norm.moving_average_fraction,
        runs[0].name,
        runs[1].config.run.batch_norm.moving_average_fraction,
        runs[1].name);
  }
  const std::string solver = solver_text(base.run.optimizer);
  return fmt::format(
      "Network: {}. BatchNorm: {}. Augmentation: {}. Batch {}, momentum "
      "{:g}, weight decay {:g}; {}.",
      base.run.model,
      batch_norm,
      augmentation_name(base.augmentation),
      base.batch_size,
      base.run.momentum,
      base.run.weight_decay,
      solver.empty() ? "optimizer " + base.run.optimizer : solver);
}

// 1cycle's bounds: clrsolver.prototxt's, or (--clr-bounds range-test) those
// of a range test on `base` with 1cycle's BatchNorm, a linear sweep to 3 as
// the paper's Fig. 2b unless the range-test flags say otherwise.
ClrBounds cycle_bounds(const CompareFlags& flags,
                       const TrainConfig& base,
                       const DataSplit& train,
                       const DataSplit& test,
                       const fs::path& out) {
  if (flags.clr_bounds != "range-test") {
    return {};
  }
  RangeFlags range = flags.range;
  if (!flags.was_given("--sweep")) {
    range.sweep = "linear";
  }
  if (!flags.was_given("--end-lr")) {
    range.end_lr = kRangeEndLr;
  }
  if (!flags.was_given("--start-lr")) {
    range.start_lr = 0.01;  // the paper's starts at 0, which a sweep cannot
  }
  if (!flags.was_given("--num-iter")) {
    range.num_iter =
        std::max(kMinRangeIterations, scaled(kRangeIterations, flags.scale));
  }
  const auto result = find_lr(
      range, with_fraction(base, flags, kCycleFraction), train, test, out);
  const auto& s = result.suggestions;
  TORCH_CHECK(s.base_lr && s.max_lr,
              "the range test found no base_lr/max_lr (the loss never fell); "
              "widen --start-lr/--end-lr or raise --num-iter");
  fmt::print(
      "range test: base_lr {:.3g}, max_lr {:.3g}\n", *s.base_lr, *s.max_lr);
  std::fflush(stdout);  // before the runs' progress on standard error
  return {*s.base_lr,
          *s.max_lr,
          fmt::format("range test: {} iterations, {} from {} to {}; "
                      "suggested base_lr {:.3g}, max_lr {:.3g} (the paper: "
                      "0.1-3)",
                      result.stop_iteration,
                      range.sweep,
                      range.start_lr,
                      range.end_lr,
                      *s.base_lr,
                      *s.max_lr)};
}

// The two runs of Fig. 1a, every length scaled by --scale; both test at the
// same iterations, so their curves line up.
std::vector<Run> files_runs(const CompareFlags& flags,
                            const TrainConfig& base,
                            const ClrBounds& bounds,
                            const fs::path& out) {
  const int64_t eval_every =
      curve_eval_every(flags, 2 * scaled(kStepSize, flags.scale));
  const auto configured = [&](const PaperRun& run,
                              const std::string& folder,
                              double fraction) {
    TrainConfig config = with_run(with_fraction(base, flags, fraction), run);
    config.eval_every = eval_every;
    config.eval_images = flags.eval_images;
    config.output.out_dir = (out / folder).string();
    config.output.label = run.name;
    return config;
  };
  // Caffe's "triangular" policy is CyclicLR's triangular mode; momentum
  // stays at 0.9.
  const PaperRun cycle =
      superconvergence_1cycle(bounds.base_lr, bounds.max_lr, flags.scale);
  const PaperRun piecewise = superconvergence_baseline(flags.scale);
  return {
      {cycle.name,
       fmt::format("`{}`", cycle.schedule),
       configured(cycle, "1cycle", kCycleFraction),
       cycle.paper,
       {}},
      {piecewise.name,
       fmt::format("`{}` from {:g}", piecewise.schedule, piecewise.lr),
       configured(piecewise, "piecewise_constant", kBaselineFraction),
       piecewise.paper,
       {}},
  };
}

// The test accuracy of `log` at `iteration`, or "-" where it has no point.
std::string accuracy_at(const std::vector<LogRow>& log, int64_t iteration) {
  for (const auto& row : log) {
    if (row.iteration == iteration) {
      return fmt::format("{:.2f}%", 100 * row.test_accuracy);
    }
  }
  return "-";
}

// Accuracy against iterations: every point of the 1cycle run, and the
// baseline at every 1cycle length and at its end.
std::string curve_table(const Run& one_cycle, const Run& baseline) {
  std::set<int64_t> iterations;
  for (const auto& row : one_cycle.result.log) {
    iterations.insert(row.iteration);
  }
  const int64_t cycle = one_cycle.config.iterations;
  for (const auto& row : baseline.result.log) {
    if (row.iteration % cycle == 0 ||
        row.iteration == baseline.config.iterations) {
      iterations.insert(row.iteration);
    }
  }
  std::string table = fmt::format("| iteration | {} | {} |\n|---|---|---|\n",
                                  one_cycle.name,
                                  baseline.name);
  for (const int64_t iteration : iterations) {
    table += fmt::format("| {} | {} | {} |\n",
                         iteration,
                         accuracy_at(one_cycle.result.log, iteration),
                         accuracy_at(baseline.result.log, iteration));
  }
  return table;
}

std::string results_table(const CompareFlags& flags,
                          const TrainConfig& base,
                          const ClrBounds& bounds,
                          const std::vector<Run>& runs) {
  std::string table = fmt::format(
      "# Super-convergence on {} at scale {} ({}, seed {}, {})\n\n"
      "{}\n\n1cycle bounds: {}.\n\n"
      "| policy | schedule | iterations | test accuracy | wall time (s) | the "
      "authors' run (CIFAR-10, full scale, Results/ logs) |\n"
      "|---|---|---|---|---|---|\n",
      base.run.dataset,
      flags.scale,
      base.run.model,
      base.seed,
      base.device.str(),
      setup_text(base, runs),
      bounds.source);
  for (const auto& run : runs) {
    table += fmt::format("| {} | {} | {} | {:.2f}% | {:.1f} | {} |\n",
                         run.name,
                         run.schedule,
                         run.config.iterations,
                         100 * run.result.final_accuracy,
                         run.result.seconds,
                         run.paper);
  }
  return table + "\n## Test accuracy against iterations\n\n" +
         curve_table(runs[0], runs[1]) + "\n" + accuracy_note(flags);
}

// A note for each run whose BatchNorm averages its running statistics (what
// the test uses) over more than a tenth of the run: a scaled run left with
// the files' fractions, which averaged over 0.2% (1cycle) and 1.25%.
std::string averaging_notes(const CompareFlags& flags,
                            const std::vector<Run>& runs) {
  std::string notes;
  for (const auto& run : runs) {
    const auto& batch_norm = run.config.run.batch_norm;
    if (!has_caffe_batch_norm(run.config.run.model) ||
        flags.was_given("--moving-average-fraction")) {
      continue;
    }
    const double window = 1 / (1 - batch_norm.moving_average_fraction);
    if (window > 0.1 * static_cast<double>(run.config.iterations)) {
      notes += fmt::format(
          "note: {}'s moving_average_fraction {:g} averages the BatchNorm "
          "statistics the test uses over about {:.0f} of its {} iterations; "
          "--moving-average-fraction sets a shorter window for a scaled run "
          "(the authors used 0.80 for their shortest cycles)\n",
          run.name,
          batch_norm.moving_average_fraction,
          window,
          run.config.iterations);
    }
  }
  return notes;
}

}  // namespace

int run_superconvergence(const CompareFlags& flags) {
  const CompareFlags paper = with_files_defaults(flags);
  const TrainConfig base = train_config(paper.common);
  const auto [train, test] = load_data(paper.common.data);
  const fs::path out =
      flags.common.out.empty() ? "out/superconvergence" : flags.common.out;

  const ClrBounds bounds = cycle_bounds(paper, base, train, test, out);
  std::vector<Run> runs = files_runs(paper, base, bounds, out);
  if (base.job.is_main()) {
    fmt::print("{}\n{}", setup_text(base, runs), averaging_notes(flags, runs));
    std::fflush(stdout);
  }
  std::vector<Curve> curves;
  for (auto& run : runs) {
    run.result = train_network(run.config, train, test);
    curves.push_back(
        {fs::path(run.config.output.out_dir) / "log.csv", run.name});
  }
  if (!base.job.is_main()) {
    return 0;  // rank 0 tabulates and plots
  }
  write_comparison(out,
                   results_table(paper, base, bounds, runs),
                   curves,
                   fmt::format("Super-convergence: {} test accuracy ({}, "
                               "scale {})",
                               base.run.model,
                               base.run.dataset,
                               flags.scale));
  return 0;
}

}  // namespace torchclr::examples
