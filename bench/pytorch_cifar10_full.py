#!/usr/bin/python3
"""The same cifar10_full training loop in PyTorch (Python), for images/s.

Batch 100, SGD momentum 0.9, the same param groups, LRN and pooling as
examples/cifar10/network.cpp, on random CIFAR-shaped data held in memory
(index_select per batch, as cifar10_clr does).

    pytorch_cifar10_full.py ITERATIONS THREADS
"""
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def lrn(x):
    mean_square = F.avg_pool2d(x.square(), 3, stride=1, padding=1,
                               count_include_pad=True)
    return x * mean_square.mul_(5e-5).add_(1).pow_(-0.75)


class Cifar10Full(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 32, 5, padding=2)
        self.conv2 = nn.Conv2d(32, 32, 5, padding=2)
        self.conv3 = nn.Conv2d(32, 64, 5, padding=2)
        self.fc = nn.Linear(64 * 4 * 4, 10)

    def forward(self, x):
        x = lrn(F.relu(F.max_pool2d(self.conv1(x), 3, 2, ceil_mode=True)))
        x = lrn(F.avg_pool2d(F.relu(self.conv2(x)), 3, 2, ceil_mode=True))
        x = F.avg_pool2d(F.relu(self.conv3(x)), 3, 2, ceil_mode=True)
        return self.fc(x.flatten(1))


def main():
    iterations = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    torch.set_num_threads(int(sys.argv[2]) if len(sys.argv) > 2 else 2)
    torch.manual_seed(1)
    images = torch.rand(5000, 3, 32, 32)
    targets = torch.randint(0, 10, (5000,))
    model = Cifar10Full()
    m = model
    optimizer = torch.optim.SGD([
        {"params": [m.conv1.weight, m.conv2.weight, m.conv3.weight],
         "weight_decay": 0.004},
        {"params": [m.conv1.bias, m.conv2.bias, m.conv3.bias, m.fc.bias],
         "lr": 0.002, "weight_decay": 0.0},
        {"params": [m.fc.weight], "weight_decay": 1.0},
    ], lr=0.001, momentum=0.9)
    scheduler = torch.optim.lr_scheduler.CyclicLR(
        optimizer, [0.001, 0.002, 0.001], [0.006, 0.012, 0.006],
        step_size_up=2000, mode="triangular2", cycle_momentum=False)
    order = torch.randperm(5000)
    start = None
    for it in range(iterations + 10):
        if it == 10:  # warm-up excluded
            start = time.perf_counter()
        offset = (it * 100) % 5000
        index = order[offset:offset + 100]
        x, y = images.index_select(0, index), targets.index_select(0, index)
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        scheduler.step()
        loss.item()
    seconds = time.perf_counter() - start
    print(f"pytorch {iterations * 100 / seconds:.1f} images/s")


if __name__ == "__main__":
    main()
