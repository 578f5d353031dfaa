// `cifar10_clr compare --superconvergence`: Smith and Topin's
// super-convergence run ("Super-Convergence", arXiv 1708.07120, Fig. 1a) on
// ResNet-56, with the settings of the authors' Caffe files
// (github.com/lnsmith54/super-convergence: README, solver.prototxt,
// clrsolver.prototxt, lrRangeSolver.prototxt, Resnet56Cifar.prototxt):
//   range test  LR rising linearly to 3 over 5,000 iterations (Fig. 2b)
//   1cycle      one cycle 0.1 -> 3 -> 0.1, step size 5,000, 10,000 iterations
//   baseline    LR 0.35, divided by 10 at 50,000 and 70,000, 80,000 iterations
//   both        momentum 0.9 (fixed), weight decay 1e-4, batch 8 GPUs x 125
// Here the 1cycle bounds come from our range test, as the paper read its own
// off Fig. 2b, and the cycle is OneCycleLR (linear, pct_start 0.5, ending
// where it started, as that single triangular cycle did).

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <set>

#include "comparison.h"

namespace torchclr::examples {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kPaperBatchSize = 1000;  // 8 GPUs x 125
constexpr int64_t kRangeIterations = 5000;
// A scaled sweep shorter than this leaves the suggestion rules too few points
// to read a curve from.
constexpr int64_t kMinRangeIterations = 50;
constexpr double kRangeEndLr = 3.0;
constexpr int64_t kOneCycleIterations = 10000;
constexpr int64_t kBaselineIterations = 80000;
constexpr double kBaselineLr = 0.35;

struct Run {
  std::string name;
  std::string lr;
  TrainConfig config;
  TrainResult result;
};

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

}  // namespace

int run_superconvergence(const CompareFlags& flags) {
  CompareFlags paper = flags;
  paper.common.model = "resnet56";
  if (!flags.was_given("--batch-size")) {
    paper.common.batch_size = kPaperBatchSize;
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
  const TrainConfig base = train_config(paper.common);
  const auto [train, test] = load_data(paper.common.data);
  const fs::path out =
      flags.common.out.empty() ? "out/superconvergence" : flags.common.out;

  const auto range_result = find_lr(range, base, train, test, out);
  const auto& s = range_result.suggestions;
  TORCH_CHECK(s.base_lr && s.max_lr,
              "the range test found no base_lr/max_lr (the loss never fell); "
              "widen --start-lr/--end-lr or raise --num-iter");
  fmt::print(
      "range test: base_lr {:.3g}, max_lr {:.3g}\n", *s.base_lr, *s.max_lr);
  std::fflush(stdout);  // before the runs' progress on standard error

  // Both runs test at the same iterations, so their curves line up.
  const int64_t cycle_iterations = scaled(kOneCycleIterations, flags.scale);
  const int64_t eval_every = curve_eval_every(flags, cycle_iterations);
  const auto configured =
      [&](const std::string& name, PolicyFlags policy, int64_t iterations) {
        TrainConfig config = base;
        config.policy = std::move(policy);
        config.iterations = iterations;
        config.eval_every = eval_every;
        config.eval_images = flags.eval_images;
        config.out_dir = (out / name).string();
        config.label = name;
        return config;
      };

  PolicyFlags one_cycle;
  one_cycle.policy = "one_cycle";
  one_cycle.max_lr = *s.max_lr;
  one_cycle.div_factor = *s.max_lr / *s.base_lr;
  one_cycle.pct_start = 0.5;
  one_cycle.anneal = "linear";
  one_cycle.final_div_factor = 1.0;
  one_cycle.no_cycle_momentum = true;  // the paper keeps momentum at 0.9

  PolicyFlags piecewise;
  piecewise.policy = "fixed";
  piecewise.lr = kBaselineLr;
  const int64_t first_drop = scaled(50000, flags.scale);
  // At the smallest scales the two drops round to the same step; keep them
  // apart so the middle LR is used at all.
  piecewise.milestones = {first_drop,
                          std::max(first_drop + 1, scaled(70000, flags.scale))};
  piecewise.step_gamma = 0.1;

  std::vector<Run> runs = {
      {"1cycle",
       fmt::format("{:.3g}-{:.3g}", *s.base_lr, *s.max_lr),
       configured("1cycle", one_cycle, cycle_iterations),
       {}},
      {"piecewise constant",
       fmt::format("{:g}, /10 at {} and {}",
                   kBaselineLr,
                   piecewise.milestones[0],
                   piecewise.milestones[1]),
       configured("piecewise_constant",
                  piecewise,
                  scaled(kBaselineIterations, flags.scale)),
       {}},
  };
  std::vector<Curve> curves;
  for (auto& run : runs) {
    run.result = train_network(run.config, train, test);
    curves.push_back({fs::path(run.config.out_dir) / "log.csv", run.name});
  }
  if (!base.job.is_main()) {
    return 0;  // rank 0 tabulates and plots
  }

  std::string table = fmt::format(
      "# Super-convergence on {} at scale {} (ResNet-56, batch {}, seed {}, "
      "{})\n\n"
      "Range test: {} iterations, {} from {} to {}; suggested base_lr "
      "{:.3g}, max_lr {:.3g} (the paper: 0.1-3). Momentum {:g}, weight decay "
      "{:g}.\n\n"
      "| policy | LR | iterations | test accuracy | wall time (s) | paper's "
      "run (CIFAR-10, full scale) |\n|---|---|---|---|---|---|\n",
      paper.common.data.dataset,
      flags.scale,
      base.batch_size,
      base.seed,
      base.device.str(),
      range_result.stop_iteration,
      range.sweep,
      range.start_lr,
      range.end_lr,
      *s.base_lr,
      *s.max_lr,
      base.momentum,
      base.weight_decay);
  const char* paper_runs[] = {"CLR 0.1-3, 10,000 iterations",
                              "LR 0.35, /10 at 50,000 and 70,000, 80,000 "
                              "iterations"};
  for (size_t i = 0; i < runs.size(); ++i) {
    table += fmt::format("| {} | {} | {} | {:.2f}% | {:.1f} | {} |\n",
                         runs[i].name,
                         runs[i].lr,
                         runs[i].config.iterations,
                         100 * runs[i].result.final_accuracy,
                         runs[i].result.seconds,
                         paper_runs[i]);
  }
  table += "\n## Test accuracy against iterations\n\n" +
           curve_table(runs[0], runs[1]) + "\n" + accuracy_note(flags);
  write_comparison(out,
                   table,
                   curves,
                   fmt::format("Super-convergence: ResNet-56 test accuracy "
                               "({}, scale {})",
                               paper.common.data.dataset,
                               flags.scale));
  return 0;
}

}  // namespace torchclr::examples
