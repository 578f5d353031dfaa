#pragma once

// Progress of a long loop on standard error, for a terminal or a log file.

#include <chrono>
#include <cstdint>
#include <string>

namespace torchclr::examples {

/// On a terminal, a one-line bar redrawn at most 5 times a second:
/// `label [#####-----] 1200/5000  lr 0.0031  loss 1.234  85 it/s`. When
/// standard error is not a terminal (a log file, CI), one plain line every
/// 5% of `total` instead, so a log stays readable.
class ProgressBar {
 public:
  ProgressBar(std::string label, int64_t total, bool enabled = true);

  /// True when `update(done, ...)` would draw now: callers build the status
  /// text (and read values off the device) only then.
  bool due(int64_t done) const;

  /// Draws (if due) with `done` of `total` finished and a free-form status.
  void update(int64_t done, const std::string& status, bool force = false);

  /// Draws the final state and ends the line.
  void finish(int64_t done, const std::string& status);

 private:
  using Clock = std::chrono::steady_clock;
  std::string label_;
  int64_t total_;
  bool enabled_;
  bool terminal_;
  Clock::time_point start_;
  Clock::time_point last_draw_;
  int64_t next_percent_ = 5;
};

}  // namespace torchclr::examples
