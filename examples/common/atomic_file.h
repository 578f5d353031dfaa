#pragma once

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

namespace torchclr::examples {

/// Writes `contents` to `path` through a temporary file renamed into place,
/// so a reader never sees half a file and a crash never destroys the old one.
inline void write_file_atomically(const std::filesystem::path& path,
                                  const std::string& contents) {
  const auto temp = path.string() + ".tmp";
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    out << contents;
    out.flush();
    if (!out) {
      throw std::runtime_error("cannot write " + temp);
    }
  }
  std::filesystem::rename(temp, path);
}

}  // namespace torchclr::examples
