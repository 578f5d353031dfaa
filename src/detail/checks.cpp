#include <c10/util/Exception.h>
#include <torchclr/detail/checks.h>

#include <cmath>

namespace torchclr::detail {

void check_positive(double value,
                    const std::string& owner,
                    const char* option) {
  TORCH_CHECK(std::isfinite(value) && value > 0,
              owner,
              ": ",
              option,
              " must be a finite number > 0, got ",
              value);
}

void check_positive(const std::vector<double>& values,
                    const std::string& owner,
                    const char* option) {
  for (double value : values) {
    check_positive(value, owner, option);
  }
}

void check_unit_interval(double value,
                         const std::string& owner,
                         const char* option) {
  TORCH_CHECK(std::isfinite(value) && value > 0 && value <= 1,
              owner,
              ": ",
              option,
              " must be in (0, 1], got ",
              value);
}

void check_non_negative(double value,
                        const std::string& owner,
                        const char* option) {
  TORCH_CHECK(std::isfinite(value) && value >= 0,
              owner,
              ": ",
              option,
              " must be a finite number >= 0, got ",
              value);
}

void check_momentum_bounds(const std::vector<double>& base_momentum,
                           const std::vector<double>& max_momentum,
                           const std::string& owner) {
  for (std::size_t i = 0; i < base_momentum.size(); ++i) {
    TORCH_CHECK(std::isfinite(base_momentum[i]) && base_momentum[i] >= 0,
                owner,
                ": base_momentum must be in [0, 1), got ",
                base_momentum[i]);
    TORCH_CHECK(std::isfinite(max_momentum[i]) && max_momentum[i] < 1,
                owner,
                ": max_momentum must be in [0, 1), got ",
                max_momentum[i]);
    TORCH_CHECK(base_momentum[i] <= max_momentum[i],
                owner,
                ": base_momentum (",
                base_momentum[i],
                ") must not exceed max_momentum (",
                max_momentum[i],
                ")");
  }
}

void check_positive_count(int64_t value,
                          const std::string& owner,
                          const char* option) {
  TORCH_CHECK(value > 0, owner, ": ", option, " must be > 0, got ", value);
}

}  // namespace torchclr::detail
