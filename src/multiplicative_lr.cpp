#include <torchclr/multiplicative_lr.h>

namespace torchclr {

MultiplicativeLR::MultiplicativeLR(torch::optim::Optimizer& optimizer,
                                   MultiplicativeLROptions options)
    : OptionsScheduler(optimizer, "MultiplicativeLR", std::move(options)) {
  detail::check_lambdas(options_, num_groups(), name());
  progress_.assign(num_groups(), {0.0, 0, 0.0});
  set_scales_base_lr();
  initial_step();
}

// PyTorch multiplies the current LR by each factor in turn; so does this,
// from the last step reached, so the values agree to the last bit.
double MultiplicativeLR::lr_at(int64_t step, std::size_t group) const {
  auto& progress = progress_[group];
  const double base_lr = base_lrs()[group];
  if (step < progress.step || base_lr != progress.base_lr) {
    progress = {base_lr, 0, base_lr};
  }
  for (; progress.step < step; ++progress.step) {
    progress.lr *=
        detail::call_lambda(options_, group, progress.step + 1, name());
  }
  return progress.lr;
}

std::string MultiplicativeLR::options_text() const {
  return detail::lambda_options_text(options_, num_groups());
}

}  // namespace torchclr
