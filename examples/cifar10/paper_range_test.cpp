// `--method paper` of `range-test` and `--range-test paper` of `workflow`:
// the paper's LR range test next to the exponential one.

#include "paper_range_test.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace torchclr::examples {
namespace {

namespace fs = std::filesystem;

bool given(const CLI::App& app, const std::string& flag) {
  const CLI::Option* option = app.get_option_no_throw(flag);
  return option != nullptr && option->count() > 0;
}

std::string bounds_text(const RangeOutcome& outcome) {
  return fmt::format("base_lr {}, max_lr {}",
                     format_lr(outcome.base_lr),
                     format_lr(outcome.max_lr));
}

// Accuracy against LR on linear axes, as the paper's Fig. 3, with the raw
// and smoothed curves and the bounds.
void write_paper_files(const RangeOutcome& outcome, const fs::path& out) {
  std::vector<double> lrs;
  std::vector<double> accuracies;
  std::vector<int64_t> iterations;
  for (const auto& point : outcome.result.points) {
    if (point.metric) {
      lrs.push_back(point.lr);
      accuracies.push_back(*point.metric);
      iterations.push_back(point.iteration);
    }
  }
  // The smoothing accuracy_bounds() reads (its default half window).
  const auto smoothed = torchclr::smooth_accuracies(accuracies, 2);
  const auto bounds = outcome.result.accuracy_bounds();
  std::string csv = fmt::format(
      "# LR range test: {}\n# {}", outcome.description, bounds_text(outcome));
  if (bounds) {
    csv +=
        fmt::format(", peak_lr {:.3g}{}",
                    bounds->peak_lr,
                    bounds->still_rising ? " (still rising at the end)" : "");
  }
  csv += "\niteration,lr,test_accuracy,smoothed_test_accuracy\n";
  std::string data;
  for (size_t i = 0; i < lrs.size(); ++i) {
    csv += fmt::format(
        "{},{},{},{}\n", iterations[i], lrs[i], accuracies[i], smoothed[i]);
    data += fmt::format("{} {} {}\n", lrs[i], accuracies[i], smoothed[i]);
  }
  torchclr::write_file_atomically(out / "paper_range_test.csv", csv, "--out");

  std::string script = fmt::format(
      "set terminal pngcairo size 1000,640 noenhanced\n$curve << EOD\n{}EOD\n"
      "set title {}\nset xlabel 'learning rate'\nset ylabel 'test accuracy'\n"
      "set grid\nset key bottom right\n",
      data,
      gnuplot_quote("LR range test: paper (linear sweep, test accuracy): " +
                    bounds_text(outcome)));
  int tag = 1;
  for (const auto& lr : {outcome.base_lr, outcome.max_lr}) {
    if (lr) {
      script += fmt::format(
          "set arrow {} from first {},graph 0 to first {},graph 1 nohead dt 2 "
          "lw 2 lc rgb '{}'\n",
          tag,
          *lr,
          *lr,
          tag == 1 ? "#2ca02c" : "#d62728");
    }
    ++tag;
  }
  script +=
      "plot $curve using 1:2 with points pt 7 ps 0.6 lc rgb '#b0b0b0' title "
      "'test accuracy', $curve using 1:3 with lines lw 2 lc rgb '#1f77b4' "
      "title 'smoothed'\n";
  const auto report = torchclr::render_gnuplot(script, out / "range_test.png");
  if (report.status != torchclr::PlotStatus::kWritten) {
    fmt::print(stderr, "note: no range-test plot ({})\n", report.message);
  }
}

}  // namespace

void add_range_method_flags(CLI::App& app,
                            RangeMethodFlags& flags,
                            const std::string& method_flag,
                            const std::string& epochs_flag) {
  flags.method_flag = method_flag;
  flags.epochs_flag = epochs_flag;
  app.add_option(method_flag,
                 flags.method,
                 "Which LR range test: exponential (a short sweep read off the "
                 "training loss) or paper (section 3.3: linear over " +
                     epochs_flag + ", read off test accuracy)")
      ->check(CLI::IsMember({"exponential", "paper"}))
      ->capture_default_str();
  app.add_option(epochs_flag,
                 flags.epochs,
                 "Epochs of the paper's linear sweep (its Fig. 3: 8)")
      ->capture_default_str();
}

RangeOutcome run_range_method(const RangeMethodFlags& method,
                              RangeFlags range,
                              const CLI::App& app,
                              const TrainConfig& config,
                              const DataSplit& train,
                              const DataSplit& test,
                              const fs::path& out) {
  RangeOutcome outcome;
  outcome.method = method.method;
  if (method.method != "paper") {
    TORCH_CHECK(!given(app, method.epochs_flag),
                method.epochs_flag,
                " sets the paper's range test; add ",
                method.method_flag,
                " paper");
    range.method = "exponential";
    outcome.result = find_lr(range, config, train, test, out);
    outcome.base_lr = outcome.result.suggestions.base_lr;
    outcome.max_lr = outcome.result.suggestions.max_lr;
    outcome.description = fmt::format(
        "exponential ({} iterations, lr {:.3g} to {:.3g}, bounds read off the "
        "smoothed training loss)",
        range.num_iter,
        range.start_lr,
        range.end_lr);
    return outcome;
  }
  TORCH_CHECK(!given(app, "--num-iter") && !given(app, "--sweep"),
              method.method_flag,
              " paper sweeps linearly over ",
              method.epochs_flag,
              "; --num-iter and --sweep belong to the exponential test");
  TORCH_CHECK(std::isfinite(method.epochs) && method.epochs > 0,
              method.epochs_flag,
              " must be a finite number > 0, got ",
              method.epochs);
  using Defaults = PaperRangeDefaults;
  if (!given(app, "--start-lr")) {
    range.start_lr = Defaults::kStartLr;
  }
  if (!given(app, "--end-lr")) {
    range.end_lr = Defaults::kEndLr;
  }
  if (!method.own_eval_flags || !given(app, "--eval-every")) {
    range.eval_every = Defaults::kEvalEvery;
  }
  if (!method.own_eval_flags || !given(app, "--eval-images")) {
    range.eval_images = Defaults::kEvalImages;
  }
  TORCH_CHECK(range.eval_every > 0,
              "the paper's range test reads test accuracy: --eval-every must "
              "be > 0 (default ",
              Defaults::kEvalEvery,
              ")");
  const int64_t per_epoch = train.size() / config.batch_size;
  range.num_iter = std::max<int64_t>(
      2, std::llround(method.epochs * static_cast<double>(per_epoch)));
  range.sweep = "linear";
  range.method = "paper";
  outcome.result = find_lr(range, config, train, test, out);
  if (const auto bounds = outcome.result.accuracy_bounds()) {
    outcome.base_lr = bounds->base_lr;
    outcome.max_lr = bounds->max_lr;
  }
  outcome.description = fmt::format(
      "paper (section 3.3: linear sweep, lr {:.3g} to {:.3g} over {} epochs = "
      "{} iterations, test accuracy of {} images every {} iterations, bounds "
      "read off the accuracy)",
      range.start_lr,
      range.end_lr,
      method.epochs,
      range.num_iter,
      std::min<int64_t>(range.eval_images, test.size()),
      range.eval_every);
  if (config.job.is_main()) {
    write_paper_files(outcome, out);
  }
  return outcome;
}

}  // namespace torchclr::examples
