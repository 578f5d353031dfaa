#include <c10/util/Exception.h>
#include <torchclr/detail/checks.h>
#include <torchclr/detail/options_text.h>
#include <torchclr/linear_lr.h>

#include <algorithm>
#include <cmath>

namespace torchclr {

double linear_lr(double base_lr, const LinearLROptions& options, int64_t step) {
  const double progress =
      static_cast<double>(std::min(options.total_iters(), step));
  return base_lr * (options.start_factor() +
                    (options.end_factor() - options.start_factor()) * progress /
                        static_cast<double>(options.total_iters()));
}

LinearLR::LinearLR(torch::optim::Optimizer& optimizer, LinearLROptions options)
    : ClosedFormScheduler(optimizer, "LinearLR", std::move(options), true) {
  detail::check_unit_interval(options_.start_factor(), name(), "start_factor");
  TORCH_CHECK(std::isfinite(options_.end_factor()) &&
                  options_.end_factor() >= 0 && options_.end_factor() <= 1,
              name(),
              ": end_factor must be in [0, 1], got ",
              options_.end_factor());
  detail::check_positive_count(options_.total_iters(), name(), "total_iters");
  initial_step();
}

std::string LinearLR::options_text() const {
  return detail::OptionsText()
      .add("start_factor", options_.start_factor())
      .add("end_factor", options_.end_factor())
      .add("total_iters", options_.total_iters())
      .str();
}

}  // namespace torchclr
