#pragma once

// --schedule TEXT and --schedule-file PATH: a learning-rate schedule in
// PyTorch's constructor syntax (torchclr/scheduler_text.h), shared by the
// example programs.

#include <torchclr/scheduler_text.h>

#include <CLI/CLI.hpp>
#include <memory>
#include <string>

namespace torchclr::examples {

/// A schedule from the command line: a text, or a file holding one.
struct ScheduleSpec {
  /// --schedule: `CyclicLR(base_lr=0.001, max_lr=0.006, ...)`.
  std::string text;
  /// --schedule-file: when not empty, the schedule is this file's text.
  std::string file;
};

/// Registers --schedule (default: `spec.text` as it is) and --schedule-file,
/// which exclude each other; `more_help` ends --schedule's help.
void add_schedule_flags(CLI::App& app,
                        ScheduleSpec& spec,
                        const std::string& more_help = "");

/// The scheduler `spec` describes on `optimizer` (the file's text when
/// there is a file); the parser's errors come back naming the flag:
/// "--schedule: parse_scheduler: at position 9: ...".
std::unique_ptr<Scheduler> make_scheduler(const ScheduleSpec& spec,
                                          torch::optim::Optimizer& optimizer,
                                          const ParseOptions& options = {});

/// `text` for a table cell or a log line: white space runs as one space,
/// and at most `max_chars` characters, with "..." where it was cut.
std::string short_text(const std::string& text, std::size_t max_chars = 160);

}  // namespace torchclr::examples
