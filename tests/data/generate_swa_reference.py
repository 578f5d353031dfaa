#!/usr/bin/python3
"""Writes what PyTorch's AveragedModel and update_bn compute, for the C++ tests.

PyTorch's own torch.optim.swa_utils (Debian's python3-torch, 1.13) on a small
float64 model with BatchNorm:

  Sequential(Conv2d(2, 3, 3), BatchNorm2d(3), ReLU(), Flatten(),
             Linear(12, 4), BatchNorm1d(4))

Everything is a closed form repeated in tests/averaged_model_test.cpp and
tests/update_bn_test.cpp. "Version k" of the model sets tensor j of
named_parameters() followed by named_buffers() (running_mean, running_var,
num_batches_tracked of each BatchNorm, in that order) to

  float:  0.2 * sin(0.37 * arange(numel) + (0.5 * j + 1.1 * k)), reshaped
          (1 + that for the BatchNorms' weight and running_var: 1.weight,
          1.running_var, 5.weight, 5.running_var)
  long:   num_batches_tracked = 3 * k + j

AveragedModel cases (swa_<case>.csv): AveragedModel(version 0), then
update_parameters(version k) for k = 1..UPDATES; row k holds n_averaged and
every tensor of the averaged copy (parameters, then buffers), flattened.
Row 0 is the copy as constructed.

update_bn cases (update_bn_<case>.csv): the running statistics after
update_bn, one row, on inputs

  x = sin(0.29 * arange(11 * 32)).reshape(11, 2, 4, 4)

Run from anywhere:  /usr/bin/python3 tests/data/generate_swa_reference.py
"""
import torch
from torch import nn
from torch.optim.swa_utils import AveragedModel, update_bn

from generate_reference import write_csv

DTYPE = torch.float64
UPDATES = 5
# Float tensors set to 1 + the closed form: positive variances, and
# BatchNorm scales near 1.
ONE_PLUS = ("1.weight", "1.running_var", "5.weight", "5.running_var")


def make_model():
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(2, 3, 3), nn.BatchNorm2d(3), nn.ReLU(),
                         nn.Flatten(), nn.Linear(12, 4),
                         nn.BatchNorm1d(4)).to(DTYPE)


def tensors(model):
    return ([("p", n, t) for n, t in model.named_parameters()] +
            [("b", n, t) for n, t in model.named_buffers()])


@torch.no_grad()
def set_version(model, k):
    for j, (_, name, tensor) in enumerate(tensors(model)):
        if tensor.dtype == torch.long:
            tensor.fill_(3 * k + j)
            continue
        values = 0.2 * torch.sin(
            0.37 * torch.arange(tensor.numel(), dtype=DTYPE) +
            (0.5 * j + 1.1 * k))
        if name in ONE_PLUS:
            values = 1 + values
        tensor.copy_(values.reshape(tensor.shape))


def header_of(model):
    columns = []
    for _, name, tensor in tensors(model):
        columns += [f"{name}_{i}" for i in range(tensor.numel())]
    return columns


def flat_values(model):
    values = []
    for _, _, tensor in tensors(model):
        values += [repr(float(v)) for v in tensor.reshape(-1).tolist()]
    return values


def record_average(name, **options):
    model = make_model()
    set_version(model, 0)
    swa = AveragedModel(model, **options)
    rows = []
    for k in range(UPDATES + 1):
        if k > 0:
            set_version(model, k)
            swa.update_parameters(model)
        rows.append(",".join([str(k), str(int(swa.n_averaged))] +
                             flat_values(swa.module)))
    write_csv(name, ["step", "n_averaged"] + header_of(swa.module), rows)
    return swa


def inputs():
    return torch.sin(0.29 * torch.arange(11 * 32, dtype=DTYPE)).reshape(
        11, 2, 4, 4)


def record_statistics(name, model):
    columns, values = [], []
    for module_name, module in model.named_modules():
        if isinstance(module, nn.modules.batchnorm._BatchNorm):
            for buffer in ("running_mean", "running_var",
                           "num_batches_tracked"):
                tensor = getattr(module, buffer).reshape(-1)
                columns += [f"{module_name}.{buffer}_{i}"
                            for i in range(tensor.numel())]
                values += [repr(float(v)) for v in tensor.tolist()]
    write_csv(name, ["step"] + columns, [",".join(["0"] + values)])


def main():
    # The equal-weight running average of the parameters; buffers untouched.
    swa = record_average("swa_equal_average")
    # The averaged model's output in eval mode (its buffers are version 0's).
    swa.eval()
    with torch.no_grad():
        output = swa(inputs()[:3]).reshape(-1).tolist()
    write_csv("swa_equal_average_output",
              ["step"] + [f"out_{i}" for i in range(len(output))],
              [",".join(["0"] + [repr(v) for v in output])])
    # Buffers averaged too, num_batches_tracked (long) truncated by copy_.
    record_average("swa_equal_average_buffers", use_buffers=True)
    # An exponential moving average of parameters and buffers.
    record_average("swa_ema_buffers", use_buffers=True,
                   avg_fn=lambda avg, p, n: 0.75 * avg + 0.25 * p)

    # update_bn on the model (version 2) in eval mode, with BatchNorm2d's
    # momentum 0.3 and BatchNorm1d's None; batches of 4, 4 and 3 as a list.
    model = make_model()
    set_version(model, 2)
    model[1].momentum = 0.3
    model[5].momentum = None
    model.eval()
    x = inputs()
    update_bn([x[0:4], x[4:8], x[8:11]], model)
    assert not model.training and model[1].momentum == 0.3
    assert model[5].momentum is None
    record_statistics("update_bn_model", model)

    # update_bn on an AveragedModel of versions 0..3, through a DataLoader of
    # (input, target) pairs with batch size 3 (batches of 3, 3, 3, 2).
    model = make_model()
    set_version(model, 0)
    swa = AveragedModel(model)
    for k in range(1, 4):
        set_version(model, k)
        swa.update_parameters(model)
    dataset = torch.utils.data.TensorDataset(x, torch.zeros(11))
    loader = torch.utils.data.DataLoader(dataset, batch_size=3)
    update_bn(loader, swa)
    record_statistics("update_bn_averaged_model", swa.module)


if __name__ == "__main__":
    main()
