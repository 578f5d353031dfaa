#include <torchclr/detail/version.h>

#include <sstream>

namespace torchclr::detail {
namespace {

// LibTorch 1.x formats the address with an ostream (c10::guts::to_string).
std::string key_of(void* address, std::string*) {
  std::ostringstream text;
  text << address;
  return text.str();
}

void* key_of(void* address, void**) {
  return address;
}

}  // namespace

std::string torch_version() {
  return std::to_string(TORCH_VERSION_MAJOR) + "." +
         std::to_string(TORCH_VERSION_MINOR) + "." +
         std::to_string(TORCH_VERSION_PATCH);
}

OptimizerStateKey optimizer_state_key(const torch::Tensor& parameter) {
  return key_of(parameter.unsafeGetTensorImpl(),
                static_cast<OptimizerStateKey*>(nullptr));
}

}  // namespace torchclr::detail
