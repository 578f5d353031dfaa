#include <torchclr/detail/options_text.h>

#include <iomanip>
#include <sstream>
#include <type_traits>

namespace torchclr::detail {
namespace {

template <typename T>
std::string join(const std::vector<T>& values) {
  std::string text = "[";
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i > 0) {
      text += ",";
    }
    if constexpr (std::is_same_v<T, double>) {
      text += exact_text(values[i]);
    } else {
      text += std::to_string(values[i]);
    }
  }
  return text + "]";
}

}  // namespace

std::string exact_text(double value) {
  std::ostringstream out;
  out << std::setprecision(17) << value;
  return out.str();
}

OptionsText& OptionsText::append(const std::string& key,
                                 const std::string& value) {
  if (!text_.empty()) {
    text_ += ";";
  }
  text_ += key;
  text_ += "=";
  text_ += value;
  return *this;
}

OptionsText& OptionsText::add(const std::string& key, bool value) {
  return append(key, value ? "true" : "false");
}

OptionsText& OptionsText::add(const std::string& key, int64_t value) {
  return append(key, std::to_string(value));
}

OptionsText& OptionsText::add(const std::string& key, double value) {
  return append(key, exact_text(value));
}

OptionsText& OptionsText::add(const std::string& key,
                              const std::string& value) {
  return append(key, value);
}

OptionsText& OptionsText::add(const std::string& key, const char* value) {
  return append(key, value);
}

OptionsText& OptionsText::add(const std::string& key,
                              const std::vector<int64_t>& values) {
  return append(key, join(values));
}

OptionsText& OptionsText::add(const std::string& key,
                              const std::vector<double>& values) {
  return append(key, join(values));
}

}  // namespace torchclr::detail
