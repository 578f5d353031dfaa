// Tests of <torchclr/distributed.h>. Multi-process tests re-execute this
// binary (posix_spawn of /proc/self/exe, so every rank is a fresh process with
// no LibTorch threads inherited) with TORCHCLR_DISTRIBUTED_TEST_WORKER naming
// the scenario and RANK, WORLD_SIZE, MASTER_ADDR=127.0.0.1 and MASTER_PORT
// set; `main` runs the scenario instead of the tests. The store the ranks
// meet at is hosted by the test itself, as torchrun's agent hosts it
// (TORCHELASTIC_USE_AGENT_STORE=True), on a port the system picks when it
// binds: no other program can take the port between its choice and its use. The
// parent waits with its own deadline and kills every rank still running when it
// passes, so a hang fails the test instead of blocking CTest. Ranks write
// their results with torch::save into a TempDir and their messages to logs.

#include <arpa/inet.h>
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <torch/torch.h>
#include <torchclr/cyclic_lr.h>
#include <torchclr/distributed.h>
#include <torchclr/lr_finder.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#include <vector>

#include "test_util.h"

extern char** environ;

namespace torchclr {
namespace {

constexpr const char* kWorkerVariable = "TORCHCLR_DISTRIBUTED_TEST_WORKER";
constexpr const char* kDirVariable = "TORCHCLR_DISTRIBUTED_TEST_DIR";
constexpr const char* kJobVariables[] = {"RANK",
                                         "WORLD_SIZE",
                                         "MASTER_ADDR",
                                         "MASTER_PORT",
                                         "GLOO_SOCKET_IFNAME",
                                         "TORCHELASTIC_USE_AGENT_STORE",
                                         "TORCHELASTIC_RESTART_COUNT"};

// A TCP socket on 127.0.0.1 bound to a port the system picks, closed on
// destruction; listening or not. While it lives, no other program can take
// the port.
class BoundPort {
 public:
  explicit BoundPort(bool listen) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = 0;
    EXPECT_EQ(
        ::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
    if (listen) {
      EXPECT_EQ(::listen(fd_, 1), 0);
    }
    socklen_t length = sizeof(address);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
  }
  ~BoundPort() {
    ::close(fd_);
  }
  BoundPort(const BoundPort&) = delete;
  BoundPort& operator=(const BoundPort&) = delete;

  int port() const {
    return port_;
  }

 private:
  int fd_;
  int port_ = 0;
};

// A store on 127.0.0.1 at a port the system picks, as a launcher hosts it.
struct LauncherStore {
  c10::intrusive_ptr<::c10d::Store> store = detail::make_tcp_store(
      "127.0.0.1", 0, /*is_server=*/true, 1, std::chrono::seconds(60));
  int port() const {
    return dynamic_cast<const ::c10d::TCPStore&>(*store).getPort();
  }
};

std::string read_text(const std::string& path) {
  std::ifstream file(path);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

struct RankOutcome {
  bool exited = false;  // false: killed by a signal (or by the deadline)
  int exit_code = -1;
  std::string log;  // its stdout and stderr
};

// Who hosts the store the ranks meet at.
enum class StoreHost {
  kLauncher,  // this process, on a port the system picks
  kRank0,     // rank 0, make_process_group's default
};

// Runs `scenario` on `world_size` fresh processes meeting at 127.0.0.1:port
// (the store hosted by the launcher, this process, when `agent_store`), and
// waits at most `limit`; ranks still running then are killed and the test
// fails.
std::vector<RankOutcome> launch_ranks(const std::string& scenario,
                                      int world_size,
                                      const test::TempDir& dir,
                                      std::chrono::seconds limit,
                                      const std::string& port,
                                      bool agent_store) {
  std::vector<pid_t> pids(world_size, -1);
  for (int rank = 0; rank < world_size; ++rank) {
    std::vector<std::string> variables;
    for (char** entry = environ; *entry != nullptr; ++entry) {
      variables.emplace_back(*entry);
    }
    variables.push_back(std::string(kWorkerVariable) + "=" + scenario);
    variables.push_back(std::string(kDirVariable) + "=" + dir.path());
    variables.push_back("RANK=" + std::to_string(rank));
    variables.push_back("WORLD_SIZE=" + std::to_string(world_size));
    variables.push_back("MASTER_ADDR=127.0.0.1");
    variables.push_back("MASTER_PORT=" + port);
    if (agent_store) {
      variables.push_back("TORCHELASTIC_USE_AGENT_STORE=True");
    }
    variables.push_back("OMP_NUM_THREADS=1");
    std::vector<char*> envp;
    for (auto& variable : variables) {
      envp.push_back(variable.data());
    }
    envp.push_back(nullptr);

    const std::string log = dir.file("rank" + std::to_string(rank) + ".log");
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(
        &actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    std::string program = "/proc/self/exe";
    char* argv[] = {program.data(), nullptr};
    const int error = posix_spawn(
        &pids[rank], program.c_str(), &actions, nullptr, argv, envp.data());
    posix_spawn_file_actions_destroy(&actions);
    EXPECT_EQ(error, 0) << "posix_spawn failed for rank " << rank;
  }

  std::vector<RankOutcome> outcomes(world_size);
  std::vector<bool> done(world_size, false);
  const auto deadline = std::chrono::steady_clock::now() + limit;
  int running = world_size;
  while (running > 0) {
    for (int rank = 0; rank < world_size; ++rank) {
      int status = 0;
      if (done[rank] || pids[rank] <= 0 ||
          ::waitpid(pids[rank], &status, WNOHANG) != pids[rank]) {
        continue;
      }
      done[rank] = true;
      --running;
      outcomes[rank].exited = WIFEXITED(status);
      outcomes[rank].exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }
    if (running > 0 && std::chrono::steady_clock::now() > deadline) {
      for (int rank = 0; rank < world_size; ++rank) {
        if (!done[rank] && pids[rank] > 0) {
          ADD_FAILURE() << scenario << ": rank " << rank << " still ran after "
                        << limit.count() << " s; killed";
          ::kill(pids[rank], SIGKILL);
          ::waitpid(pids[rank], nullptr, 0);
          done[rank] = true;
          --running;
        }
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  for (int rank = 0; rank < world_size; ++rank) {
    outcomes[rank].log =
        read_text(dir.file("rank" + std::to_string(rank) + ".log"));
  }
  return outcomes;
}

// Runs `scenario` as `launch_ranks` does. A store rank 0 hosts needs a port
// picked before rank 0 binds it, which another program may take in between:
// then rank 0 says so and the whole launch is retried on another port (the
// other ranks, which found no store or another job's, are stopped with it;
// the launcher's stores of the other tests keep their keys under a prefix,
// so they never see ours).
std::vector<RankOutcome> run_ranks(const std::string& scenario,
                                   int world_size,
                                   const test::TempDir& dir,
                                   std::chrono::seconds limit,
                                   StoreHost host = StoreHost::kLauncher) {
  if (host == StoreHost::kLauncher) {
    const LauncherStore launcher;
    return launch_ranks(scenario,
                        world_size,
                        dir,
                        limit,
                        std::to_string(launcher.port()),
                        /*agent_store=*/true);
  }
  std::vector<RankOutcome> outcomes;
  for (int attempt = 0; attempt < 5; ++attempt) {
    const int port = BoundPort(/*listen=*/false).port();
    outcomes = launch_ranks(
        scenario, world_size, dir, limit, std::to_string(port), false);
    if (outcomes[0].log.find("could not host the rendezvous store") ==
        std::string::npos) {
      return outcomes;
    }
  }
  ADD_FAILURE() << "rank 0 could not host a store on 5 ports in a row";
  return outcomes;
}

void expect_all_succeeded(const std::vector<RankOutcome>& outcomes) {
  for (std::size_t rank = 0; rank < outcomes.size(); ++rank) {
    EXPECT_TRUE(outcomes[rank].exited && outcomes[rank].exit_code == 0)
        << "rank " << rank << " failed:\n"
        << outcomes[rank].log;
  }
}

// ---- what the ranks run ----------------------------------------------------

std::string worker_dir() {
  return std::getenv(kDirVariable);
}

std::string result_path(int64_t rank, const std::string& name) {
  return worker_dir() + "/rank" + std::to_string(rank) + "_" + name + ".pt";
}

void save_result(int64_t rank,
                 const std::string& name,
                 std::vector<torch::Tensor> tensors) {
  torch::save(tensors, result_path(rank, name));
}

std::vector<torch::Tensor> load_result(const test::TempDir& dir,
                                       int64_t rank,
                                       const std::string& name) {
  std::vector<torch::Tensor> tensors;
  torch::load(tensors,
              dir.path() + "/rank" + std::to_string(rank) + "_" + name + ".pt");
  return tensors;
}

std::vector<torch::Tensor> clones(const std::vector<torch::Tensor>& tensors) {
  std::vector<torch::Tensor> result;
  for (const auto& tensor : tensors) {
    result.push_back(tensor.detach().clone());
  }
  return result;
}

std::vector<torch::Tensor> gradients(torch::nn::Module& module) {
  std::vector<torch::Tensor> result;
  for (const auto& parameter : module.parameters()) {
    result.push_back(parameter.grad().clone());
  }
  return result;
}

torch::nn::Sequential small_model() {
  return torch::nn::Sequential(
      torch::nn::Linear(5, 4), torch::nn::ReLU(), torch::nn::Linear(4, 3));
}

ProcessGroupOptions test_options() {
  return ProcessGroupOptions().timeout(std::chrono::seconds(20));
}

// Random gradients per rank, averaged with small buckets and with one.
int average_worker() {
  auto group = make_process_group(test_options());
  torch::manual_seed(100 + group.rank());
  auto model = small_model();
  for (auto& parameter : model->parameters()) {
    parameter.mutable_grad() = torch::randn_like(parameter);
  }
  save_result(group.rank(), "local", gradients(*model));
  // 20 + 4 + 12 + 3 floats; 104-byte buckets hold {w1, b1} and {w2, b2}.
  const auto small = average_gradients(
      group,
      model->parameters(),
      GradientAveragingOptions().bucket_cap_mb(104.0 / (1024 * 1024)));
  save_result(group.rank(), "averaged", gradients(*model));
  const auto one = average_gradients(group, model->parameters());
  save_result(
      group.rank(),
      "stats",
      {torch::tensor({small.buckets, small.bytes, one.buckets, one.bytes})});
  return 0;
}

struct TrainData {
  torch::Tensor inputs;
  torch::Tensor targets;
};

TrainData make_data() {
  torch::manual_seed(42);
  return {torch::randn({32, 6}), torch::randint(0, 3, {32})};
}

torch::nn::Sequential train_model() {
  return torch::nn::Sequential(
      torch::nn::Linear(6, 8), torch::nn::Tanh(), torch::nn::Linear(8, 3));
}

constexpr int kTrainSteps = 20;

// SGD with momentum and a CyclicLR schedule, on `inputs`; the LRs used.
std::vector<double> train(torch::nn::Sequential& model,
                          const torch::Tensor& inputs,
                          const torch::Tensor& targets,
                          ProcessGroup* group) {
  torch::optim::SGD optimizer(
      model->parameters(),
      torch::optim::SGDOptions(0.1).momentum(0.9).weight_decay(5e-4));
  CyclicLR scheduler(
      optimizer,
      CyclicLROptions(0.01, 0.1).step_size_up(4).cycle_momentum(false));
  std::vector<double> lrs;
  for (int step = 0; step < kTrainSteps; ++step) {
    optimizer.zero_grad();
    torch::nn::functional::cross_entropy(model->forward(inputs), targets)
        .backward();
    if (group != nullptr) {
      average_gradients(*group, model->parameters());
    }
    lrs.push_back(optimizer.param_groups()[0].options().get_lr());
    optimizer.step();
    scheduler.step();
  }
  return lrs;
}

// Two ranks, half the batch each, from different seeds made equal by
// broadcast_parameters.
int train_worker() {
  auto group = make_process_group(test_options());
  torch::manual_seed(group.rank());
  auto model = train_model();
  broadcast_parameters(group, *model);
  check_same_parameters(group, *model);
  const auto data = make_data();
  const auto half = data.inputs.size(0) / group.size();
  const auto lrs = train(model,
                         data.inputs.narrow(0, group.rank() * half, half),
                         data.targets.narrow(0, group.rank() * half, half),
                         &group);
  save_result(group.rank(), "parameters", clones(model->parameters()));
  save_result(group.rank(), "lrs", {torch::tensor(lrs, torch::kDouble)});
  return 0;
}

// Rank 1 perturbs one weight: both ranks must throw, naming it.
int mismatch_worker() {
  auto group = make_process_group(test_options());
  torch::manual_seed(0);
  auto model = train_model();
  if (group.rank() == 1) {
    torch::NoGradGuard no_grad;
    model->named_parameters()["2.bias"][1] += 1e-6;
  }
  std::string message;
  try {
    check_same_parameters(group, *model);
  } catch (const c10::Error& error) {
    message = error.what_without_backtrace();
  }
  std::ofstream(worker_dir() + "/rank" + std::to_string(group.rank()) +
                ".message")
      << message;
  return 0;
}

void own_sigpipe_handler(int) {}

// Rank 0 handles SIGPIPE itself before joining, rank 1 leaves the default;
// each then writes to a pipe nobody reads, and says what it saw.
int sigpipe_worker() {
  const bool own_handler = std::getenv("RANK") == std::string("0");
  if (own_handler) {
    std::signal(SIGPIPE, own_sigpipe_handler);
  }
  auto group = make_process_group(test_options());
  struct sigaction action {};
  ::sigaction(SIGPIPE, nullptr, &action);
  int fds[2];
  TORCH_CHECK(::pipe(fds) == 0, "pipe failed");
  ::close(fds[0]);
  const bool write_failed = ::write(fds[1], "x", 1) == -1 && errno == EPIPE;
  ::close(fds[1]);
  const std::string disposition = action.sa_handler == SIG_IGN ? "ignored"
                                  : action.sa_handler == own_sigpipe_handler
                                      ? "own handler"
                                      : "other";
  std::ofstream(worker_dir() + "/rank" + std::to_string(group.rank()) +
                ".sigpipe")
      << disposition << (write_failed ? ", EPIPE" : ", no EPIPE");
  return 0;
}

constexpr int64_t kNanIteration = 3;

// The range test with a distributed step; rank 1's batch at kNanIteration
// makes its loss NaN.
int range_test_worker() {
  auto group = make_process_group(test_options());
  torch::manual_seed(0);
  auto model = train_model();
  broadcast_parameters(group, *model);
  const auto before = clones(model->parameters());

  torch::manual_seed(7 + group.rank());
  std::vector<Batch> batches;
  for (int64_t i = 0; i < 8; ++i) {
    Batch batch{torch::randn({4, 6}), torch::randint(0, 3, {4})};
    if (group.rank() == 1 && i == kNanIteration) {
      batch.input[0][0] = std::numeric_limits<float>::quiet_NaN();
    }
    batches.push_back(batch);
  }
  torch::optim::SGD optimizer(model->parameters(),
                              torch::optim::SGDOptions(0.1).momentum(0.9));
  const TrainStep local_step = [&model](const Batch& batch) {
    auto loss = torch::nn::functional::cross_entropy(
        model->forward(batch.input), batch.target);
    loss.backward();
    return loss;
  };
  LRRangeTest range_test(
      model.ptr(),
      nullptr,
      optimizer,
      LRRangeTestOptions()
          .start_lr(1e-3)
          .end_lr(1)
          .num_iter(8)
          .diverge_threshold(std::numeric_limits<double>::infinity())
          .train_step(distributed_train_step(group, model.ptr(), local_step)));
  const auto result = range_test.run(batches);

  std::vector<double> losses;
  for (const auto& point : result.points) {
    losses.push_back(point.loss);
  }
  bool restored = true;
  const auto after = model->parameters();
  for (std::size_t i = 0; i < after.size(); ++i) {
    restored = restored && torch::equal(after[i], before[i]);
  }
  save_result(group.rank(),
              "range_test",
              {torch::tensor({static_cast<int64_t>(result.stop_reason),
                              result.stop_iteration,
                              static_cast<int64_t>(restored)}),
               torch::tensor(losses, torch::kDouble)});
  return 0;
}

constexpr int kFailingIteration = 5;
// Long enough for a loaded machine to start every rank and run the first
// collectives: a rank that ends must be reported long before it.
constexpr std::chrono::milliseconds kFailureTimeout{60000};
// A rank that hangs is reported after the timeout.
constexpr std::chrono::milliseconds kHangTimeout{20000};

void write_file_atomically(const std::string& path, const std::string& text) {
  std::ofstream(path + ".tmp") << text;
  std::rename((path + ".tmp").c_str(), path.c_str());
}

bool file_exists(const std::string& path) {
  return std::ifstream(path).good();
}

// Averages gradients until rank `victim` stops at kFailingIteration: killed
// by SIGKILL (its connections close at once), or with `hang` alive but
// silent until every other rank has reported. Each other rank writes its
// message and how long the error took, then waits for the others' reports:
// its exit would close connections another rank may still be reading.
int failure_worker(int64_t victim,
                   bool hang,
                   std::chrono::milliseconds timeout) {
  auto group = make_process_group(ProcessGroupOptions().timeout(timeout));
  const auto reported = [&group, victim] {
    for (int64_t rank = 0; rank < group.size(); ++rank) {
      if (rank != victim && !file_exists(worker_dir() + "/rank" +
                                         std::to_string(rank) + ".seconds")) {
        return false;
      }
    }
    return true;
  };
  auto model = small_model();
  const auto started = std::chrono::steady_clock::now();
  auto failed_at = started;
  std::string message;
  try {
    for (int iteration = 0; iteration < 100000; ++iteration) {
      if (iteration == kFailingIteration) {
        if (group.rank() == victim && !hang) {
          ::raise(SIGKILL);
        }
        while (group.rank() == victim && !reported()) {
          std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        if (group.rank() == victim) {
          return 3;
        }
        failed_at = std::chrono::steady_clock::now();
      }
      for (auto& parameter : model->parameters()) {
        parameter.mutable_grad() = torch::ones_like(parameter);
      }
      average_gradients(group, model->parameters());
    }
  } catch (const c10::Error& error) {
    message = error.what_without_backtrace();
  }
  const double seconds = std::chrono::duration<double>(
                             std::chrono::steady_clock::now() - failed_at)
                             .count();
  const std::string prefix =
      worker_dir() + "/rank" + std::to_string(group.rank());
  write_file_atomically(prefix + ".message", message);
  write_file_atomically(prefix + ".seconds", std::to_string(seconds));
  while (!reported()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return message.empty() ? 1 : 0;
}

const std::map<std::string, std::function<int()>>& scenarios() {
  static const std::map<std::string, std::function<int()>> all = {
      {"average", average_worker},
      {"train", train_worker},
      {"mismatch", mismatch_worker},
      {"sigpipe", sigpipe_worker},
      {"range_test", range_test_worker},
      {"kill_rank1", [] { return failure_worker(1, false, kFailureTimeout); }},
      {"kill_rank0", [] { return failure_worker(0, false, kFailureTimeout); }},
      {"kill_rank2", [] { return failure_worker(2, false, kFailureTimeout); }},
      {"hang_rank1", [] { return failure_worker(1, true, kHangTimeout); }},
  };
  return all;
}

// ---- the tests -------------------------------------------------------------

constexpr std::chrono::seconds kLimit{60};

// Rank 0 hosts the store here, as make_process_group does by default; the
// other tests meet at a store the test hosts.
TEST(DistributedTest, AveragedGradientsAreTheMeanOfTheRanks) {
  test::TempDir dir;
  expect_all_succeeded(run_ranks("average", 2, dir, kLimit, StoreHost::kRank0));
  const auto local0 = load_result(dir, 0, "local");
  const auto local1 = load_result(dir, 1, "local");
  for (int64_t rank = 0; rank < 2; ++rank) {
    const auto averaged = load_result(dir, rank, "averaged");
    ASSERT_EQ(averaged.size(), local0.size());
    for (std::size_t i = 0; i < averaged.size(); ++i) {
      // One fp32 addition and a halving: within an ulp of the mean.
      EXPECT_TRUE(
          torch::allclose(averaged[i], (local0[i] + local1[i]) / 2, 1e-6, 1e-7))
          << "rank " << rank << " tensor " << i;
    }
    const auto stats = load_result(dir, rank, "stats")[0];
    EXPECT_EQ(stats[0].item<int64_t>(), 2) << "buckets of 104 bytes";
    EXPECT_EQ(stats[1].item<int64_t>(), 39 * 4) << "bytes";
    EXPECT_EQ(stats[2].item<int64_t>(), 1) << "buckets of 25 MiB";
    EXPECT_EQ(stats[3].item<int64_t>(), 39 * 4) << "bytes";
  }
}

TEST(DistributedTest, TwoRanksHalfBatchTrainLikeOneProcessFullBatch) {
  test::TempDir dir;
  expect_all_succeeded(run_ranks("train", 2, dir, kLimit));

  torch::manual_seed(0);  // rank 0's seed: its weights were broadcast
  auto model = train_model();
  const auto data = make_data();
  const auto lrs = train(model, data.inputs, data.targets, nullptr);
  const auto expected = model->parameters();
  for (int64_t rank = 0; rank < 2; ++rank) {
    const auto parameters = load_result(dir, rank, "parameters");
    ASSERT_EQ(parameters.size(), expected.size());
    for (std::size_t i = 0; i < parameters.size(); ++i) {
      // Mean of two 16-sample means against one 32-sample mean: fp32
      // rounding differs, by far less than 1e-5 after 20 steps.
      EXPECT_TRUE(torch::allclose(parameters[i], expected[i], 1e-5, 1e-5))
          << "rank " << rank << " tensor " << i << ": max difference "
          << (parameters[i] - expected[i]).abs().max().item<double>();
    }
  }
  // Each rank's own scheduler gives the single process's LRs, exactly.
  const auto expected_lrs = torch::tensor(lrs, torch::kDouble);
  EXPECT_TRUE(torch::equal(load_result(dir, 0, "lrs")[0], expected_lrs));
}

TEST(DistributedTest, SchedulersOfTwoRanksAgree) {
  test::TempDir dir;
  expect_all_succeeded(run_ranks("train", 2, dir, kLimit));
  const auto lrs0 = load_result(dir, 0, "lrs")[0];
  const auto lrs1 = load_result(dir, 1, "lrs")[0];
  ASSERT_EQ(lrs0.numel(), kTrainSteps);
  EXPECT_TRUE(torch::equal(lrs0, lrs1));
  // CyclicLR(0.01, 0.1, step_size_up 4): 0.01 + 0.09 * k / 4 rising first.
  EXPECT_DOUBLE_EQ(lrs0[2].item<double>(), 0.01 + 0.09 * 2 / 4);
}

TEST(DistributedTest, CheckSameParametersNamesTheTensorThatDiffers) {
  test::TempDir dir;
  expect_all_succeeded(run_ranks("mismatch", 2, dir, kLimit));
  for (int rank = 0; rank < 2; ++rank) {
    EXPECT_THAT(
        read_text(dir.file("rank" + std::to_string(rank) + ".message")),
        testing::HasSubstr("'2.bias' differs from rank 0's on 1 rank(s)"));
  }
}

TEST(DistributedTest, NanOnOneRankStopsBothRangeTestsAtTheSameIteration) {
  test::TempDir dir;
  expect_all_succeeded(run_ranks("range_test", 2, dir, kLimit));
  const auto rank0 = load_result(dir, 0, "range_test");
  const auto rank1 = load_result(dir, 1, "range_test");
  for (const auto& result : {rank0, rank1}) {
    EXPECT_EQ(result[0][0].item<int64_t>(),
              static_cast<int64_t>(RangeTestStopReason::kNonFiniteLoss));
    EXPECT_EQ(result[0][1].item<int64_t>(), kNanIteration);
    EXPECT_EQ(result[0][2].item<int64_t>(), 1) << "model restored";
    EXPECT_EQ(result[1].numel(), kNanIteration) << "finite points recorded";
  }
  EXPECT_TRUE(torch::equal(rank0[1], rank1[1])) << "the same curve";
}

std::string survivor_message(const test::TempDir& dir, int rank) {
  return read_text(dir.file("rank" + std::to_string(rank) + ".message"));
}

double survivor_seconds(const test::TempDir& dir, int rank) {
  return std::stod(
      read_text(dir.file("rank" + std::to_string(rank) + ".seconds")));
}

// The collective's number in a ProcessGroup error, or -1.
int64_t collective_number(const std::string& message) {
  std::smatch match;
  if (!std::regex_search(
          message, match, std::regex(R"(\(collective (\d+)\))"))) {
    return -1;
  }
  return std::stoll(match[1]);
}

bool killed(const RankOutcome& outcome) {
  return !outcome.exited;
}

void expect_survived(const std::vector<RankOutcome>& outcomes, int rank) {
  EXPECT_TRUE(outcomes[rank].exited && outcomes[rank].exit_code == 0)
      << "rank " << rank << ":\n"
      << outcomes[rank].log;
}

// Past kFailureTimeout, so that a rank that is not reported at once fails
// the checks below rather than the deadline; under CTest's 120 s.
constexpr std::chrono::seconds kFailureLimit{100};

// Well under kFailureTimeout (60 s), and far above the milliseconds a closed
// connection takes to be seen, even on a loaded machine.
constexpr double kPromptSeconds = 30;

TEST(DistributedTest, SurvivorsOfThreeNameTheKilledRankAndOneCollectiveAtOnce) {
  test::TempDir dir;
  const auto outcomes = run_ranks("kill_rank2", 3, dir, kFailureLimit);
  EXPECT_TRUE(killed(outcomes[2])) << outcomes[2].log;
  int64_t collective = -1;
  for (int rank : {0, 1}) {
    expect_survived(outcomes, rank);
    const auto message = survivor_message(dir, rank);
    EXPECT_THAT(message,
                testing::AllOf(testing::HasSubstr("all_reduce (collective "),
                               testing::HasSubstr(
                                   ") failed on rank " + std::to_string(rank) +
                                   " of 3: the connection to rank 2 closed "
                                   "(exited or crashed)")));
    EXPECT_LT(survivor_seconds(dir, rank), kPromptSeconds) << message;
    if (rank == 0) {
      collective = collective_number(message);
    } else {
      EXPECT_EQ(collective_number(message), collective)
          << "both survivors name the same collective";
    }
  }
  // One average_gradients call (one collective) per iteration: the victim
  // missed the one numbered kFailingIteration + 1.
  EXPECT_EQ(collective, kFailingIteration + 1);
}

TEST(DistributedTest, SurvivorNamesTheKilledRankAtOnce) {
  test::TempDir dir;
  const auto outcomes = run_ranks("kill_rank1", 2, dir, kFailureLimit);
  expect_survived(outcomes, 0);
  EXPECT_TRUE(killed(outcomes[1])) << outcomes[1].log;
  EXPECT_THAT(survivor_message(dir, 0),
              testing::HasSubstr("all_reduce (collective 6) failed on rank 0 "
                                 "of 2: the connection to rank 1 closed "
                                 "(exited or crashed)"));
  EXPECT_LT(survivor_seconds(dir, 0), kPromptSeconds);
}

// Rank 0 hosts the store: killing it takes the store too, and the
// connection still names it.
TEST(DistributedTest, SurvivorNamesTheKilledStoreHostAtOnce) {
  test::TempDir dir;
  const auto outcomes =
      run_ranks("kill_rank0", 2, dir, kFailureLimit, StoreHost::kRank0);
  EXPECT_TRUE(killed(outcomes[0])) << outcomes[0].log;
  expect_survived(outcomes, 1);
  EXPECT_THAT(survivor_message(dir, 1),
              testing::HasSubstr("all_reduce (collective 6) failed on rank 1 "
                                 "of 2: the connection to rank 0 closed "
                                 "(exited or crashed)"));
  EXPECT_LT(survivor_seconds(dir, 1), kPromptSeconds);
}

TEST(DistributedTest, SurvivorNamesTheRankThatHangsAfterTheTimeout) {
  test::TempDir dir;
  const auto outcomes = run_ranks("hang_rank1", 2, dir, kFailureLimit);
  expect_survived(outcomes, 0);
  EXPECT_EQ(outcomes[1].exit_code, 3) << outcomes[1].log;
  EXPECT_THAT(survivor_message(dir, 0),
              testing::HasSubstr("all_reduce (collective 6) failed on rank 0 "
                                 "of 2: rank 1 did not answer within the "
                                 "timeout of 20000 ms (exited, crashed or "
                                 "hangs)"));
  // Gloo waits the whole timeout before it gives up.
  EXPECT_GE(survivor_seconds(dir, 0), 20.0);
}

// ---- errors before any training, in this process ---------------------------

// Sets an environment variable for one test.
class ScopedEnvironment {
 public:
  ScopedEnvironment(const char* name, const char* value) : name_(name) {
    ::setenv(name, value, 1);
  }
  ~ScopedEnvironment() {
    ::unsetenv(name_);
  }

 private:
  const char* name_;
};

using testing::HasSubstr;
using testing::ThrowsMessage;

// A write to a closed peer's socket must fail with EPIPE, to be reported,
// not end the rank by SIGPIPE (seen under LibTorch 2.x as a silent exit 141
// when the other rank was killed); a program's own handler is kept.
TEST(DistributedTest, SigpipeIsIgnoredUnlessTheProgramHandlesIt) {
  test::TempDir dir;
  expect_all_succeeded(run_ranks("sigpipe", 2, dir, kLimit));
  EXPECT_EQ(read_text(dir.file("rank0.sigpipe")), "own handler, EPIPE");
  EXPECT_EQ(read_text(dir.file("rank1.sigpipe")), "ignored, EPIPE");
}

TEST(DistributedTest, BadWorldSizeIsAClearError) {
  {
    ScopedEnvironment world_size("WORLD_SIZE", "two");
    EXPECT_THAT([] { make_process_group(); },
                ThrowsMessage<c10::Error>(HasSubstr(
                    "WORLD_SIZE must be an integer, got 'two' (from the "
                    "environment)")));
  }
  {
    ScopedEnvironment world_size("WORLD_SIZE", "0");
    EXPECT_THAT(
        [] { make_process_group(); },
        ThrowsMessage<c10::Error>(HasSubstr("WORLD_SIZE must be >= 1, got 0")));
  }
  EXPECT_THAT([] { make_process_group(ProcessGroupOptions().world_size(-2)); },
              ThrowsMessage<c10::Error>(
                  HasSubstr("WORLD_SIZE must be >= 1, got -2 (from "
                            "ProcessGroupOptions::world_size)")));
}

TEST(DistributedTest, RankOutsideTheWorldIsAClearError) {
  ScopedEnvironment world_size("WORLD_SIZE", "2");
  EXPECT_THAT([] { make_process_group(); },
              ThrowsMessage<c10::Error>(HasSubstr("RANK is not set")));
  {
    ScopedEnvironment rank("RANK", "2");
    EXPECT_THAT([] { make_process_group(); },
                ThrowsMessage<c10::Error>(HasSubstr(
                    "RANK must be in [0, WORLD_SIZE) = [0, 2), got 2")));
  }
  // An option overrides the environment.
  ScopedEnvironment rank("RANK", "0");
  EXPECT_THAT([] { make_process_group(ProcessGroupOptions().rank(-1)); },
              ThrowsMessage<c10::Error>(HasSubstr(
                  "RANK must be in [0, WORLD_SIZE) = [0, 2), got -1")));
}

TEST(DistributedTest, BadPortIsAClearError) {
  EXPECT_THAT(
      [] {
        make_process_group(
            ProcessGroupOptions().world_size(2).rank(0).master_port(70000));
      },
      ThrowsMessage<c10::Error>(
          HasSubstr("MASTER_PORT must be in [1, 65535], got 70000")));
}

TEST(DistributedTest, PortInUseIsAClearError) {
  const BoundPort busy(/*listen=*/true);
  const int port = busy.port();
  EXPECT_THAT(
      [port] {
        make_process_group(ProcessGroupOptions()
                               .world_size(2)
                               .rank(0)
                               .master_port(port)
                               .timeout(std::chrono::seconds(1)));
      },
      ThrowsMessage<c10::Error>(
          HasSubstr("rank 0 could not host the rendezvous store on port " +
                    std::to_string(port))));
}

TEST(DistributedTest, UnreachableStoreIsAClearError) {
  // Bound and not listening: connections are refused, and no store can
  // start on the port while the test holds it.
  const BoundPort closed(/*listen=*/false);
  const int port = closed.port();
  EXPECT_THAT(
      [port] {
        make_process_group(ProcessGroupOptions()
                               .world_size(2)
                               .rank(1)
                               .master_port(port)
                               .timeout(std::chrono::seconds(1)));
      },
      ThrowsMessage<c10::Error>(
          HasSubstr("rank 1 could not reach rank 0's store at 127.0.0.1:" +
                    std::to_string(port) + " within the timeout of 1000 ms")));
  EXPECT_THAT(
      [port] {
        make_process_group(ProcessGroupOptions()
                               .world_size(2)
                               .rank(0)
                               .master_port(port)
                               .use_agent_store(true)
                               .timeout(std::chrono::seconds(1)));
      },
      ThrowsMessage<c10::Error>(HasSubstr(
          "rank 0 could not reach the launcher's store at 127.0.0.1:" +
          std::to_string(port) +
          " within the timeout of 1000 ms (is the "
          "launcher running")));
}

TEST(DistributedTest, MissingRanksAreNamedAfterTheTimeout) {
  const LauncherStore launcher;
  const int port = launcher.port();
  EXPECT_THAT(
      [port] {
        make_process_group(ProcessGroupOptions()
                               .world_size(3)
                               .rank(0)
                               .master_port(port)
                               .use_agent_store(true)
                               .timeout(std::chrono::seconds(1)));
      },
      ThrowsMessage<c10::Error>(
          HasSubstr("ranks 1, 2 of WORLD_SIZE 3 did not arrive at 127.0.0.1:" +
                    std::to_string(port) + " within the timeout of 1000 ms")));
}

TEST(DistributedTest, WorldOfOneNeedsNoEnvironmentAndChangesNothing) {
  auto group = make_process_group();
  EXPECT_EQ(group.rank(), 0);
  EXPECT_EQ(group.size(), 1);
  auto model = small_model();
  for (auto& parameter : model->parameters()) {
    parameter.mutable_grad() = torch::full_like(parameter, 3);
  }
  const auto stats = average_gradients(group, model->parameters());
  EXPECT_EQ(stats.buckets, 0);
  EXPECT_TRUE(torch::equal(model->parameters()[0].grad(),
                           torch::full_like(model->parameters()[0], 3)));
  const auto step = distributed_train_step(
      group, model.ptr(), [](const Batch&) { return torch::tensor(2.5); });
  EXPECT_EQ(step(Batch{}).item<double>(), 2.5);
  check_same_parameters(group, *model);
}

TEST(DistributedTest, BadBucketSizeIsAClearError) {
  auto group = make_process_group();
  auto model = small_model();
  EXPECT_THAT(
      [&] {
        average_gradients(group,
                          model->parameters(),
                          GradientAveragingOptions().bucket_cap_mb(0));
      },
      ThrowsMessage<c10::Error>(HasSubstr(
          "average_gradients: bucket_cap_mb must be > 0 and finite, got 0")));
}

}  // namespace
}  // namespace torchclr

int main(int argc, char** argv) {
  if (const char* scenario = std::getenv(torchclr::kWorkerVariable)) {
    try {
      torch::set_num_threads(1);
      return torchclr::scenarios().at(scenario)();
    } catch (const std::exception& error) {
      std::fprintf(stderr, "rank %s: %s\n", std::getenv("RANK"), error.what());
      return 1;
    }
  }
  // The tests set these themselves; a job's environment must not leak in.
  for (const char* name : torchclr::kJobVariables) {
    ::unsetenv(name);
  }
  testing::InitGoogleMock(&argc, argv);
  return RUN_ALL_TESTS();
}
