#!/usr/bin/python3
"""PyTorch's own scheduler step() cost, for comparison with scheduler_bench.

    /usr/bin/python3 bench/pytorch_scheduler_bench.py
"""
import timeit
import warnings

import torch
from torch.optim import lr_scheduler as S

warnings.filterwarnings("ignore")


def sgd(groups):
    params = [{"params": [torch.zeros(1, requires_grad=True)]}
              for _ in range(groups)]
    return torch.optim.SGD(params, lr=0.01, momentum=0.9)


CASES = {
    "CyclicLR triangular (momentum)": lambda o: S.CyclicLR(o, 0.001, 0.006),
    "CyclicLR exp_range": lambda o: S.CyclicLR(o, 0.001, 0.006,
                                               mode="exp_range",
                                               gamma=0.99994),
    "OneCycleLR": lambda o: S.OneCycleLR(o, 0.1, total_steps=10**9),
    "CosineAnnealingWarmRestarts": lambda o: S.CosineAnnealingWarmRestarts(
        o, 100, T_mult=2),
    "ExponentialLR": lambda o: S.ExponentialLR(o, 0.99994),
}

print(f"{'policy':34} {'groups':>6} {'ns/step':>9}")
for name, make in CASES.items():
    for groups in (1, 10):
        scheduler = make(sgd(groups))
        n = 20000
        seconds = min(timeit.repeat(scheduler.step, number=n, repeat=3))
        print(f"{name:34} {groups:>6} {seconds / n * 1e9:>9.0f}")
