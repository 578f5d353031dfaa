// cifar10_clr: the paper's CIFAR-10 experiments (Smith 2017) on Caffe's
// cifar10_full network, on CPU or CUDA, one subcommand per experiment:
//
//   cifar10_clr workflow --dataset fashion-mnist   (range test, CLR vs fixed)
//   cifar10_clr compare --dataset fashion-mnist --scale 0.02   (Table 1)
//   cifar10_clr train --schedule 'CyclicLR(...)' --data DIR --out out/tri2
//   cifar10_clr runs --scale 0.02   (the papers' runs as schedule texts)
//   cifar10_clr range-test --dataset fashion-mnist
//   scripts/launch_local.sh 2 -- cifar10_clr train ...   (data-parallel)

#include <fmt/format.h>

#include <vector>

#include "commands.h"

namespace ex = torchclr::examples;

int main(int argc, char** argv) {
  CLI::App app{"Cyclical learning rates on CIFAR-10 / Fashion-MNIST"};
  app.require_subcommand(1);
  const std::vector<ex::Command> commands = {
      ex::add_workflow_command(app),
      ex::add_compare_command(app),
      ex::add_train_command(app),
      ex::add_range_test_command(app),
      ex::add_runs_command(app),
  };
  CLI11_PARSE(app, argc, argv);
  try {
    for (const auto& command : commands) {
      if (*command.app) {
        return command.run();
      }
    }
  } catch (const c10::Error& e) {
    fmt::print(stderr, "cifar10_clr: {}\n", e.what_without_backtrace());
  } catch (const std::exception& e) {
    fmt::print(stderr, "cifar10_clr: {}\n", e.what());
  }
  return 1;
}
