#!/usr/bin/env bash
# cifar10_clr end to end on generated CIFAR-10 files: training gets well above
# chance, a run killed (SIGKILL, from outside) once its first checkpoint is
# written resumes to the same final weights
# and log as an uninterrupted one (CyclicLR and StepLR),
# a checkpoint of other settings is refused, log.csv's LR column holds the
# LR each reported iteration trained with, and bad flags are refused before
# any training; SWA (--swa-start) resumes to the same average. Prints how many
# checks passed.
#   cifar10_clr_test.sh path/to/cifar10_clr
set -euo pipefail
bin=$1
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 "$here/make_cifar10.py" "$work/data" 200 200
passed=0
fail() {
  echo "FAIL: $*"
  exit 1
}
# Counts one check that passed (a failed one exits first).
pass() { passed=$((passed + 1)); }

# 10 batches per epoch; the first checkpoint (iteration 15) falls mid-epoch.
policy=(--schedule 'CyclicLR(base_lr=0.001, max_lr=0.006, step_size_up=10,
                    mode="triangular2", cycle_momentum=False)')
run() {
  "$bin" train --data "$work/data" --device cpu --seed 5 --quiet \
    "${policy[@]}" --iterations 60 --eval-every 15 "$@"
}

# Starts `run --checkpoint FILE ARGS...` in the background and kills it with
# SIGKILL as soon as FILE appears (it is renamed into place whole).
run_and_kill() {
  local checkpoint=$1
  shift
  run --checkpoint "$checkpoint" "$@" > /dev/null &
  local pid=$!
  while [ ! -f "$checkpoint" ]; do
    kill -0 "$pid" 2>/dev/null ||
      fail "the run ended before its first checkpoint"
    sleep 0.02
  done
  kill -KILL "$pid"
  local status=0
  wait "$pid" 2>/dev/null || status=$?
  [ "$status" -eq 137 ] ||
    fail "the run exited $status before the kill reached it"
}

full=$(run --out "$work/full" --checkpoint "$work/full.pt" | tail -n 1)
echo "uninterrupted: $full"

run_and_kill "$work/part.pt" --out "$work/part"
[ ! -e "$work/part.pt.tmp" ] || fail "temporary checkpoint left"
resumed=$(run --out "$work/part" --checkpoint "$work/part.pt" --resume | tail -n 1)
echo "resumed:       $resumed"

digest() { sed -n 's/.*weights digest \([0-9a-f]*\).*/\1/p' <<<"$1"; }
[ -n "$(digest "$full")" ] || fail "no digest printed"
pass
[ "$(digest "$full")" = "$(digest "$resumed")" ] ||
  fail "resumed weights differ"
pass
# Same log apart from the wall-time column.
diff <(cut -d, -f1-5 "$work/full/log.csv") <(cut -d, -f1-5 "$work/part/log.csv") ||
  fail "resumed log differs"
pass

# StepLR (torchclr's, with state in the checkpoint) resumes too.
policy=(--lr 0.004 --schedule 'StepLR(step_size=20, gamma=0.5)')
step_full=$(run --out "$work/step_full" --checkpoint "$work/step_full.pt" |
  tail -n 1)
run_and_kill "$work/step.pt"
step_resumed=$(run --checkpoint "$work/step.pt" --resume | tail -n 1)
[ "$(digest "$step_full")" = "$(digest "$step_resumed")" ] ||
  fail "resumed StepLR run differs"
pass

# log.csv's lr at the row of iteration k (iterations done, so the row's last)
# is the LR iteration k trained with: the schedule's value at step k - 1,
# from the closed forms of triangular2 (Smith 2017; PyTorch's CyclicLR) and
# StepLR. The LR set for iteration k + 1 differs at every triangular2 row and
# at StepLR's last.
check_lr_column() {
  python3 - "$@" <<'EOF' || exit 1
import csv, math, sys

def triangular2(step, base=0.001, top=0.006, size=10):
    cycle = math.floor(1 + step / (2 * size))
    x = abs(step / size - 2 * cycle + 1)
    return base + (top - base) * max(0.0, 1 - x) / 2 ** (cycle - 1)

def step_lr(step, lr=0.004, size=20, gamma=0.5):
    return lr * gamma ** (step // size)

path, name = sys.argv[1], sys.argv[2]
schedule = {"triangular2": triangular2, "step": step_lr}[name]
rows = list(csv.DictReader(open(path)))
if [int(row["iteration"]) for row in rows] != [15, 30, 45, 60]:
    sys.exit(f"FAIL: {path}: rows at {[row['iteration'] for row in rows]}")
for row in rows:
    k = int(row["iteration"])
    if not math.isclose(float(row["lr"]), schedule(k - 1), rel_tol=1e-12):
        sys.exit(f"FAIL: {path}: iteration {k} has lr {row['lr']}; it trained "
                 f"with {schedule(k - 1)} ({name} at step {k - 1}), the next "
                 f"one with {schedule(k)}")
EOF
  pass
}
check_lr_column "$work/full/log.csv" triangular2
check_lr_column "$work/step_full/log.csv" step
# A checkpoint of other settings is refused with a message naming it.
if "$bin" train --data "$work/data" --device cpu --seed 5 --quiet \
  "${policy[@]}" --iterations 61 --checkpoint "$work/step.pt" --resume \
  2> "$work/err"; then
  fail "resumed with other --iterations"
fi
grep -q "cannot resume from $work/step.pt: it was written with --iterations 60, not 61" "$work/err" ||
  fail "unclear message: $(cat "$work/err")"
pass

# The checkpoint holds its schedule's text: another schedule is refused,
# naming both texts (as torchclr::to_text writes them).
if "$bin" train --data "$work/data" --device cpu --seed 5 --quiet \
  --lr 0.004 --schedule 'StepLR(step_size=20, gamma=0.25)' --iterations 60 \
  --checkpoint "$work/step.pt" --resume 2> "$work/err"; then
  fail "resumed with another schedule"
fi
grep -qF "cannot resume from $work/step.pt: it was written with the schedule 'StepLR(step_size=20, gamma=0.5)', this run has 'StepLR(step_size=20, gamma=0.25)'" "$work/err" ||
  fail "unclear message: $(cat "$work/err")"
pass
# ... and the settings catch another optimizer LR under the same schedule.
if "$bin" train --data "$work/data" --device cpu --seed 5 --quiet \
  --lr 0.002 --schedule 'StepLR(step_size=20, gamma=0.5)' --iterations 60 \
  --checkpoint "$work/step.pt" --resume 2> "$work/err"; then
  fail "resumed with another --lr"
fi
grep -q "cannot resume from $work/step.pt: it was written with other settings: .*lr=0.004;" "$work/err" ||
  fail "unclear message: $(cat "$work/err")"
pass

# SWA: a run killed once its first checkpoint is written resumes to the same
# averaged network (the average is in the checkpoint) as an uninterrupted
# run; it averages the iterates at 15, 30, 45 and 60.
policy=(--lr 0.004 --schedule 'StepLR(step_size=20, gamma=0.5)'
  --swa-start 15 --swa-every 15)
swa_full=$(run --checkpoint "$work/swa_full.pt" | tail -n 1)
grep -q "^SWA: the average of 4 iterates (every 15 from iteration 15)" <<<"$swa_full" ||
  fail "no SWA line: $swa_full"
run_and_kill "$work/swa.pt"
swa_resumed=$(run --checkpoint "$work/swa.pt" --resume | tail -n 1)
[ -n "$(digest "$swa_full")" ] &&
  [ "$(digest "$swa_full")" = "$(digest "$swa_resumed")" ] ||
  fail "resumed SWA average differs: $swa_full / $swa_resumed"
pass

# Every --optimizer trains: the mean loss of iterations 11-20 is finite and
# below that of iterations 1-10 (an LR each one takes to).
for optimizer_lr in sgd:0.004 nesterov:0.002 adam:0.001 adamw:0.001 \
  rmsprop:0.0001 adagrad:0.01 adadelta:1.0; do
  optimizer=${optimizer_lr%%:*}
  "$bin" train --data "$work/data" --device cpu --seed 5 --quiet \
    --optimizer "$optimizer" --schedule 'ConstantLR(factor=1, total_iters=1)' --lr "${optimizer_lr#*:}" \
    --iterations 20 --eval-every 10 --out "$work/$optimizer" > /dev/null ||
    fail "--optimizer $optimizer did not finish"
  losses=$(tail -n +2 "$work/$optimizer/log.csv" | cut -d, -f4 | tr '\n' ' ')
  python3 -c "import math, sys; a, b = map(float, sys.argv[1:3]); \
sys.exit(0 if math.isfinite(b) and b < a else 1)" $losses ||
    fail "--optimizer $optimizer: loss did not fall: $losses"
  pass
done
# --model resnet56 trains 3 iterations on the generated CIFAR-10 data.
"$bin" train --data "$work/data" --device cpu --seed 5 --quiet \
  --model resnet56 --schedule 'ConstantLR(factor=1, total_iters=1)' --lr 0.01 --iterations 3 --eval-every 3 \
  --out "$work/resnet56" > /dev/null ||
  fail "--model resnet56 did not train"
python3 -c "import math, sys; sys.exit(0 if math.isfinite(float(sys.argv[1])) else 1)" \
  "$(tail -n 1 "$work/resnet56/log.csv" | cut -d, -f4)" ||
  fail "--model resnet56: loss not finite"
pass

# --dataset cifar100 (generated, in CIFAR-100's layout) with resnet56.
python3 "$here/make_cifar10.py" "$work/data100" 100 100 cifar100
"$bin" train --dataset cifar100 --data "$work/data100" --device cpu --seed 5 \
  --quiet --model resnet56 --schedule 'ConstantLR(factor=1, total_iters=1)' --lr 0.01 --iterations 3 \
  --eval-every 3 > /dev/null ||
  fail "--dataset cifar100 did not train"
pass

# --augment (pad 4, crop, flip) trains, and its draws depend on the seed and
# iteration alone: two runs give the same weights.
augment_run() {
  "$bin" train --data "$work/data" --device cpu --seed 5 --quiet --augment \
    --schedule 'ConstantLR(factor=1, total_iters=1)' --lr 0.004 --iterations 20 --eval-every 10 \
    --out "$work/augment" | tail -n 1
}
augment_first=$(augment_run)
[ "$(digest "$augment_first")" = "$(digest "$(augment_run)")" ] ||
  fail "--augment runs differ"
pass

# A checkpoint of one optimizer is refused by a run with another.
"$bin" train --data "$work/data" --device cpu --seed 5 --quiet \
  --optimizer adam --iterations 4 --eval-every 2 \
  --checkpoint "$work/adam.pt" > /dev/null
if "$bin" train --data "$work/data" --device cpu --seed 5 --quiet \
  --optimizer adamw --iterations 4 --eval-every 2 \
  --checkpoint "$work/adam.pt" --resume 2> "$work/err"; then
  fail "resumed an adam checkpoint with adamw"
fi
grep -q "cannot resume from $work/adam.pt: it was written with --optimizer adam, not adamw" "$work/err" ||
  fail "unclear message: $(cat "$work/err")"
pass

# Bad flags are refused before any training, naming the flag.
refuses() {
  local expected=$1
  shift
  if "$bin" "$@" --data "$work/data" --device cpu --quiet >/dev/null 2>"$work/err"; then
    fail "accepted $*"
  fi
  grep -qF -- "$expected" "$work/err" ||
    fail "$* said: $(cat "$work/err")"
  pass
}
refuses "--schedule: parse_scheduler: at position 20: StepLR has no option 'gama' (its options: step_size, gamma)" \
  train --schedule 'StepLR(step_size=2, gama=0.5)' --iterations 2
refuses "--schedule: parse_scheduler: at position 0: StepLR: step_size must be" \
  train --schedule 'StepLR(step_size=0)' --iterations 2
printf 'StepLR(\n  step_size=2,\n  gama=0.5)\n' > "$work/bad.schedule"
refuses "--schedule-file: parse_scheduler_file: $work/bad.schedule:3:3: StepLR has no option 'gama'" \
  train --schedule-file "$work/bad.schedule" --iterations 2
refuses "--schedule excludes --schedule-file" \
  train --schedule 'StepLR(step_size=2)' --schedule-file "$work/bad.schedule"
refuses "--lr: must be > 0, got '-1'" train --lr -1
refuses "--swa-start: must be in [1, --iterations 2] (the first iteration averaged), got 5" \
  train --swa-start 5 --iterations 2
refuses "--swa-every: must be >= 0, got '-1'" \
  train --swa-start 1 --swa-every -1 --iterations 2
refuses "--scale: must be a finite number, got 'nan'" compare --scale nan
refuses "--train-limit: must be >= 0, got '-1'" train --train-limit -1
refuses "--checkpoint: the folder $work/missing does not exist" \
  train --iterations 2 --checkpoint "$work/missing/x.pt"
refuses "--step-size-epochs: must be a finite number" \
  range-test --step-size-epochs nan
refuses "--model: resnet56 takes 3x32x32 colour images; --dataset fashion-mnist has 1x28x28" \
  train --model resnet56 --dataset fashion-mnist --iterations 2
refuses "--optimizer: adamx not in {sgd,nesterov,adam,adamw,rmsprop,adagrad,adadelta}" \
  train --optimizer adamx
refuses "--schedule: parse_scheduler: at position 0: CyclicLR" \
  train --optimizer adagrad --schedule 'CyclicLR(base_lr=0.001, max_lr=0.01)' \
  --iterations 2

accuracy=$(tail -n 1 "$work/full/log.csv" | cut -d, -f5)
echo "final test accuracy: $accuracy (chance: 0.1)"
python3 -c "import sys; sys.exit(0 if float('$accuracy') >= 0.5 else 1)" ||
  fail "accuracy $accuracy is not well above chance"
pass
echo "cifar10_clr_test: $passed passed, 0 failed"
