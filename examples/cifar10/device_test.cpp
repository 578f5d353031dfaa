// Where cifar10_clr's data lives and how training runs on a CUDA device.
// The _CUDA tests skip without one.

#include <gtest/gtest.h>
#include <torch/torch.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "data.h"
#include "paper_runs.h"
#include "trainer.h"

namespace torchclr::examples {
namespace {

namespace fs = std::filesystem;

// A small CIFAR-10 in the official binary layout (label byte, then 3x32x32
// pixel bytes), learnable: class c is brighter by 20 c on average.
class GeneratedCifar10 {
 public:
  explicit GeneratedCifar10(int records_per_file)
      : dir_(fs::temp_directory_path() /
             ("cifar10_clr_device_test_" + std::to_string(::getpid()))) {
    fs::create_directories(dir_);
    std::mt19937 rng(7);
    for (const char* name : {"data_batch_1.bin",
                             "data_batch_2.bin",
                             "data_batch_3.bin",
                             "data_batch_4.bin",
                             "data_batch_5.bin",
                             "test_batch.bin"}) {
      std::ofstream file(dir_ / name, std::ios::binary);
      for (int i = 0; i < records_per_file; ++i) {
        const int label = static_cast<int>(rng() % 10);
        file.put(static_cast<char>(label));
        for (int p = 0; p < 3072; ++p) {
          file.put(static_cast<char>(rng() % 56 + 20 * label));
        }
      }
    }
  }
  ~GeneratedCifar10() {
    fs::remove_all(dir_);
  }

  DataFlags flags(const std::string& device) const {
    DataFlags flags;
    flags.dir = dir_.string();
    flags.device = device;
    return flags;
  }

 private:
  fs::path dir_;
};

void expect_same_batches(const DataSplit& a, const DataSplit& b) {
  SplitBatches first(a, 20, 3), second(b, 20, 3);
  for (int64_t k : {0, 7, 12}) {
    auto x = first.batch_at(k), y = second.batch_at(k);
    EXPECT_TRUE(torch::equal(x.input.cpu(), y.input.cpu())) << "batch " << k;
    EXPECT_TRUE(torch::equal(x.target.cpu(), y.target.cpu())) << "batch " << k;
  }
}

TEST(PlaceSplitsTest, LeavesCpuSplitsWhereTheyAre) {
  GeneratedCifar10 data(20);
  auto [train, test] = load_data(data.flags("cpu"));
  const void* images = train.images.data_ptr();
  auto [placed_train, placed_test] = place_splits(train, test, torch::kCPU);
  EXPECT_EQ(placed_train.images.data_ptr(), images);
  EXPECT_TRUE(placed_test.images.device().is_cpu());
  EXPECT_FALSE(placed_train.images.is_pinned());
}

TEST(PlaceSplitsTest, RefusesAShareOutsideZeroToOne) {
  GeneratedCifar10 data(20);
  auto [train, test] = load_data(data.flags("cpu"));
  try {
    place_splits(train, test, torch::kCPU, 1.5);
    FAIL() << "device_share 1.5 was accepted";
  } catch (const c10::Error& e) {
    EXPECT_NE(
        std::string(e.what()).find("device_share must be in [0, 1], got 1.5"),
        std::string::npos)
        << e.what();
  }
}

TEST(PlaceSplitsTest, SplitsLandOnTheDevice_CUDA) {
  if (!torch::cuda::is_available()) {
    GTEST_SKIP() << "no CUDA device";
  }
  GeneratedCifar10 data(40);
  auto [cpu_train, cpu_test] = load_data(data.flags("cpu"));
  auto [train, test] = load_data(data.flags("cuda"));
  EXPECT_TRUE(train.images.is_cuda());
  EXPECT_TRUE(train.targets.is_cuda());
  EXPECT_TRUE(test.images.is_cuda());
  EXPECT_TRUE(torch::equal(train.images.cpu(), cpu_train.images));
  // Batches are cut on the device and are the CPU run's batches.
  SplitBatches batches(train, 20, 3);
  EXPECT_TRUE(batches.batch_at(4).input.is_cuda());
  expect_same_batches(train, cpu_train);
}

TEST(PlaceSplitsTest, SplitsThatDoNotFitArePinned_CUDA) {
  if (!torch::cuda::is_available()) {
    GTEST_SKIP() << "no CUDA device";
  }
  GeneratedCifar10 data(40);
  auto [cpu_train, cpu_test] = load_data(data.flags("cpu"));
  // A share of 0: nothing fits on the device.
  auto [train, test] = place_splits(cpu_train, cpu_test, torch::kCUDA, 0.0);
  EXPECT_TRUE(train.images.device().is_cpu());
  EXPECT_TRUE(train.images.is_pinned());
  EXPECT_TRUE(test.targets.is_pinned());
  SplitBatches batches(train, 20, 3);
  EXPECT_TRUE(batches.batch_at(4).input.is_pinned());
  EXPECT_TRUE(batches.batch_at(4).target.is_pinned());
  expect_same_batches(train, cpu_train);
}

TrainConfig short_run(torch::Device device) {
  TrainConfig config;
  config.iterations = 30;
  config.eval_every = 10;
  config.batch_size = 20;
  config.run.schedule.text = cyclic_text("triangular2", 0.001, 0.006, 10);
  config.device = device;
  config.output.progress = false;
  return config;
}

// Training on the device reaches the CPU's numbers: the same batches, the
// same model, fp32 sums in another order.
void expect_like_cpu(const TrainResult& cuda, const TrainResult& cpu) {
  ASSERT_EQ(cuda.log.size(), cpu.log.size());
  for (size_t i = 0; i < cpu.log.size(); ++i) {
    EXPECT_EQ(cuda.log[i].iteration, cpu.log[i].iteration);
    EXPECT_NEAR(cuda.log[i].train_loss,
                cpu.log[i].train_loss,
                1e-3 * std::abs(cpu.log[i].train_loss));
    // 100 test images: a prediction or two near a tie may flip.
    EXPECT_NEAR(cuda.log[i].test_accuracy, cpu.log[i].test_accuracy, 0.021);
  }
}

TEST(TrainerTest, TrainsOnTheDeviceAsOnTheCpu_CUDA) {
  if (!torch::cuda::is_available()) {
    GTEST_SKIP() << "no CUDA device";
  }
  GeneratedCifar10 data(100);
  auto [cpu_train, cpu_test] = load_data(data.flags("cpu"));
  const auto cpu = train_network(short_run(torch::kCPU), cpu_train, cpu_test);
  // The loss fell: the run trained, so agreeing with it means something.
  EXPECT_LT(cpu.log.back().train_loss, cpu.log.front().train_loss);

  auto [train, test] = load_data(data.flags("cuda"));
  ASSERT_TRUE(train.images.is_cuda());
  expect_like_cpu(train_network(short_run(torch::kCUDA), train, test), cpu);

  auto [pinned_train, pinned_test] =
      place_splits(cpu_train, cpu_test, torch::kCUDA, 0.0);
  ASSERT_TRUE(pinned_train.images.is_pinned());
  expect_like_cpu(
      train_network(short_run(torch::kCUDA), pinned_train, pinned_test), cpu);
}

}  // namespace
}  // namespace torchclr::examples
