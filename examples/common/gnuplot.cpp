#include "gnuplot.h"

#include <c10/util/Exception.h>
#include <torchclr/detail/files.h>

#include <filesystem>

namespace torchclr::examples {

bool render_with_gnuplot(const std::string& script,
                         const std::string& temp_png,
                         const std::string& png) {
  const std::string script_path = png + ".gp.tmp";
  try {
    detail::write_file_atomically(script_path, script, "plot");
  } catch (const c10::Error&) {
    return false;
  }
  const auto [spawn_error, exit_status] =
      detail::run_program("gnuplot", script_path, "/dev/null");
  std::error_code error;
  std::filesystem::remove(script_path, error);
  if (spawn_error != 0 || exit_status != 0 ||
      !std::filesystem::exists(temp_png, error)) {
    std::filesystem::remove(temp_png, error);
    return false;
  }
  std::filesystem::rename(temp_png, png, error);
  return !error;
}

}  // namespace torchclr::examples
