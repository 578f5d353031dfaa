#!/usr/bin/python3
"""Writes the parameters of PyTorch's Adadelta, step by step, for the C++ tests.

Each case trains a Linear(4, 3) in float64 on fixed data with PyTorch's own
torch.optim.Adadelta (Debian's python3-torch, 1.13) and records the loss and
every parameter before the first step and after each of STEPS steps. The data,
the initial parameters and the options are closed forms repeated in
tests/adadelta_test.cpp:

  inputs  = sin(0.37 * arange(32)).reshape(8, 4)
  targets = cos(0.23 * arange(24)).reshape(8, 3)
  weight  = 0.1 * sin(1.3 * arange(12) + 0.5).reshape(3, 4)
  bias    = 0.1 * cos(0.7 * arange(3))
  loss    = mse_loss(linear(inputs), targets)

Columns: step, loss (before that step's update; empty on the last row),
w_0..w_11 (weight, row-major), b_0..b_2.

Run from anywhere:  /usr/bin/python3 tests/data/generate_adadelta_reference.py
"""
import torch
from torch.optim import Adadelta

from generate_reference import write_csv

STEPS = 20
DTYPE = torch.float64


def model():
    linear = torch.nn.Linear(4, 3).to(DTYPE)
    with torch.no_grad():
        linear.weight.copy_(0.1 * torch.sin(
            1.3 * torch.arange(12, dtype=DTYPE) + 0.5).reshape(3, 4))
        linear.bias.copy_(0.1 * torch.cos(0.7 * torch.arange(3, dtype=DTYPE)))
    return linear


def data():
    inputs = torch.sin(0.37 * torch.arange(32, dtype=DTYPE)).reshape(8, 4)
    targets = torch.cos(0.23 * torch.arange(24, dtype=DTYPE)).reshape(8, 3)
    return inputs, targets


def record(name, make_optimizer):
    linear = model()
    optimizer = make_optimizer(linear)
    inputs, targets = data()
    header = (["step", "loss"] + [f"w_{i}" for i in range(12)] +
              [f"b_{i}" for i in range(3)])
    rows = []
    for step in range(STEPS + 1):
        loss_text = ""
        if step < STEPS:
            optimizer.zero_grad()
            loss = torch.nn.functional.mse_loss(linear(inputs), targets)
            loss.backward()
            loss_text = repr(loss.item())
        values = (linear.weight.detach().reshape(-1).tolist() +
                  linear.bias.detach().tolist())
        rows.append(",".join([str(step), loss_text] +
                             [repr(v) for v in values]))
        if step < STEPS:
            optimizer.step()
    write_csv(name, header, rows)


def main():
    record("adadelta_defaults", lambda m: Adadelta(m.parameters()))
    record("adadelta_weight_decay", lambda m: Adadelta(
        m.parameters(), lr=0.5, rho=0.95, eps=1e-5, weight_decay=0.1))
    # Two groups with their own options; maximize=True for both.
    record("adadelta_groups_maximize", lambda m: Adadelta(
        [{"params": [m.weight]},
         {"params": [m.bias], "lr": 0.3, "rho": 0.8, "weight_decay": 0.01}],
        lr=2.0, maximize=True))


if __name__ == "__main__":
    main()
