#pragma once

// A model's parameters grouped by their solver multipliers, for the
// optimizer the example builds over them.

#include <torch/torch.h>

#include <vector>

namespace torchclr::examples {

/// One param group and its solver multipliers (Caffe's lr_mult and
/// decay_mult): its LR is lr x lr_mult, its weight decay weight_decay x
/// decay_mult.
struct ParamGroupSpec {
  std::vector<torch::Tensor> params;
  double lr_mult = 1.0;
  double decay_mult = 1.0;
};

}  // namespace torchclr::examples
