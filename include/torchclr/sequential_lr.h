#pragma once

#include <torchclr/scheduler.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace torchclr {

/// PyTorch's `SequentialLR`: scheduler i runs from milestone i-1 (0 for the
/// first) to milestone i, restarted at its own step 0 when it takes over.
/// The paper's triangular2 run (Table 2) is three `CyclicLR` stages in a row.
///
/// As in PyTorch, the stages that start from the optimizer's LR (exponential,
/// linear, multi-step, warm restarts) all start from the LRs the first stage
/// was built with, not from where the previous stage left off.
class SequentialLR final : public Scheduler {
 public:
  /// Every scheduler must drive `optimizer`, and `milestones` (strictly
  /// increasing, > 0) has one entry fewer than `schedulers`. The optimizer
  /// must outlive this scheduler.
  SequentialLR(torch::optim::Optimizer& optimizer,
               std::vector<std::shared_ptr<Scheduler>> schedulers,
               std::vector<int64_t> milestones);

  const char* name() const noexcept override {
    return "SequentialLR";
  }

  /// The milestones and every stage's name and options.
  std::string options_text() const override;

  /// Saves its own state and, under "stage_<i>", every stage's.
  void save(torch::serialize::OutputArchive& archive) const override;

 protected:
  SavedState read_state(torch::serialize::InputArchive& archive) const override;
  void restore(const SavedState& state) override;
  bool starts_from_optimizer_lr() const noexcept override {
    return false;
  }
  void compute(int64_t epoch,
               std::vector<double>& lrs,
               std::vector<double>& momentums) const override;

 private:
  std::vector<std::shared_ptr<Scheduler>> schedulers_;
  std::vector<int64_t> milestones_;
};

}  // namespace torchclr
