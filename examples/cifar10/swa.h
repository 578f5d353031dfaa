#pragma once

// Stochastic weight averaging in cifar10_clr (`train --swa-start N`): a
// torchclr::AveragedModel of the network (any --model), updated every
// `swa_every` iterations from iteration `swa_start` on, its BatchNorm
// statistics recomputed at the end: torchclr::update_bn for LibTorch's
// BatchNorm (resnet56), recount_caffe_batch_norm for Caffe's (the
// super-convergence ResNets); cifar10_full has none. Kept in the checkpoint,
// so a killed run resumes to the same average.

#include <torch/torch.h>
#include <torchclr/averaged_model.h>

#include <memory>
#include <string>

#include "data.h"
#include "network.h"

namespace torchclr::examples {

/// Refuses SWA settings that cannot run: `swa_start` past the run or
/// negative, `swa_every` < 1. Names the flag. Every model of make_network
/// can be averaged.
void check_swa(int64_t swa_start, int64_t swa_every, int64_t iterations);

/// The running average of one run's network.
class SwaAverage {
 public:
  /// An average of `model` (one of make_network's, whose modules are all
  /// torch::nn::Cloneable), to be updated from iteration `start` on, every
  /// `every` iterations.
  SwaAverage(const Network& model, int64_t start, int64_t every);

  /// After iteration `iteration` (iterations done): averages `model` in
  /// when SWA is on by then and `iteration - start` is a multiple of
  /// `every`.
  void after_iteration(int64_t iteration, const Network& model);

  int64_t n_averaged() const;

  /// Recomputes the BatchNorm statistics of the average with one pass in
  /// order over `train` in batches of `batch_size` (update_bn, or
  /// recount_caffe_batch_norm with the model's ghost batches: the average
  /// of the first ghost group's statistics, as Caffe's root GPU keeps
  /// them), then returns the averaged network, to evaluate and save.
  Network finish(const DataSplit& train,
                 int64_t batch_size,
                 torch::Device device);

  void save(torch::serialize::OutputArchive& archive) const;
  void load(torch::serialize::InputArchive& archive);

 private:
  // Type-erased: the models' Impl types differ, and SWA needs no more than
  // Module's clone(), parameters and buffers (finish() finds the forward).
  torchclr::AveragedModel<torch::nn::Module> average_;
  int64_t start_;
  int64_t every_;
};

}  // namespace torchclr::examples
