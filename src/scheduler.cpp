#include <torch/serialize.h>
#include <torch/types.h>
#include <torchclr/detail/checks.h>
#include <torchclr/group_values.h>
#include <torchclr/scheduler.h>

#include <cmath>
#include <limits>

namespace torchclr {
namespace {

// Bumped whenever the archive layout changes; load() refuses other versions.
constexpr int64_t kFormatVersion = 2;

torch::Tensor to_tensor(const std::vector<double>& values) {
  return torch::tensor(values, torch::kFloat64);
}

std::vector<double> to_vector(const torch::Tensor& tensor) {
  auto contiguous = tensor.to(torch::kFloat64).contiguous();
  const double* data = contiguous.data_ptr<double>();
  return std::vector<double>(data, data + contiguous.numel());
}

}  // namespace

std::vector<double> GroupValues::resolve(std::size_t num_groups,
                                         const std::string& owner,
                                         const char* option) const {
  TORCH_CHECK(values_.size() == 1 || values_.size() == num_groups,
              owner,
              ": ",
              option,
              " must have one value or one per param group (",
              num_groups,
              "), got ",
              values_.size());
  if (values_.size() == num_groups) {
    return values_;
  }
  return std::vector<double>(num_groups, values_.front());
}

Scheduler::Scheduler(torch::optim::Optimizer& optimizer, std::string name)
    : torch::optim::LRScheduler(optimizer),
      name_(std::move(name)),
      optimizer_(optimizer) {
  // Some LibTorch releases leave their counter uninitialised, and step()
  // increments it; its value is never read here (`steps_` counts).
  step_count_ = 0;
  TORCH_CHECK(!optimizer.param_groups().empty(),
              name_,
              ": the optimizer has no param groups");
  for (const auto& group : optimizer.param_groups()) {
    base_lrs_.push_back(group.options().get_lr());
  }
}

void Scheduler::before_step(int64_t /*step*/) {}

std::optional<double> Scheduler::momentum_at(int64_t /*step*/,
                                             std::size_t /*group*/) const {
  return std::nullopt;
}

void Scheduler::set_base_lrs_from_options(std::vector<double> base_lrs) {
  TORCH_INTERNAL_ASSERT(base_lrs.size() == num_groups());
  base_lrs_ = std::move(base_lrs);
  starts_from_optimizer_lr_ = false;
}

void Scheduler::rebase(std::vector<double> base_lrs) {
  TORCH_CHECK(starts_from_optimizer_lr_,
              name_,
              ": its options give the LRs, so it cannot be rebased");
  TORCH_CHECK(base_lrs.size() == num_groups(),
              name_,
              ": rebase needs one LR per param group (",
              num_groups(),
              "), got ",
              base_lrs.size());
  for (const double lr : base_lrs) {
    TORCH_CHECK(std::isfinite(lr) && lr > 0,
                name_,
                ": base LRs must be finite and > 0, got ",
                lr);
  }
  base_lrs_ = std::move(base_lrs);
}

void Scheduler::check_optimizer_lrs() const {
  detail::check_positive(base_lrs_, name_, "the optimizer's lr");
}

void Scheduler::initial_step() {
  TORCH_INTERNAL_ASSERT(steps_ == 0, "initial_step called twice");
  step();
}

void Scheduler::require_momentum() {
  momentum_kinds_.clear();
  for (const auto& group : optimizer_.param_groups()) {
    const auto kind = detail::momentum_kind(group.options());
    TORCH_CHECK(kind != detail::MomentumKind::kNone,
                name_,
                ": cycle_momentum is true but the optimizer has no momentum "
                "(supported: SGD, CaffeSGD, RMSprop, Adam and AdamW); "
                "pass cycle_momentum(false)");
    momentum_kinds_.push_back(kind);
  }
}

void Scheduler::check_param_groups() const {
  const auto count = optimizer_.param_groups().size();
  TORCH_CHECK(count == num_groups(),
              name_,
              ": the optimizer has ",
              count,
              " param groups but the scheduler was built for ",
              num_groups());
}

std::vector<double> Scheduler::get_lrs() {
  check_param_groups();
  auto& groups = optimizer_.param_groups();
  TORCH_CHECK(steps_ < std::numeric_limits<int64_t>::max(),
              name_,
              ": the step count would overflow int64 after step ",
              steps_ - 1);
  const int64_t step = steps_;
  if (!reapplying_) {
    before_step(step);
  }
  // Checked before anything changes: options that grow the LR (a gamma > 1)
  // can take it past the largest double, which the optimizer must not get.
  std::vector<double> lrs(num_groups());
  for (std::size_t i = 0; i < lrs.size(); ++i) {
    lrs[i] = lr_at(step, i);
    TORCH_CHECK(std::isfinite(lrs[i]) && lrs[i] >= 0,
                name_,
                ": the LR of param group ",
                i,
                " at step ",
                step,
                " would be ",
                lrs[i],
                ", expected a finite number >= 0");
  }
  last_lrs_ = std::move(lrs);
  last_momentums_.clear();
  for (std::size_t i = 0; i < momentum_kinds_.size(); ++i) {
    const auto momentum = momentum_at(step, i);
    if (!momentum) {
      last_momentums_.clear();
      break;
    }
    last_momentums_.push_back(*momentum);
  }
  for (std::size_t i = 0; i < last_momentums_.size(); ++i) {
    detail::set_momentum(
        groups[i].options(), momentum_kinds_[i], last_momentums_[i]);
  }
  // LibTorch's step() sets these LRs next and cannot fail once they have one
  // entry per param group, which is checked above.
  ++steps_;
  return last_lrs_;
}

void Scheduler::apply(int64_t epoch) {
  TORCH_INTERNAL_ASSERT(
      epoch >= 0 && epoch < std::numeric_limits<int64_t>::max(),
      "apply: epoch ",
      epoch,
      " out of range");
  steps_ = epoch;
  reapplying_ = true;
  try {
    step();
  } catch (...) {
    reapplying_ = false;
    throw;
  }
  reapplying_ = false;
}

void Scheduler::save(torch::serialize::OutputArchive& archive) const {
  archive.write("torchclr_format_version", c10::IValue(kFormatVersion));
  archive.write("policy", c10::IValue(name_));
  archive.write("num_param_groups", c10::IValue(int64_t(num_groups())));
  archive.write("last_epoch", c10::IValue(last_epoch()));
  archive.write("base_lrs", to_tensor(base_lrs_));
  archive.write("options", c10::IValue(options_text()));
}

void Scheduler::load(torch::serialize::InputArchive& archive) {
  const auto state = read_state(archive);
  restore_base_lrs(state);
  apply(state.last_epoch);
}

void Scheduler::load_step(torch::serialize::InputArchive& archive) {
  apply(read_state(archive, /*check_options=*/false).last_epoch);
}

// Options given at construction stay; the base LRs of a schedule that starts
// from the optimizer's LRs come from the archive (PyTorch's `initial_lr`), as
// the optimizer may have been rebuilt with another LR.
void Scheduler::restore_base_lrs(const SavedState& state) {
  if (starts_from_optimizer_lr_) {
    base_lrs_ = state.base_lrs;
  }
}

Scheduler::SavedState Scheduler::read_state(
    torch::serialize::InputArchive& archive, bool check_options) const {
  c10::IValue value;
  // Reads `key` and checks its type, so a damaged archive is named as such.
  auto read = [&](const char* key, bool is_int) {
    archive.read(key, value);
    TORCH_CHECK(is_int ? value.isInt() : value.isString(),
                name_,
                ": the archive's '",
                key,
                "' is not ",
                is_int ? "an integer" : "a string");
  };
  TORCH_CHECK(archive.try_read("torchclr_format_version", value),
              name_,
              ": the archive holds no torchclr scheduler state");
  TORCH_CHECK(value.isInt() && value.toInt() == kFormatVersion,
              name_,
              ": unsupported scheduler archive format version ",
              value,
              " (expected ",
              kFormatVersion,
              ")");
  read("policy", false);
  TORCH_CHECK(value.toStringRef() == name_,
              name_,
              ": the archive holds the state of a ",
              value.toStringRef(),
              ", not a ",
              name_);
  read("num_param_groups", true);
  TORCH_CHECK(value.toInt() == static_cast<int64_t>(num_groups()),
              name_,
              ": the archive was saved with ",
              value.toInt(),
              " param groups but this scheduler has ",
              num_groups());
  read("options", false);
  TORCH_CHECK(!check_options || value.toStringRef() == options_text(),
              name_,
              ": the archive was saved with other options: saved '",
              value.toStringRef(),
              "', this scheduler has '",
              options_text(),
              "'");
  read("last_epoch", true);
  const int64_t epoch = value.toInt();
  // Resuming applies step `epoch` and counts it, so INT64_MAX is no step.
  TORCH_CHECK(epoch >= 0 && epoch < std::numeric_limits<int64_t>::max(),
              name_,
              ": the archive's last_epoch ",
              epoch,
              " is out of range, expected [0, ",
              std::numeric_limits<int64_t>::max() - 1,
              "]");
  torch::Tensor base;
  archive.read("base_lrs", base);
  auto base_lrs = to_vector(base);
  TORCH_CHECK(base_lrs.size() == num_groups(),
              name_,
              ": the archive's base_lrs has ",
              base_lrs.size(),
              " entries, expected ",
              num_groups());
  for (const double lr : base_lrs) {
    TORCH_CHECK(std::isfinite(lr) && lr > 0,
                name_,
                ": the archive's base_lrs holds ",
                lr,
                ", expected finite values > 0");
  }
  SavedState state;
  state.last_epoch = epoch;
  state.base_lrs = std::move(base_lrs);
  return state;
}

torch::serialize::OutputArchive& operator<<(
    torch::serialize::OutputArchive& archive, const Scheduler& scheduler) {
  scheduler.save(archive);
  return archive;
}

torch::serialize::InputArchive& operator>>(
    torch::serialize::InputArchive& archive, Scheduler& scheduler) {
  scheduler.load(archive);
  return archive;
}

}  // namespace torchclr
