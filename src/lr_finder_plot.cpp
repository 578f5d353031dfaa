#include <torchclr/detail/options_text.h>
#include <torchclr/lr_finder_plot.h>

#include <algorithm>
#include <limits>
#include <optional>
#include <sstream>
#include <tuple>
#include <vector>

namespace torchclr {
namespace {

std::string short_double(double value) {
  std::ostringstream out;
  out.precision(3);
  out << value;
  return out.str();
}

std::string plot_script(const LRRangeTestResult& result,
                        const std::filesystem::path& csv_path) {
  const auto& points = result.points;
  // Y range: the part of the curve up to the smoothed minimum, so that the
  // divergence at the end does not flatten everything else.
  std::size_t lowest = 0;
  for (std::size_t i = 1; i < points.size(); ++i) {
    if (points[i].smoothed_loss < points[lowest].smoothed_loss) {
      lowest = i;
    }
  }
  double y_low = std::numeric_limits<double>::infinity();
  double y_high = -y_low;
  for (std::size_t i = 0; i < points.size(); ++i) {
    y_low = std::min({y_low, points[i].loss, points[i].smoothed_loss});
    if (i <= lowest) {
      y_high = std::max({y_high, points[i].loss, points[i].smoothed_loss});
    }
  }
  const double margin = 0.05 * (y_high - y_low);

  std::ostringstream script;
  script << "set terminal pngcairo size 1000,640 noenhanced\n"
         << "set datafile separator ','\n"
         << "set logscale x\n"
         << "set format x '%.0e'\n"
         << "set xlabel 'learning rate'\n"
         << "set ylabel 'loss'\n"
         << "set grid\n"
         << "set key below horizontal\n"
         << "set bmargin 6\n";
  if (y_high > y_low) {
    script << "set yrange [" << detail::exact_text(y_low - margin) << ":"
           << detail::exact_text(y_high + margin) << "]\n";
  }
  const auto& s = result.suggestions;
  const std::vector<std::tuple<const char*, std::optional<double>, const char*>>
      marks = {
          {"base_lr", s.base_lr, "#2ca02c"},
          {"max_lr", s.max_lr, "#d62728"},
          {"steepest", s.steepest_lr, "#9467bd"},
          {"valley", s.valley_lr, "#8c564b"},
      };
  int tag = 1;
  for (const auto& [label, lr, color] : marks) {
    if (!lr) {
      continue;
    }
    const std::string x = detail::exact_text(*lr);
    script << "set arrow " << tag << " from first " << x
           << ", graph 0 to first " << x << ", graph 1 nohead lw 2 dt "
           << (tag <= 2 ? 1 : 3) << " lc rgb '" << color << "'\n";
    script << "set label " << tag << " " << gnuplot_quote(label) << " at first "
           << x << ", graph " << (0.97 - 0.05 * (tag - 1))
           << " offset 0.5,0 tc rgb '" << color << "'\n";
    ++tag;
  }
  std::string title = "LR range test";
  if (s.base_lr && s.max_lr) {
    title += ": base_lr " + short_double(*s.base_lr) + ", max_lr " +
             short_double(*s.max_lr);
  }
  script << "set title " << gnuplot_quote(title) << "\n";
  const bool has_metric = std::any_of(
      points.begin(), points.end(), [](const RangeTestPoint& point) {
        return point.metric.has_value();
      });
  const char* metric = result.metric == RangeTestMetric::kLoss
                           ? "validation loss"
                           : "validation accuracy";
  if (has_metric) {
    script << "set y2label " << gnuplot_quote(metric) << "\n"
           << "set y2tics\nset ytics nomirror\n";
  }
  const std::string data = gnuplot_quote(csv_path.string());
  script << "plot " << data
         << " skip 1 using 2:3 with lines lc rgb '#b0b0b0' title 'loss', "
         << data
         << " skip 1 using 2:4 with lines lw 2 lc rgb '#1f77b4' "
            "title 'smoothed loss'";
  if (has_metric) {
    script << ", " << data
           << " skip 1 using 2:5 axes x1y2 with linespoints pt 7 ps 0.5 "
              "lc rgb '#ff7f0e' title "
           << gnuplot_quote(metric);
  }
  script << "\n";
  return script.str();
}

}  // namespace

void write_csv(const LRRangeTestResult& result,
               const std::filesystem::path& csv_path) {
  std::ostringstream out;
  out.precision(std::numeric_limits<double>::max_digits10);
  out << "iteration,lr,loss,smoothed_loss,"
      << (result.metric == RangeTestMetric::kLoss ? "val_loss" : "val_accuracy")
      << "\n";
  for (const auto& point : result.points) {
    out << point.iteration << "," << point.lr << "," << point.loss << ","
        << point.smoothed_loss << ",";
    if (point.metric) {
      out << *point.metric;
    }
    out << "\n";
  }
  write_file_atomically(csv_path, out.str(), "LRRangeTest");
}

PlotReport write_csv_and_plot(const LRRangeTestResult& result,
                              const std::filesystem::path& csv_path,
                              const std::filesystem::path& png_path,
                              const std::string& gnuplot) {
  write_csv(result, csv_path);
  if (result.points.empty()) {
    return {PlotStatus::kNoData, "the curve has no points to plot"};
  }
  return render_gnuplot(plot_script(result, csv_path), png_path, gnuplot);
}

}  // namespace torchclr
