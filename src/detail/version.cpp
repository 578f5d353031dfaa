#include <torchclr/detail/version.h>

#include <sstream>

namespace torchclr::detail {
namespace {

// A template, so that only the branch of this LibTorch's key type compiles.
template <typename Key>
Key state_key_of(void* address) {
  if constexpr (std::is_same_v<Key, std::string>) {
    // LibTorch 1.x formats the address with an ostream (c10::guts::to_string).
    std::ostringstream text;
    text << address;
    return text.str();
  } else {
    return address;
  }
}

}  // namespace

std::string torch_version() {
  return std::to_string(TORCH_VERSION_MAJOR) + "." +
         std::to_string(TORCH_VERSION_MINOR) + "." +
         std::to_string(TORCH_VERSION_PATCH);
}

OptimizerStateKey optimizer_state_key(const torch::Tensor& parameter) {
  return state_key_of<OptimizerStateKey>(parameter.unsafeGetTensorImpl());
}

}  // namespace torchclr::detail
