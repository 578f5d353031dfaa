// `cifar10_clr runs`: the papers' named runs as schedule texts (paper_runs.h),
// for reading and for `train --schedule`.

#include <fmt/format.h>

#include <memory>

#include "cli_checks.h"
#include "commands.h"
#include "paper_runs.h"

namespace torchclr::examples {
namespace {

struct RunsFlags {
  double scale = 1.0;
  std::string name;
};

int run_runs(const RunsFlags& flags) {
  if (!flags.name.empty()) {
    fmt::print("{}\n", table1_run(flags.name, flags.scale).schedule);
    return 0;
  }
  fmt::print(
      "# Table 1 at scale {} (Smith 2017; cifar10_full, Caffe's solver).\n"
      "# Each: cifar10_clr train --lr LR --iterations N --schedule TEXT\n",
      flags.scale);
  for (const auto& run : table1_runs(flags.scale)) {
    fmt::print("\n# {}: --lr {} --iterations {} (paper: {})\n{}\n",
               run.name,
               run.lr,
               run.iterations,
               run.paper,
               run.schedule);
  }
  fmt::print(
      "\n# compare --table 3 and --superconvergence build theirs from the "
      "bounds their range tests find (paper_runs.h); with the files' "
      "bounds:\n");
  for (const auto& run : {superconvergence_1cycle(0.1, 3.0, flags.scale),
                          superconvergence_baseline(flags.scale)}) {
    fmt::print("\n# super-convergence {}: --lr {} --iterations {}\n{}\n",
               run.name,
               run.lr,
               run.iterations,
               run.schedule);
  }
  return 0;
}

}  // namespace

Command add_runs_command(CLI::App& app) {
  auto flags = std::make_shared<RunsFlags>();
  auto* runs = app.add_subcommand(
      "runs", "Print the papers' runs as schedule texts for train --schedule");
  runs->add_option("--scale",
                   flags->scale,
                   "Every length times this (as compare --scale)")
      ->check(finite_number())
      ->check(CLI::Range(1e-4, 100.0))
      ->capture_default_str();
  runs->add_option("--name", flags->name, "Print only this Table 1 run's text")
      ->check(CLI::IsMember(table1_run_names()));
  return {runs, [flags] { return run_runs(*flags); }};
}

}  // namespace torchclr::examples
