#pragma once

// The one place where torchclr looks at the LibTorch release. The library
// builds against Debian's LibTorch 1.13 and official 2.x prefixes; anything
// that has to differ between them goes behind this header, and
// tests/version_test.cpp checks it.

#include <torch/version.h>

#include <string>

/// True when compiled against LibTorch `major.minor` or newer.
#define TORCHCLR_TORCH_VERSION_AT_LEAST(major, minor) \
  (TORCH_VERSION_MAJOR > (major) ||                   \
   (TORCH_VERSION_MAJOR == (major) && TORCH_VERSION_MINOR >= (minor)))

namespace torchclr::detail {

/// The LibTorch version the library was compiled against, "major.minor.patch".
std::string torch_version();

}  // namespace torchclr::detail
