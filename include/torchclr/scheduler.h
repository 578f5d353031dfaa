#pragma once

#include <torch/optim/optimizer.h>
#include <torch/optim/schedulers/lr_scheduler.h>
#include <torch/serialize/archive.h>
#include <torchclr/detail/momentum.h>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

/// Cyclical learning rates and PyTorch's other LR schedulers for LibTorch,
/// with the LR range test, stochastic weight averaging and data-parallel
/// training.
namespace torchclr {

/// Common base of every torchclr scheduler: a `torch::optim::LRScheduler`
/// whose learning rate (and, where asked, momentum) after `k` calls of
/// `step()` is a pure function of `k` and the options, as in PyTorch.
///
/// Like PyTorch (and unlike LibTorch's `StepLR`), construction performs the
/// first step: right after it, the optimizer holds the step-0 values.
/// `step()` through a `torch::optim::LRScheduler&` sets both LR and momentum.
/// The step count is this class's own 64-bit counter, not LibTorch's 32-bit
/// `step_count_` (which wraps after 2^32 steps and is ignored here).
///
/// A policy overrides `lr_at` (and `momentum_at` when it cycles momentum) and
/// `options_text`; composites such as `SequentialLR` use the same public API.
///
/// The scheduler keeps a reference to the optimizer: the caller keeps the
/// optimizer alive for as long as the scheduler is used.
class Scheduler : public torch::optim::LRScheduler {
 public:
  /// The policy's class name ("CyclicLR", ...), stored in archives.
  const std::string& name() const noexcept {
    return name_;
  }
  /// Every option that shapes the schedule, as canonical text
  /// ("key=value;..."); archives store it.
  virtual std::string options_text() const = 0;

  /// The LR of param group `group` after `step` calls of `step()`; pure.
  virtual double lr_at(int64_t step, std::size_t group) const = 0;
  /// The momentum (or Adam's beta1) of `group` at `step`, or nullopt where
  /// the schedule leaves momentum alone; only asked when `cycles_momentum()`.
  virtual std::optional<double> momentum_at(int64_t step,
                                            std::size_t group) const;

  /// The learning rates last set, one per param group (`get_last_lr()`).
  const std::vector<double>& get_last_lr() const noexcept {
    return last_lrs_;
  }
  /// The momentum (or Adam's beta1) last set, one per param group; empty when
  /// this scheduler does not cycle momentum.
  const std::vector<double>& get_last_momentum() const noexcept {
    return last_momentums_;
  }
  /// Number of `step()` calls since construction (PyTorch's `last_epoch`),
  /// the construction's own step not counted; 64-bit, never wrapped.
  int64_t last_epoch() const noexcept {
    return steps_ - 1;
  }
  /// The LR of each group the schedule starts from (PyTorch's `base_lrs`).
  const std::vector<double>& base_lrs() const noexcept {
    return base_lrs_;
  }
  /// True when `base_lrs()` were read from the optimizer at construction
  /// (PyTorch's `initial_lr`), false when the options give the LRs.
  bool starts_from_optimizer_lr() const noexcept {
    return starts_from_optimizer_lr_;
  }
  /// Moves a schedule that starts from the optimizer's LRs to start from
  /// `base_lrs` (one per group, finite and > 0); for composites.
  void rebase(std::vector<double> base_lrs);
  /// True when the LR is `base_lrs()` times a factor of the step alone
  /// (PyTorch's chainable schedulers), which `ChainedScheduler` multiplies.
  bool scales_base_lr() const noexcept {
    return scales_base_lr_;
  }
  /// True when `step()` sets the optimizer's momentum too.
  bool cycles_momentum() const noexcept {
    return !momentum_kinds_.empty();
  }
  /// The optimizer this scheduler drives.
  torch::optim::Optimizer& optimizer() const noexcept {
    return optimizer_;
  }
  /// Number of the optimizer's param groups, fixed at construction.
  std::size_t num_groups() const noexcept {
    return base_lrs_.size();
  }

  /// Writes the step count, base LRs and options, with a format version.
  virtual void save(torch::serialize::OutputArchive& archive) const;
  /// Restores what `save` wrote and re-applies that step's LR and momentum to
  /// the optimizer. Throws, changing nothing, if the policy, the param-group
  /// count or any option differ from the saved ones.
  virtual void load(torch::serialize::InputArchive& archive);
  /// Takes only the step count from an archive of the same policy saved with
  /// any options, and continues this scheduler's own schedule from that step:
  /// a run resumed into a changed plan (a longer `OneCycleLR`, ...), on
  /// purpose. Base LRs stay this scheduler's.
  void load_step(torch::serialize::InputArchive& archive);

  /// What `save` wrote, as read and checked by `read_state`.
  struct SavedState {
    /// The saved `last_epoch()`.
    int64_t last_epoch = 0;
    /// The saved `base_lrs()`, one per param group.
    std::vector<double> base_lrs;
  };
  /// Reads and checks what `save` wrote, changing nothing, so that a refused
  /// archive leaves the scheduler as it was. With `check_options` false, an
  /// archive saved with other options is taken too.
  SavedState read_state(torch::serialize::InputArchive& archive,
                        bool check_options = true) const;
  /// Takes the base LRs of a checked state over (of a schedule that starts
  /// from the optimizer's LRs); does not step. For composites.
  void restore_base_lrs(const SavedState& state);

 protected:
  /// Reads the optimizer's current LRs as `base_lrs()`; the derived
  /// constructor validates its options, then calls `initial_step()`.
  Scheduler(torch::optim::Optimizer& optimizer, std::string name);

  /// For policies whose options give the LRs (`CyclicLR`, `OneCycleLR`).
  void set_base_lrs_from_options(std::vector<double> base_lrs);

  /// Declares that `lr_at` is `base_lrs()[group]` times a factor of the step.
  void set_scales_base_lr() noexcept {
    scales_base_lr_ = true;
  }

  /// Checks that the optimizer's LRs (the base LRs) are finite and > 0.
  void check_optimizer_lrs() const;

  /// Checks that the optimizer still has `num_groups()` param groups.
  void check_param_groups() const;

  /// PyTorch's constructor step: applies the values of step 0.
  void initial_step();

  /// Checks that every param group has a momentum to cycle, and from then on
  /// sets it in `step()`.
  void require_momentum();

  /// Sets the optimizer to the values of `epoch` (in [0, INT64_MAX - 1])
  /// and counts from there.
  void apply(int64_t epoch);

  /// Called by `step()` just before the values of step `step` are computed
  /// (the construction's step 0 included), but not when `load` or
  /// `load_step` re-apply a saved step: for a policy that reads the
  /// optimizer there, as PyTorch's does (`SWALR`). Throwing changes nothing.
  virtual void before_step(int64_t step);

 private:
  /// Called once by LibTorch's non-virtual `step()`: the values of step
  /// `steps_`, and counts that step.
  std::vector<double> get_lrs() final;

  // `step()` calls so far, the construction's included; the step whose
  // values `get_lrs` computes next. LibTorch's `step_count_` is not used.
  int64_t steps_ = 0;
  // True while `apply` re-applies a step: `before_step` is not called.
  bool reapplying_ = false;

  std::string name_;
  torch::optim::Optimizer& optimizer_;
  std::vector<double> base_lrs_;
  bool starts_from_optimizer_lr_ = true;
  bool scales_base_lr_ = false;
  std::vector<detail::MomentumKind> momentum_kinds_;
  std::vector<double> last_lrs_;
  std::vector<double> last_momentums_;
};

/// A scheduler configured by one options struct: keeps it and returns it.
template <typename Options>
class OptionsScheduler : public Scheduler {
 public:
  /// The options the scheduler was constructed with.
  const Options& options() const noexcept {
    return options_;
  }

 protected:
  /// Keeps `options`; the derived constructor validates them.
  OptionsScheduler(torch::optim::Optimizer& optimizer,
                   std::string name,
                   Options options)
      : Scheduler(optimizer, std::move(name)), options_(std::move(options)) {}

  /// The options, for the derived policy's `lr_at`.
  Options options_;
};

/// A policy whose LR is `schedule(base_lr, options, step)`, from the
/// optimizer's LRs at construction (which must be finite and > 0): the
/// derived class validates its options and calls `initial_step()`.
template <typename Options,
          double (*schedule)(double base_lr, const Options&, int64_t step)>
class ClosedFormScheduler : public OptionsScheduler<Options> {
 public:
  /// `schedule(base_lrs()[group], options(), step)`.
  double lr_at(int64_t step, std::size_t group) const override {
    return schedule(this->base_lrs()[group], this->options_, step);
  }

 protected:
  /// `scales_base_lr`: the schedule is base_lr times a factor of the step.
  ClosedFormScheduler(torch::optim::Optimizer& optimizer,
                      std::string name,
                      Options options,
                      bool scales_base_lr)
      : OptionsScheduler<Options>(
            optimizer, std::move(name), std::move(options)) {
    this->check_optimizer_lrs();
    if (scales_base_lr) {
      this->set_scales_base_lr();
    }
  }
};

/// `torch::save(scheduler, path)` support.
torch::serialize::OutputArchive& operator<<(
    torch::serialize::OutputArchive& archive, const Scheduler& scheduler);
/// `torch::load(scheduler, path)` support.
torch::serialize::InputArchive& operator>>(
    torch::serialize::InputArchive& archive, Scheduler& scheduler);

}  // namespace torchclr
