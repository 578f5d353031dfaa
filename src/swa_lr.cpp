#include <c10/util/MathConstants.h>
#include <torch/serialize.h>
#include <torch/types.h>
#include <torchclr/detail/options_text.h>
#include <torchclr/swa_lr.h>

#include <algorithm>
#include <cmath>

namespace torchclr {
namespace {

constexpr const char* kStartLRsKey = "anneal_start_lrs";

}  // namespace

SWALROptions::SWALROptions(GroupValues swa_lr) : swa_lr_(std::move(swa_lr)) {}

// PyTorch's get_lr, written in its own operations: the step's alpha, then
// swa_lr * alpha + lr * (1 - alpha).
double swa_annealed_lr(double start_lr,
                       double swa_lr,
                       const SWALROptions& options,
                       int64_t step) {
  if (options.anneal_epochs() == 0) {
    step = std::max<int64_t>(1, step);
  }
  const double t = std::clamp(
      static_cast<double>(step) /
          static_cast<double>(std::max<int64_t>(1, options.anneal_epochs())),
      0.0,
      1.0);
  const double alpha = options.anneal_strategy() == AnnealStrategy::kCos
                           ? (1 - std::cos(c10::pi<double> * t)) / 2
                           : t;
  return swa_lr * alpha + start_lr * (1 - alpha);
}

SWALR::SWALR(torch::optim::Optimizer& optimizer, SWALROptions options)
    : OptionsScheduler(optimizer, "SWALR", std::move(options)) {
  swa_lrs_ = options_.swa_lr().resolve(num_groups(), name(), "swa_lr");
  for (const double lr : swa_lrs_) {
    TORCH_CHECK(std::isfinite(lr) && lr >= 0,
                name(),
                ": swa_lr must be finite and >= 0, got ",
                lr);
  }
  TORCH_CHECK(options_.anneal_epochs() >= 0,
              name(),
              ": anneal_epochs must be >= 0, got ",
              options_.anneal_epochs());
  check_optimizer_lrs();
  initial_step();
}

double SWALR::lr_at(int64_t step, std::size_t group) const {
  return swa_annealed_lr(
      anneal_start_lrs()[group], swa_lrs_[group], options_, step);
}

// PyTorch's step 1 computes (lr - 0 * swa_lr) / (1 - 0): the group's LR as it
// is, whoever set it; later steps recover that LR from the group's.
void SWALR::before_step(int64_t step) {
  if (step != 1) {
    return;
  }
  std::vector<double> lrs;
  for (const auto& group : optimizer().param_groups()) {
    const double lr = group.options().get_lr();
    TORCH_CHECK(std::isfinite(lr) && lr >= 0,
                name(),
                ": param group ",
                lrs.size(),
                " holds lr ",
                lr,
                " at the first step(), where the anneal starts; expected a "
                "finite value >= 0");
    lrs.push_back(lr);
  }
  start_lrs_ = std::move(lrs);
}

std::string SWALR::options_text() const {
  return detail::OptionsText()
      .add("swa_lr", swa_lrs_)
      .add("anneal_epochs", options_.anneal_epochs())
      .add(
          "anneal_strategy",
          options_.anneal_strategy() == AnnealStrategy::kCos ? "cos" : "linear")
      .str();
}

void SWALR::save(torch::serialize::OutputArchive& archive) const {
  Scheduler::save(archive);
  const std::vector<double> start =
      start_lrs_ ? *start_lrs_ : std::vector<double>{};
  archive.write(kStartLRsKey, torch::tensor(start, torch::kFloat64));
}

void SWALR::load(torch::serialize::InputArchive& archive) {
  const auto state = read_state(archive);
  torch::Tensor saved;
  TORCH_CHECK(archive.try_read(kStartLRsKey, saved),
              name(),
              ": the archive has no '",
              kStartLRsKey,
              "'");
  saved = saved.to(torch::kFloat64).contiguous();
  const auto count = static_cast<std::size_t>(saved.numel());
  TORCH_CHECK(count == 0 || count == num_groups(),
              name(),
              ": the archive's ",
              kStartLRsKey,
              " has ",
              count,
              " entries, expected 0 or ",
              num_groups());
  std::optional<std::vector<double>> start;
  if (count > 0) {
    const double* data = saved.data_ptr<double>();
    start.emplace(data, data + count);
    for (const double lr : *start) {
      TORCH_CHECK(std::isfinite(lr) && lr >= 0,
                  name(),
                  ": the archive's ",
                  kStartLRsKey,
                  " holds ",
                  lr,
                  ", expected finite values >= 0");
    }
  }
  check_param_groups();
  restore_base_lrs(state);
  start_lrs_ = std::move(start);
  apply(state.last_epoch);
}

}  // namespace torchclr
