#!/usr/bin/env bash
# Training images per second: cifar10_clr (LibTorch) against the same loop in
# PyTorch (Python), same network, batch 100 and threads, in one run.
#   bash bench/train_throughput.sh [build dir] [iterations]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
iterations=${2:-200}
threads=$(nproc)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 tests/examples/make_cifar10.py "$work/data" 1000 100

ours=$(OMP_NUM_THREADS=$threads "$build/examples/cifar10/cifar10_clr" train \
  --data "$work/data" --device cpu --quiet --iterations "$iterations" \
  --eval-every "$iterations" --policy triangular2 | tail -n 1)
seconds=$(sed -n 's/.*, \([0-9.]*\) s of training.*/\1/p' <<<"$ours")
data_share=$(sed -n 's/.*(data pipeline \([0-9.]*%\)).*/\1/p' <<<"$ours")
ours_ips=$(python3 -c "print(f'{$iterations * 100 / $seconds:.1f}')")
theirs=$(/usr/bin/python3 bench/pytorch_cifar10_full.py "$iterations" "$threads")
theirs_ips=$(awk '{print $2}' <<<"$theirs")

printf '%-28s %12s\n' "loop ($threads threads)" "images/s"
printf '%-28s %12s\n' "cifar10_clr (LibTorch)" "$ours_ips"
printf '%-28s %12s\n' "PyTorch (Python)" "$theirs_ips"
python3 -c "print(f'ratio: {$ours_ips / $theirs_ips:.2f}x')"
echo "cifar10_clr data pipeline: $data_share of training time"
