// clr_schedule: prints a learning-rate schedule as CSV (step, lr and momentum
// per param group) so it can be seen before training with it.
//
//   clr_schedule --policy triangular2 --steps 10000 --step-size-up 2000

#include <fmt/format.h>
#include <torch/torch.h>
#include <torchclr/files.h>
#include <torchclr/momentum.h>

#include <iostream>

#include "policy_cli.h"

namespace ex = torchclr::examples;

namespace {

std::unique_ptr<torch::optim::Optimizer> make_optimizer(const std::string& kind,
                                                        int groups) {
  std::vector<torch::optim::OptimizerParamGroup> param_groups;
  for (int i = 0; i < groups; ++i) {
    param_groups.emplace_back(
        std::vector<torch::Tensor>{torch::zeros({1}, torch::requires_grad())});
  }
  if (kind == "adam") {
    return std::make_unique<torch::optim::Adam>(
        param_groups, torch::optim::AdamOptions(0.001));
  }
  if (kind == "rmsprop") {
    return std::make_unique<torch::optim::RMSprop>(
        param_groups, torch::optim::RMSpropOptions(0.001).momentum(0.9));
  }
  return std::make_unique<torch::optim::SGD>(
      param_groups, torch::optim::SGDOptions(0.001).momentum(0.9));
}

double momentum_of(const torch::optim::OptimizerOptions& options) {
  return torchclr::get_momentum(options).value_or(0.0);
}

std::string render(torch::optim::Optimizer& optimizer,
                   torch::optim::LRScheduler& scheduler,
                   int64_t steps,
                   int64_t every) {
  const auto groups = optimizer.param_groups().size();
  std::string csv = "step";
  for (std::size_t g = 0; g < groups; ++g) {
    csv += fmt::format(",lr_{}", g);
  }
  for (std::size_t g = 0; g < groups; ++g) {
    csv += fmt::format(",momentum_{}", g);
  }
  csv += "\n";
  for (int64_t step = 0; step <= steps; ++step) {
    if (step > 0) {
      scheduler.step();
    }
    if (step % every != 0 && step != steps) {
      continue;
    }
    csv += fmt::format("{}", step);
    for (auto& group : optimizer.param_groups()) {
      csv += fmt::format(",{}", group.options().get_lr());
    }
    for (auto& group : optimizer.param_groups()) {
      csv += fmt::format(",{}", momentum_of(group.options()));
    }
    csv += "\n";
  }
  return csv;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Print a learning-rate schedule as CSV"};
  ex::PolicyFlags flags;
  int64_t steps = 10000;
  int64_t every = 1;
  int groups = 1;
  std::string optimizer_kind = "sgd";
  std::string out;
  ex::add_policy_flags(app, flags);
  app.add_option("--steps", steps, "Number of step() calls")
      ->check(ex::positive_number())
      ->capture_default_str();
  app.add_option("--every", every, "Print every n-th step")
      ->check(ex::positive_number())
      ->capture_default_str();
  app.add_option("--groups", groups, "Param groups")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  app.add_option("--optimizer", optimizer_kind, "sgd, adam or rmsprop")
      ->check(CLI::IsMember({"sgd", "adam", "rmsprop"}))
      ->capture_default_str();
  app.add_option("--out", out, "CSV file (default: standard output)");
  CLI11_PARSE(app, argc, argv);

  try {
    auto optimizer = make_optimizer(optimizer_kind, groups);
    auto scheduler = ex::make_scheduler(flags, *optimizer, steps);
    const std::string csv = render(*optimizer, *scheduler, steps, every);
    if (out.empty()) {
      std::cout << csv;
    } else {
      torchclr::write_file_atomically(out, csv, "--out");
    }
  } catch (const c10::Error& e) {
    std::cerr << "clr_schedule: " << e.what_without_backtrace() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "clr_schedule: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
