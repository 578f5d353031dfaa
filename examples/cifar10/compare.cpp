// `cifar10_clr compare`: the paper's Table 1 (fixed, triangular2, decay, exp,
// exp_range with its settings; triangular2 is its Table 2 schedule), every
// length scaled by --scale, tabulated and plotted as its Figure 1; with
// --table 3 or --superconvergence, the other comparisons (comparison.h).

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <memory>

#include "cli_checks.h"
#include "commands.h"
#include "comparison.h"
#include "paper_runs.h"
#include "schedule_flags.h"

namespace torchclr::examples {
namespace {

namespace fs = std::filesystem;

// "- fixed (--lr 0.001): `MultiStepLR(...)`" for each run: the schedules
// the table's rows ran.
std::string schedule_list(const std::vector<PaperRun>& runs) {
  std::string list = "Schedules (train --lr LR --schedule TEXT runs each):\n";
  for (const auto& run : runs) {
    list += fmt::format("- {} (--lr {}): `{}`\n",
                        run.name,
                        run.lr,
                        short_text(run.schedule, 1000));
  }
  return list;
}

int run_table1(const CompareFlags& flags) {
  const TrainConfig base = train_config(flags.common);
  const auto [train, test] = load_data(flags.common.data);
  const std::string out =
      flags.common.out.empty() ? "out/compare" : flags.common.out;
  fs::create_directories(out);
  std::string table = fmt::format(
      "# {} at scale {} (batch {}, seed {}, {})\n\n"
      "| policy | iterations | test accuracy | LR, last 10% of iterations | "
      "wall time (s) | paper (CIFAR-10, full scale) |\n"
      "|---|---|---|---|---|---|\n",
      flags.common.data.dataset,
      flags.scale,
      base.batch_size,
      base.seed,
      base.device.str());
  std::vector<Curve> curves;
  std::vector<PaperRun> runs;
  for (const auto& name : flags.policies) {
    const PaperRun run = table1_run(name, flags.scale);
    runs.push_back(run);
    auto config = with_run(base, run);
    config.eval_every = curve_eval_every(flags, config.iterations);
    config.eval_images = flags.eval_images;
    config.output.out_dir = (fs::path(out) / name).string();
    config.output.label = name;
    const TrainResult result = train_network(config, train, test);
    table += fmt::format("| {} | {} | {:.2f}% | {} | {:.1f} | {} |\n",
                         name,
                         config.iterations,
                         100 * result.final_accuracy,
                         lr_range_text(final_lr_range(run)),
                         result.seconds,
                         run.paper);
    curves.push_back({fs::path(config.output.out_dir) / "log.csv", name});
  }
  if (!base.job.is_main()) {
    return 0;  // rank 0 tabulates and plots
  }
  table += "\n" + accuracy_note(flags);
  table +=
      "LR, last 10% of iterations: the lowest and highest LR of the weights "
      "(conv1's, conv2's and fc's biases train at twice it) over the run's "
      "last 10%: an annealed run ends low.\n";
  const std::string solver = solver_text(base.run.optimizer);
  table += fmt::format("Optimizer: {}.\n\n{}",
                       solver.empty() ? base.run.optimizer : solver,
                       schedule_list(runs));
  write_comparison(out,
                   table,
                   curves,
                   fmt::format("Test accuracy ({}, scale {})",
                               flags.common.data.dataset,
                               flags.scale));
  return 0;
}

// Refuses the range-test flags where no range test runs, and --clr-bounds
// outside --superconvergence.
void check_range_flags(const CompareFlags& flags) {
  const bool range_test =
      flags.table == 3 ||
      (flags.superconvergence && flags.clr_bounds == "range-test");
  for (const char* flag : {"--start-lr", "--end-lr", "--num-iter", "--sweep"}) {
    if (range_test || !flags.was_given(flag)) {
      continue;
    }
    throw CLI::ValidationError(
        flag,
        flags.superconvergence
            ? "--superconvergence takes its 1cycle bounds from "
              "clrsolver.prototxt and runs no range test unless --clr-bounds "
              "range-test"
            : "Table 1 uses the paper's bounds and runs no range test; the "
              "range-test flags are for --table 3 and --superconvergence");
  }
  if (!flags.superconvergence && flags.was_given("--clr-bounds")) {
    throw CLI::ValidationError("--clr-bounds",
                               "it chooses --superconvergence's 1cycle bounds");
  }
}

// Refuses flags that do not belong to the experiment asked for, before any
// data is read.
void check_combination(const CompareFlags& flags) {
  const auto refuse = [](const std::string& flag, const std::string& why) {
    throw CLI::ValidationError(flag, why);
  };
  const bool table3 = flags.table == 3;
  if (flags.superconvergence && flags.was_given("--table")) {
    refuse("--superconvergence",
           "it is its own experiment (ResNet-56, 1cycle against a piecewise-"
           "constant LR); leave out --table");
  }
  if ((table3 || flags.superconvergence) && flags.was_given("--policies")) {
    refuse("--policies",
           fmt::format("only Table 1 takes a policy list; {} runs the "
                       "paper's own policies",
                       table3 ? "--table 3" : "--superconvergence"));
  }
  check_range_flags(flags);
  if (table3 && flags.was_given("--optimizer")) {
    refuse("--optimizer",
           "--table 3 runs each of nesterov, adam, rmsprop, adagrad and "
           "adadelta itself; leave out --optimizer");
  }
  if (table3 && flags.common.model != "cifar10_full") {
    refuse("--model",
           fmt::format("--table 3 is the paper's cifar10_full comparison, not "
                       "{} (ResNet-56 is --superconvergence)",
                       flags.common.model));
  }
  if (flags.superconvergence && flags.was_given("--model") &&
      flags.common.model == "cifar10_full") {
    refuse("--model",
           "--superconvergence is the paper's ResNet-56 run; cifar10_full is "
           "not it (leave out --model for the files' "
           "superconvergence_resnet56, or name superconvergence_resnet20 or "
           "resnet56, He et al.'s)");
  }
}

// Registers compare's own flags (the scale, the table, the runs).
void add_compare_flags(CLI::App* compare, CompareFlags* flags) {
  // Below 1e-4 the scaled exp decay per step underflows to 0; above 100 the
  // runs take months.
  compare
      ->add_option("--scale",
                   flags->scale,
                   "1.0: the paper's iteration counts (1e-4 to 100)")
      ->check(finite_number())
      ->check(CLI::Range(1e-4, 100.0))
      ->capture_default_str();
  compare
      ->add_option("--eval-every",
                   flags->eval_every,
                   "Test every n iterations (default: 1000 x scale, the "
                   "paper's, but at most 25 points per run)")
      ->check(non_negative_number());
  compare
      ->add_option("--eval-images",
                   flags->eval_images,
                   "The curve's points test the first N test images (0: all; "
                   "the table's final accuracy tests all)")
      ->check(non_negative_number())
      ->capture_default_str();
  compare
      ->add_option("--policies",
                   flags->policies,
                   "Table 1's rows to run (`cifar10_clr runs` prints their "
                   "schedules); exp_range is the paper's form, both bounds x "
                   "gamma^it, and exp_range_pytorch PyTorch's, the amplitude "
                   "alone")
      ->check(CLI::IsMember(table1_run_names()))
      ->capture_default_str();
  compare
      ->add_option("--table",
                   flags->table,
                   "1: the LR policies with SGD; 3: nesterov, adam, rmsprop, "
                   "adagrad and adadelta, each fixed and with CLR between "
                   "bounds from its own range test")
      ->check(CLI::IsMember({1, 3}))
      ->capture_default_str();
  compare->add_flag(
      "--superconvergence",
      flags->superconvergence,
      "Smith and Topin's Fig. 1a as their Caffe files run it: the files' "
      "ResNet-56 (superconvergence_resnet56), Caffe's BatchNorm over ghost "
      "batches of 125 in batches of 1000, flips, Caffe's SGD; 1cycle "
      "(triangular 0.1-3, 10,000 iterations) against LR 0.35 (/10 at "
      "50,000 and 70,000, 80,000 iterations); each flag given overrides");
  compare
      ->add_option("--clr-bounds",
                   flags->clr_bounds,
                   "--superconvergence's 1cycle bounds: files "
                   "(clrsolver.prototxt's 0.1-3) or range-test (read off a "
                   "range test run first)")
      ->check(CLI::IsMember({"files", "range-test"}))
      ->capture_default_str();
}

// Runs the table (or super-convergence) the parsed `flags` ask for.
int run_compare(CompareFlags& flags, const CLI::App& compare) {
  for (const auto* option : compare.get_options()) {
    if (option->count() > 0) {
      flags.given.push_back(option->get_name());
    }
  }
  check_combination(flags);
  const auto& optimizer = flags.common.optimizer;
  if (!flags.was_given("--solver") && optimizer != "sgd" &&
      optimizer != "nesterov") {
    flags.common.solver = "pytorch";  // caffe has SGD's alone
  }
  if (flags.superconvergence) {
    return run_superconvergence(flags);
  }
  return flags.table == 3 ? run_table3(flags) : run_table1(flags);
}

}  // namespace

Command add_compare_command(CLI::App& app) {
  auto flags = std::make_shared<CompareFlags>();
  auto* compare = app.add_subcommand(
      "compare",
      "Train the paper's Table 1 policies (or Table 3's adaptive methods, or "
      "super-convergence) and tabulate them");
  // The paper's runs are Caffe's: its SGD update by default (the LR inside
  // the momentum history), for sgd and nesterov.
  flags->common.solver = "caffe";
  add_common_flags(*compare, flags->common);
  add_compare_flags(compare, flags.get());
  add_range_flags(*compare, flags->range);
  return {compare, [flags, compare] { return run_compare(*flags, *compare); }};
}

}  // namespace torchclr::examples
