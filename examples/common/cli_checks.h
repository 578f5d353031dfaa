#pragma once

// Validators for the example programs' number flags, with plain messages
// ("--lr: must be > 0, got '-1'").

#include <CLI/CLI.hpp>

namespace torchclr::examples {

/// finite_number rejects NaN and infinities, which CLI11's Range and
/// PositiveNumber let through; positive_number and non_negative_number
/// reject NaN too.
const CLI::Validator& finite_number();
const CLI::Validator& positive_number();
const CLI::Validator& non_negative_number();

}  // namespace torchclr::examples
