#pragma once

#include <cstddef>
#include <initializer_list>
#include <string>
#include <vector>

namespace torchclr {

/// One value for every param group, or one value per group, as PyTorch's
/// schedulers accept `float` or `list` for `base_lr`, `max_lr`, momentum ...
/// Converts implicitly from `double`, `{a, b, ...}` and `std::vector<double>`.
class GroupValues {
 public:
  /// The same value for every param group.
  GroupValues(double value) : values_{value} {}  // NOLINT: implicit on purpose
  /// One value per param group: `{0.1, 0.01}`.
  GroupValues(std::initializer_list<double> values) : values_(values) {}
  /// One value per param group.
  GroupValues(std::vector<double> values)  // NOLINT: implicit on purpose
      : values_(std::move(values)) {}

  /// The values for `num_groups` param groups: one value is repeated, a list
  /// must have exactly one entry per group. `owner` and `option` name the
  /// class and option in the error message.
  std::vector<double> resolve(std::size_t num_groups,
                              const std::string& owner,
                              const char* option) const;

  /// The values as given: one, or one per group.
  const std::vector<double>& values() const noexcept {
    return values_;
  }

 private:
  std::vector<double> values_;
};

}  // namespace torchclr
