// clr_schedule: prints any learning-rate schedule text as CSV (step, lr and
// momentum per param group) so it can be seen before training with it.
//
//   clr_schedule --steps 10000 --schedule \
//     'CyclicLR(base_lr=0.001, max_lr=0.006, mode="triangular2")'
//   clr_schedule --schedule-file my.schedule --groups 2

#include <fmt/format.h>
#include <torch/torch.h>
#include <torchclr/files.h>
#include <torchclr/momentum.h>

#include <iostream>

#include "cli_checks.h"
#include "schedule_flags.h"

namespace ex = torchclr::examples;

namespace {

// `groups` one-parameter groups at `lr` times each group's ratio (1 when
// there are no ratios).
std::unique_ptr<torch::optim::Optimizer> make_optimizer(
    const std::string& kind,
    int groups,
    double lr,
    const std::vector<double>& ratios) {
  std::vector<torch::optim::OptimizerParamGroup> param_groups;
  for (int i = 0; i < groups; ++i) {
    param_groups.emplace_back(
        std::vector<torch::Tensor>{torch::zeros({1}, torch::requires_grad())});
  }
  std::unique_ptr<torch::optim::Optimizer> optimizer;
  if (kind == "adam") {
    optimizer = std::make_unique<torch::optim::Adam>(
        param_groups, torch::optim::AdamOptions(lr));
  } else if (kind == "rmsprop") {
    optimizer = std::make_unique<torch::optim::RMSprop>(
        param_groups, torch::optim::RMSpropOptions(lr).momentum(0.9));
  } else {
    optimizer = std::make_unique<torch::optim::SGD>(
        param_groups, torch::optim::SGDOptions(lr).momentum(0.9));
  }
  for (std::size_t i = 0; i < ratios.size() && i < param_groups.size(); ++i) {
    optimizer->param_groups()[i].options().set_lr(lr * ratios[i]);
  }
  return optimizer;
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
  ex::ScheduleSpec schedule{
      "CyclicLR(base_lr=0.001, max_lr=0.006, step_size_up=2000, "
      "mode=\"triangular2\")",
      ""};
  double lr = 0.001;
  std::vector<double> ratios;
  int64_t steps = 10000;
  int64_t every = 1;
  int groups = 1;
  std::string optimizer_kind = "sgd";
  std::string out;
  ex::add_schedule_flags(app, schedule);
  app.add_option("--lr",
                 lr,
                 "The optimizer's LR before the schedule: what relative "
                 "schedules (StepLR, ExponentialLR ...) scale")
      ->check(ex::finite_number())
      ->check(ex::positive_number())
      ->capture_default_str();
  auto* ratios_option =
      app.add_option("--group-ratios",
                     ratios,
                     "Caffe's lr_mult, one per group (e.g. 1,2): each group's "
                     "--lr and every single LR of the text times its ratio; "
                     "sets --groups")
          ->delimiter(',')
          ->check(ex::finite_number())
          ->check(ex::positive_number());
  app.add_option("--steps", steps, "Number of step() calls")
      ->check(ex::positive_number())
      ->capture_default_str();
  app.add_option("--every", every, "Print every n-th step")
      ->check(ex::positive_number())
      ->capture_default_str();
  app.add_option("--groups", groups, "Param groups")
      ->check(CLI::Range(1, 1000))
      ->excludes(ratios_option)
      ->capture_default_str();
  app.add_option("--optimizer", optimizer_kind, "sgd, adam or rmsprop")
      ->check(CLI::IsMember({"sgd", "adam", "rmsprop"}))
      ->capture_default_str();
  app.add_option("--out", out, "CSV file (default: standard output)");
  CLI11_PARSE(app, argc, argv);

  try {
    if (!ratios.empty()) {
      groups = static_cast<int>(ratios.size());
    }
    auto optimizer = make_optimizer(optimizer_kind, groups, lr, ratios);
    auto scheduler = ex::make_scheduler(
        schedule, *optimizer, torchclr::ParseOptions().group_ratios(ratios));
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
