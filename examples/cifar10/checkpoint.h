#pragma once

// cifar10_clr's checkpoint: model, optimizer, scheduler (with its text),
// the log and the settings a resumed run must share, in one archive
// written to a temporary name and renamed into place. Every key is required:
// a checkpoint without one is refused, naming it.

#include <torchclr/scheduler.h>

#include <string>
#include <vector>

#include "data.h"
#include "run_spec.h"
#include "swa.h"
#include "trainer.h"

namespace torchclr::examples {

/// The parts of a run a checkpoint saves and restores.
struct RunState {
  TrainingRun& run;
  /// `torchclr::to_text` of `scheduler`: a resumed run must have the same.
  std::string schedule_text;
  std::vector<LogRow>& log;
  /// With --swa-start: the running average, saved and restored too.
  SwaAverage* swa = nullptr;
};

/// What a resumed run must share with the checkpoint beyond the flags
/// checked one by one: the optimizer's settings, the model and the data
/// shape.
std::string run_settings(const TrainConfig& config, const DataSplit& train);

/// Writes `state` at `iteration` to `config.output.checkpoint`, atomically.
void save_checkpoint(const TrainConfig& config,
                     const std::string& settings,
                     const RunState& state,
                     int64_t iteration);

/// Loads `config.output.checkpoint` into the freshly built `state` and
/// returns its iteration; refuses, saying what differs, one written for
/// another schedule (naming both texts) or other settings, and one that
/// lacks a key (naming it).
int64_t resume(const TrainConfig& config,
               const std::string& settings,
               RunState& state);

}  // namespace torchclr::examples
