#include "training_fingerprint.h"

namespace torchclr::test {
namespace {

// Same dtype, shape and bits (NaN == NaN, 0.0 != -0.0).
bool bitwise_equal(const torch::Tensor& a, const torch::Tensor& b) {
  if (a.defined() != b.defined()) {
    return false;
  }
  if (!a.defined()) {
    return true;
  }
  if (a.scalar_type() != b.scalar_type() || a.sizes() != b.sizes()) {
    return false;
  }
  if (a.scalar_type() == torch::kFloat) {
    return torch::equal(a.view(torch::kInt), b.view(torch::kInt));
  }
  if (a.scalar_type() == torch::kDouble) {
    return torch::equal(a.view(torch::kLong), b.view(torch::kLong));
  }
  return torch::equal(a, b);
}

// The tensors and step counts of one param state, whatever the optimizer.
std::pair<std::vector<torch::Tensor>, int64_t> state_fields(
    const torch::optim::OptimizerParamState& state) {
  using namespace torch::optim;
  if (auto* s = dynamic_cast<const SGDParamState*>(&state)) {
    return {{s->momentum_buffer()}, 0};
  }
  if (auto* s = dynamic_cast<const AdamParamState*>(&state)) {
    return {{s->exp_avg(), s->exp_avg_sq(), s->max_exp_avg_sq()}, s->step()};
  }
  if (auto* s = dynamic_cast<const AdamWParamState*>(&state)) {
    return {{s->exp_avg(), s->exp_avg_sq(), s->max_exp_avg_sq()}, s->step()};
  }
  if (auto* s = dynamic_cast<const RMSpropParamState*>(&state)) {
    return {{s->square_avg(), s->momentum_buffer(), s->grad_avg()}, s->step()};
  }
  ADD_FAILURE() << "unknown param state type";
  return {};
}

bool options_equal(const torch::optim::OptimizerOptions& a,
                   const torch::optim::OptimizerOptions& b) {
  using namespace torch::optim;
  if (auto* x = dynamic_cast<const SGDOptions*>(&a)) {
    return *x == dynamic_cast<const SGDOptions&>(b);
  }
  if (auto* x = dynamic_cast<const AdamOptions*>(&a)) {
    return *x == dynamic_cast<const AdamOptions&>(b);
  }
  if (auto* x = dynamic_cast<const AdamWOptions*>(&a)) {
    return *x == dynamic_cast<const AdamWOptions&>(b);
  }
  if (auto* x = dynamic_cast<const RMSpropOptions*>(&a)) {
    return *x == dynamic_cast<const RMSpropOptions&>(b);
  }
  ADD_FAILURE() << "unknown options type";
  return false;
}

}  // namespace

std::unique_ptr<torch::optim::Optimizer> make_named_optimizer(
    const std::string& kind, Net& net) {
  using namespace torch::optim;
  std::unique_ptr<Optimizer> optimizer;
  if (kind == "SGD") {
    optimizer = std::make_unique<SGD>(
        two_groups(net),
        SGDOptions(0.05).momentum(0.9).nesterov(true).weight_decay(1e-4));
    static_cast<SGDOptions&>(optimizer->param_groups()[1].options())
        .momentum(0.5);
  } else if (kind == "Adam") {
    optimizer = std::make_unique<Adam>(two_groups(net),
                                       AdamOptions(1e-3).amsgrad(true));
    static_cast<AdamOptions&>(optimizer->param_groups()[1].options())
        .betas({0.8, 0.99});
  } else if (kind == "AdamW") {
    optimizer = std::make_unique<AdamW>(two_groups(net),
                                        AdamWOptions(1e-3).weight_decay(0.05));
    static_cast<AdamWOptions&>(optimizer->param_groups()[1].options())
        .betas({0.85, 0.98});
  } else {
    optimizer = std::make_unique<RMSprop>(
        two_groups(net), RMSpropOptions(1e-3).momentum(0.9).centered(true));
    static_cast<RMSpropOptions&>(optimizer->param_groups()[1].options())
        .momentum(0.7);
  }
  optimizer->param_groups()[1].options().set_lr(0.0123);
  return optimizer;
}

Fingerprint fingerprint(Net& net, torch::optim::Optimizer& optimizer) {
  Fingerprint print;
  for (const auto& item : net->named_parameters()) {
    print.tensors.emplace_back(item.key(), item.value().detach().clone());
    const auto& grad = item.value().grad();
    print.grads.emplace_back(
        item.key(), grad.defined() ? grad.detach().clone() : torch::Tensor());
    print.grad_identity.push_back(grad.defined() ? grad.unsafeGetTensorImpl()
                                                 : nullptr);
  }
  for (const auto& item : net->named_buffers()) {
    print.tensors.emplace_back(item.key(), item.value().detach().clone());
  }
  for (const auto& module : net->modules()) {
    print.training.push_back(module->is_training());
  }
  for (const auto& group : optimizer.param_groups()) {
    print.options.push_back(group.options().clone());
  }
  for (const auto& [key, state] : optimizer.state()) {
    auto fields = state_fields(*state);
    for (auto& tensor : fields.first) {
      if (tensor.defined()) {
        tensor = tensor.clone();
      }
    }
    print.state[key] = fields;
  }
  return print;
}

void expect_same(const Fingerprint& before,
                 const Fingerprint& after,
                 const std::string& context) {
  ASSERT_EQ(before.tensors.size(), after.tensors.size()) << context;
  for (std::size_t i = 0; i < before.tensors.size(); ++i) {
    EXPECT_TRUE(
        bitwise_equal(before.tensors[i].second, after.tensors[i].second))
        << context << ": " << before.tensors[i].first;
  }
  for (std::size_t i = 0; i < before.grads.size(); ++i) {
    EXPECT_TRUE(bitwise_equal(before.grads[i].second, after.grads[i].second))
        << context << ": grad of " << before.grads[i].first;
    EXPECT_EQ(before.grad_identity[i], after.grad_identity[i])
        << context << ": grad tensor of " << before.grads[i].first;
  }
  EXPECT_EQ(before.training, after.training) << context;
  ASSERT_EQ(before.options.size(), after.options.size()) << context;
  for (std::size_t i = 0; i < before.options.size(); ++i) {
    EXPECT_TRUE(options_equal(*before.options[i], *after.options[i]))
        << context << ": options of group " << i;
  }
  ASSERT_EQ(before.state.size(), after.state.size()) << context;
  for (const auto& [key, fields] : before.state) {
    ASSERT_EQ(after.state.count(key), 1u) << context;
    const auto& other = after.state.at(key);
    EXPECT_EQ(fields.second, other.second) << context << ": step";
    ASSERT_EQ(fields.first.size(), other.first.size()) << context;
    for (std::size_t i = 0; i < fields.first.size(); ++i) {
      EXPECT_TRUE(bitwise_equal(fields.first[i], other.first[i]))
          << context << ": state tensor " << i;
    }
  }
}

}  // namespace torchclr::test
