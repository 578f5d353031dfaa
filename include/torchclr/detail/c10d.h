#pragma once

// The c10d half of the version seam (see version.h): the types and
// constructors of PyTorch's communication layer that differ between LibTorch
// 1.13 and 2.x. Only built with TORCHCLR_DISTRIBUTED.
//
// 1.13: ProcessGroupGloo derives from c10d::ProcessGroup.
// 2.x:  c10d::ProcessGroup became a front that dispatches to per-device
//       c10d::Backend objects, and ProcessGroupGloo derives from Backend;
//       TCPStoreOptions gained useLibUV (on by default from 2.4).
// The collectives torchclr calls (allreduce, broadcast, barrier, getRank,
// getSize, Work::wait) have the same signatures on both.

#include <torchclr/detail/version.h>

#include <torch/csrc/distributed/c10d/Store.hpp>
#include <torch/csrc/distributed/c10d/Work.hpp>
#if TORCHCLR_TORCH_VERSION_AT_LEAST(2, 0)
#include <torch/csrc/distributed/c10d/Backend.hpp>
#else
#include <torch/csrc/distributed/c10d/ProcessGroup.hpp>
#endif

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace torchclr::detail {

/// What a Gloo (or NCCL) process group is an instance of: c10d::ProcessGroup
/// in LibTorch 1.x, c10d::Backend in 2.x.
#if TORCHCLR_TORCH_VERSION_AT_LEAST(2, 0)
using C10dGroup = ::c10d::Backend;
#else
using C10dGroup = ::c10d::ProcessGroup;
#endif

/// A c10d::TCPStore at host:port: the server when `is_server` (it listens on
/// every local address), else a client that retries until `timeout`.
/// Uses the socket backend on every version (2.4+'s libuv backend is not in
/// every build).
c10::intrusive_ptr<::c10d::Store> make_tcp_store(
    const std::string& host,
    uint16_t port,
    bool is_server,
    int64_t world_size,
    std::chrono::milliseconds timeout);

/// An in-process c10d::HashStore (a group of one needs no network).
c10::intrusive_ptr<::c10d::Store> make_hash_store();

/// `store` with every key prefixed by `prefix`.
c10::intrusive_ptr<::c10d::Store> make_prefix_store(
    const std::string& prefix, c10::intrusive_ptr<::c10d::Store> store);

/// A c10d::ProcessGroupGloo on one TCP device: the network interface
/// `interface` when not empty, else the address `hostname` when not empty,
/// else Gloo's default device (this machine's hostname).
c10::intrusive_ptr<C10dGroup> make_gloo_group(
    const c10::intrusive_ptr<::c10d::Store>& store,
    int rank,
    int size,
    std::chrono::milliseconds timeout,
    const std::string& interface,
    const std::string& hostname,
    int threads);

/// The ranks whose Gloo connection with this rank was closed from their end
/// (their process exited or crashed): a send to such a rank throws at once
/// with the error Gloo saw on the connection ("Connection closed by peer",
/// "Connection reset by peer"); one to a rank that only timed out throws
/// "Application timeout caused pair closure" and does not count; one to a
/// live rank is only announced to it and never completes (call this after a
/// collective failed, when the group is of no further use). Empty for groups
/// that are not Gloo's.
std::vector<int64_t> gloo_closed_connections(C10dGroup& group);

}  // namespace torchclr::detail
