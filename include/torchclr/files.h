#pragma once

// Files a user keeps (checkpoints, tables, CSV, plots): written atomically, and
// plots rendered by gnuplot. Shared by the library and the example programs.

#include <filesystem>
#include <string>

namespace torchclr {

/// Writes `contents` to `path` + ".tmp", then renames it over `path`, so a
/// reader never sees half a file and a failed write never destroys the old
/// one. Throws c10::Error naming `owner` and the file; no temporary is left.
void write_file_atomically(const std::filesystem::path& path,
                           const std::string& contents,
                           const char* owner);

/// `text` as a gnuplot single-quoted string ('' stands for ').
std::string gnuplot_quote(const std::string& text);

/// How a plot came out; never an exception, so a plot cannot abort a run.
enum class PlotStatus {
  kWritten,         ///< the PNG is in place
  kNoData,          ///< nothing to plot; no PNG
  kGnuplotMissing,  ///< gnuplot is not installed (or not on PATH)
  kGnuplotFailed,   ///< gnuplot ran but failed; `message` has its errors
};

/// The outcome of a plot, with a message for anything but kWritten.
struct PlotReport {
  /// Whether the PNG was written, and if not, why.
  PlotStatus status = PlotStatus::kWritten;
  /// What went wrong (gnuplot's errors, the missing program); empty when
  /// written.
  std::string message;
};

/// Runs `gnuplot` (no shell) on `script`, with `set output` to a temporary
/// file prepended, and renames the image to `png` only when gnuplot succeeds,
/// so a failed plot leaves an older `png` as it was. The script sets its
/// terminal (for example `set terminal pngcairo`) and plots.
PlotReport render_gnuplot(const std::string& script,
                          const std::filesystem::path& png,
                          const std::string& gnuplot = "gnuplot");

}  // namespace torchclr
