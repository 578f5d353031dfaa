#include "gnuplot.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>

#include <filesystem>
#include <fstream>

extern char** environ;

namespace torchclr::examples {
namespace {

// posix_spawnp's status, or the exit status of gnuplot script_path.
int run_gnuplot(const std::string& script_path) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(
      &actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
  std::string program = "gnuplot";
  std::string argument = script_path;
  char* argv[] = {program.data(), argument.data(), nullptr};
  pid_t pid = 0;
  const int error =
      posix_spawnp(&pid, "gnuplot", &actions, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  if (error != 0) {
    return -1;
  }
  int status = 0;
  if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) {
    return -1;
  }
  return WEXITSTATUS(status);
}

}  // namespace

std::string gnuplot_quote(const std::string& text) {
  std::string quoted = "'";
  for (char c : text) {
    quoted += c == '\'' ? std::string("''") : std::string(1, c);
  }
  return quoted + "'";
}

bool render_with_gnuplot(const std::string& script,
                         const std::string& temp_png,
                         const std::string& png) {
  const std::string script_path = png + ".gp.tmp";
  {
    std::ofstream out(script_path, std::ios::trunc);
    out << script;
    if (!out) {
      return false;
    }
  }
  const int status = run_gnuplot(script_path);
  std::error_code error;
  std::filesystem::remove(script_path, error);
  if (status != 0 || !std::filesystem::exists(temp_png, error)) {
    std::filesystem::remove(temp_png, error);
    return false;
  }
  std::filesystem::rename(temp_png, png, error);
  return !error;
}

}  // namespace torchclr::examples
