#include "scheduler_texts.h"

#include <gtest/gtest.h>
#include <torchclr/scheduler_text.h>

#include <mutex>
#include <ostream>

namespace torchclr::test {
namespace {

const std::vector<ScheduleText>& all_texts() {
  using S = TextSet;
  static const std::vector<ScheduleText> texts = {
      {S::kPolicy,
       "CyclicLR",
       "CyclicLR(base_lr=0.001, max_lr=0.006, step_size_up=7, "
       "step_size_down=5, mode=\"exp_range\", gamma=0.999, "
       "waveform=\"parabolic\")"},
      {S::kPolicy,
       "OneCycleLR",
       "OneCycleLR(max_lr=0.1, total_steps=60, three_phase=True)"},
      {S::kPolicy,
       "CosineAnnealingWarmRestarts",
       "CosineAnnealingWarmRestarts(T_0=4, T_mult=2, eta_min=1e-4)"},
      {S::kPolicy, "ExponentialLR", "ExponentialLR(gamma=0.95)"},
      {S::kPolicy, "LinearLR", "LinearLR(start_factor=0.5, end_factor=0.1)"},
      {S::kPolicy, "MultiStepLR", "MultiStepLR(milestones=[3, 9])"},
      {S::kPolicy,
       "SequentialLR",
       "SequentialLR([LinearLR(start_factor=0.2, total_iters=4), "
       "CyclicLR(base_lr=0.01, max_lr=0.05, step_size_up=3, "
       "mode=\"triangular2\")], milestones=[6])"},
      {S::kPolicy, "StepLR", "StepLR(step_size=5, gamma=0.5)"},
      {S::kPolicy, "ConstantLR", "ConstantLR(factor=0.5, total_iters=25)"},
      {S::kPolicy, "PolynomialLR", "PolynomialLR(total_iters=40, power=2.0)"},
      {S::kPolicy,
       "CosineAnnealingLR",
       "CosineAnnealingLR(T_max=17, eta_min=1e-4)"},
      {S::kPolicy, "LambdaLR", "LambdaLR(lr_lambda=\"inverse_step\")"},
      {S::kPolicy,
       "MultiplicativeLR",
       "MultiplicativeLR(lr_lambda=\"odd_0.9_even_1.05\")"},
      {S::kPolicy,
       "ChainedScheduler",
       "ChainedScheduler([ConstantLR(), StepLR(step_size=4)])"},
      {S::kPolicy,
       "CosineAnnealingWarmRestarts_decay_limit",
       "CosineAnnealingWarmRestarts(T_0=5, cycle_decay=0.5, cycle_limit=6)"},
      // What with_warmup(optimizer, CosineAnnealingLR(20), 8) builds
      // (scheduler_test.cpp checks that it is).
      {S::kPolicy,
       "with_warmup",
       "SequentialLR([LinearLR(start_factor=0.1, total_iters=8), "
       "CosineAnnealingLR(T_max=20)], milestones=[8])"},
      // Restored past the milestone, in a stage that leaves momentum alone.
      {S::kPolicy,
       "SequentialLR_momentum_then_none",
       "SequentialLR([CyclicLR(base_lr=0.01, max_lr=0.05, step_size_up=3), "
       "ExponentialLR(gamma=0.9)], milestones=[10])"},

      {S::kChainable, "step", "StepLR(step_size=4, gamma=0.5)"},
      {S::kChainable,
       "multi_step",
       "MultiStepLR(milestones=[3, 9], gamma=0.7)"},
      {S::kChainable, "constant", "ConstantLR(factor=0.25, total_iters=6)"},
      {S::kChainable, "linear", "LinearLR(start_factor=0.2, total_iters=8)"},
      {S::kChainable, "exponential", "ExponentialLR(gamma=0.95)"},
      {S::kChainable, "polynomial", "PolynomialLR(total_iters=25, power=1.5)"},
      {S::kChainable,
       "multiplicative",
       "MultiplicativeLR(lr_lambda=\"up_every_third\")"},

      {S::kEveryOption,
       "CyclicLR",
       "CyclicLR(base_lr=[0.001, 0.002], max_lr=[0.006, 0.01], "
       "step_size_up=7, step_size_down=5, mode=\"exp_range\", gamma=0.999, "
       "cycle_momentum=True, base_momentum=[0.8, 0.85], "
       "max_momentum=[0.9, 0.95], waveform=\"sine\")"},
      {S::kEveryOption,
       "OneCycleLR",
       "OneCycleLR(max_lr=[0.1, 0.2], total_steps=60, pct_start=0.4, "
       "anneal_strategy=\"linear\", cycle_momentum=True, base_momentum=0.8, "
       "max_momentum=0.9, div_factor=10, final_div_factor=100, "
       "three_phase=True)"},
      {S::kEveryOption, "StepLR", "StepLR(step_size=5, gamma=0.5)"},
      {S::kEveryOption,
       "MultiStepLR",
       "MultiStepLR(milestones=[3, 9], gamma=0.7)"},
      {S::kEveryOption, "ConstantLR", "ConstantLR(factor=0.5, total_iters=6)"},
      {S::kEveryOption,
       "LinearLR",
       "LinearLR(start_factor=0.2, end_factor=0.9, total_iters=8)"},
      {S::kEveryOption, "ExponentialLR", "ExponentialLR(gamma=0.95)"},
      {S::kEveryOption,
       "PolynomialLR",
       "PolynomialLR(total_iters=25, power=1.5)"},
      {S::kEveryOption,
       "CosineAnnealingLR",
       "CosineAnnealingLR(T_max=17, eta_min=0.0001)"},
      {S::kEveryOption,
       "CosineAnnealingWarmRestarts",
       "CosineAnnealingWarmRestarts(T_0=5, T_mult=2, eta_min=0.0001, "
       "cycle_decay=0.5, cycle_limit=6)"},
      {S::kEveryOption,
       "ReduceLROnPlateau",
       "ReduceLROnPlateau(mode=\"max\", factor=0.5, patience=3, "
       "threshold=0.01, threshold_mode=\"abs\", cooldown=2, "
       "min_lr=[0.001, 0], eps=1e-9)"},
      {S::kEveryOption,
       "LambdaLR",
       "LambdaLR(lr_lambda=[\"inverse_step\", \"up_every_third\"])"},
      {S::kEveryOption,
       "MultiplicativeLR",
       "MultiplicativeLR(lr_lambda=\"up_every_third\")"},
      {S::kEveryOption,
       "SequentialLR",
       "SequentialLR(schedulers=[LinearLR(start_factor=0.5, total_iters=4), "
       "ExponentialLR(gamma=0.9)], milestones=[4])"},
      {S::kEveryOption,
       "ChainedScheduler",
       "ChainedScheduler(schedulers=[ConstantLR(factor=0.5, total_iters=3), "
       "ExponentialLR(gamma=0.9)])"},
      {S::kEveryOption,
       "SWALR",
       "SWALR(swa_lr=[0.05, 0.02], anneal_epochs=3, anneal_strategy=\"linear\")"},
  };
  return texts;
}

// The functions the texts name, as generate_reference.py and the tests
// before the list wrote them.
void register_functions() {
  static std::once_flag once;
  std::call_once(once, [] {
    register_lr_lambda("inverse_step", [](int64_t step) {
      return 1.0 / (1.0 + static_cast<double>(step));
    });
    register_lr_lambda("odd_0.9_even_1.05",
                       [](int64_t step) { return step % 2 ? 0.9 : 1.05; });
    // CHAINABLE's `lambda e: 0.9 if e % 3 else 1.05`.
    register_lr_lambda("up_every_third",
                       [](int64_t step) { return step % 3 ? 0.9 : 1.05; });
  });
}

}  // namespace

std::vector<ScheduleText> schedule_texts(TextSet set) {
  std::vector<ScheduleText> texts;
  for (const auto& text : all_texts()) {
    if (text.set == set) {
      texts.push_back(text);
    }
  }
  return texts;
}

std::string schedule_text(TextSet set, const std::string& name) {
  for (const auto& text : all_texts()) {
    if (text.set == set && text.name == name) {
      return text.text;
    }
  }
  ADD_FAILURE() << "scheduler_texts.cpp has no text named " << name;
  return "";
}

std::unique_ptr<Scheduler> make_scheduler(torch::optim::Optimizer& optimizer,
                                          const std::string& text) {
  register_functions();
  return parse_scheduler(optimizer, text);
}

void PrintTo(const ScheduleText& text, std::ostream* out) {
  *out << text.name;
}

}  // namespace torchclr::test
