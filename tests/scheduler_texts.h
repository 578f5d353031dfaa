#pragma once

// The schedulers the tests build by name, as text in PyTorch's constructor
// syntax (what parse_scheduler reads): one list, in scheduler_texts.cpp, so
// that no test keeps factories of its own or a copy of a scheduler's option
// names.

#include <torch/optim/optimizer.h>
#include <torchclr/scheduler.h>

#include <memory>
#include <string>
#include <vector>

namespace torchclr::test {

/// Which tests use a text.
enum class TextSet {
  /// One per policy and composite, each with options other than the defaults:
  /// scheduler_test.cpp's restore and LR-overwrite tests, on SGD with two
  /// groups (LRs 0.1 and 0.2).
  kPolicy,
  /// generate_reference.py's CHAINABLE, same names and options: the
  /// reference tests chain every pair of them.
  kChainable,
  /// One per scheduler the parser knows, giving every option it reads (with
  /// values for which the writer writes each of them), for an SGD optimizer
  /// with two groups: scheduler_text_test.cpp checks reader against writer.
  kEveryOption,
};

/// A named text of the list.
struct ScheduleText {
  TextSet set;
  std::string name;  // the test parameter's name
  std::string text;
};

/// The texts of `set`, in the list's order.
std::vector<ScheduleText> schedule_texts(TextSet set);

/// The text of `set` named `name`; fails the test if there is none.
std::string schedule_text(TextSet set, const std::string& name);

/// parse_scheduler(optimizer, text), with the functions the list's LambdaLR
/// and MultiplicativeLR name registered first (see scheduler_texts.cpp).
std::unique_ptr<Scheduler> make_scheduler(torch::optim::Optimizer& optimizer,
                                          const std::string& text);

/// gtest prints a parameter by its name.
void PrintTo(const ScheduleText& text, std::ostream* out);

}  // namespace torchclr::test
