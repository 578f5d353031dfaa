#!/usr/bin/env bash
# `cifar10_clr compare` (Table 1's fixed and exp_range, both exp_range forms;
# `train --schedule` with a run's text from `runs` gives the same log),
# `--table 3` and `--superconvergence` end to end on generated CIFAR-10 files
# (and --superconvergence on Fashion-MNIST) at a tiny scale: each writes its
# table (a row per optimizer and policy) and its plot, training lowers the
# loss, and flags that do not belong to the experiment are refused before any
# training.
#   cifar10_compare_test.sh path/to/cifar10_clr
set -euo pipefail
bin=$1
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 "$here/make_cifar10.py" "$work/data" 200 200
common=(--data "$work/data" --device cpu --quiet --eval-images 200)
fail() { echo "FAIL: $*"; exit 1; }

# The mean training loss of a run's last logged interval is finite and below
# that of its first.
loss_falls() {
  local log=$1
  python3 - "$log" <<'EOF' || fail "loss did not fall in $1"
import csv, math, sys
rows = list(csv.DictReader(open(sys.argv[1])))
first, last = float(rows[0]["train_loss"]), float(rows[-1]["train_loss"])
sys.exit(0 if len(rows) > 1 and math.isfinite(last) and last < first else 1)
EOF
}

# The plot exists when gnuplot does (the tables say so when it does not).
plotted() {
  if command -v gnuplot > /dev/null; then
    [ -s "$1" ] || fail "no plot $1"
  fi
}

# Table 1 at 1/2000: fixed for 35 iterations (LR /10 at 30 and 33) and
# exp_range for 21 (step size 1, gamma 0.99994^2000 per step), in the
# paper's form (exp_range) and in PyTorch's (exp_range_pytorch). The table
# lists each row's schedule text, says which solver ran (Caffe's by default)
# and gives the LR range of each run's last 10% of iterations (fixed: 31-34,
# exp_range: 19-20), checked against the paper's formulas written out here.
"$bin" compare --policies fixed exp_range exp_range_pytorch "${common[@]}" \
  --scale 0.0005 --out "$work/table1" > "$work/table1.out" ||
  fail "Table 1 did not finish: $(tail -n 5 "$work/table1.out")"
results="$work/table1/results.md"
plotted "$work/table1/accuracy.png"
grep -q "^| policy | iterations | test accuracy | LR, last 10% of iterations |" "$results" ||
  fail "no LR-range column in $(cat "$results")"
grep -qF -- '- exp_range (--lr 0.001): `CyclicLR(base_lr=0.001, max_lr=0.006, step_size_up=1, mode="exp_range_paper", gamma=' "$results" ||
  fail "results.md does not give exp_range's schedule: $(cat "$results")"
grep -qF -- '- exp_range_pytorch (--lr 0.001): `CyclicLR(base_lr=0.001, max_lr=0.006, step_size_up=1, mode="exp_range", ' "$results" ||
  fail "results.md does not give exp_range_pytorch's schedule"
grep -qF "Optimizer: solver caffe: Caffe's SGD" "$results" ||
  fail "results.md does not say which solver ran: $(cat "$results")"
grep -qF "solver caffe: Caffe's SGD" "$work/table1.out" ||
  fail "the log does not say which solver ran: $(cat "$work/table1.out")"
# train --schedule with a run's text (from `runs`) gives the named run's log:
# the same LRs, losses and accuracies at every row.
for name in fixed exp_range; do
  log="$work/table1/$name/log.csv"
  "$bin" train --schedule "$("$bin" runs --name "$name" --scale 0.0005)" \
    --solver caffe "${common[@]}" \
    --iterations "$(tail -n 1 "$log" | cut -d, -f1)" \
    --eval-every "$(sed -n 2p "$log" | cut -d, -f1)" \
    --out "$work/train_$name" > /dev/null ||
    fail "train --schedule of $name did not finish"
  diff <(cut -d, -f1-5 "$log") \
    <(cut -d, -f1-5 "$work/train_$name/log.csv") ||
    fail "train --schedule <$name's text> differs from compare's $name run"
done
python3 - "$results" <<'EOF' ||
import math, re, sys
gamma = 0.99994 ** 2000  # per step at scale 1/2000
def paper(it):  # section 3.1: both bounds x gamma^it; step size 1
    height = 1.0 if it % 2 else 0.0
    return (0.001 + 0.005 * height) * gamma ** it
def pytorch(it):
    height = 1.0 if it % 2 else 0.0
    return 0.001 + 0.005 * height * gamma ** it
fixed = [0.001 * 0.1 ** ((it >= 30) + (it >= 33)) for it in (31, 32, 33, 34)]
want = {
    "fixed": (min(fixed), max(fixed), 35),
    "exp_range": (paper(20), paper(19), 21),
    "exp_range_pytorch": (pytorch(20), pytorch(19), 21),
}
rows = {}
for path in sys.argv[1:]:
    for line in open(path):
        m = re.match(r"\| ([^|]+) \| (\d+) \| [0-9.]+% \| ([0-9.e+-]+) to ([0-9.e+-]+) \|", line)
        if m:
            rows[m.group(1)] = (float(m.group(3)), float(m.group(4)), int(m.group(2)))
ok = True
for name, (low, high, iterations) in want.items():
    got = rows.get(name)
    close = got and all(math.isclose(a, b, rel_tol=6e-3) for a, b in zip(got[:2], (low, high)))
    if not close or got[2] != iterations:
        print(f"{name}: want {low:.3g} to {high:.3g} over {iterations}, got {got}")
        ok = False
sys.exit(0 if ok else 1)
EOF
  fail "Table 1's LR ranges are not the paper's formulas: $(cat "$results")"
loss_falls "$work/table1/exp_range/log.csv"

# Table 3 at 1/2000 of the paper's lengths: 35 and 13 iterations per run.
"$bin" compare --table 3 "${common[@]}" --batch-size 25 --scale 0.0005 \
  --num-iter 40 --eval-every 10 --out "$work/table3" > "$work/table3.out" ||
  fail "--table 3 did not finish: $(tail -n 5 "$work/table3.out")"
results="$work/table3/results.md"
[ -s "$results" ] || fail "--table 3 wrote no results.md"
plotted "$work/table3/accuracy.png"
for optimizer in nesterov adam rmsprop adagrad adadelta; do
  grep -q "^| $optimizer | fixed | [0-9.e-]* | .* | 35 | [0-9.]*% |" "$results" ||
    fail "no fixed row for $optimizer in $(cat "$results")"
  grep -q "^| $optimizer | triangular | [0-9.e-]*-[0-9.e-]* | .* | 13 | [0-9.]*% |" "$results" ||
    fail "no triangular row for $optimizer"
  [ -s "$work/table3/$optimizer/range_test.csv" ] ||
    fail "no range test for $optimizer"
done
for optimizer in adam rmsprop; do
  grep -q "^| $optimizer | triangular | .* | 35 | " "$results" ||
    fail "no 35-iteration triangular row for $optimizer"
done
[ "$(grep -c '^| [a-z]* | \(fixed\|triangular\) |' "$results")" -eq 12 ] ||
  fail "Table 3 should have the paper's 12 rows: $(cat "$results")"
loss_falls "$work/table3/adam/triangular_35/log.csv"
loss_falls "$work/table3/rmsprop/triangular_35/log.csv"

# Super-convergence at 1/1000: 1cycle for 10 iterations, the piecewise-
# constant baseline for 80 (LR drops at 50 and 70), on the files' ResNet-56
# with BatchNorm over ghost batches of 8, 1cycle between the bounds of a range
# test. The paper's linear sweep to 3 needs its 5,000 iterations for ResNet-56
# to follow it; 80 exponential steps from 0.01 find bounds on this data.
"$bin" compare --superconvergence "${common[@]}" --batch-size 32 --scale 0.001 \
  --ghost-batch-size 8 --clr-bounds range-test \
  --sweep exponential --start-lr 1e-2 --end-lr 3 --num-iter 80 \
  --eval-every 5 --out "$work/sc" > "$work/sc.out" ||
  fail "--superconvergence did not finish: $(tail -n 5 "$work/sc.out")"
grep -qF "Network: superconvergence_resnet56. BatchNorm: Caffe's, statistics over ghost batches of 8 images" "$work/sc.out" ||
  fail "--superconvergence did not say which network ran: $(cat "$work/sc.out")"
grep -qF "moving_average_fraction 0.95 (1cycle) and 0.999 (piecewise constant). Augmentation: flip." "$work/sc.out" ||
  fail "--superconvergence did not say which BatchNorm and augmentation ran"
grep -qF "note: piecewise constant's moving_average_fraction 0.999 averages the BatchNorm statistics the test uses over about 1000 of its 80 iterations" "$work/sc.out" ||
  fail "--superconvergence did not warn of the long BatchNorm average: $(cat "$work/sc.out")"
grep -qF "solver caffe" "$work/sc.out" ||
  fail "--superconvergence did not run Caffe's SGD: $(cat "$work/sc.out")"
results="$work/sc/results.md"
[ -s "$results" ] || fail "--superconvergence wrote no results.md"
plotted "$work/sc/accuracy.png"
grep -q '^| 1cycle | `CyclicLR(base_lr=[0-9.e-]*, max_lr=[0-9.e-]*, step_size_up=5, mode="triangular", cycle_momentum=False)` | 10 | [0-9.]*% |' "$results" ||
  fail "no 1cycle row in $(cat "$results")"
grep -q '^| piecewise constant | `MultiStepLR(milestones=\[50, 70\], gamma=0.1)` from 0.35 | 80 | [0-9.]*% |' "$results" ||
  fail "no piecewise-constant row in $(cat "$results")"
grep -q "^| 80 | - | [0-9.]*% |" "$results" ||
  fail "no accuracy-against-iterations row at 80 in $(cat "$results")"
# The 1cycle LR runs between the range test's bounds (as results.md states
# them): above base_lr mid-run, never above max_lr, and down again at the end
# (Caffe's triangular policy, step size 5: the last iteration is 1/5 of the
# way from base_lr to max_lr).
python3 - "$work/sc/1cycle/log.csv" "$results" <<'EOF' ||
import csv, re, sys
lrs = [float(r["lr"]) for r in csv.DictReader(open(sys.argv[1]))]
base, top = map(float, re.search(r"suggested base_lr ([0-9.e+-]+), max_lr ([0-9.e+-]+)",
                                 open(sys.argv[2]).read()).groups())
close = lambda a, b: abs(a - b) <= 1e-2 * b  # results.md has 3 digits
sys.exit(0 if base < top and max(lrs) > 1.5 * base and max(lrs) <= top * 1.01
         and close(lrs[-1], base + (top - base) / 5) else 1)
EOF
  fail "1cycle LR is not one cycle between the range test's bounds"
loss_falls "$work/sc/piecewise_constant/log.csv"

# The files' ResNet-20 takes Fashion-MNIST's grey 28x28 images (README's
# scaled super-convergence run): 1cycle 5 iterations, the baseline 40.
"$bin" compare --superconvergence --model superconvergence_resnet20 \
  --dataset fashion-mnist --train-limit 200 --test-limit 200 --device cpu \
  --quiet --batch-size 20 --ghost-batch-size 10 --scale 0.0005 \
  --eval-every 5 --out "$work/sc_fm" > "$work/sc_fm.out" ||
  fail "--superconvergence on fashion-mnist did not finish: $(tail -n 5 "$work/sc_fm.out")"
grep -qF "# Super-convergence on fashion-mnist at scale 0.0005 (superconvergence_resnet20" \
  "$work/sc_fm/results.md" || fail "results.md does not name the data and network"
grep -q '^| piecewise constant | `MultiStepLR(milestones=\[25, 35\], gamma=0.1)` from 0.35 | 40 | [0-9.]*% |' \
  "$work/sc_fm/results.md" || fail "no piecewise-constant row in $(cat "$work/sc_fm/results.md")"
loss_falls "$work/sc_fm/piecewise_constant/log.csv"

# Flags that do not belong to the experiment are refused before any training.
refuses() {
  local expected=$1
  shift
  if "$bin" compare "$@" "${common[@]}" > /dev/null 2> "$work/err"; then
    fail "accepted compare $*"
  fi
  grep -qF -- "$expected" "$work/err" || fail "compare $* said: $(cat "$work/err")"
}
refuses "--optimizer: --table 3 runs each of nesterov, adam, rmsprop, adagrad and adadelta itself" \
  --table 3 --optimizer adam
refuses "--table: 2 not in {1,3}" --table 2
refuses "--model: --table 3 is the paper's cifar10_full comparison, not resnet56" \
  --table 3 --model resnet56
refuses "--policies: only Table 1 takes a policy list" --table 3 --policies fixed
refuses "--num-iter: Table 1 uses the paper's bounds and runs no range test" \
  --num-iter 10
refuses "--model: resnet56 takes 3x32x32 colour images; --dataset fashion-mnist has 1x28x28" \
  --superconvergence --model resnet56 --dataset fashion-mnist
refuses "--model: --superconvergence is the paper's ResNet-56 run; cifar10_full is not it" \
  --superconvergence --model cifar10_full
refuses "--num-iter: --superconvergence takes its 1cycle bounds from clrsolver.prototxt" \
  --superconvergence --num-iter 10
refuses "--clr-bounds: it chooses --superconvergence's 1cycle bounds" \
  --clr-bounds files
refuses "--superconvergence: it is its own experiment" --superconvergence --table 3
refuses "--policies: one_cycle not in {fixed,triangular,triangular2,triangular2_single,decay,exp,exp_range,exp_range_pytorch}" \
  --policies one_cycle
echo "cifar10_compare_test: passed"
