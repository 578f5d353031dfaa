#include <c10/util/Exception.h>
#include <torch/nn/functional/loss.h>
#include <torch/utils.h>
#include <torchclr/detail/checks.h>
#include <torchclr/detail/training_snapshot.h>
#include <torchclr/lr_finder.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace torchclr {
namespace {

constexpr const char* kName = "LRRangeTest";

// Device equality that lets "cuda" match "cuda:0".
bool on_device(const torch::Device& actual, const torch::Device& wanted) {
  return actual.type() == wanted.type() &&
         (!wanted.has_index() || actual.index() == wanted.index());
}

torch::Tensor to_device(const torch::Tensor& tensor,
                        const torch::Device& device) {
  return tensor.defined() ? tensor.to(device) : tensor;
}

void check_single_value(const torch::Tensor& loss, const char* option) {
  TORCH_CHECK(loss.defined(), kName, ": ", option, " returned no tensor");
  TORCH_CHECK(loss.numel() == 1,
              kName,
              ": ",
              option,
              " must return a single value, got shape ",
              loss.sizes());
}

}  // namespace

LRRangeTest::LRRangeTest(std::shared_ptr<torch::nn::Module> module,
                         ForwardFunction forward,
                         torch::optim::Optimizer& optimizer,
                         LRRangeTestOptions options)
    : module_(std::move(module)),
      forward_(std::move(forward)),
      optimizer_(optimizer),
      options_(std::move(options)) {
  TORCH_CHECK(module_ != nullptr, kName, ": the module is null");
  TORCH_CHECK(forward_ != nullptr || options_.train_step() != nullptr,
              kName,
              ": the forward function is empty and no train_step is set");
  TORCH_CHECK(!optimizer_.param_groups().empty(),
              kName,
              ": the optimizer has no param groups");
  detail::check_positive(options_.start_lr(), kName, "start_lr");
  detail::check_positive(options_.end_lr(), kName, "end_lr");
  TORCH_CHECK(options_.end_lr() > options_.start_lr(),
              kName,
              ": end_lr (",
              options_.end_lr(),
              ") must be above start_lr (",
              options_.start_lr(),
              ")");
  TORCH_CHECK(std::isfinite(options_.end_lr() / options_.start_lr()),
              kName,
              ": end_lr / start_lr (",
              options_.end_lr(),
              " / ",
              options_.start_lr(),
              ") overflows a double");
  TORCH_CHECK(options_.num_iter() >= 2,
              kName,
              ": num_iter must be >= 2, got ",
              options_.num_iter());
  detail::check_unit_interval(options_.smooth_f(), kName, "smooth_f");
  TORCH_CHECK(options_.diverge_threshold() > 1,
              kName,
              ": diverge_threshold must be > 1 (infinity disables it), got ",
              options_.diverge_threshold());
  const auto& ratios = options_.group_ratios();
  if (!ratios.empty()) {
    const std::size_t groups = optimizer_.param_groups().size();
    TORCH_CHECK(ratios.size() == 1 || ratios.size() == groups,
                kName,
                ": group_ratios must have one value or one per param group (",
                groups,
                "), got ",
                ratios.size());
    detail::check_positive(ratios, kName, "group_ratios");
    TORCH_CHECK(ratios.front() == 1,
                kName,
                ": group_ratios[0] must be 1 (the swept LR is group 0's), got ",
                ratios.front());
  }
  detail::check_positive_count(
      options_.accumulation_steps(), kName, "accumulation_steps");
  detail::check_positive_count(options_.eval_every(), kName, "eval_every");
}

std::vector<double> LRRangeTest::resolved_group_ratios() const {
  const auto& groups = optimizer_.param_groups();
  const auto& ratios = options_.group_ratios();
  if (!ratios.empty()) {
    TORCH_CHECK(ratios.size() == 1 || ratios.size() == groups.size(),
                kName,
                ": group_ratios has ",
                ratios.size(),
                " values but the optimizer now has ",
                groups.size(),
                " param groups");
    return ratios.size() == 1 ? std::vector<double>(groups.size(), ratios[0])
                              : ratios;
  }
  std::vector<double> lrs;
  for (const auto& group : groups) {
    lrs.push_back(group.options().get_lr());
  }
  for (std::size_t i = 0; i < lrs.size(); ++i) {
    TORCH_CHECK(std::isfinite(lrs[i]) && lrs[i] > 0,
                kName,
                ": group_ratios come from the param groups' LRs, which must "
                "be finite and > 0, but group ",
                i,
                " has lr ",
                lrs[i],
                "; set group_ratios");
  }
  std::vector<double> from_lrs;
  for (double lr : lrs) {
    from_lrs.push_back(lr / lrs.front());
  }
  return from_lrs;
}

LRRangeTestResult LRRangeTest::run(BatchSource& train,
                                   BatchSource* validation) {
  for (const auto& parameter : module_->parameters()) {
    TORCH_CHECK(on_device(parameter.device(), options_.device()),
                kName,
                ": the module has a parameter on ",
                parameter.device(),
                " but device is ",
                options_.device(),
                "; move the module there before creating the optimizer");
  }
  TORCH_CHECK(validation == nullptr || forward_ != nullptr,
              kName,
              ": a validation pass needs a forward function");
  detail::TrainingSnapshot snapshot(*module_, optimizer_, kName);
  LRRangeTestResult result;
  try {
    result = sweep(train, validation);
  } catch (...) {
    snapshot.restore();
    // The caller's exception matters more than a failure to drain a loader.
    try {
      train.finish();
      if (validation != nullptr) {
        validation->finish();
      }
    } catch (...) {
    }
    throw;
  }
  snapshot.restore();
  train.finish();
  if (validation != nullptr) {
    validation->finish();
  }
  return result;
}

LRRangeTestResult LRRangeTest::sweep(BatchSource& train,
                                     BatchSource* validation) {
  LRRangeTestResult result;
  result.metric = options_.metric();
  result.stop_iteration = options_.num_iter();
  result.group_ratios = resolved_group_ratios();
  LossSmoother smoother(options_.smooth_f());
  std::vector<double> smoothed;
  double best = std::numeric_limits<double>::infinity();
  module_->train();
  auto& groups = optimizer_.param_groups();
  for (int64_t iteration = 0; iteration < options_.num_iter(); ++iteration) {
    const double lr = range_test_lr(iteration, options_);
    result.stop_lr = lr;
    for (std::size_t i = 0; i < groups.size(); ++i) {
      groups[i].options().set_lr(lr * result.group_ratios[i]);
    }
    optimizer_.zero_grad();
    const double loss = accumulate_gradients(train).item<double>() /
                        static_cast<double>(options_.accumulation_steps());
    if (!std::isfinite(loss)) {
      result.stop_reason = RangeTestStopReason::kNonFiniteLoss;
      result.stop_iteration = iteration;
      break;
    }
    optimizer_.step();
    RangeTestPoint point{iteration, lr, loss, smoother.add(loss), std::nullopt};
    if (validation != nullptr && (iteration + 1) % options_.eval_every() == 0) {
      point.metric = evaluate(*validation);
    }
    result.points.push_back(point);
    smoothed.push_back(point.smoothed_loss);
    if (options_.on_progress()) {
      options_.on_progress()(iteration, lr, loss);
    }
    best = std::min(best, point.smoothed_loss);
    // A ratio to the best means nothing once the best is <= 0 (and
    // inf * negative would stop every sweep), so the rule waits for a
    // positive best.
    const bool over_threshold =
        best > 0 && std::isfinite(options_.diverge_threshold()) &&
        point.smoothed_loss > options_.diverge_threshold() * best;
    // climb_back_point finds the first such point, so it is this one when it
    // is found while the sweep is still running.
    const bool climbed_back =
        options_.stop_on_climb_back() && climb_back_point(smoothed);
    if (over_threshold || climbed_back) {
      result.stop_reason = RangeTestStopReason::kDiverged;
      result.stop_iteration = iteration;
      break;
    }
  }
  std::vector<double> lrs;
  for (const auto& point : result.points) {
    lrs.push_back(point.lr);
  }
  result.suggestions =
      suggest_lrs(lrs, smoothed, options_.num_iter(), options_.smooth_f());
  return result;
}

torch::Tensor LRRangeTest::accumulate_gradients(BatchSource& train) {
  const int64_t steps = options_.accumulation_steps();
  const auto& train_step = options_.train_step();
  // Summed on the device: one synchronisation per iteration, not per batch.
  torch::Tensor total;
  for (int64_t step = 0; step < steps; ++step) {
    const Batch batch = next_batch(train, "training");
    torch::Tensor loss;
    if (train_step) {
      loss = train_step({to_device(batch.input, options_.device()),
                         to_device(batch.target, options_.device())});
      check_single_value(loss, "train_step");
    } else {
      loss = batch_loss(batch);
      (steps == 1 ? loss : loss / static_cast<double>(steps)).backward();
    }
    total = step == 0 ? loss.detach() : total + loss.detach();
  }
  if (train_step && steps > 1) {
    // The hook's backward passes summed whole-batch gradients; the step
    // takes their mean, as the default path's scaled losses give it.
    torch::NoGradGuard no_grad;
    for (const auto& group : optimizer_.param_groups()) {
      for (const auto& parameter : group.params()) {
        if (parameter.grad().defined()) {
          parameter.grad().div_(static_cast<double>(steps));
        }
      }
    }
  }
  return total;
}

Batch LRRangeTest::next_batch(BatchSource& source, const char* which) {
  if (auto batch = source.next()) {
    return std::move(*batch);
  }
  // The pass ended: cycle, as torch-lr-finder does.
  auto batch = source.next();
  TORCH_CHECK(batch.has_value(), kName, ": the ", which, " data is empty");
  return std::move(*batch);
}

torch::Tensor LRRangeTest::loss_of(const torch::Tensor& output,
                                   const torch::Tensor& target) const {
  return options_.loss_fn()
             ? options_.loss_fn()(output, target)
             : torch::nn::functional::cross_entropy(output, target);
}

torch::Tensor LRRangeTest::batch_loss(const Batch& batch) {
  const torch::Tensor output = forward_(batch.input.to(options_.device()));
  const torch::Tensor target = batch.target.to(options_.device());
  torch::Tensor loss = loss_of(output, target);
  check_single_value(loss, "loss_fn");
  return loss;
}

double LRRangeTest::evaluate(BatchSource& validation) {
  torch::NoGradGuard no_grad;
  module_->eval();
  double total = 0;
  int64_t count = 0;
  while (auto batch = validation.next()) {
    const torch::Tensor input = batch->input.to(options_.device());
    const torch::Tensor target = batch->target.to(options_.device());
    TORCH_CHECK(input.dim() >= 1, kName, ": validation input has no batch dim");
    const int64_t size = input.size(0);
    const torch::Tensor output = forward_(input);
    if (options_.metric() == RangeTestMetric::kLoss) {
      const torch::Tensor loss = loss_of(output, target);
      total += loss.item<double>() * static_cast<double>(size);
    } else {
      TORCH_CHECK(output.dim() == 2 && target.dim() == 1 &&
                      target.size(0) == output.size(0),
                  kName,
                  ": metric kAccuracy needs output [N, C] and target [N] class "
                  "indices, got output ",
                  output.sizes(),
                  " and target ",
                  target.sizes());
      total += output.argmax(1).eq(target).sum().item<double>();
    }
    count += size;
  }
  module_->train();
  TORCH_CHECK(count > 0, kName, ": the validation data is empty");
  return total / static_cast<double>(count);
}

CyclicLROptions LRRangeTestResult::to_cyclic_options(
    int64_t iters_per_epoch, double step_size_epochs) const {
  detail::check_positive_count(iters_per_epoch, kName, "iters_per_epoch");
  detail::check_positive(step_size_epochs, kName, "step_size_epochs");
  TORCH_CHECK(
      suggestions.base_lr && suggestions.max_lr,
      kName,
      ": to_cyclic_options needs the base_lr and max_lr suggestions, but the "
      "smoothed loss never fell below its first value in the ",
      points.size(),
      " recorded points");
  const double steps = step_size_epochs * static_cast<double>(iters_per_epoch);
  TORCH_CHECK(steps < std::ldexp(1.0, 63),
              kName,
              ": step_size_epochs (",
              step_size_epochs,
              ") * iters_per_epoch (",
              iters_per_epoch,
              ") is more steps than int64_t counts");
  const auto step_size = std::max<int64_t>(1, std::llround(steps));
  if (group_ratios.empty()) {
    return CyclicLROptions(*suggestions.base_lr, *suggestions.max_lr)
        .step_size_up(step_size);
  }
  std::vector<double> base_lrs;
  std::vector<double> max_lrs;
  for (double ratio : group_ratios) {
    base_lrs.push_back(*suggestions.base_lr * ratio);
    max_lrs.push_back(*suggestions.max_lr * ratio);
  }
  return CyclicLROptions(base_lrs, max_lrs).step_size_up(step_size);
}

std::optional<AccuracyBounds> LRRangeTestResult::accuracy_bounds(
    double min_rise, std::size_t half_window) const {
  TORCH_CHECK(metric == RangeTestMetric::kAccuracy,
              "LRRangeTestResult::accuracy_bounds: the run's metric must be "
              "accuracy (RangeTestMetric::kAccuracy), got the validation loss");
  std::vector<double> lrs;
  std::vector<double> accuracies;
  for (const auto& point : points) {
    if (point.metric) {
      lrs.push_back(point.lr);
      accuracies.push_back(*point.metric);
    }
  }
  return suggest_from_accuracy(lrs, accuracies, min_rise, half_window);
}

double range_test_lr(int64_t iteration, const LRRangeTestOptions& options) {
  TORCH_CHECK(iteration >= 0 && iteration < options.num_iter(),
              kName,
              ": iteration must be in [0, num_iter = ",
              options.num_iter(),
              "), got ",
              iteration);
  const double progress = static_cast<double>(iteration) /
                          static_cast<double>(options.num_iter() - 1);
  const double start = options.start_lr();
  const double end = options.end_lr();
  switch (options.sweep()) {
    case LRSweep::kExponential:
      return start * std::pow(end / start, progress);
    case LRSweep::kLinear:
      return start + (end - start) * progress;
  }
  TORCH_INTERNAL_ASSERT(false, "unknown LRSweep");
}

}  // namespace torchclr
