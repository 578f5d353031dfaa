#include "fused_layers.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "cifar10_full.h"

namespace torchclr::examples {
namespace {

namespace F = torch::nn::functional;

struct ValueAndGrad {
  torch::Tensor value;
  torch::Tensor grad;
};

// `layer(x)` and d(sum(layer(x) * upstream))/dx.
template <typename Layer>
ValueAndGrad run(Layer layer,
                 const torch::Tensor& x,
                 const torch::Tensor& upstream) {
  auto input = x.detach().clone().requires_grad_(true);
  auto value = layer(input);
  value.backward(upstream);
  return {value.detach(), input.grad()};
}

void expect_close(const torch::Tensor& actual,
                  const torch::Tensor& expected,
                  double rtol,
                  double atol) {
  ASSERT_EQ(actual.sizes(), expected.sizes());
  EXPECT_TRUE(torch::allclose(actual, expected, rtol, atol))
      << "largest difference "
      << (actual - expected).abs().max().item<double>();
}

// Activations of cifar10_full's scale (raw pixels minus the mean reach
// +-100s), where the normalisation changes values noticeably.
torch::Tensor activations(torch::IntArrayRef shape, torch::Dtype dtype) {
  return torch::randn(shape, torch::TensorOptions(dtype)) * 80;
}

TEST(FusedLayersTest, LrnMatchesCompositeOpsInFloat) {
  torch::manual_seed(0);
  // Odd, non-square planes: the zero padding at every border counts.
  auto x = activations({3, 4, 7, 9}, torch::kFloat);
  auto upstream = torch::randn({3, 4, 7, 9});
  auto fused = run([](auto t) { return within_channel_lrn(t); }, x, upstream);
  auto composite =
      run([](auto t) { return within_channel_lrn_composite(t); }, x, upstream);
  // It normalises: outputs are visibly smaller than inputs somewhere.
  EXPECT_GT((fused.value - x).abs().max().item<double>(), 1.0);
  expect_close(fused.value, composite.value, 1e-5, 1e-5);
  expect_close(fused.grad, composite.grad, 1e-4, 1e-6);
}

TEST(FusedLayersTest, LrnMatchesCompositeOpsInDoubleForOtherSettings) {
  torch::manual_seed(1);
  auto x = activations({2, 3, 6, 5}, torch::kDouble);
  auto upstream = torch::randn({2, 3, 6, 5}, torch::kDouble);
  // local_size 5 and a beta that takes the pow path.
  auto fused = run(
      [](auto t) { return within_channel_lrn(t, 5, 1e-3, 0.6); }, x, upstream);
  auto composite =
      run([](auto t) { return within_channel_lrn_composite(t, 5, 1e-3, 0.6); },
          x,
          upstream);
  expect_close(fused.value, composite.value, 1e-12, 1e-12);
  expect_close(fused.grad, composite.grad, 1e-10, 1e-12);
}

TEST(FusedLayersTest, LrnTakesChannelsLastAndRefusesEvenWindows) {
  torch::manual_seed(2);
  auto x = activations({2, 3, 5, 5}, torch::kFloat);
  expect_close(
      within_channel_lrn(x.contiguous(torch::MemoryFormat::ChannelsLast)),
      within_channel_lrn_composite(x),
      1e-5,
      1e-5);
  try {
    within_channel_lrn(x, 4);
    FAIL() << "an even local_size was accepted";
  } catch (const c10::Error& e) {
    EXPECT_NE(
        std::string(e.what()).find("local_size must be odd and > 0, got 4"),
        std::string::npos)
        << e.what();
  }
}

// Caffe's LRN with norm_region WITHIN_CHANNEL, transcribed from
// caffe/src/caffe/layers/lrn_layer.cpp (LayerSetUp: square, AVE pooling with
// kernel local_size, stride 1, pad (local_size - 1) / 2, power with
// power -beta, scale alpha, shift 1, then the product with the input) and
// pooling_layer.cpp (the average divides by (hend - hstart) * (wend - wstart)
// with the window's end clipped at height + pad, not at height: local_size^2
// at the borders too). Plain loops over doubles, one image plane, nothing
// shared with the code under test.
std::vector<double> caffe_within_channel_lrn(const std::vector<double>& x,
                                             int64_t height,
                                             int64_t width,
                                             int64_t local_size,
                                             double alpha,
                                             double beta) {
  const int64_t pad = (local_size - 1) / 2;
  std::vector<double> y(x.size());
  for (int64_t h = 0; h < height; ++h) {
    for (int64_t w = 0; w < width; ++w) {
      const int64_t hstart = h - pad, wstart = w - pad;
      const int64_t hend = std::min(hstart + local_size, height + pad);
      const int64_t wend = std::min(wstart + local_size, width + pad);
      const double pool_size = double(hend - hstart) * double(wend - wstart);
      double sum = 0;
      for (int64_t i = std::max<int64_t>(hstart, 0); i < std::min(hend, height);
           ++i) {
        for (int64_t j = std::max<int64_t>(wstart, 0);
             j < std::min(wend, width);
             ++j) {
          sum += x[i * width + j] * x[i * width + j];
        }
      }
      const double scale = 1 + alpha * (sum / pool_size);
      y[h * width + w] = x[h * width + w] * std::pow(scale, -beta);
    }
  }
  return y;
}

std::vector<double> to_vector(const torch::Tensor& t) {
  auto flat = t.to(torch::kDouble).contiguous().view(-1);
  return {flat.data_ptr<double>(), flat.data_ptr<double>() + flat.numel()};
}

TEST(FusedLayersTest, LrnOfOnesByHandAtCornersEdgesAndCentre) {
  // 3x3 ones, local_size 3, alpha 1, beta 1: a corner's window holds 4 ones
  // of 9 cells, 1 / (1 + 4/9) = 9/13; an edge's 6, 1 / (1 + 6/9) = 3/5; the
  // centre's 9, 1/2.
  auto y = within_channel_lrn(
      torch::ones({1, 1, 3, 3}, torch::kDouble), 3, 1.0, 1.0);
  const double c = 9.0 / 13, e = 3.0 / 5;
  const std::vector<double> expected{c, e, c, e, 0.5, e, c, e, c};
  const auto actual = to_vector(y);
  ASSERT_EQ(actual.size(), expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    EXPECT_NEAR(actual[i], expected[i], 1e-15) << "position " << i;
  }
}

TEST(FusedLayersTest, LrnMatchesCaffesLayerAtEveryPositionAndItsGradient) {
  torch::manual_seed(3);
  // cifar10_full's settings on planes of 4x5 (local_size 3) and on planes
  // narrower than the window (local_size 5 over 4x3: every window crosses
  // two borders).
  struct Case {
    int64_t height, width, local_size;
    double alpha, beta;
  };
  for (const Case& c : {Case{4, 5, 3, 5e-5, 0.75}, Case{4, 3, 5, 1e-3, 0.6}}) {
    SCOPED_TRACE(c.local_size);
    auto x = activations({2, 2, c.height, c.width}, torch::kDouble);
    auto upstream = torch::randn_like(x);
    auto lrn = [&](auto t) {
      return within_channel_lrn(t, c.local_size, c.alpha, c.beta);
    };
    auto fused = run(lrn, x, upstream);
    const int64_t plane = c.height * c.width;
    const auto input = to_vector(x), up = to_vector(upstream);
    const auto value = to_vector(fused.value), grad = to_vector(fused.grad);
    for (int64_t p = 0; p < 4; ++p) {
      const std::vector<double> in(input.begin() + p * plane,
                                   input.begin() + (p + 1) * plane);
      const auto expected = caffe_within_channel_lrn(
          in, c.height, c.width, c.local_size, c.alpha, c.beta);
      // d(sum(upstream * y))/dx by central differences of Caffe's layer.
      auto objective = [&](const std::vector<double>& v) {
        const auto out = caffe_within_channel_lrn(
            v, c.height, c.width, c.local_size, c.alpha, c.beta);
        double sum = 0;
        for (int64_t i = 0; i < plane; ++i) {
          sum += up[p * plane + i] * out[i];
        }
        return sum;
      };
      for (int64_t i = 0; i < plane; ++i) {
        EXPECT_NEAR(
            value[p * plane + i], expected[i], 1e-13 * std::abs(expected[i]))
            << "plane " << p << " position " << i;
        const double h = 1e-4;
        auto above = in, below = in;
        above[i] += h;
        below[i] -= h;
        const double numeric = (objective(above) - objective(below)) / (2 * h);
        EXPECT_NEAR(
            grad[p * plane + i], numeric, 1e-6 * (1 + std::abs(numeric)))
            << "gradient, plane " << p << " position " << i;
      }
    }
  }
}

torch::Tensor composite_max_pool_relu(const torch::Tensor& x) {
  return torch::relu(
      F::max_pool2d(x, F::MaxPool2dFuncOptions(3).stride(2).ceil_mode(true)));
}

TEST(FusedLayersTest, MaxPoolReluMatchesCompositeOps) {
  torch::manual_seed(3);
  // 9 and 8 wide: ceil mode adds a clipped last window on one side only.
  for (auto shape :
       {std::vector<int64_t>{2, 3, 9, 8}, std::vector<int64_t>{4, 2, 32, 32}}) {
    auto x = torch::randn(shape);
    auto upstream = torch::randn_like(composite_max_pool_relu(x));
    auto fused = run([](auto t) { return max_pool_relu(t); }, x, upstream);
    auto composite = run(composite_max_pool_relu, x, upstream);
    EXPECT_TRUE(torch::equal(fused.value, composite.value));
    EXPECT_TRUE(torch::equal(fused.grad, composite.grad));
    // Some windows are all negative: ReLU's zeros are exercised.
    EXPECT_GT((fused.value == 0).sum().item<int64_t>(), 0);
  }
}

TEST(FusedLayersTest, MaxPoolReluPassesNaNOn) {
  auto x = torch::zeros({1, 1, 5, 5});
  x[0][0][1][1] = std::numeric_limits<float>::quiet_NaN();
  auto fused = max_pool_relu(x);
  auto composite = composite_max_pool_relu(x);
  EXPECT_TRUE(torch::equal(fused.isnan(), composite.isnan()));
  EXPECT_TRUE(fused.isnan().any().item<bool>());
}

// The network's forward, built from composite ops and its own parameters.
torch::Tensor reference_forward(Cifar10Full& net, const torch::Tensor& input) {
  auto params = net->named_parameters();
  auto conv = [&](const torch::Tensor& x, const std::string& name) {
    return F::conv2d(
        x,
        params[name + ".weight"],
        F::Conv2dFuncOptions().bias(params[name + ".bias"]).padding(2));
  };
  auto avg_pool = [](const torch::Tensor& x) {
    return F::avg_pool2d(x,
                         F::AvgPool2dFuncOptions(3).stride(2).ceil_mode(true));
  };
  auto x = within_channel_lrn_composite(
      composite_max_pool_relu(conv(input, "conv1")));
  x = within_channel_lrn_composite(avg_pool(torch::relu(conv(x, "conv2"))));
  x = avg_pool(torch::relu(conv(x, "conv3")));
  return F::linear(x.flatten(1), params["fc.weight"], params["fc.bias"]);
}

TEST(Cifar10FullTest, ForwardAndGradientsMatchCompositeOps) {
  torch::manual_seed(4);
  Cifar10Full net(3, 32, 32);
  {
    // Larger weights than Caffe's init, so that every layer matters.
    torch::NoGradGuard no_grad;
    for (auto& p : net->parameters()) {
      p.normal_(0, 0.05);
    }
  }
  auto images = activations({4, 3, 32, 32}, torch::kFloat);
  auto targets = torch::tensor({1, 5, 7, 9}, torch::kLong);
  auto gradients = [&](auto forward) {
    net->zero_grad();
    auto logits = forward(images);
    F::cross_entropy(logits, targets).backward();
    std::vector<torch::Tensor> grads;
    for (auto& p : net->parameters()) {
      grads.push_back(p.grad().clone());
    }
    return std::make_pair(logits.detach(), grads);
  };
  auto [logits, grads] = gradients([&](auto x) { return net->forward(x); });
  auto [expected_logits, expected_grads] =
      gradients([&](auto x) { return reference_forward(net, x); });
  expect_close(logits, expected_logits, 1e-4, 1e-4);
  for (size_t i = 0; i < grads.size(); ++i) {
    SCOPED_TRACE(net->named_parameters().keys()[i]);
    // Relative to the gradient's own size: fp32 sums in another order.
    const double scale = expected_grads[i].abs().max().item<double>();
    expect_close(grads[i], expected_grads[i], 1e-3, 1e-4 * scale);
  }
}

}  // namespace
}  // namespace torchclr::examples
