#pragma once

#include <torch/optim/optimizer.h>
#include <torch/optim/schedulers/lr_scheduler.h>
#include <torch/serialize/archive.h>
#include <torchclr/detail/momentum.h>

#include <cstdint>
#include <string>
#include <vector>

namespace torchclr {

class SequentialLR;

/// Common base of every torchclr scheduler: a `torch::optim::LRScheduler`
/// whose learning rate (and, where asked, momentum) after `k` calls of
/// `step()` is a pure function of `k` and the options, as in PyTorch.
///
/// Like PyTorch (and unlike LibTorch's `StepLR`), construction performs the
/// first step: right after it, the optimizer holds the step-0 values.
/// `step()` through a `torch::optim::LRScheduler&` sets both LR and momentum.
///
/// The scheduler keeps a reference to the optimizer: the caller keeps the
/// optimizer alive for as long as the scheduler is used.
class Scheduler : public torch::optim::LRScheduler {
 public:
  ~Scheduler() override = default;

  /// The learning rates last set, one per param group (`get_last_lr()`).
  const std::vector<double>& get_last_lr() const noexcept {
    return last_lrs_;
  }
  /// The momentum (or Adam's beta1) last set, one per param group; empty when
  /// this scheduler does not cycle momentum.
  const std::vector<double>& get_last_momentum() const noexcept {
    return last_momentums_;
  }
  /// Number of `step()` calls since construction (PyTorch's `last_epoch`).
  int64_t last_epoch() const noexcept {
    return static_cast<int64_t>(step_count_) - 1;
  }
  /// The LR of each group the schedule starts from (PyTorch's `base_lrs`).
  const std::vector<double>& base_lrs() const noexcept {
    return base_lrs_;
  }
  /// A short name of the policy, stored in archives ("CyclicLR", ...).
  virtual const char* name() const noexcept = 0;

  /// Every option that shapes the schedule, as canonical text
  /// ("key=value;..."); archives store it.
  virtual std::string options_text() const = 0;

  /// Writes the step count, base LRs and options, with a format version.
  virtual void save(torch::serialize::OutputArchive& archive) const;
  /// Restores what `save` wrote and re-applies that step's LR and momentum to
  /// the optimizer. Throws, changing nothing, if the policy, the param-group
  /// count or any option differ from the saved ones.
  void load(torch::serialize::InputArchive& archive);

 protected:
  /// Reads the optimizer's current LRs as `base_lrs()`; the derived
  /// constructor validates its options, then calls `initial_step()`.
  /// `owner` names the class in errors (name() is not callable yet).
  Scheduler(torch::optim::Optimizer& optimizer, const char* owner);

  /// PyTorch's constructor step: applies the values of step 0.
  void initial_step();

  /// What `save` wrote; `stages` holds a `SequentialLR`'s stages.
  struct SavedState {
    int64_t last_epoch = 0;
    std::vector<double> base_lrs;
    std::vector<SavedState> stages;
  };
  /// Reads and checks what `save` wrote, changing nothing, so that a refused
  /// archive leaves the scheduler as it was.
  virtual SavedState read_state(torch::serialize::InputArchive& archive) const;
  /// Takes a checked state over (not the step: `load` applies that).
  virtual void restore(const SavedState& state);

  /// Fills `lrs` (one per group, already sized) for the step `epoch`, and
  /// `momentums` (resized by the callee) when momentum is cycled.
  virtual void compute(int64_t epoch,
                       std::vector<double>& lrs,
                       std::vector<double>& momentums) const = 0;

  /// True when the schedule starts from the optimizer's LRs (read at
  /// construction) rather than from LRs given in the options.
  virtual bool starts_from_optimizer_lr() const noexcept {
    return true;
  }

  /// Checks that `cycle_momentum` can be honoured by every param group.
  void require_momentum(const char* owner);

  /// Sets the optimizer's momentum of every group (SGD/RMSprop momentum,
  /// Adam/AdamW beta1).
  void set_momentums(const std::vector<double>& momentums);

  torch::optim::Optimizer& optimizer() const noexcept {
    return optimizer_;
  }
  std::size_t num_groups() const noexcept {
    return base_lrs_.size();
  }

  std::vector<double> base_lrs_;

 private:
  friend class SequentialLR;

  std::vector<double> get_lrs() final;
  void apply(int64_t epoch);

  torch::optim::Optimizer& optimizer_;
  std::vector<detail::MomentumKind> momentum_kinds_;
  std::vector<double> last_lrs_;
  std::vector<double> last_momentums_;
};

/// `torch::save(scheduler, path)` support.
torch::serialize::OutputArchive& operator<<(
    torch::serialize::OutputArchive& archive, const Scheduler& scheduler);
/// `torch::load(scheduler, path)` support.
torch::serialize::InputArchive& operator>>(
    torch::serialize::InputArchive& archive, Scheduler& scheduler);

}  // namespace torchclr
