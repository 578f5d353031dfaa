#include <c10/util/Exception.h>
#include <torchclr/detail/options_text.h>
#include <torchclr/reduce_lr_on_plateau.h>
#include <torchclr/sequential_lr.h>
#include <torchclr/swa_lr.h>

#include <algorithm>
#include <cmath>
#include <optional>
#include <string>

namespace torchclr {

SequentialLR::SequentialLR(torch::optim::Optimizer& optimizer,
                           std::vector<std::shared_ptr<Scheduler>> schedulers,
                           std::vector<int64_t> milestones)
    : Scheduler(optimizer, "SequentialLR"),
      schedulers_(std::move(schedulers)),
      milestones_(std::move(milestones)) {
  TORCH_CHECK(!schedulers_.empty(), name(), ": schedulers must not be empty");
  TORCH_CHECK(milestones_.size() + 1 == schedulers_.size(),
              name(),
              ": expected one milestone fewer than schedulers, got ",
              schedulers_.size(),
              " schedulers and ",
              milestones_.size(),
              " milestones");
  for (std::size_t i = 0; i < schedulers_.size(); ++i) {
    TORCH_CHECK(
        schedulers_[i] != nullptr, name(), ": scheduler ", i, " is null");
    TORCH_CHECK(&schedulers_[i]->optimizer() == &optimizer,
                name(),
                ": scheduler ",
                i,
                " (",
                schedulers_[i]->name(),
                ") drives a different optimizer");
  }
  for (std::size_t i = 0; i < milestones_.size(); ++i) {
    TORCH_CHECK(
        milestones_[i] > 0 && (i == 0 || milestones_[i] > milestones_[i - 1]),
        name(),
        ": milestones must be > 0 and strictly increasing, got ",
        milestones_[i],
        " at index ",
        i);
  }
  // PyTorch's stages share the `initial_lr` recorded by the first one; ours
  // read the optimizer when built, after earlier stages had changed it.
  set_base_lrs_from_options(schedulers_.front()->base_lrs());
  for (auto& stage : schedulers_) {
    if (stage->starts_from_optimizer_lr()) {
      stage->rebase(base_lrs());
    }
  }
  if (std::any_of(schedulers_.begin(),
                  schedulers_.end(),
                  [](const auto& stage) { return stage->cycles_momentum(); })) {
    require_momentum();
  }
  initial_step();
}

std::size_t SequentialLR::stage_at(int64_t step) const {
  return static_cast<std::size_t>(
      std::upper_bound(milestones_.begin(), milestones_.end(), step) -
      milestones_.begin());
}

int64_t SequentialLR::stage_start(std::size_t stage) const {
  return stage == 0 ? int64_t{0} : milestones_[stage - 1];
}

// The only stage kind that takes a metric; a dynamic_cast keeps the
// Scheduler base free of a hook that one policy needs.
void SequentialLR::step(double metric) {
  TORCH_CHECK(std::isfinite(metric),
              name(),
              ": the metric must be finite, got ",
              metric,
              "; the LRs are unchanged");
  const auto& stage = schedulers_[stage_at(last_epoch())];
  if (auto* plateau = dynamic_cast<ReduceLROnPlateau*>(stage.get())) {
    plateau->update(metric);
  }
  step();
}

// A plateau stage's LR is the param group's, not a function of the step: it
// starts from the base LRs, as every stage restarts from its step 0. A later
// SWALR stage reads the group's LR as PyTorch's does, so it anneals from the
// LR of the step before its milestone, where PyTorch's `step(0)` takes it one
// step along (SWALR counts its own steps, which `step(0)` does not reset).
double SequentialLR::lr_at(int64_t step, std::size_t group) const {
  const auto stage = stage_at(step);
  const auto& scheduler = *schedulers_[stage];
  const int64_t local = step - stage_start(stage);
  if (local == 0 && dynamic_cast<const ReduceLROnPlateau*>(&scheduler)) {
    return scheduler.base_lrs()[group];
  }
  if (const auto* swa = dynamic_cast<const SWALR*>(&scheduler);
      swa != nullptr && stage > 0) {
    return swa_annealed_lr(lr_at(stage_start(stage) - 1, group),
                           swa->swa_lrs()[group],
                           swa->options(),
                           local + 1);
  }
  return scheduler.lr_at(local, group);
}

// As PyTorch leaves the optimizer, so that this value is a function of the
// step too and survives save/load.
std::optional<double> SequentialLR::momentum_at(int64_t step,
                                                std::size_t group) const {
  const auto current = stage_at(step);
  for (auto stage = current + 1; stage-- > 0;) {
    const auto& scheduler = *schedulers_[stage];
    if (!scheduler.cycles_momentum()) {
      continue;
    }
    const int64_t local = stage == current
                              ? step - stage_start(stage)
                              : milestones_[stage] - stage_start(stage) - 1;
    return scheduler.momentum_at(local, group);
  }
  return std::nullopt;
}

void SequentialLR::save(torch::serialize::OutputArchive& archive) const {
  Scheduler::save(archive);
  for (std::size_t i = 0; i < schedulers_.size(); ++i) {
    torch::serialize::OutputArchive stage_archive;
    schedulers_[i]->save(stage_archive);
    archive.write("stage_" + std::to_string(i), stage_archive);
  }
}

// Only this scheduler's step is applied to the optimizer; a stage's own saved
// step would set its values over the current stage's.
void SequentialLR::load(torch::serialize::InputArchive& archive) {
  const auto state = read_state(archive);
  std::vector<SavedState> stages;
  std::vector<std::optional<PlateauState>> plateaus;
  for (std::size_t i = 0; i < schedulers_.size(); ++i) {
    torch::serialize::InputArchive stage_archive;
    TORCH_CHECK(archive.try_read("stage_" + std::to_string(i), stage_archive),
                name(),
                ": the archive has no state for stage ",
                i,
                " (",
                schedulers_[i]->name(),
                ")");
    stages.push_back(schedulers_[i]->read_state(stage_archive));
    if (const auto* plateau =
            dynamic_cast<const ReduceLROnPlateau*>(schedulers_[i].get())) {
      plateaus.emplace_back(plateau->read_plateau_state(stage_archive));
    } else {
      plateaus.emplace_back();
    }
  }
  check_param_groups();
  for (std::size_t i = 0; i < schedulers_.size(); ++i) {
    schedulers_[i]->restore_base_lrs(stages[i]);
  }
  // A plateau stage puts its saved LRs in the param groups; the current
  // stage's go last, since they are the ones it continues from.
  auto restore_plateau = [&](std::size_t i) {
    if (plateaus[i]) {
      dynamic_cast<ReduceLROnPlateau&>(*schedulers_[i])
          .restore_plateau_state(*plateaus[i]);
    }
  };
  const auto current = stage_at(state.last_epoch);
  for (std::size_t i = 0; i < schedulers_.size(); ++i) {
    if (i != current) {
      restore_plateau(i);
    }
  }
  restore_plateau(current);
  apply(state.last_epoch);
}

std::string SequentialLR::options_text() const {
  detail::OptionsText text;
  text.add("milestones", milestones_);
  for (const auto& stage : schedulers_) {
    text.add(stage->name(), "{" + stage->options_text() + "}");
  }
  return text.str();
}

}  // namespace torchclr
