// Compares the model weights of two cifar10_clr checkpoints tensor by tensor:
// the relative distance |a - b| / |b| (L2 norms over the tensor). Prints the
// largest; exits 0 when every tensor's is at most RTOL, 1 when not, 2 when the
// checkpoints cannot be compared (unreadable, other tensor names or shapes).
//
//   checkpoint_diff A.pt B.pt RTOL

#include <torch/torch.h>

#include <algorithm>
#include <iostream>
#include <map>
#include <string>

namespace {

// Every tensor under `archive`, by its dotted path (sub-archives are the
// modules' children).
void collect(torch::serialize::InputArchive& archive,
             const std::string& prefix,
             std::map<std::string, torch::Tensor>& tensors) {
  for (const auto& key : archive.keys()) {
    torch::Tensor tensor;
    torch::serialize::InputArchive child;
    if (archive.try_read(key, tensor)) {
      tensors[prefix + key] = tensor;
    } else if (archive.try_read(key, child)) {
      collect(child, prefix + key + ".", tensors);
    }
  }
}

std::map<std::string, torch::Tensor> model_weights(const std::string& path) {
  torch::serialize::InputArchive checkpoint, model;
  checkpoint.load_from(path);
  TORCH_CHECK(checkpoint.try_read("model", model),
              path,
              " has no model: not a cifar10_clr checkpoint");
  std::map<std::string, torch::Tensor> tensors;
  collect(model, "", tensors);
  TORCH_CHECK(!tensors.empty(), path, ": the model holds no tensors");
  return tensors;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::cerr << "usage: checkpoint_diff A.pt B.pt RTOL\n";
    return 2;
  }
  try {
    const auto a = model_weights(argv[1]);
    const auto b = model_weights(argv[2]);
    const double rtol = std::stod(argv[3]);
    TORCH_CHECK(a.size() == b.size(),
                "the models hold ",
                a.size(),
                " and ",
                b.size(),
                " tensors");
    double largest = 0;
    std::string worst;
    int64_t outside = 0;
    for (const auto& [name, tensor] : a) {
      const auto other = b.find(name);
      TORCH_CHECK(other != b.end(), argv[2], " has no ", name);
      TORCH_CHECK(tensor.sizes() == other->second.sizes(),
                  name,
                  ": shapes ",
                  tensor.sizes(),
                  " and ",
                  other->second.sizes());
      const auto x = tensor.to(torch::kFloat64);
      const auto y = other->second.to(torch::kFloat64);
      // Relative to the tensor's own scale: cifar10_full's layers start at
      // standard deviations from 1e-4 to 1e-2.
      const double relative = (x - y).norm().item<double>() /
                              std::max(y.norm().item<double>(), 1e-30);
      outside += relative > rtol;
      if (relative >= largest) {
        largest = relative;
        worst = name;
      }
    }
    std::cout << "checkpoint_diff: " << a.size()
              << " tensors, largest |a - b| / |b| " << largest << " (" << worst
              << "), " << outside << " above " << rtol << "\n";
    return outside == 0 ? 0 : 1;
  } catch (const c10::Error& e) {
    std::cerr << "checkpoint_diff: " << e.what_without_backtrace() << "\n";
  } catch (const std::exception& e) {
    std::cerr << "checkpoint_diff: " << e.what() << "\n";
  }
  return 2;
}
