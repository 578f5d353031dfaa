#pragma once

// Stochastic weight averaging in cifar10_clr (`train --swa-start N`): a
// torchclr::AveragedModel of the network, updated every `swa_every`
// iterations from iteration `swa_start` on, its BatchNorm statistics
// recomputed with torchclr::update_bn at the end (a no-op for cifar10_full,
// which has none). Kept in the checkpoint, so a killed run resumes to the
// same average.

#include <torch/torch.h>
#include <torchclr/averaged_model.h>

#include <memory>

#include "cifar10_full.h"
#include "data.h"
#include "network.h"

namespace torchclr::examples {

/// Refuses SWA settings that cannot run: `swa_start` past the run or
/// negative, `swa_every` < 1, a model AveragedModel cannot copy. Names the
/// flag.
void check_swa(const std::string& model,
               int64_t swa_start,
               int64_t swa_every,
               int64_t iterations);

/// The running average of one run's network.
class SwaAverage {
 public:
  /// An average of `model` (cifar10_full), to be updated from iteration
  /// `start` on, every `every` iterations.
  SwaAverage(const Network& model, int64_t start, int64_t every);

  /// After iteration `iteration` (iterations done): averages `model` in
  /// when SWA is on by then and `iteration - start` is a multiple of
  /// `every`.
  void after_iteration(int64_t iteration, const Network& model);

  int64_t n_averaged() const;

  /// Recomputes BatchNorm statistics over `train` (update_bn), then returns
  /// the averaged network, to evaluate and save.
  Network finish(const DataSplit& train,
                 int64_t batch_size,
                 torch::Device device);

  void save(torch::serialize::OutputArchive& archive) const;
  void load(torch::serialize::InputArchive& archive);

 private:
  torchclr::AveragedModel<Cifar10FullImpl> average_;
  int64_t start_;
  int64_t every_;
};

}  // namespace torchclr::examples
