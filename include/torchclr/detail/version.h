#pragma once

// The one place where torchclr deals with differences between LibTorch
// releases. The library builds against Debian's LibTorch 1.13 and official
// 2.x prefixes; anything that differs between them goes behind this header,
// and tests/version_test.cpp checks it.

#include <torch/optim/optimizer.h>
#include <torch/version.h>

#include <string>
#include <type_traits>
#include <utility>

/// True when compiled against LibTorch `major.minor` or newer.
#define TORCHCLR_TORCH_VERSION_AT_LEAST(major, minor) \
  (TORCH_VERSION_MAJOR > (major) ||                   \
   (TORCH_VERSION_MAJOR == (major) && TORCH_VERSION_MINOR >= (minor)))

namespace torchclr::detail {

/// The LibTorch version the library was compiled against, "major.minor.patch".
std::string torch_version();

/// Key type of `Optimizer::state()`: the parameter's TensorImpl address as
/// text (`std::string`) in LibTorch 1.x, the address itself (`void*`) in 2.x.
using OptimizerStateKey = typename std::decay_t<
    decltype(std::declval<torch::optim::Optimizer&>().state())>::key_type;

/// The key under which an optimizer keeps the state of `parameter`.
OptimizerStateKey optimizer_state_key(const torch::Tensor& parameter);

}  // namespace torchclr::detail
