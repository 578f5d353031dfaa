#include <c10/util/Exception.h>
#include <torchclr/detail/options_text.h>
#include <torchclr/sequential_lr.h>

#include <algorithm>
#include <string>

namespace torchclr {

SequentialLR::SequentialLR(torch::optim::Optimizer& optimizer,
                           std::vector<std::shared_ptr<Scheduler>> schedulers,
                           std::vector<int64_t> milestones)
    : Scheduler(optimizer, "SequentialLR"),
      schedulers_(std::move(schedulers)),
      milestones_(std::move(milestones)) {
  TORCH_CHECK(!schedulers_.empty(),
              "SequentialLR: schedulers must not be empty");
  TORCH_CHECK(
      milestones_.size() + 1 == schedulers_.size(),
      "SequentialLR: expected one milestone fewer than schedulers, got ",
      schedulers_.size(),
      " schedulers and ",
      milestones_.size(),
      " milestones");
  for (std::size_t i = 0; i < schedulers_.size(); ++i) {
    TORCH_CHECK(
        schedulers_[i] != nullptr, "SequentialLR: scheduler ", i, " is null");
    TORCH_CHECK(&schedulers_[i]->optimizer() == &optimizer,
                "SequentialLR: scheduler ",
                i,
                " (",
                schedulers_[i]->name(),
                ") drives a different optimizer");
  }
  for (std::size_t i = 0; i < milestones_.size(); ++i) {
    TORCH_CHECK(
        milestones_[i] > 0 && (i == 0 || milestones_[i] > milestones_[i - 1]),
        "SequentialLR: milestones must be > 0 and strictly increasing, got ",
        milestones_[i],
        " at index ",
        i);
  }
  // PyTorch's stages share the `initial_lr` recorded by the first one; ours
  // read the optimizer when built, after earlier stages had changed it.
  base_lrs_ = schedulers_.front()->base_lrs_;
  for (auto& stage : schedulers_) {
    if (stage->starts_from_optimizer_lr()) {
      stage->base_lrs_ = base_lrs_;
    }
  }
  const bool any_momentum = std::any_of(
      schedulers_.begin(), schedulers_.end(), [](const auto& stage) {
        return !stage->momentum_kinds_.empty();
      });
  if (any_momentum) {
    require_momentum("SequentialLR");
  }
  initial_step();
}

void SequentialLR::compute(int64_t epoch,
                           std::vector<double>& lrs,
                           std::vector<double>& momentums) const {
  const auto index = static_cast<std::size_t>(
      std::upper_bound(milestones_.begin(), milestones_.end(), epoch) -
      milestones_.begin());
  auto stage_start = [&](std::size_t stage) {
    return stage == 0 ? int64_t{0} : milestones_[stage - 1];
  };
  schedulers_[index]->compute(epoch - stage_start(index), lrs, momentums);
  // A stage without momentum cycling keeps the momentum where the last stage
  // with it left off (as PyTorch leaves the optimizer), so that value is a
  // function of the step too and survives save/load. Nothing to do when no
  // stage cycles momentum (this scheduler then has no momentum kinds).
  if (momentums.empty() && index > 0 && !momentum_kinds_.empty()) {
    std::vector<double> unused_lrs(lrs.size());
    for (auto stage = index; momentums.empty() && stage-- > 0;) {
      if (schedulers_[stage]->momentum_kinds_.empty()) {
        continue;
      }
      schedulers_[stage]->compute(
          milestones_[stage] - stage_start(stage) - 1, unused_lrs, momentums);
    }
  }
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
Scheduler::SavedState SequentialLR::read_state(
    torch::serialize::InputArchive& archive) const {
  auto state = Scheduler::read_state(archive);
  for (std::size_t i = 0; i < schedulers_.size(); ++i) {
    torch::serialize::InputArchive stage_archive;
    TORCH_CHECK(archive.try_read("stage_" + std::to_string(i), stage_archive),
                "SequentialLR: the archive has no state for stage ",
                i,
                " (",
                schedulers_[i]->name(),
                ")");
    state.stages.push_back(schedulers_[i]->read_state(stage_archive));
  }
  return state;
}

void SequentialLR::restore(const SavedState& state) {
  Scheduler::restore(state);
  for (std::size_t i = 0; i < schedulers_.size(); ++i) {
    schedulers_[i]->restore(state.stages[i]);
  }
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
