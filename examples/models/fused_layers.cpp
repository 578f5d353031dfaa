#include "fused_layers.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

namespace torchclr::examples {
namespace F = torch::nn::functional;
using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

namespace {

// Whether the fused CPU kernels take `x`: a 4-d float or double tensor on
// the CPU (any layout; it is made contiguous NCHW).
bool fused_kernels_take(const torch::Tensor& x) {
  return x.device().is_cpu() && x.dim() == 4 &&
         (x.scalar_type() == torch::kFloat ||
          x.scalar_type() == torch::kDouble);
}

// Image planes (one channel of one image) per parallel task: enough work to
// outweigh the task's start.
int64_t planes_per_task(int64_t plane_size) {
  return std::max<int64_t>(1, 16384 / std::max<int64_t>(1, plane_size));
}

// out = the sums of `in` (height x width) over the zero-padded
// (2 radius + 1)^2 window around each position, in two separable passes;
// `padded` and `rows` are scratch space the caller keeps between planes.
template <typename T>
void box_sums(const T* in,
              T* out,
              int64_t height,
              int64_t width,
              int64_t radius,
              std::vector<T>& padded,
              std::vector<T>& rows) {
  const int64_t padded_width = width + 2 * radius;
  const int64_t padded_height = height + 2 * radius;
  padded.assign(static_cast<size_t>(padded_height * padded_width), T(0));
  rows.resize(static_cast<size_t>(padded_height * width));
  for (int64_t h = 0; h < height; ++h) {
    std::memcpy(&padded[(h + radius) * padded_width + radius],
                in + h * width,
                static_cast<size_t>(width) * sizeof(T));
  }
  // Offset outermost: the inner loops run over contiguous values and
  // vectorise.
  for (int64_t h = 0; h < padded_height; ++h) {
    const T* source = &padded[h * padded_width];
    T* row = &rows[h * width];
    std::copy_n(source, width, row);
    for (int64_t j = 1; j <= 2 * radius; ++j) {
      for (int64_t w = 0; w < width; ++w) {
        row[w] += source[w + j];
      }
    }
  }
  for (int64_t h = 0; h < height; ++h) {
    T* target = out + h * width;
    for (int64_t w = 0; w < width; ++w) {
      target[w] = rows[h * width + w];
    }
    for (int64_t i = 1; i <= 2 * radius; ++i) {
      const T* row = &rows[(h + i) * width];
      for (int64_t w = 0; w < width; ++w) {
        target[w] += row[w];
      }
    }
  }
}

// s^-beta; Caffe's beta 0.75 as square roots, which vectorise, instead of
// pow (exp and log per element).
template <typename T>
T negative_power(T s, T beta) {
  if (beta == T(0.75)) {
    const T root = std::sqrt(s);
    return T(1) / (root * std::sqrt(root));
  }
  return std::pow(s, -beta);
}

struct LrnForward {
  torch::Tensor output;  // x s^-beta
  torch::Tensor scale;   // s^-beta
  torch::Tensor slope;   // s^(-beta-1), for the backward pass
};

// s = 1 + alpha mean_window(x^2) per position; y = x s^-beta.
LrnForward lrn_forward(const torch::Tensor& input,
                       int64_t local_size,
                       double alpha,
                       double beta,
                       bool for_backward) {
  auto x = input.contiguous();
  LrnForward result{torch::empty_like(x), torch::empty_like(x), {}};
  if (for_backward) {
    result.slope = torch::empty_like(x);
  }
  const int64_t height = x.size(2), width = x.size(3);
  const int64_t plane = height * width;
  const int64_t planes = x.size(0) * x.size(1);
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "within_channel_lrn", [&] {
    const auto alpha_mean = static_cast<scalar_t>(
        alpha / static_cast<double>(local_size * local_size));
    const auto power = static_cast<scalar_t>(beta);
    const scalar_t* in = x.data_ptr<scalar_t>();
    scalar_t* out = result.output.data_ptr<scalar_t>();
    scalar_t* scale = result.scale.data_ptr<scalar_t>();
    scalar_t* slope =
        for_backward ? result.slope.data_ptr<scalar_t>() : nullptr;
    at::parallel_for(
        0, planes, planes_per_task(plane), [&](int64_t begin, int64_t end) {
          std::vector<scalar_t> squares(static_cast<size_t>(plane));
          std::vector<scalar_t> sums(static_cast<size_t>(plane));
          std::vector<scalar_t> padded, rows;
          for (int64_t p = begin; p < end; ++p) {
            const int64_t offset = p * plane;
            for (int64_t i = 0; i < plane; ++i) {
              squares[i] = in[offset + i] * in[offset + i];
            }
            box_sums(squares.data(),
                     sums.data(),
                     height,
                     width,
                     local_size / 2,
                     padded,
                     rows);
            for (int64_t i = 0; i < plane; ++i) {
              const scalar_t s = scalar_t(1) + alpha_mean * sums[i];
              const scalar_t factor = negative_power(s, power);
              scale[offset + i] = factor;
              out[offset + i] = in[offset + i] * factor;
              if (slope) {
                slope[offset + i] = factor / s;
              }
            }
          }
        });
  });
  return result;
}

// dx_q = g_q s_q^-beta
//        - (2 alpha beta / k^2) x_q sum_{p in window(q)} g_p x_p s_p^(-beta-1)
// (the window is symmetric: p is in q's window when q is in p's).
torch::Tensor lrn_backward(const torch::Tensor& grad_output,
                           const torch::Tensor& x,
                           const torch::Tensor& scale,
                           const torch::Tensor& slope,
                           int64_t local_size,
                           double alpha,
                           double beta) {
  auto grad = grad_output.contiguous();
  auto grad_input = torch::empty_like(x);
  const int64_t height = x.size(2), width = x.size(3);
  const int64_t plane = height * width;
  const int64_t planes = x.size(0) * x.size(1);
  AT_DISPATCH_FLOATING_TYPES(
      x.scalar_type(), "within_channel_lrn_backward", [&] {
        const auto coefficient = static_cast<scalar_t>(
            2 * alpha * beta / static_cast<double>(local_size * local_size));
        const scalar_t* g = grad.data_ptr<scalar_t>();
        const scalar_t* in = x.data_ptr<scalar_t>();
        const scalar_t* factor = scale.data_ptr<scalar_t>();
        const scalar_t* slope_data = slope.data_ptr<scalar_t>();
        scalar_t* out = grad_input.data_ptr<scalar_t>();
        at::parallel_for(
            0, planes, planes_per_task(plane), [&](int64_t begin, int64_t end) {
              std::vector<scalar_t> terms(static_cast<size_t>(plane));
              std::vector<scalar_t> sums(static_cast<size_t>(plane));
              std::vector<scalar_t> padded, rows;
              for (int64_t p = begin; p < end; ++p) {
                const int64_t offset = p * plane;
                for (int64_t i = 0; i < plane; ++i) {
                  terms[i] =
                      g[offset + i] * in[offset + i] * slope_data[offset + i];
                }
                box_sums(terms.data(),
                         sums.data(),
                         height,
                         width,
                         local_size / 2,
                         padded,
                         rows);
                for (int64_t i = 0; i < plane; ++i) {
                  out[offset + i] = g[offset + i] * factor[offset + i] -
                                    coefficient * in[offset + i] * sums[i];
                }
              }
            });
      });
  return grad_input;
}

struct LrnFunction : torch::autograd::Function<LrnFunction> {
  static torch::Tensor forward(AutogradContext* ctx,
                               const torch::Tensor& x,
                               int64_t local_size,
                               double alpha,
                               double beta) {
    auto result = lrn_forward(x, local_size, alpha, beta, true);
    ctx->save_for_backward({x.contiguous(), result.scale, result.slope});
    ctx->saved_data["local_size"] = local_size;
    ctx->saved_data["alpha"] = alpha;
    ctx->saved_data["beta"] = beta;
    return result.output;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    return {lrn_backward(grads[0],
                         saved[0],
                         saved[1],
                         saved[2],
                         ctx->saved_data["local_size"].toInt(),
                         ctx->saved_data["alpha"].toDouble(),
                         ctx->saved_data["beta"].toDouble()),
            {},
            {},
            {}};
  }
};

// PyTorch's ceil-mode output size without padding: a last window that
// starts inside the input counts.
int64_t pooled_size(int64_t size, int64_t kernel, int64_t stride) {
  int64_t pooled = (size - kernel + stride - 1) / stride + 1;
  if ((pooled - 1) * stride >= size) {
    --pooled;
  }
  return pooled;
}

// One offset of a row of pooling windows: values[ow] (plane index
// first_index + ow * stride) into each window's running maximum. Selects by
// masks, not branches, so that it vectorises: a branch on random data
// mispredicts half the time (it took 16% of a training step).
template <typename T>
void fold_max(const T* __restrict values,
              int64_t count,
              int32_t first_index,
              int32_t stride,
              T* __restrict best,
              int32_t* __restrict best_at,
              int32_t* __restrict any_nan) {
  for (int32_t ow = 0; ow < count; ++ow) {
    const T v = values[ow];
    const T b = best[ow];
    const int32_t greater = -static_cast<int32_t>(v > b);
    best[ow] = v > b ? v : b;
    best_at[ow] =
        (best_at[ow] & ~greater) | ((first_index + ow * stride) & greater);
    any_nan[ow] |= static_cast<int32_t>(v != v);
  }
}

// The shape of one max pool with ceil mode: input and output planes, window
// and stride. Windows that ceil mode lets run past the border read -inf
// padding. The padded plane is kept split by column phase (column c in phase
// c % stride, at c / stride), so that one offset of the window reads
// contiguous values across a row of windows.
struct PoolShape {
  PoolShape(int64_t height, int64_t width, int64_t kernel, int64_t stride)
      : height(height),
        width(width),
        kernel(kernel),
        stride(stride),
        out_height(pooled_size(height, kernel, stride)),
        out_width(pooled_size(width, kernel, stride)),
        phase_width(((out_width - 1) * stride + kernel + stride - 1) / stride),
        phase_size(((out_height - 1) * stride + kernel) * phase_width) {}

  int64_t height, width, kernel, stride;
  int64_t out_height, out_width;
  int64_t phase_width, phase_size;
};

// One task's buffers: the plane split by phase (its padding stays -inf), and
// a row of windows' running maxima, their positions and NaN flags.
template <typename T>
struct PoolScratch {
  explicit PoolScratch(const PoolShape& shape)
      : phases(static_cast<size_t>(shape.stride * shape.phase_size),
               -std::numeric_limits<T>::infinity()),
        best(static_cast<size_t>(shape.out_width)),
        best_at(static_cast<size_t>(shape.out_width)),
        any_nan(static_cast<size_t>(shape.out_width)) {}

  std::vector<T> phases;
  std::vector<T> best;
  std::vector<int32_t> best_at;
  std::vector<int32_t> any_nan;
};

// Max pool then ReLU of one plane into `target`, with each output's source
// position within the plane in `source`.
template <typename T>
void max_pool_relu_plane(const T* plane,
                         const PoolShape& s,
                         PoolScratch<T>& scratch,
                         T* target,
                         int32_t* source) {
  for (int64_t phase = 0; phase < s.stride; ++phase) {
    for (int64_t h = 0; h < s.height; ++h) {
      T* phase_row = &scratch.phases[phase * s.phase_size + h * s.phase_width];
      for (int64_t w = phase, j = 0; w < s.width; w += s.stride, ++j) {
        phase_row[j] = plane[h * s.width + w];
      }
    }
  }
  auto& best = scratch.best;
  auto& best_at = scratch.best_at;
  auto& any_nan = scratch.any_nan;
  for (int64_t oh = 0; oh < s.out_height; ++oh) {
    std::fill(best.begin(), best.end(), -std::numeric_limits<T>::infinity());
    std::fill(any_nan.begin(), any_nan.end(), 0);
    for (int64_t ow = 0; ow < s.out_width; ++ow) {
      best_at[ow] =
          static_cast<int32_t>(oh * s.stride * s.width + ow * s.stride);
    }
    for (int64_t dh = 0; dh < s.kernel; ++dh) {
      const int64_t h = oh * s.stride + dh;
      for (int64_t dw = 0; dw < s.kernel; ++dw) {
        fold_max(&scratch.phases[(dw % s.stride) * s.phase_size +
                                 h * s.phase_width + dw / s.stride],
                 s.out_width,
                 static_cast<int32_t>(h * s.width + dw),
                 static_cast<int32_t>(s.stride),
                 best.data(),
                 best_at.data(),
                 any_nan.data());
      }
    }
    for (int64_t ow = 0; ow < s.out_width; ++ow) {
      const int64_t o = oh * s.out_width + ow;
      // NaN wins, as in max_pool2d and ReLU: divergence stays visible (its
      // gradient is 0, as ReLU's).
      target[o] = any_nan[ow]    ? std::numeric_limits<T>::quiet_NaN()
                  : best[ow] > 0 ? best[ow]
                                 : T(0);
      source[o] = best_at[ow];
    }
  }
}

struct MaxPoolReluFunction : torch::autograd::Function<MaxPoolReluFunction> {
  static torch::Tensor forward(AutogradContext* ctx,
                               const torch::Tensor& input,
                               int64_t kernel,
                               int64_t stride) {
    auto x = input.contiguous();
    const PoolShape shape(x.size(2), x.size(3), kernel, stride);
    const int64_t plane_size = shape.height * shape.width;
    const int64_t out_plane_size = shape.out_height * shape.out_width;
    const int64_t planes = x.size(0) * x.size(1);
    auto output = torch::empty(
        {x.size(0), x.size(1), shape.out_height, shape.out_width}, x.options());
    // Where each output came from, within its plane.
    auto argmax = torch::empty(output.sizes(), x.options().dtype(torch::kInt));
    AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "max_pool_relu", [&] {
      const scalar_t* in = x.data_ptr<scalar_t>();
      scalar_t* out = output.data_ptr<scalar_t>();
      int32_t* from = argmax.data_ptr<int32_t>();
      at::parallel_for(0,
                       planes,
                       planes_per_task(plane_size),
                       [&](int64_t begin, int64_t end) {
                         PoolScratch<scalar_t> scratch(shape);
                         for (int64_t p = begin; p < end; ++p) {
                           max_pool_relu_plane(in + p * plane_size,
                                               shape,
                                               scratch,
                                               out + p * out_plane_size,
                                               from + p * out_plane_size);
                         }
                       });
    });
    ctx->save_for_backward({output, argmax});
    ctx->saved_data["height"] = shape.height;
    ctx->saved_data["width"] = shape.width;
    return output;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const auto& output = saved[0];
    const auto& argmax = saved[1];
    auto grad = grads[0].contiguous();
    const int64_t height = ctx->saved_data["height"].toInt();
    const int64_t width = ctx->saved_data["width"].toInt();
    const int64_t plane = height * width;
    const int64_t out_plane = output.size(2) * output.size(3);
    const int64_t planes = output.size(0) * output.size(1);
    auto grad_input = torch::empty(
        {output.size(0), output.size(1), height, width}, output.options());
    AT_DISPATCH_FLOATING_TYPES(
        output.scalar_type(), "max_pool_relu_backward", [&] {
          const scalar_t* g = grad.data_ptr<scalar_t>();
          const scalar_t* y = output.data_ptr<scalar_t>();
          const int32_t* from = argmax.data_ptr<int32_t>();
          scalar_t* out = grad_input.data_ptr<scalar_t>();
          at::parallel_for(0,
                           planes,
                           planes_per_task(plane),
                           [&](int64_t begin, int64_t end) {
                             for (int64_t p = begin; p < end; ++p) {
                               scalar_t* target = out + p * plane;
                               std::fill(target, target + plane, scalar_t(0));
                               const int64_t o0 = p * out_plane;
                               for (int64_t o = 0; o < out_plane; ++o) {
                                 // ReLU passes the gradient where its output is
                                 // positive.
                                 if (y[o0 + o] > 0) {
                                   target[from[o0 + o]] += g[o0 + o];
                                 }
                               }
                             }
                           });
        });
    return {grad_input, {}, {}};
  }
};

bool records_graph(const torch::Tensor& x) {
  return torch::GradMode::is_enabled() && x.requires_grad();
}

}  // namespace

torch::Tensor within_channel_lrn_composite(const torch::Tensor& x,
                                           int64_t local_size,
                                           double alpha,
                                           double beta) {
  auto mean_square = F::avg_pool2d(x.square(),
                                   F::AvgPool2dFuncOptions(local_size)
                                       .stride(1)
                                       .padding(local_size / 2)
                                       .count_include_pad(true));
  return x * mean_square.mul_(alpha).add_(1).pow_(-beta);
}

torch::Tensor within_channel_lrn(const torch::Tensor& x,
                                 int64_t local_size,
                                 double alpha,
                                 double beta) {
  TORCH_CHECK(local_size > 0 && local_size % 2 == 1,
              "within_channel_lrn: local_size must be odd and > 0, got ",
              local_size);
  if (!fused_kernels_take(x)) {
    return within_channel_lrn_composite(x, local_size, alpha, beta);
  }
  if (!records_graph(x)) {
    return lrn_forward(x, local_size, alpha, beta, false).output;
  }
  return LrnFunction::apply(x, local_size, alpha, beta);
}

torch::Tensor max_pool_relu(const torch::Tensor& x,
                            int64_t kernel,
                            int64_t stride) {
  // The fused kernel keeps int32 indices within a plane.
  if (!fused_kernels_take(x) || x.size(2) < kernel || x.size(3) < kernel ||
      x.size(2) * x.size(3) > std::numeric_limits<int32_t>::max()) {
    return torch::relu(F::max_pool2d(
        x, F::MaxPool2dFuncOptions(kernel).stride(stride).ceil_mode(true)));
  }
  return MaxPoolReluFunction::apply(x, kernel, stride);
}

}  // namespace torchclr::examples
