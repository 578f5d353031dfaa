#pragma once

// Small helpers shared by the tests: reference CSV files and fixtures.

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <limits>
#include <map>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

namespace torchclr::test {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

/// Options that must be refused, and a part of the message that says why.
template <typename Options>
struct BadOption {
  Options options;
  std::string message;
};

template <typename Options>
void PrintTo(const BadOption<Options>& c, std::ostream* out) {
  *out << c.message;
}

/// The path of `relative` under tests/data/.
std::string test_data_path(const std::string& relative);

/// A reference sequence written by tests/data/generate_reference.py.
struct Reference {
  std::vector<std::string> columns;  // "lr_0", ..., "momentum_0", ...
  std::map<int64_t, std::vector<double>> rows;  // step -> values by column
  int64_t last_step = 0;
  std::size_t num_groups = 0;
  bool has_momentum = false;
};

Reference load_reference(const std::string& name);

/// One scalar parameter per param group.
std::vector<torch::optim::OptimizerParamGroup> make_groups(std::size_t count);

/// An optimizer with one group per entry of `lrs`, each with that LR.
template <typename Optimizer, typename Options>
std::unique_ptr<Optimizer> make_optimizer(const std::vector<double>& lrs,
                                          Options defaults) {
  auto optimizer =
      std::make_unique<Optimizer>(make_groups(lrs.size()), defaults);
  for (std::size_t i = 0; i < lrs.size(); ++i) {
    optimizer->param_groups()[i].options().set_lr(lrs[i]);
  }
  return optimizer;
}

/// SGD with the given momentum, one group per entry of `lrs`.
inline std::unique_ptr<torch::optim::SGD> make_sgd(
    const std::vector<double>& lrs, double momentum = 0.9) {
  return make_optimizer<torch::optim::SGD>(
      lrs, torch::optim::SGDOptions(lrs.front()).momentum(momentum));
}

/// The float64 regression data of the optimizer references
/// (tests/data/generate_adadelta_reference.py): 8 rows of 4 inputs, 3 targets.
torch::Tensor regression_inputs();
torch::Tensor regression_targets();

/// Expects |a - b| <= 1e-12 * max(|a|, |b|) (relative), with context.
void expect_close(double actual, double expected, const std::string& context);

/// A fresh, uniquely named directory under the system temp dir (named after
/// the running test), removed with everything in it when the object goes out
/// of scope, so also when an ASSERT returns early. Not copyable: one owner.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  std::string path() const {
    return path_.string();
  }
  std::string file(const std::string& name) const {
    return (path_ / name).string();
  }

 private:
  std::filesystem::path path_;
};

/// Writes `bytes` to `path` (a test fixture file); fails the test on error.
void write_bytes(const std::string& path, const std::vector<uint8_t>& bytes);

/// A short, stable gtest parameter name: the index, then the first word of
/// `text` (an option name, say) with anything but [A-Za-z0-9] as '_'. Stable
/// between runs, unlike gtest's default for structs (their bytes, pointers
/// included), so CTest's per-test names and filters stay the same.
inline std::string param_name(std::size_t index, const std::string& text) {
  std::string name = std::to_string(index);
  const auto end = text.find(' ');
  const std::string word = text.substr(0, end);
  if (!word.empty()) {
    name += '_';
  }
  for (char c : word) {
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                       (c >= '0' && c <= '9');
    name += alnum ? c : '_';
  }
  return name;
}

}  // namespace torchclr::test
