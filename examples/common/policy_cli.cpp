#include "policy_cli.h"

#include <fmt/format.h>

#include <cmath>
#include <limits>
#include <map>

namespace torchclr::examples {
namespace {

// "key=value;" text; fmt writes the shortest text that reads back as the
// same double, so equal text means equal values.
class KeyValues {
 public:
  template <typename T>
  KeyValues& add(const char* key, const T& value) {
    text_ += fmt::format("{}={};", key, value);
    return *this;
  }
  KeyValues& add(const char* key, const std::vector<int64_t>& values) {
    text_ += fmt::format("{}={};", key, fmt::join(values, ","));
    return *this;
  }
  template <typename T>
  KeyValues& add_if(bool condition, const char* key, const T& value) {
    return condition ? add(key, value) : *this;
  }
  template <typename T>
  KeyValues& add_unless_default(const char* key,
                                const T& value,
                                const T& default_value) {
    return value == default_value ? *this : add(key, value);
  }
  // "stages=[<stage 0>][<stage 1>]...;stage_milestones=...;", nothing when
  // there are none.
  KeyValues& add_stages(const std::vector<PolicyFlags>& stages,
                        const std::vector<int64_t>& milestones);
  const std::string& str() const {
    return text_;
  }

 private:
  std::string text_;
};

KeyValues& KeyValues::add_stages(const std::vector<PolicyFlags>& stages,
                                 const std::vector<int64_t>& milestones) {
  if (stages.empty()) {
    return *this;
  }
  std::string text;
  for (const auto& stage : stages) {
    text += "[" + describe(stage) + "]";
  }
  add("stages", text);
  return add("stage_milestones", milestones);
}

template <typename Enum>
Enum parse_choice(const std::string& flag,
                  const std::string& value,
                  const std::map<std::string, Enum>& choices) {
  auto it = choices.find(value);
  if (it == choices.end()) {
    std::string names;
    for (const auto& [name, unused] : choices) {
      names += (names.empty() ? "" : ", ") + name;
    }
    throw CLI::ValidationError(flag, "'" + value + "' is not one of " + names);
  }
  return it->second;
}

GroupValues scaled(double value, const std::vector<double>& multipliers) {
  std::vector<double> values;
  for (double multiplier : multipliers) {
    values.push_back(value * multiplier);
  }
  return values;
}

void check_lr(double lr, const char* flag) {
  if (!(std::isfinite(lr) && lr > 0)) {
    throw CLI::ValidationError(
        flag, "must be a finite number > 0, got " + std::to_string(lr));
  }
}

// A validator that parses the flag as a double and applies `ok`.
CLI::Validator number_validator(bool (*ok)(double),
                                const char* requirement,
                                const char* name) {
  return CLI::Validator(
      [ok, requirement](const std::string& text) {
        double value = 0;
        if (!CLI::detail::lexical_cast(text, value) || !ok(value)) {
          return std::string("must be ") + requirement + ", got '" + text + "'";
        }
        return std::string();
      },
      name);
}

}  // namespace

const CLI::Validator& finite_number() {
  static const auto validator = number_validator(
      [](double v) { return std::isfinite(v); }, "a finite number", "FINITE");
  return validator;
}

const CLI::Validator& positive_number() {
  static const auto validator =
      number_validator([](double v) { return v > 0; }, "> 0", "POSITIVE");
  return validator;
}

const CLI::Validator& non_negative_number() {
  static const auto validator =
      number_validator([](double v) { return v >= 0; }, ">= 0", "NONNEGATIVE");
  return validator;
}

std::string describe(const PolicyFlags& f) {
  // Flags added after checkpoints were first written appear only when set,
  // so those checkpoints still resume.
  const PolicyFlags defaults;
  return KeyValues()
      .add("policy", f.policy)
      .add("base_lr", f.base_lr)
      .add("max_lr", f.max_lr)
      .add("step_size_up", f.step_size_up)
      .add("step_size_down", f.step_size_down)
      .add("gamma", f.gamma)
      .add("waveform", f.waveform)
      .add("cycle_momentum", f.cycle_momentum)
      .add("no_cycle_momentum", f.no_cycle_momentum)
      .add("base_momentum", f.base_momentum)
      .add("max_momentum", f.max_momentum)
      .add("lr", f.lr)
      .add("milestones", f.milestones)
      .add("step_size", f.step_size)
      .add("step_gamma", f.step_gamma)
      .add("end_lr", f.end_lr)
      .add("decay_iters", f.decay_iters)
      .add("total_steps", f.total_steps)
      .add("pct_start", f.pct_start)
      .add("anneal", f.anneal)
      .add("div_factor", f.div_factor)
      .add("final_div_factor", f.final_div_factor)
      .add("three_phase", f.three_phase)
      .add("T_0", f.T_0)
      .add("T_mult", f.T_mult)
      .add("eta_min", f.eta_min)
      .add_unless_default("cycle_decay", f.cycle_decay, defaults.cycle_decay)
      .add_unless_default("cycle_limit", f.cycle_limit, defaults.cycle_limit)
      .add_unless_default(
          "constant_factor", f.constant_factor, defaults.constant_factor)
      .add_unless_default("total_iters", f.total_iters, defaults.total_iters)
      .add_unless_default("power", f.power, defaults.power)
      .add_unless_default("T_max", f.T_max, defaults.T_max)
      .add_unless_default("warmup_steps", f.warmup_steps, defaults.warmup_steps)
      .add_unless_default("warmup_start_factor",
                          f.warmup_start_factor,
                          defaults.warmup_start_factor)
      // PyTorch's form is what exp_range meant before the flag existed.
      .add_if(f.policy == "exp_range" && f.exp_range_form != "pytorch",
              "exp_range_form",
              f.exp_range_form)
      .add_stages(f.stages, f.stage_milestones)
      .str();
}

const std::vector<std::string>& policy_names() {
  static const std::vector<std::string> names = {"fixed",
                                                 "step",
                                                 "exp",
                                                 "decay",
                                                 "triangular",
                                                 "triangular2",
                                                 "exp_range",
                                                 "one_cycle",
                                                 "cosine_restarts",
                                                 "constant",
                                                 "polynomial",
                                                 "cosine"};
  return names;
}

const std::vector<std::string>& exp_range_form_names() {
  static const std::vector<std::string> names = {"paper", "pytorch"};
  return names;
}

std::string exp_range_form_text(const std::string& form) {
  if (form == "paper") {
    return "the paper's form (section 3.1), both bounds x gamma^it: lr = "
           "(base_lr + (max_lr - base_lr) * tri(it)) * gamma^it";
  }
  return "PyTorch's form, amplitude x gamma^it: lr = base_lr + (max_lr - "
         "base_lr) * tri(it) * gamma^it";
}

void add_policy_flags(CLI::App& app, PolicyFlags& f) {
  app.add_option("--policy", f.policy, "Learning-rate policy")
      ->check(CLI::IsMember(policy_names()))
      ->capture_default_str();
  app.add_option("--base-lr", f.base_lr, "CLR lower bound")
      ->capture_default_str()
      ->check(finite_number());
  app.add_option("--max-lr", f.max_lr, "CLR upper bound / 1cycle peak")
      ->capture_default_str()
      ->check(finite_number());
  app.add_option("--step-size-up", f.step_size_up, "CLR half-cycle steps")
      ->capture_default_str();
  app.add_option(
         "--step-size-down", f.step_size_down, "CLR falling steps (0: = up)")
      ->check(non_negative_number());
  app.add_option("--gamma", f.gamma, "exp / exp_range decay per step")
      ->capture_default_str()
      ->check(finite_number());
  app.add_option("--exp-range-form",
                 f.exp_range_form,
                 "exp_range: paper (both bounds x gamma^it, Smith's section "
                 "3.1; gamma in (0, 1]) or pytorch (amplitude x gamma^it, "
                 "PyTorch's CyclicLR)")
      ->check(CLI::IsMember(exp_range_form_names()))
      ->capture_default_str();
  app.add_option("--waveform", f.waveform, "triangle, sine or parabolic")
      ->capture_default_str();
  app.add_flag("--cycle-momentum",
               f.cycle_momentum,
               "CLR policies: cycle momentum inversely to the LR");
  app.add_flag("--no-cycle-momentum",
               f.no_cycle_momentum,
               "one_cycle: keep momentum fixed");
  app.add_option("--base-momentum", f.base_momentum)
      ->capture_default_str()
      ->check(finite_number());
  app.add_option("--max-momentum", f.max_momentum)
      ->capture_default_str()
      ->check(finite_number());
  app.add_option("--lr", f.lr, "Optimizer LR for fixed/step/exp/restarts")
      ->capture_default_str()
      ->check(finite_number())
      ->check(positive_number());
  app.add_option("--milestones", f.milestones, "fixed: 10x drops")
      ->capture_default_str();
  app.add_option("--step-size", f.step_size, "step: steps between drops")
      ->check(positive_number())
      ->capture_default_str();
  app.add_option("--step-gamma",
                 f.step_gamma,
                 "fixed/step: LR factor at each drop (> 1 grows the LR)")
      ->capture_default_str()
      ->check(finite_number())
      ->check(positive_number());
  app.add_option("--end-lr", f.end_lr, "decay: final LR (from --lr)")
      ->capture_default_str()
      ->check(finite_number());
  app.add_option("--decay-iters", f.decay_iters, "decay: steps of the line")
      ->capture_default_str();
  app.add_option("--total-steps", f.total_steps, "one_cycle (0: run length)")
      ->check(non_negative_number());
  app.add_option("--pct-start", f.pct_start)
      ->capture_default_str()
      ->check(finite_number());
  app.add_option("--anneal", f.anneal, "one_cycle: cos or linear")
      ->capture_default_str();
  app.add_option("--div-factor", f.div_factor)
      ->capture_default_str()
      ->check(finite_number());
  app.add_option("--final-div-factor", f.final_div_factor)
      ->capture_default_str()
      ->check(finite_number());
  app.add_flag("--three-phase", f.three_phase);
  app.add_option("--T-0", f.T_0, "cosine_restarts: first cycle")
      ->capture_default_str();
  app.add_option("--T-mult", f.T_mult)->capture_default_str();
  app.add_option("--eta-min", f.eta_min, "cosine_restarts/cosine: lowest LR")
      ->capture_default_str()
      ->check(finite_number());
  app.add_option("--cycle-decay",
                 f.cycle_decay,
                 "cosine_restarts: each restart's peak times this, in (0, 1]")
      ->capture_default_str()
      ->check(finite_number());
  app.add_option("--cycle-limit",
                 f.cycle_limit,
                 "cosine_restarts: hold --eta-min after this many cycles "
                 "(0: never)")
      ->capture_default_str()
      ->check(non_negative_number());
  app.add_option("--constant-factor",
                 f.constant_factor,
                 "constant: LR factor until --total-iters, in [0, 1]")
      ->capture_default_str()
      ->check(finite_number());
  app.add_option("--total-iters",
                 f.total_iters,
                 "constant/polynomial: steps until the factor reaches 1 / "
                 "the LR reaches 0")
      ->capture_default_str()
      ->check(non_negative_number());
  app.add_option("--power", f.power, "polynomial: exponent of the decay")
      ->capture_default_str()
      ->check(finite_number());
  app.add_option("--T-max", f.T_max, "cosine: steps from --lr to --eta-min")
      ->capture_default_str()
      ->check(positive_number());
  app.add_option("--warmup-steps",
                 f.warmup_steps,
                 "any policy: linear warm-up over this many steps first (0: "
                 "none)")
      ->capture_default_str()
      ->check(non_negative_number());
  app.add_option("--warmup-start-factor",
                 f.warmup_start_factor,
                 "warm-up: first LR as a factor of the policy's, in (0, 1]")
      ->capture_default_str()
      ->check(finite_number());
}

namespace {

// The policy alone, without the warm-up.
std::unique_ptr<Scheduler> make_policy(const PolicyFlags& f,
                                       torch::optim::Optimizer& optimizer,
                                       int64_t run_steps,
                                       std::vector<double> mult) {
  const std::string& p = f.policy;
  if (mult.empty()) {
    mult.assign(optimizer.param_groups().size(), 1.0);
  }
  if (mult.size() != optimizer.param_groups().size()) {
    throw std::invalid_argument(
        "make_scheduler: " + std::to_string(mult.size()) +
        " LR multipliers for " +
        std::to_string(optimizer.param_groups().size()) + " param groups");
  }
  if (p == "triangular" || p == "triangular2" || p == "exp_range") {
    auto mode =
        parse_choice<CyclicMode>("--policy",
                                 p,
                                 {{"triangular", CyclicMode::kTriangular},
                                  {"triangular2", CyclicMode::kTriangular2},
                                  {"exp_range", CyclicMode::kExpRange}});
    if (mode == CyclicMode::kExpRange) {
      mode = parse_choice<CyclicMode>("--exp-range-form",
                                      f.exp_range_form,
                                      {{"pytorch", CyclicMode::kExpRange},
                                       {"paper", CyclicMode::kExpRangePaper}});
    }
    const bool decays =
        mode == CyclicMode::kExpRange || mode == CyclicMode::kExpRangePaper;
    CyclicLROptions options(scaled(f.base_lr, mult), scaled(f.max_lr, mult));
    options.step_size_up(f.step_size_up)
        .mode(mode)
        .gamma(decays ? f.gamma : 1.0)
        .waveform(parse_choice<Waveform>("--waveform",
                                         f.waveform,
                                         {{"triangle", Waveform::kTriangle},
                                          {"sine", Waveform::kSine},
                                          {"parabolic", Waveform::kParabolic}}))
        .cycle_momentum(f.cycle_momentum)
        .base_momentum(f.base_momentum)
        .max_momentum(f.max_momentum);
    if (f.step_size_down > 0) {
      options.step_size_down(f.step_size_down);
    }
    return std::make_unique<CyclicLR>(optimizer, options);
  }
  if (p == "one_cycle") {
    if (f.total_steps > 0 && f.total_steps < run_steps) {
      throw CLI::ValidationError("--total-steps",
                                 std::to_string(f.total_steps) +
                                     " is shorter than the run (" +
                                     std::to_string(run_steps) + " steps)");
    }
    return std::make_unique<OneCycleLR>(
        optimizer,
        OneCycleLROptions(scaled(f.max_lr, mult),
                          f.total_steps > 0 ? f.total_steps : run_steps)
            .pct_start(f.pct_start)
            .anneal_strategy(parse_choice<AnnealStrategy>(
                "--anneal",
                f.anneal,
                {{"cos", AnnealStrategy::kCos},
                 {"linear", AnnealStrategy::kLinear}}))
            .div_factor(f.div_factor)
            .final_div_factor(f.final_div_factor)
            .three_phase(f.three_phase)
            .cycle_momentum(!f.no_cycle_momentum)
            .base_momentum(f.base_momentum)
            .max_momentum(f.max_momentum));
  }
  check_lr(f.lr, "--lr");
  for (std::size_t i = 0; i < mult.size(); ++i) {
    optimizer.param_groups()[i].options().set_lr(f.lr * mult[i]);
  }
  if (p == "fixed") {
    return std::make_unique<MultiStepLR>(
        optimizer, MultiStepLROptions(f.milestones).gamma(f.step_gamma));
  }
  if (p == "step") {
    if (f.step_size < 1) {
      throw CLI::ValidationError(
          "--step-size", "must be >= 1, got " + std::to_string(f.step_size));
    }
    return std::make_unique<StepLR>(
        optimizer, StepLROptions(f.step_size).gamma(f.step_gamma));
  }
  if (p == "constant") {
    if (!(f.constant_factor >= 0 && f.constant_factor <= 1)) {
      throw CLI::ValidationError(
          "--constant-factor",
          "must be in [0, 1], got " + std::to_string(f.constant_factor));
    }
    return std::make_unique<ConstantLR>(optimizer,
                                        ConstantLROptions()
                                            .factor(f.constant_factor)
                                            .total_iters(f.total_iters));
  }
  if (p == "polynomial") {
    return std::make_unique<PolynomialLR>(
        optimizer,
        PolynomialLROptions().total_iters(f.total_iters).power(f.power));
  }
  if (p == "cosine") {
    return std::make_unique<CosineAnnealingLR>(
        optimizer, CosineAnnealingLROptions(f.T_max).eta_min(f.eta_min));
  }
  if (p == "exp") {
    return std::make_unique<ExponentialLR>(optimizer, f.gamma);
  }
  if (p == "decay") {
    if (!(f.end_lr > 0 && f.end_lr <= f.lr)) {
      throw CLI::ValidationError("--end-lr",
                                 "must be in (0, --lr], got " +
                                     std::to_string(f.end_lr) + " with --lr " +
                                     std::to_string(f.lr));
    }
    return std::make_unique<LinearLR>(optimizer,
                                      LinearLROptions()
                                          .start_factor(1.0)
                                          .end_factor(f.end_lr / f.lr)
                                          .total_iters(f.decay_iters));
  }
  if (p == "cosine_restarts") {
    if (!(f.cycle_decay > 0 && f.cycle_decay <= 1)) {
      throw CLI::ValidationError(
          "--cycle-decay",
          "must be in (0, 1], got " + std::to_string(f.cycle_decay));
    }
    CosineAnnealingWarmRestartsOptions options(f.T_0);
    options.T_mult(f.T_mult).eta_min(f.eta_min).cycle_decay(f.cycle_decay);
    if (f.cycle_limit > 0) {
      options.cycle_limit(f.cycle_limit);
    }
    return std::make_unique<CosineAnnealingWarmRestarts>(optimizer, options);
  }
  throw CLI::ValidationError("--policy", "unknown policy '" + p + "'");
}

}  // namespace

std::unique_ptr<Scheduler> make_scheduler(const PolicyFlags& f,
                                          torch::optim::Optimizer& optimizer,
                                          int64_t run_steps,
                                          std::vector<double> lr_multipliers) {
  if (!(f.warmup_start_factor > 0 && f.warmup_start_factor <= 1)) {
    throw CLI::ValidationError(
        "--warmup-start-factor",
        "must be in (0, 1], got " + std::to_string(f.warmup_start_factor));
  }
  std::unique_ptr<Scheduler> policy;
  if (f.stages.empty()) {
    policy = make_policy(f, optimizer, run_steps, std::move(lr_multipliers));
  } else {
    std::vector<std::shared_ptr<Scheduler>> stages;
    for (const auto& stage : f.stages) {
      stages.push_back(
          make_policy(stage, optimizer, run_steps, lr_multipliers));
    }
    policy = std::make_unique<SequentialLR>(
        optimizer, std::move(stages), f.stage_milestones);
  }
  if (f.warmup_steps == 0) {
    return policy;
  }
  return std::make_unique<SequentialLR>(with_warmup(
      optimizer,
      std::shared_ptr<Scheduler>(std::move(policy)),
      WarmupOptions(f.warmup_steps).start_factor(f.warmup_start_factor)));
}

}  // namespace torchclr::examples
