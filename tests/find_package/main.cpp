// Builds against the installed package and checks one schedule end to end.
#include <torch/torch.h>
#include <torchclr/torchclr.h>

#include <cmath>
#include <iostream>

int main() {
  torch::optim::SGD optimizer({torch::zeros({1}, torch::requires_grad())},
                              torch::optim::SGDOptions(0.1).momentum(0.9));
  torchclr::CyclicLR scheduler(
      optimizer, torchclr::CyclicLROptions(0.001, 0.006).step_size_up(2));
  scheduler.step();
  const double lr = optimizer.param_groups()[0].options().get_lr();
  std::cout << "lr after one step: " << lr << "\n";
  return std::abs(lr - 0.0035) < 1e-15 ? 0 : 1;
}
