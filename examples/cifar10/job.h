#pragma once

// cifar10_clr on several processes: the flags that place a process in a job
// (PyTorch's RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT, overridden by
// --rank, --world-size, --master-addr, --master-port), and what the training
// loop and the range test ask of the job. Builds with and without torchclr's
// data-parallel support (TORCHCLR_DISTRIBUTED); without it, a job of more than
// one process is refused.

#include <torchclr/torchclr.h>

#include <CLI/CLI.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "data.h"

namespace torchclr::examples {

/// Where this process stands in the job; an unset value is read from the
/// environment variable of the same name.
struct JobFlags {
  std::optional<int64_t> rank;
  std::optional<int64_t> world_size;
  std::optional<std::string> master_addr;
  std::optional<int64_t> master_port;
  /// Longest wait for the other ranks, at the start and in every collective
  /// (an evaluation on rank 0 included).
  double timeout_seconds = 300;
};

/// Registers --rank, --world-size, --master-addr, --master-port and
/// --dist-timeout on `app`.
void add_job_flags(CLI::App& app, JobFlags& flags);

/// The processes that train one model together, each on its share of every
/// batch. A default-constructed Job is one process alone, for which every
/// collective returns at once. Copies share the group; every rank must call
/// the collectives in the same order.
class Job {
 public:
  Job() = default;

  int64_t rank() const;
  int64_t size() const;
  /// Rank 0: the one that evaluates, prints progress and writes files.
  bool is_main() const {
    return rank() == 0;
  }

  /// This rank's rows of a global batch of n rows (n divisible by the world
  /// size): [rank x n / size, (rank + 1) x n / size).
  torchclr::Batch share_of(const torchclr::Batch& global) const;

  /// `inner` (forward, loss and backward on this rank's share) followed by
  /// torchclr::distributed_train_step's averaging of `module`'s gradients and
  /// of the loss over the ranks; for one process, `inner` itself.
  torchclr::TrainStep train_step(std::shared_ptr<torch::nn::Module> module,
                                 torchclr::TrainStep inner) const;

  /// Throws on every rank unless all ranks pass the same `value` (rank 0's is
  /// broadcast and compared): the message names `what`, the ranks that
  /// differ and, for "key=value;..." texts, the fields that do.
  void check_same(const std::string& what, const std::string& value) const;

  /// torchclr::check_same_parameters: every rank holds rank 0's weights.
  void check_same_parameters(torch::nn::Module& module) const;

  /// Returns once every rank has called it.
  void barrier() const;

 private:
  struct Group;
  explicit Job(std::shared_ptr<Group> group) : group_(std::move(group)) {}
  friend Job join_job(const JobFlags& flags, int64_t global_batch_size);

  std::shared_ptr<Group> group_;  // null: one process
};

/// Joins the job `flags` and the environment describe (one process when
/// WORLD_SIZE is unset or 1). Before connecting, refuses a global batch that
/// the world size does not divide, a RANK other than 0 alone, and any world
/// size above 1 when built without TORCHCLR_DISTRIBUTED.
Job join_job(const JobFlags& flags, int64_t global_batch_size);

/// The batches of `global` cut to this rank's share: `batch_at` for the
/// training loop, `next` for the range test. Every rank draws the global batch
/// one process would draw, so N processes train as one does.
class ShareBatches final : public torchclr::BatchSource {
 public:
  /// `global` must outlive this object.
  ShareBatches(SplitBatches& global, Job job)
      : global_(global), job_(std::move(job)) {}

  torchclr::Batch batch_at(int64_t iteration);
  std::optional<torchclr::Batch> next() override;

 private:
  SplitBatches& global_;
  Job job_;
};

}  // namespace torchclr::examples
