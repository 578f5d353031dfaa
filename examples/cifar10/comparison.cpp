#include "comparison.h"

#include <fmt/format.h>
#include <torchclr/files.h>
#include <torchclr/scheduler_text.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace torchclr::examples {

namespace fs = std::filesystem;

// At most this many points per curve, so evaluation stays a small share of
// a short run.
constexpr int64_t kMaxCurvePoints = 25;

bool CompareFlags::was_given(const std::string& flag) const {
  return std::find(given.begin(), given.end(), flag) != given.end();
}

int64_t curve_eval_every(const CompareFlags& flags, int64_t iterations) {
  if (flags.eval_every > 0) {
    return flags.eval_every;
  }
  return std::max(scaled(1000, flags.scale),
                  (iterations + kMaxCurvePoints - 1) / kMaxCurvePoints);
}

LrRange final_lr_range(const PaperRun& run) {
  const int64_t iterations = run.iterations;
  TORCH_CHECK(iterations > 0, "final_lr_range: iterations must be > 0");
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(
      std::vector<torch::Tensor>{torch::zeros({1}, torch::requires_grad())});
  torch::optim::SGD optimizer(std::move(groups),
                              torch::optim::SGDOptions(run.lr).momentum(0.9));
  auto scheduler = parse_scheduler(optimizer, run.schedule);
  const int64_t tail = std::max<int64_t>(1, std::llround(iterations * 0.1));
  LrRange range{std::numeric_limits<double>::infinity(),
                -std::numeric_limits<double>::infinity()};
  // Iteration i trains with the LR set by i calls of step().
  for (int64_t i = 0; i < iterations; ++i) {
    if (i > 0) {
      scheduler->step();
    }
    if (i >= iterations - tail) {
      const double lr = optimizer.param_groups()[0].options().get_lr();
      range.min = std::min(range.min, lr);
      range.max = std::max(range.max, lr);
    }
  }
  return range;
}

TrainConfig with_run(TrainConfig config, const PaperRun& run) {
  config.run.schedule = {run.schedule, ""};
  config.run.lr = run.lr;
  config.iterations = run.iterations;
  return config;
}

std::string lr_range_text(const LrRange& range) {
  if (range.min == range.max) {
    return fmt::format("{:.2e}", range.min);
  }
  return fmt::format("{:.2e} to {:.2e}", range.min, range.max);
}

std::string accuracy_note(const CompareFlags& flags) {
  return fmt::format(
      "Test accuracy: the whole test split at the end of each run. The "
      "plot's points test the first {} test images.\n",
      flags.eval_images > 0 ? fmt::format("{}", flags.eval_images)
                            : std::string("all"));
}

void write_comparison(const fs::path& out,
                      const std::string& table,
                      const std::vector<Curve>& curves,
                      const std::string& plot_title) {
  const auto table_path = out / "results.md";
  torchclr::write_file_atomically(table_path, table, "--out");
  std::string plots;
  for (const auto& curve : curves) {
    plots += fmt::format("{}{} every ::1 using 1:5 with lines {} title {}",
                         plots.empty() ? "plot " : ", ",
                         torchclr::gnuplot_quote(curve.log_csv.string()),
                         curve.style,
                         torchclr::gnuplot_quote(curve.title));
  }
  // Beyond a few curves the key would cover them: put it beside the plot.
  const bool many = curves.size() > 6;
  const std::string script = fmt::format(
      "set terminal pngcairo size {},450 noenhanced\n"
      "set datafile separator ','\nset title {}\n"
      "set xlabel 'iteration'\nset ylabel 'test accuracy'\nset key {}\n"
      "set grid\n{}\n",
      many ? 1200 : 900,
      torchclr::gnuplot_quote(plot_title),
      many ? "outside right top" : "bottom right",
      plots);
  fmt::print("{}\n", table);
  const auto png = out / "accuracy.png";
  const auto plot = torchclr::render_gnuplot(script, png);
  if (plot.status == torchclr::PlotStatus::kWritten) {
    fmt::print("wrote {} and {}\n", table_path.string(), png.string());
  } else {
    fmt::print("wrote {}; no plot ({})\n", table_path.string(), plot.message);
  }
}

}  // namespace torchclr::examples
