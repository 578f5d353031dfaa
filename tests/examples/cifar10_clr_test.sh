#!/usr/bin/env bash
# cifar10_clr end to end on generated CIFAR-10 files: training gets well above
# chance, and a run killed after a checkpoint resumes to the same final
# weights and log as an uninterrupted one.
#   cifar10_clr_test.sh path/to/cifar10_clr
set -euo pipefail
bin=$1
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 "$here/make_cifar10.py" "$work/data" 200 200

run() {
  "$bin" train --data "$work/data" --device cpu --seed 5 --quiet \
    --policy triangular2 --base-lr 0.001 --max-lr 0.006 --step-size-up 10 \
    --iterations 60 --eval-every 20 "$@"
}

full=$(run --out "$work/full" --checkpoint "$work/full.pt" | tail -n 1)
echo "uninterrupted: $full"

set +e
run --out "$work/part" --checkpoint "$work/part.pt" --stop-after 40 > /dev/null
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

accuracy=$(tail -n 1 "$work/full/log.csv" | cut -d, -f5)
echo "final test accuracy: $accuracy (chance: 0.1)"
python3 -c "import sys; sys.exit(0 if float('$accuracy') >= 0.5 else 1)" ||
  { echo "FAIL: accuracy $accuracy is not well above chance"; exit 1; }
echo "cifar10_clr_test: 3 passed, 0 failed"
