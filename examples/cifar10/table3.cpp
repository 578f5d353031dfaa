// `cifar10_clr compare --table 3`: the paper's Table 3 (Smith 2017, section
// 4.1.1). cifar10_full trained with each adaptive method at a fixed LR and
// with CLR (triangular, step 2,000), the bounds found by a range test run
// with that method, as the paper found them; the fixed LR is the lower bound
// ("Just the lower bound was used for base_lr for the fixed policy").

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <map>

#include "comparison.h"
#include "schedule_flags.h"

namespace torchclr::examples {
namespace {

namespace fs = std::filesystem;

// The paper's Table 3: its bounds per method and its runs on CIFAR-10.
struct PaperBounds {
  const char* optimizer;
  double base_lr, max_lr;
};
const std::vector<PaperBounds> kPaperBounds = {
    {"nesterov", 0.001, 0.006},
    {"adam", 0.0005, 0.002},
    {"rmsprop", 0.0001, 0.0003},
    {"adagrad", 0.003, 0.035},
    {"adadelta", 0.01, 0.1},
};
struct Table3Run {
  const char* optimizer;
  const char* policy;  // fixed, or triangular between the bounds
  int64_t iterations;
  double accuracy;
};
const std::vector<Table3Run> kTable3Runs = {
    {"nesterov", "fixed", 70000, 0.821},
    {"nesterov", "triangular", 25000, 0.813},
    {"adam", "fixed", 70000, 0.814},
    {"adam", "triangular", 25000, 0.798},
    {"adam", "triangular", 70000, 0.811},
    {"rmsprop", "fixed", 70000, 0.752},
    {"rmsprop", "triangular", 25000, 0.728},
    {"rmsprop", "triangular", 70000, 0.751},
    {"adagrad", "fixed", 70000, 0.746},
    {"adagrad", "triangular", 25000, 0.760},
    {"adadelta", "fixed", 70000, 0.673},
    {"adadelta", "triangular", 25000, 0.673},
};

struct Bounds {
  double base_lr, max_lr;
};

// The paper's bounds for `optimizer`, and its index (its curves' colour).
size_t paper_bounds_index(const std::string& optimizer) {
  const auto paper = std::find_if(
      kPaperBounds.begin(), kPaperBounds.end(), [&](const auto& b) {
        return std::string(b.optimizer) == optimizer;
      });
  TORCH_INTERNAL_ASSERT(paper != kPaperBounds.end(), optimizer);
  return static_cast<size_t>(paper - kPaperBounds.begin());
}

// Each method's bounds from its own range test. All of them first, so a
// method whose curve gives no bounds stops the job before any long run.
std::map<std::string, Bounds> find_bounds(const CompareFlags& flags,
                                          const RangeFlags& range,
                                          const TrainConfig& base,
                                          const DataSplit& train,
                                          const DataSplit& test,
                                          const fs::path& out) {
  std::map<std::string, Bounds> bounds;
  for (const auto& paper : kPaperBounds) {
    TrainConfig config = base;
    config.run.optimizer = optimizer_kind(paper.optimizer, flags.common.solver);
    const auto result =
        find_lr(range, config, train, test, out / paper.optimizer);
    const auto& s = result.suggestions;
    TORCH_CHECK(s.base_lr && s.max_lr,
                "the range test with --optimizer ",
                paper.optimizer,
                " found no base_lr/max_lr (the loss never fell); widen "
                "--start-lr/--end-lr or raise --num-iter");
    bounds[paper.optimizer] = {*s.base_lr, *s.max_lr};
    fmt::print("range test, {}: base_lr {:.3g}, max_lr {:.3g}\n",
               paper.optimizer,
               *s.base_lr,
               *s.max_lr);
  }
  std::fflush(stdout);  // before the runs' progress on standard error
  return bounds;
}

// The training run of the paper's `run`, between the bounds `found`.
TrainConfig table3_config(const CompareFlags& flags,
                          const TrainConfig& base,
                          const Table3Run& run,
                          const Bounds& found,
                          const fs::path& out) {
  TrainConfig config = base;
  config.run.optimizer = optimizer_kind(run.optimizer, flags.common.solver);
  config = with_run(config,
                    table3_run(run.policy,
                               found.base_lr,
                               found.max_lr,
                               run.iterations,
                               flags.scale));
  config.eval_every = curve_eval_every(flags, config.iterations);
  config.eval_images = flags.eval_images;
  const std::string name = fmt::format("{}_{}", run.policy, config.iterations);
  config.output.out_dir = (out / run.optimizer / name).string();
  config.output.label = fmt::format("{} {}", run.optimizer, name);
  return config;
}

std::string table_header(const CompareFlags& flags,
                         const TrainConfig& base,
                         const RangeFlags& range) {
  return fmt::format(
      "# Table 3 on {} at scale {} (cifar10_full, batch {}, seed {}, {})\n\n"
      "Bounds: the range test of each method ({} iterations, {} from {} to "
      "{}); the fixed LR is the lower bound, as in the paper.\n\n"
      "| optimizer | policy | LR | paper's LR | iterations | test accuracy "
      "| wall time (s) | paper (CIFAR-10, full scale) |\n"
      "|---|---|---|---|---|---|---|---|\n",
      flags.common.data.dataset,
      flags.scale,
      base.batch_size,
      base.seed,
      base.device.str(),
      range.num_iter,
      range.sweep,
      range.start_lr,
      range.end_lr);
}

// The table's row of `run`, trained as `config` to `result`.
std::string table_row(const Table3Run& run,
                      const Bounds& found,
                      const TrainConfig& config,
                      const TrainResult& result) {
  const bool fixed = std::string(run.policy) == "fixed";
  const PaperBounds& paper = kPaperBounds[paper_bounds_index(run.optimizer)];
  return fmt::format(
      "| {} | {} | {} | {} | {} | {:.2f}% | {:.1f} | {:.1f}% at {} |\n",
      run.optimizer,
      run.policy,
      fixed ? fmt::format("{:.3g}", found.base_lr)
            : fmt::format("{:.3g}-{:.3g}", found.base_lr, found.max_lr),
      fixed ? fmt::format("{:g}", paper.base_lr)
            : fmt::format("{:g}-{:g}", paper.base_lr, paper.max_lr),
      config.iterations,
      100 * result.final_accuracy,
      result.seconds,
      100 * run.accuracy,
      run.iterations);
}

// `run`'s curve: one colour per method; fixed solid, CLR dashed (dotted at
// 70,000).
Curve table_curve(const Table3Run& run, const TrainConfig& config) {
  const bool fixed = std::string(run.policy) == "fixed";
  const auto method = static_cast<int>(paper_bounds_index(run.optimizer));
  return {fs::path(config.output.out_dir) / "log.csv",
          config.output.label,
          fmt::format("lw 2 lc {} dt {}",
                      method + 1,
                      fixed                     ? 1
                      : run.iterations == 70000 ? 3
                                                : 2)};
}

std::string table_footer(const CompareFlags& flags, const TrainConfig& base) {
  return fmt::format(
      "\nfixed: the LR divided by 10 at {} and {} iterations (Caffe's "
      "cifar10_full schedule, Table 1's fixed run); triangular: step size "
      "{}. Weight decay {:g}, momentum (Nesterov) and beta1 (Adam) {:g}. "
      "nesterov's update: {}.\n",
      scaled(60000, flags.scale),
      scaled(65000, flags.scale),
      scaled(2000, flags.scale),
      base.run.weight_decay,
      base.run.momentum,
      solver_text(optimizer_kind("nesterov", flags.common.solver)));
}

}  // namespace

int run_table3(const CompareFlags& flags) {
  RangeFlags range = flags.range;
  // Wide enough that AdaDelta's bounds (0.01-0.1 in the paper) lie inside
  // the sweep and each method's loss turns before it ends.
  if (!flags.was_given("--end-lr")) {
    range.end_lr = 1.0;
  }
  const TrainConfig base = train_config(flags.common);
  const auto [train, test] = load_data(flags.common.data);
  const fs::path out =
      flags.common.out.empty() ? "out/compare_table3" : flags.common.out;
  const auto bounds = find_bounds(flags, range, base, train, test, out);

  std::string table = table_header(flags, base, range);
  std::vector<Curve> curves;
  std::string schedules = "Schedules (train --lr LR --schedule TEXT):\n";
  for (const auto& run : kTable3Runs) {
    const Bounds& found = bounds.at(run.optimizer);
    const TrainConfig config = table3_config(flags, base, run, found, out);
    const TrainResult result = train_network(config, train, test);
    schedules += fmt::format("- {} (--lr {:.3g}): `{}`\n",
                             config.output.label,
                             config.run.lr,
                             short_text(config.run.schedule.text, 1000));
    table += table_row(run, found, config, result);
    curves.push_back(table_curve(run, config));
  }
  table += table_footer(flags, base);
  if (!base.job.is_main()) {
    return 0;  // rank 0 tabulates and plots
  }
  table += accuracy_note(flags) + "\n" + schedules;
  write_comparison(out,
                   table,
                   curves,
                   fmt::format("Table 3: test accuracy ({}, scale {})",
                               flags.common.data.dataset,
                               flags.scale));
  return 0;
}

}  // namespace torchclr::examples
