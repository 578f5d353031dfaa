// libFuzzer target for parse_scheduler, the reader of schedule texts (and,
// through it, of parse_scheduler_file's files).
//
// Input: the text. It is read onto SGD with momentum and two param groups.
// A c10::Error is the expected answer to a bad text, and also to a schedule
// that refuses a step (a OneCycleLR past its end, a momentum cycled below 0).
// Any other exception, a sanitizer report, a non-finite or negative LR or
// momentum within the first steps, or a scheduler whose to_text does not
// read back to the same text is a crash.

#include <ATen/Parallel.h>
#include <c10/util/Exception.h>
#include <torch/optim/sgd.h>
#include <torchclr/reduce_lr_on_plateau.h>
#include <torchclr/scheduler_text.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

namespace {

constexpr int kSteps = 40;

void require(bool ok, const char* what, const std::string& text) {
  if (!ok) {
    std::fprintf(stderr,
                 "scheduler_text_fuzz: invariant failed: %s\ntext: %s\n",
                 what,
                 text.c_str());
    std::abort();
  }
}

std::unique_ptr<torch::optim::SGD> make_optimizer() {
  std::vector<torch::optim::OptimizerParamGroup> groups;
  for (int g = 0; g < 2; ++g) {
    groups.emplace_back(
        std::vector<torch::Tensor>{torch::zeros({1}, torch::requires_grad())});
  }
  auto optimizer = std::make_unique<torch::optim::SGD>(
      std::move(groups), torch::optim::SGDOptions(0.1).momentum(0.9));
  optimizer->param_groups()[1].options().set_lr(0.02);
  return optimizer;
}

void require_finite(const torch::optim::SGD& optimizer,
                    const std::string& text) {
  for (const auto& group : optimizer.param_groups()) {
    const auto& options =
        static_cast<const torch::optim::SGDOptions&>(group.options());
    require(std::isfinite(options.lr()) && options.lr() >= 0,
            "LR not finite and >= 0",
            text);
    require(std::isfinite(options.momentum()) && options.momentum() >= 0,
            "momentum not finite and >= 0",
            text);
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
  at::set_num_threads(1);
  // Names a text may give LambdaLR and MultiplicativeLR; "grow" ends up
  // refused (its factor overflows), which is LambdaLR's own check.
  torchclr::register_lr_lambda("half", [](int64_t) { return 0.5; });
  torchclr::register_lr_lambda("inverse", [](int64_t step) {
    return 1.0 / (1.0 + static_cast<double>(step));
  });
  torchclr::register_lr_lambda(
      "grow", [](int64_t step) { return std::pow(1e10, step); });
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto optimizer = make_optimizer();
  std::unique_ptr<torchclr::Scheduler> scheduler;
  try {
    scheduler = torchclr::parse_scheduler(*optimizer, text);
  } catch (const c10::Error&) {
    return 0;
  }

  // What is read writes a text that reads back to itself.
  const std::string written = torchclr::to_text(*scheduler);
  auto other_optimizer = make_optimizer();
  std::unique_ptr<torchclr::Scheduler> reread;
  try {
    reread = torchclr::parse_scheduler(*other_optimizer, written);
  } catch (const c10::Error& error) {
    std::fprintf(stderr, "%s\n", error.what_without_backtrace());
    require(false, "to_text's text does not read back", text);
  }
  require(torchclr::to_text(*reread) == written,
          "to_text's text reads back to another text",
          text);

  require_finite(*optimizer, text);
  auto* plateau = dynamic_cast<torchclr::ReduceLROnPlateau*>(scheduler.get());
  try {
    for (int k = 1; k <= kSteps; ++k) {
      if (plateau != nullptr) {
        plateau->step(1.0 / k);
      } else {
        scheduler->step();
      }
      require_finite(*optimizer, text);
    }
  } catch (const c10::Error&) {
    return 0;
  }
  return 0;
}
