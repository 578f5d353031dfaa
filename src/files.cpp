#include <c10/util/Exception.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <torchclr/files.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

extern char** environ;  // NOLINT: POSIX declares it nowhere else

namespace torchclr {

namespace fs = std::filesystem;

namespace {

// Runs `program script_path` (no shell), stdin and stdout on /dev/null,
// stderr to `error_path`. Returns the spawn errno (0 when it ran) and the
// exit status (-1 when it did not exit normally).
std::pair<int, int> run_program(const std::string& program,
                                const fs::path& script_path,
                                const fs::path& error_path) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(
      &actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(
      &actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions,
                                   STDERR_FILENO,
                                   error_path.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC,
                                   0600);
  std::string program_arg = program;
  std::string script_arg = script_path.string();
  char* argv[] = {program_arg.data(), script_arg.data(), nullptr};
  pid_t pid = 0;
  const int spawn_error =
      posix_spawnp(&pid, program.c_str(), &actions, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  if (spawn_error != 0) {
    return {spawn_error, -1};
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      return {errno, -1};
    }
  }
  return {0, WIFEXITED(status) ? WEXITSTATUS(status) : -1};
}

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)),
                   std::istreambuf_iterator<char>());
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) {
    text.pop_back();
  }
  return text;
}

}  // namespace

void write_file_atomically(const fs::path& path,
                           const std::string& contents,
                           const char* owner) {
  fs::path temporary = path;
  temporary += ".tmp";
  std::error_code error;
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    TORCH_CHECK(out,
                owner,
                ": cannot open ",
                temporary,
                " for writing: ",
                std::strerror(errno));
    out << contents;
    out.flush();
    if (!out) {
      fs::remove(temporary, error);
      TORCH_CHECK(false, owner, ": failed writing ", temporary);
    }
  }
  fs::rename(temporary, path, error);
  if (error) {
    const std::string reason = error.message();
    fs::remove(temporary, error);
    TORCH_CHECK(false, owner, ": cannot rename into ", path, ": ", reason);
  }
}

std::string gnuplot_quote(const std::string& text) {
  std::string quoted = "'";
  for (char c : text) {
    quoted += c == '\'' ? std::string("''") : std::string(1, c);
  }
  return quoted + "'";
}

PlotReport render_gnuplot(const std::string& script,
                          const fs::path& png,
                          const std::string& gnuplot) {
  fs::path script_path = png;
  script_path += ".gp.tmp";
  fs::path error_path = png;
  error_path += ".err.tmp";
  fs::path image_path = png;
  image_path += ".tmp";
  try {
    write_file_atomically(
        script_path,
        "set output " + gnuplot_quote(image_path.string()) + "\n" + script,
        "render_gnuplot");
  } catch (const c10::Error& error) {
    return {PlotStatus::kGnuplotFailed, error.what_without_backtrace()};
  }
  const auto [spawn_error, exit_status] =
      run_program(gnuplot, script_path, error_path);
  const std::string errors = read_text(error_path);
  std::error_code ignored;
  fs::remove(script_path, ignored);
  fs::remove(error_path, ignored);
  PlotReport report;
  if (spawn_error == ENOENT || spawn_error == EACCES ||
      spawn_error == ENOTDIR || exit_status == 127) {
    report = {PlotStatus::kGnuplotMissing,
              "cannot run " + gnuplot + ": " +
                  (spawn_error != 0 ? std::strerror(spawn_error) : errors)};
  } else if (spawn_error != 0) {
    report = {PlotStatus::kGnuplotFailed,
              "cannot run " + gnuplot + ": " + std::strerror(spawn_error)};
  } else if (exit_status != 0 || !fs::exists(image_path, ignored)) {
    report = {PlotStatus::kGnuplotFailed,
              gnuplot + " exited with status " + std::to_string(exit_status) +
                  (errors.empty() ? "" : ": " + errors)};
  } else {
    std::error_code error;
    fs::rename(image_path, png, error);
    if (error) {
      report = {PlotStatus::kGnuplotFailed,
                "cannot rename the plot into " + png.string() + ": " +
                    error.message()};
    }
  }
  fs::remove(image_path, ignored);
  return report;
}

}  // namespace torchclr
