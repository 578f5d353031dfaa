#include <c10/util/Exception.h>
#include <torchclr/chained_scheduler.h>
#include <torchclr/detail/options_text.h>

namespace torchclr {

ChainedScheduler::ChainedScheduler(
    torch::optim::Optimizer& optimizer,
    std::vector<std::shared_ptr<Scheduler>> schedulers)
    : Scheduler(optimizer, "ChainedScheduler"),
      schedulers_(std::move(schedulers)) {
  TORCH_CHECK(!schedulers_.empty(), name(), ": schedulers must not be empty");
  for (std::size_t i = 0; i < schedulers_.size(); ++i) {
    const auto& scheduler = schedulers_[i];
    TORCH_CHECK(scheduler != nullptr, name(), ": scheduler ", i, " is null");
    TORCH_CHECK(&scheduler->optimizer() == &optimizer,
                name(),
                ": scheduler ",
                i,
                " (",
                scheduler->name(),
                ") drives a different optimizer");
    TORCH_CHECK(scheduler->scales_base_lr(),
                name(),
                ": scheduler ",
                i,
                " (",
                scheduler->name(),
                ") sets the LR itself rather than scaling the base LR, so it "
                "cannot be chained; chain StepLR, MultiStepLR, ConstantLR, "
                "LinearLR, ExponentialLR, PolynomialLR or MultiplicativeLR, "
                "or use SequentialLR");
  }
  set_base_lrs_from_options(schedulers_.front()->base_lrs());
  for (auto& scheduler : schedulers_) {
    scheduler->rebase(base_lrs());
  }
  initial_step();
}

double ChainedScheduler::lr_at(int64_t step, std::size_t group) const {
  const double base_lr = base_lrs()[group];
  double lr = base_lr;
  for (const auto& scheduler : schedulers_) {
    lr *= scheduler->lr_at(step, group) / base_lr;
  }
  return lr;
}

std::string ChainedScheduler::options_text() const {
  detail::OptionsText text;
  for (const auto& scheduler : schedulers_) {
    text.add(scheduler->name(), "{" + scheduler->options_text() + "}");
  }
  return text.str();
}

}  // namespace torchclr
