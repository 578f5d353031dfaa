#include "progress.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>

namespace torchclr::examples {
namespace {

constexpr int64_t kLogStepPercent = 5;

// "85 it/s", or "2.3 s/it" for loops slower than one iteration a second.
std::string rate_text(double iterations_per_second) {
  if (iterations_per_second >= 1 || iterations_per_second <= 0) {
    return fmt::format("{:.0f} it/s", iterations_per_second);
  }
  return fmt::format("{:.1f} s/it", 1 / iterations_per_second);
}

}  // namespace

ProgressBar::ProgressBar(std::string label, int64_t total, bool enabled)
    : label_(std::move(label)),
      total_(total),
      enabled_(enabled),
      terminal_(isatty(fileno(stderr)) == 1),
      start_(Clock::now()),
      last_draw_(start_) {}

bool ProgressBar::due(int64_t done) const {
  if (!enabled_) {
    return false;
  }
  if (terminal_) {
    return Clock::now() - last_draw_ >= std::chrono::milliseconds(200);
  }
  return total_ > 0 && 100 * done >= next_percent_ * total_;
}

void ProgressBar::update(int64_t done, const std::string& status, bool force) {
  if (!enabled_) {
    return;
  }
  const auto now = Clock::now();
  const double seconds = std::chrono::duration<double>(now - start_).count();
  const double rate = seconds > 0 ? static_cast<double>(done) / seconds : 0.0;
  if (!terminal_) {
    if (!force && (total_ <= 0 || 100 * done < next_percent_ * total_)) {
      return;
    }
    const int64_t percent = total_ > 0 ? 100 * done / total_ : 100;
    next_percent_ = (percent / kLogStepPercent + 1) * kLogStepPercent;
    fmt::print(stderr,
               "{}: {}/{} ({}%)  {}  {}\n",
               label_,
               done,
               total_,
               percent,
               status,
               rate_text(rate));
    return;
  }
  if (!force && now - last_draw_ < std::chrono::milliseconds(200)) {
    return;
  }
  last_draw_ = now;
  constexpr int kWidth = 24;
  const int filled = static_cast<int>(
      std::clamp<int64_t>(total_ > 0 ? kWidth * done / total_ : 0, 0, kWidth));
  fmt::print(stderr,
             "\r{} [{}{}] {}/{}  {}  {}   ",
             label_,
             std::string(filled, '#'),
             std::string(kWidth - filled, '-'),
             done,
             total_,
             status,
             rate_text(rate));
  std::fflush(stderr);
}

void ProgressBar::finish(int64_t done, const std::string& status) {
  if (!enabled_) {
    return;
  }
  update(done, status, true);
  if (terminal_) {
    fmt::print(stderr, "\n");
  }
}

}  // namespace torchclr::examples
