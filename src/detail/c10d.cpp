#include <torch/types.h>
#include <torchclr/detail/c10d.h>

#include <torch/csrc/distributed/c10d/HashStore.hpp>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#include <type_traits>
#include <utility>

namespace torchclr::detail {
namespace {

// TCPStoreOptions::useLibUV exists from 2.2 on and defaults to true from 2.4;
// builds without libuv then refuse or warn. The socket backend is in all.
template <typename Options, typename = void>
struct has_use_libuv : std::false_type {};
template <typename Options>
struct has_use_libuv<Options,
                     std::void_t<decltype(std::declval<Options&>().useLibUV)>>
    : std::true_type {};

template <typename Options>
void use_socket_backend(Options& options) {
  if constexpr (has_use_libuv<Options>::value) {
    options.useLibUV = false;
  }
}

// What Gloo's TCP pairs say when the other end went away (end of stream, or
// ECONNRESET / EPIPE on a read or a write), as opposed to "Application
// timeout caused pair closure", said of a live peer that did not answer.
bool says_connection_closed(const std::string& text) {
  for (const char* phrase : {"Connection closed by peer",
                             "Connection reset by peer",
                             "Broken pipe",
                             "Socket closed"}) {
    if (text.find(phrase) != std::string::npos) {
      return true;
    }
  }
  return false;
}

}  // namespace

c10::intrusive_ptr<::c10d::Store> make_tcp_store(
    const std::string& host,
    uint16_t port,
    bool is_server,
    int64_t world_size,
    std::chrono::milliseconds timeout) {
  ::c10d::TCPStoreOptions options;
  options.port = port;
  options.isServer = is_server;
  options.numWorkers = static_cast<std::size_t>(world_size);
  // torchclr waits for the ranks itself, to name the ones that are missing.
  options.waitWorkers = false;
  options.timeout = timeout;
  use_socket_backend(options);
  return c10::make_intrusive<::c10d::TCPStore>(host, options);
}

c10::intrusive_ptr<::c10d::Store> make_hash_store() {
  return c10::make_intrusive<::c10d::HashStore>();
}

c10::intrusive_ptr<::c10d::Store> make_prefix_store(
    const std::string& prefix, c10::intrusive_ptr<::c10d::Store> store) {
  return c10::make_intrusive<::c10d::PrefixStore>(prefix, std::move(store));
}

c10::intrusive_ptr<C10dGroup> make_gloo_group(
    const c10::intrusive_ptr<::c10d::Store>& store,
    int rank,
    int size,
    std::chrono::milliseconds timeout,
    const std::string& interface,
    const std::string& hostname,
    int threads) {
  auto options = ::c10d::ProcessGroupGloo::Options::create(timeout);
  if (!interface.empty()) {
    options->devices.push_back(
        ::c10d::ProcessGroupGloo::createDeviceForInterface(interface));
  } else if (!hostname.empty()) {
    options->devices.push_back(
        ::c10d::ProcessGroupGloo::createDeviceForHostname(hostname));
  } else {
    options->devices.push_back(::c10d::ProcessGroupGloo::createDefaultDevice());
  }
  options->threads = threads;
  return c10::make_intrusive<::c10d::ProcessGroupGloo>(
      store, rank, size, std::move(options));
}

std::vector<int64_t> gloo_closed_connections(C10dGroup& group) {
  auto* gloo = dynamic_cast<::c10d::ProcessGroupGloo*>(&group);
  if (gloo == nullptr) {
    return {};
  }
  // A tag no torchclr collective uses; the sends to live ranks stay pending.
  constexpr int kProbeTag = 0x70726f;
  std::vector<int64_t> closed;
  for (int peer = 0; peer < gloo->getSize(); ++peer) {
    if (peer == gloo->getRank()) {
      continue;
    }
    std::vector<at::Tensor> probe{torch::zeros({1}, torch::kUInt8)};
    try {
      gloo->send(probe, peer, kProbeTag);
    } catch (const std::exception& error) {
      // Gloo's pair to `peer` holds the error that ended it and rethrows it.
      if (says_connection_closed(error.what())) {
        closed.push_back(peer);
      }
    }
  }
  return closed;
}

}  // namespace torchclr::detail
