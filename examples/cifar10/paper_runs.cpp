#include "paper_runs.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace torchclr::examples {
namespace {

// fmt writes the shortest text that reads back as the same double, so a
// text holds exactly the number computed here.
std::string multi_step_text(int64_t first, int64_t second) {
  return fmt::format(
      "MultiStepLR(milestones=[{}, {}], gamma=0.1)", first, second);
}

// Two drops at the paper's `first` and `second` at `scale`; at the smallest
// scales the two round to the same step: keep them apart, so the middle LR
// is used at all.
std::string drops_text(int64_t first, int64_t second, double scale) {
  const int64_t scaled_first = scaled(first, scale);
  return multi_step_text(scaled_first,
                         std::max(scaled_first + 1, scaled(second, scale)));
}

std::string paper_text(double accuracy, int64_t iterations) {
  return fmt::format("{:.1f}% at {}", 100 * accuracy, iterations);
}

// The paper's Table 2: the bounds and step size of triangular2's three
// stages, and where each ends.
std::string table2_text(double scale) {
  struct Stage {
    double base_lr, max_lr;
    int64_t step_size_up;
  };
  std::string stages;
  for (const Stage& stage : {Stage{0.001, 0.005, 2000},
                             Stage{0.0001, 0.0005, 1000},
                             Stage{0.00001, 0.00005, 500}}) {
    stages += stages.empty() ? "" : ",\n              ";
    stages += cyclic_text("triangular2",
                          stage.base_lr,
                          stage.max_lr,
                          scaled(stage.step_size_up, scale));
  }
  // At the smallest scales the two round to the same step; keep the middle
  // stage at least one step long.
  const int64_t first = scaled(16000, scale);
  return fmt::format("SequentialLR([{}],\n             milestones=[{}, {}])",
                     stages,
                     first,
                     std::max(first + 1, scaled(22000, scale)));
}

}  // namespace

int64_t scaled(int64_t iterations, double scale) {
  return std::max<int64_t>(1, std::llround(iterations * scale));
}

std::string cyclic_text(const std::string& mode,
                        double base_lr,
                        double max_lr,
                        int64_t step_size_up,
                        double gamma) {
  const bool decays = mode == "exp_range" || mode == "exp_range_paper";
  return fmt::format(
      "CyclicLR(base_lr={}, max_lr={}, step_size_up={}, mode=\"{}\"{}, "
      "cycle_momentum=False)",
      base_lr,
      max_lr,
      step_size_up,
      mode,
      decays ? fmt::format(", gamma={}", gamma) : std::string());
}

std::vector<PaperRun> table1_runs(double scale) {
  const int64_t step = scaled(2000, scale);
  // Per-iteration decay, so the whole scaled run decays as the paper's did.
  const double gamma = std::pow(0.99994, 1.0 / scale);
  return {
      {"fixed",
       0.001,
       drops_text(60000, 65000, scale),
       scaled(70000, scale),
       paper_text(0.814, 70000)},
      {"triangular",
       0.001,
       cyclic_text("triangular", 0.001, 0.006, step),
       scaled(25000, scale),
       "-"},
      {"triangular2",
       0.001,
       table2_text(scale),
       scaled(25000, scale),
       paper_text(0.814, 25000)},
      {"triangular2_single",
       0.001,
       cyclic_text("triangular2", 0.001, 0.006, step),
       scaled(25000, scale),
       "-"},
      {"decay",
       0.007,
       fmt::format("LinearLR(start_factor=1, end_factor={}, total_iters={})",
                   0.001 / 0.007,
                   scaled(4000, scale)),
       scaled(25000, scale),
       paper_text(0.785, 25000)},
      {"exp",
       0.001,
       fmt::format("ExponentialLR(gamma={})", gamma),
       scaled(70000, scale),
       paper_text(0.791, 70000)},
      {"exp_range",
       0.001,
       cyclic_text("exp_range_paper", 0.001, 0.006, step, gamma),
       scaled(42000, scale),
       paper_text(0.822, 42000)},
      {"exp_range_pytorch",
       0.001,
       cyclic_text("exp_range", 0.001, 0.006, step, gamma),
       scaled(42000, scale),
       "-"},
  };
}

std::vector<std::string> table1_run_names() {
  std::vector<std::string> names;
  for (const auto& run : table1_runs(1.0)) {
    names.push_back(run.name);
  }
  return names;
}

PaperRun table1_run(const std::string& name, double scale) {
  for (auto& run : table1_runs(scale)) {
    if (run.name == name) {
      return run;
    }
  }
  throw std::invalid_argument(
      fmt::format("no Table 1 run is named '{}' (known: {})",
                  name,
                  fmt::join(table1_run_names(), ", ")));
}

PaperRun table3_run(const std::string& policy,
                    double base_lr,
                    double max_lr,
                    int64_t iterations,
                    double scale) {
  // "Just the lower bound was used for base_lr for the fixed policy".
  const std::string schedule =
      policy == "fixed"
          ? drops_text(60000, 65000, scale)
          : cyclic_text("triangular", base_lr, max_lr, scaled(2000, scale));
  return {policy, base_lr, schedule, scaled(iterations, scale), "-"};
}

PaperRun superconvergence_1cycle(double base_lr, double max_lr, double scale) {
  const int64_t step = scaled(5000, scale);
  return {"1cycle",
          base_lr,
          cyclic_text("triangular", base_lr, max_lr, step),
          2 * step,
          "CLR 0.1-3, 10,000 iterations: 92.44%"};
}

PaperRun superconvergence_baseline(double scale) {
  return {"piecewise constant",
          0.35,
          drops_text(50000, 70000, scale),
          scaled(80000, scale),
          "LR 0.35, /10 at 50,000 and 70,000, 80,000 iterations: 90.32%"};
}

}  // namespace torchclr::examples
