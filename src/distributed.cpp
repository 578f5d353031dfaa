#include <torch/torch.h>
#include <torchclr/distributed.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <map>
#include <sstream>
#include <tuple>
#include <utility>

namespace torchclr {
namespace {

using Clock = std::chrono::steady_clock;

// Store keys of torchclr's own rendezvous and roll calls; Gloo's keys live
// under their own prefix so the two never meet.
const std::string kRankKey = "torchclr/rank/";
const std::string kWorldSizeKey = "torchclr/world_size";
const std::string kAliveKey = "torchclr/alive/";
const std::string kGlooPrefix = "torchclr/gloo";

// c10::Error's text without LibTorch's backtrace, other exceptions' what().
std::string message_of(const std::exception& error) {
  std::string text;
  if (const auto* c10_error = dynamic_cast<const c10::Error*>(&error)) {
    text = c10_error->what_without_backtrace();
  } else {
    text = error.what();
  }
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) {
    text.pop_back();
  }
  return text;
}

std::optional<std::string> environment(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr) {
    return std::nullopt;
  }
  return std::string(value);
}

// A decimal integer and nothing else, or nullopt.
std::optional<int64_t> parse_integer(const std::string& text) {
  if (text.empty() || std::isspace(static_cast<unsigned char>(text[0]))) {
    return std::nullopt;
  }
  errno = 0;
  char* end = nullptr;
  const long long value = std::strtoll(text.c_str(), &end, 10);
  if (errno != 0 || end != text.c_str() + text.size()) {
    return std::nullopt;
  }
  return static_cast<int64_t>(value);
}

// An integer setting: the option when set, else the environment variable,
// else `fallback`; `what` names where a bad value came from.
struct IntegerSetting {
  std::optional<int64_t> value;
  std::string text;    // as given, for messages
  std::string source;  // "ProcessGroupOptions::rank" or "the environment"
};

IntegerSetting integer_setting(const std::optional<int64_t>& option,
                               const char* option_name,
                               const char* variable) {
  if (option) {
    return {option,
            std::to_string(*option),
            std::string("ProcessGroupOptions::") + option_name};
  }
  if (auto text = environment(variable)) {
    auto value = parse_integer(*text);
    TORCH_CHECK(value,
                "make_process_group: ",
                variable,
                " must be an integer, got '",
                *text,
                "' (from the environment)");
    return {value, *text, "the environment"};
  }
  return {std::nullopt, "", ""};
}

bool is_loopback(const std::string& address) {
  return address == "localhost" || address.rfind("127.", 0) == 0 ||
         address == "::1";
}

struct Rendezvous {
  int64_t rank = 0;
  int64_t world_size = 1;
  std::string master_addr;
  uint16_t master_port = 0;
  std::string interface;
  // A launcher hosts the store, rank 0 only joins it; keys go under
  // `store_prefix`, one per launch attempt.
  bool agent_store = false;
  std::string store_prefix;
};

Rendezvous resolve(const ProcessGroupOptions& options) {
  Rendezvous result;
  TORCH_CHECK(options.timeout().count() > 0,
              "make_process_group: timeout must be > 0 ms, got ",
              options.timeout().count());
  TORCH_CHECK(options.gloo_threads() >= 1,
              "make_process_group: gloo_threads must be >= 1, got ",
              options.gloo_threads());

  const auto world_size =
      integer_setting(options.world_size(), "world_size", "WORLD_SIZE");
  result.world_size = world_size.value.value_or(1);
  TORCH_CHECK(result.world_size >= 1,
              "make_process_group: WORLD_SIZE must be >= 1, got ",
              world_size.text,
              " (from ",
              world_size.source,
              ")");

  const auto rank = integer_setting(options.rank(), "rank", "RANK");
  TORCH_CHECK(rank.value || result.world_size == 1,
              "make_process_group: RANK is not set (WORLD_SIZE is ",
              result.world_size,
              "); set the RANK environment variable or "
              "ProcessGroupOptions::rank");
  result.rank = rank.value.value_or(0);
  TORCH_CHECK(result.rank >= 0 && result.rank < result.world_size,
              "make_process_group: RANK must be in [0, WORLD_SIZE) = [0, ",
              result.world_size,
              "), got ",
              rank.text,
              " (from ",
              rank.source,
              ")");

  const auto port =
      integer_setting(options.master_port(), "master_port", "MASTER_PORT");
  const int64_t port_value = port.value.value_or(29500);
  TORCH_CHECK(port_value >= 1 && port_value <= 65535,
              "make_process_group: MASTER_PORT must be in [1, 65535], got ",
              port.text,
              " (from ",
              port.source,
              ")");
  result.master_port = static_cast<uint16_t>(port_value);

  result.master_addr = options.master_addr()
                           ? *options.master_addr()
                           : environment("MASTER_ADDR").value_or("127.0.0.1");
  TORCH_CHECK(!result.master_addr.empty(),
              "make_process_group: MASTER_ADDR must not be empty");
  result.interface = options.interface()
                         ? *options.interface()
                         : environment("GLOO_SOCKET_IFNAME").value_or("");
  result.agent_store =
      options.use_agent_store()
          ? *options.use_agent_store()
          : environment("TORCHELASTIC_USE_AGENT_STORE") == std::string("True");
  // PyTorch's env:// rendezvous uses this prefix on an agent's store.
  result.store_prefix = "/worker/attempt_" +
                        environment("TORCHELASTIC_RESTART_COUNT").value_or("0");
  return result;
}

std::string rank_list(const std::vector<int64_t>& ranks) {
  std::ostringstream text;
  text << (ranks.size() == 1 ? "rank " : "ranks ");
  for (std::size_t i = 0; i < ranks.size(); ++i) {
    text << (i == 0 ? "" : ", ") << ranks[i];
  }
  return text.str();
}

// Ranks whose `prefix + rank` key is not in the store.
std::vector<int64_t> missing_ranks(::c10d::Store& store,
                                   const std::string& prefix,
                                   int64_t world_size) {
  std::vector<int64_t> missing;
  for (int64_t rank = 0; rank < world_size; ++rank) {
    if (!store.check({prefix + std::to_string(rank)})) {
      missing.push_back(rank);
    }
  }
  return missing;
}

std::vector<std::string> rank_keys(const std::string& prefix,
                                   int64_t world_size) {
  std::vector<std::string> keys;
  for (int64_t rank = 0; rank < world_size; ++rank) {
    keys.push_back(prefix + std::to_string(rank));
  }
  return keys;
}

std::vector<uint8_t> bytes_of(const std::string& text) {
  return std::vector<uint8_t>(text.begin(), text.end());
}

// Every rank checks in under its rank; one process per rank, one world size.
void check_in(::c10d::Store& store,
              const Rendezvous& job,
              std::chrono::milliseconds timeout) {
  const std::string world_size = std::to_string(job.world_size);
  if (job.rank == 0) {
    store.set(kWorldSizeKey, bytes_of(world_size));
  }
  const int64_t claims = store.add(kRankKey + std::to_string(job.rank), 1);
  TORCH_CHECK(claims == 1,
              "make_process_group: another process already joined as RANK ",
              job.rank,
              " at ",
              job.master_addr,
              ":",
              job.master_port,
              "; each process needs its own RANK");
  try {
    store.wait(rank_keys(kRankKey, job.world_size), timeout);
  } catch (const std::exception& error) {
    const auto missing = missing_ranks(store, kRankKey, job.world_size);
    TORCH_CHECK(!missing.empty(),
                "make_process_group: waiting for the other ranks failed: ",
                message_of(error));
    TORCH_CHECK(false,
                "make_process_group: ",
                rank_list(missing),
                " of WORLD_SIZE ",
                job.world_size,
                " did not arrive at ",
                job.master_addr,
                ":",
                job.master_port,
                " within the timeout of ",
                timeout.count(),
                " ms (not started, crashed, or given another MASTER_ADDR, "
                "MASTER_PORT or WORLD_SIZE)");
  }
  const auto agreed = store.get(kWorldSizeKey);
  TORCH_CHECK(agreed == bytes_of(world_size),
              "make_process_group: this process has WORLD_SIZE ",
              job.world_size,
              " but rank 0 has ",
              std::string(agreed.begin(), agreed.end()));
}

// ---- buckets ---------------------------------------------------------------

// Consecutive tensors of one dtype and device, at most `cap_bytes` together
// unless one tensor alone is larger. Same inputs on every rank give the same
// buckets, which all-reduces and broadcasts rely on.
std::vector<std::vector<std::size_t>> make_buckets(
    const std::vector<torch::Tensor>& tensors, int64_t cap_bytes) {
  std::vector<std::vector<std::size_t>> buckets;
  std::vector<int64_t> bucket_bytes;
  std::map<std::tuple<int, std::string>, std::size_t> open;
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    const auto& tensor = tensors[i];
    const int64_t bytes = tensor.numel() * tensor.element_size();
    const auto key = std::make_tuple(static_cast<int>(tensor.scalar_type()),
                                     tensor.device().str());
    auto found = open.find(key);
    if (found == open.end() ||
        bucket_bytes[found->second] + bytes > cap_bytes) {
      buckets.emplace_back();
      bucket_bytes.push_back(0);
      found = open.insert_or_assign(key, buckets.size() - 1).first;
    }
    buckets[found->second].push_back(i);
    bucket_bytes[found->second] += bytes;
  }
  return buckets;
}

torch::Tensor flatten(const std::vector<torch::Tensor>& tensors,
                      const std::vector<std::size_t>& bucket) {
  std::vector<torch::Tensor> pieces;
  pieces.reserve(bucket.size());
  for (const std::size_t index : bucket) {
    pieces.push_back(tensors[index].reshape({-1}));
  }
  return torch::cat(pieces);
}

void unflatten_into(const torch::Tensor& flat,
                    std::vector<torch::Tensor>& tensors,
                    const std::vector<std::size_t>& bucket) {
  int64_t offset = 0;
  for (const std::size_t index : bucket) {
    auto& tensor = tensors[index];
    const int64_t numel = tensor.numel();
    tensor.copy_(flat.narrow(0, offset, numel).view_as(tensor));
    offset += numel;
  }
}

int64_t cap_bytes_of(double bucket_cap_mb, const char* who) {
  TORCH_CHECK(std::isfinite(bucket_cap_mb) && bucket_cap_mb > 0,
              who,
              ": bucket_cap_mb must be > 0 and finite, got ",
              bucket_cap_mb);
  return std::max<int64_t>(
      1, static_cast<int64_t>(bucket_cap_mb * 1024.0 * 1024.0));
}

// Replaces each tensor by its mean over the ranks, in place.
GradientAveragingStats average_in_place(ProcessGroup& group,
                                        std::vector<torch::Tensor>& tensors,
                                        int64_t cap_bytes) {
  torch::NoGradGuard no_grad;
  GradientAveragingStats stats;
  const auto buckets = make_buckets(tensors, cap_bytes);
  std::vector<torch::Tensor> flats;
  flats.reserve(buckets.size());
  for (const auto& bucket : buckets) {
    flats.push_back(flatten(tensors, bucket));
    stats.bytes += flats.back().numel() * flats.back().element_size();
  }
  stats.buckets = static_cast<int64_t>(flats.size());
  group.all_reduce_sum(flats);
  for (std::size_t i = 0; i < buckets.size(); ++i) {
    flats[i].div_(group.size());
    unflatten_into(flats[i], tensors, buckets[i]);
  }
  return stats;
}

// The gradients `average_gradients` averages, made zeros where missing.
std::vector<torch::Tensor> gradients_of(
    const std::vector<torch::Tensor>& parameters, const char* who) {
  std::vector<torch::Tensor> gradients;
  gradients.reserve(parameters.size());
  for (const auto& parameter : parameters) {
    if (!parameter.requires_grad()) {
      continue;
    }
    if (!parameter.grad().defined()) {
      parameter.mutable_grad() = torch::zeros_like(parameter);
    }
    TORCH_CHECK(!parameter.grad().is_sparse(),
                who,
                ": sparse gradients are not supported");
    gradients.push_back(parameter.grad());
  }
  return gradients;
}

struct NamedTensors {
  std::vector<std::string> names;
  std::vector<torch::Tensor> tensors;
};

NamedTensors parameters_and_buffers(torch::nn::Module& module) {
  NamedTensors result;
  for (const auto& item : module.named_parameters(/*recurse=*/true)) {
    result.names.push_back(item.key());
    result.tensors.push_back(item.value());
  }
  for (const auto& item : module.named_buffers(/*recurse=*/true)) {
    result.names.push_back(item.key());
    result.tensors.push_back(item.value());
  }
  return result;
}

// Rank `root`'s values into `tensors`, bucketed.
void broadcast_tensors(ProcessGroup& group,
                       std::vector<torch::Tensor>& tensors,
                       int64_t root) {
  torch::NoGradGuard no_grad;
  const auto buckets = make_buckets(tensors, cap_bytes_of(25, "broadcast"));
  std::vector<torch::Tensor> flats;
  for (const auto& bucket : buckets) {
    flats.push_back(flatten(tensors, bucket));
  }
  group.broadcast(flats, root);
  for (std::size_t i = 0; i < buckets.size(); ++i) {
    unflatten_into(flats[i], tensors, buckets[i]);
  }
}

// FNV-1a over names, dtypes and shapes: equal on ranks with equal modules.
int64_t structure_fingerprint(const NamedTensors& named) {
  uint64_t hash = 14695981039346656037ull;
  const auto mix = [&hash](const std::string& text) {
    for (const char c : text) {
      hash ^= static_cast<unsigned char>(c);
      hash *= 1099511628211ull;
    }
    hash ^= 0xff;
    hash *= 1099511628211ull;
  };
  for (std::size_t i = 0; i < named.tensors.size(); ++i) {
    std::ostringstream shape;
    shape << named.tensors[i].sizes()
          << c10::toString(named.tensors[i].scalar_type());
    mix(named.names[i]);
    mix(shape.str());
  }
  int64_t result = 0;
  std::memcpy(&result, &hash, sizeof(result));
  return result;
}

bool same_bits(const torch::Tensor& a, const torch::Tensor& b) {
  if (a.is_floating_point()) {
    return ((a == b) | (a.isnan() & b.isnan())).all().item<bool>();
  }
  return torch::equal(a, b);
}

// A peer that exits closes its sockets, and the next write to one raises
// SIGPIPE, whose default action ends this process without a word (exit 141)
// instead of the error that names the peer. Python ignores SIGPIPE at
// start-up, so PyTorch's users never meet this; do the same, unless the
// program chose its own handling.
void ignore_sigpipe_unless_handled() {
  struct sigaction current {};
  if (::sigaction(SIGPIPE, nullptr, &current) == 0 &&
      (current.sa_flags & SA_SIGINFO) == 0 && current.sa_handler == SIG_DFL) {
    std::signal(SIGPIPE, SIG_IGN);
  }
}

}  // namespace

// ---- ProcessGroup ----------------------------------------------------------

ProcessGroup::ProcessGroup(c10::intrusive_ptr<detail::C10dGroup> group,
                           std::chrono::milliseconds timeout,
                           c10::intrusive_ptr<::c10d::Store> store)
    : group_(std::move(group)),
      timeout_(timeout),
      store_(std::move(store)),
      sequence_(std::make_shared<std::atomic<int64_t>>(0)) {
  TORCH_CHECK(group_, "ProcessGroup: the c10d group is null");
  TORCH_CHECK(timeout_.count() > 0,
              "ProcessGroup: timeout must be > 0 ms, got ",
              timeout_.count());
}

int64_t ProcessGroup::rank() const {
  return group_->getRank();
}

int64_t ProcessGroup::size() const {
  return group_->getSize();
}

int64_t ProcessGroup::next_sequence() {
  return sequence_->fetch_add(1) + 1;
}

void ProcessGroup::all_reduce_sum(std::vector<torch::Tensor>& tensors) {
  const Collective collective{"all_reduce", next_sequence(), Clock::now()};
  std::vector<c10::intrusive_ptr<::c10d::Work>> works;
  works.reserve(tensors.size());
  try {
    for (auto& tensor : tensors) {
      std::vector<at::Tensor> one{tensor};
      works.push_back(group_->allreduce(one));
    }
  } catch (const std::exception& error) {
    report_failure(collective, message_of(error));
  }
  wait_all(works, collective);
}

void ProcessGroup::broadcast(std::vector<torch::Tensor>& tensors,
                             int64_t root) {
  TORCH_CHECK(root >= 0 && root < size(),
              "ProcessGroup::broadcast: root must be in [0, ",
              size(),
              "), got ",
              root);
  const Collective collective{"broadcast", next_sequence(), Clock::now()};
  std::vector<c10::intrusive_ptr<::c10d::Work>> works;
  ::c10d::BroadcastOptions options;
  options.rootRank = root;
  try {
    for (auto& tensor : tensors) {
      std::vector<at::Tensor> one{tensor};
      works.push_back(group_->broadcast(one, options));
    }
  } catch (const std::exception& error) {
    report_failure(collective, message_of(error));
  }
  wait_all(works, collective);
}

void ProcessGroup::barrier() {
  const Collective collective{"barrier", next_sequence(), Clock::now()};
  std::vector<c10::intrusive_ptr<::c10d::Work>> works;
  try {
    works.push_back(group_->barrier());
  } catch (const std::exception& error) {
    report_failure(collective, message_of(error));
  }
  wait_all(works, collective);
}

void ProcessGroup::wait_all(
    std::vector<c10::intrusive_ptr<::c10d::Work>>& works,
    const Collective& collective) {
  for (auto& work : works) {
    try {
      work->wait();
    } catch (const std::exception& error) {
      report_failure(collective, message_of(error));
    }
  }
}

void ProcessGroup::report_failure(const Collective& collective,
                                  const std::string& cause) {
  std::string ranks_text = "the cause is not known (no store to ask)";
  if (size() > 1) {
    // Answer the roll call of the ranks that fail in this collective too,
    // first: they meet under its sequence number.
    const std::string prefix =
        kAliveKey + std::to_string(collective.sequence) + "/";
    std::optional<std::string> store_error;
    if (store_) {
      try {
        store_->set(prefix + std::to_string(rank()), std::vector<uint8_t>{1});
      } catch (const std::exception& error) {
        store_error = message_of(error);
      }
    }
    // A rank whose process ended closed its connections at once: Gloo knows
    // which, and waiting for it would gain nothing. A live rank that gave up
    // on this collective after its timeout closes its connections too; it
    // answers the roll call, and late in a collective the roll call decides.
    const auto answered = [&](int64_t peer) {
      try {
        return store_ && !store_error &&
               store_->check({prefix + std::to_string(peer)});
      } catch (const std::exception&) {
        return false;
      }
    };
    std::vector<int64_t> ended;
    const bool late = Clock::now() - collective.started >= timeout_ / 2;
    if (!late) {
      for (const int64_t peer : detail::gloo_closed_connections(*group_)) {
        if (!answered(peer)) {
          ended.push_back(peer);
        }
      }
    }
    if (!ended.empty()) {
      ranks_text = "the connection to " + rank_list(ended) +
                   " closed (exited or crashed)";
    } else if (store_error) {
      ranks_text =
          "the rendezvous store is unreachable (its host, rank 0 or the "
          "launcher, exited or crashed): " +
          *store_error;
    } else if (store_) {
      ranks_text = roll_call(prefix, collective.started);
    }
  }
  TORCH_CHECK(false,
              "ProcessGroup: ",
              collective.what,
              " (collective ",
              collective.sequence,
              ") failed on rank ",
              rank(),
              " of ",
              size(),
              ": ",
              ranks_text,
              ". c10d: ",
              cause);
}

std::string ProcessGroup::roll_call(const std::string& prefix,
                                    Clock::time_point started) {
  // The ranks that do not answer within what is left of the timeout are the
  // ones that hang (or died on a machine that no longer answers). Two
  // seconds at least let a rank that failed later still answer.
  try {
    const auto deadline =
        std::max(started + timeout_, Clock::now() + std::chrono::seconds(2));
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - Clock::now());
    try {
      store_->wait(rank_keys(prefix, size()), left);
    } catch (const std::exception&) {
      // Who is missing is found below.
    }
    const auto missing = missing_ranks(*store_, prefix, size());
    if (missing.empty()) {
      return "every rank still answers through the store";
    }
    return rank_list(missing) + " did not answer within the timeout of " +
           std::to_string(timeout_.count()) + " ms (exited, crashed or hangs)";
  } catch (const std::exception& error) {
    return "the rendezvous store is unreachable (its host, rank 0 or the "
           "launcher, exited or crashed): " +
           message_of(error);
  }
}

// ---- functions -------------------------------------------------------------

ProcessGroup make_process_group(const ProcessGroupOptions& options) {
  const Rendezvous job = resolve(options);
  const auto timeout = options.timeout();
  if (job.world_size == 1) {
    auto store = detail::make_hash_store();
    auto group = detail::make_gloo_group(
        store, 0, 1, timeout, job.interface, "127.0.0.1", 1);
    return ProcessGroup(std::move(group), timeout, std::move(store));
  }

  ignore_sigpipe_unless_handled();
  const bool host_store = job.rank == 0 && !job.agent_store;
  c10::intrusive_ptr<::c10d::Store> store;
  try {
    store = detail::make_tcp_store(
        job.master_addr, job.master_port, host_store, job.world_size, timeout);
  } catch (const std::exception& error) {
    TORCH_CHECK(!host_store,
                "make_process_group: rank 0 could not host the rendezvous "
                "store on port ",
                job.master_port,
                " (MASTER_PORT; is it in use by another job?): ",
                message_of(error));
    TORCH_CHECK(false,
                "make_process_group: rank ",
                job.rank,
                " could not reach ",
                job.agent_store ? "the launcher's" : "rank 0's",
                " store at ",
                job.master_addr,
                ":",
                job.master_port,
                " within the timeout of ",
                timeout.count(),
                " ms (is ",
                job.agent_store ? "the launcher" : "rank 0",
                " running, and are MASTER_ADDR and MASTER_PORT right?): ",
                message_of(error));
  }
  if (job.agent_store) {
    store = detail::make_prefix_store(job.store_prefix, std::move(store));
  }
  check_in(*store, job, timeout);

  c10::intrusive_ptr<detail::C10dGroup> group;
  try {
    group =
        detail::make_gloo_group(detail::make_prefix_store(kGlooPrefix, store),
                                static_cast<int>(job.rank),
                                static_cast<int>(job.world_size),
                                timeout,
                                job.interface,
                                is_loopback(job.master_addr) ? "127.0.0.1" : "",
                                static_cast<int>(options.gloo_threads()));
  } catch (const std::exception& error) {
    TORCH_CHECK(false,
                "make_process_group: Gloo could not connect rank ",
                job.rank,
                " to the other ranks within the timeout of ",
                timeout.count(),
                " ms (set GLOO_SOCKET_IFNAME or "
                "ProcessGroupOptions::interface to the network between "
                "the machines): ",
                message_of(error));
  }
  return ProcessGroup(std::move(group), timeout, std::move(store));
}

GradientAveragingStats average_gradients(
    ProcessGroup& group,
    const std::vector<torch::Tensor>& parameters,
    const GradientAveragingOptions& options) {
  const int64_t cap_bytes =
      cap_bytes_of(options.bucket_cap_mb(), "average_gradients");
  if (group.size() == 1) {
    return {};
  }
  auto gradients = gradients_of(parameters, "average_gradients");
  return average_in_place(group, gradients, cap_bytes);
}

void broadcast_parameters(ProcessGroup& group,
                          torch::nn::Module& module,
                          int64_t root) {
  TORCH_CHECK(root >= 0 && root < group.size(),
              "broadcast_parameters: root must be in [0, ",
              group.size(),
              "), got ",
              root);
  auto named = parameters_and_buffers(module);
  broadcast_tensors(group, named.tensors, root);
}

void check_same_parameters(ProcessGroup& group, torch::nn::Module& module) {
  torch::NoGradGuard no_grad;
  const auto named = parameters_and_buffers(module);
  const int64_t count = static_cast<int64_t>(named.tensors.size());

  const auto own_structure = torch::tensor(
      {structure_fingerprint(named), count}, torch::dtype(torch::kLong));
  std::vector<torch::Tensor> structure{own_structure.clone()};
  group.broadcast(structure, 0);
  const bool structure_differs = !torch::equal(structure[0], own_structure);
  std::vector<torch::Tensor> differing{
      torch::tensor({static_cast<int64_t>(structure_differs)})};
  group.all_reduce_sum(differing);
  const int64_t differing_ranks = differing[0].item<int64_t>();
  TORCH_CHECK(differing_ranks == 0,
              "check_same_parameters: the names, shapes or dtypes of the "
              "parameters and buffers differ from rank 0's on ",
              differing_ranks,
              " rank(s) (this rank: ",
              structure_differs ? "differs" : "same",
              ")");

  std::vector<torch::Tensor> root_values;
  root_values.reserve(named.tensors.size());
  for (const auto& tensor : named.tensors) {
    root_values.push_back(tensor.detach().clone());
  }
  broadcast_tensors(group, root_values, 0);
  auto flags = torch::zeros({std::max<int64_t>(count, 1)}, torch::kLong);
  for (int64_t i = 0; i < count; ++i) {
    flags[i] =
        static_cast<int64_t>(!same_bits(root_values[i], named.tensors[i]));
  }
  std::vector<torch::Tensor> counts{flags};
  group.all_reduce_sum(counts);
  const auto nonzero = counts[0].nonzero();
  if (nonzero.numel() > 0) {
    const int64_t first = nonzero[0][0].item<int64_t>();
    TORCH_CHECK(false,
                "check_same_parameters: '",
                named.names[first],
                "' differs from rank 0's on ",
                counts[0][first].item<int64_t>(),
                " rank(s); ",
                nonzero.size(0),
                " of ",
                count,
                " parameters and buffers differ (call broadcast_parameters "
                "first)");
  }
}

TrainStep distributed_train_step(ProcessGroup group,
                                 std::shared_ptr<torch::nn::Module> module,
                                 TrainStep inner,
                                 GradientAveragingOptions options) {
  TORCH_CHECK(module, "distributed_train_step: the module is null");
  TORCH_CHECK(inner, "distributed_train_step: the inner step is empty");
  const int64_t cap_bytes =
      cap_bytes_of(options.bucket_cap_mb(), "distributed_train_step");
  return [group, module, inner, cap_bytes](const Batch& batch) mutable {
    const torch::Tensor loss = inner(batch);
    TORCH_CHECK(loss.defined() && loss.numel() == 1 && loss.is_floating_point(),
                "distributed_train_step: the inner step must return the loss "
                "as one floating-point value, got ",
                loss.defined() ? loss.toString() : "an undefined tensor",
                loss.defined() ? " of shape " : "",
                loss.defined() ? c10::str(loss.sizes()) : "");
    if (group.size() == 1) {
      return loss.detach();
    }
    auto tensors = gradients_of(module->parameters(), "distributed_train_step");
    torch::Tensor mean_loss = loss.detach().reshape({1}).clone();
    // First: it shares the first bucket of its dtype with the gradients.
    tensors.insert(tensors.begin(), mean_loss);
    average_in_place(group, tensors, cap_bytes);
    return mean_loss.reshape({});
  };
}

}  // namespace torchclr
