// The papers' named runs (paper_runs.h), built as `train --schedule` builds
// any text (make_optimizer at the run's --lr, the text read with
// cifar10_full's lr_mult as group_ratios), give at every step the LRs the
// papers' formulas give, written out below independently of the library.

#include "paper_runs.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "network.h"
#include "schedule_flags.h"

namespace torchclr::examples {
namespace {

using LrAt = std::function<double(int64_t)>;

// Smith's triangle (section 3.1): 0 at the cycle's ends, 1 at its middle.
double tri(int64_t k, int64_t step) {
  const double cycle = std::floor(1 + static_cast<double>(k) / (2 * step));
  const double x = std::abs(static_cast<double>(k) / step - 2 * cycle + 1);
  return std::max(0.0, 1 - x);
}

double cycle_of(int64_t k, int64_t step) {
  return std::floor(1 + static_cast<double>(k) / (2 * step));
}

LrAt triangular(double base, double max, int64_t step) {
  return [=](int64_t k) { return base + (max - base) * tri(k, step); };
}

LrAt triangular2(double base, double max, int64_t step) {
  return [=](int64_t k) {
    return base +
           (max - base) * tri(k, step) / std::pow(2.0, cycle_of(k, step) - 1);
  };
}

// The LR from `lr`, times 0.1 at each milestone passed.
LrAt drops(double lr, int64_t first, int64_t second) {
  return [=](int64_t k) {
    return lr * (k >= first ? 0.1 : 1.0) * (k >= second ? 0.1 : 1.0);
  };
}

// Table 2: three triangular2 stages, each from its own step 0.
LrAt table2(double scale) {
  const auto one = triangular2(0.001, 0.005, scaled(2000, scale));
  const auto two = triangular2(0.0001, 0.0005, scaled(1000, scale));
  const auto three = triangular2(0.00001, 0.00005, scaled(500, scale));
  const int64_t first = scaled(16000, scale);
  const int64_t second = scaled(22000, scale);
  return [=](int64_t k) {
    return k < first ? one(k) : k < second ? two(k - first) : three(k - second);
  };
}

struct Expected {
  PaperRun run;
  LrAt lr_at;  ///< group 0's LR (lr_mult 1) at step k
};

std::vector<Expected> expected_runs(double scale) {
  const double gamma = std::pow(0.99994, 1.0 / scale);
  const int64_t step = scaled(2000, scale);
  const int64_t decay = scaled(4000, scale);
  const auto run = [&](const char* name) { return table1_run(name, scale); };
  std::vector<Expected> runs = {
      {run("fixed"), drops(0.001, scaled(60000, scale), scaled(65000, scale))},
      {run("triangular"), triangular(0.001, 0.006, step)},
      {run("triangular2"), table2(scale)},
      {run("triangular2_single"), triangular2(0.001, 0.006, step)},
      {run("decay"),
       [=](int64_t k) {
         const double done = std::min<double>(k, decay) / decay;
         return 0.007 + (0.001 - 0.007) * done;
       }},
      {run("exp"), [=](int64_t k) { return 0.001 * std::pow(gamma, k); }},
      {run("exp_range"),
       [=](int64_t k) {
         return (0.001 + 0.005 * tri(k, step)) * std::pow(gamma, k);
       }},
      {run("exp_range_pytorch"),
       [=](int64_t k) {
         return 0.001 + 0.005 * tri(k, step) * std::pow(gamma, k);
       }},
      {table3_run("fixed", 0.0005, 0.002, 70000, scale),
       drops(0.0005, scaled(60000, scale), scaled(65000, scale))},
      {table3_run("triangular", 0.0005, 0.002, 25000, scale),
       triangular(0.0005, 0.002, step)},
      {superconvergence_1cycle(0.1, 3.0, scale),
       triangular(0.1, 3.0, scaled(5000, scale))},
      {superconvergence_baseline(scale),
       drops(0.35, scaled(50000, scale), scaled(70000, scale))},
  };
  return runs;
}

void expect_lrs_at_every_step(const Expected& expected) {
  const PaperRun& run = expected.run;
  auto network = make_network("cifar10_full", "cifar10", 3, 32, 32, 10);
  const auto ratios = network.lr_multipliers();
  ASSERT_EQ(ratios, (std::vector<double>{1, 2, 1, 2}));
  auto optimizer =
      make_optimizer("sgd", network.param_groups, run.lr, 0.9, 0.004);
  auto scheduler = make_scheduler(
      {run.schedule, ""}, *optimizer, ParseOptions().group_ratios(ratios));
  for (int64_t k = 0; k < run.iterations; ++k) {
    if (k > 0) {
      scheduler->step();
    }
    const double want = expected.lr_at(k);
    for (std::size_t g = 0; g < ratios.size(); ++g) {
      const double lr = optimizer->param_groups()[g].options().get_lr();
      ASSERT_NEAR(lr, want * ratios[g], 1e-12 * want * ratios[g])
          << run.name << " (" << run.schedule << "), group " << g << ", step "
          << k;
    }
  }
}

TEST(PaperRunsTest, EveryRunGivesThePapersLRsAtEveryStep) {
  for (const double scale : {1.0, 0.01, 0.0013}) {
    for (const auto& expected : expected_runs(scale)) {
      SCOPED_TRACE(testing::Message() << "scale " << scale);
      expect_lrs_at_every_step(expected);
    }
  }
}

TEST(PaperRunsTest, TheListIsTheNamedRuns) {
  EXPECT_EQ(table1_run_names(),
            (std::vector<std::string>{"fixed",
                                      "triangular",
                                      "triangular2",
                                      "triangular2_single",
                                      "decay",
                                      "exp",
                                      "exp_range",
                                      "exp_range_pytorch"}));
  EXPECT_EQ(table1_run("exp_range", 1.0).schedule,
            "CyclicLR(base_lr=0.001, max_lr=0.006, step_size_up=2000, "
            "mode=\"exp_range_paper\", gamma=0.99994, cycle_momentum=False)");
  EXPECT_THAT([] { table1_run("one_cycle", 1.0); },
              testing::ThrowsMessage<std::invalid_argument>(testing::HasSubstr(
                  "no Table 1 run is named 'one_cycle' (known: fixed, "
                  "triangular, ")));
}

}  // namespace
}  // namespace torchclr::examples
