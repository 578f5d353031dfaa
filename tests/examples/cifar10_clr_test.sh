#!/usr/bin/env bash
# cifar10_clr end to end on generated CIFAR-10 files: training gets well above
# chance, a run killed (SIGKILL, from outside) once its first checkpoint is
# written resumes to the same final weights
# and log as an uninterrupted one (CyclicLR and StepLR),
# a checkpoint of other settings is refused, and bad flags are refused before
# any training.
#   cifar10_clr_test.sh path/to/cifar10_clr
set -euo pipefail
bin=$1
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 "$here/make_cifar10.py" "$work/data" 200 200

# 10 batches per epoch; the first checkpoint (iteration 15) falls mid-epoch.
policy=(--policy triangular2 --base-lr 0.001 --max-lr 0.006 --step-size-up 10)
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
      { echo "FAIL: the run ended before its first checkpoint"; exit 1; }
    sleep 0.02
  done
  kill -KILL "$pid"
  local status=0
  wait "$pid" 2>/dev/null || status=$?
  [ "$status" -eq 137 ] ||
    { echo "FAIL: the run exited $status before the kill reached it"; exit 1; }
}

full=$(run --out "$work/full" --checkpoint "$work/full.pt" | tail -n 1)
echo "uninterrupted: $full"

run_and_kill "$work/part.pt" --out "$work/part"
[ ! -e "$work/part.pt.tmp" ] || { echo "FAIL: temporary checkpoint left"; exit 1; }
resumed=$(run --out "$work/part" --checkpoint "$work/part.pt" --resume | tail -n 1)
echo "resumed:       $resumed"

digest() { sed -n 's/.*weights digest \([0-9a-f]*\).*/\1/p' <<<"$1"; }
[ -n "$(digest "$full")" ] || { echo "FAIL: no digest printed"; exit 1; }
[ "$(digest "$full")" = "$(digest "$resumed")" ] ||
  { echo "FAIL: resumed weights differ"; exit 1; }
# Same log apart from the wall-time column.
diff <(cut -d, -f1-5 "$work/full/log.csv") <(cut -d, -f1-5 "$work/part/log.csv") ||
  { echo "FAIL: resumed log differs"; exit 1; }

# StepLR (torchclr's, with state in the checkpoint) resumes too.
policy=(--policy step --lr 0.004 --step-size 20 --step-gamma 0.5)
step_full=$(run --checkpoint "$work/step_full.pt" | tail -n 1)
run_and_kill "$work/step.pt"
step_resumed=$(run --checkpoint "$work/step.pt" --resume | tail -n 1)
[ "$(digest "$step_full")" = "$(digest "$step_resumed")" ] ||
  { echo "FAIL: resumed StepLR run differs"; exit 1; }
# A checkpoint of other settings is refused with a message naming it.
if "$bin" train --data "$work/data" --device cpu --seed 5 --quiet \
  "${policy[@]}" --iterations 61 --checkpoint "$work/step.pt" --resume \
  2> "$work/err"; then
  echo "FAIL: resumed with other --iterations"; exit 1
fi
grep -q "cannot resume from $work/step.pt: it was written with --iterations 60, not 61" "$work/err" ||
  { echo "FAIL: unclear message: $(cat "$work/err")"; exit 1; }

# The checkpoint's settings catch a changed policy flag.
if "$bin" train --data "$work/data" --device cpu --seed 5 --quiet \
  --policy step --lr 0.004 --step-size 20 --step-gamma 0.25 --iterations 60 \
  --checkpoint "$work/step.pt" --resume 2> "$work/err"; then
  echo "FAIL: resumed with other --step-gamma"; exit 1
fi
grep -q "cannot resume from $work/step.pt: it was written with other settings: .*step_gamma=0.5;" "$work/err" ||
  { echo "FAIL: unclear message: $(cat "$work/err")"; exit 1; }

# Every --optimizer trains: the mean loss of iterations 11-20 is finite and
# below that of iterations 1-10 (an LR each one takes to).
for optimizer_lr in sgd:0.004 nesterov:0.002 adam:0.001 adamw:0.001 \
  rmsprop:0.0001 adagrad:0.01 adadelta:1.0; do
  optimizer=${optimizer_lr%%:*}
  "$bin" train --data "$work/data" --device cpu --seed 5 --quiet \
    --optimizer "$optimizer" --policy fixed --lr "${optimizer_lr#*:}" \
    --iterations 20 --eval-every 10 --out "$work/$optimizer" > /dev/null ||
    { echo "FAIL: --optimizer $optimizer did not finish"; exit 1; }
  losses=$(tail -n +2 "$work/$optimizer/log.csv" | cut -d, -f4 | tr '\n' ' ')
  python3 -c "import math, sys; a, b = map(float, sys.argv[1:3]); \
sys.exit(0 if math.isfinite(b) and b < a else 1)" $losses ||
    { echo "FAIL: --optimizer $optimizer: loss did not fall: $losses"; exit 1; }
done
# --model resnet56 trains 3 iterations on the generated CIFAR-10 data.
"$bin" train --data "$work/data" --device cpu --seed 5 --quiet \
  --model resnet56 --policy fixed --lr 0.01 --iterations 3 --eval-every 3 \
  --out "$work/resnet56" > /dev/null ||
  { echo "FAIL: --model resnet56 did not train"; exit 1; }
python3 -c "import math, sys; sys.exit(0 if math.isfinite(float(sys.argv[1])) else 1)" \
  "$(tail -n 1 "$work/resnet56/log.csv" | cut -d, -f4)" ||
  { echo "FAIL: --model resnet56: loss not finite"; exit 1; }

# --dataset cifar100 (generated, in CIFAR-100's layout) with resnet56.
python3 "$here/make_cifar10.py" "$work/data100" 100 100 cifar100
"$bin" train --dataset cifar100 --data "$work/data100" --device cpu --seed 5 \
  --quiet --model resnet56 --policy fixed --lr 0.01 --iterations 3 \
  --eval-every 3 > /dev/null ||
  { echo "FAIL: --dataset cifar100 did not train"; exit 1; }

# --augment (pad 4, crop, flip) trains, and its draws depend on the seed and
# iteration alone: two runs give the same weights.
augment_run() {
  "$bin" train --data "$work/data" --device cpu --seed 5 --quiet --augment \
    --policy fixed --lr 0.004 --iterations 20 --eval-every 10 \
    --out "$work/augment" | tail -n 1
}
augment_first=$(augment_run)
[ "$(digest "$augment_first")" = "$(digest "$(augment_run)")" ] ||
  { echo "FAIL: --augment runs differ"; exit 1; }

# A checkpoint of one optimizer is refused by a run with another.
"$bin" train --data "$work/data" --device cpu --seed 5 --quiet \
  --optimizer adam --iterations 4 --eval-every 2 \
  --checkpoint "$work/adam.pt" > /dev/null
if "$bin" train --data "$work/data" --device cpu --seed 5 --quiet \
  --optimizer adamw --iterations 4 --eval-every 2 \
  --checkpoint "$work/adam.pt" --resume 2> "$work/err"; then
  echo "FAIL: resumed an adam checkpoint with adamw"; exit 1
fi
grep -q "cannot resume from $work/adam.pt: it was written with --optimizer adam, not adamw" "$work/err" ||
  { echo "FAIL: unclear message: $(cat "$work/err")"; exit 1; }

# Bad flags are refused before any training, naming the flag.
refuses() {
  local expected=$1
  shift
  if "$bin" "$@" --data "$work/data" --device cpu --quiet >/dev/null 2>"$work/err"; then
    echo "FAIL: accepted $*"; exit 1
  fi
  grep -qF -- "$expected" "$work/err" ||
    { echo "FAIL: $* said: $(cat "$work/err")"; exit 1; }
}
refuses "--step-size: must be > 0, got '0'" train --policy step --step-size 0
refuses "--step-gamma: must be a finite number, got 'nan'" \
  train --policy step --step-gamma nan
refuses "--step-gamma: must be in (0, 1], got -1" train --policy step --step-gamma -1
refuses "--lr: must be > 0, got '-1'" train --policy fixed --lr -1
refuses "--scale: must be a finite number, got 'nan'" compare --scale nan
refuses "--total-steps: 10 is shorter than the run (20 steps)" \
  train --policy one_cycle --total-steps 10 --iterations 20
refuses "--train-limit: must be >= 0, got '-1'" train --train-limit -1
refuses "--checkpoint: the folder $work/missing does not exist" \
  train --iterations 2 --checkpoint "$work/missing/x.pt"
refuses "--step-size-epochs: must be a finite number" \
  range-test --step-size-epochs nan
refuses "--model: resnet56 takes 3x32x32 colour images; --dataset fashion-mnist has 1x28x28" \
  train --model resnet56 --dataset fashion-mnist --iterations 2
refuses "--optimizer: adamx not in {sgd,nesterov,adam,adamw,rmsprop,adagrad,adadelta}" \
  train --optimizer adamx
refuses "--cycle-momentum: --optimizer adagrad has no momentum to cycle" \
  train --optimizer adagrad --policy triangular --cycle-momentum --iterations 2

accuracy=$(tail -n 1 "$work/full/log.csv" | cut -d, -f5)
echo "final test accuracy: $accuracy (chance: 0.1)"
python3 -c "import sys; sys.exit(0 if float('$accuracy') >= 0.5 else 1)" ||
  { echo "FAIL: accuracy $accuracy is not well above chance"; exit 1; }
echo "cifar10_clr_test: 14 passed, 0 failed"
