// `cifar10_clr compare`: the paper's Table 1 (fixed, triangular2, decay, exp,
// exp_range with its settings; triangular2 is its Table 2 schedule), every
// length scaled by --scale, tabulated and plotted as its Figure 1.

#include <fmt/format.h>

#include <cmath>
#include <filesystem>
#include <memory>

#include "commands.h"
#include "policy_cli.h"

namespace torchclr::examples {
namespace {

namespace fs = std::filesystem;

// The paper's Table 1 runs: iterations and accuracy on CIFAR-10.
struct PaperRun {
  const char* policy;
  int64_t iterations;
  double accuracy;
};
const std::vector<PaperRun> kPaperRuns = {
    {"fixed", 70000, 0.814},
    {"triangular2", 25000, 0.814},
    {"decay", 25000, 0.785},
    {"exp", 70000, 0.791},
    {"exp_range", 42000, 0.822},
};

// At most this many points per curve, so evaluation stays a small share of
// a short run.
constexpr int64_t kMaxCurvePoints = 25;

// `iterations` of the paper's runs at `scale`, at least 1.
int64_t scaled(int64_t iterations, double scale) {
  return std::max<int64_t>(1, std::llround(iterations * scale));
}

const PaperRun* paper_run(const std::string& policy) {
  for (const auto& run : kPaperRuns) {
    if (policy == run.policy) {
      return &run;
    }
  }
  return nullptr;
}

// The paper's settings for `policy`, with every length scaled by `scale`.
PolicyFlags paper_policy(const std::string& policy, double scale) {
  PolicyFlags f;
  f.policy = policy;
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

struct CompareFlags {
  CommonFlags common;
  double scale = 1.0;
  int64_t eval_every = 0;
  int64_t eval_images = 1000;
  std::vector<std::string> policies = {
      "fixed", "triangular2", "decay", "exp", "exp_range"};
};

int run_compare(const CompareFlags& flags) {
  const TrainConfig base = train_config(flags.common);
  const auto [train, test] = load_data(flags.common.data);
  const std::string out =
      flags.common.out.empty() ? "out/compare" : flags.common.out;
  fs::create_directories(out);
  std::string table = fmt::format(
      "# {} at scale {} (batch {}, seed {}, {})\n\n"
      "| policy | iterations | test accuracy | wall time (s) | paper "
      "(CIFAR-10, full scale) |\n|---|---|---|---|---|\n",
      flags.common.data.dataset,
      flags.scale,
      base.batch_size,
      base.seed,
      base.device.str());
  std::string plots;
  for (const auto& policy : flags.policies) {
    const PaperRun* run = paper_run(policy);
    auto config = base;
    config.policy = paper_policy(policy, flags.scale);
    config.iterations = scaled(run ? run->iterations : 25000, flags.scale);
    config.eval_every =
        flags.eval_every > 0
            ? flags.eval_every
            : std::max(
                  scaled(1000, flags.scale),
                  (config.iterations + kMaxCurvePoints - 1) / kMaxCurvePoints);
    config.eval_images = flags.eval_images;
    config.out_dir = (fs::path(out) / policy).string();
    config.label = policy;
    const TrainResult result = train_network(config, train, test);
    const std::string paper =
        run ? fmt::format("{:.1f}% at {}", 100 * run->accuracy, run->iterations)
            : "-";
    table += fmt::format("| {} | {} | {:.2f}% | {:.1f} | {} |\n",
                         policy,
                         config.iterations,
                         100 * result.final_accuracy,
                         result.seconds,
                         paper);
    plots += fmt::format("{}{} every ::1 using 1:5 with lines lw 2 title '{}'",
                         plots.empty() ? "plot " : ", ",
                         torchclr::gnuplot_quote(
                             (fs::path(config.out_dir) / "log.csv").string()),
                         policy);
  }
  if (!base.job.is_main()) {
    return 0;  // rank 0 tabulates and plots
  }
  table += fmt::format(
      "\nTest accuracy: the whole test split at the end of each run. The "
      "plot's points test the first {} test images.\n",
      flags.eval_images > 0 ? fmt::format("{}", flags.eval_images)
                            : std::string("all"));
  const auto table_path = fs::path(out) / "results.md";
  torchclr::write_file_atomically(table_path, table, "--out");
  const auto png = fs::path(out) / "accuracy.png";
  const std::string script = fmt::format(
      "set terminal pngcairo size 900,450 noenhanced\n"
      "set datafile separator ','\nset title 'Test accuracy ({}, scale {})'\n"
      "set xlabel 'iteration'\nset ylabel 'test accuracy'\nset key bottom "
      "right\nset grid\n{}\n",
      flags.common.data.dataset,
      flags.scale,
      plots);
  fmt::print("{}\n", table);
  const auto plot = torchclr::render_gnuplot(script, png);
  if (plot.status == torchclr::PlotStatus::kWritten) {
    fmt::print("wrote {} and {}\n", table_path.string(), png.string());
  } else {
    fmt::print("wrote {}; no plot ({})\n", table_path.string(), plot.message);
  }
  return 0;
}

}  // namespace

Command add_compare_command(CLI::App& app) {
  auto flags = std::make_shared<CompareFlags>();
  auto* compare = app.add_subcommand(
      "compare", "Train the paper's Table 1 policies and tabulate them");
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
  return {compare, [flags] { return run_compare(*flags); }};
}

}  // namespace torchclr::examples
