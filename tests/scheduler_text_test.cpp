#include <gmock/gmock.h>
#include <torchclr/scheduler_text.h>
#include <torchclr/torchclr.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "scheduler_texts.h"
#include "test_util.h"

namespace torchclr::test {
namespace {

using ::testing::HasSubstr;
using ::testing::ThrowsMessage;

using Factory =
    std::function<std::unique_ptr<Scheduler>(torch::optim::Optimizer&)>;

void register_test_lambdas() {
  register_lr_lambda("halve_every_10",
                     [](int64_t k) { return std::pow(0.5, k / 10); });
  register_lr_lambda("linear_decay", [](int64_t k) {
    return std::max(0.0, 1.0 - static_cast<double>(k) / 1000);
  });
  register_lr_lambda("times_0.99", [](int64_t) { return 0.99; });
}

// Steps `scheduler` once: ReduceLROnPlateau with a metric that plateaus now
// and then, the others plainly.
void step(Scheduler& scheduler, int64_t k) {
  if (auto* plateau = dynamic_cast<ReduceLROnPlateau*>(&scheduler)) {
    plateau->step(1.0 / (1 + k / 7) + (k % 5 == 0 ? 0.01 : 0.0));
  } else {
    scheduler.step();
  }
}

// Random valid options of every kind; composites hold random stages down to
// `depth` 2 (a SequentialLR of a SequentialLR or ChainedScheduler).
class RandomSchedulers {
 public:
  explicit RandomSchedulers(uint64_t seed) : rng_(seed) {}

  static constexpr int kKinds = 15;

  Factory make(int kind, std::size_t groups, int depth = 1) {
    switch (kind) {
      case 0: {
        std::vector<double> base(groups), max(groups), mbase(groups),
            mmax(groups);
        for (std::size_t g = 0; g < groups; ++g) {
          base[g] = log_uniform(1e-5, 1e-2);
          max[g] = base[g] * log_uniform(1.0, 100.0);
          mbase[g] = uniform(0.5, 0.85);
          mmax[g] = mbase[g] + uniform(0.0, 0.1);
        }
        CyclicLROptions o(base, max);
        o.step_size_up(pick(1, 50))
            .mode(static_cast<CyclicMode>(pick(0, 3)))
            .gamma(log_uniform(0.9, 1.0))
            .cycle_momentum(pick(0, 1) == 1)
            .base_momentum(mbase)
            .max_momentum(mmax)
            .waveform(static_cast<Waveform>(pick(0, 2)));
        if (pick(0, 1) == 1) {
          o.step_size_down(pick(1, 50));
        }
        return [o](auto& opt) { return std::make_unique<CyclicLR>(opt, o); };
      }
      case 1: {
        std::vector<double> max(groups), mbase(groups), mmax(groups);
        for (std::size_t g = 0; g < groups; ++g) {
          max[g] = log_uniform(1e-4, 1.0);
          mbase[g] = uniform(0.5, 0.85);
          mmax[g] = mbase[g] + uniform(0.0, 0.1);
        }
        // Longer than the 300 steps a test takes: OneCycleLR refuses more.
        OneCycleLROptions o(max, pick(301, 600));
        o.pct_start(uniform(0.1, 0.45))
            .anneal_strategy(static_cast<AnnealStrategy>(pick(0, 1)))
            .cycle_momentum(pick(0, 1) == 1)
            .base_momentum(mbase)
            .max_momentum(mmax)
            .div_factor(log_uniform(1.0, 100.0))
            .final_div_factor(log_uniform(1.0, 1e4))
            .three_phase(pick(0, 1) == 1);
        return [o](auto& opt) { return std::make_unique<OneCycleLR>(opt, o); };
      }
      case 2: {
        const auto o = StepLROptions(pick(1, 50)).gamma(log_uniform(0.1, 2.0));
        return [o](auto& opt) { return std::make_unique<StepLR>(opt, o); };
      }
      case 3: {
        std::vector<int64_t> milestones;
        int64_t at = 0;
        for (int64_t i = pick(1, 4); i > 0; --i) {
          milestones.push_back(at += pick(1, 60));
        }
        const auto o =
            MultiStepLROptions(milestones).gamma(log_uniform(0.1, 2.0));
        return [o](auto& opt) { return std::make_unique<MultiStepLR>(opt, o); };
      }
      case 4: {
        const auto o = ConstantLROptions()
                           .factor(uniform(0.01, 1.0))
                           .total_iters(pick(1, 40));
        return [o](auto& opt) { return std::make_unique<ConstantLR>(opt, o); };
      }
      case 5: {
        const auto o = LinearLROptions()
                           .start_factor(uniform(0.01, 1.0))
                           .end_factor(uniform(0.0, 1.0))
                           .total_iters(pick(1, 60));
        return [o](auto& opt) { return std::make_unique<LinearLR>(opt, o); };
      }
      case 6: {
        const ExponentialLROptions o(log_uniform(0.9, 1.01));
        return
            [o](auto& opt) { return std::make_unique<ExponentialLR>(opt, o); };
      }
      case 7: {
        const auto o = PolynomialLROptions()
                           .total_iters(pick(1, 60))
                           .power(uniform(0.5, 3.0));
        return
            [o](auto& opt) { return std::make_unique<PolynomialLR>(opt, o); };
      }
      case 8: {
        const auto o =
            CosineAnnealingLROptions(pick(1, 100)).eta_min(uniform(0, 1e-5));
        return [o](auto& opt) {
          return std::make_unique<CosineAnnealingLR>(opt, o);
        };
      }
      case 9: {
        auto o = CosineAnnealingWarmRestartsOptions(pick(1, 30))
                     .T_mult(pick(1, 3))
                     .eta_min(uniform(0, 1e-5))
                     .cycle_decay(pick(0, 1) == 1 ? 1.0 : uniform(0.5, 1.0));
        if (pick(0, 1) == 1) {
          o.cycle_limit(pick(1, 5));
        }
        return [o](auto& opt) {
          return std::make_unique<CosineAnnealingWarmRestarts>(opt, o);
        };
      }
      case 10: {
        std::vector<double> min_lr(groups);
        for (auto& value : min_lr) {
          value = uniform(0.0, 1e-4);
        }
        const auto o =
            ReduceLROnPlateauOptions()
                .mode(static_cast<PlateauMode>(pick(0, 1)))
                .factor(uniform(0.1, 0.9))
                .patience(pick(0, 5))
                .threshold(log_uniform(1e-5, 1e-1))
                .threshold_mode(static_cast<ThresholdMode>(pick(0, 1)))
                .cooldown(pick(0, 3))
                .min_lr(min_lr)
                .eps(log_uniform(1e-10, 1e-6));
        return [o](auto& opt) {
          return std::make_unique<ReduceLROnPlateau>(opt, o);
        };
      }
      case 11:
      case 12: {
        const char* names[] = {"halve_every_10", "linear_decay", "times_0.99"};
        auto lambda = [](const std::string& name) -> LRLambda {
          if (name == "halve_every_10") {
            return [](int64_t k) { return std::pow(0.5, k / 10); };
          }
          if (name == "linear_decay") {
            return [](int64_t k) {
              return std::max(0.0, 1.0 - static_cast<double>(k) / 1000);
            };
          }
          return [](int64_t) { return 0.99; };
        };
        LambdaLROptions o(LRLambda{});
        if (pick(0, 1) == 1) {
          // One function per group, named "a,b,..." as parse_scheduler does.
          std::vector<LRLambda> per_group;
          std::string joined;
          for (std::size_t g = 0; g < groups; ++g) {
            const char* name = names[pick(0, 2)];
            per_group.push_back(lambda(name));
            joined += (g ? "," : "") + std::string(name);
          }
          o = LambdaLROptions(per_group).lambda_name(joined);
        } else {
          const char* name = names[pick(0, 2)];
          o = LambdaLROptions(lambda(name)).lambda_name(name);
        }
        if (kind == 11) {
          return [o](auto& opt) { return std::make_unique<LambdaLR>(opt, o); };
        }
        return [o](auto& opt) {
          return std::make_unique<MultiplicativeLR>(opt, o);
        };
      }
      case 13: {
        std::vector<Factory> stages;
        std::vector<int64_t> milestones;
        int64_t at = 0;
        const int64_t count = pick(1, 3);
        for (int64_t i = 0; i < count; ++i) {
          // Any kind but ReduceLROnPlateau (PyTorch refuses it too); a
          // composite only one level down.
          int stage_kind = static_cast<int>(pick(0, depth < 2 ? 14 : 12));
          if (stage_kind == 10) {
            stage_kind = 2;
          }
          stages.push_back(make(stage_kind, groups, depth + 1));
          if (i > 0) {
            milestones.push_back(at += pick(1, 80));
          }
        }
        return [stages, milestones](auto& opt) {
          std::vector<std::shared_ptr<Scheduler>> built;
          for (const auto& stage : stages) {
            built.push_back(stage(opt));
          }
          return std::make_unique<SequentialLR>(opt, built, milestones);
        };
      }
      default: {
        // StepLR, MultiStepLR, ConstantLR, LinearLR, ExponentialLR,
        // PolynomialLR, MultiplicativeLR: the kinds a chain takes.
        const int chainable[] = {2, 3, 4, 5, 6, 7, 12};
        std::vector<Factory> links;
        for (int64_t i = pick(1, 3); i > 0; --i) {
          links.push_back(make(chainable[pick(0, 6)], groups, depth + 1));
        }
        return [links](auto& opt) {
          std::vector<std::shared_ptr<Scheduler>> built;
          for (const auto& link : links) {
            built.push_back(link(opt));
          }
          return std::make_unique<ChainedScheduler>(opt, built);
        };
      }
    }
  }

  double uniform(double lo, double hi) {
    return std::uniform_real_distribution<double>(lo, hi)(rng_);
  }
  double log_uniform(double lo, double hi) {
    return lo * std::pow(hi / lo, uniform(0.0, 1.0));
  }
  int64_t pick(int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng_);
  }

 private:
  std::mt19937_64 rng_;
};

std::vector<double> lrs_of(const torch::optim::Optimizer& optimizer) {
  std::vector<double> lrs;
  for (const auto& group : optimizer.param_groups()) {
    lrs.push_back(group.options().get_lr());
  }
  return lrs;
}

// parse(to_text(s)) gives s's LR and momentum at every step, bit for bit,
// and the same text again, for random options of every kind.
TEST(SchedulerTextTest, RoundTripOfEveryKindWithRandomOptions) {
  register_test_lambdas();
  RandomSchedulers random(2024);
  int nested = 0;  // composites two deep that the draws gave
  for (int trial = 0; trial < 40; ++trial) {
    for (int kind = 0; kind < RandomSchedulers::kKinds; ++kind) {
      const std::size_t groups = static_cast<std::size_t>(random.pick(1, 3));
      std::vector<double> lrs;
      for (std::size_t g = 0; g < groups; ++g) {
        lrs.push_back(random.log_uniform(1e-4, 1.0));
      }
      const Factory make = random.make(kind, groups);
      auto original_optimizer = make_sgd(lrs);
      auto parsed_optimizer = make_sgd(lrs);
      const auto original = make(*original_optimizer);
      const std::string text = to_text(*original);
      SCOPED_TRACE(text);
      nested += text.find("SequentialLR([", 1) != std::string::npos ||
                text.find("ChainedScheduler([", 1) != std::string::npos;
      std::unique_ptr<Scheduler> parsed;
      ASSERT_NO_THROW(parsed = parse_scheduler(*parsed_optimizer, text));
      ASSERT_EQ(to_text(*parsed), text);
      EXPECT_EQ(parsed->options_text(), original->options_text());
      for (int64_t k = 0; k < 300; ++k) {
        ASSERT_EQ(lrs_of(*parsed_optimizer), lrs_of(*original_optimizer))
            << "step " << k;
        ASSERT_EQ(parsed->get_last_momentum(), original->get_last_momentum())
            << "step " << k;
        step(*original, k);
        step(*parsed, k);
      }
    }
  }
  EXPECT_GE(nested, 5);
}

TEST(SchedulerTextTest, PyTorchSyntaxWithDefaults) {
  auto optimizer = make_sgd({0.1});
  const auto cyclic = parse_scheduler(
      *optimizer,
      "CyclicLR(base_lr=0.001, max_lr=0.006, step_size_up=2000, "
      "mode=\"triangular2\")");
  // By hand: half-way up cycle 1, then half-way up cycle 2 at half the
  // amplitude.
  EXPECT_DOUBLE_EQ(cyclic->lr_at(1000, 0), 0.001 + 0.005 * 0.5);
  EXPECT_DOUBLE_EQ(cyclic->lr_at(5000, 0), 0.001 + 0.005 * 0.5 * 0.5);
  EXPECT_EQ(to_text(*cyclic),
            "CyclicLR(base_lr=[0.001], max_lr=[0.006], step_size_up=2000, "
            "step_size_down=2000, waveform=\"triangle\", "
            "mode=\"triangular2\", gamma=1, cycle_momentum=True, "
            "base_momentum=[0.8], max_momentum=[0.9])");

  auto warm = make_sgd({0.1});
  const auto sequential = parse_scheduler(
      *warm,
      "SequentialLR([LinearLR(start_factor=0.1, total_iters=500), "
      "CosineAnnealingLR(T_max=9500)], milestones=[500])");
  EXPECT_EQ(to_text(*sequential),
            "SequentialLR([LinearLR(start_factor=0.1, end_factor=1, "
            "total_iters=500), CosineAnnealingLR(T_max=9500, eta_min=0)], "
            "milestones=[500])");
  EXPECT_DOUBLE_EQ(sequential->lr_at(0, 0), 0.01);
  EXPECT_DOUBLE_EQ(sequential->lr_at(250, 0), 0.1 * (0.1 + 0.9 * 0.5));
  EXPECT_DOUBLE_EQ(sequential->lr_at(500, 0), 0.1);
  // Half-way through the cosine: (0.1 + 0) / 2.
  EXPECT_DOUBLE_EQ(sequential->lr_at(500 + 4750, 0), 0.05);

  // Positional arguments where PyTorch's constructor takes them; Python's
  // single quotes; spaces anywhere.
  auto stepped = make_sgd({1.0});
  const auto step_lr = parse_scheduler(*stepped, " StepLR( 3 , 0.5 ) ");
  EXPECT_EQ(to_text(*step_lr), "StepLR(step_size=3, gamma=0.5)");
  auto plateau = make_sgd({1.0, 2.0});
  EXPECT_EQ(to_text(*parse_scheduler(*plateau,
                                     "ReduceLROnPlateau(mode='max', "
                                     "min_lr=[0.001, 0])")),
            "ReduceLROnPlateau(mode=\"max\", factor=0.1, patience=10, "
            "threshold=0.0001, threshold_mode=\"rel\", cooldown=0, "
            "min_lr=[0.001, 0], eps=1e-08)");
}

TEST(SchedulerTextTest, NumbersKeepEveryBit) {
  auto optimizer = make_sgd({0.1});
  const double gamma = 0.1 + 0.2;  // 0.30000000000000004
  ExponentialLR original(*optimizer, gamma);
  EXPECT_EQ(to_text(original), "ExponentialLR(gamma=0.30000000000000004)");
  auto other = make_sgd({0.1});
  const auto parsed = parse_scheduler(*other, to_text(original));
  EXPECT_EQ(parsed->lr_at(7, 0), original.lr_at(7, 0));
  EXPECT_EQ(to_text(ExponentialLR(*make_sgd({0.1}), 1e-300)),
            "ExponentialLR(gamma=1e-300)");
}

TEST(SchedulerTextTest, LambdaNeedsARegisteredFunction) {
  register_lr_lambda("test_thirds", [](int64_t k) { return 1.0 / (1 + k); });
  register_test_lambdas();  // "times_0.99": this test may run alone
  auto optimizer = make_sgd({0.3, 0.6});
  const auto scheduler = parse_scheduler(
      *optimizer, "LambdaLR(lr_lambda=[\"test_thirds\", \"times_0.99\"])");
  EXPECT_DOUBLE_EQ(scheduler->lr_at(2, 0), 0.1);
  EXPECT_DOUBLE_EQ(scheduler->lr_at(2, 1), 0.6 * 0.99);
  EXPECT_EQ(to_text(*scheduler),
            "LambdaLR(lr_lambda=[\"test_thirds\", \"times_0.99\"])");
  EXPECT_THAT(
      [] { register_lr_lambda("bad name", [](int64_t) { return 1.0; }); },
      ThrowsMessage<c10::Error>(
          HasSubstr("register_lr_lambda: name must be letters, digits, '_' "
                    "and '.', got \"bad name\"")));
}

TEST(SchedulerTextTest, CustomScaleFnHasNoText) {
  auto optimizer = make_sgd({0.1});
  CyclicLR scheduler(
      *optimizer,
      CyclicLROptions(0.001, 0.01).scale_fn([](double) { return 1.0; }));
  EXPECT_THAT([&] { to_text(scheduler); },
              ThrowsMessage<c10::Error>(
                  HasSubstr("to_text: a CyclicLR with a custom scale_fn has "
                            "no text form")));
}

// --- One copy of the option names ------------------------------------------
//
// Each scheduler's options are written by its options_text() and read by
// parse_scheduler's table of builders; the tests below hold the two to each
// other for every option of every scheduler the parser knows, through the
// list's kEveryOption texts. The reader's own lists (of schedulers, of a
// scheduler's options, of a choice's values) are taken from its messages.

// The message `action` throws (a c10::Error), or "" after a failure.
template <typename Action>
std::string error_of(Action action) {
  try {
    action();
  } catch (const c10::Error& error) {
    return error.what_without_backtrace();
  }
  ADD_FAILURE() << "expected a c10::Error";
  return "";
}

// The comma-separated items between `opening` and the next `closing` of
// `message`, with any quotes around them removed.
std::vector<std::string> listed_between(const std::string& message,
                                        const std::string& opening,
                                        const std::string& closing = ")") {
  const auto begin = message.find(opening);
  const auto start = begin + opening.size();
  const auto end = message.find(closing, start);
  if (begin == std::string::npos || end == std::string::npos) {
    ADD_FAILURE() << "no '" << opening << "...' in: " << message;
    return {};
  }
  std::vector<std::string> items;
  std::stringstream list(message.substr(start, end - start));
  for (std::string item; std::getline(list, item, ',');) {
    item.erase(0, item.find_first_not_of(" \""));
    item.erase(item.find_last_not_of(" \"") + 1);
    items.push_back(item);
  }
  return items;
}

// A call's top-level argument: its keyword ("" for a positional one) and
// its value's text.
struct CallArg {
  std::string keyword;
  std::string value;
};

std::string trimmed(const std::string& text) {
  const auto first = text.find_first_not_of(' ');
  if (first == std::string::npos) {
    return "";
  }
  return text.substr(first, text.find_last_not_of(' ') - first + 1);
}

// The top-level arguments of the call `text` ("Name(a=1, [..])").
std::vector<CallArg> call_args(const std::string& text) {
  std::vector<CallArg> args;
  auto add = [&](const std::string& arg) {
    const std::string item = trimmed(arg);
    if (item.empty()) {
      return;
    }
    const auto equals = item.find('=');
    const auto name_end = item.find_first_not_of(
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_");
    if (equals != std::string::npos && name_end == equals) {
      args.push_back({item.substr(0, equals), item.substr(equals + 1)});
    } else {
      args.push_back({"", item});
    }
  };
  int depth = 0;
  char quote = 0;
  std::size_t start = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quote != 0) {
      quote = c == quote ? 0 : quote;
    } else if (c == '"' || c == '\'') {
      quote = c;
    } else if (c == '(' || c == '[') {
      if (++depth == 1) {
        start = i + 1;
      }
    } else if (c == ')' || c == ']') {
      if (depth-- == 1) {
        add(text.substr(start, i - start));
      }
    } else if (c == ',' && depth == 1) {
      add(text.substr(start, i - start));
      start = i + 1;
    }
  }
  return args;
}

std::string call_name(const std::string& text) {
  return text.substr(0, text.find('('));
}

// `text` with `keyword` set to `value` (added if it is not there).
std::string with_option(const std::string& text,
                        const std::string& keyword,
                        const std::string& value) {
  std::string out = call_name(text) + "(";
  bool replaced = false;
  for (const auto& arg : call_args(text)) {
    out += out.back() == '(' ? "" : ", ";
    if (arg.keyword == keyword) {
      out += keyword + "=" + value;
      replaced = true;
    } else {
      out += (arg.keyword.empty() ? "" : arg.keyword + "=") + arg.value;
    }
  }
  if (!replaced) {
    out += (out.back() == '(' ? "" : ", ") + keyword + "=" + value;
  }
  return out + ")";
}

std::vector<std::string> sorted(std::vector<std::string> names) {
  std::sort(names.begin(), names.end());
  return names;
}

// The options the reader reads for the scheduler `text` calls: the list its
// message for an unknown option gives.
std::vector<std::string> options_read(const std::string& text) {
  auto optimizer = make_sgd({0.1, 0.2});
  return listed_between(
      error_of([&] {
        make_scheduler(*optimizer, with_option(text, "no_such_option", "0"));
      }),
      "(its options: ");
}

// Every scheduler the reader knows has a kEveryOption text that gives every
// option it reads; what to_text writes for it gives each of them once (by
// keyword, or by position where PyTorch takes it first) and nothing else,
// and reads back to the same text. A keyword written but not read, or read
// but not written, fails here.
TEST(SchedulerTextTest, ReaderAndWriterHaveTheSameOptions) {
  auto optimizer = make_sgd({0.1});
  const auto known = listed_between(
      error_of([&] { parse_scheduler(*optimizer, "NoSuchLR()"); }), "(known: ");
  const auto texts = schedule_texts(TextSet::kEveryOption);
  EXPECT_GE(known.size(), 15u);
  EXPECT_EQ(texts.size(), known.size());
  for (const auto& name : known) {
    EXPECT_TRUE(std::any_of(
        texts.begin(),
        texts.end(),
        [&](const auto& entry) { return call_name(entry.text) == name; }))
        << name << " has no kEveryOption text in tests/scheduler_texts.cpp";
  }
  for (const auto& entry : texts) {
    SCOPED_TRACE(entry.text);
    const auto read = sorted(options_read(entry.text));
    std::vector<std::string> given;
    for (const auto& arg : call_args(entry.text)) {
      given.push_back(arg.keyword);
    }
    EXPECT_EQ(sorted(given), read) << "the text must give every option";

    auto built_optimizer = make_sgd({0.1, 0.2});
    const auto built = make_scheduler(*built_optimizer, entry.text);
    const std::string written = to_text(*built);
    SCOPED_TRACE(written);
    const auto written_args = call_args(written);
    for (const auto& arg : written_args) {
      if (!arg.keyword.empty()) {
        EXPECT_TRUE(std::binary_search(read.begin(), read.end(), arg.keyword))
            << arg.keyword << " is written but not read";
      }
    }
    // Each positional argument stands for an option that is not also given
    // by keyword (the reader refuses both), so equal counts mean that every
    // option read is written.
    EXPECT_EQ(written_args.size(), read.size());
    auto reread_optimizer = make_sgd({0.1, 0.2});
    std::unique_ptr<Scheduler> reread;
    ASSERT_NO_THROW(reread = make_scheduler(*reread_optimizer, written));
    EXPECT_EQ(to_text(*reread), written);
  }
}

// Each value of each choice (mode="...", ...) the reader takes is written
// back as the same word.
TEST(SchedulerTextTest, EveryChoiceReadsAndWritesTheSameWord) {
  int checked = 0;
  for (const auto& entry : schedule_texts(TextSet::kEveryOption)) {
    for (const auto& arg : call_args(entry.text)) {
      if (arg.value.front() != '"' || arg.keyword == "lr_lambda") {
        continue;
      }
      auto optimizer = make_sgd({0.1, 0.2});
      const auto choices = listed_between(
          error_of([&] {
            make_scheduler(*optimizer,
                           with_option(entry.text, arg.keyword, "\"?\""));
          }),
          "expected one of ",
          ", got ");
      EXPECT_GE(choices.size(), 2u) << entry.name << " " << arg.keyword;
      for (const auto& choice : choices) {
        const std::string word = arg.keyword + "=\"" + choice + "\"";
        auto chosen = make_sgd({0.1, 0.2});
        std::string written;
        ASSERT_NO_THROW(
            written = to_text(*make_scheduler(
                *chosen,
                with_option(entry.text, arg.keyword, "\"" + choice + "\""))))
            << word;
        EXPECT_THAT(written, HasSubstr(word));
        ++checked;
      }
    }
  }
  // At least CyclicLR's 4 modes and 3 waveforms, OneCycleLR's 2 anneal
  // strategies, ReduceLROnPlateau's 2 modes and 2 threshold modes.
  EXPECT_GE(checked, 13);
}

// --- Comments and files ------------------------------------------------------

TEST(SchedulerTextTest, CommentsAndLineBreaksAreSpace) {
  auto optimizer = make_sgd({1.0});
  const auto scheduler = parse_scheduler(
      *optimizer,
      "# the paper's step decay\nStepLR(3,  # step_size\n  0.5)  # gamma\n");
  EXPECT_EQ(to_text(*scheduler), "StepLR(step_size=3, gamma=0.5)");
  EXPECT_DOUBLE_EQ(scheduler->lr_at(6, 0), 0.25);
}

void write_text(const std::string& path, const std::string& text) {
  write_bytes(path, std::vector<uint8_t>(text.begin(), text.end()));
}

TEST(SchedulerTextTest, FileOnSeveralLinesWithComments) {
  TempDir dir;
  const std::string path = dir.file("clr.schedule");
  write_text(path,
             "# Table 1's CLR, then a linear decay.\n"
             "SequentialLR(\n"
             "    [CyclicLR(base_lr=0.001, max_lr=0.006,  # per group: lists\n"
             "              step_size_up=2000, mode='triangular2'),\n"
             "     LinearLR(start_factor=1.0, end_factor=0.1,\n"
             "              total_iters=1000)],\n"
             "    milestones=[8000])\n");
  auto optimizer = make_sgd({0.1});
  const auto scheduler = parse_scheduler_file(*optimizer, path);
  EXPECT_EQ(to_text(*scheduler),
            "SequentialLR([CyclicLR(base_lr=[0.001], max_lr=[0.006], "
            "step_size_up=2000, step_size_down=2000, waveform=\"triangle\", "
            "mode=\"triangular2\", gamma=1, cycle_momentum=True, "
            "base_momentum=[0.8], max_momentum=[0.9]), LinearLR("
            "start_factor=1, end_factor=0.1, total_iters=1000)], "
            "milestones=[8000])");
  // By hand: half-way up the first cycle; then half-way through the decay,
  // from the first stage's base LR (PyTorch's initial_lr).
  EXPECT_DOUBLE_EQ(scheduler->lr_at(1000, 0), 0.001 + 0.005 * 0.5);
  EXPECT_DOUBLE_EQ(scheduler->lr_at(8500, 0), 0.001 * (1.0 - 0.9 * 0.5));
}

TEST(SchedulerTextTest, FileErrorsNameTheFileLineAndColumn) {
  TempDir dir;
  const std::string path = dir.file("bad.schedule");
  auto optimizer = make_sgd({0.1});
  auto error_in = [&](const std::string& text) {
    write_text(path, text);
    return error_of([&] { parse_scheduler_file(*optimizer, path); });
  };
  EXPECT_THAT(error_in("# decay\nStepLR(step_size=3,\n       gamma=\"0.5\")\n"),
              HasSubstr("parse_scheduler_file: " + path +
                        ":3:14: StepLR option gamma: expected a number, got "
                        "'\"0.5\"'"));
  // An option's own check is at its scheduler.
  EXPECT_THAT(error_in("# decay\n  StepLR(step_size=0)"),
              HasSubstr("parse_scheduler_file: " + path +
                        ":2:3: StepLR: step_size must be > 0, got 0"));
  EXPECT_THAT(error_in("# nothing but a comment\n"),
              HasSubstr("parse_scheduler_file: " + path +
                        ":2:1: expected a value (number, string, list or "
                        "scheduler), got the end of the text"));
  EXPECT_THAT(error_in("StepLR(step_size=3)\nStepLR(step_size=4)\n"),
              HasSubstr("parse_scheduler_file: " + path +
                        ":2:1: trailing text after the scheduler: "
                        "'StepLR(step_size=4)\n'"));
}

TEST(SchedulerTextTest, UnreadableFileIsNamed) {
  TempDir dir;
  auto optimizer = make_sgd({0.1});
  const std::string missing = dir.file("missing.schedule");
  EXPECT_THAT([&] { parse_scheduler_file(*optimizer, missing); },
              ThrowsMessage<c10::Error>(
                  HasSubstr("parse_scheduler_file: cannot open " + missing +
                            ": No such file or directory")));
  EXPECT_THAT([&] { parse_scheduler_file(*optimizer, dir.path()); },
              ThrowsMessage<c10::Error>(HasSubstr(
                  "parse_scheduler_file: cannot open " + dir.path() + ": ")));
  const std::string huge = dir.file("huge.schedule");
  write_text(huge, "StepLR(3)" + std::string(1 << 20, ' '));
  EXPECT_THAT(
      [&] { parse_scheduler_file(*optimizer, huge); },
      ThrowsMessage<c10::Error>(HasSubstr(
          "parse_scheduler_file: " + huge +
          " is 1048585 bytes, expected a schedule text of at most 1048576 "
          "bytes")));
}

// --- group_ratios: Caffe's lr_mult for texts ---------------------------------

// Two groups at Caffe's ratios 1 and 2 (cifar10_full's weights and biases).
const ParseOptions kCaffeRatios = ParseOptions().group_ratios({1, 2});

TEST(SchedulerTextTest, GroupRatiosScaleEachLROption) {
  auto cyclic_optimizer = make_sgd({0.1, 0.1});
  const auto cyclic =
      parse_scheduler(*cyclic_optimizer,
                      "CyclicLR(base_lr=0.001, max_lr=0.006, step_size_up=4, "
                      "cycle_momentum=False)",
                      kCaffeRatios);
  // By hand: the bottom and the top of the cycle, times each group's ratio.
  EXPECT_DOUBLE_EQ(cyclic->lr_at(0, 0), 0.001);
  EXPECT_DOUBLE_EQ(cyclic->lr_at(0, 1), 0.002);
  EXPECT_DOUBLE_EQ(cyclic->lr_at(4, 0), 0.006);
  EXPECT_DOUBLE_EQ(cyclic->lr_at(4, 1), 0.012);
  EXPECT_THAT(to_text(*cyclic),
              HasSubstr("base_lr=[0.001, 0.002], max_lr=[0.006, 0.012]"));

  auto one_cycle_optimizer = make_sgd({0.1, 0.1});
  const auto one_cycle =
      parse_scheduler(*one_cycle_optimizer,
                      "OneCycleLR(max_lr=0.1, total_steps=10)",
                      kCaffeRatios);
  // PyTorch starts at max_lr / div_factor (25).
  EXPECT_DOUBLE_EQ(one_cycle->lr_at(0, 0), 0.1 / 25);
  EXPECT_DOUBLE_EQ(one_cycle->lr_at(0, 1), 0.2 / 25);
  EXPECT_THAT(to_text(*one_cycle), HasSubstr("max_lr=[0.1, 0.2]"));

  auto swa_optimizer = make_sgd({0.1, 0.1});
  const auto swa = parse_scheduler(
      *swa_optimizer, "SWALR(swa_lr=0.05, anneal_epochs=2)", kCaffeRatios);
  const auto& swa_lrs = dynamic_cast<const SWALR&>(*swa).swa_lrs();
  EXPECT_EQ(swa_lrs, (std::vector<double>{0.05, 0.1}));

  auto plateau_optimizer = make_sgd({0.1, 0.1});
  const auto plateau = parse_scheduler(
      *plateau_optimizer, "ReduceLROnPlateau(min_lr=0.001)", kCaffeRatios);
  EXPECT_EQ(dynamic_cast<const ReduceLROnPlateau&>(*plateau).min_lrs(),
            (std::vector<double>{0.001, 0.002}));

  // eta_min is one number for every group: equal ratios scale it.
  const auto equal = ParseOptions().group_ratios({3, 3});
  auto cosine_optimizer = make_sgd({0.1, 0.1});
  const auto cosine = parse_scheduler(
      *cosine_optimizer, "CosineAnnealingLR(T_max=10, eta_min=0.001)", equal);
  EXPECT_DOUBLE_EQ(cosine->lr_at(10, 0), 0.003);
  EXPECT_DOUBLE_EQ(cosine->lr_at(10, 1), 0.003);
  auto restarts_optimizer = make_sgd({0.1, 0.1});
  const auto restarts =
      parse_scheduler(*restarts_optimizer,
                      "CosineAnnealingWarmRestarts(T_0=4, eta_min=0.001)",
                      equal);
  // Half-way through the first cycle: (0.1 + 0.003) / 2.
  EXPECT_DOUBLE_EQ(restarts->lr_at(2, 1), (0.1 + 0.003) / 2);
}

TEST(SchedulerTextTest, GroupRatiosLeaveListsAndRelativeOptionsAlone) {
  auto optimizer = make_sgd({0.1, 0.2});
  const auto cyclic = parse_scheduler(
      *optimizer,
      "CyclicLR(base_lr=[0.001, 0.003], max_lr=0.006, cycle_momentum=False)",
      kCaffeRatios);
  EXPECT_THAT(to_text(*cyclic),
              HasSubstr("base_lr=[0.001, 0.003], max_lr=[0.006, 0.012]"));

  // Factors and gamma scale each group's own LR already: 0.1 and 0.2, then
  // halved, with or without ratios.
  for (const auto* text : {"StepLR(step_size=2, gamma=0.5)",
                           "ExponentialLR(gamma=0.5)",
                           "LinearLR(start_factor=0.5, total_iters=2)",
                           "ConstantLR(factor=0.5, total_iters=2)",
                           "CosineAnnealingLR(T_max=4)"}) {
    auto plain = make_sgd({0.1, 0.2});
    auto scaled = make_sgd({0.1, 0.2});
    const auto without = parse_scheduler(*plain, text);
    const auto with = parse_scheduler(*scaled, text, kCaffeRatios);
    EXPECT_EQ(to_text(*with), to_text(*without)) << text;
    for (int64_t k = 0; k < 5; ++k) {
      EXPECT_EQ(with->lr_at(k, 0), without->lr_at(k, 0)) << text;
      EXPECT_EQ(with->lr_at(k, 1), without->lr_at(k, 1)) << text;
    }
  }
}

TEST(SchedulerTextTest, GroupRatiosReachNestedSchedulers) {
  auto optimizer = make_sgd({0.1, 0.1});
  const auto nested = parse_scheduler(
      *optimizer,
      "SequentialLR([SequentialLR([CyclicLR(base_lr=0.001, "
      "max_lr=0.006, step_size_up=2, cycle_momentum=False), "
      "OneCycleLR(max_lr=0.1, total_steps=10)], milestones=[4]), "
      "SWALR(swa_lr=0.01, anneal_epochs=1)], milestones=[8])",
      kCaffeRatios);
  const std::string text = to_text(*nested);
  EXPECT_THAT(text, HasSubstr("base_lr=[0.001, 0.002]"));
  EXPECT_THAT(text, HasSubstr("max_lr=[0.006, 0.012]"));
  EXPECT_THAT(text, HasSubstr("max_lr=[0.1, 0.2]"));
  EXPECT_THAT(text, HasSubstr("swa_lr=[0.01, 0.02]"));
  // The top of the first cycle, by hand.
  EXPECT_DOUBLE_EQ(nested->lr_at(2, 1), 0.012);
}

TEST(SchedulerTextTest, GroupRatiosMustFitTheOptimizer) {
  auto optimizer = make_sgd({0.1, 0.1});
  const std::string text = "StepLR(step_size=2)";
  EXPECT_THAT(
      [&] {
        parse_scheduler(
            *optimizer, text, ParseOptions().group_ratios({1, 2, 1}));
      },
      ThrowsMessage<c10::Error>(HasSubstr(
          "parse_scheduler: group_ratios has 3 values, expected one per "
          "param group of the optimizer (2) or none")));
  EXPECT_THAT(
      [&] {
        parse_scheduler(*optimizer, text, ParseOptions().group_ratios({1, 0}));
      },
      ThrowsMessage<c10::Error>(
          HasSubstr("parse_scheduler: group_ratios[1] must be a finite "
                    "number > 0, got 0")));
  TempDir dir;
  const std::string path = dir.file("step.schedule");
  write_text(path, text);
  EXPECT_THAT(
      [&] {
        parse_scheduler_file(
            *optimizer, path, ParseOptions().group_ratios({1}));
      },
      ThrowsMessage<c10::Error>(HasSubstr(
          "parse_scheduler_file: group_ratios has 1 values, expected one per "
          "param group of the optimizer (2) or none")));
  // A file is scaled as a text is.
  const auto from_file = parse_scheduler_file(
      *optimizer, path, ParseOptions().group_ratios({1, 2}));
  EXPECT_EQ(to_text(*from_file), "StepLR(step_size=2, gamma=0.1)");

  // Unequal ratios cannot scale CosineAnnealingLR's single eta_min; 0 is 0
  // under any ratios.
  EXPECT_THAT(
      [&] {
        parse_scheduler(*optimizer,
                        "CosineAnnealingLR(T_max=4, eta_min=0.001)",
                        kCaffeRatios);
      },
      ThrowsMessage<c10::Error>(HasSubstr(
          "parse_scheduler: at position 35: CosineAnnealingLR option "
          "eta_min: expected 0 or one LR for every group: it is one number "
          "(as in PyTorch), and group_ratios [1, 2] would give each group "
          "its own, got '0.001'")));
  EXPECT_NO_THROW(parse_scheduler(
      *optimizer, "CosineAnnealingLR(T_max=4, eta_min=0)", kCaffeRatios));
}

struct Malformed {
  std::string name;
  std::string text;
  std::string message;
};

void PrintTo(const Malformed& c, std::ostream* out) {
  *out << c.text;
}

class SchedulerTextErrorTest : public ::testing::TestWithParam<Malformed> {};

// Each malformed text gives its one error, which names the position, the
// scheduler, the option and what was expected. The optimizer has 2 groups.
TEST_P(SchedulerTextErrorTest, NamesThePositionAndWhatWasExpected) {
  auto optimizer = make_sgd({0.1, 0.2});
  EXPECT_THAT([&] { parse_scheduler(*optimizer, GetParam().text); },
              ThrowsMessage<c10::Error>(
                  HasSubstr("parse_scheduler: " + GetParam().message)));
}

INSTANTIATE_TEST_SUITE_P(
    Malformed,
    SchedulerTextErrorTest,
    ::testing::Values(
        Malformed{
            "unknown_scheduler",
            "FooLR(gamma=0.5)",
            "at position 0: unknown scheduler 'FooLR' (known: "
            "ChainedScheduler, ConstantLR, CosineAnnealingLR, "
            "CosineAnnealingWarmRestarts, CyclicLR, ExponentialLR, "
            "LambdaLR, LinearLR, MultiStepLR, MultiplicativeLR, "
            "OneCycleLR, PolynomialLR, ReduceLROnPlateau, SWALR, SequentialLR, "
            "StepLR)"},
        Malformed{"unknown_option",
                  "StepLR(step_size=3, gama=0.5)",
                  "at position 20: StepLR has no option 'gama' (its options: "
                  "step_size, gamma)"},
        Malformed{"float_for_integer",
                  "StepLR(step_size=2.5)",
                  "at position 17: StepLR option step_size: expected an "
                  "integer, got '2.5'"},
        Malformed{"string_for_number",
                  "StepLR(step_size=3, gamma=\"0.5\")",
                  "at position 26: StepLR option gamma: expected a number, "
                  "got '\"0.5\"'"},
        Malformed{"unknown_choice",
                  "CyclicLR(base_lr=0.001, max_lr=0.01, mode=\"exp\")",
                  "at position 42: CyclicLR option mode: expected one of "
                  "\"triangular\", \"triangular2\", \"exp_range\", "
                  "\"exp_range_paper\", got '\"exp\"'"},
        Malformed{"bool_as_string",
                  "OneCycleLR(max_lr=0.1, total_steps=100, three_phase=1)",
                  "at position 52: OneCycleLR option three_phase: expected "
                  "True or False, got '1'"},
        Malformed{"list_length",
                  "CyclicLR(base_lr=[0.001], max_lr=0.01)",
                  "at position 17: CyclicLR option base_lr: expected a list "
                  "of 2 numbers, one per param group of the optimizer (got "
                  "1), got '[0.001]'"},
        Malformed{"missing_option",
                  "StepLR(gamma=0.5)",
                  "at position 0: StepLR: missing option step_size"},
        Malformed{"option_check",
                  "StepLR(step_size=0)",
                  "at position 0: StepLR: step_size must be > 0, got 0"},
        Malformed{"given_twice",
                  "StepLR(step_size=3, step_size=4)",
                  "at position 20: StepLR: option step_size given twice"},
        Malformed{"extra_positional",
                  "StepLR(3, 0.5, 7)",
                  "at position 15: StepLR: unexpected positional argument 3 "
                  "(give options as keyword=value: step_size, gamma)"},
        Malformed{"unbalanced_list",
                  "MultiStepLR(milestones=[3, 5)",
                  "at position 28: unbalanced '[' at position 23: expected "
                  "',' or ']', got ')'"},
        Malformed{"unbalanced_call",
                  "StepLR(step_size=3",
                  "at position 18: unbalanced '(' of StepLR at position 6: "
                  "expected ',' or ')', got the end of the text"},
        Malformed{"trailing_text",
                  "StepLR(step_size=3) x",
                  "at position 20: trailing text after the scheduler: 'x'"},
        Malformed{"bare_name",
                  "CyclicLR(base_lr=0.001, max_lr=0.01, mode=triangular)",
                  "at position 42: expected a value (number, string, list or "
                  "scheduler), got the bare name 'triangular' (a string needs "
                  "quotes, a scheduler '(...)')"},
        Malformed{"not_a_scheduler",
                  "[StepLR(step_size=3)]",
                  "at position 0: expected a scheduler such as CyclicLR(...), "
                  "got '[StepLR(step_size=3)]'"},
        Malformed{"empty", "", "at position 0: expected a value"},
        Malformed{"unregistered_lambda",
                  "LambdaLR(lr_lambda=\"not_registered\")",
                  "at position 19: LambdaLR option lr_lambda: no function is "
                  "registered as \"not_registered\"; register it first with "
                  "torchclr::register_lr_lambda(\"not_registered\", fn)"},
        Malformed{"nested",
                  "SequentialLR([StepLR(step_size=3), "
                  "ExponentialLR(gamma=[0.5])], milestones=[3])",
                  "at position 55: ExponentialLR option gamma: expected a "
                  "number, got '[0.5]'"},
        Malformed{"comment_hides_the_close",
                  "StepLR(3 # )\n",
                  "at position 13: unbalanced '(' of StepLR at position 6: "
                  "expected ',' or ')', got the end of the text"},
        Malformed{"nested_too_deep",
                  "StepLR(" + std::string(100, '['),
                  "at position 70: lists and schedulers nested more than 64 "
                  "deep"},
        Malformed{"nested_not_a_scheduler",
                  "ChainedScheduler([StepLR(step_size=3), 0.5])",
                  "at position 39: ChainedScheduler option schedulers: "
                  "expected a scheduler such as StepLR(step_size=10), got "
                  "'0.5'"}),
    [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace torchclr::test
