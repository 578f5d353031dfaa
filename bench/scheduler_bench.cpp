// Cost of one scheduler step() (LR and, where cycled, momentum of every param
// group), for each policy with 1 and 10 param groups. Target: <= 100 ns per
// step with one group. Compare with bench/pytorch_scheduler_bench.py.
//
//   build/bench/scheduler_bench --benchmark_min_time=0.2

#include <benchmark/benchmark.h>
#include <torch/optim/schedulers/step_lr.h>
#include <torch/torch.h>
#include <torchclr/torchclr.h>

namespace {

using namespace torchclr;

std::unique_ptr<torch::optim::SGD> make_sgd(int64_t groups) {
  std::vector<torch::optim::OptimizerParamGroup> param_groups;
  for (int64_t i = 0; i < groups; ++i) {
    param_groups.emplace_back(
        std::vector<torch::Tensor>{torch::zeros({1}, torch::requires_grad())});
  }
  return std::make_unique<torch::optim::SGD>(
      param_groups, torch::optim::SGDOptions(0.01).momentum(0.9));
}

template <typename Make>
void run(benchmark::State& state, Make make) {
  auto optimizer = make_sgd(state.range(0));
  std::unique_ptr<torch::optim::LRScheduler> scheduler = make(*optimizer);
  for (auto _ : state) {
    scheduler->step();
  }
  benchmark::DoNotOptimize(optimizer->param_groups()[0].options().get_lr());
}

// Long enough that no benchmark run reaches the end of a 1cycle schedule.
constexpr int64_t kHuge = int64_t(1) << 50;

void BM_CyclicLR_triangular(benchmark::State& state) {
  run(state, [](auto& o) {
    return std::make_unique<CyclicLR>(
        o, CyclicLROptions(0.001, 0.006).cycle_momentum(false));
  });
}
void BM_CyclicLR_triangular_momentum(benchmark::State& state) {
  run(state, [](auto& o) {
    return std::make_unique<CyclicLR>(o, CyclicLROptions(0.001, 0.006));
  });
}
void BM_CyclicLR_triangular2(benchmark::State& state) {
  run(state, [](auto& o) {
    return std::make_unique<CyclicLR>(
        o, CyclicLROptions(0.001, 0.006).mode(CyclicMode::kTriangular2));
  });
}
void BM_CyclicLR_exp_range(benchmark::State& state) {
  run(state, [](auto& o) {
    return std::make_unique<CyclicLR>(o,
                                      CyclicLROptions(0.001, 0.006)
                                          .mode(CyclicMode::kExpRange)
                                          .gamma(0.99994));
  });
}
void BM_CyclicLR_sine(benchmark::State& state) {
  run(state, [](auto& o) {
    return std::make_unique<CyclicLR>(
        o, CyclicLROptions(0.001, 0.006).waveform(Waveform::kSine));
  });
}
void BM_OneCycleLR(benchmark::State& state) {
  run(state, [](auto& o) {
    return std::make_unique<OneCycleLR>(o, OneCycleLROptions(0.1, kHuge));
  });
}
void BM_CosineAnnealingWarmRestarts(benchmark::State& state) {
  run(state, [](auto& o) {
    return std::make_unique<CosineAnnealingWarmRestarts>(
        o, CosineAnnealingWarmRestartsOptions(100).T_mult(2));
  });
}
void BM_ExponentialLR(benchmark::State& state) {
  run(state,
      [](auto& o) { return std::make_unique<ExponentialLR>(o, 0.99994); });
}
void BM_LinearLR(benchmark::State& state) {
  run(state, [](auto& o) {
    return std::make_unique<LinearLR>(o, LinearLROptions().total_iters(4000));
  });
}
void BM_MultiStepLR(benchmark::State& state) {
  run(state, [](auto& o) {
    return std::make_unique<MultiStepLR>(o, MultiStepLROptions({60000, 65000}));
  });
}
void BM_SequentialLR(benchmark::State& state) {
  run(state, [](auto& o) {
    auto stage = [&](double base, double max) {
      return std::make_shared<CyclicLR>(
          o, CyclicLROptions(base, max).mode(CyclicMode::kTriangular2));
    };
    return std::make_unique<SequentialLR>(
        o,
        std::vector<std::shared_ptr<Scheduler>>{stage(0.001, 0.005),
                                                stage(1e-4, 5e-4)},
        std::vector<int64_t>{kHuge});
  });
}
void BM_StepLR(benchmark::State& state) {
  run(state, [](auto& o) {
    return std::make_unique<StepLR>(o, StepLROptions(1000).gamma(0.99));
  });
}
void BM_ConstantLR(benchmark::State& state) {
  run(state, [](auto& o) {
    return std::make_unique<ConstantLR>(o,
                                        ConstantLROptions().total_iters(kHuge));
  });
}
void BM_PolynomialLR(benchmark::State& state) {
  run(state, [](auto& o) {
    return std::make_unique<PolynomialLR>(
        o, PolynomialLROptions().total_iters(kHuge).power(2.0));
  });
}
void BM_CosineAnnealingLR(benchmark::State& state) {
  run(state,
      [](auto& o) { return std::make_unique<CosineAnnealingLR>(o, 10000); });
}
void BM_LambdaLR(benchmark::State& state) {
  run(state, [](auto& o) {
    return std::make_unique<LambdaLR>(
        o, LRLambda([](int64_t k) { return 1.0 / (1.0 + 1e-4 * k); }));
  });
}
void BM_MultiplicativeLR(benchmark::State& state) {
  run(state, [](auto& o) {
    return std::make_unique<MultiplicativeLR>(
        o, LRLambda([](int64_t) { return 0.99999; }));
  });
}
void BM_ChainedScheduler(benchmark::State& state) {
  run(state, [](auto& o) {
    auto warm = std::make_shared<ConstantLR>(o);
    auto decay = std::make_shared<ExponentialLR>(o, 0.99999);
    return std::make_unique<ChainedScheduler>(
        o, std::vector<std::shared_ptr<Scheduler>>{warm, decay});
  });
}
// step(metric): a new best every 16 steps, a reduction after 11 bad ones.
void BM_ReduceLROnPlateau(benchmark::State& state) {
  auto optimizer = make_sgd(state.range(0));
  ReduceLROnPlateau scheduler(*optimizer);
  int64_t epoch = 0;
  for (auto _ : state) {
    scheduler.step(-static_cast<double>(epoch++ / 16));
  }
  benchmark::DoNotOptimize(optimizer->param_groups()[0].options().get_lr());
}
void BM_LibTorch_StepLR(benchmark::State& state) {
  run(state, [](auto& o) {
    return std::make_unique<torch::optim::StepLR>(o, 1000, 0.99);
  });
}

#define TORCHCLR_BENCH(name) BENCHMARK(name)->Arg(1)->Arg(10)
TORCHCLR_BENCH(BM_CyclicLR_triangular);
TORCHCLR_BENCH(BM_CyclicLR_triangular_momentum);
TORCHCLR_BENCH(BM_CyclicLR_triangular2);
TORCHCLR_BENCH(BM_CyclicLR_exp_range);
TORCHCLR_BENCH(BM_CyclicLR_sine);
TORCHCLR_BENCH(BM_OneCycleLR);
TORCHCLR_BENCH(BM_CosineAnnealingWarmRestarts);
TORCHCLR_BENCH(BM_ExponentialLR);
TORCHCLR_BENCH(BM_LinearLR);
TORCHCLR_BENCH(BM_MultiStepLR);
TORCHCLR_BENCH(BM_SequentialLR);
TORCHCLR_BENCH(BM_StepLR);
TORCHCLR_BENCH(BM_ConstantLR);
TORCHCLR_BENCH(BM_PolynomialLR);
TORCHCLR_BENCH(BM_CosineAnnealingLR);
TORCHCLR_BENCH(BM_LambdaLR);
TORCHCLR_BENCH(BM_MultiplicativeLR);
TORCHCLR_BENCH(BM_ChainedScheduler);
TORCHCLR_BENCH(BM_ReduceLROnPlateau);
TORCHCLR_BENCH(BM_LibTorch_StepLR);

}  // namespace

BENCHMARK_MAIN();
