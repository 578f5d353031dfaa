// Fashion-MNIST with a cyclical learning rate, top to bottom: the range test
// picks the LR bounds, CyclicLR steps once per batch in a plain loop, and the
// model, optimizer and scheduler are saved and loaded back. --schedule
// replaces the CyclicLR by any schedule text.
//
//   fashion_mnist --data /usr/share/datasets/fashion-mnist --epochs 2
//   fashion_mnist --schedule 'OneCycleLR(max_lr=0.1, total_steps=1876)'

#include <fmt/format.h>
#include <torch/torch.h>
#include <torchclr/torchclr.h>

#include <CLI/CLI.hpp>
#include <filesystem>
#include <memory>
#include <sstream>
#include <stdexcept>

namespace fs = std::filesystem;

struct NetImpl : torch::nn::Module {
  NetImpl()
      : conv1(register_module("conv1", torch::nn::Conv2d(1, 10, 5))),
        conv2(register_module("conv2", torch::nn::Conv2d(10, 20, 5))),
        fc1(register_module("fc1", torch::nn::Linear(320, 50))),
        fc2(register_module("fc2", torch::nn::Linear(50, 10))) {}

  torch::Tensor forward(torch::Tensor x) {
    x = torch::relu(torch::max_pool2d(conv1->forward(x), 2));
    x = torch::relu(torch::max_pool2d(conv2->forward(x), 2));
    x = torch::relu(fc1->forward(x.view({-1, 320})));
    return fc2->forward(x);  // logits, for cross_entropy
  }

  torch::nn::Conv2d conv1, conv2;
  torch::nn::Linear fc1, fc2;
};
TORCH_MODULE(Net);

// torch::save into memory, then written atomically: a kill mid-write never
// leaves half a file.
template <typename T>
void save(const T& value, const fs::path& path) {
  std::ostringstream bytes;
  torch::save(value, bytes);
  torchclr::write_file_atomically(path, bytes.str(), "fashion_mnist");
}

// `text` on `optimizer`, the parser's errors naming the flag.
std::unique_ptr<torchclr::Scheduler> parse_flag(
    torch::optim::Optimizer& optimizer, const std::string& text) {
  try {
    return torchclr::parse_scheduler(optimizer, text);
  } catch (const c10::Error& e) {
    throw std::invalid_argument(std::string("--schedule: ") +
                                e.what_without_backtrace());
  }
}

// The accuracy of `model` on the batches of `test_loader` (10,000 images).
template <typename Loader>
double test_accuracy(Net& model, Loader& test_loader) {
  torch::NoGradGuard no_grad;
  model->eval();
  int64_t correct = 0;
  for (const auto& batch : test_loader) {
    correct += model->forward(batch.data)
                   .argmax(1)
                   .eq(batch.target)
                   .sum()
                   .template item<int64_t>();
  }
  return correct / 10000.0;
}

// Saves the three into `out`, loads them into fresh ones and checks that the
// loaded scheduler is where the saved one was.
void save_and_reload(Net& model,
                     torch::optim::SGD& optimizer,
                     torchclr::Scheduler& scheduler,
                     const fs::path& out) {
  fs::create_directories(out);
  save(model, out / "model.pt");
  save(optimizer, out / "optimizer.pt");
  save(scheduler, out / "scheduler.pt");
  Net restored_model;
  torch::optim::SGD restored_optimizer(
      restored_model->parameters(),
      torch::optim::SGDOptions(0.01).momentum(0.9));
  // The schedule's text rebuilds it; its state file puts it where it was.
  const auto restored_scheduler = torchclr::parse_scheduler(
      restored_optimizer, torchclr::to_text(scheduler));
  torch::load(restored_model, (out / "model.pt").string());
  torch::load(restored_optimizer, (out / "optimizer.pt").string());
  torch::load(*restored_scheduler, (out / "scheduler.pt").string());
  TORCH_CHECK(restored_scheduler->get_last_lr() == scheduler.get_last_lr(),
              "the loaded scheduler is not where the saved one was");
  fmt::print("saved and reloaded model, optimizer and scheduler in {}\n",
             out.string());
}

int run(const std::string& root,
        const std::string& schedule,
        int64_t epochs,
        int64_t max_iterations,
        const fs::path& out) {
  using torchclr::data::FashionMNIST;
  using torchclr::data::Mode;
  torch::manual_seed(1);
  auto train_loader = torch::data::make_data_loader(
      FashionMNIST(root), torch::data::DataLoaderOptions().batch_size(64));
  auto test_loader = torch::data::make_data_loader(
      FashionMNIST(root, Mode::kTest),
      torch::data::DataLoaderOptions().batch_size(1000));

  Net model;
  torch::optim::SGD optimizer(model->parameters(),
                              torch::optim::SGDOptions(0.01).momentum(0.9));

  // 1. The LR range test (Smith 2017, section 3.3); model and optimizer are
  // restored afterwards.
  torchclr::LRRangeTest range_test(
      model,
      optimizer,
      torchclr::LRRangeTestOptions().start_lr(1e-4).end_lr(1).num_iter(100));
  const auto found = range_test.run(*train_loader);
  TORCH_CHECK(found.suggestions.base_lr && found.suggestions.max_lr,
              "the range test found no LR bounds");
  fmt::print("range test: base_lr {:.3g}, max_lr {:.3g}\n",
             *found.suggestions.base_lr,
             *found.suggestions.max_lr);

  // 2. Triangular CLR between them, half a cycle per epoch (or --schedule).
  const int64_t per_epoch = (60000 + 63) / 64;
  std::unique_ptr<torchclr::Scheduler> scheduler;
  if (schedule.empty()) {
    scheduler = std::make_unique<torchclr::CyclicLR>(
        optimizer, found.to_cyclic_options(per_epoch, 1.0));
  } else {
    scheduler = parse_flag(optimizer, schedule);
  }
  fmt::print("schedule: {}\n", torchclr::to_text(*scheduler));

  // 3. A plain training loop: the scheduler steps after every batch.
  const int64_t limit =
      max_iterations > 0 ? max_iterations : epochs * per_epoch;
  int64_t iteration = 0;
  for (int64_t epoch = 1; epoch <= epochs && iteration < limit; ++epoch) {
    for (auto& batch : *train_loader) {
      optimizer.zero_grad();
      auto loss = torch::nn::functional::cross_entropy(
          model->forward(batch.data), batch.target);
      loss.backward();
      optimizer.step();
      scheduler->step();
      if (++iteration % 200 == 0 || iteration == limit) {
        fmt::print("epoch {} iteration {}  lr {:.4f}  loss {:.4f}\n",
                   epoch,
                   iteration,
                   scheduler->get_last_lr()[0],
                   loss.item<double>());
      }
      if (iteration == limit) {
        break;
      }
    }
  }

  // 4. Test accuracy.
  fmt::print("test accuracy {:.4f} after {} iterations\n",
             test_accuracy(model, *test_loader),
             iteration);

  // 5. Save model, optimizer and scheduler, and load them into fresh ones:
  // training would continue exactly where it stopped.
  save_and_reload(model, optimizer, *scheduler, out);
  return 0;
}

int main(int argc, char** argv) {
  CLI::App app{"Fashion-MNIST with a cyclical learning rate"};
  std::string root = "/usr/share/datasets/fashion-mnist";
  int64_t epochs = 2;
  int64_t iterations = 0;
  std::string out = "out/fashion_mnist";
  std::string schedule;
  app.add_option("--data", root, "Folder of the IDX files")
      ->capture_default_str();
  app.add_option("--epochs", epochs)
      ->check(CLI::Range(int64_t{1}, int64_t{1000}))
      ->capture_default_str();
  app.add_option("--iterations", iterations, "Stop after N batches (0: none)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--out", out, "Folder for the saved files")
      ->capture_default_str();
  app.add_option("--schedule",
                 schedule,
                 "Any schedule in PyTorch's constructor syntax, e.g. "
                 "'OneCycleLR(max_lr=0.1, total_steps=1876)' (default: "
                 "triangular CyclicLR between the range test's bounds)");
  CLI11_PARSE(app, argc, argv);
  try {
    return run(root, schedule, epochs, iterations, out);
  } catch (const c10::Error& e) {
    fmt::print(stderr, "fashion_mnist: {}\n", e.what_without_backtrace());
  } catch (const std::exception& e) {
    fmt::print(stderr, "fashion_mnist: {}\n", e.what());
  }
  return 1;
}
