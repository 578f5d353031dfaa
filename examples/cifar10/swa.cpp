#include "swa.h"

#include <torchclr/update_bn.h>

#include <CLI/CLI.hpp>
#include <string>

namespace torchclr::examples {

void check_swa(const std::string& model,
               int64_t swa_start,
               int64_t swa_every,
               int64_t iterations) {
  if (swa_start == 0) {
    return;
  }
  if (swa_start < 0 || swa_start > iterations) {
    throw CLI::ValidationError("--swa-start",
                               "must be in [1, --iterations " +
                                   std::to_string(iterations) +
                                   "] (the first iteration averaged), got " +
                                   std::to_string(swa_start));
  }
  if (swa_every < 1) {
    throw CLI::ValidationError(
        "--swa-every", "must be >= 1, got " + std::to_string(swa_every));
  }
  if (model != "cifar10_full") {
    throw CLI::ValidationError(
        "--swa-start",
        "SWA here averages cifar10_full, whose module AveragedModel can copy "
        "(torch::nn::Cloneable); --model " +
            model + " is not cloneable yet");
  }
}

SwaAverage::SwaAverage(const Network& model, int64_t start, int64_t every)
    : average_(std::dynamic_pointer_cast<Cifar10FullImpl>(model.module)),
      start_(start),
      every_(every) {}

void SwaAverage::after_iteration(int64_t iteration, const Network& model) {
  if (iteration >= start_ && (iteration - start_) % every_ == 0) {
    average_->update_parameters(*model.module);
  }
}

int64_t SwaAverage::n_averaged() const {
  return average_->n_averaged();
}

Network SwaAverage::finish(const DataSplit& train,
                           int64_t batch_size,
                           torch::Device device) {
  auto copy = average_->module();
  // One pass in order: the statistics of the averaged weights.
  SplitBatches batches(train, batch_size, std::nullopt);
  torchclr::update_bn(batches, copy, device);
  return {
      copy, [copy](const torch::Tensor& x) { return copy->forward(x); }, {}};
}

void SwaAverage::save(torch::serialize::OutputArchive& archive) const {
  average_->save(archive);
}

void SwaAverage::load(torch::serialize::InputArchive& archive) {
  average_->load(archive);
}

}  // namespace torchclr::examples
