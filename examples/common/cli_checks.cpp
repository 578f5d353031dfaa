#include "cli_checks.h"

#include <cmath>
#include <string>

namespace torchclr::examples {
namespace {

// A validator that parses the flag as a double and applies `ok`.
CLI::Validator number_validator(bool (*ok)(double),
                                const char* requirement,
                                const char* name) {
  return CLI::Validator(
      [ok, requirement](const std::string& text) {
        double value = 0;
        if (!CLI::detail::lexical_cast(text, value) || !ok(value)) {
          return std::string("must be ") + requirement + ", got '" + text + "'";
        }
        return std::string();
      },
      name);
}

}  // namespace

const CLI::Validator& finite_number() {
  static const auto validator = number_validator(
      [](double v) { return std::isfinite(v); }, "a finite number", "FINITE");
  return validator;
}

const CLI::Validator& positive_number() {
  static const auto validator =
      number_validator([](double v) { return v > 0; }, "> 0", "POSITIVE");
  return validator;
}

const CLI::Validator& non_negative_number() {
  static const auto validator =
      number_validator([](double v) { return v >= 0; }, ">= 0", "NONNEGATIVE");
  return validator;
}

}  // namespace torchclr::examples
