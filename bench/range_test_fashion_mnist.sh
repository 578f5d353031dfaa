#!/usr/bin/env bash
# Does the range test pick good CLR bounds? On Debian's Fashion-MNIST with the
# example's network: CyclicLR with the range test's suggested base_lr/max_lr
# against fixed-LR training at 1e-3, 3e-3 and 1e-2, all with the same budget.
#   bash bench/range_test_fashion_mnist.sh [build dir] [iterations]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
iterations=${2:-1200}
bin=$build/examples/cifar10/cifar10_clr
data=/usr/share/datasets/fashion-mnist
if [ ! -d "$data" ]; then
  echo "skipped: $data is missing (apt-get install dataset-fashion-mnist)"
  exit 0
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
common=(--dataset fashion-mnist --device cpu --quiet --seed 1)

"$bin" range-test "${common[@]}" --out "$work/range" > "$work/range.txt"
cat "$work/range.txt"
base=$(sed -n 's/^base_lr=//p' "$work/range/suggestions.txt")
max=$(sed -n 's/^max_lr=//p' "$work/range/suggestions.txt")
# Two whole cycles in the budget, ending at base_lr.
step=$((iterations / 4))

accuracy() { tail -n 1 "$1/log.csv" | cut -d, -f5; }
"$bin" train "${common[@]}" --schedule "CyclicLR(base_lr=$base, max_lr=$max,
  step_size_up=$step, cycle_momentum=False)" --iterations "$iterations" \
  --eval-every "$iterations" --out "$work/clr" > /dev/null
printf '%-44s %s\n' "policy ($iterations iterations)" "test accuracy"
printf '%-44s %s\n' "triangular $base..$max, step $step" "$(accuracy "$work/clr")"
best=0
for lr in 0.001 0.003 0.01; do
  "$bin" train "${common[@]}" --lr "$lr" \
    --schedule 'ConstantLR(factor=1, total_iters=1)' --iterations "$iterations" \
    --eval-every "$iterations" --out "$work/fixed_$lr" > /dev/null
  a=$(accuracy "$work/fixed_$lr")
  printf '%-44s %s\n' "fixed $lr" "$a"
  best=$(python3 -c "print(max($best, $a))")
done
python3 -c "
clr = $(accuracy "$work/clr"); best = $best
print(f'CLR with suggested bounds: {clr:.4f}; best fixed: {best:.4f}:',
      'CLR at least as good' if clr >= best else 'fixed is better')"
