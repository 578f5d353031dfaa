#pragma once

#include <string>

namespace torchclr::examples {

/// Runs gnuplot on `script` (which must `set output` to a temporary name) and
/// renames `temp_png` to `png`. Returns false, leaving `png` untouched, when
/// gnuplot is missing or fails; the caller says so.
bool render_with_gnuplot(const std::string& script,
                         const std::string& temp_png,
                         const std::string& png);

}  // namespace torchclr::examples
