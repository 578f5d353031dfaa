#pragma once

// Data-parallel training on PyTorch's own communication layer, c10d: a
// process group joined the way PyTorch jobs start (RANK, WORLD_SIZE,
// MASTER_ADDR, MASTER_PORT), gradients averaged in a few bucketed
// all-reduces, parameters broadcast and checked, and a training step for the
// LR range test that keeps every rank's curve and stop decision identical.
// See docs/distributed.md. Built when CMake finds Gloo (TORCHCLR_DISTRIBUTED).

#include <torch/arg.h>
#include <torch/nn/module.h>
#include <torch/types.h>
#include <torchclr/detail/c10d.h>
#include <torchclr/lr_finder.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace torchclr {

/// How `make_process_group` joins a job. A value left unset is read from the
/// environment variable PyTorch's `init_method="env://"` reads (named in each
/// comment); a value set here overrides the environment.
struct ProcessGroupOptions {
  /// This process's rank in [0, world_size) (RANK; may be unset only when
  /// world_size is 1).
  TORCH_ARG(std::optional<int64_t>, rank) = std::nullopt;
  /// Number of processes (WORLD_SIZE; 1 when unset).
  TORCH_ARG(std::optional<int64_t>, world_size) = std::nullopt;
  /// Address of rank 0, which hosts the rendezvous store (MASTER_ADDR;
  /// "127.0.0.1" when unset).
  TORCH_ARG(std::optional<std::string>, master_addr) = std::nullopt;
  /// Port of the store on rank 0 (MASTER_PORT; 29500, PyTorch's, when unset).
  TORCH_ARG(std::optional<int64_t>, master_port) = std::nullopt;
  /// Longest wait for the other ranks, at the start and in every collective
  /// (PyTorch's default is 30 min). A rank whose process ends is reported at
  /// once (its connections close); one that hangs after about this long.
  TORCH_ARG(std::chrono::milliseconds, timeout) = std::chrono::seconds(300);
  /// Network interface Gloo uses, for example "eth0" (GLOO_SOCKET_IFNAME).
  /// Unset: 127.0.0.1 when MASTER_ADDR is a loopback address, else the address
  /// this machine's hostname resolves to.
  TORCH_ARG(std::optional<std::string>, interface) = std::nullopt;
  /// Whether a launcher hosts the store at MASTER_ADDR:MASTER_PORT, so that
  /// rank 0 joins it like the other ranks instead of hosting one
  /// (TORCHELASTIC_USE_AGENT_STORE=True, as torchrun's agent sets; false when
  /// unset). The keys then go under "/worker/attempt_<n>", n from
  /// TORCHELASTIC_RESTART_COUNT (0 when unset), as PyTorch's env:// does, so
  /// one store serves one launch after another.
  TORCH_ARG(std::optional<bool>, use_agent_store) = std::nullopt;
  /// Gloo's worker threads (PyTorch's default).
  TORCH_ARG(int64_t, gloo_threads) = 2;
};

/// A group of processes that train together: a handle on a c10d process group
/// (Gloo on CPU from `make_process_group`; wrap an NCCL group made with a
/// CUDA build of LibTorch the same way) and, for error reports, the store the
/// ranks met at. Copies share the group. All ranks must call the collectives
/// in the same order.
class ProcessGroup {
 public:
  /// Wraps a c10d group made elsewhere. With `store` (the one the ranks met
  /// at), a failed collective names the ranks that stopped answering.
  ProcessGroup(c10::intrusive_ptr<detail::C10dGroup> group,
               std::chrono::milliseconds timeout,
               c10::intrusive_ptr<::c10d::Store> store = {});

  /// This process's rank, 0 to size() - 1.
  int64_t rank() const;
  /// Number of processes in the group.
  int64_t size() const;
  /// How long a collective may wait for the other ranks before it fails.
  std::chrono::milliseconds timeout() const {
    return timeout_;
  }

  /// Sums each tensor over the ranks in place (one c10d all-reduce per
  /// tensor, all in flight together). When it fails, throws `c10::Error`
  /// naming the collective's number (1 for a group's first collective, the
  /// same on every rank) and the ranks to blame: those whose connection
  /// closed (they exited or crashed), reported at once, or else those that
  /// did not answer within the timeout. A failed group cannot be used again.
  void all_reduce_sum(std::vector<torch::Tensor>& tensors);

  /// Overwrites each tensor with rank `root`'s (c10d broadcast); fails as
  /// `all_reduce_sum` does.
  void broadcast(std::vector<torch::Tensor>& tensors, int64_t root = 0);

  /// Returns once every rank has called it; fails as `all_reduce_sum` does.
  void barrier();

  /// The c10d group, for collectives torchclr does not wrap.
  const c10::intrusive_ptr<detail::C10dGroup>& c10d_group() const {
    return group_;
  }

 private:
  using Clock = std::chrono::steady_clock;
  // One collective call: every rank numbers it alike, so all reports of one
  // failure name the same number.
  struct Collective {
    const char* what;
    int64_t sequence;
    Clock::time_point started;
  };

  int64_t next_sequence();
  void wait_all(std::vector<c10::intrusive_ptr<::c10d::Work>>& works,
                const Collective& collective);
  [[noreturn]] void report_failure(const Collective& collective,
                                   const std::string& cause);
  std::string roll_call(const std::string& prefix, Clock::time_point started);

  c10::intrusive_ptr<detail::C10dGroup> group_;
  std::chrono::milliseconds timeout_;
  c10::intrusive_ptr<::c10d::Store> store_;
  // Collectives issued so far (1 for the first), shared by the copies, which
  // may run on several threads; all ranks agree on it.
  std::shared_ptr<std::atomic<int64_t>> sequence_;
};

/// Joins the job described by `options` and the environment: rank 0 (or the
/// launcher, see `use_agent_store`) hosts a c10d::TCPStore at
/// MASTER_ADDR:MASTER_PORT, every rank checks in and waits for the others,
/// then all build a c10d::ProcessGroupGloo (Gloo on CPU; NCCL needs a CUDA
/// build of LibTorch: wrap its group in `ProcessGroup`).
/// Throws `c10::Error` before any training for a WORLD_SIZE that is not a
/// number >= 1, a RANK outside [0, WORLD_SIZE), a port in use or out of range,
/// a store that cannot be reached, two processes with one rank, and ranks
/// that do not arrive within the timeout (naming them).
/// With more than one rank it sets SIGPIPE to be ignored, as Python does,
/// unless the program handles SIGPIPE itself: a peer that exits must make a
/// collective throw, naming it, not end this process silently.
ProcessGroup make_process_group(const ProcessGroupOptions& options = {});

/// Options of `average_gradients` and `distributed_train_step`.
struct GradientAveragingOptions {
  /// Largest flat buffer per all-reduce, in MiB (DDP's `bucket_cap_mb` and its
  /// default): fewer, larger messages; one bucket per dtype and device at
  /// least.
  TORCH_ARG(double, bucket_cap_mb) = 25;
};

/// What one `average_gradients` call sent.
struct GradientAveragingStats {
  /// All-reduces issued (one per bucket).
  int64_t buckets = 0;
  /// Bytes of the flat buffers all-reduced (each rank's share of traffic is
  /// about 2 (N - 1) / N times this in a ring).
  int64_t bytes = 0;
};

/// Replaces each parameter's `.grad()` by its mean over the ranks: gradients
/// are flattened into buckets of at most `bucket_cap_mb`, each bucket is
/// all-reduced (sum) and divided by the world size, and the result is copied
/// back. Parameters with `requires_grad` and no gradient count as zeros and
/// get the mean. Every rank must pass the same parameters in the same order.
GradientAveragingStats average_gradients(
    ProcessGroup& group,
    const std::vector<torch::Tensor>& parameters,
    const GradientAveragingOptions& options = {});

/// Copies rank `root`'s parameters and buffers into every rank's `module`
/// (bucketed broadcasts): call it once before training, like DDP's
/// constructor does.
void broadcast_parameters(ProcessGroup& group,
                          torch::nn::Module& module,
                          int64_t root = 0);

/// Throws `c10::Error` on every rank unless all ranks' `module` has the same
/// parameter and buffer names, shapes and dtypes and bit-identical values;
/// the message names the first tensor that differs and on how many ranks.
void check_same_parameters(ProcessGroup& group, torch::nn::Module& module);

/// A `TrainStep` for `LRRangeTestOptions::train_step` (or a training loop)
/// that runs `inner` (the user's forward, loss and backward on this rank's
/// share of the batch), averages the gradients of `module`'s parameters over
/// the ranks and returns the loss averaged over the ranks (it travels in the
/// gradients' first bucket of its dtype). Every rank so records the same
/// curve and, since a NaN on any rank makes the mean NaN, stops at the same
/// iteration. Called `accumulation_steps` times per optimizer step, it
/// averages each time: correct (the mean is linear), not the cheapest.
TrainStep distributed_train_step(ProcessGroup group,
                                 std::shared_ptr<torch::nn::Module> module,
                                 TrainStep inner,
                                 GradientAveragingOptions options = {});

}  // namespace torchclr
