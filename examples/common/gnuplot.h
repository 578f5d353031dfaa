#pragma once

#include <string>

namespace torchclr::examples {

/// Runs gnuplot (no shell) on `script`, which must `set output` to
/// `temp_png`, then renames `temp_png` to `png`. Returns false, leaving `png`
/// untouched, when gnuplot is missing or fails; the caller says so. Never
/// throws for a plotting problem, so a plot cannot abort a training run.
bool render_with_gnuplot(const std::string& script,
                         const std::string& temp_png,
                         const std::string& png);

}  // namespace torchclr::examples
