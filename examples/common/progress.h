#pragma once

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>

namespace torchclr::examples {

/// A one-line progress bar on standard error, redrawn at most 5 times a
/// second: `[#####-----] 1200/5000  lr 0.0031  loss 1.234  85 it/s`.
class ProgressBar {
 public:
  ProgressBar(std::string label, int64_t total, bool enabled = true)
      : label_(std::move(label)),
        total_(total),
        enabled_(enabled),
        start_(Clock::now()),
        last_draw_(start_) {}

  /// Redraws (if due) with `done` of `total` finished and a free-form status.
  void update(int64_t done, const std::string& status, bool force = false) {
    const auto now = Clock::now();
    if (!enabled_ ||
        (!force && now - last_draw_ < std::chrono::milliseconds(200))) {
      return;
    }
    last_draw_ = now;
    const double seconds = std::chrono::duration<double>(now - start_).count();
    constexpr int kWidth = 24;
    const int filled = static_cast<int>(std::clamp<int64_t>(
        total_ > 0 ? kWidth * done / total_ : 0, 0, kWidth));
    fmt::print(stderr,
               "\r{} [{}{}] {}/{}  {}  {:.0f} it/s   ",
               label_,
               std::string(filled, '#'),
               std::string(kWidth - filled, '-'),
               done,
               total_,
               status,
               seconds > 0 ? done / seconds : 0.0);
    std::fflush(stderr);
  }

  /// Draws the final state and ends the line.
  void finish(int64_t done, const std::string& status) {
    update(done, status, true);
    if (enabled_) {
      fmt::print(stderr, "\n");
    }
  }

 private:
  using Clock = std::chrono::steady_clock;
  std::string label_;
  int64_t total_;
  bool enabled_;
  Clock::time_point start_;
  Clock::time_point last_draw_;
};

}  // namespace torchclr::examples
