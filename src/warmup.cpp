#include <c10/util/Exception.h>
#include <torchclr/linear_lr.h>
#include <torchclr/warmup.h>

namespace torchclr {

WarmupOptions::WarmupOptions(int64_t warmup_steps)
    : warmup_steps_(warmup_steps) {}

SequentialLR with_warmup(torch::optim::Optimizer& optimizer,
                         std::shared_ptr<Scheduler> schedule,
                         WarmupOptions options) {
  TORCH_CHECK(schedule != nullptr, "with_warmup: schedule is null");
  // The ramp ends where the schedule starts, whatever the optimizer's LR is
  // now (the schedule's own first step may have changed it).
  auto ramp =
      std::make_shared<LinearLR>(optimizer,
                                 LinearLROptions()
                                     .start_factor(options.start_factor())
                                     .total_iters(options.warmup_steps()));
  ramp->rebase(schedule->base_lrs());
  return SequentialLR(optimizer,
                      {std::move(ramp), std::move(schedule)},
                      {options.warmup_steps()});
}

}  // namespace torchclr
