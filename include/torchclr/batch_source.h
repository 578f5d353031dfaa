#pragma once

// Where the LR range test gets its batches: one `Batch` type, the
// `BatchSource` interface, and adapters over iterators and ranges (LibTorch
// data loaders, containers of examples, pairs or tuples of tensors).

#include <torch/data/example.h>
#include <torch/types.h>

#include <optional>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

namespace torchclr {

/// One (input, target) pair, already collated into batch tensors.
struct Batch {
  /// What `forward` takes.
  torch::Tensor input;
  /// What `loss_fn` compares the output with.
  torch::Tensor target;
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
  /// The batches in [first, last); the iterators must stay valid while this
  /// source is used.
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

}  // namespace torchclr
