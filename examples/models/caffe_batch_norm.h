#pragma once

// Caffe's BatchNorm layer and the Scale layer that follows it in Caffe's
// networks (BVLC/caffe src/caffe/layers/batch_norm_layer.cpp and
// scale_layer.cpp), with ghost batches: the batch statistics of several
// GPUs' shares of a batch, computed in one process.

#include <torch/arg.h>
#include <torch/torch.h>

#include <cstdint>
#include <functional>
#include <utility>

namespace torchclr::examples {

struct CaffeBatchNormOptions {
  /* implicit */ CaffeBatchNormOptions(int64_t num_features)
      : num_features_(num_features) {}

  /// Channels C of the input [N, C, H, W].
  TORCH_ARG(int64_t, num_features);
  /// batch_norm_param's moving_average_fraction (Caffe's default 0.999): the
  /// share of the running sums kept at each training step.
  TORCH_ARG(double, moving_average_fraction) = 0.999;
  /// batch_norm_param's eps (Caffe's default 1e-5), added to the variance.
  TORCH_ARG(double, eps) = 1e-5;
  /// 0: the whole batch is one group. n > 0: training normalises each run
  /// of n consecutive images with its own statistics (the last run may be
  /// shorter), as n images on each of several GPUs are.
  TORCH_ARG(int64_t, ghost_batch_size) = 0;
};

/// Caffe's update of BatchNorm's three blobs after one training forward over
/// `count_per_channel` values per channel (m = N H W) with biased batch
/// statistics `batch_mean` and `batch_variance` [C], in place:
///   scale_factor <- fraction * scale_factor + 1
///   mean_sum     <- fraction * mean_sum + batch_mean
///   variance_sum <- fraction * variance_sum + m / (m - 1) * batch_variance
/// (m / (m - 1) is 1 when m is 1).
void accumulate_caffe_statistics(torch::Tensor& mean_sum,
                                 torch::Tensor& variance_sum,
                                 torch::Tensor& scale_factor,
                                 const torch::Tensor& batch_mean,
                                 const torch::Tensor& batch_variance,
                                 int64_t count_per_channel,
                                 double moving_average_fraction);

/// Caffe's BatchNorm over [N, C, H, W], without scale or shift (Caffe's
/// Scale layer, CaffeScale, adds them). Training (use_global_stats false):
/// y = (x - mean_B) / sqrt(var_B + eps) with the group's biased statistics,
/// then accumulate_caffe_statistics. Evaluation (use_global_stats true):
/// mean = mean_sum / scale_factor and var = variance_sum / scale_factor
/// (both 0 while scale_factor is 0), y = (x - mean) / sqrt(var + eps).
///
/// With ghost batches, the running sums take the first group's statistics
/// only. This is what Caffe's multi-GPU training keeps: every GPU holds its
/// own BatchNorm blobs and updates them from its own 125 images; only the
/// root solver (GPU 0) tests and snapshots, and the other GPUs' blobs are
/// never reduced into its (P2PSync, up to January 2017, copies the root's
/// blobs over theirs before every iteration; NCCL, after it, broadcasts them
/// once at the start; the super-convergence authors' logs show P2PSync). So
/// the first group here is GPU 0's share.
///
/// Cloneable (reset() registers the blobs), so that clone() of a network
/// holding it copies its sums.
class CaffeBatchNorm2dImpl : public torch::nn::Cloneable<CaffeBatchNorm2dImpl> {
 public:
  explicit CaffeBatchNorm2dImpl(CaffeBatchNormOptions options);

  /// Registers the three blobs, filled with 0 as Caffe fills them.
  void reset() override;

  torch::Tensor forward(const torch::Tensor& x);

  /// The mean and variance evaluation normalises with (Caffe's test phase).
  std::pair<torch::Tensor, torch::Tensor> global_statistics() const;

  const CaffeBatchNormOptions& options() const {
    return options_;
  }

  /// Caffe's blobs 0, 1 and 2: the discounted sums of batch means, of
  /// corrected batch variances, and of ones [1].
  torch::Tensor mean_sum, variance_sum, scale_factor;

 private:
  friend void recount_caffe_batch_norm(torch::nn::Module& model,
                                       const std::function<void()>& pass);

  CaffeBatchNormOptions options_;
};
TORCH_MODULE(CaffeBatchNorm2d);

/// PyTorch's update_bn (torchclr::update_bn) for Caffe's BatchNorm: zeroes
/// the three blobs of every CaffeBatchNorm2d in `model`, sets their
/// moving_average_fraction to 1, puts `model` in training mode and runs
/// `pass` (which forwards the data through `model`) without gradients; then
/// restores the fractions and every module's training flag, also when `pass`
/// throws. With fraction 1 the blobs are plain sums over the pass's
/// forwards, so the test phase's mean_sum / scale_factor is the average of
/// the batch means and variance_sum / scale_factor that of the m / (m - 1)
/// corrected batch variances: the cumulative average PyTorch's update_bn
/// computes (momentum None). With ghost batches each forward adds the first
/// group's statistics, as in training. Without a CaffeBatchNorm2d it does
/// nothing and does not run `pass`.
void recount_caffe_batch_norm(torch::nn::Module& model,
                              const std::function<void()>& pass);

/// Caffe's Scale layer with bias_term: y = weight[c] x + bias[c] over
/// [N, C, H, W], weight starting at 1 and bias at 0 (its default fillers).
class CaffeScaleImpl : public torch::nn::Cloneable<CaffeScaleImpl> {
 public:
  explicit CaffeScaleImpl(int64_t channels);

  /// Registers weight (ones) and bias (zeros).
  void reset() override;

  torch::Tensor forward(const torch::Tensor& x);

  torch::Tensor weight, bias;

 private:
  int64_t channels_;
};
TORCH_MODULE(CaffeScale);

}  // namespace torchclr::examples
