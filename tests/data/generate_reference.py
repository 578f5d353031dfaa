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
    path = os.path.join(OUT, name + ".csv")
    with open(path + ".tmp", "w") as f:
        f.write(",".join(header) + "\n" + "\n".join(rows) + "\n")
    os.replace(path + ".tmp", path)


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
    record("cyclic_exp_range_paper", optimizer("sgd", [0.1]),
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


if __name__ == "__main__":
    main()
