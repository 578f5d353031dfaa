#include <c10/util/Exception.h>
#include <torch/nn/functional/loss.h>
#include <torch/serialize/archive.h>
#include <torch/utils.h>
#include <torchclr/detail/checks.h>
#include <torchclr/detail/options_text.h>
#include <torchclr/detail/version.h>
#include <torchclr/range_test.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>
#include <sstream>
#include <unordered_set>

namespace torchclr {
namespace {

namespace fs = std::filesystem;

constexpr const char* kName = "LRRangeTest";

// torch-lr-finder's defaults for its steepest-gradient suggestion.
constexpr std::size_t kSteepestSkipStart = 10;
constexpr std::size_t kSteepestSkipEnd = 5;
// fastai drops the last 5 points before its valley rule (and num_iter / 10
// at the start).
constexpr std::size_t kValleySkipEnd = 5;
// The paper's lower bound: the loss has clearly started to fall once 10% of
// its total fall is done (a fixed fraction is independent of the loss scale).
constexpr double kStartedToImprove = 0.1;
// The paper's upper bound: the bottom of the curve (moved back by the
// smoothing's lag), halved: the loss stops improving some way before its
// minimum, which lies past the stable LRs (see docs/range_test.md).
constexpr double kMaxLrBackoff = 2;
// Smith's rule of thumb: base_lr is 1/3 to 1/4 of max_lr.
constexpr double kBaseLrRuleOfThumb = 4;

// The bias-corrected EMA shared by the sweep and smooth_losses().
class LossSmoother {
 public:
  explicit LossSmoother(double smooth_f) : smooth_f_(smooth_f) {}

  double add(double loss) {
    average_ = (1 - smooth_f_) * average_ + smooth_f_ * loss;
    ++count_;
    // 1 - (1 - f)^k, which stays > 0 also where 1 - f rounds to 1.
    return average_ /
           -std::expm1(static_cast<double>(count_) * std::log1p(-smooth_f_));
  }

 private:
  double smooth_f_;
  double average_ = 0;
  int64_t count_ = 0;
};

void check_curve(const std::vector<double>& lrs,
                 const std::vector<double>& smoothed_losses,
                 const char* function) {
  TORCH_CHECK(lrs.size() == smoothed_losses.size(),
              function,
              ": lrs and smoothed_losses must have the same length, got ",
              lrs.size(),
              " and ",
              smoothed_losses.size());
  for (std::size_t i = 0; i < lrs.size(); ++i) {
    TORCH_CHECK(std::isfinite(lrs[i]) && lrs[i] > 0 &&
                    std::isfinite(smoothed_losses[i]),
                function,
                ": point ",
                i,
                " is not finite (lr ",
                lrs[i],
                ", loss ",
                smoothed_losses[i],
                ")");
    TORCH_CHECK(i == 0 || lrs[i] > lrs[i - 1],
                function,
                ": lrs must be strictly increasing, but lrs[",
                i,
                "] = ",
                lrs[i],
                " follows ",
                lrs[i > 0 ? i - 1 : 0]);
  }
}

// A copy of everything a sweep changes, put back by restore(). Tensors are
// deep copies; optimizer states are copied through their own serialize(), the
// only generic deep copy LibTorch offers (clone() shares the tensors, and
// Optimizer::load neither removes states created since nor restores options).
class TrainingSnapshot {
 public:
  TrainingSnapshot(torch::nn::Module& module,
                   torch::optim::Optimizer& optimizer)
      : optimizer_(optimizer) {
    std::unordered_set<const void*> seen;
    auto add = [&](const torch::Tensor& tensor) {
      if (tensor.defined() &&
          seen.insert(tensor.unsafeGetTensorImpl()).second) {
        SavedTensor saved{tensor, tensor.detach().clone(), {}, {}};
        // grad() of a non-leaf warns; parameters and buffers are leaves.
        saved.leaf = tensor.is_leaf();
        if (saved.leaf && tensor.grad().defined()) {
          saved.grad = tensor.grad();
          saved.grad_value = tensor.grad().detach().clone();
        }
        tensors_.push_back(std::move(saved));
      }
    };
    for (const auto& parameter : module.parameters()) {
      add(parameter);
    }
    for (const auto& buffer : module.buffers()) {
      add(buffer);
    }
    for (const auto& group : optimizer.param_groups()) {
      for (const auto& parameter : group.params()) {
        add(parameter);
      }
    }
    module.apply([this](torch::nn::Module& submodule) {
      training_.emplace_back(&submodule, submodule.is_training());
    });
    for (const auto& group : optimizer.param_groups()) {
      options_.push_back(group.options().clone());
    }
    save_states();
  }

  // Leaves the snapshot spent: the saved states move into the optimizer.
  void restore() {
    torch::NoGradGuard no_grad;
    for (auto& saved : tensors_) {
      saved.live.copy_(saved.value);
      if (saved.grad.defined()) {
        saved.grad.copy_(saved.grad_value);
      }
      // Only where needed: mutable_grad() gives a buffer autograd metadata.
      if (saved.leaf && (saved.grad.defined() || saved.live.grad().defined())) {
        saved.live.mutable_grad() = saved.grad;
      }
    }
    // Pre-order: a parent's train() resets its children, which come after.
    for (auto& [submodule, training] : training_) {
      submodule->train(training);
    }
    auto& groups = optimizer_.param_groups();
    TORCH_CHECK(groups.size() == options_.size(),
                kName,
                ": the optimizer had ",
                options_.size(),
                " param groups before the run and has ",
                groups.size(),
                " after; cannot restore it");
    for (std::size_t i = 0; i < groups.size(); ++i) {
      groups[i].set_options(std::move(options_[i]));
    }
    auto& state = optimizer_.state();
    state.clear();
    for (auto& [key, param_state] : states_) {
      state[key] = std::move(param_state);
    }
  }

 private:
  struct SavedTensor {
    torch::Tensor live;
    torch::Tensor value;
    torch::Tensor grad;  // the original gradient tensor, refilled in place
    torch::Tensor grad_value;
    bool leaf = true;
  };

  void save_states() {
    const auto& state = optimizer_.state();
    if (state.empty()) {
      return;
    }
    torch::serialize::OutputArchive out;
    std::size_t index = 0;
    for (const auto& [key, param_state] : state) {
      torch::serialize::OutputArchive entry(out.compilation_unit());
      param_state->serialize(entry);
      out.write(std::to_string(index++), entry);
      states_.emplace_back(key, param_state->clone());
    }
    std::stringstream bytes;
    out.save_to(bytes);
    torch::serialize::InputArchive in;
    in.load_from(bytes);
    for (std::size_t i = 0; i < states_.size(); ++i) {
      torch::serialize::InputArchive entry;
      in.read(std::to_string(i), entry);
      // Overwrites the shallow clone's tensors with the deserialized copies.
      states_[i].second->serialize(entry);
    }
  }

  torch::optim::Optimizer& optimizer_;
  std::vector<SavedTensor> tensors_;
  std::vector<std::pair<torch::nn::Module*, bool>> training_;
  std::vector<std::unique_ptr<torch::optim::OptimizerOptions>> options_;
  std::vector<std::pair<detail::OptimizerStateKey,
                        std::unique_ptr<torch::optim::OptimizerParamState>>>
      states_;
};

// Device equality that lets "cuda" match "cuda:0".
bool on_device(const torch::Device& actual, const torch::Device& wanted) {
  return actual.type() == wanted.type() &&
         (!wanted.has_index() || actual.index() == wanted.index());
}

std::string short_double(double value) {
  std::ostringstream out;
  out.precision(3);
  out << value;
  return out.str();
}

std::string plot_script(const LRRangeTestResult& result,
                        const fs::path& csv_path) {
  const auto& points = result.points;
  // Y range: the part of the curve up to the smoothed minimum, so that the
  // divergence at the end does not flatten everything else.
  std::size_t lowest = 0;
  for (std::size_t i = 1; i < points.size(); ++i) {
    if (points[i].smoothed_loss < points[lowest].smoothed_loss) {
      lowest = i;
    }
  }
  double y_low = std::numeric_limits<double>::infinity();
  double y_high = -y_low;
  for (std::size_t i = 0; i < points.size(); ++i) {
    y_low = std::min({y_low, points[i].loss, points[i].smoothed_loss});
    if (i <= lowest) {
      y_high = std::max({y_high, points[i].loss, points[i].smoothed_loss});
    }
  }
  const double margin = 0.05 * (y_high - y_low);

  std::ostringstream script;
  script << "set terminal pngcairo size 1000,640 noenhanced\n"
         << "set datafile separator ','\n"
         << "set logscale x\n"
         << "set format x '%.0e'\n"
         << "set xlabel 'learning rate'\n"
         << "set ylabel 'loss'\n"
         << "set grid\n"
         << "set key below horizontal\n"
         << "set bmargin 6\n";
  if (y_high > y_low) {
    script << "set yrange [" << detail::exact_text(y_low - margin) << ":"
           << detail::exact_text(y_high + margin) << "]\n";
  }
  const auto& s = result.suggestions;
  const std::vector<std::tuple<const char*, std::optional<double>, const char*>>
      marks = {
          {"base_lr", s.base_lr, "#2ca02c"},
          {"max_lr", s.max_lr, "#d62728"},
          {"steepest", s.steepest_lr, "#9467bd"},
          {"valley", s.valley_lr, "#8c564b"},
      };
  int tag = 1;
  for (const auto& [label, lr, color] : marks) {
    if (!lr) {
      continue;
    }
    const std::string x = detail::exact_text(*lr);
    script << "set arrow " << tag << " from first " << x
           << ", graph 0 to first " << x << ", graph 1 nohead lw 2 dt "
           << (tag <= 2 ? 1 : 3) << " lc rgb '" << color << "'\n";
    script << "set label " << tag << " " << gnuplot_quote(label)
           << " at first " << x << ", graph " << (0.97 - 0.05 * (tag - 1))
           << " offset 0.5,0 tc rgb '" << color << "'\n";
    ++tag;
  }
  std::string title = "LR range test";
  if (s.base_lr && s.max_lr) {
    title += ": base_lr " + short_double(*s.base_lr) + ", max_lr " +
             short_double(*s.max_lr);
  }
  script << "set title " << gnuplot_quote(title) << "\n";
  const bool has_metric = std::any_of(
      points.begin(), points.end(), [](const RangeTestPoint& point) {
        return point.metric.has_value();
      });
  const char* metric = result.metric == RangeTestMetric::kLoss
                           ? "validation loss"
                           : "validation accuracy";
  if (has_metric) {
    script << "set y2label " << gnuplot_quote(metric) << "\n"
           << "set y2tics\nset ytics nomirror\n";
  }
  const std::string data = gnuplot_quote(csv_path.string());
  script << "plot " << data
         << " skip 1 using 2:3 with lines lc rgb '#b0b0b0' title 'loss', "
         << data
         << " skip 1 using 2:4 with lines lw 2 lc rgb '#1f77b4' "
            "title 'smoothed loss'";
  if (has_metric) {
    script << ", " << data
           << " skip 1 using 2:5 axes x1y2 with linespoints pt 7 ps 0.5 "
              "lc rgb '#ff7f0e' title "
           << gnuplot_quote(metric);
  }
  script << "\n";
  return script.str();
}

}  // namespace

Batch detail::to_batch(const std::vector<torch::data::Example<>>& examples) {
  TORCH_CHECK(!examples.empty(), kName, ": got an empty batch");
  std::vector<torch::Tensor> inputs;
  std::vector<torch::Tensor> targets;
  inputs.reserve(examples.size());
  targets.reserve(examples.size());
  for (const auto& example : examples) {
    inputs.push_back(example.data);
    targets.push_back(example.target);
  }
  return {torch::stack(inputs), torch::stack(targets)};
}

LRRangeTest::LRRangeTest(std::shared_ptr<torch::nn::Module> module,
                         ForwardFunction forward,
                         torch::optim::Optimizer& optimizer,
                         LRRangeTestOptions options)
    : module_(std::move(module)),
      forward_(std::move(forward)),
      optimizer_(optimizer),
      options_(std::move(options)) {
  TORCH_CHECK(module_ != nullptr, kName, ": the module is null");
  TORCH_CHECK(forward_ != nullptr, kName, ": the forward function is empty");
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
  detail::check_positive_count(
      options_.accumulation_steps(), kName, "accumulation_steps");
  detail::check_positive_count(options_.eval_every(), kName, "eval_every");
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
  TrainingSnapshot snapshot(*module_, optimizer_);
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
  const int64_t steps = options_.accumulation_steps();
  LRRangeTestResult result;
  result.metric = options_.metric();
  result.stop_iteration = options_.num_iter();
  LossSmoother smoother(options_.smooth_f());
  double best = std::numeric_limits<double>::infinity();
  module_->train();
  for (int64_t iteration = 0; iteration < options_.num_iter(); ++iteration) {
    const double lr = range_test_lr(iteration, options_);
    result.stop_lr = lr;
    for (auto& group : optimizer_.param_groups()) {
      group.options().set_lr(lr);
    }
    optimizer_.zero_grad();
    // Summed on the device: one synchronisation per iteration, not per batch.
    torch::Tensor total;
    for (int64_t step = 0; step < steps; ++step) {
      const torch::Tensor loss = batch_loss(next_batch(train, "training"));
      (steps == 1 ? loss : loss / static_cast<double>(steps)).backward();
      total = step == 0 ? loss.detach() : total + loss.detach();
    }
    const double loss = total.item<double>() / static_cast<double>(steps);
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
    if (options_.on_progress()) {
      options_.on_progress()(iteration, lr, loss);
    }
    best = std::min(best, point.smoothed_loss);
    // A ratio to the best means nothing once the best is <= 0 (and
    // inf * negative would stop every sweep), so the rule waits for a
    // positive best.
    if (best > 0 && std::isfinite(options_.diverge_threshold()) &&
        point.smoothed_loss > options_.diverge_threshold() * best) {
      result.stop_reason = RangeTestStopReason::kDiverged;
      result.stop_iteration = iteration;
      break;
    }
  }
  std::vector<double> lrs;
  std::vector<double> smoothed;
  for (const auto& point : result.points) {
    lrs.push_back(point.lr);
    smoothed.push_back(point.smoothed_loss);
  }
  result.suggestions =
      suggest_lrs(lrs, smoothed, options_.num_iter(), options_.smooth_f());
  return result;
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
  TORCH_CHECK(loss.numel() == 1,
              kName,
              ": loss_fn must return a single value, got shape ",
              loss.sizes());
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
  return CyclicLROptions(*suggestions.base_lr, *suggestions.max_lr)
      .step_size_up(step_size);
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

std::vector<double> smooth_losses(const std::vector<double>& losses,
                                  double smooth_f) {
  detail::check_unit_interval(smooth_f, "smooth_losses", "smooth_f");
  LossSmoother smoother(smooth_f);
  std::vector<double> smoothed;
  smoothed.reserve(losses.size());
  for (double loss : losses) {
    smoothed.push_back(smoother.add(loss));
  }
  return smoothed;
}

std::optional<double> suggest_steepest_lr(
    const std::vector<double>& lrs,
    const std::vector<double>& smoothed_losses) {
  check_curve(lrs, smoothed_losses, "suggest_steepest_lr");
  if (lrs.size() < kSteepestSkipStart + kSteepestSkipEnd + 2) {
    return std::nullopt;
  }
  const std::size_t first = kSteepestSkipStart;
  const std::size_t last = lrs.size() - kSteepestSkipEnd - 1;
  const auto& y = smoothed_losses;
  auto x = [&](std::size_t i) { return std::log(lrs[i]); };
  // numpy.gradient(y, ln(lr)): second-order central differences on the
  // uneven grid inside, one-sided differences at the two ends.
  auto gradient = [&](std::size_t i) {
    if (i == first) {
      return (y[i + 1] - y[i]) / (x(i + 1) - x(i));
    }
    if (i == last) {
      return (y[i] - y[i - 1]) / (x(i) - x(i - 1));
    }
    const double before = x(i) - x(i - 1);
    const double after = x(i + 1) - x(i);
    return -after / (before * (before + after)) * y[i - 1] +
           (after - before) / (before * after) * y[i] +
           before / (after * (before + after)) * y[i + 1];
  };
  std::size_t steepest = first;
  double steepest_gradient = gradient(first);
  for (std::size_t i = first + 1; i <= last; ++i) {
    const double g = gradient(i);
    if (g < steepest_gradient) {
      steepest = i;
      steepest_gradient = g;
    }
  }
  return lrs[steepest];
}

std::optional<double> suggest_valley_lr(
    const std::vector<double>& lrs,
    const std::vector<double>& smoothed_losses,
    int64_t num_iter) {
  check_curve(lrs, smoothed_losses, "suggest_valley_lr");
  TORCH_CHECK(num_iter >= 0,
              "suggest_valley_lr: num_iter must be >= 0, got ",
              num_iter);
  const auto skip_start = static_cast<std::size_t>(num_iter / 10);
  if (lrs.size() <= skip_start + kValleySkipEnd) {
    return std::nullopt;
  }
  const std::vector<double> losses(
      smoothed_losses.begin() + static_cast<std::ptrdiff_t>(skip_start),
      smoothed_losses.end() - static_cast<std::ptrdiff_t>(kValleySkipEnd));
  // fastai's valley(), line for line: lds[i] is the length of the longest
  // decreasing subsequence ending at i.
  const auto n = static_cast<int64_t>(losses.size());
  std::vector<int64_t> lds(losses.size(), 1);
  int64_t max_start = 0;
  int64_t max_end = 0;
  for (int64_t i = 1; i < n; ++i) {
    for (int64_t j = 0; j < i; ++j) {
      if (losses[i] < losses[j] && lds[i] < lds[j] + 1) {
        lds[i] = lds[j] + 1;
      }
      if (lds[max_end] < lds[i]) {
        max_end = i;
        max_start = max_end - lds[max_end];
      }
    }
  }
  const double sections = static_cast<double>(max_end - max_start) / 3;
  const auto index = max_start + static_cast<int64_t>(sections) +
                     static_cast<int64_t>(sections / 2);
  // fastai's max_start can be -1, and Python would then read lrs[-1], the
  // last point; we clamp to the first point of the valley instead.
  return lrs[skip_start +
             static_cast<std::size_t>(std::max<int64_t>(0, index))];
}

std::size_t smoothing_lag(double smooth_f) {
  return static_cast<std::size_t>(std::lround((1 - smooth_f) / smooth_f));
}

std::optional<std::pair<double, double>> suggest_paper_bounds(
    const std::vector<double>& lrs,
    const std::vector<double>& smoothed_losses,
    std::size_t lag) {
  check_curve(lrs, smoothed_losses, "suggest_paper_bounds");
  const auto& y = smoothed_losses;
  if (y.size() < 2) {
    return std::nullopt;
  }
  const auto lowest = static_cast<std::size_t>(
      std::min_element(y.begin(), y.end()) - y.begin());
  if (lowest == 0) {
    return std::nullopt;  // never improved
  }
  const auto highest = static_cast<std::size_t>(
      std::max_element(y.begin(), y.begin() + lowest + 1) - y.begin());
  const double fall = y[highest] - y[lowest];
  std::size_t started = highest;
  while (y[started] > y[highest] - kStartedToImprove * fall) {
    ++started;
  }
  // An EMA trails its input by `lag` points; read the LRs where the raw loss
  // was when the smoothed one got there.
  const double max_lr = lrs[lowest - std::min(lag, lowest)] / kMaxLrBackoff;
  started -= std::min(lag, started);
  const double base_lr = std::min(lrs[started], max_lr / kBaseLrRuleOfThumb);
  return std::make_pair(base_lr, max_lr);
}

LRSuggestions suggest_lrs(const std::vector<double>& lrs,
                          const std::vector<double>& smoothed_losses,
                          int64_t num_iter,
                          double smooth_f) {
  LRSuggestions suggestions;
  if (auto bounds =
          suggest_paper_bounds(lrs, smoothed_losses, smoothing_lag(smooth_f))) {
    suggestions.base_lr = bounds->first;
    suggestions.max_lr = bounds->second;
  }
  suggestions.steepest_lr = suggest_steepest_lr(lrs, smoothed_losses);
  suggestions.valley_lr = suggest_valley_lr(lrs, smoothed_losses, num_iter);
  return suggestions;
}

void write_csv(const LRRangeTestResult& result,
               const std::filesystem::path& csv_path) {
  std::ostringstream out;
  out.precision(std::numeric_limits<double>::max_digits10);
  out << "iteration,lr,loss,smoothed_loss,"
      << (result.metric == RangeTestMetric::kLoss ? "val_loss" : "val_accuracy")
      << "\n";
  for (const auto& point : result.points) {
    out << point.iteration << "," << point.lr << "," << point.loss << ","
        << point.smoothed_loss << ",";
    if (point.metric) {
      out << *point.metric;
    }
    out << "\n";
  }
  write_file_atomically(csv_path, out.str(), kName);
}

PlotReport write_csv_and_plot(const LRRangeTestResult& result,
                              const std::filesystem::path& csv_path,
                              const std::filesystem::path& png_path,
                              const std::string& gnuplot) {
  write_csv(result, csv_path);
  if (result.points.empty()) {
    return {PlotStatus::kNoData, "the curve has no points to plot"};
  }
  return render_gnuplot(plot_script(result, csv_path), png_path, gnuplot);
}

}  // namespace torchclr
