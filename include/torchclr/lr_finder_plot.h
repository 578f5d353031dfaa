#pragma once

// An LR range test's curve as CSV, and as a PNG through gnuplot.

#include <torchclr/files.h>
#include <torchclr/lr_finder.h>

#include <filesystem>
#include <string>

namespace torchclr {

/// Writes the curve as CSV (iteration,lr,loss,smoothed_loss and val_loss or
/// val_accuracy, empty where not evaluated), to a temporary name first and
/// then renamed into place. Throws if the file cannot be written.
void write_csv(const LRRangeTestResult& result,
               const std::filesystem::path& csv_path);

/// Writes the CSV as `write_csv`, then renders loss against LR (log axis,
/// suggestions marked) into a PNG with `render_gnuplot`. A missing or failing
/// gnuplot is reported, not thrown; the CSV stays.
PlotReport write_csv_and_plot(const LRRangeTestResult& result,
                              const std::filesystem::path& csv_path,
                              const std::filesystem::path& png_path,
                              const std::string& gnuplot = "gnuplot");

}  // namespace torchclr
