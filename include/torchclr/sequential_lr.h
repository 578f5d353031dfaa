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
/// linear, multi-step, warm restarts, plateau) all start from the LRs the
/// first stage was built with, not from where the previous stage left off;
/// a `SWALR` stage after the first anneals from where the previous stage left
/// off, one anneal step along at its milestone, as PyTorch's does.
///
/// A `ReduceLROnPlateau` stage (after a warm-up, say) is driven by
/// `step(metric)`, which PyTorch's `SequentialLR` cannot do: it starts from
/// those LRs at its milestone, then reduces the LRs the param groups hold.
class SequentialLR final : public Scheduler {
 public:
  /// Every scheduler must drive `optimizer`, and `milestones` (strictly
  /// increasing, > 0) has one entry fewer than `schedulers`. The optimizer
  /// must outlive this scheduler.
  SequentialLR(torch::optim::Optimizer& optimizer,
               std::vector<std::shared_ptr<Scheduler>> schedulers,
               std::vector<int64_t> milestones);

  /// Advances one step as `step()` does. When the stage that ran the step
  /// just finished (the one at `last_epoch()`) is a `ReduceLROnPlateau`, it
  /// records `metric` first (`ReduceLROnPlateau::update`); other stages
  /// ignore it, so a plateau stage sees only the metrics of its own epochs.
  /// Throws, changing nothing, if `metric` is not finite.
  void step(double metric);
  /// Advances one step; a plateau stage keeps its LRs.
  using torch::optim::LRScheduler::step;

  /// The milestones and every stage's name and options.
  std::string options_text() const override;

  double lr_at(int64_t step, std::size_t group) const override;
  /// The current stage's momentum; a stage without momentum cycling keeps it
  /// where the last earlier stage with it left off.
  std::optional<double> momentum_at(int64_t step,
                                    std::size_t group) const override;

  /// Saves its own state and, under "stage_<i>", every stage's.
  void save(torch::serialize::OutputArchive& archive) const override;
  /// Reads every stage's state (a plateau stage's too) before taking any
  /// over.
  void load(torch::serialize::InputArchive& archive) override;

 private:
  /// The stage that runs at `step`.
  std::size_t stage_at(int64_t step) const;
  /// The step at which stage `stage` takes over.
  int64_t stage_start(std::size_t stage) const;

  std::vector<std::shared_ptr<Scheduler>> schedulers_;
  std::vector<int64_t> milestones_;
};

}  // namespace torchclr
