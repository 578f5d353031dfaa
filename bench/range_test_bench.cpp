// Time of LRRangeTest against the same number of plain training steps
// (forward, cross-entropy, backward, SGD step) on a small conv net with
// BatchNorm, batches of 64 synthetic 28x28 images. The range test adds the
// snapshot and restore of model and optimizer, one loss read-back per step,
// the LR updates and the bookkeeping. Target: <= 2% more wall time.
//
// A few per cent is below the noise of a shared machine, so each size runs
// `repeats` alternating pairs and reports the minimum (the least disturbed
// run) of wall time and of process CPU time, which other processes disturb
// less. A second part measures the range test's own costs directly: the
// fixed cost (snapshot, restore, suggestions) on the conv net, and the
// per-step cost on a one-weight model where training costs almost nothing.
//
//   build/bench/range_test_bench [repeats]

#include <time.h>
#include <torch/torch.h>
#include <torchclr/lr_finder.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct ConvNetImpl : torch::nn::Module {
  ConvNetImpl()
      : conv1(register_module(
            "conv1",
            torch::nn::Conv2d(torch::nn::Conv2dOptions(1, 8, 3).padding(1)))),
        bn1(register_module("bn1", torch::nn::BatchNorm2d(8))),
        conv2(register_module(
            "conv2",
            torch::nn::Conv2d(torch::nn::Conv2dOptions(8, 16, 3).padding(1)))),
        bn2(register_module("bn2", torch::nn::BatchNorm2d(16))),
        fc(register_module("fc", torch::nn::Linear(16 * 7 * 7, 10))) {}

  torch::Tensor forward(const torch::Tensor& input) {
    auto x = torch::max_pool2d(torch::relu(bn1(conv1(input))), 2);
    x = torch::max_pool2d(torch::relu(bn2(conv2(x))), 2);
    return fc(x.flatten(1));
  }

  torch::nn::Conv2d conv1;
  torch::nn::BatchNorm2d bn1;
  torch::nn::Conv2d conv2;
  torch::nn::BatchNorm2d bn2;
  torch::nn::Linear fc;
};
TORCH_MODULE(ConvNet);

std::vector<torchclr::Batch> make_batches(int64_t count) {
  std::vector<torchclr::Batch> batches;
  for (int64_t i = 0; i < count; ++i) {
    batches.push_back({torch::randn({64, 1, 28, 28}),
                       torch::randint(0, 10, {64}, torch::kLong)});
  }
  return batches;
}

// Wall and process CPU seconds since construction.
class Stopwatch {
 public:
  Stopwatch() : wall_(Clock::now()), cpu_(cpu_now()) {}

  std::pair<double, double> elapsed() const {
    return {std::chrono::duration<double>(Clock::now() - wall_).count(),
            cpu_now() - cpu_};
  }

 private:
  static double cpu_now() {
    timespec now{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
    return static_cast<double>(now.tv_sec) +
           1e-9 * static_cast<double>(now.tv_nsec);
  }

  Clock::time_point wall_;
  double cpu_;
};

struct Sample {
  double wall;
  double cpu;
};

// The loop a user would write, cycling the same batches. Like the range
// test, it leaves the weights as it found them (restored untimed), so that
// every timed run starts from the same model.
template <typename Net, typename Loss>
Sample time_plain(Net& net,
                  torch::optim::Optimizer& optimizer,
                  const std::vector<torchclr::Batch>& batches,
                  int64_t iterations,
                  const Loss& loss_fn) {
  std::vector<torch::Tensor> saved;
  for (const auto& tensor : net->parameters()) {
    saved.push_back(tensor.detach().clone());
  }
  for (const auto& tensor : net->buffers()) {
    saved.push_back(tensor.detach().clone());
  }
  const Stopwatch stopwatch;
  net->train();
  for (int64_t i = 0; i < iterations; ++i) {
    const auto& batch = batches[static_cast<std::size_t>(i) % batches.size()];
    optimizer.zero_grad();
    loss_fn(net->forward(batch.input), batch.target).backward();
    optimizer.step();
  }
  const auto [wall, cpu] = stopwatch.elapsed();
  torch::NoGradGuard no_grad;
  std::size_t index = 0;
  for (auto& tensor : net->parameters()) {
    tensor.copy_(saved[index++]);
  }
  for (auto& tensor : net->buffers()) {
    tensor.copy_(saved[index++]);
  }
  return {wall, cpu};
}

template <typename Net, typename Loss>
Sample time_range_test(Net& net,
                       torch::optim::Optimizer& optimizer,
                       const std::vector<torchclr::Batch>& batches,
                       int64_t iterations,
                       const Loss& loss_fn) {
  // A sweep that never stops early, so both sides run `iterations` steps.
  torchclr::LRRangeTest range_test(
      net,
      optimizer,
      torchclr::LRRangeTestOptions()
          .start_lr(1e-5)
          .end_lr(0.05)
          .num_iter(iterations)
          .loss_fn(loss_fn)
          .diverge_threshold(std::numeric_limits<double>::infinity())
          .stop_on_climb_back(false));
  const Stopwatch stopwatch;
  const auto result = range_test.run(batches);
  const auto [wall, cpu] = stopwatch.elapsed();
  if (result.stop_reason != torchclr::RangeTestStopReason::kCompleted) {
    std::fprintf(stderr,
                 "range test stopped early; timing is not comparable\n");
    std::exit(1);
  }
  return {wall, cpu};
}

// Minimum wall and minimum CPU time of `repeats` alternating pairs, so that
// drifts in machine load hit both alike.
template <typename Net, typename Loss>
std::pair<Sample, Sample> compare(Net& net,
                                  torch::optim::Optimizer& optimizer,
                                  const std::vector<torchclr::Batch>& batches,
                                  int64_t iterations,
                                  int repeats,
                                  const Loss& loss_fn) {
  constexpr double kInf = std::numeric_limits<double>::infinity();
  Sample plain{kInf, kInf};
  Sample range{kInf, kInf};
  for (int r = 0; r < repeats; ++r) {
    const auto p = time_plain(net, optimizer, batches, iterations, loss_fn);
    const auto q =
        time_range_test(net, optimizer, batches, iterations, loss_fn);
    plain = {std::min(plain.wall, p.wall), std::min(plain.cpu, p.cpu)};
    range = {std::min(range.wall, q.wall), std::min(range.cpu, q.cpu)};
  }
  return {plain, range};
}

double percent(double range, double plain) {
  return (range / plain - 1) * 100;
}

torch::Tensor cross_entropy(const torch::Tensor& output,
                            const torch::Tensor& target) {
  return torch::nn::functional::cross_entropy(output, target);
}

int64_t parameter_count(torch::nn::Module& module) {
  int64_t count = 0;
  for (const auto& parameter : module.parameters()) {
    count += parameter.numel();
  }
  return count;
}

}  // namespace

int main(int argc, char** argv) {
  const int repeats = argc > 1 ? std::max(1, std::atoi(argv[1])) : 7;
  torch::manual_seed(0);
  const auto batches = make_batches(16);
  ConvNet net;
  torch::optim::SGD optimizer(net->parameters(),
                              torch::optim::SGDOptions(0.01).momentum(0.9));
  // Warm up allocator and kernels, and give the optimizer momentum state.
  time_plain(net, optimizer, batches, 10, cross_entropy);
  time_range_test(net, optimizer, batches, 10, cross_entropy);

  std::printf(
      "LRRangeTest vs plain training: conv net (2 conv+BN, 1 linear, %lld "
      "parameters), batch 64, SGD momentum, %d threads, min of %d "
      "alternating pairs\n\n",
      static_cast<long long>(parameter_count(*net)),
      torch::get_num_threads(),
      repeats);
  std::printf("%10s %9s | %10s %10s %9s | %10s %10s %9s\n",
              "iterations",
              "step",
              "wall plain",
              "wall range",
              "overhead",
              "cpu plain",
              "cpu range",
              "overhead");
  for (int64_t iterations : {50, 100, 200}) {
    const auto [plain, range] =
        compare(net, optimizer, batches, iterations, repeats, cross_entropy);
    std::printf(
        "%10lld %7.2fms | %8.0fms %8.0fms %8.2f%% | %8.0fms %8.0fms "
        "%8.2f%%\n",
        static_cast<long long>(iterations),
        plain.wall * 1e3 / static_cast<double>(iterations),
        plain.wall * 1e3,
        range.wall * 1e3,
        percent(range.wall, plain.wall),
        plain.cpu * 1e3,
        range.cpu * 1e3,
        percent(range.cpu, plain.cpu));
  }

  // The range test's own work, measured where training costs little.
  const int many = std::max(repeats, 21);
  const auto [plain2, range2] =
      compare(net, optimizer, batches, 2, many, cross_entropy);
  std::printf(
      "\nfixed cost on the conv net (num_iter 2 minus 2 plain steps, min of "
      "%d): wall %.2f ms, cpu %.2f ms\n",
      many,
      (range2.wall - plain2.wall) * 1e3,
      (range2.cpu - plain2.cpu) * 1e3);
  torch::nn::Linear tiny(1, 1);
  torch::optim::SGD tiny_optimizer(
      tiny->parameters(), torch::optim::SGDOptions(0.01).momentum(0.9));
  const std::vector<torchclr::Batch> tiny_batches = {
      {torch::ones({1, 1}), torch::zeros({1, 1})}};
  auto square = [](const torch::Tensor& output, const torch::Tensor&) {
    return output.pow(2).sum();
  };
  constexpr int64_t kTinySteps = 1000;
  const auto [tiny_plain, tiny_range] =
      compare(tiny, tiny_optimizer, tiny_batches, kTinySteps, many, square);
  std::printf(
      "per-step cost on a 1x1 linear model (%lld steps, min of %d): plain "
      "%.1f us, range test %.1f us, difference %.1f us (cpu %.1f us)\n",
      static_cast<long long>(kTinySteps),
      many,
      tiny_plain.wall * 1e6 / kTinySteps,
      tiny_range.wall * 1e6 / kTinySteps,
      (tiny_range.wall - tiny_plain.wall) * 1e6 / kTinySteps,
      (tiny_range.cpu - tiny_plain.cpu) * 1e6 / kTinySteps);
  return 0;
}
