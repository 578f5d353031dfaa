#include <torch/serialize.h>
#include <torch/types.h>
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
                                         const char* owner,
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

Scheduler::Scheduler(torch::optim::Optimizer& optimizer, const char* owner)
    : torch::optim::LRScheduler(optimizer), optimizer_(optimizer) {
  step_count_ = 0;
  TORCH_CHECK(!optimizer.param_groups().empty(),
              owner,
              ": the optimizer has no param groups");
  for (const auto& group : optimizer.param_groups()) {
    base_lrs_.push_back(group.options().get_lr());
  }
}

void Scheduler::initial_step() {
  TORCH_INTERNAL_ASSERT(step_count_ == 0, "initial_step called twice");
  step();
}

void Scheduler::require_momentum(const char* owner) {
  momentum_kinds_.clear();
  for (const auto& group : optimizer_.param_groups()) {
    const auto kind = detail::momentum_kind(group.options());
    TORCH_CHECK(kind != detail::MomentumKind::kNone,
                owner,
                ": cycle_momentum is true but the optimizer has no momentum "
                "(supported: SGD, RMSprop, Adam and AdamW); "
                "pass cycle_momentum(false)");
    momentum_kinds_.push_back(kind);
  }
}

void Scheduler::set_momentums(const std::vector<double>& momentums) {
  auto& groups = optimizer_.param_groups();
  TORCH_INTERNAL_ASSERT(momentums.size() == momentum_kinds_.size());
  for (std::size_t i = 0; i < momentums.size(); ++i) {
    detail::set_momentum(groups[i].options(), momentum_kinds_[i], momentums[i]);
  }
}

std::vector<double> Scheduler::get_lrs() {
  TORCH_CHECK(optimizer_.param_groups().size() == num_groups(),
              name(),
              ": the optimizer has ",
              optimizer_.param_groups().size(),
              " param groups but the scheduler was built for ",
              num_groups());
  std::vector<double> lrs(num_groups());
  compute(static_cast<int64_t>(step_count_), lrs, last_momentums_);
  if (!last_momentums_.empty()) {
    set_momentums(last_momentums_);
  }
  last_lrs_ = lrs;
  return lrs;
}

void Scheduler::apply(int64_t epoch) {
  step_count_ = static_cast<unsigned>(epoch);
  step();
}

void Scheduler::save(torch::serialize::OutputArchive& archive) const {
  archive.write("torchclr_format_version", c10::IValue(kFormatVersion));
  archive.write("policy", c10::IValue(std::string(name())));
  archive.write("num_param_groups", c10::IValue(int64_t(num_groups())));
  archive.write("last_epoch", c10::IValue(last_epoch()));
  archive.write("base_lrs", to_tensor(base_lrs_));
  archive.write("options", c10::IValue(options_text()));
}

void Scheduler::load(torch::serialize::InputArchive& archive) {
  const auto state = read_state(archive);
  restore(state);
  apply(state.last_epoch);
}

// Options given at construction stay; the base LRs of a schedule that starts
// from the optimizer's LRs come from the archive (PyTorch's `initial_lr`), as
// the optimizer may have been rebuilt with another LR.
void Scheduler::restore(const SavedState& state) {
  if (starts_from_optimizer_lr()) {
    base_lrs_ = state.base_lrs;
  }
}

Scheduler::SavedState Scheduler::read_state(
    torch::serialize::InputArchive& archive) const {
  c10::IValue value;
  // Reads `key` and checks its type, so a damaged archive is named as such.
  auto read = [&](const char* key, bool is_int) {
    archive.read(key, value);
    TORCH_CHECK(is_int ? value.isInt() : value.isString(),
                name(),
                ": the archive's '",
                key,
                "' is not ",
                is_int ? "an integer" : "a string");
  };
  TORCH_CHECK(archive.try_read("torchclr_format_version", value),
              name(),
              ": the archive holds no torchclr scheduler state");
  TORCH_CHECK(value.isInt() && value.toInt() == kFormatVersion,
              name(),
              ": unsupported scheduler archive format version ",
              value,
              " (expected ",
              kFormatVersion,
              ")");
  read("policy", false);
  TORCH_CHECK(value.toStringRef() == name(),
              name(),
              ": the archive holds the state of a ",
              value.toStringRef(),
              ", not a ",
              name());
  read("num_param_groups", true);
  TORCH_CHECK(value.toInt() == static_cast<int64_t>(num_groups()),
              name(),
              ": the archive was saved with ",
              value.toInt(),
              " param groups but this scheduler has ",
              num_groups());
  read("options", false);
  TORCH_CHECK(value.toStringRef() == options_text(),
              name(),
              ": the archive was saved with other options: saved '",
              value.toStringRef(),
              "', this scheduler has '",
              options_text(),
              "'");
  read("last_epoch", true);
  const int64_t epoch = value.toInt();
  // step() counts in LibTorch's `unsigned step_count_`.
  TORCH_CHECK(epoch >= 0 && epoch < std::numeric_limits<unsigned>::max(),
              name(),
              ": the archive's last_epoch ",
              epoch,
              " is out of range");
  torch::Tensor base;
  archive.read("base_lrs", base);
  auto base_lrs = to_vector(base);
  TORCH_CHECK(base_lrs.size() == num_groups(),
              name(),
              ": the archive's base_lrs has ",
              base_lrs.size(),
              " entries, expected ",
              num_groups());
  for (const double lr : base_lrs) {
    TORCH_CHECK(std::isfinite(lr) && lr > 0,
                name(),
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
