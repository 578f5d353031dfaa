// `cifar10_clr compare`: the paper's Table 1 (fixed, triangular2, decay, exp,
// exp_range with its settings; triangular2 is its Table 2 schedule), every
// length scaled by --scale, tabulated and plotted as its Figure 1; with
// --table 3 or --superconvergence, the other comparisons (comparison.h).

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <memory>

#include "commands.h"
#include "comparison.h"
#include "policy_cli.h"

namespace torchclr::examples {
namespace {

namespace fs = std::filesystem;

// The paper's Table 1 runs: iterations and accuracy on CIFAR-10.
struct Table1Run {
  const char* policy;
  int64_t iterations;
  double accuracy;
};
const std::vector<Table1Run> kTable1Runs = {
    {"fixed", 70000, 0.814},
    {"triangular2", 25000, 0.814},
    {"decay", 25000, 0.785},
    {"exp", 70000, 0.791},
    {"exp_range", 42000, 0.822},
};

const Table1Run* paper_run(const std::string& policy) {
  for (const auto& run : kTable1Runs) {
    if (policy == run.policy) {
      return &run;
    }
  }
  return nullptr;
}

// The paper's settings for `policy`, with every length scaled by `scale`
// (examples/cifar10/README.md quotes the paper for each).
PolicyFlags paper_policy(const std::string& policy,
                         double scale,
                         const std::string& exp_range_form) {
  PolicyFlags f;
  f.policy = policy;
  f.exp_range_form = exp_range_form;
  f.base_lr = 0.001;
  f.max_lr = 0.006;
  f.step_size_up = scaled(2000, scale);
  f.T_0 = scaled(2000, scale);
  f.lr = policy == "decay" ? 0.007 : 0.001;
  f.end_lr = 0.001;
  f.decay_iters = scaled(4000, scale);
  f.milestones = {scaled(60000, scale), scaled(65000, scale)};
  f.step_size = scaled(10000, scale);
  // Per-iteration decay, so the whole scaled run decays as the paper's did.
  f.gamma = std::pow(0.99994, 1.0 / scale);
  if (policy == "triangular2") {
    // The paper's Table 2 run, the one behind Table 1's triangular2 row:
    // bounds and step size cut at 16,000 and 22,000 iterations. One
    // CyclicLR of 0.001-0.006 for 25,000 iterations is not it (its
    // amplitude halves to nothing and the run stalls).
    struct Stage {
      double base_lr, max_lr;
      int64_t step_size_up;
    };
    for (const Stage& stage : {Stage{0.001, 0.005, 2000},
                               Stage{0.0001, 0.0005, 1000},
                               Stage{0.00001, 0.00005, 500}}) {
      PolicyFlags cyclic = f;
      cyclic.base_lr = stage.base_lr;
      cyclic.max_lr = stage.max_lr;
      cyclic.step_size_up = scaled(stage.step_size_up, scale);
      f.stages.push_back(cyclic);
    }
    // At the smallest scales the two round to the same step; keep the
    // middle stage at least one step long.
    const int64_t first = scaled(16000, scale);
    f.stage_milestones = {first, std::max(first + 1, scaled(22000, scale))};
  }
  return f;
}

// The table's and the plot's name of a row: exp_range says which form.
std::string row_label(const std::string& policy, const std::string& form) {
  if (policy != "exp_range") {
    return policy;
  }
  return form == "paper" ? "exp_range (paper's form)"
                         : "exp_range (PyTorch's form)";
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
  for (const auto& policy : flags.policies) {
    const Table1Run* run = paper_run(policy);
    auto config = base;
    config.policy = paper_policy(policy, flags.scale, flags.exp_range_form);
    config.iterations = scaled(run ? run->iterations : 25000, flags.scale);
    config.eval_every = curve_eval_every(flags, config.iterations);
    config.eval_images = flags.eval_images;
    config.out_dir = (fs::path(out) / policy).string();
    const std::string label = row_label(policy, flags.exp_range_form);
    config.label = label;
    if (policy == "exp_range" && base.job.is_main()) {
      fmt::print("exp_range: {} (--exp-range-form {} for {})\n",
                 exp_range_form_text(flags.exp_range_form),
                 flags.exp_range_form == "paper" ? "pytorch" : "paper",
                 flags.exp_range_form == "paper" ? "PyTorch's" : "the paper's");
    }
    const TrainResult result = train_network(config, train, test);
    const std::string paper =
        run ? fmt::format("{:.1f}% at {}", 100 * run->accuracy, run->iterations)
            : "-";
    table += fmt::format(
        "| {} | {} | {:.2f}% | {} | {:.1f} | {} |\n",
        label,
        config.iterations,
        100 * result.final_accuracy,
        lr_range_text(final_lr_range(config.policy, config.iterations)),
        result.seconds,
        paper);
    curves.push_back({fs::path(config.out_dir) / "log.csv", label});
  }
  if (!base.job.is_main()) {
    return 0;  // rank 0 tabulates and plots
  }
  table += "\n" + accuracy_note(flags);
  table +=
      "LR, last 10% of iterations: the lowest and highest LR of the weights "
      "(conv1's, conv2's and fc's biases train at twice it) over the run's "
      "last 10%: an annealed run "
      "ends low.\n";
  if (std::find(flags.policies.begin(), flags.policies.end(), "exp_range") !=
      flags.policies.end()) {
    table += fmt::format("exp_range: {}.\n",
                         exp_range_form_text(flags.exp_range_form));
  }
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
  if (flags.was_given("--exp-range-form")) {
    if (table3 || flags.superconvergence) {
      refuse("--exp-range-form",
             fmt::format("only Table 1 has an exp_range row; {} has none",
                         table3 ? "--table 3" : "--superconvergence"));
    }
    if (std::find(flags.policies.begin(), flags.policies.end(), "exp_range") ==
        flags.policies.end()) {
      refuse("--exp-range-form", "--policies has no exp_range row");
    }
  }
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
  if (flags.superconvergence && flags.common.data.dataset == "fashion-mnist") {
    refuse("--dataset",
           "--superconvergence trains ResNet-56, which takes 3x32x32 colour "
           "images; fashion-mnist has 1x28x28 (use cifar10 or cifar100)");
  }
}

}  // namespace

Command add_compare_command(CLI::App& app) {
  auto flags = std::make_shared<CompareFlags>();
  auto* compare = app.add_subcommand(
      "compare",
      "Train the paper's Table 1 policies (or Table 3's adaptive methods, or "
      "super-convergence) and tabulate them");
  add_common_flags(*compare, flags->common);
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
  compare->add_option("--policies", flags->policies)
      ->check(CLI::IsMember(policy_names()))
      ->capture_default_str();
  compare
      ->add_option("--exp-range-form",
                   flags->exp_range_form,
                   "Table 1's exp_range: paper (both bounds x gamma^it, the "
                   "paper's section 3.1) or pytorch (amplitude x gamma^it, "
                   "PyTorch's CyclicLR)")
      ->check(CLI::IsMember(exp_range_form_names()))
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
  add_range_flags(*compare, flags->range);
  return {compare, [flags, compare] {
            for (const auto* option : compare->get_options()) {
              if (option->count() > 0) {
                flags->given.push_back(option->get_name());
              }
            }
            check_combination(*flags);
            if (flags->superconvergence) {
              return run_superconvergence(*flags);
            }
            return flags->table == 3 ? run_table3(*flags) : run_table1(*flags);
          }};
}

}  // namespace torchclr::examples
