#include "swa.h"

#include <torchclr/update_bn.h>

#include <CLI/CLI.hpp>
#include <functional>
#include <string>

#include "caffe_batch_norm.h"
#include "cifar10_full.h"
#include "resnet56.h"
#include "superconvergence_resnet.h"

namespace torchclr::examples {
namespace {

using Forward = std::function<torch::Tensor(const torch::Tensor&)>;

// The forward of `module` if it is a `Model`, else empty.
template <typename Model>
Forward forward_as(const std::shared_ptr<torch::nn::Module>& module) {
  if (auto model = std::dynamic_pointer_cast<Model>(module)) {
    return [model](const torch::Tensor& x) { return model->forward(x); };
  }
  return nullptr;
}

// The forward of `module`, one of make_network's models.
Forward forward_of(const std::shared_ptr<torch::nn::Module>& module) {
  Forward forward;
  for (auto& candidate : {forward_as<Cifar10FullImpl>(module),
                          forward_as<ResNet56Impl>(module),
                          forward_as<SuperConvergenceResNetImpl>(module)}) {
    if (candidate) {
      forward = candidate;
    }
  }
  TORCH_CHECK(forward != nullptr,
              "SwaAverage: the averaged module is a ",
              module->name(),
              ", not one of make_network's models");
  return forward;
}

}  // namespace

void check_swa(int64_t swa_start, int64_t swa_every, int64_t iterations) {
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
}

SwaAverage::SwaAverage(const Network& model, int64_t start, int64_t every)
    : average_(model.module), start_(start), every_(every) {}

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
  const auto copy = average_->module();
  const Forward forward = forward_of(copy);
  // One pass in order for each kind of BatchNorm the model has (each call
  // leaves a model without its kind alone): the statistics of the averaged
  // weights.
  SplitBatches batches(train, batch_size, std::nullopt);
  torchclr::update_bn(batches, *copy, forward, device);
  recount_caffe_batch_norm(*copy, [&] {
    SplitBatches caffe_batches(train, batch_size, std::nullopt);
    while (auto batch = caffe_batches.next()) {
      forward(batch->input.to(device));
    }
    caffe_batches.finish();
  });
  return {copy, forward, {}};
}

void SwaAverage::save(torch::serialize::OutputArchive& archive) const {
  average_->save(archive);
}

void SwaAverage::load(torch::serialize::InputArchive& archive) {
  average_->load(archive);
}

}  // namespace torchclr::examples
