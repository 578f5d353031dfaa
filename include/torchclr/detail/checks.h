#pragma once

// Option checks shared by the schedulers. Each names the class and option in
// its message, as TORCH_CHECK does for LibTorch's own options.

#include <cstdint>
#include <string>
#include <vector>

namespace torchclr::detail {

/// Every value finite and > 0.
void check_positive(const std::vector<double>& values,
                    const std::string& owner,
                    const char* option);
void check_positive(double value, const std::string& owner, const char* option);

/// 0 < value <= 1 (a decay factor such as gamma).
void check_unit_interval(double value,
                         const std::string& owner,
                         const char* option);

/// Every value finite and >= 0.
void check_non_negative(double value,
                        const std::string& owner,
                        const char* option);

/// 0 <= base[i] <= max[i] < 1 for momentum bounds.
void check_momentum_bounds(const std::vector<double>& base_momentum,
                           const std::vector<double>& max_momentum,
                           const std::string& owner);

/// value > 0.
void check_positive_count(int64_t value,
                          const std::string& owner,
                          const char* option);

}  // namespace torchclr::detail
