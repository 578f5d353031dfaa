// The training loop and its checkpoint: the log records the LR each
// iteration trained with, and a checkpoint that lacks a key is refused with
// a message naming the key.

#include "trainer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "tiny_run.h"

namespace torchclr::examples {
namespace {

namespace fs = std::filesystem;

TEST(TrainerTest, LogRecordsTheLrEachIterationTrainedWith) {
  const TrainResult result =
      train_network(tiny_run(), tiny_split(1), tiny_split(2));
  // StepLR from 0.01, halved every 3 steps: iterations 1-3 train at 0.01,
  // 4-6 at 0.005; a row holds its last iteration's LR. SGD's momentum 0.9
  // (Caffe's solver) never changes.
  ASSERT_EQ(result.log.size(), 3u);
  const int64_t iterations[] = {2, 4, 6};
  const double lrs[] = {0.01, 0.005, 0.005};
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(result.log[i].iteration, iterations[i]);
    EXPECT_DOUBLE_EQ(result.log[i].lr, lrs[i]);
    EXPECT_DOUBLE_EQ(result.log[i].momentum, 0.9);
  }
}

// A fresh temporary folder, removed at the end.
class CheckpointTest : public testing::Test {
 protected:
  void SetUp() override {
    folder_ = fs::temp_directory_path() /
              ("torchclr_checkpoint_test_" + std::to_string(::getpid()));
    fs::create_directories(folder_);
  }
  void TearDown() override {
    fs::remove_all(folder_);
  }
  fs::path folder_;
};

// Writes to `to` the scalar keys of the checkpoint `from` but `dropped`, and
// none of its nested archives (model, optimizer, scheduler).
void copy_scalars_but(const fs::path& from,
                      const fs::path& to,
                      const std::string& dropped) {
  torch::serialize::InputArchive in;
  in.load_from(from.string());
  torch::serialize::OutputArchive out;
  for (const char* key : {"iteration",
                          "schedule",
                          "optimizer_kind",
                          "iterations",
                          "seed",
                          "batch_size",
                          "world_size",
                          "settings"}) {
    c10::IValue value;
    ASSERT_TRUE(in.try_read(key, value)) << key;
    if (key != dropped) {
      out.write(key, value);
    }
  }
  out.save_to(to.string());
}

TEST_F(CheckpointTest, MissingKeyIsRefusedNamingIt) {
  const DataSplit train = tiny_split(1);
  const DataSplit test = tiny_split(2);
  TrainConfig config = tiny_run();
  const fs::path written = folder_ / "written.pt";
  config.output.checkpoint = written.string();
  train_network(config, train, test);

  config.output.resume = true;
  // Keys read before the nested archives; then the first nested one, which
  // every copy lacks.
  for (const std::string key :
       {"schedule", "world_size", "settings", "iteration"}) {
    const fs::path copy = folder_ / (key + ".pt");
    copy_scalars_but(written, copy, key);
    config.output.checkpoint = copy.string();
    EXPECT_THAT(
        [&] { train_network(config, train, test); },
        testing::ThrowsMessage<std::runtime_error>(testing::HasSubstr(
            "cannot resume from " + copy.string() + ": it has no '" + key +
            "' (it was not written by this version of "
            "cifar10_clr): start the run afresh")));
  }
  const fs::path copy = folder_ / "no_model.pt";
  copy_scalars_but(written, copy, "");
  config.output.checkpoint = copy.string();
  EXPECT_THAT([&] { train_network(config, train, test); },
              testing::ThrowsMessage<std::runtime_error>(
                  testing::HasSubstr(": it has no 'model'")));
}

}  // namespace
}  // namespace torchclr::examples
