#include "test_util.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <system_error>

namespace torchclr::test {

std::string test_data_path(const std::string& relative) {
  return std::string(TORCHCLR_TEST_DATA_DIR) + "/" + relative;
}

Reference load_reference(const std::string& name) {
  const std::string path = test_data_path("reference/" + name + ".csv");
  std::ifstream in(path);
  TORCH_CHECK(in, "cannot open reference file ", path);
  Reference ref;
  std::string line;
  std::getline(in, line);
  std::stringstream header(line);
  std::string cell;
  std::getline(header, cell, ',');  // "step"
  while (std::getline(header, cell, ',')) {
    ref.columns.push_back(cell);
    if (cell.rfind("lr_", 0) == 0) {
      ++ref.num_groups;
    } else {
      ref.has_momentum = true;
    }
  }
  while (std::getline(in, line)) {
    std::stringstream row(line);
    std::getline(row, cell, ',');
    const int64_t step = std::stoll(cell);
    std::vector<double> values;
    while (std::getline(row, cell, ',')) {
      values.push_back(std::strtod(cell.c_str(), nullptr));
    }
    TORCH_CHECK(values.size() == ref.columns.size(), "bad row in ", path);
    ref.rows[step] = values;
    ref.last_step = step;
  }
  TORCH_CHECK(!ref.rows.empty(), "empty reference file ", path);
  return ref;
}

std::vector<torch::optim::OptimizerParamGroup> make_groups(std::size_t count) {
  std::vector<torch::optim::OptimizerParamGroup> groups;
  for (std::size_t i = 0; i < count; ++i) {
    groups.emplace_back(
        std::vector<torch::Tensor>{torch::zeros({1}, torch::requires_grad())});
  }
  return groups;
}

TempDir::TempDir() {
  std::string name = "torchclr";
  if (const auto* info =
          ::testing::UnitTest::GetInstance()->current_test_info()) {
    name += std::string("_") + info->test_suite_name() + "_" + info->name();
  }
  // Parameterised tests have '/' in their names; keep the directory one level.
  std::replace(name.begin(), name.end(), '/', '_');
  std::string pattern =
      (std::filesystem::temp_directory_path() / (name + "_XXXXXX")).string();
  // mkdtemp creates a new directory under a name no other test or process
  // holds, so removing it later cannot touch anyone else's files.
  TORCH_CHECK(::mkdtemp(pattern.data()) != nullptr,
              "TempDir: cannot create ",
              pattern,
              ": ",
              std::strerror(errno));
  path_ = pattern;
}

TempDir::~TempDir() {
  // The error_code overload: a destructor must not throw.
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

void write_bytes(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
  ASSERT_TRUE(out) << path;
}

void expect_close(double actual, double expected, const std::string& context) {
  const double scale = std::max(std::abs(actual), std::abs(expected));
  EXPECT_LE(std::abs(actual - expected), 1e-12 * scale)
      << context << ": got " << actual << ", PyTorch " << expected;
}

torch::Tensor regression_inputs() {
  return torch::sin(0.37 * torch::arange(32, torch::kDouble)).reshape({8, 4});
}

torch::Tensor regression_targets() {
  return torch::cos(0.23 * torch::arange(24, torch::kDouble)).reshape({8, 3});
}

}  // namespace torchclr::test
