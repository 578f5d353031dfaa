#pragma once

// The learning-rate range test: the sweep, its options and its result. The
// batches come from <torchclr/batch_source.h>, the suggestions from
// <torchclr/lr_suggestions.h>, the files from <torchclr/lr_finder_plot.h>.

#include <torch/arg.h>
#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>
#include <torch/optim/optimizer.h>
#include <torch/types.h>
#include <torchclr/batch_source.h>
#include <torchclr/cyclic_lr.h>
#include <torchclr/lr_suggestions.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>
#include <vector>

namespace torchclr {

/// How the LR rises from `start_lr` to `end_lr` during the sweep.
enum class LRSweep {
  /// lr_k = start_lr * (end_lr / start_lr)^(k / (num_iter - 1)): equal time
  /// per decade (fastai's and torch-lr-finder's default).
  kExponential,
  /// lr_k = start_lr + (end_lr - start_lr) * k / (num_iter - 1): the paper's
  /// sweep, usually over a narrow range and several epochs.
  kLinear,
};

/// What the optional validation pass measures.
enum class RangeTestMetric {
  kLoss,      ///< mean of `loss_fn` over the validation data, weighted by batch
              ///< size
  kAccuracy,  ///< fraction of argmax(output, 1) == target
};

/// Why `LRRangeTest::run` stopped.
enum class RangeTestStopReason {
  kCompleted,  ///< all `num_iter` iterations ran
  /// smoothed loss > diverge_threshold * best smoothed loss, or (with
  /// `stop_on_climb_back`) the smoothed loss climbed half of the way back to
  /// where it started (`climb_back_point`)
  kDiverged,
  kNonFiniteLoss,  ///< a loss was NaN or infinite (not added to the curve)
};

/// `loss_fn(output, target)`: a scalar tensor to minimise.
using LossFunction = std::function<torch::Tensor(const torch::Tensor& output,
                                                 const torch::Tensor& target)>;
/// `forward(input)`: the model's output for one batch.
using ForwardFunction = std::function<torch::Tensor(const torch::Tensor&)>;
/// `train_step(batch)`: the user's forward, loss and backward for one batch
/// (already on `device`), returning the batch's loss as one value (detached or
/// not, not divided by `accumulation_steps`).
using TrainStep = std::function<torch::Tensor(const Batch&)>;
/// `on_progress(iteration, lr, loss)`, called after every iteration with the
/// raw (unsmoothed) loss.
using ProgressCallback =
    std::function<void(int64_t iteration, double lr, double loss)>;

/// Options of `LRRangeTest`. Defaults follow torch-lr-finder except where
/// noted.
struct LRRangeTestOptions {
  /// First LR of the sweep (fastai's default; torch-lr-finder starts at the
  /// optimizer's LR).
  TORCH_ARG(double, start_lr) = 1e-7;
  /// Last LR of the sweep; must be above `start_lr`.
  TORCH_ARG(double, end_lr) = 10;
  /// Optimizer steps in the sweep (>= 2).
  TORCH_ARG(int64_t, num_iter) = 100;
  /// How the LR rises from start_lr to end_lr: exponentially or linearly.
  TORCH_ARG(LRSweep, sweep) = LRSweep::kExponential;
  /// Weight of the newest loss in the bias-corrected exponential moving
  /// average, in (0, 1]; 1 turns smoothing off.
  TORCH_ARG(double, smooth_f) = 0.05;
  /// Stop once smoothed loss > diverge_threshold * best smoothed loss (> 1;
  /// infinity never stops). It applies only while the best is > 0.
  TORCH_ARG(double, diverge_threshold) = 5;
  /// Stop also where the smoothed loss has climbed half of the way back to
  /// where it started (`climb_back_point`): a classifier that collapses to
  /// chance level never reaches 5x its best. The suggestions ignore the curve
  /// past that point either way.
  TORCH_ARG(bool, stop_on_climb_back) = true;
  /// Each param group's LR as a multiple of the swept LR, which is group 0's:
  /// empty takes the ratios of the groups' LRs when `run` starts (fastai's
  /// list of LRs); one value applies to every group (`{1.0}`: the same LR for
  /// all); otherwise one per group. Each finite and > 0, the first 1.
  TORCH_ARG(std::vector<double>, group_ratios) = {};
  /// Batches whose gradients are summed (each loss divided by this count)
  /// before one optimizer step.
  TORCH_ARG(int64_t, accumulation_steps) = 1;
  /// With a validation loader, evaluate after every `eval_every`-th step.
  TORCH_ARG(int64_t, eval_every) = 1;
  /// What the validation pass measures.
  TORCH_ARG(RangeTestMetric, metric) = RangeTestMetric::kLoss;
  /// Loss of one batch; nullptr means `torch::nn::functional::cross_entropy`.
  TORCH_ARG(LossFunction, loss_fn) = nullptr;
  /// The training step instead of `forward` + `loss_fn` + backward (multi-
  /// input models, a loss inside the model, a distributed step). The range
  /// test still calls `zero_grad()` before the `accumulation_steps` calls and
  /// `step()` after them, and divides the summed gradients by
  /// `accumulation_steps`; it records the mean of the returned losses.
  TORCH_ARG(TrainStep, train_step) = nullptr;
  /// Device the batches are moved to; the module must already live there.
  TORCH_ARG(torch::Device, device) = torch::kCPU;
  /// Called after every iteration; the library itself never prints.
  TORCH_ARG(ProgressCallback, on_progress) = nullptr;
};

/// One iteration of the sweep.
struct RangeTestPoint {
  /// 0-based step number in the sweep.
  int64_t iteration;
  /// LR of this iteration's optimizer step (group 0's).
  double lr;
  /// Training loss before the step (mean over accumulated batches).
  double loss;
  /// Bias-corrected exponential moving average of `loss` up to here.
  double smoothed_loss;
  /// Validation metric after the step, on evaluated iterations only.
  std::optional<double> metric;
};

/// What `LRRangeTest::run` found. LRs are group 0's.
struct LRRangeTestResult {
  /// The curve: only iterations with a finite loss.
  std::vector<RangeTestPoint> points;
  /// Why the sweep ended.
  RangeTestStopReason stop_reason = RangeTestStopReason::kCompleted;
  /// Iteration at which the sweep stopped (`num_iter` when completed).
  int64_t stop_iteration = 0;
  /// LR of the last iteration that ran (for kNonFiniteLoss, the LR whose loss
  /// was not finite).
  double stop_lr = 0;
  /// What `metric` of the points holds.
  RangeTestMetric metric = RangeTestMetric::kLoss;
  /// LRs read off `points` by `suggest_lrs`.
  LRSuggestions suggestions;
  /// Each param group's LR as a multiple of the swept LR, as the run used
  /// them (empty: one value for every group).
  std::vector<double> group_ratios;

  /// `CyclicLROptions(base_lr, max_lr)` with the paper's step size:
  /// step_size_up = round(step_size_epochs * iters_per_epoch). The paper
  /// recommends 2 to 10 epochs; the default 4 is its CIFAR-10 setting
  /// (stepsize 2000 at 500 iterations per epoch). With `group_ratios`, both
  /// bounds are per group: the suggestion times the group's ratio. Throws
  /// without both bounds.
  CyclicLROptions to_cyclic_options(int64_t iters_per_epoch,
                                    double step_size_epochs = 4.0) const;

  /// The paper's bounds read off the evaluated points' accuracy
  /// (`suggest_from_accuracy` of <torchclr/lr_suggestions.h> on their LRs
  /// and metrics); throws unless `metric` is `RangeTestMetric::kAccuracy`.
  std::optional<AccuracyBounds> accuracy_bounds(
      double min_rise = 0.05, std::size_t half_window = 2) const;
};

/// The learning-rate range test of Smith (2017), "Cyclical Learning Rates for
/// Training Neural Networks" §3.3 (torch-lr-finder's `LRFinder.range_test`,
/// fastai's `lr_find`): train for `num_iter` steps while the LR rises from
/// `start_lr` to `end_lr`, record the loss, and read LR bounds off the curve.
///
/// Param group i gets `group_ratios[i]` x the swept LR; momentum and the
/// other options stay as set. The sweep continues from the optimizer's
/// current state. When `run` returns or throws, the module's parameters,
/// gradients, buffers and training flags and the optimizer's state and
/// param-group options are exactly as before (the global RNG and the data
/// sources are not restored). The snapshot holds one copy of parameters,
/// gradients, buffers and optimizer state, on their device.
///
/// The caller keeps the optimizer alive while the LRRangeTest is used.
class LRRangeTest {
 public:
  /// A module with `Tensor forward(Tensor)`, held by a `ModuleHolder`
  /// (`TORCH_MODULE`, `torch::nn::Sequential`, ...).
  template <typename ModuleType>
  LRRangeTest(const torch::nn::ModuleHolder<ModuleType>& model,
              torch::optim::Optimizer& optimizer,
              LRRangeTestOptions options = {})
      : LRRangeTest(model.ptr(), optimizer, std::move(options)) {}

  /// A module with `Tensor forward(Tensor)`, held by a `std::shared_ptr`.
  template <typename ModuleType,
            typename = std::enable_if_t<
                std::is_base_of_v<torch::nn::Module, ModuleType>>>
  LRRangeTest(std::shared_ptr<ModuleType> model,
              torch::optim::Optimizer& optimizer,
              LRRangeTestOptions options = {})
      : LRRangeTest(
            model,
            [model](const torch::Tensor& input) {
              return model->forward(input);
            },
            optimizer,
            std::move(options)) {}

  /// Any module, with its own `forward` (for modules whose forward takes or
  /// returns something else than one tensor). `forward` may be null when
  /// `options.train_step()` is set and no validation data is given.
  LRRangeTest(std::shared_ptr<torch::nn::Module> module,
              ForwardFunction forward,
              torch::optim::Optimizer& optimizer,
              LRRangeTestOptions options = {});

  /// Sweeps over `train` (a LibTorch data loader, `*loader`, or a container
  /// of batches), restarting it whenever it runs out.
  template <typename TrainRange,
            typename = std::enable_if_t<!detail::is_batch_source_v<TrainRange>>>
  LRRangeTestResult run(TrainRange&& train) {
    RangeBatchSource<std::remove_reference_t<TrainRange>> source(train);
    return run(source);
  }

  /// As `run(train)`, evaluating `options().metric` over all of `validation`
  /// after every `eval_every`-th step.
  template <typename TrainRange,
            typename ValidationRange,
            typename = std::enable_if_t<!detail::is_batch_source_v<TrainRange>>>
  LRRangeTestResult run(TrainRange&& train, ValidationRange&& validation) {
    RangeBatchSource<std::remove_reference_t<TrainRange>> train_source(train);
    RangeBatchSource<std::remove_reference_t<ValidationRange>>
        validation_source(validation);
    return run(train_source, &validation_source);
  }

  /// The sweep over any batch source; `validation` may be null.
  LRRangeTestResult run(BatchSource& train, BatchSource* validation = nullptr);

  /// The options the range test was constructed with.
  const LRRangeTestOptions& options() const noexcept {
    return options_;
  }

 private:
  LRRangeTestResult sweep(BatchSource& train, BatchSource* validation);
  /// `options().group_ratios`, or the ratios of the groups' LRs now.
  std::vector<double> resolved_group_ratios() const;
  Batch next_batch(BatchSource& source, const char* which);
  /// One iteration's forward and backward passes; the mean loss, detached.
  torch::Tensor accumulate_gradients(BatchSource& train);
  double evaluate(BatchSource& validation);
  torch::Tensor batch_loss(const Batch& batch);
  /// The options' loss_fn, or cross-entropy.
  torch::Tensor loss_of(const torch::Tensor& output,
                        const torch::Tensor& target) const;

  std::shared_ptr<torch::nn::Module> module_;
  ForwardFunction forward_;
  torch::optim::Optimizer& optimizer_;
  LRRangeTestOptions options_;
};

/// The LR of iteration `iteration` of the sweep described by `options`.
double range_test_lr(int64_t iteration, const LRRangeTestOptions& options);

}  // namespace torchclr
