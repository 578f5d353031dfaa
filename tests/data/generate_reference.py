#!/usr/bin/python3
"""Writes the reference LR/momentum sequences the C++ tests compare against.

Every case builds PyTorch's own scheduler (Debian's python3-torch, 1.13) on an
optimizer with one scalar parameter per param group, steps it, and records the
optimizer's LR and momentum (SGD/RMSprop momentum, Adam beta1) after 0, 1, 2,
... calls of step(). The options of each case are repeated, by name, in
tests/reference_test.cpp.

Run from anywhere:  /usr/bin/python3 tests/data/generate_reference.py
"""
import math
import os
import random
import warnings

import torch
from torch.optim import SGD, Adam, RMSprop
from torch.optim import lr_scheduler as S

warnings.filterwarnings("ignore")
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "reference")


def optimizer(kind, lrs, momentum=0.9):
    groups = [{"params": [torch.zeros(1, requires_grad=True)], "lr": lr}
              for lr in lrs]
    if kind == "sgd":
        return SGD(groups, lr=lrs[0], momentum=momentum)
    if kind == "rmsprop":
        return RMSprop(groups, lr=lrs[0], momentum=momentum)
    if kind == "adam":
        return Adam(groups, lr=lrs[0])
    raise ValueError(kind)


def momentum_of(group):
    return group["betas"][0] if "betas" in group else group.get("momentum")


def write_csv(name, header, rows):
    """Writes reference/<name>.csv whole (renamed into place)."""
    os.makedirs(OUT, exist_ok=True)
    path = os.path.join(OUT, name + ".csv")
    with open(path + ".tmp", "w") as f:
        f.write(",".join(header) + "\n" + "\n".join(rows) + "\n")
    os.replace(path + ".tmp", path)


def record(name, opt, make, steps, every=1):
    """Builds the scheduler with make(opt) and records steps 0..steps."""
    scheduler = make(opt)
    groups = opt.param_groups
    has_momentum = momentum_of(groups[0]) is not None
    header = ["step"] + [f"lr_{i}" for i in range(len(groups))]
    if has_momentum:
        header += [f"momentum_{i}" for i in range(len(groups))]
    rows = []
    for step in range(steps + 1):
        if step > 0:
            opt.step()
            scheduler.step()
        if step % every == 0 or step == steps:
            row = [str(step)] + [repr(g["lr"]) for g in groups]
            if has_momentum:
                row += [repr(float(momentum_of(g))) for g in groups]
            rows.append(",".join(row))
    write_csv(name, header, rows)


def main():
    os.makedirs(OUT, exist_ok=True)
    # CyclicLR
    record("cyclic_triangular", optimizer("sgd", [0.1]),
           lambda o: S.CyclicLR(o, 0.001, 0.006, step_size_up=20), 200)
    record("cyclic_triangular_asymmetric_groups", optimizer("sgd", [0.1, 0.1]),
           lambda o: S.CyclicLR(o, [0.001, 0.01], [0.006, 0.05],
                                step_size_up=7, step_size_down=13,
                                base_momentum=[0.8, 0.85],
                                max_momentum=[0.9, 0.95]), 200)
    record("cyclic_triangular2", optimizer("sgd", [0.1, 0.1, 0.1]),
           lambda o: S.CyclicLR(o, 0.001, 0.005, step_size_up=10,
                                mode="triangular2"), 150)
    record("cyclic_exp_range", optimizer("sgd", [0.1]),
           lambda o: S.CyclicLR(o, 0.001, 0.006, step_size_up=10,
                                mode="exp_range", gamma=0.99), 150)
    # PyTorch's exp_range with Table 1's settings (the paper's own form,
    # both bounds decaying, is CyclicMode::kExpRangePaper, not in PyTorch).
    record("cyclic_exp_range_table1_settings", optimizer("sgd", [0.1]),
           lambda o: S.CyclicLR(o, 0.001, 0.006, step_size_up=2000,
                                mode="exp_range", gamma=0.99994), 42000, 83)
    record("cyclic_no_momentum", optimizer("sgd", [0.1], momentum=0.5),
           lambda o: S.CyclicLR(o, 0.01, 0.1, step_size_up=5,
                                cycle_momentum=False), 40)
    record("cyclic_rmsprop", optimizer("rmsprop", [0.1]),
           lambda o: S.CyclicLR(o, 0.001, 0.01, step_size_up=6,
                                base_momentum=0.7, max_momentum=0.95), 60)
    record("cyclic_scale_fn_iterations", optimizer("sgd", [0.1]),
           lambda o: S.CyclicLR(o, 0.001, 0.01, step_size_up=8,
                                scale_fn=lambda x: 1.0 / (1.0 + 0.01 * x),
                                scale_mode="iterations"), 100)
    record("cyclic_scale_fn_cycle", optimizer("sgd", [0.1]),
           lambda o: S.CyclicLR(o, 0.001, 0.01, step_size_up=8,
                                scale_fn=lambda x: 0.5 ** x), 100)
    # OneCycleLR
    record("one_cycle_cos", optimizer("sgd", [0.1]),
           lambda o: S.OneCycleLR(o, max_lr=0.1, total_steps=100), 100)
    record("one_cycle_linear_three_phase_adam", optimizer("adam", [0.1, 0.1]),
           lambda o: S.OneCycleLR(o, max_lr=[0.1, 0.01], total_steps=100,
                                  pct_start=0.25, anneal_strategy="linear",
                                  div_factor=10.0, final_div_factor=100.0,
                                  three_phase=True), 100)
    record("one_cycle_long", optimizer("sgd", [0.1]),
           lambda o: S.OneCycleLR(o, max_lr=0.05, total_steps=10000,
                                  pct_start=0.45, base_momentum=0.8,
                                  max_momentum=0.9), 10000, 37)
    record("one_cycle_rmsprop_no_momentum", optimizer("rmsprop", [0.1, 0.1]),
           lambda o: S.OneCycleLR(o, max_lr=[0.1, 0.05], total_steps=50,
                                  three_phase=True, cycle_momentum=False), 50)
    record("one_cycle_rmsprop_group_momentum",
           optimizer("rmsprop", [0.1, 0.1]),
           lambda o: S.OneCycleLR(o, max_lr=0.02, total_steps=37,
                                  pct_start=0.4, base_momentum=[0.8, 0.7],
                                  max_momentum=[0.9, 0.95]), 37)
    # CosineAnnealingWarmRestarts
    record("cosine_restarts_mult2", optimizer("sgd", [0.1, 0.05]),
           lambda o: S.CosineAnnealingWarmRestarts(o, T_0=10, T_mult=2,
                                                   eta_min=0.001), 300)
    record("cosine_restarts_mult1", optimizer("sgd", [0.1]),
           lambda o: S.CosineAnnealingWarmRestarts(o, T_0=7), 50)
    # The paper's baselines
    record("exponential_paper", optimizer("sgd", [0.001]),
           lambda o: S.ExponentialLR(o, gamma=0.99994), 70000, 97)
    record("exponential_groups", optimizer("sgd", [0.1, 0.3]),
           lambda o: S.ExponentialLR(o, gamma=0.9), 100)
    record("linear_decay_paper", optimizer("sgd", [0.007]),
           lambda o: S.LinearLR(o, start_factor=1.0, end_factor=1.0 / 7,
                                total_iters=4000), 5000, 13)
    record("linear_default", optimizer("sgd", [0.1]),
           lambda o: S.LinearLR(o), 10)
    record("multi_step", optimizer("sgd", [0.1, 0.2]),
           lambda o: S.MultiStepLR(o, milestones=[30, 80, 80], gamma=0.1), 100)
    # SequentialLR
    def triangular2_paper(o):
        stages = [S.CyclicLR(o, 0.001, 0.005, step_size_up=20,
                             mode="triangular2"),
                  S.CyclicLR(o, 0.0001, 0.0005, step_size_up=10,
                             mode="triangular2"),
                  S.CyclicLR(o, 0.00001, 0.00005, step_size_up=5,
                             mode="triangular2")]
        return S.SequentialLR(o, stages, milestones=[160, 220])
    record("sequential_triangular2_paper", optimizer("sgd", [0.1]),
           triangular2_paper, 250)

    def warmup_then_exp(o):
        stages = [S.LinearLR(o, start_factor=0.1, total_iters=5),
                  S.ExponentialLR(o, gamma=0.9)]
        return S.SequentialLR(o, stages, milestones=[5])
    record("sequential_warmup_exponential", optimizer("sgd", [0.1, 0.2]),
           warmup_then_exp, 30)

    def cyclic_then_restarts(o):
        stages = [S.CyclicLR(o, 0.001, 0.006, step_size_up=5),
                  S.CosineAnnealingWarmRestarts(o, T_0=7, T_mult=2)]
        return S.SequentialLR(o, stages, milestones=[20])
    record("sequential_cyclic_then_restarts", optimizer("sgd", [0.1]),
           cyclic_then_restarts, 60)
    pytorch_schedulers()


# Chainable pairs for ChainedScheduler: PyTorch's schedulers whose step
# multiplies the current LR. Each entry: (name, factory).
CHAINABLE = [
    ("step", lambda o: S.StepLR(o, step_size=4, gamma=0.5)),
    ("multi_step", lambda o: S.MultiStepLR(o, milestones=[3, 9], gamma=0.7)),
    ("constant", lambda o: S.ConstantLR(o, factor=0.25, total_iters=6)),
    ("linear", lambda o: S.LinearLR(o, start_factor=0.2, total_iters=8)),
    ("exponential", lambda o: S.ExponentialLR(o, gamma=0.95)),
    ("polynomial", lambda o: S.PolynomialLR(o, total_iters=25, power=1.5)),
    ("multiplicative",
     lambda o: S.MultiplicativeLR(o, lambda e: 0.9 if e % 3 else 1.05)),
]


def pytorch_schedulers():
    """StepLR ... ChainedScheduler: the schedulers added for issue 9."""
    record("step_lr_groups", optimizer("sgd", [0.1, 0.2]),
           lambda o: S.StepLR(o, step_size=7, gamma=0.5), 40)
    record("constant_lr_default", optimizer("sgd", [0.1]),
           lambda o: S.ConstantLR(o), 10)
    record("constant_lr_groups", optimizer("sgd", [0.1, 0.3]),
           lambda o: S.ConstantLR(o, factor=0.5, total_iters=3), 10)
    record("polynomial_lr_default", optimizer("sgd", [0.1]),
           lambda o: S.PolynomialLR(o), 10)
    record("polynomial_lr_power2", optimizer("sgd", [0.1, 0.05]),
           lambda o: S.PolynomialLR(o, total_iters=20, power=2.0), 30)
    record("cosine_annealing_past_t_max", optimizer("sgd", [0.1, 0.05]),
           lambda o: S.CosineAnnealingLR(o, T_max=10, eta_min=0.001), 45)
    record("lambda_lr_per_group", optimizer("sgd", [0.1, 0.2]),
           lambda o: S.LambdaLR(o, [lambda e: 0.95 ** e,
                                    lambda e: 1.0 / (1 + e)]), 30)
    record("multiplicative_lr", optimizer("sgd", [0.1, 0.2]),
           lambda o: S.MultiplicativeLR(o, lambda e: 0.9 if e % 3 else 1.05),
           30)
    for i, (first, make_first) in enumerate(CHAINABLE):
        for second, make_second in CHAINABLE[i + 1:]:
            record(f"chained_{first}_{second}", optimizer("sgd", [0.1, 0.2]),
                   lambda o, a=make_first, b=make_second:
                   S.ChainedScheduler([a(o), b(o)]), 30)


def record_plateau(name, lrs, metrics, manual_lrs=None, **options):
    """ReduceLROnPlateau(**options) on SGD with one group per entry of lrs,
    stepped with each metric in turn: records the LRs, the metric and the
    scheduler's best, num_bad_epochs and cooldown_counter after 0, 1, 2, ...
    calls of step(metric) (metric nan at step 0, before any). manual_lrs,
    {step: [lr per group]}, sets the groups' LRs by hand just before that
    step's step(metric)."""
    opt = optimizer("sgd", lrs)
    scheduler = S.ReduceLROnPlateau(opt, **options)
    groups = opt.param_groups
    header = (["step"] + [f"lr_{i}" for i in range(len(groups))] +
              ["metric", "best", "num_bad_epochs", "cooldown_counter"])
    rows = []
    for step, metric in enumerate([math.nan] + list(metrics)):
        if step > 0:
            opt.step()
            for group, lr in zip(groups, (manual_lrs or {}).get(step, [])):
                group["lr"] = lr
            scheduler.step(metric)
        assert scheduler.last_epoch == step
        rows.append(",".join(
            [str(step)] + [repr(float(g["lr"])) for g in groups] +
            [repr(float(metric)), repr(float(scheduler.best)),
             str(scheduler.num_bad_epochs), str(scheduler.cooldown_counter)]))
    write_csv(name, header, rows)


def reduce_lr_on_plateau_cases():
    """ReduceLROnPlateau on fixed metric sequences; repeated by name in
    tests/reduce_lr_on_plateau_test.cpp. Only these, from the repository root:
    /usr/bin/python3 -c 'import sys; sys.path.insert(0, "tests/data");
    import generate_reference as g; g.reduce_lr_on_plateau_cases()'"""
    # Improvements under the relative threshold, cooldown, min_lr reached by
    # groups 0 and 1, and group 2's reductions skipped as smaller than eps.
    record_plateau("plateau_min_rel_groups", [0.1, 0.05, 0.01],
                   [1.0, 0.9, 0.85, 0.845, 0.85, 0.84, 0.84, 0.84, 0.84,
                    0.9, 0.9, 0.9, 0.9, 0.5, 0.496, 0.4951, 0.494] +
                   [0.6] * 36,
                   factor=0.5, patience=2, threshold=0.01, cooldown=1,
                   min_lr=[0.001, 0.02, 0.0099999], eps=1e-6)
    # Accuracies: a reduction at the first bad epoch, then two of cooldown.
    record_plateau("plateau_max_abs", [0.2, 0.02],
                   [0.1, 0.2, 0.3, 0.34, 0.4, 0.5, 0.52, 0.53, 0.54, 0.6,
                    0.7, 0.71, 0.72, 0.73, 0.74] + [0.8] * 10,
                   mode="max", factor=0.3, patience=0, threshold=0.05,
                   threshold_mode="abs", cooldown=2, min_lr=0.005)
    # Group 1's reductions (0.01 -> 0.0095) are not more than eps.
    record_plateau("plateau_min_abs_eps", [1.0, 0.01],
                   [5.0, 4.0, 3.95, 3.92, 3.5, 3.45, 3.41, 3.0, 3.0, 3.0,
                    3.0, -1.0, -1.05, -1.2, -1.25, -1.29] + [-1.3] * 20,
                   factor=0.9, patience=1, threshold=0.1,
                   threshold_mode="abs", min_lr=[0.0, 0.0095], eps=1e-3)
    # Negative metrics: best * (1 + threshold) lies below best.
    record_plateau("plateau_max_rel_negative", [0.1, 0.3],
                   [-10.0, -9.0, -9.5, -8.5, -8.0, -8.0, -8.0, -8.0, 1.0,
                    1.05, 1.09, 1.1, 1.2, 1.3, 1.25, 1.3, 1.31, 1.32] +
                   [1.0] * 12,
                   mode="max", patience=3, threshold=0.1, cooldown=1,
                   min_lr=[1e-4, 0.0])
    # PyTorch's defaults: patience 10, relative threshold 1e-4.
    record_plateau("plateau_defaults", [0.1, 0.01],
                   [1.0 - 1e-5 * k for k in range(30)] + [0.5] * 25)
    # LRs changed by hand: kept, and each reduction multiplies the LR the
    # group holds then. Steps 5 and 10 reduce right after a change (step 5
    # sets group 1 below its min_lr, where it stays; step 10 raises it above
    # its base LR); step 16's change, at an improvement, holds until the
    # reduction at step 18.
    record_plateau("plateau_manual_lr", [0.1, 0.05],
                   [1.0] * 5 + [0.5] * 10 + [0.25] * 6 + [0.2] * 8,
                   manual_lrs={5: [0.5, 0.02], 10: [0.004, 0.2],
                               16: [0.3, 0.001]},
                   factor=0.5, patience=1, min_lr=[0.001, 0.03])


def gamma_above_one_cases():
    """StepLR, MultiStepLR and ExponentialLR with gamma > 1 (LR growth),
    which PyTorch accepts; repeated by name in tests/reference_test.cpp.
    Only these, from the repository root:
    /usr/bin/python3 -c 'import sys; sys.path.insert(0, "tests/data");
    import generate_reference as g; g.gamma_above_one_cases()'"""
    record("exponential_gamma_1_01", optimizer("sgd", [0.001, 0.01]),
           lambda o: S.ExponentialLR(o, gamma=1.01), 300)
    record("exponential_gamma_1_5", optimizer("sgd", [1e-6]),
           lambda o: S.ExponentialLR(o, gamma=1.5), 40)
    record("step_lr_gamma_1_01", optimizer("sgd", [0.1, 0.2]),
           lambda o: S.StepLR(o, step_size=3, gamma=1.01), 100)
    record("step_lr_gamma_2", optimizer("sgd", [1e-4]),
           lambda o: S.StepLR(o, step_size=5, gamma=2.0), 60)
    record("multi_step_gamma_1_01", optimizer("sgd", [0.1, 0.2]),
           lambda o: S.MultiStepLR(o, milestones=[3, 9, 9, 20], gamma=1.01),
           30)
    record("multi_step_gamma_3", optimizer("sgd", [0.001]),
           lambda o: S.MultiStepLR(o, milestones=[2, 5, 5, 11], gamma=3.0),
           20)
    record("chained_exponential_1_01_step", optimizer("sgd", [0.01, 0.02]),
           lambda o: S.ChainedScheduler([S.ExponentialLR(o, gamma=1.01),
                                         S.StepLR(o, step_size=4,
                                                  gamma=0.5)]), 40)


# ---- exp_range with gamma > 1 (issues 16 and 20) ---------------------------
def exp_range_gamma_above_one_cases():
    """PyTorch's exp_range with gamma > 1: the amplitude grows (to 1.0001^20000
    = e^2 = 7.39 times), the LR passes max_lr and momentum falls below
    base_momentum; repeated in tests/reference_test.cpp. Only these, from the
    repository root: /usr/bin/python3 -c 'import sys;
    sys.path.insert(0, "tests/data"); import generate_reference as g;
    g.exp_range_gamma_above_one_cases()'"""
    record("cyclic_exp_range_gamma_above_one", optimizer("sgd", [0.1, 0.1]),
           lambda o: S.CyclicLR(o, [0.001, 0.002], [0.006, 0.004],
                                step_size_up=2000, step_size_down=1500,
                                mode="exp_range", gamma=1.0001,
                                base_momentum=[0.8, 0.85],
                                max_momentum=[0.9, 0.95]), 20000, 37)
# ---- end of exp_range with gamma > 1 ---------------------------------------


# ---- SWALR (issue 18) ------------------------------------------------------
def swalr_cases():
    """PyTorch's SWALR (torch.optim.swa_utils) on random configurations, in a
    SequentialLR after a CyclicLR, and first stepped after another scheduler
    ran, as in PyTorch's own example; repeated in tests/reference_test.cpp
    (the random configurations through swalr_random_cases.csv). Only these,
    from the repository root: /usr/bin/python3 -c 'import sys;
    sys.path.insert(0, "tests/data"); import generate_reference as g;
    g.swalr_cases()'"""
    from torch.optim.swa_utils import SWALR
    rng = random.Random(18)
    strategies = ["cos", "linear"]
    anneal_epochs = [0, 1, 2, 3, 7, 10, 25, 100]
    cases = []
    # Every strategy with every anneal length, each with a random number of
    # groups, random LRs and swa_lr (one for all groups, or one per group).
    for k, (epochs, strategy) in enumerate(
            (e, s) for e in anneal_epochs for s in strategies):
        name = f"swalr_random_{k}"
        groups = rng.randint(1, 3)
        lrs = [10 ** rng.uniform(-4, 0) for _ in range(groups)]
        one_for_all = groups > 1 and rng.random() < 0.3
        swa_lrs = [10 ** rng.uniform(-5, 0)
                   for _ in range(1 if one_for_all else groups)]
        record(name, optimizer("sgd", lrs),
               lambda o, swa=swa_lrs, e=epochs, st=strategy:
               SWALR(o, swa_lr=swa[0] if len(swa) == 1 else swa,
                     anneal_epochs=e, anneal_strategy=st),
               epochs + 6)
        cases.append(",".join([name, ";".join(map(repr, lrs)),
                               ";".join(map(repr, swa_lrs)), str(epochs),
                               strategy]))
    write_csv("swalr_random_cases",
              ["name", "lrs", "swa_lr", "anneal_epochs", "anneal_strategy"],
              cases)

    # After a cyclical phase: the anneal starts from the LR CyclicLR left.
    def cyclic_then_swa(strategy, epochs):
        def make(o):
            stages = [S.CyclicLR(o, [0.001, 0.002], [0.006, 0.01],
                                 step_size_up=4),
                      SWALR(o, swa_lr=[0.05, 0.003], anneal_epochs=epochs,
                            anneal_strategy=strategy)]
            return S.SequentialLR(o, stages, milestones=[11])
        return make
    record("swalr_after_cyclic_cos", optimizer("sgd", [0.1, 0.1]),
           cyclic_then_swa("cos", 5), 30)
    record("swalr_after_cyclic_linear", optimizer("sgd", [0.1, 0.1]),
           cyclic_then_swa("linear", 8), 30)
    record("swalr_after_cyclic_no_anneal", optimizer("sgd", [0.1, 0.1]),
           cyclic_then_swa("cos", 0), 20)

    # PyTorch's example: both schedulers built first, CosineAnnealingLR
    # stepped for 12 epochs, then SWALR from the LR it left.
    opt = optimizer("sgd", [0.1, 0.02])
    cosine = S.CosineAnnealingLR(opt, T_max=30)
    swa = SWALR(opt, swa_lr=0.01, anneal_epochs=6, anneal_strategy="cos")
    rows = []
    for step in range(25):
        if step > 0:
            opt.step()
            (cosine if step <= 12 else swa).step()
        rows.append(",".join([str(step)] + [repr(g["lr"])
                                            for g in opt.param_groups] +
                             [repr(float(g["momentum"]))
                              for g in opt.param_groups]))
    write_csv("swalr_after_cosine", ["step", "lr_0", "lr_1", "momentum_0",
                                     "momentum_1"], rows)
# ---- end of SWALR ----------------------------------------------------------


if __name__ == "__main__":
    main()
    reduce_lr_on_plateau_cases()
    gamma_above_one_cases()
    exp_range_gamma_above_one_cases()
    swalr_cases()
