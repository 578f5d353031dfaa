// Data-parallel throughput on this machine, run by hand:
//
//   build/bench/distributed_bench [steps]
//
// Trains a cifar10_full-like network (Caffe's CIFAR-10 "full" model, as in the
// paper) on generated 32x32 images with a global batch of 100, twice: one
// process with 2 LibTorch threads, then 2 processes (this binary spawned
// again with RANK/WORLD_SIZE/MASTER_ADDR/MASTER_PORT) with 1 thread and 50
// images each, gradients averaged by torchclr::average_gradients over Gloo on
// 127.0.0.1. Prints a markdown table: images/s, bytes all-reduced per step and
// the time per step spent averaging.

#include <spawn.h>
#include <sys/wait.h>
#include <torch/torch.h>
#include <torchclr/distributed.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#include <vector>

extern char** environ;

namespace {

using Clock = std::chrono::steady_clock;
constexpr int64_t kGlobalBatch = 100;
constexpr int kWarmupSteps = 3;

// Caffe's cifar10_full: three 5x5 convolutions (32, 32, 64) with pooling and
// local response normalisation, one linear layer to 10 classes.
struct Cifar10FullImpl : torch::nn::Module {
  Cifar10FullImpl()
      : conv1(register_module(
            "conv1",
            torch::nn::Conv2d(torch::nn::Conv2dOptions(3, 32, 5).padding(2)))),
        conv2(register_module(
            "conv2",
            torch::nn::Conv2d(torch::nn::Conv2dOptions(32, 32, 5).padding(2)))),
        conv3(register_module(
            "conv3",
            torch::nn::Conv2d(torch::nn::Conv2dOptions(32, 64, 5).padding(2)))),
        fc(register_module("fc", torch::nn::Linear(64 * 4 * 4, 10))) {}

  torch::Tensor forward(torch::Tensor x) {
    namespace F = torch::nn::functional;
    const auto lrn = F::LocalResponseNormFuncOptions(3).alpha(5e-5).beta(0.75);
    x = F::local_response_norm(
        torch::relu(F::max_pool2d(
            conv1(x), F::MaxPool2dFuncOptions(3).stride(2).ceil_mode(true))),
        lrn);
    x = F::local_response_norm(
        F::avg_pool2d(torch::relu(conv2(x)),
                      F::AvgPool2dFuncOptions(3).stride(2).ceil_mode(true)),
        lrn);
    x = F::avg_pool2d(torch::relu(conv3(x)),
                      F::AvgPool2dFuncOptions(3).stride(2).ceil_mode(true));
    return fc(x.flatten(1));
  }

  torch::nn::Conv2d conv1, conv2, conv3;
  torch::nn::Linear fc;
};
TORCH_MODULE(Cifar10Full);

struct Measurement {
  double images_per_second = 0;
  int64_t bytes_per_step = 0;
  int64_t buckets = 0;
  double average_ms_per_step = 0;
};

// `steps` SGD steps on `batch` images per process (after a warm-up).
Measurement run(torchclr::ProcessGroup* group, int64_t batch, int steps) {
  torch::manual_seed(0);
  Cifar10Full model;
  if (group != nullptr) {
    torchclr::broadcast_parameters(*group, *model);
  }
  torch::optim::SGD optimizer(model->parameters(),
                              torch::optim::SGDOptions(0.001).momentum(0.9));
  const auto images = torch::randn({batch, 3, 32, 32});
  const auto labels = torch::randint(0, 10, {batch});
  Measurement result;
  double averaging_seconds = 0;
  Clock::time_point start;
  for (int step = 0; step < kWarmupSteps + steps; ++step) {
    if (step == kWarmupSteps) {
      start = Clock::now();
      averaging_seconds = 0;
    }
    optimizer.zero_grad();
    torch::nn::functional::cross_entropy(model->forward(images), labels)
        .backward();
    if (group != nullptr) {
      const auto averaging_start = Clock::now();
      const auto stats =
          torchclr::average_gradients(*group, model->parameters());
      averaging_seconds +=
          std::chrono::duration<double>(Clock::now() - averaging_start).count();
      result.bytes_per_step = stats.bytes;
      result.buckets = stats.buckets;
    }
    optimizer.step();
  }
  const double seconds =
      std::chrono::duration<double>(Clock::now() - start).count();
  result.images_per_second = kGlobalBatch * steps / seconds;
  result.average_ms_per_step = 1000 * averaging_seconds / steps;
  return result;
}

// This binary again as `world_size` ranks; rank 0 writes its measurement to
// `result_path`.
bool spawn_ranks(int world_size, int steps, const std::string& result_path) {
  // The store the ranks meet at, hosted here as torchrun's agent hosts it, on
  // a port the system picks: no other program can take it before they come.
  const auto store = torchclr::detail::make_tcp_store(
      "127.0.0.1", 0, /*is_server=*/true, 1, std::chrono::seconds(60));
  const std::string port =
      std::to_string(dynamic_cast<const ::c10d::TCPStore&>(*store).getPort());
  std::vector<pid_t> pids;
  for (int rank = 0; rank < world_size; ++rank) {
    std::vector<std::string> variables;
    for (char** entry = environ; *entry != nullptr; ++entry) {
      variables.emplace_back(*entry);
    }
    variables.push_back("RANK=" + std::to_string(rank));
    variables.push_back("WORLD_SIZE=" + std::to_string(world_size));
    variables.push_back("MASTER_ADDR=127.0.0.1");
    variables.push_back("MASTER_PORT=" + port);
    variables.push_back("TORCHELASTIC_USE_AGENT_STORE=True");
    variables.push_back("TORCHCLR_BENCH_RESULT=" + result_path);
    std::vector<char*> envp;
    for (auto& variable : variables) {
      envp.push_back(variable.data());
    }
    envp.push_back(nullptr);
    std::string program = "/proc/self/exe";
    std::string steps_text = std::to_string(steps);
    char* argv[] = {program.data(), steps_text.data(), nullptr};
    pid_t pid = 0;
    if (posix_spawn(
            &pid, program.c_str(), nullptr, nullptr, argv, envp.data()) != 0) {
      return false;
    }
    pids.push_back(pid);
  }
  bool ok = true;
  for (const pid_t pid : pids) {
    int status = 0;
    ::waitpid(pid, &status, 0);
    ok = ok && WIFEXITED(status) && WEXITSTATUS(status) == 0;
  }
  return ok;
}

}  // namespace

int main(int argc, char** argv) {
  const int steps = argc > 1 ? std::atoi(argv[1]) : 30;
  if (const char* result_path = std::getenv("TORCHCLR_BENCH_RESULT")) {
    try {
      torch::set_num_threads(1);
      auto group = torchclr::make_process_group(
          torchclr::ProcessGroupOptions().timeout(std::chrono::seconds(60)));
      const auto m = run(&group, kGlobalBatch / group.size(), steps);
      if (group.rank() == 0) {
        std::ofstream(result_path)
            << m.images_per_second << " " << m.bytes_per_step << " "
            << m.buckets << " " << m.average_ms_per_step << "\n";
      }
      return 0;
    } catch (const std::exception& error) {
      std::fprintf(stderr, "rank %s: %s\n", std::getenv("RANK"), error.what());
      return 1;
    }
  }

  torch::set_num_threads(2);
  const auto single = run(nullptr, kGlobalBatch, steps);
  const std::string result_path =
      "/tmp/torchclr_distributed_bench_" + std::to_string(::getpid());
  if (!spawn_ranks(2, steps, result_path)) {
    std::fprintf(stderr, "distributed_bench: a rank failed\n");
    return 1;
  }
  Measurement two;
  std::ifstream(result_path) >> two.images_per_second >> two.bytes_per_step >>
      two.buckets >> two.average_ms_per_step;
  std::remove(result_path.c_str());

  std::printf(
      "cifar10_full-like network, global batch %lld, %d timed steps after %d "
      "warm-up, LibTorch %s\n\n",
      static_cast<long long>(kGlobalBatch),
      steps,
      kWarmupSteps,
      TORCH_VERSION);
  std::printf(
      "| setup | images/s | all-reduced per step | all-reduces per step | "
      "averaging per step |\n");
  std::printf("|---|---:|---:|---:|---:|\n");
  std::printf("| 1 process x 2 threads | %.0f | - | - | - |\n",
              single.images_per_second);
  std::printf(
      "| 2 processes x 1 thread (Gloo, 127.0.0.1) | %.0f | %lld bytes | %lld "
      "| %.2f ms |\n",
      two.images_per_second,
      static_cast<long long>(two.bytes_per_step),
      static_cast<long long>(two.buckets),
      two.average_ms_per_step);
  return 0;
}
