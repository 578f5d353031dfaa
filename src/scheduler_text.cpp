#include <torchclr/scheduler_text.h>
#include <torchclr/torchclr.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <utility>
#include <vector>

// The text form reads and writes PyTorch's keyword names. Writing starts from
// each scheduler's `options_text()` (the archives' canonical "key=value;..."
// text, whose keys are those names): only its syntax is changed here, so a
// scheduler's option names are written in one place. Reading needs, per
// scheduler, which keyword sets which option: the builders below. That the
// two agree is tested, not built in: scheduler_text_test.cpp's
// ReaderAndWriterHaveTheSameOptions fails for any keyword one of them has
// and the other lacks, for every scheduler the builders know.

namespace torchclr {
namespace {

// --- Writing ----------------------------------------------------------------

// The shortest text that reads back to `value` (Python's repr does the same).
std::string shortest_text(double value) {
  char buffer[32];
  for (int precision = 1; precision <= 17; ++precision) {
    std::snprintf(buffer, sizeof buffer, "%.*g", precision, value);
    if (std::strtod(buffer, nullptr) == value) {
      break;
    }
  }
  return buffer;
}

bool is_integer_syntax(const std::string& token) {
  std::size_t i = (!token.empty() && (token[0] == '-' || token[0] == '+'));
  if (i == token.size()) {
    return false;
  }
  for (; i < token.size(); ++i) {
    if (token[i] < '0' || token[i] > '9') {
      return false;
    }
  }
  return true;
}

// Splits "a=1;b={c=2;d=[3,4]}" at the top-level ';' into key, value pairs.
std::vector<std::pair<std::string, std::string>> split_options(
    const std::string& text) {
  std::vector<std::pair<std::string, std::string>> pairs;
  std::size_t start = 0;
  int depth = 0;
  for (std::size_t i = 0; i <= text.size(); ++i) {
    if (i == text.size() || (text[i] == ';' && depth == 0)) {
      if (i > start) {
        const std::string item = text.substr(start, i - start);
        const auto equals = item.find('=');
        TORCH_INTERNAL_ASSERT(equals != std::string::npos, item);
        pairs.emplace_back(item.substr(0, equals), item.substr(equals + 1));
      }
      start = i + 1;
    } else if (text[i] == '{' || text[i] == '[') {
      ++depth;
    } else if (text[i] == '}' || text[i] == ']') {
      --depth;
    }
  }
  return pairs;
}

std::string value_text(const std::string& value) {
  if (value == "true") {
    return "True";
  }
  if (value == "false") {
    return "False";
  }
  if (!value.empty() && value.front() == '[') {
    std::string text = "[";
    const std::string inner = value.substr(1, value.size() - 2);
    std::size_t start = 0;
    while (start < inner.size()) {
      auto comma = inner.find(',', start);
      if (comma == std::string::npos) {
        comma = inner.size();
      }
      if (start > 0) {
        text += ", ";
      }
      text += value_text(inner.substr(start, comma - start));
      start = comma + 1;
    }
    return text + "]";
  }
  if (is_integer_syntax(value)) {
    return value;
  }
  char* end = nullptr;
  const double number = std::strtod(value.c_str(), &end);
  if (!value.empty() && end == value.c_str() + value.size()) {
    return shortest_text(number);
  }
  return "\"" + value + "\"";
}

std::vector<std::string> split_names(const std::string& names) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (true) {
    const auto comma = names.find(',', start);
    parts.push_back(names.substr(start, comma - start));
    if (comma == std::string::npos) {
      return parts;
    }
    start = comma + 1;
  }
}

std::string call_text(const std::string& name, const std::string& options) {
  const auto pairs = split_options(options);
  std::string args;
  auto add = [&](const std::string& arg) {
    args += args.empty() ? "" : ", ";
    args += arg;
  };
  if (name == "SequentialLR" || name == "ChainedScheduler") {
    std::string children;
    for (const auto& [key, value] : pairs) {
      if (!value.empty() && value.front() == '{') {
        children += children.empty() ? "" : ", ";
        children += call_text(key, value.substr(1, value.size() - 2));
      }
    }
    add("[" + children + "]");
    for (const auto& [key, value] : pairs) {
      if (value.empty() || value.front() != '{') {
        add(key + "=" + value_text(value));
      }
    }
    return name + "(" + args + ")";
  }
  if (name == "LambdaLR" || name == "MultiplicativeLR") {
    std::string lambda_name;
    int64_t functions = 1;
    for (const auto& [key, value] : pairs) {
      if (key == "lr_lambda") {
        lambda_name = value;
      } else if (key == "functions") {
        functions = std::stoll(value);
      }
    }
    if (functions == 1) {
      return name + "(lr_lambda=\"" + lambda_name + "\")";
    }
    // One function per group: their names, as parse_scheduler joins them.
    auto names = split_names(lambda_name);
    if (static_cast<int64_t>(names.size()) != functions) {
      names.assign(functions, lambda_name);
    }
    std::string list;
    for (const auto& part : names) {
      list += list.empty() ? "" : ", ";
      list += "\"" + part + "\"";
    }
    return name + "(lr_lambda=[" + list + "])";
  }
  for (const auto& [key, value] : pairs) {
    TORCH_CHECK(!(name == "CyclicLR" && key == "scale_fn"),
                "to_text: a CyclicLR with a custom scale_fn has no text form; "
                "use mode (triangular, triangular2, exp_range, "
                "exp_range_paper) instead");
    add(key + "=" + value_text(value));
  }
  return name + "(" + args + ")";
}

// --- Reading ----------------------------------------------------------------

struct Arg;

// A value of the text: a number, string, bool, None, list, or a call
// `Name(args)`; `begin`/`end` locate it in the text for error messages.
struct Value {
  enum class Kind { kNumber, kString, kBool, kNone, kList, kCall };
  Kind kind = Kind::kNone;
  std::size_t begin = 0;
  std::size_t end = 0;
  std::string text;   // a number's token, a string's contents, a call's name
  bool flag = false;  // a bool's value
  std::vector<Value> items;
  std::vector<Arg> args;
};

struct Arg {
  std::string keyword;  // empty for a positional argument
  std::size_t begin = 0;
  Value value;
};

// An error at a position of the text. Kept apart from c10::Error until the
// public function that read the text says where it is: a position for
// `parse_scheduler`, a file's line and column for `parse_scheduler_file`.
struct TextError {
  std::size_t position;
  std::string message;
};

[[noreturn]] void fail_at(std::size_t position, const std::string& message) {
  throw TextError{position, message};
}

// Lists and calls nested deeper than this are refused rather than parsed by
// a recursion that a hostile text could take past the end of the stack.
constexpr int kMaxNesting = 64;

class Parser {
 public:
  explicit Parser(const std::string& text) : text_(text) {}

  Value parse() {
    Value value = parse_value();
    if (value.kind != Value::Kind::kCall) {
      fail_at(
          value.begin,
          "expected a scheduler such as CyclicLR(...), got " + quote(value));
    }
    skip_space();
    if (pos_ < text_.size()) {
      fail_at(pos_,
              "trailing text after the scheduler: '" + text_.substr(pos_, 40) +
                  "'");
    }
    return value;
  }

 private:
  std::string quote(const Value& value) const {
    return "'" + text_.substr(value.begin, value.end - value.begin) + "'";
  }

  // Skips white space and comments: a '#' outside a string starts a comment
  // that runs to the end of its line.
  void skip_space() {
    while (pos_ < text_.size()) {
      if (text_[pos_] == '#') {
        pos_ = text_.find('\n', pos_);
        if (pos_ == std::string::npos) {
          pos_ = text_.size();
        }
      } else if (std::isspace(static_cast<unsigned char>(text_[pos_]))) {
        ++pos_;
      } else {
        return;
      }
    }
  }

  void enter(std::size_t position) {
    if (++depth_ > kMaxNesting) {
      fail_at(position,
              "lists and schedulers nested more than " +
                  std::to_string(kMaxNesting) + " deep");
    }
  }

  static bool is_name_char(char c, bool first) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
           (!first && c >= '0' && c <= '9');
  }

  std::string read_name() {
    const std::size_t start = pos_;
    while (pos_ < text_.size() && is_name_char(text_[pos_], pos_ == start)) {
      ++pos_;
    }
    return text_.substr(start, pos_ - start);
  }

  std::string what_is_here() const {
    return pos_ < text_.size() ? "'" + text_.substr(pos_, 1) + "'"
                               : "the end of the text";
  }

  Value parse_value() {
    skip_space();
    Value value;
    value.begin = pos_;
    if (pos_ == text_.size()) {
      fail_at(pos_,
              "expected a value (number, string, list or scheduler), got the "
              "end of the text");
    }
    const char c = text_[pos_];
    if (c == '[') {
      value.kind = Value::Kind::kList;
      enter(pos_);
      ++pos_;
      while (true) {
        skip_space();
        if (pos_ < text_.size() && text_[pos_] == ']') {
          break;
        }
        value.items.push_back(parse_value());
        skip_space();
        if (pos_ < text_.size() && text_[pos_] == ',') {
          ++pos_;
          continue;
        }
        if (pos_ < text_.size() && text_[pos_] == ']') {
          break;
        }
        fail_at(pos_,
                "unbalanced '[' at position " + std::to_string(value.begin) +
                    ": expected ',' or ']', got " + what_is_here());
      }
      ++pos_;
      --depth_;
    } else if (c == '"' || c == '\'') {
      value.kind = Value::Kind::kString;
      const auto close = text_.find(c, pos_ + 1);
      if (close == std::string::npos) {
        fail_at(pos_,
                "unterminated string: expected a closing " + std::string(1, c));
      }
      value.text = text_.substr(pos_ + 1, close - pos_ - 1);
      pos_ = close + 1;
    } else if ((c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.') {
      value.kind = Value::Kind::kNumber;
      const char* start = text_.c_str() + pos_;
      char* end = nullptr;
      std::strtod(start, &end);
      if (end == start) {
        fail_at(pos_, "expected a number, got " + what_is_here());
      }
      value.text.assign(start, static_cast<const char*>(end));
      pos_ += value.text.size();
    } else if (is_name_char(c, true)) {
      const std::string name = read_name();
      if (name == "True" || name == "False") {
        value.kind = Value::Kind::kBool;
        value.flag = name == "True";
      } else if (name == "None") {
        value.kind = Value::Kind::kNone;
      } else if (name == "inf" || name == "nan") {
        value.kind = Value::Kind::kNumber;
        value.text = name;
      } else {
        skip_space();
        if (pos_ == text_.size() || text_[pos_] != '(') {
          fail_at(value.begin,
                  "expected a value (number, string, list or scheduler), got "
                  "the bare name '" +
                      name + "' (a string needs quotes, a scheduler '(...)')");
        }
        value.kind = Value::Kind::kCall;
        value.text = name;
        parse_args(value);
      }
    } else {
      fail_at(pos_,
              "expected a value (number, string, list or scheduler), got " +
                  what_is_here());
    }
    value.end = pos_;
    return value;
  }

  // At the '(' of `call`: its arguments up to and including the ')'.
  void parse_args(Value& call) {
    const std::size_t open = pos_;
    enter(open);
    ++pos_;
    while (true) {
      skip_space();
      if (pos_ < text_.size() && text_[pos_] == ')') {
        break;
      }
      Arg arg;
      arg.begin = pos_;
      // `name=` starts a keyword argument; anything else is positional.
      const std::size_t save = pos_;
      if (pos_ < text_.size() && is_name_char(text_[pos_], true)) {
        std::string name = read_name();
        skip_space();
        if (pos_ < text_.size() && text_[pos_] == '=') {
          ++pos_;
          arg.keyword = std::move(name);
        } else {
          pos_ = save;
        }
      }
      arg.value = parse_value();
      call.args.push_back(std::move(arg));
      skip_space();
      if (pos_ < text_.size() && text_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (pos_ < text_.size() && text_[pos_] == ')') {
        break;
      }
      fail_at(pos_,
              "unbalanced '(' of " + call.text + " at position " +
                  std::to_string(open) + ": expected ',' or ')', got " +
                  what_is_here());
    }
    ++pos_;
    --depth_;
  }

  const std::string& text_;
  std::size_t pos_ = 0;
  int depth_ = 0;
};

std::map<std::string, LRLambda>& lambda_registry() {
  static std::map<std::string, LRLambda> registry;
  return registry;
}

std::mutex& lambda_registry_mutex() {
  static std::mutex mutex;
  return mutex;
}

std::unique_ptr<Scheduler> build(torch::optim::Optimizer& optimizer,
                                 const std::string& text,
                                 const Value& call,
                                 const std::vector<double>& group_ratios);

// The arguments of one scheduler call. A builder asks for each option by
// its keyword (and, for leading options, the position PyTorch's constructor
// takes it at), then calls `finish`, which refuses arguments no one asked for.
class Args {
 public:
  Args(const std::string& text,
       const Value& call,
       torch::optim::Optimizer& optimizer,
       const std::vector<double>& group_ratios)
      : text_(text),
        call_(call),
        optimizer_(optimizer),
        group_ratios_(group_ratios) {
    std::set<std::string> seen;
    for (const auto& arg : call.args) {
      if (arg.keyword.empty()) {
        if (!seen.empty()) {
          fail_at(
              arg.begin,
              call.text + ": a positional argument after a keyword argument");
        }
      } else if (!seen.insert(arg.keyword).second) {
        fail_at(arg.begin,
                call.text + ": option " + arg.keyword + " given twice");
      }
    }
  }

  std::size_t num_groups() const {
    return optimizer_.param_groups().size();
  }
  torch::optim::Optimizer& optimizer() const {
    return optimizer_;
  }
  const std::string& text() const {
    return text_;
  }
  const Value& call() const {
    return call_;
  }

  // The argument for `keyword` (or at `position`), or nullptr.
  const Value* find(const char* keyword, int position = -1) {
    asked_.emplace_back(keyword);
    const Value* found = nullptr;
    for (std::size_t i = 0; i < call_.args.size(); ++i) {
      const auto& arg = call_.args[i];
      if (arg.keyword == keyword ||
          (arg.keyword.empty() && static_cast<int>(i) == position)) {
        if (found != nullptr) {
          fail_at(arg.begin,
                  call_.text + ": option " + keyword +
                      " given by position and by keyword");
        }
        found = &arg.value;
        if (arg.keyword.empty()) {
          positional_used_ = std::max(positional_used_, i + 1);
        }
      }
    }
    return found;
  }

  const Value& required(const char* keyword, int position = -1) {
    const Value* value = find(keyword, position);
    if (value == nullptr) {
      fail_at(call_.begin, call_.text + ": missing option " + keyword);
    }
    return *value;
  }

  [[noreturn]] void wrong(const char* keyword,
                          const Value& value,
                          const std::string& expected) const {
    fail_at(value.begin,
            call_.text + " option " + keyword + ": expected " + expected +
                ", got '" + text_.substr(value.begin, value.end - value.begin) +
                "'");
  }

  double real(const char* keyword, const Value& value) const {
    if (value.kind != Value::Kind::kNumber) {
      wrong(keyword, value, "a number");
    }
    return std::strtod(value.text.c_str(), nullptr);
  }
  double real(const char* keyword, double fallback, int position = -1) {
    const Value* value = find(keyword, position);
    return value ? real(keyword, *value) : fallback;
  }

  int64_t integer(const char* keyword, const Value& value) const {
    if (value.kind != Value::Kind::kNumber || !is_integer_syntax(value.text)) {
      wrong(keyword, value, "an integer");
    }
    errno = 0;
    const long long parsed = std::strtoll(value.text.c_str(), nullptr, 10);
    if (errno == ERANGE) {
      wrong(keyword, value, "an integer that fits 64 bits");
    }
    return parsed;
  }
  int64_t integer(const char* keyword, int64_t fallback, int position = -1) {
    const Value* value = find(keyword, position);
    return value ? integer(keyword, *value) : fallback;
  }
  std::optional<int64_t> optional_integer(const char* keyword,
                                          std::optional<int64_t> fallback) {
    const Value* value = find(keyword);
    if (value == nullptr) {
      return fallback;
    }
    if (value->kind == Value::Kind::kNone) {
      return std::nullopt;
    }
    return integer(keyword, *value);
  }

  bool boolean(const char* keyword, bool fallback) {
    const Value* value = find(keyword);
    if (value == nullptr) {
      return fallback;
    }
    if (value->kind != Value::Kind::kBool) {
      wrong(keyword, *value, "True or False");
    }
    return value->flag;
  }

  // A string among `choices`, returned as its index.
  template <typename Enum>
  Enum choice(const char* keyword,
              Enum fallback,
              const std::vector<std::string>& choices) {
    const Value* value = find(keyword);
    if (value == nullptr) {
      return fallback;
    }
    std::string expected;
    for (const auto& choice : choices) {
      expected += expected.empty() ? "one of \"" : ", \"";
      expected += choice + "\"";
    }
    if (value->kind == Value::Kind::kString) {
      for (std::size_t i = 0; i < choices.size(); ++i) {
        if (value->text == choices[i]) {
          return static_cast<Enum>(i);
        }
      }
    }
    wrong(keyword, *value, expected);
  }

  std::vector<int64_t> integers(const char* keyword, const Value& value) const {
    if (value.kind != Value::Kind::kList) {
      wrong(keyword, value, "a list of integers");
    }
    std::vector<int64_t> values;
    for (const auto& item : value.items) {
      values.push_back(integer(keyword, item));
    }
    return values;
  }

  // One number for every group, or a list of one number per group.
  GroupValues per_group(const char* keyword, const Value& value) const {
    if (value.kind == Value::Kind::kNumber) {
      return real(keyword, value);
    }
    if (value.kind != Value::Kind::kList) {
      wrong(keyword, value, "a number or a list of one number per param group");
    }
    if (value.items.size() != num_groups()) {
      wrong(keyword,
            value,
            "a list of " + std::to_string(num_groups()) +
                " numbers, one per param group of the optimizer (got " +
                std::to_string(value.items.size()) + ")");
    }
    std::vector<double> values;
    for (const auto& item : value.items) {
      values.push_back(real(keyword, item));
    }
    return values;
  }
  GroupValues per_group(const char* keyword, GroupValues fallback) {
    const Value* value = find(keyword);
    return value ? per_group(keyword, *value) : std::move(fallback);
  }

  // An option that is an LR, as `per_group`, but a single number is
  // multiplied by each group's ratio when there are ratios (Caffe's
  // lr_mult). Being read through here is what makes an option an LR.
  GroupValues lr(const char* keyword, const Value& value) const {
    if (value.kind != Value::Kind::kNumber || group_ratios_.empty()) {
      return per_group(keyword, value);
    }
    const double number = real(keyword, value);
    std::vector<double> values;
    for (const double ratio : group_ratios_) {
      values.push_back(number * ratio);
    }
    return values;
  }
  GroupValues lr(const char* keyword, GroupValues fallback) {
    const Value* value = find(keyword);
    return value ? lr(keyword, *value) : std::move(fallback);
  }

  // An LR option that is one number for every group (eta_min): with ratios,
  // the number times the ratio they all share; 0 stays 0 under any ratios.
  double scalar_lr(const char* keyword, double fallback, int position) {
    const Value* value = find(keyword, position);
    if (value == nullptr) {
      return fallback;
    }
    const double number = real(keyword, *value);
    if (group_ratios_.empty() || number == 0) {
      return number;
    }
    const auto [low, high] =
        std::minmax_element(group_ratios_.begin(), group_ratios_.end());
    if (*low != *high) {
      std::string ratios;
      for (const double ratio : group_ratios_) {
        ratios += (ratios.empty() ? "" : ", ") + shortest_text(ratio);
      }
      wrong(keyword,
            *value,
            "0 or one LR for every group: it is one number (as in PyTorch), "
            "and group_ratios [" +
                ratios + "] would give each group its own");
    }
    return number * *low;
  }

  // The scheduler calls of a list, each built on the optimizer in turn.
  std::vector<std::shared_ptr<Scheduler>> schedulers(const char* keyword,
                                                     int position) {
    const Value& value = required(keyword, position);
    if (value.kind != Value::Kind::kList) {
      wrong(keyword, value, "a list of schedulers");
    }
    for (const auto& item : value.items) {
      if (item.kind != Value::Kind::kCall) {
        wrong(keyword, item, "a scheduler such as StepLR(step_size=10)");
      }
    }
    std::vector<std::shared_ptr<Scheduler>> built;
    for (const auto& item : value.items) {
      built.push_back(build(optimizer_, text_, item, group_ratios_));
    }
    return built;
  }

  // Refuses what no option asked for: an unknown keyword, an extra
  // positional argument.
  void finish() const {
    std::string known;
    for (const auto& name : asked_) {
      known += known.empty() ? "" : ", ";
      known += name;
    }
    for (std::size_t i = 0; i < call_.args.size(); ++i) {
      const auto& arg = call_.args[i];
      if (arg.keyword.empty() && i >= positional_used_) {
        fail_at(arg.begin,
                call_.text + ": unexpected positional argument " +
                    std::to_string(i + 1) +
                    " (give options as keyword=value: " + known + ")");
      }
      if (!arg.keyword.empty() &&
          std::find(asked_.begin(), asked_.end(), arg.keyword) ==
              asked_.end()) {
        fail_at(arg.begin,
                call_.text + " has no option '" + arg.keyword +
                    "' (its options: " + known + ")");
      }
    }
  }

 private:
  const std::string& text_;
  const Value& call_;
  torch::optim::Optimizer& optimizer_;
  const std::vector<double>& group_ratios_;
  std::vector<std::string> asked_;
  std::size_t positional_used_ = 0;
};

LambdaLROptions lambda_options(Args& args) {
  const Value& value = args.required("lr_lambda", 0);
  std::vector<const Value*> names;
  if (value.kind == Value::Kind::kString) {
    names.push_back(&value);
  } else if (value.kind == Value::Kind::kList &&
             value.items.size() == args.num_groups()) {
    for (const auto& item : value.items) {
      names.push_back(&item);
    }
  } else {
    args.wrong("lr_lambda",
               value,
               "the name of a registered function, or a list of " +
                   std::to_string(args.num_groups()) +
                   " names, one per param group");
  }
  std::vector<LRLambda> functions;
  std::string joined;
  std::lock_guard<std::mutex> lock(lambda_registry_mutex());
  for (const Value* name : names) {
    if (name->kind != Value::Kind::kString) {
      args.wrong("lr_lambda", *name, "the name of a registered function");
    }
    const auto it = lambda_registry().find(name->text);
    if (it == lambda_registry().end()) {
      fail_at(name->begin,
              args.call().text +
                  " option lr_lambda: no function is "
                  "registered as \"" +
                  name->text +
                  "\"; register it first with "
                  "torchclr::register_lr_lambda(\"" +
                  name->text + "\", fn)");
    }
    functions.push_back(it->second);
    joined += joined.empty() ? "" : ",";
    joined += name->text;
  }
  LambdaLROptions options(std::move(functions));
  options.lambda_name(joined);
  return options;
}

using Builder = std::function<std::unique_ptr<Scheduler>(Args&)>;

// Each scheduler's keywords, PyTorch's defaults where the option is omitted
// (the same as the options structs' own defaults).
const std::map<std::string, Builder>& builders() {
  static const std::map<std::string, Builder> table = {
      {"CyclicLR",
       [](Args& a) {
         CyclicLROptions o(a.lr("base_lr", a.required("base_lr", 0)),
                           a.lr("max_lr", a.required("max_lr", 1)));
         o.step_size_up(a.integer("step_size_up", o.step_size_up()))
             .step_size_down(
                 a.optional_integer("step_size_down", o.step_size_down()))
             .mode(a.choice(
                 "mode",
                 o.mode(),
                 {"triangular", "triangular2", "exp_range", "exp_range_paper"}))
             .gamma(a.real("gamma", o.gamma()))
             .cycle_momentum(a.boolean("cycle_momentum", o.cycle_momentum()))
             .base_momentum(a.per_group("base_momentum", o.base_momentum()))
             .max_momentum(a.per_group("max_momentum", o.max_momentum()))
             .waveform(a.choice(
                 "waveform", o.waveform(), {"triangle", "sine", "parabolic"}));
         a.finish();
         return std::make_unique<CyclicLR>(a.optimizer(), o);
       }},
      {"OneCycleLR",
       [](Args& a) {
         OneCycleLROptions o(
             a.lr("max_lr", a.required("max_lr", 0)),
             a.integer("total_steps", a.required("total_steps", 1)));
         o.pct_start(a.real("pct_start", o.pct_start()))
             .anneal_strategy(a.choice(
                 "anneal_strategy", o.anneal_strategy(), {"cos", "linear"}))
             .cycle_momentum(a.boolean("cycle_momentum", o.cycle_momentum()))
             .base_momentum(a.per_group("base_momentum", o.base_momentum()))
             .max_momentum(a.per_group("max_momentum", o.max_momentum()))
             .div_factor(a.real("div_factor", o.div_factor()))
             .final_div_factor(a.real("final_div_factor", o.final_div_factor()))
             .three_phase(a.boolean("three_phase", o.three_phase()));
         a.finish();
         return std::make_unique<OneCycleLR>(a.optimizer(), o);
       }},
      {"StepLR",
       [](Args& a) {
         StepLROptions o(a.integer("step_size", a.required("step_size", 0)));
         o.gamma(a.real("gamma", o.gamma(), 1));
         a.finish();
         return std::make_unique<StepLR>(a.optimizer(), o);
       }},
      {"MultiStepLR",
       [](Args& a) {
         MultiStepLROptions o(
             a.integers("milestones", a.required("milestones", 0)));
         o.gamma(a.real("gamma", o.gamma(), 1));
         a.finish();
         return std::make_unique<MultiStepLR>(a.optimizer(), o);
       }},
      {"ConstantLR",
       [](Args& a) {
         ConstantLROptions o;
         o.factor(a.real("factor", o.factor()))
             .total_iters(a.integer("total_iters", o.total_iters()));
         a.finish();
         return std::make_unique<ConstantLR>(a.optimizer(), o);
       }},
      {"LinearLR",
       [](Args& a) {
         LinearLROptions o;
         o.start_factor(a.real("start_factor", o.start_factor()))
             .end_factor(a.real("end_factor", o.end_factor()))
             .total_iters(a.integer("total_iters", o.total_iters()));
         a.finish();
         return std::make_unique<LinearLR>(a.optimizer(), o);
       }},
      {"ExponentialLR",
       [](Args& a) {
         ExponentialLROptions o(a.real("gamma", a.required("gamma", 0)));
         a.finish();
         return std::make_unique<ExponentialLR>(a.optimizer(), o);
       }},
      {"PolynomialLR",
       [](Args& a) {
         PolynomialLROptions o;
         o.total_iters(a.integer("total_iters", o.total_iters()))
             .power(a.real("power", o.power()));
         a.finish();
         return std::make_unique<PolynomialLR>(a.optimizer(), o);
       }},
      {"CosineAnnealingLR",
       [](Args& a) {
         CosineAnnealingLROptions o(a.integer("T_max", a.required("T_max", 0)));
         o.eta_min(a.scalar_lr("eta_min", o.eta_min(), 1));
         a.finish();
         return std::make_unique<CosineAnnealingLR>(a.optimizer(), o);
       }},
      {"CosineAnnealingWarmRestarts",
       [](Args& a) {
         CosineAnnealingWarmRestartsOptions o(
             a.integer("T_0", a.required("T_0", 0)));
         o.T_mult(a.integer("T_mult", o.T_mult(), 1))
             .eta_min(a.scalar_lr("eta_min", o.eta_min(), 2))
             .cycle_decay(a.real("cycle_decay", o.cycle_decay()))
             .cycle_limit(a.optional_integer("cycle_limit", o.cycle_limit()));
         a.finish();
         return std::make_unique<CosineAnnealingWarmRestarts>(a.optimizer(), o);
       }},
      {"ReduceLROnPlateau",
       [](Args& a) {
         ReduceLROnPlateauOptions o;
         o.mode(a.choice("mode", o.mode(), {"min", "max"}))
             .factor(a.real("factor", o.factor()))
             .patience(a.integer("patience", o.patience()))
             .threshold(a.real("threshold", o.threshold()))
             .threshold_mode(
                 a.choice("threshold_mode", o.threshold_mode(), {"rel", "abs"}))
             .cooldown(a.integer("cooldown", o.cooldown()))
             .min_lr(a.lr("min_lr", o.min_lr()))
             .eps(a.real("eps", o.eps()));
         a.finish();
         return std::make_unique<ReduceLROnPlateau>(a.optimizer(), o);
       }},
      {"LambdaLR",
       [](Args& a) {
         auto o = lambda_options(a);
         a.finish();
         return std::make_unique<LambdaLR>(a.optimizer(), o);
       }},
      {"MultiplicativeLR",
       [](Args& a) {
         auto o = lambda_options(a);
         a.finish();
         return std::make_unique<MultiplicativeLR>(a.optimizer(), o);
       }},
      {"SWALR",
       [](Args& a) {
         SWALROptions o(a.lr("swa_lr", a.required("swa_lr", 0)));
         o.anneal_epochs(a.integer("anneal_epochs", o.anneal_epochs(), 1))
             .anneal_strategy(a.choice(
                 "anneal_strategy", o.anneal_strategy(), {"cos", "linear"}));
         a.finish();
         return std::make_unique<SWALR>(a.optimizer(), o);
       }},
      {"SequentialLR",
       [](Args& a) {
         // The milestones are read before the stages are built, so that a
         // bad keyword is refused before any stage touches the optimizer.
         const auto milestones =
             a.integers("milestones", a.required("milestones", 1));
         const Value& stages = a.required("schedulers", 0);
         a.finish();
         (void)stages;
         auto built = a.schedulers("schedulers", 0);
         return std::make_unique<SequentialLR>(
             a.optimizer(), std::move(built), milestones);
       }},
      {"ChainedScheduler",
       [](Args& a) {
         a.required("schedulers", 0);
         a.finish();
         auto built = a.schedulers("schedulers", 0);
         return std::make_unique<ChainedScheduler>(a.optimizer(),
                                                   std::move(built));
       }},
  };
  return table;
}

std::unique_ptr<Scheduler> build(torch::optim::Optimizer& optimizer,
                                 const std::string& text,
                                 const Value& call,
                                 const std::vector<double>& group_ratios) {
  const auto& table = builders();
  const auto it = table.find(call.text);
  if (it == table.end()) {
    std::string known;
    for (const auto& entry : table) {
      known += known.empty() ? "" : ", ";
      known += entry.first;
    }
    fail_at(call.begin,
            "unknown scheduler '" + call.text + "' (known: " + known + ")");
  }
  Args args(text, call, optimizer, group_ratios);
  try {
    return it->second(args);
  } catch (const c10::Error& error) {
    // An option's own check, which names the scheduler, option and value.
    // (A nested scheduler's errors are TextErrors, located already.)
    fail_at(call.begin, error.what_without_backtrace());
  }
}

// Refuses ratios that do not fit the optimizer, before the text is read.
void check_group_ratios(const char* function,
                        const torch::optim::Optimizer& optimizer,
                        const ParseOptions& options) {
  const auto& ratios = options.group_ratios();
  const auto groups = optimizer.param_groups().size();
  TORCH_CHECK(ratios.empty() || ratios.size() == groups,
              function,
              ": group_ratios has ",
              ratios.size(),
              " values, expected one per param group of the optimizer (",
              groups,
              ") or none");
  for (std::size_t i = 0; i < ratios.size(); ++i) {
    TORCH_CHECK(std::isfinite(ratios[i]) && ratios[i] > 0,
                function,
                ": group_ratios[",
                i,
                "] must be a finite number > 0, got ",
                ratios[i]);
  }
}

std::unique_ptr<Scheduler> parse_located(torch::optim::Optimizer& optimizer,
                                         const std::string& text,
                                         const ParseOptions& options) {
  const Value call = Parser(text).parse();
  return build(optimizer, text, call, options.group_ratios());
}

// 1-based line and column (in bytes) of `position` in `text`.
std::pair<std::size_t, std::size_t> line_and_column(const std::string& text,
                                                    std::size_t position) {
  std::size_t line = 1;
  std::size_t line_start = 0;
  for (std::size_t i = 0; i < position && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      line_start = i + 1;
    }
  }
  return {line, position - line_start + 1};
}

// A schedule is a few lines; anything this long is the wrong file.
constexpr std::uintmax_t kMaxFileBytes = 1 << 20;

std::string read_schedule_file(const std::filesystem::path& path) {
  std::error_code error;
  const auto size = std::filesystem::file_size(path, error);
  TORCH_CHECK(!error,
              "parse_scheduler_file: cannot open ",
              path.string(),
              ": ",
              error.message());
  TORCH_CHECK(size <= kMaxFileBytes,
              "parse_scheduler_file: ",
              path.string(),
              " is ",
              size,
              " bytes, expected a schedule text of at most ",
              kMaxFileBytes,
              " bytes");
  std::ifstream in(path, std::ios::binary);
  TORCH_CHECK(in,
              "parse_scheduler_file: cannot open ",
              path.string(),
              ": ",
              std::strerror(errno));
  std::string text(size, '\0');
  in.read(text.data(), static_cast<std::streamsize>(size));
  TORCH_CHECK(static_cast<std::uintmax_t>(in.gcount()) == size,
              "parse_scheduler_file: ",
              path.string(),
              ": read error at byte ",
              in.gcount(),
              ", expected ",
              size,
              " bytes");
  return text;
}

}  // namespace

std::string to_text(const Scheduler& scheduler) {
  return call_text(scheduler.name(), scheduler.options_text());
}

std::unique_ptr<Scheduler> parse_scheduler(torch::optim::Optimizer& optimizer,
                                           const std::string& text,
                                           const ParseOptions& options) {
  check_group_ratios("parse_scheduler", optimizer, options);
  try {
    return parse_located(optimizer, text, options);
  } catch (const TextError& error) {
    TORCH_CHECK(false,
                "parse_scheduler: at position ",
                error.position,
                ": ",
                error.message);
  }
}

std::unique_ptr<Scheduler> parse_scheduler_file(
    torch::optim::Optimizer& optimizer,
    const std::filesystem::path& path,
    const ParseOptions& options) {
  check_group_ratios("parse_scheduler_file", optimizer, options);
  const std::string text = read_schedule_file(path);
  try {
    return parse_located(optimizer, text, options);
  } catch (const TextError& error) {
    const auto [line, column] = line_and_column(text, error.position);
    TORCH_CHECK(false,
                "parse_scheduler_file: ",
                path.string(),
                ":",
                line,
                ":",
                column,
                ": ",
                error.message);
  }
}

void register_lr_lambda(const std::string& name, LRLambda fn) {
  TORCH_CHECK(
      !name.empty() &&
          std::all_of(name.begin(),
                      name.end(),
                      [](char c) {
                        return std::isalnum(static_cast<unsigned char>(c)) ||
                               c == '_' || c == '.';
                      }),
      "register_lr_lambda: name must be letters, digits, '_' and '.', "
      "got \"",
      name,
      "\"");
  TORCH_CHECK(fn != nullptr,
              "register_lr_lambda: the function registered as \"",
              name,
              "\" is empty");
  std::lock_guard<std::mutex> lock(lambda_registry_mutex());
  lambda_registry()[name] = std::move(fn);
}

}  // namespace torchclr
