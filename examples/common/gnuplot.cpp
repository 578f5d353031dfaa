#include "gnuplot.h"

#include <cstdlib>
#include <filesystem>

#include "atomic_file.h"

namespace torchclr::examples {

bool render_with_gnuplot(const std::string& script,
                         const std::string& temp_png,
                         const std::string& png) {
  if (std::system("command -v gnuplot > /dev/null 2>&1") != 0) {
    return false;
  }
  const std::string script_path = png + ".gp";
  write_file_atomically(script_path, script);
  const int status =
      std::system(("gnuplot '" + script_path + "' 2> /dev/null").c_str());
  std::filesystem::remove(script_path);
  if (status != 0 || !std::filesystem::exists(temp_png)) {
    return false;
  }
  std::filesystem::rename(temp_png, png);
  return true;
}

}  // namespace torchclr::examples
