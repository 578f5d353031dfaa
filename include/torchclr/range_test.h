#pragma once

#include <torch/arg.h>
#include <torch/data/example.h>
#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>
#include <torch/optim/optimizer.h>
#include <torch/types.h>
#include <torchclr/cyclic_lr.h>
#include <torchclr/files.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
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
  kCompleted,      ///< all `num_iter` iterations ran
  kDiverged,       ///< smoothed loss > diverge_threshold * best smoothed loss
  kNonFiniteLoss,  ///< a loss was NaN or infinite (not added to the curve)
};

/// One (input, target) pair, already collated into batch tensors.
struct Batch {
  /// What `forward` takes.
  torch::Tensor input;
  /// What `loss_fn` compares the output with.
  torch::Tensor target;
};

/// `loss_fn(output, target)`: a scalar tensor to minimise.
using LossFunction = std::function<torch::Tensor(const torch::Tensor& output,
                                                 const torch::Tensor& target)>;
/// `forward(input)`: the model's output for one batch.
using ForwardFunction = std::function<torch::Tensor(const torch::Tensor&)>;
/// `on_progress(iteration, lr, loss)`, called after every iteration with the
/// raw (unsmoothed) loss.
using ProgressCallback =
    std::function<void(int64_t iteration, double lr, double loss)>;

/// Options of `LRRangeTest`. Defaults follow torch-lr-finder except where
/// noted.
struct LRRangeTestOptions {
  /// First LR of the sweep.
  TORCH_ARG(double, start_lr) = 1e-7;
  /// Last LR of the sweep; must be above `start_lr`.
  TORCH_ARG(double, end_lr) = 10;
  /// Optimizer steps in the sweep (>= 2).
  TORCH_ARG(int64_t, num_iter) = 100;
  TORCH_ARG(LRSweep, sweep) = LRSweep::kExponential;
  /// Weight of the newest loss in the bias-corrected exponential moving
  /// average, in (0, 1]; 1 turns smoothing off.
  TORCH_ARG(double, smooth_f) = 0.05;
  /// Stop once smoothed loss > diverge_threshold * best smoothed loss (> 1;
  /// infinity never stops). It applies only while the best is > 0.
  TORCH_ARG(double, diverge_threshold) = 5;
  /// Batches whose gradients are summed (each loss divided by this count)
  /// before one optimizer step.
  TORCH_ARG(int64_t, accumulation_steps) = 1;
  /// With a validation loader, evaluate after every `eval_every`-th step.
  TORCH_ARG(int64_t, eval_every) = 1;
  /// What the validation pass measures.
  TORCH_ARG(RangeTestMetric, metric) = RangeTestMetric::kLoss;
  /// Loss of one batch; nullptr means `torch::nn::functional::cross_entropy`.
  TORCH_ARG(LossFunction, loss_fn) = nullptr;
  /// Device the batches are moved to; the module must already live there.
  TORCH_ARG(torch::Device, device) = torch::kCPU;
  /// Called after every iteration; the library itself never prints.
  TORCH_ARG(ProgressCallback, on_progress) = nullptr;
};

/// One iteration of the sweep.
struct RangeTestPoint {
  /// 0-based step number in the sweep.
  int64_t iteration;
  /// LR of this iteration's optimizer step.
  double lr;
  /// Training loss before the step (mean over accumulated batches).
  double loss;
  /// Bias-corrected exponential moving average of `loss` up to here.
  double smoothed_loss;
  /// Validation metric after the step, on evaluated iterations only.
  std::optional<double> metric;
};

/// Learning rates read off a range-test curve (see docs/range_test.md). Each
/// is empty when the curve is too short for its rule or never improves.
struct LRSuggestions {
  /// Paper's lower bound: where the loss has clearly started to fall (10% of
  /// its fall from the highest point before its minimum), capped at
  /// max_lr / 4 (the paper's rule of thumb).
  std::optional<double> base_lr;
  /// Paper's upper bound: half the LR at the bottom of the curve, because the
  /// loss stops improving before it turns and turns only once the
  /// instability has grown (see docs/range_test.md). Both bounds are read
  /// where the raw loss was, `smoothing_lag(smooth_f)` points before the
  /// smoothed curve shows the fall and the bottom.
  std::optional<double> max_lr;
  /// torch-lr-finder's rule: the steepest descent, argmin of
  /// d(smoothed loss)/d(ln lr), skipping the first 10 and last 5 points.
  std::optional<double> steepest_lr;
  /// fastai's `valley`: the longest decreasing run of the smoothed loss, at
  /// half of its second third, skipping the first num_iter/10 and last 5.
  std::optional<double> valley_lr;
};

/// What `LRRangeTest::run` found.
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

  /// `CyclicLROptions(base_lr, max_lr)` with the paper's step size:
  /// step_size_up = round(step_size_epochs * iters_per_epoch). The paper
  /// recommends 2 to 10 epochs; the default 4 is its CIFAR-10 setting
  /// (stepsize 2000 at 500 iterations per epoch). Throws without both bounds.
  CyclicLROptions to_cyclic_options(int64_t iters_per_epoch,
                                    double step_size_epochs = 4.0) const;
};

/// A source of batches for `LRRangeTest::run`: `next()` returns the batches
/// of one pass, then an empty optional; the next call starts a new pass.
class BatchSource {
 public:
  virtual ~BatchSource() = default;
  /// The next batch of the current pass, or empty at its end.
  virtual std::optional<Batch> next() = 0;
  /// Called when the run stops using the source, possibly mid-pass.
  virtual void finish() {}
};

namespace detail {

// One `Batch` from each element type the sources accept.
inline Batch to_batch(const Batch& batch) {
  return batch;
}
inline Batch to_batch(const torch::data::Example<>& example) {
  return {example.data, example.target};
}
// LibTorch's loader without a `Stack` transform yields vectors of examples.
Batch to_batch(const std::vector<torch::data::Example<>>& examples);
inline Batch to_batch(const std::pair<torch::Tensor, torch::Tensor>& pair) {
  return {pair.first, pair.second};
}
inline Batch to_batch(const std::tuple<torch::Tensor, torch::Tensor>& tuple) {
  return {std::get<0>(tuple), std::get<1>(tuple)};
}

// True for LibTorch data loaders, whose `options().workers` may prefetch.
template <typename T, typename = void>
struct has_workers : std::false_type {};
template <typename T>
struct has_workers<
    T,
    std::void_t<decltype(std::declval<const T&>().options().workers)>>
    : std::true_type {};

template <typename T>
constexpr bool is_batch_source_v =
    std::is_base_of_v<BatchSource, std::remove_reference_t<T>>;

}  // namespace detail

/// Batches from a pair of forward iterators; restarts at `first` after `last`.
template <typename Iterator>
class IteratorBatchSource final : public BatchSource {
 public:
  IteratorBatchSource(Iterator first, Iterator last)
      : first_(first), last_(last), position_(first) {}

  std::optional<Batch> next() override {
    if (position_ == last_) {
      position_ = first_;
      return std::nullopt;
    }
    Batch batch = detail::to_batch(*position_);
    ++position_;
    return batch;
  }

 private:
  Iterator first_;
  Iterator last_;
  Iterator position_;
};

/// `IteratorBatchSource` over [first, last): each element an `Example<>`,
/// `std::vector<Example<>>`, `std::pair`/`std::tuple` of two tensors or
/// `Batch`.
template <typename Iterator>
IteratorBatchSource<Iterator> make_batch_source(Iterator first, Iterator last) {
  return IteratorBatchSource<Iterator>(first, last);
}

/// Batches from anything with `begin()`/`end()`: a LibTorch data loader
/// (pass `*loader`) or a container. One pass is one `begin()`..`end()`.
template <typename Range>
class RangeBatchSource final : public BatchSource {
 public:
  /// The range must outlive this source.
  explicit RangeBatchSource(Range& range) : range_(range) {}

  std::optional<Batch> next() override {
    if (!position_) {
      position_.emplace(range_.begin());
    }
    if (*position_ == range_.end()) {
      position_.reset();
      return std::nullopt;
    }
    Batch batch = detail::to_batch(**position_);
    ++*position_;
    return batch;
  }

  /// A LibTorch loader with workers keeps prefetching, and refuses a new
  /// `begin()` until the pass is exhausted: drain it so the caller can reuse
  /// the loader.
  void finish() override {
    if constexpr (detail::has_workers<Range>::value) {
      if (position_ && range_.options().workers > 0) {
        while (*position_ != range_.end()) {
          ++*position_;
        }
      }
    }
    position_.reset();
  }

 private:
  Range& range_;
  std::optional<decltype(std::declval<Range&>().begin())> position_;
};

/// The learning-rate range test of Smith (2017), "Cyclical Learning Rates for
/// Training Neural Networks" §3.3 (torch-lr-finder's `LRFinder.range_test`,
/// fastai's `lr_find`): train for `num_iter` steps while the LR rises from
/// `start_lr` to `end_lr`, record the loss, and read LR bounds off the curve.
///
/// Every param group gets the swept LR; momentum and the other options stay
/// as set. The sweep continues from the optimizer's current state. When `run`
/// returns or throws, the module's parameters, gradients, buffers and
/// training flags and the optimizer's state and param-group options are
/// exactly as before (the global RNG and the data sources are not restored).
/// The snapshot holds one copy of parameters, gradients, buffers and
/// optimizer state, on their device.
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
  /// returns something else than one tensor).
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

  const LRRangeTestOptions& options() const noexcept {
    return options_;
  }

 private:
  LRRangeTestResult sweep(BatchSource& train, BatchSource* validation);
  Batch next_batch(BatchSource& source, const char* which);
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

/// Bias-corrected exponential moving average: avg_k = (1 - f) avg_{k-1} +
/// f loss_k with avg_0 = 0, smoothed_k = avg_k / (1 - (1 - f)^k), k from 1.
std::vector<double> smooth_losses(const std::vector<double>& losses,
                                  double smooth_f);

/// torch-lr-finder's rule on (lrs, smoothed losses).
std::optional<double> suggest_steepest_lr(
    const std::vector<double>& lrs, const std::vector<double>& smoothed_losses);

/// fastai's `valley` rule; `num_iter` is the requested sweep length.
std::optional<double> suggest_valley_lr(
    const std::vector<double>& lrs,
    const std::vector<double>& smoothed_losses,
    int64_t num_iter);

/// How many points the bias-corrected EMA with weight `smooth_f` trails its
/// input by: (1 - smooth_f) / smooth_f, rounded.
std::size_t smoothing_lag(double smooth_f);

/// The paper's (base_lr, max_lr) on (lrs, smoothed losses), read `lag`
/// points earlier than the smoothed curve shows them.
std::optional<std::pair<double, double>> suggest_paper_bounds(
    const std::vector<double>& lrs,
    const std::vector<double>& smoothed_losses,
    std::size_t lag = 0);

/// All four suggestions for a curve smoothed with `smooth_f` (1: raw).
LRSuggestions suggest_lrs(const std::vector<double>& lrs,
                          const std::vector<double>& smoothed_losses,
                          int64_t num_iter,
                          double smooth_f = 1.0);

/// Writes the curve as CSV (iteration,lr,loss,smoothed_loss and val_loss or
/// val_accuracy, empty where not evaluated), to a temporary name first and
/// then renamed into place. Throws if the file cannot be written.
void write_csv(const LRRangeTestResult& result,
               const std::filesystem::path& csv_path);

/// Writes the CSV as `write_csv`, then renders loss against LR (log axis,
/// suggestions marked) into a PNG by running `gnuplot` on a script file. A
/// missing or failing gnuplot is reported, not thrown; the CSV stays.
PlotReport write_csv_and_plot(const LRRangeTestResult& result,
                              const std::filesystem::path& csv_path,
                              const std::filesystem::path& png_path,
                              const std::string& gnuplot = "gnuplot");

}  // namespace torchclr
