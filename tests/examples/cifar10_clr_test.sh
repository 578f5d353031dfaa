#!/usr/bin/env bash
# cifar10_clr end to end on generated CIFAR-10 files: training gets well above
# chance, a run killed after a checkpoint resumes to the same final weights
# and log as an uninterrupted one (a torchclr schedule and LibTorch's StepLR),
# and a checkpoint of other settings is refused.
#   cifar10_clr_test.sh path/to/cifar10_clr
set -euo pipefail
bin=$1
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 "$here/make_cifar10.py" "$work/data" 200 200

# 10 batches per epoch; the kill at 45 falls mid-epoch.
policy=(--policy triangular2 --base-lr 0.001 --max-lr 0.006 --step-size-up 10)
run() {
  "$bin" train --data "$work/data" --device cpu --seed 5 --quiet \
    "${policy[@]}" --iterations 60 --eval-every 15 "$@"
}

full=$(run --out "$work/full" --checkpoint "$work/full.pt" | tail -n 1)
echo "uninterrupted: $full"

set +e
run --out "$work/part" --checkpoint "$work/part.pt" --stop-after 45 > /dev/null
status=$?
set -e
[ "$status" -eq 3 ] || { echo "FAIL: the killed run exited $status, not 3"; exit 1; }
[ -f "$work/part.pt" ] || { echo "FAIL: no checkpoint after the kill"; exit 1; }
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

# LibTorch's own StepLR has no state to save; resume replays its steps.
policy=(--policy step --lr 0.004 --step-size 20 --step-gamma 0.5)
step_full=$(run --checkpoint "$work/step_full.pt" | tail -n 1)
set +e
run --checkpoint "$work/step.pt" --stop-after 30 > /dev/null
set -e
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

accuracy=$(tail -n 1 "$work/full/log.csv" | cut -d, -f5)
echo "final test accuracy: $accuracy (chance: 0.1)"
python3 -c "import sys; sys.exit(0 if float('$accuracy') >= 0.5 else 1)" ||
  { echo "FAIL: accuracy $accuracy is not well above chance"; exit 1; }
echo "cifar10_clr_test: 5 passed, 0 failed"
