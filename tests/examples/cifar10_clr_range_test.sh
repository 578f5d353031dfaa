#!/usr/bin/env bash
# cifar10_clr range-test on cifar10_full sweeps Caffe's param groups as its
# solver trains them: at every step, as the optimizer held the LRs, the
# two lr_mult 2 groups of cifar10_full_train_test.prototxt (conv1's and
# conv2's biases; fc's bias) at 2x the swept LR and its two lr_mult 1 groups
# (conv weights and conv3's bias; fc's weights) at the swept LR itself,
# which rises from --start-lr to --end-lr.
#   cifar10_clr_range_test.sh path/to/cifar10_clr
set -euo pipefail
bin=$1
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 "$here/make_cifar10.py" "$work/data" 100 100

"$bin" range-test --data "$work/data" --device cpu --seed 5 --quiet \
  --model cifar10_full --num-iter 20 --start-lr 1e-4 --end-lr 1e-2 \
  --out "$work/rt" > /dev/null

python3 - "$work/rt/range_test_lrs.csv" "$work/rt/range_test.csv" <<'EOF'
import csv, math, sys

groups = list(csv.DictReader(open(sys.argv[1])))
curve = list(csv.DictReader(open(sys.argv[2])))
def fail(message):
    sys.exit(f"FAIL: {message}")

if list(groups[0]) != ["iteration"] + [f"group{i}_lr" for i in range(4)]:
    fail(f"range_test_lrs.csv columns: {list(groups[0])}")
if len(groups) != len(curve) or len(groups) < 2:
    fail(f"{len(groups)} rows of group LRs for {len(curve)} points")
for row, point in zip(groups, curve):
    weights, biases, fc, fc_bias = (float(row[f"group{i}_lr"])
                                    for i in range(4))
    swept = float(point["lr"])
    if row["iteration"] != point["iteration"]:
        fail(f"iteration {row['iteration']} beside {point['iteration']}")
    if not math.isclose(weights, swept, rel_tol=1e-9):
        fail(f"iteration {row['iteration']}: weights at {weights}, swept {swept}")
    if not math.isclose(biases / weights, 2.0, rel_tol=1e-9):
        fail(f"iteration {row['iteration']}: biases at {biases / weights}x "
             "the weights' LR, not 2x")
    if not math.isclose(fc, weights, rel_tol=1e-9):
        fail(f"iteration {row['iteration']}: fc weights at {fc}, not {weights}")
    if not math.isclose(fc_bias / weights, 2.0, rel_tol=1e-9):
        fail(f"iteration {row['iteration']}: fc bias at {fc_bias / weights}x "
             "the weights' LR, not 2x")
first, last = float(curve[0]["lr"]), float(curve[-1]["lr"])
if not (math.isclose(first, 1e-4, rel_tol=1e-9) and last > 10 * first):
    fail(f"the sweep ran from {first} to {last}")
print(f"cifar10_clr_range_test: {len(groups)} steps, lr_mult 2 groups at 2x the "
      f"weights' LR at each ({first:.3g} to {last:.3g}): 1 passed, 0 failed")
EOF
