// `cifar10_clr workflow`: the paper's method end to end. A range test picks
// base_lr and max_lr; CLR (triangular2 between them, a step size of
// --step-size-epochs, a budget that ends where a cycle ends) and a fixed LR
// read off the same curve train for the same budget, for each seed; the job
// writes results.md (with a verdict), workflow.png and each run's log.

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <memory>

#include "cli_checks.h"
#include "commands.h"
#include "find_lr.h"
#include "paper_range_test.h"
#include "paper_runs.h"

namespace torchclr::examples {
namespace {

namespace fs = std::filesystem;

struct WorkflowFlags {
  CommonFlags common;
  RangeFlags range;
  RangeMethodFlags range_method;
  double step_size_epochs = 2;
  int64_t cycles = 1;
  std::vector<uint64_t> seeds = {1, 2};
  std::string fixed_rule = "max_lr";
  int64_t eval_points = 12;
  int64_t eval_images = 2000;
};

struct SeedRun {
  std::string policy;
  uint64_t seed;
  TrainResult result;
};

// The single LR a range-test user would train with, by `rule`.
double fixed_lr(const LRSuggestions& s, const std::string& rule) {
  const std::optional<double> picked = rule == "valley"     ? s.valley_lr
                                       : rule == "steepest" ? s.steepest_lr
                                                            : s.max_lr;
  TORCH_CHECK(picked,
              "the range test gave no ",
              rule,
              " suggestion; try another --fixed-rule or a longer --num-iter");
  return *picked;
}

// The first logged iteration at which `run` reached `accuracy`, if any.
std::optional<int64_t> iterations_to_reach(const SeedRun& run,
                                           double accuracy) {
  for (const auto& row : run.result.log) {
    if (row.test_accuracy >= accuracy) {
      return row.iteration;
    }
  }
  return std::nullopt;
}

double mean_final(const std::vector<SeedRun>& runs, const std::string& policy) {
  double sum = 0;
  int count = 0;
  for (const auto& run : runs) {
    if (run.policy == policy) {
      sum += run.result.final_accuracy;
      ++count;
    }
  }
  return sum / count;
}

// Largest gap between two seeds of the same policy (0 with one seed).
double seed_spread(const std::vector<SeedRun>& runs) {
  double spread = 0;
  for (const auto& a : runs) {
    for (const auto& b : runs) {
      if (a.policy == b.policy) {
        spread =
            std::max(spread, a.result.final_accuracy - b.result.final_accuracy);
      }
    }
  }
  return spread;
}

std::string verdict(const std::vector<SeedRun>& runs,
                    const std::string& dataset,
                    int64_t iterations,
                    size_t seeds,
                    const std::string& reached) {
  const double clr = mean_final(runs, "triangular2");
  const double fixed = mean_final(runs, "fixed");
  const double gap = 100 * (clr - fixed);
  const double spread = 100 * seed_spread(runs);
  std::string text = fmt::format(
      "On {} with {} iterations per run and {} seed{}, CLR ended at {:.2f}% "
      "and the fixed LR at {:.2f}% (means over seeds): ",
      dataset,
      iterations,
      seeds,
      seeds == 1 ? "" : "s",
      100 * clr,
      100 * fixed);
  if (seeds < 2) {
    text += fmt::format(
        "CLR is {:.2f} points {}; with one seed there is no measure of how "
        "far seeds fall, so this is no verdict. ",
        std::abs(gap),
        gap >= 0 ? "ahead" : "behind");
  } else if (std::abs(gap) <= spread) {
    text += fmt::format(
        "a difference of {:+.2f} points, within the {:.2f} points between "
        "seeds of the same policy: on this data and budget CLR and the "
        "fixed LR are about even. ",
        gap,
        spread);
  } else {
    text += fmt::format(
        "{} won by {:.2f} points, more than the {:.2f} points between seeds "
        "of the same policy. ",
        gap > 0 ? "CLR" : "the fixed LR",
        std::abs(gap),
        spread);
  }
  text += reached;
  return text;
}

std::string plot_script(const RangeOutcome& outcome,
                        const std::vector<SeedRun>& runs,
                        double base_lr,
                        double max_lr,
                        double fixed,
                        const std::string& dataset) {
  std::string script =
      "set terminal pngcairo size 1200,450 noenhanced\n"
      "set multiplot layout 1,2\n$range << EOD\n";
  for (const auto& point : outcome.result.points) {
    script += fmt::format("{} {}\n", point.lr, point.smoothed_loss);
  }
  script += "EOD\n";
  for (size_t i = 0; i < runs.size(); ++i) {
    script += fmt::format("$run{} << EOD\n", i);
    for (const auto& row : runs[i].result.log) {
      script += fmt::format("{} {}\n", row.iteration, row.test_accuracy);
    }
    script += "EOD\n";
  }
  script += fmt::format(
      "set title {}\nset logscale x\nset format x '%.0e'\n"
      "set xlabel 'learning rate'\nset ylabel 'smoothed training loss'\n"
      "set grid\nunset key\n"
      "set arrow from {},graph 0 to {},graph 1 nohead dt 2 lc 'blue'\n"
      "set arrow from {},graph 0 to {},graph 1 nohead dt 2 lc 'blue'\n"
      "set arrow from {},graph 0 to {},graph 1 nohead dt 3 lc 'red'\n"
      "plot $range using 1:2 with lines lw 2\n",
      gnuplot_quote("LR range test: " + outcome.method + " (" + dataset +
                    "); dashed: base_lr, max_lr; dotted: fixed LR"),
      base_lr,
      base_lr,
      max_lr,
      max_lr,
      fixed,
      fixed);
  script +=
      "unset arrow\nunset logscale x\nset format x '%g'\n"
      "set title 'Test accuracy'\nset key bottom right\n"
      "set xlabel 'iteration'\nset ylabel 'test accuracy'\n"
      "plot ";
  for (size_t i = 0; i < runs.size(); ++i) {
    script += fmt::format(
        "{}$run{} using 1:2 with linespoints lc '{}' dt {} title '{} seed {}'",
        i == 0 ? "" : ", ",
        i,
        runs[i].policy == "fixed" ? "red" : "blue",
        1 + static_cast<int>(i / 2),
        runs[i].policy,
        runs[i].seed);
  }
  return script + "\nunset multiplot\n";
}

// What the range test decided: the bounds, the fixed LR and the budget.
struct Plan {
  RangeOutcome outcome;
  double base_lr = 0;
  double max_lr = 0;
  double fixed_lr = 0;
  int64_t per_epoch = 0;
  int64_t step_size = 0;
  int64_t iterations = 0;
};

// 1. The range test picks the bounds and the fixed LR; 2. the same budget
// for both policies: whole cycles of 2 x step_size_up.
Plan plan_runs(const WorkflowFlags& flags,
               const CLI::App& app,
               const TrainConfig& base,
               const DataSplit& train,
               const DataSplit& test,
               const fs::path& out) {
  TrainConfig range_config = base;
  range_config.seed = flags.seeds.front();
  Plan plan;
  plan.outcome = run_range_method(
      flags.range_method, flags.range, app, range_config, train, test, out);
  LRSuggestions s = plan.outcome.result.suggestions;
  s.base_lr = plan.outcome.base_lr;  // the paper's test reads them off accuracy
  s.max_lr = plan.outcome.max_lr;
  TORCH_CHECK(s.base_lr && s.max_lr,
              "the ",
              plan.outcome.method,
              " range test found no base_lr/max_lr (its curve never "
              "improved); widen --start-lr/--end-lr or sweep longer");
  plan.base_lr = *s.base_lr;
  plan.max_lr = *s.max_lr;
  plan.fixed_lr = fixed_lr(s, flags.fixed_rule);
  plan.per_epoch = train.size() / base.batch_size;
  plan.step_size =
      std::max<int64_t>(1,
                        std::llround(flags.step_size_epochs *
                                     static_cast<double>(plan.per_epoch)));
  plan.iterations = 2 * plan.step_size * flags.cycles;
  fmt::print(
      "workflow: range test {}\n"
      "  base_lr {:.3g}, max_lr {:.3g}, fixed lr {:.3g} ({} rule); "
      "{} iterations ({} cycle(s) of 2 x {}) per run\n",
      plan.outcome.description,
      plan.base_lr,
      plan.max_lr,
      plan.fixed_lr,
      flags.fixed_rule,
      plan.iterations,
      flags.cycles,
      plan.step_size);
  std::fflush(stdout);  // before the runs' progress on standard error
  return plan;
}

// The run of `policy` (triangular2 or fixed) with `seed`: CLR between the
// bounds found; the fixed LR from the optimizer alone (a factor of 1, never
// changed).
TrainConfig workflow_config(const WorkflowFlags& flags,
                            const Plan& plan,
                            const TrainConfig& base,
                            const std::string& policy,
                            uint64_t seed,
                            const fs::path& out) {
  TrainConfig config = base;
  config.seed = seed;
  const bool fixed = policy == "fixed";
  config.run.schedule.text =
      fixed ? "ConstantLR(factor=1, total_iters=1)"
            : cyclic_text(policy, plan.base_lr, plan.max_lr, plan.step_size);
  config.run.lr = fixed ? plan.fixed_lr : plan.base_lr;
  config.iterations = plan.iterations;
  config.eval_every = std::max<int64_t>(1, plan.iterations / flags.eval_points);
  config.eval_images = flags.eval_images;
  config.output.out_dir =
      (out / fmt::format("{}_seed{}", policy, seed)).string();
  config.output.label = fmt::format("{} seed {}", policy, seed);
  return config;
}

std::string table_header(const WorkflowFlags& flags,
                         const Plan& plan,
                         const TrainConfig& base) {
  const auto& range = plan.outcome.result;
  return fmt::format(
      "# The paper's workflow on {}\n\n"
      "Range test: {}; {} iterations, {} to {}; suggested base_lr {:.3g}, "
      "max_lr {:.3g}; fixed LR {:.3g} (rule: {}).\n"
      "Budget: {} iterations ({:.1f} epochs) per run, batch {}; CLR is "
      "triangular2 with step_size_up {} ({} epochs), ending at the end of "
      "cycle {}.\n\n"
      "| policy | seed | LR | final test accuracy | iterations to reach "
      "fixed's final accuracy | training time (s) |\n"
      "|---|---|---|---|---|---|\n",
      flags.common.data.dataset,
      plan.outcome.description,
      range.stop_iteration,
      range.points.empty() ? 0.0 : range.points.front().lr,
      range.points.empty() ? 0.0 : range.points.back().lr,
      plan.base_lr,
      plan.max_lr,
      plan.fixed_lr,
      flags.fixed_rule,
      plan.iterations,
      static_cast<double>(plan.iterations) /
          static_cast<double>(plan.per_epoch),
      base.batch_size,
      plan.step_size,
      flags.step_size_epochs,
      flags.cycles);
}

// The two rows of one seed (CLR, then fixed), and the sentence saying when
// CLR reached fixed's final accuracy (appended to `reached_text`).
std::string seed_rows(const Plan& plan,
                      const SeedRun& clr,
                      const SeedRun& fixed_run,
                      std::string& reached_text) {
  const int64_t iterations = plan.iterations;
  const double target = fixed_run.result.log.back().test_accuracy;
  const auto reached = iterations_to_reach(clr, target);
  const std::string reached_cell =
      !reached ? std::string("not reached")
      : *reached < iterations
          ? fmt::format("{} ({:.2f}x fewer)",
                        *reached,
                        static_cast<double>(iterations) / *reached)
          : fmt::format("{} (at the end)", *reached);
  reached_text += fmt::format(
      "{}Seed {}: CLR reached the fixed LR's final curve accuracy ({:.2f}%) "
      "{}.",
      reached_text.empty() ? "" : " ",
      clr.seed,
      100 * target,
      reached ? fmt::format("at iteration {} of {}", *reached, iterations)
              : std::string("at no point of its curve"));
  return fmt::format(
             "| triangular2 | {} | {:.3g}-{:.3g} | {:.2f}% | {} | {:.1f} |\n",
             clr.seed,
             plan.base_lr,
             plan.max_lr,
             100 * clr.result.final_accuracy,
             reached_cell,
             clr.result.seconds) +
         fmt::format("| fixed | {} | {:.3g} | {:.2f}% | {} | {:.1f} |\n",
                     fixed_run.seed,
                     plan.fixed_lr,
                     100 * fixed_run.result.final_accuracy,
                     iterations,
                     fixed_run.result.seconds);
}

// 3. The table, the paper's headline measure and the verdict.
std::string results_table(const WorkflowFlags& flags,
                          const Plan& plan,
                          const TrainConfig& base,
                          const std::vector<SeedRun>& runs) {
  std::string table = table_header(flags, plan, base);
  std::string reached_text;
  for (size_t i = 0; i + 1 < runs.size(); i += 2) {
    table += seed_rows(plan, runs[i], runs[i + 1], reached_text);
  }
  return table +
         fmt::format(
             "\nFinal test accuracy: the whole test split after the last "
             "iteration. The curves (workflow.png, each run's log.csv) and "
             "the iterations to reach fixed's final accuracy use {} points "
             "per run on the first {} test images, for both policies "
             "alike.\n\n## Verdict\n\n{}\n",
             flags.eval_points,
             flags.eval_images,
             verdict(runs,
                     flags.common.data.dataset,
                     plan.iterations,
                     flags.seeds.size(),
                     reached_text));
}

void write_results(const WorkflowFlags& flags,
                   const Plan& plan,
                   const std::vector<SeedRun>& runs,
                   const std::string& table,
                   const fs::path& out) {
  torchclr::write_file_atomically(out / "results.md", table, "--out");
  fmt::print("\n{}\n", table);
  const auto png = out / "workflow.png";
  const auto plot =
      torchclr::render_gnuplot(plot_script(plan.outcome,
                                           runs,
                                           plan.base_lr,
                                           plan.max_lr,
                                           plan.fixed_lr,
                                           flags.common.data.dataset),
                               png);
  fmt::print("wrote {}{}\n",
             (out / "results.md").string(),
             plot.status == torchclr::PlotStatus::kWritten
                 ? " and " + png.string()
                 : "; no plot: " + plot.message);
}

int run_workflow(const WorkflowFlags& flags, const CLI::App& app) {
  const TrainConfig base = train_config(flags.common);
  const auto [train, test] = load_data(flags.common.data);
  const fs::path out =
      flags.common.out.empty() ? "out/workflow" : flags.common.out;
  const Plan plan = plan_runs(flags, app, base, train, test, out);

  std::vector<SeedRun> runs;
  for (const uint64_t seed : flags.seeds) {
    for (const std::string policy : {"triangular2", "fixed"}) {
      const TrainConfig config =
          workflow_config(flags, plan, base, policy, seed, out);
      runs.push_back({policy, seed, train_network(config, train, test)});
    }
  }
  if (!base.job.is_main()) {
    return 0;  // rank 0 alone has the accuracies, and writes the results
  }
  write_results(flags, plan, runs, results_table(flags, plan, base, runs), out);
  return 0;
}

}  // namespace

Command add_workflow_command(CLI::App& app) {
  auto flags = std::make_shared<WorkflowFlags>();
  // Offline, and within 10 minutes on 2 CPU cores: half of Fashion-MNIST's
  // training split (4 epochs of it per run, 2 seeds x 2 policies).
  flags->common.data.dataset = "fashion-mnist";
  flags->common.data.train_limit = 30000;
  auto* workflow = app.add_subcommand(
      "workflow",
      "The paper's method: range test, then CLR against a fixed LR at the "
      "same budget");
  add_common_flags(*workflow, flags->common);
  add_range_flags(*workflow, flags->range);
  add_range_method_flags(
      *workflow, flags->range_method, "--range-test", "--range-epochs");
  workflow
      ->add_option("--step-size-epochs",
                   flags->step_size_epochs,
                   "CLR half cycle in epochs (the paper: 2 to 10)")
      ->check(finite_number())
      ->check(CLI::Range(0.01, 100.0))
      ->capture_default_str();
  workflow
      ->add_option("--cycles",
                   flags->cycles,
                   "Whole CLR cycles in the budget (each 2 x step size)")
      ->check(CLI::Range(int64_t{1}, int64_t{100}))
      ->capture_default_str();
  workflow->add_option("--seeds", flags->seeds, "One pair of runs per seed")
      ->check(non_negative_number())
      ->capture_default_str();
  workflow
      ->add_option("--fixed-rule",
                   flags->fixed_rule,
                   "Which range-test suggestion the fixed LR takes")
      ->check(CLI::IsMember({"valley", "max_lr", "steepest"}))
      ->capture_default_str();
  workflow
      ->add_option("--eval-points", flags->eval_points, "Curve points per run")
      ->check(CLI::Range(int64_t{1}, int64_t{1000}))
      ->capture_default_str();
  workflow
      ->add_option("--eval-images",
                   flags->eval_images,
                   "The curve's points test the first N test images (0: all)")
      ->check(non_negative_number())
      ->capture_default_str();
  return {workflow,
          [flags, workflow] { return run_workflow(*flags, *workflow); }};
}

}  // namespace torchclr::examples
