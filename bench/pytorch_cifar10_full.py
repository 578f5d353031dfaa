#!/usr/bin/python3
"""The cifar10_clr training loop in PyTorch (Python), for images/s.

Same data as `cifar10_clr train --data DIR` (the official CIFAR-10 binary
files, raw 0..255 pixels minus the training split's mean image, held in memory
as float), same network, LRN and pooling as examples/cifar10/cifar10_full.cpp,
batch 100, SGD momentum 0.9 with the same param groups, triangular2 CyclicLR,
a fresh permutation per epoch and index_select per batch. Timed like
cifar10_clr: from the first training iteration to the last, data loading
excluded.

    pytorch_cifar10_full.py DATA_DIR ITERATIONS THREADS
"""
import os
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def load_cifar10(folder):
    records = []
    for b in range(1, 6):
        with open(os.path.join(folder, f"data_batch_{b}.bin"), "rb") as f:
            records.append(torch.frombuffer(bytearray(f.read()),
                                            dtype=torch.uint8))
    data = torch.cat(records).view(-1, 3073)
    targets = data[:, 0].long()
    images = data[:, 1:].reshape(-1, 3, 32, 32).float()
    return images - images.mean(0), targets


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
    folder = sys.argv[1]
    iterations = int(sys.argv[2])
    torch.set_num_threads(int(sys.argv[3]))
    torch.manual_seed(1)
    images, targets = load_cifar10(folder)
    n = images.size(0)
    m = Cifar10Full()
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
    per_epoch = n // 100
    start = time.perf_counter()
    order = None
    for it in range(iterations):
        if it % per_epoch == 0:
            order = torch.randperm(n)
        offset = (it % per_epoch) * 100
        index = order[offset:offset + 100]
        x, y = images.index_select(0, index), targets.index_select(0, index)
        optimizer.zero_grad()
        loss = F.cross_entropy(m(x), y)
        loss.backward()
        optimizer.step()
        scheduler.step()
        loss.item()
    seconds = time.perf_counter() - start
    print(f"pytorch {iterations * 100 / seconds:.1f} images/s")


if __name__ == "__main__":
    main()
