// The range test's report files: the CSV, the gnuplot PNG, and what happens
// when gnuplot is missing or fails.

#include <gmock/gmock.h>
#include <torchclr/lr_finder_plot.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "test_util.h"

namespace torchclr::test {
namespace {

namespace fs = std::filesystem;

using ::testing::HasSubstr;
using ::testing::ThrowsMessage;

std::vector<std::string> read_lines(const fs::path& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    lines.push_back(line);
  }
  return lines;
}

std::vector<std::string> sorted_names(const fs::path& directory) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(directory)) {
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

LRRangeTestResult small_result() {
  LRRangeTestResult result;
  result.metric = RangeTestMetric::kAccuracy;
  const std::vector<double> losses = {2.3, 2.2, 1.9, 1.2, 0.9, 1.1, 3.0};
  const auto smoothed = smooth_losses(losses, 0.5);
  for (std::size_t i = 0; i < losses.size(); ++i) {
    result.points.push_back(
        {static_cast<int64_t>(i),
         1e-4 * std::pow(10.0, static_cast<double>(i) / 2),
         losses[i],
         smoothed[i],
         i % 2 == 1 ? std::optional<double>(0.1 * static_cast<double>(i))
                    : std::nullopt});
  }
  result.suggestions.base_lr = 1e-3;
  result.suggestions.max_lr = 1e-2;
  return result;
}

TEST(LRFinderPlotTest, WritesCsvAndPlot) {
  const TempDir directory;
  const auto result = small_result();
  const auto report = write_csv_and_plot(
      result, directory.file("range.csv"), directory.file("range.png"));
  const auto lines = read_lines(directory.file("range.csv"));
  ASSERT_EQ(lines.size(), 8u);
  EXPECT_EQ(lines[0], "iteration,lr,loss,smoothed_loss,val_accuracy");
  // Full precision, and an empty field where nothing was evaluated.
  std::istringstream row(lines[2]);
  std::string cell;
  std::vector<std::string> cells;
  while (std::getline(row, cell, ',')) {
    cells.push_back(cell);
  }
  ASSERT_EQ(cells.size(), 5u);
  EXPECT_EQ(std::stod(cells[1]), result.points[1].lr);
  EXPECT_EQ(std::stod(cells[3]), result.points[1].smoothed_loss);
  EXPECT_EQ(std::stod(cells[4]), 0.1);
  EXPECT_EQ(lines[1].back(), ',');
  if (report.status == PlotStatus::kGnuplotMissing) {
    GTEST_SKIP() << "gnuplot is not installed: " << report.message;
  }
  ASSERT_EQ(report.status, PlotStatus::kWritten) << report.message;
  std::ifstream png(directory.file("range.png"), std::ios::binary);
  char magic[4] = {};
  png.read(magic, 4);
  EXPECT_EQ(std::string(magic + 1, 3), "PNG");
  // Nothing temporary is left behind.
  EXPECT_EQ(sorted_names(directory.path()),
            (std::vector<std::string>{"range.csv", "range.png"}));
}

TEST(LRFinderPlotTest, ReportsMissingOrFailingGnuplot) {
  const TempDir directory;
  const auto result = small_result();
  auto plot_with = [&](const std::string& gnuplot) {
    return write_csv_and_plot(result,
                              directory.file("range.csv"),
                              directory.file("range.png"),
                              gnuplot);
  };
  auto report = plot_with("/nonexistent/gnuplot");
  EXPECT_EQ(report.status, PlotStatus::kGnuplotMissing);
  EXPECT_THAT(report.message, HasSubstr("/nonexistent/gnuplot"));
  EXPECT_TRUE(fs::exists(directory.file("range.csv")));
  EXPECT_FALSE(fs::exists(directory.file("range.png")));
  // `false` runs and exits 1 without writing anything.
  report = plot_with("false");
  EXPECT_EQ(report.status, PlotStatus::kGnuplotFailed);
  EXPECT_THAT(report.message, HasSubstr("exited with status 1"));
  EXPECT_FALSE(fs::exists(directory.file("range.png")));
  report = write_csv_and_plot(LRRangeTestResult{},
                              directory.file("empty.csv"),
                              directory.file("empty.png"));
  EXPECT_EQ(report.status, PlotStatus::kNoData);
  EXPECT_EQ(read_lines(directory.file("empty.csv")).size(), 1u);
  EXPECT_EQ(sorted_names(directory.path()),
            (std::vector<std::string>{"empty.csv", "range.csv"}));
  EXPECT_THAT(
      [&] {
        write_csv(result, fs::path(directory.path()) / "missing_dir" / "r.csv");
      },
      ThrowsMessage<c10::Error>(HasSubstr("LRRangeTest: cannot open")));
}

}  // namespace
}  // namespace torchclr::test
