#pragma once

// A tiny training run for the example's tests: random images and a short
// StepLR run that trains in well under a second.

#include <torch/torch.h>

#include "trainer.h"

namespace torchclr::examples {

/// 40 random 3 x size x size images of 10 classes: enough for a few batches.
inline DataSplit tiny_split(int64_t seed, int64_t size = 16) {
  torch::manual_seed(seed);
  return {torch::randn({40, 3, size, size}), torch::randint(10, {40})};
}

/// `iterations` of batch 10 from LR 0.01 halved every 3 steps, evaluating
/// every 2, without progress output.
inline TrainConfig tiny_run(int64_t iterations = 6) {
  TrainConfig config;
  config.run.schedule = {"StepLR(step_size=3, gamma=0.5)", ""};
  config.run.lr = 0.01;
  config.iterations = iterations;
  config.eval_every = 2;
  config.batch_size = 10;
  config.output.progress = false;
  return config;
}

}  // namespace torchclr::examples
