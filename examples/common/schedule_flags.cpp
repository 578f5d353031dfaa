#include "schedule_flags.h"

#include <cctype>
#include <stdexcept>

namespace torchclr::examples {

void add_schedule_flags(CLI::App& app,
                        ScheduleSpec& spec,
                        const std::string& more_help) {
  auto* text =
      app.add_option("--schedule",
                     spec.text,
                     "The LR schedule in PyTorch's constructor syntax, e.g. "
                     "'CyclicLR(base_lr=0.001, max_lr=0.006, "
                     "step_size_up=2000, mode=\"triangular2\")' or "
                     "'SequentialLR([LinearLR(start_factor=0.1, "
                     "total_iters=500), CosineAnnealingLR(T_max=9500)], "
                     "milestones=[500])'; omitted options take PyTorch's "
                     "defaults" +
                         more_help)
          ->capture_default_str();
  app.add_option("--schedule-file",
                 spec.file,
                 "A file holding a --schedule text (several lines and # "
                 "comments allowed)")
      ->excludes(text);
}

std::unique_ptr<Scheduler> make_scheduler(const ScheduleSpec& spec,
                                          torch::optim::Optimizer& optimizer,
                                          const ParseOptions& options) {
  try {
    if (!spec.file.empty()) {
      return parse_scheduler_file(optimizer, spec.file, options);
    }
    return parse_scheduler(optimizer, spec.text, options);
  } catch (const c10::Error& error) {
    throw std::invalid_argument(
        std::string(spec.file.empty() ? "--schedule: " : "--schedule-file: ") +
        error.what_without_backtrace());
  }
}

std::string short_text(const std::string& text, std::size_t max_chars) {
  std::string flat;
  for (const char c : text) {
    if (!std::isspace(static_cast<unsigned char>(c))) {
      flat += c;
    } else if (!flat.empty() && flat.back() != ' ') {
      flat += ' ';
    }
  }
  while (!flat.empty() && flat.back() == ' ') {
    flat.pop_back();
  }
  if (flat.size() <= max_chars || max_chars < 3) {
    return flat;
  }
  return flat.substr(0, max_chars - 3) + "...";
}

}  // namespace torchclr::examples
