#pragma once

// cifar10_full's elementwise layers fused into single passes on the CPU.
// Written as composite ATen ops, Caffe's within-channel LRN is six passes
// forward and more backward, each with its own buffer, and costs about as
// much per step as a convolution; max pool then ReLU is two passes and an
// int64 index tensor. These autograd functions do each in one pass per
// direction (per image plane, in parallel); first derivatives only, as
// training needs. Other devices take the composite ops, which compute the
// same values.

#include <torch/torch.h>

namespace torchclr::examples {

/// Caffe's within-channel local response normalisation:
/// x / (1 + alpha * mean_{k x k}(x^2))^beta, the mean over a zero-padded
/// window (as PyTorch's avg_pool2d with count_include_pad), k = local_size.
/// Fused on the CPU, composite ops elsewhere.
torch::Tensor within_channel_lrn(const torch::Tensor& x,
                                 int64_t local_size = 3,
                                 double alpha = 5e-5,
                                 double beta = 0.75);

/// The same as composite ATen ops (avg_pool2d, pow): the reference the fused
/// version is tested against, and the path for CUDA.
torch::Tensor within_channel_lrn_composite(const torch::Tensor& x,
                                           int64_t local_size = 3,
                                           double alpha = 5e-5,
                                           double beta = 0.75);

/// ReLU(max_pool2d(x, kernel, stride, ceil_mode=true)), Caffe's rounded-up
/// pooling. Fused on the CPU (int32 argmax kept for the backward pass),
/// composite ops elsewhere.
torch::Tensor max_pool_relu(const torch::Tensor& x,
                            int64_t kernel = 3,
                            int64_t stride = 2);

}  // namespace torchclr::examples
