#include <c10/util/Exception.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <torchclr/detail/files.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

extern char** environ;  // NOLINT: POSIX declares it nowhere else

namespace torchclr::detail {

namespace fs = std::filesystem;

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

}  // namespace torchclr::detail
