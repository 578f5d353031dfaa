#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace torchclr::detail {

/// `value` with 17 significant digits: read back, it is the same double.
std::string exact_text(double value);

/// The canonical text of a scheduler's options ("key=value;..."), stored in
/// its archives so that `load` can refuse a state saved with other options.
/// Doubles keep 17 significant digits: equal text means equal values.
class OptionsText {
 public:
  OptionsText& add(const std::string& key, bool value);
  OptionsText& add(const std::string& key, int64_t value);
  OptionsText& add(const std::string& key, double value);
  OptionsText& add(const std::string& key, const std::string& value);
  /// Without it a string literal would pick the bool overload.
  OptionsText& add(const std::string& key, const char* value);
  OptionsText& add(const std::string& key, const std::vector<int64_t>& values);
  OptionsText& add(const std::string& key, const std::vector<double>& values);

  const std::string& str() const noexcept {
    return text_;
  }

 private:
  OptionsText& append(const std::string& key, const std::string& value);

  std::string text_;
};

}  // namespace torchclr::detail
