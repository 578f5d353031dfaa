#!/usr/bin/env bash
# cifar10_clr range-test on cifar10_full sweeps Caffe's param groups as its
# solver trains them: at every step, as the optimizer held the LRs, the
# two lr_mult 2 groups of cifar10_full_train_test.prototxt (conv1's and
# conv2's biases; fc's bias) at 2x the swept LR and its two lr_mult 1 groups
# (conv weights and conv3's bias; fc's weights) at the swept LR itself,
# which rises from --start-lr to --end-lr.
# --method paper (and workflow's --range-test paper) sweeps linearly over
# --epochs, reads the bounds off the test accuracy, names the method in its
# outputs, and the flags of the other method are refused before training.
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

# The paper's test: 500 images at batch 25 = 20 iterations per epoch, 3
# epochs = 60 linear steps, test accuracy of 100 images every 4.
paper_out=$("$bin" range-test --data "$work/data" --device cpu --seed 5 \
  --quiet --model cifar10_full --batch-size 25 --method paper --epochs 3 \
  --start-lr 0.001 --end-lr 0.02 --eval-every 4 --eval-images 100 \
  --out "$work/paper")
python3 - "$work/paper" "$paper_out" <<'EOF'
import csv, os, sys

out, stdout = sys.argv[1], sys.argv[2]
def fail(message):
    sys.exit(f"FAIL: {message}")

if "paper (section 3.3: linear sweep" not in stdout:
    fail(f"stdout does not name the paper's test:\n{stdout}")
if "60 iterations" not in stdout:
    fail(f"3 epochs of 20 iterations did not give 60:\n{stdout}")
lines = open(os.path.join(out, "paper_range_test.csv")).read().splitlines()
if not lines[0].startswith("# LR range test: paper (section 3.3"):
    fail(f"paper_range_test.csv's comment: {lines[0]}")
rows = list(csv.DictReader(l for l in lines if not l.startswith("#")))
lrs = [float(r["lr"]) for r in rows]
if len(rows) != 15 or any(b - a <= 0 for a, b in zip(lrs, lrs[1:])):
    fail(f"{len(rows)} accuracy points (expected 15, every 4th of 60), lrs {lrs}")
# Linear: equal LR steps between evaluations.
steps = [b - a for a, b in zip(lrs, lrs[1:])]
if max(steps) - min(steps) > 1e-9:
    fail(f"the sweep is not linear: steps {steps}")
summary = dict(l.split("=", 1) for l in
               open(os.path.join(out, "suggestions.txt")).read().split())
if summary.get("method") != "paper":
    fail(f"suggestions.txt: {summary}")
base, top = float(summary["base_lr"]), float(summary["max_lr"])
if not (0.001 <= base < top <= 0.02):
    fail(f"bounds {base}, {top} not ordered within the sweep 0.001-0.02")
print(f"cifar10_clr_range_test: paper method, {len(rows)} accuracy points, "
      f"base_lr {base:.3g} < max_lr {top:.3g}: 1 passed, 0 failed")
EOF

# Flags of the other method are refused before any training.
expect_refusal() {
  local expected=$1
  shift
  local message
  if message=$("$bin" "$@" --data "$work/data" --device cpu --quiet \
    --out "$work/refused" 2>&1); then
    echo "FAIL: accepted: $*"
    exit 1
  fi
  grep -qF -- "$expected" <<<"$message" || {
    echo "FAIL: $* said: $message"
    exit 1
  }
}
expect_refusal "--num-iter and --sweep belong to the exponential test" \
  range-test --method paper --num-iter 50
expect_refusal "--epochs sets the paper's range test; add --method paper" \
  range-test --epochs 3
expect_refusal "--range-epochs sets the paper's range test; add --range-test paper" \
  workflow --dataset cifar10 --range-epochs 3
expect_refusal "--epochs must be a finite number > 0, got 0" \
  range-test --method paper --epochs 0
expect_refusal "--method: bogus not in {exponential,paper}" \
  range-test --method bogus
[ ! -e "$work/refused/range_test.csv" ] || {
  echo "FAIL: a refused run wrote a curve"
  exit 1
}
echo "cifar10_clr_range_test: method flags checked: 5 passed, 0 failed"
