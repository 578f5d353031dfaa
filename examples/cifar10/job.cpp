#include "job.h"

#include <fmt/format.h>

#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "cli_checks.h"

namespace torchclr::examples {
namespace {

// A job number: the flag's when set, else the environment variable's; nullopt
// when neither is set.
std::optional<int64_t> job_number(const std::optional<int64_t>& flag,
                                  const char* variable,
                                  const char* flag_name) {
  if (flag) {
    return flag;
  }
  const char* text = std::getenv(variable);
  if (text == nullptr || *text == '\0') {
    return std::nullopt;
  }
  int64_t value = 0;
  const char* end = text + std::strlen(text);
  const auto [parsed_end, error] = std::from_chars(text, end, value);
  TORCH_CHECK(error == std::errc() && parsed_end == end,
              variable,
              " must be an integer, got '",
              text,
              "' (from the environment; ",
              flag_name,
              " overrides it)");
  return value;
}

// The "key=value" fields of two "key=value;..." texts that differ, as
// "has A, rank 0 has B" (whole texts when the keys differ).
[[maybe_unused]] std::string differences(const std::string& own,
                                         const std::string& root) {
  auto fields = [](const std::string& text) {
    std::vector<std::string> parts;
    std::string::size_type begin = 0;
    while (begin <= text.size()) {
      const auto end = std::min(text.find(';', begin), text.size());
      parts.push_back(text.substr(begin, end - begin));
      begin = end + 1;
    }
    return parts;
  };
  const auto own_fields = fields(own);
  const auto root_fields = fields(root);
  std::vector<std::string> mine, theirs;
  for (size_t i = 0; i < own_fields.size(); ++i) {
    const auto key = own_fields[i].substr(0, own_fields[i].find('='));
    if (own_fields.size() != root_fields.size() ||
        key != root_fields[i].substr(0, root_fields[i].find('='))) {
      return fmt::format("has '{}', rank 0 has '{}'", own, root);
    }
    if (own_fields[i] != root_fields[i]) {
      mine.push_back(own_fields[i]);
      theirs.push_back(root_fields[i]);
    }
  }
  return fmt::format(
      "has {}, rank 0 has {}", fmt::join(mine, ";"), fmt::join(theirs, ";"));
}

}  // namespace

#ifdef TORCHCLR_DISTRIBUTED
struct Job::Group {
  torchclr::ProcessGroup process_group;
};
#else
struct Job::Group {};
#endif

void add_job_flags(CLI::App& app, JobFlags& flags) {
  app.add_option("--rank",
                 flags.rank,
                 "This process's rank in [0, world size) (default: $RANK)")
      ->check(non_negative_number());
  app.add_option("--world-size",
                 flags.world_size,
                 "Processes in the job; --batch-size is split over them "
                 "(default: $WORLD_SIZE, else 1)")
      ->check(positive_number());
  app.add_option("--master-addr",
                 flags.master_addr,
                 "Address of rank 0 (default: $MASTER_ADDR, else 127.0.0.1)");
  app.add_option("--master-port",
                 flags.master_port,
                 "Port rank 0 listens on (default: $MASTER_PORT, else 29500)")
      ->check(CLI::Range(int64_t{1}, int64_t{65535}));
  app.add_option(
         "--dist-timeout",
         flags.timeout_seconds,
         "Seconds to wait for the other ranks, at the start and in "
         "every collective; a rank that hangs is reported after it, one "
         "that dies at once")
      ->check(finite_number())
      ->check(CLI::Range(0.1, 1e6))
      ->capture_default_str();
}

Job join_job(const JobFlags& flags, int64_t global_batch_size) {
  const int64_t world_size =
      job_number(flags.world_size, "WORLD_SIZE", "--world-size").value_or(1);
  TORCH_CHECK(world_size >= 1, "WORLD_SIZE must be >= 1, got ", world_size);
  const auto rank = job_number(flags.rank, "RANK", "--rank");
  if (world_size == 1) {
    TORCH_CHECK(!rank || *rank == 0,
                "RANK must be 0 in a job of WORLD_SIZE 1, got ",
                *rank);
    return Job();
  }
  TORCH_CHECK(global_batch_size % world_size == 0,
              "--batch-size ",
              global_batch_size,
              " is the global batch, split evenly over the processes: it "
              "must be a multiple of WORLD_SIZE ",
              world_size);
#ifdef TORCHCLR_DISTRIBUTED
  torchclr::ProcessGroupOptions options;
  options.world_size(world_size)
      .rank(flags.rank)
      .master_addr(flags.master_addr)
      .master_port(flags.master_port)
      .timeout(std::chrono::milliseconds(
          std::llround(flags.timeout_seconds * 1000)));
  return Job(
      std::make_shared<Job::Group>(Job::Group{make_process_group(options)}));
#else
  TORCH_CHECK(false,
              "WORLD_SIZE is ",
              world_size,
              ", but this cifar10_clr was built without data-parallel "
              "support (CMake found no Gloo, so TORCHCLR_DISTRIBUTED is OFF; "
              "install libgloo-dev and rebuild)");
#endif
}

#ifdef TORCHCLR_DISTRIBUTED

int64_t Job::rank() const {
  return group_ ? group_->process_group.rank() : 0;
}

int64_t Job::size() const {
  return group_ ? group_->process_group.size() : 1;
}

torchclr::TrainStep Job::train_step(std::shared_ptr<torch::nn::Module> module,
                                    torchclr::TrainStep inner) const {
  if (!group_) {
    return inner;
  }
  return torchclr::distributed_train_step(
      group_->process_group, std::move(module), std::move(inner));
}

void Job::check_same(const std::string& what, const std::string& value) const {
  if (!group_) {
    return;
  }
  auto& group = group_->process_group;
  // Rank 0's text travels whole, so that the message can show both.
  std::vector<torch::Tensor> length{
      torch::tensor({static_cast<int64_t>(value.size())}, torch::kLong)};
  group.broadcast(length, 0);
  std::vector<torch::Tensor> text{
      torch::zeros({length[0].item<int64_t>()}, torch::kUInt8)};
  if (is_main()) {
    std::memcpy(text[0].data_ptr(), value.data(), value.size());
  }
  group.broadcast(text, 0);
  const std::string root_value(static_cast<const char*>(text[0].data_ptr()),
                               static_cast<size_t>(text[0].numel()));
  // One slot per rank: every rank learns which ones differ.
  std::vector<torch::Tensor> differs{torch::zeros({size()}, torch::kLong)};
  differs[0][rank()] = static_cast<int64_t>(root_value != value);
  group.all_reduce_sum(differs);
  std::vector<int64_t> differing;
  for (int64_t r = 0; r < size(); ++r) {
    if (differs[0][r].item<int64_t>() != 0) {
      differing.push_back(r);
    }
  }
  if (differing.empty()) {
    return;
  }
  // A rank that agrees names the others; one that differs says how.
  TORCH_CHECK(root_value != value,
              what,
              ": rank(s) ",
              fmt::format("{}", fmt::join(differing, ", ")),
              " differ from rank 0 (every rank needs the same)");
  TORCH_CHECK(
      false, what, ": rank ", rank(), " ", differences(value, root_value));
}

void Job::check_same_parameters(torch::nn::Module& module) const {
  if (group_) {
    torchclr::check_same_parameters(group_->process_group, module);
  }
}

void Job::barrier() const {
  if (group_) {
    group_->process_group.barrier();
  }
}

#else  // one process only: every collective is a no-op

int64_t Job::rank() const {
  return 0;
}

int64_t Job::size() const {
  return 1;
}

torchclr::TrainStep Job::train_step(std::shared_ptr<torch::nn::Module>,
                                    torchclr::TrainStep inner) const {
  return inner;
}

void Job::check_same(const std::string&, const std::string&) const {}

void Job::check_same_parameters(torch::nn::Module&) const {}

void Job::barrier() const {}

#endif

torchclr::Batch Job::share_of(const torchclr::Batch& global) const {
  if (size() == 1) {
    return global;
  }
  const int64_t rows = global.input.size(0);
  TORCH_CHECK(rows % size() == 0,
              "a batch of ",
              rows,
              " images cannot be split evenly over WORLD_SIZE ",
              size());
  const int64_t share = rows / size();
  return {global.input.narrow(0, rank() * share, share),
          global.target.narrow(0, rank() * share, share)};
}

torchclr::Batch ShareBatches::batch_at(int64_t iteration) {
  return job_.share_of(global_.batch_at(iteration));
}

std::optional<torchclr::Batch> ShareBatches::next() {
  auto global = global_.next();
  if (!global) {
    return std::nullopt;
  }
  return job_.share_of(*global);
}

}  // namespace torchclr::examples
