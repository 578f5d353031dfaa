#pragma once

// What the training loop (trainer.cpp) calls besides training: its callback
// lists, and the pieces the callbacks are made of (the loss meter, the clock,
// the batches on the device, evaluation, log.csv and its plot).

#include <torch/torch.h>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "data.h"
#include "job.h"
#include "network.h"
#include "trainer.h"

namespace torchclr::examples {

/// What one iteration did, as the callbacks see it.
struct IterationEnd {
  int64_t iteration;   ///< iterations done, this one included
  double lr;           ///< the LR it trained with (param group 0)
  double momentum;     ///< the momentum it trained with (param group 0)
  torch::Tensor loss;  ///< its loss, on the device (in a job: the ranks' mean)
};

using Callback = std::function<void(const IterationEnd&)>;

/// Run in order: every `on_iteration` callback after each iteration, then
/// at an evaluation point every `on_eval` callback.
struct Callbacks {
  std::vector<Callback> on_iteration;
  std::vector<Callback> on_eval;
};

/// The mean training loss since the last reset. The losses are summed on the
/// device and read only when shown or logged: a per-step item() would wait
/// for the device every step.
class LossMeter {
 public:
  explicit LossMeter(torch::Device device);
  void add(const torch::Tensor& loss);
  /// The mean; throws, naming `iteration`, when it is not finite.
  double mean(int64_t iteration) const;
  void reset();

 private:
  torch::Tensor sum_;
  int64_t count_ = 0;
};

/// Training wall time, evaluations excluded: paused while they run.
class Stopwatch {
 public:
  /// Starts at `seconds` (a resumed run's time so far), running.
  explicit Stopwatch(double seconds);
  void pause();
  void resume();
  double seconds() const {
    return seconds_;
  }

 private:
  double seconds_;
  std::chrono::steady_clock::time_point started_;
};

/// This rank's share of each global training batch, moved to the device, and
/// the time spent getting it there.
class DeviceBatches {
 public:
  DeviceBatches(const DataSplit& train, const TrainConfig& config);
  DeviceBatches(const DeviceBatches&) = delete;
  DeviceBatches& operator=(const DeviceBatches&) = delete;

  torchclr::Batch batch_at(int64_t iteration);
  /// Spent cutting batches out of the split and moving them to the device.
  double seconds() const {
    return seconds_;
  }

 private:
  SplitBatches global_;
  ShareBatches share_;  // refers to global_
  torch::Device device_;
  double seconds_ = 0;
};

/// The accuracy of `model` on `test`, in batches of 1,000 on `device`.
double evaluate(Network& model, const DataSplit& test, torch::Device device);

/// FNV-1a hash of every parameter's bytes: equal only for equal weights.
std::string digest(Network& model);

/// Writes log_csv(`log`) to `out_dir`/log.csv, atomically.
void write_log(const std::string& out_dir, const std::vector<LogRow>& log);

/// Plots `out_dir`/log.csv (accuracy and LR) into accuracy.png with gnuplot;
/// says on stderr when it cannot.
void write_plot(const std::string& out_dir, const std::string& label);

}  // namespace torchclr::examples
