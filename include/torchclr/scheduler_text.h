#pragma once

#include <torch/arg.h>
#include <torch/optim/optimizer.h>
#include <torchclr/lambda_lr.h>
#include <torchclr/scheduler.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace torchclr {

/// How `parse_scheduler` reads a text beyond PyTorch's syntax.
struct ParseOptions {
  /// Caffe's lr_mult for texts: a single number given for an option that is
  /// an LR (CyclicLR's base_lr and max_lr, OneCycleLR's max_lr, SWALR's
  /// swa_lr, ReduceLROnPlateau's min_lr, CosineAnnealingLR's and
  /// CosineAnnealingWarmRestarts' eta_min) becomes `value * group_ratios[i]`
  /// for param group i, at any depth of SequentialLR/ChainedScheduler. A list
  /// is taken as written, and options relative to a group's own LR (factors,
  /// gamma) are left alone. eta_min is one number for all groups (as in
  /// PyTorch), so unequal ratios take only eta_min=0. One ratio > 0 per
  /// param group; empty (the default): PyTorch's broadcast of the number.
  TORCH_ARG(std::vector<double>, group_ratios) = {};
};

/// The scheduler in PyTorch's constructor syntax, the optimizer left out:
/// `CyclicLR(base_lr=[0.001], max_lr=[0.006], step_size_up=2000, ...)`,
/// `SequentialLR([LinearLR(...), CosineAnnealingLR(...)], milestones=[500])`.
/// Every option that shapes the schedule is written; per-group values are
/// lists; numbers are the shortest text that reads back to the same double.
/// Throws for what has no text: a CyclicLR with a custom `scale_fn`.
std::string to_text(const Scheduler& scheduler);

/// Builds the scheduler `text` describes (what `to_text` writes, or written
/// by hand) on `optimizer`, which must outlive it. Omitted options take
/// PyTorch's defaults, the options' own checks apply, and a per-group list
/// must have one value per param group. White space, line breaks included,
/// may stand between any two tokens, and a `#` outside a string starts a
/// comment that runs to the end of its line. Errors name the position in the
/// text (0-based), the scheduler, the option and what was expected.
/// LambdaLR and MultiplicativeLR name their functions: `lr_lambda="warm"` or
/// one name per group, each registered with `register_lr_lambda`.
/// `options`: see `ParseOptions` (Caffe's per-group LR multipliers).
std::unique_ptr<Scheduler> parse_scheduler(torch::optim::Optimizer& optimizer,
                                           const std::string& text,
                                           const ParseOptions& options = {});

/// `parse_scheduler` on the contents of the file at `path`: one schedule
/// text, on as many lines as it likes, with `#` comments. Errors name the
/// file and the line:column (1-based, columns in bytes) they are at; a file
/// that cannot be read, or is over 1 MiB, is refused naming the path.
std::unique_ptr<Scheduler> parse_scheduler_file(
    torch::optim::Optimizer& optimizer,
    const std::filesystem::path& path,
    const ParseOptions& options = {});

/// Registers `fn` under `name` (letters, digits, '_' and '.') for
/// `parse_scheduler`'s `lr_lambda`; a second registration of a name
/// replaces the first. Thread-safe.
void register_lr_lambda(const std::string& name, LRLambda fn);

}  // namespace torchclr
