#pragma once

// Files torchclr and its example programs write: replaced atomically, and
// plots rendered by running gnuplot without a shell.

#include <filesystem>
#include <string>
#include <utility>

namespace torchclr::detail {

/// Writes `contents` to `path` + ".tmp", then renames it over `path`, so a
/// reader never sees half a file and a failed write never destroys the old
/// one. Throws c10::Error naming `owner` and the file; no temporary is left.
void write_file_atomically(const std::filesystem::path& path,
                           const std::string& contents,
                           const char* owner);

/// `text` as a gnuplot single-quoted string ('' stands for ').
std::string gnuplot_quote(const std::string& text);

/// Runs `program script_path` (no shell), stdin and stdout on /dev/null,
/// stderr to `error_path`. Returns the spawn errno (0 when it ran) and the
/// exit status (-1 when it did not exit normally).
std::pair<int, int> run_program(const std::string& program,
                                const std::filesystem::path& script_path,
                                const std::filesystem::path& error_path);

}  // namespace torchclr::detail
