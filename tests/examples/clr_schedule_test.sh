#!/usr/bin/env bash
# clr_schedule previews any --schedule text (or --schedule-file): the first
# values of StepLR, ConstantLR, PolynomialLR, CosineAnnealingLR, SGDR's
# cycle_decay/cycle_limit, a warm-up before StepLR, both exp_range forms and
# Caffe's --group-ratios, against values by hand; bad texts and flags are
# refused, naming the flag.
#   clr_schedule_test.sh path/to/clr_schedule
set -euo pipefail
bin=$1
err=$(mktemp)
trap 'rm -f "$err"' EXIT
passed=0

# expect "LR1 LR2 ..." FLAGS...: the lr_0 column of steps 0, 1, ... (1e-12
# relative).
expect() {
  local want=$1
  shift
  local got
  got=$("$bin" "$@" | tail -n +2 | cut -d, -f2 | tr '\n' ' ')
  python3 - "$want" "$got" "$*" <<'PY' || exit 1
import math, sys
want = [float(v) for v in sys.argv[1].split()]
got = [float(v) for v in sys.argv[2].split()]
ok = len(want) == len(got) and all(
    math.isclose(w, g, rel_tol=1e-12, abs_tol=1e-300) for w, g in zip(want, got))
if not ok:
    print(f"FAIL: {sys.argv[3]}: want {want}, got {got}")
    sys.exit(1)
PY
  passed=$((passed + 1))
}
expect "0.001 0.001 0.001 0.0005 0.0005 0.0005 0.00025" \
  --schedule 'StepLR(step_size=3, gamma=0.5)' --steps 6
expect "0.0005 0.0005 0.001 0.001" \
  --schedule 'ConstantLR(factor=0.5, total_iters=2)' --steps 3
expect "0.004 0.00225 0.001 0.00025 0 0" \
  --lr 0.004 --schedule 'PolynomialLR(total_iters=4, power=2)' --steps 5
expect "0.002 0.001 0 0.001 0.002" \
  --lr 0.002 --schedule 'CosineAnnealingLR(T_max=2)' --steps 4
# SGDR, T_0 2: peaks 0.004, 0.002, then held at eta_min after 2 cycles.
expect "0.004 0.002 0.002 0.001 0 0" \
  --lr 0.004 --steps 5 --schedule \
  'CosineAnnealingWarmRestarts(T_0=2, cycle_decay=0.5, cycle_limit=2)'
# exp_range's two forms, step size 2, gamma 0.5, by hand: heights 0, 1/2, 1,
# 1/2, 0 and scales 1, 1/2, 1/4, 1/8, 1/16. PyTorch's (exp_range) scales the
# amplitude: 0.001 + 0.004 * height * scale; the paper's (exp_range_paper)
# both bounds: (0.001 + 0.004 * height) * scale.
expect "0.001 0.002 0.002 0.00125 0.001" --steps 4 --schedule \
  'CyclicLR(base_lr=0.001, max_lr=0.005, step_size_up=2, mode="exp_range", gamma=0.5)'
expect "0.001 0.0015 0.00125 0.000375 0.0000625" --steps 4 --schedule \
  'CyclicLR(base_lr=0.001, max_lr=0.005, step_size_up=2, mode="exp_range_paper", gamma=0.5)'
# StepLR takes gamma > 1 as PyTorch does: the LR doubles every 2 steps.
expect "0.001 0.001 0.002 0.002 0.004" \
  --schedule 'StepLR(step_size=2, gamma=2)' --steps 4
# A warm-up from 0.1 x over 2 steps, then StepLR from its own step 0; the
# text on several lines, from a file, with a comment.
schedule_file=$(mktemp)
trap 'rm -f "$err" "$schedule_file"' EXIT
cat > "$schedule_file" <<'TEXT'
# warm-up, then halve every 2 steps
SequentialLR([LinearLR(start_factor=0.1, total_iters=2),
              StepLR(step_size=2, gamma=0.5)],
             milestones=[2])
TEXT
expect "0.0001 0.00055 0.001 0.001 0.0005" \
  --schedule-file "$schedule_file" --steps 4
# Caffe's lr_mult: group 1 at ratio 2 gets twice every LR of the text.
ratios=$("$bin" --group-ratios 1,2 --steps 2 --schedule \
  'CyclicLR(base_lr=0.001, max_lr=0.005, step_size_up=2, cycle_momentum=False)' |
  tail -n +2 | cut -d, -f2,3 | tr '\n' ' ')
[ "$ratios" = "0.001,0.002 0.003,0.006 0.005,0.01 " ] ||
  { echo "FAIL: --group-ratios 1,2 gave $ratios"; exit 1; }
passed=$((passed + 1))

refuses() {
  local expected=$1
  shift
  if "$bin" "$@" --steps 3 >/dev/null 2>"$err"; then
    echo "FAIL: accepted $*"; exit 1
  fi
  grep -qF -- "$expected" "$err" ||
    { echo "FAIL: $* said: $(cat "$err")"; exit 1; }
  passed=$((passed + 1))
}
refuses "--schedule: parse_scheduler: at position 0: StepLR: step_size must be" \
  --schedule 'StepLR(step_size=0)'
refuses "--schedule: parse_scheduler: at position 0: CyclicLR: gamma must be in (0, 1] for mode exp_range_paper (both bounds times gamma^iterations), got 1.5" \
  --schedule 'CyclicLR(base_lr=0.001, max_lr=0.005, mode="exp_range_paper", gamma=1.5)'
refuses "--schedule: parse_scheduler: at position 7: expected a value" \
  --schedule 'StepLR(,)'
refuses "--schedule excludes --schedule-file" \
  --schedule 'StepLR(step_size=2)' --schedule-file "$schedule_file"
refuses "--group-ratios excludes --groups" --group-ratios 1,2 --groups 2
refuses "--group-ratios: must be > 0, got '0'" --group-ratios 1,0
echo "clr_schedule_test: $passed passed, 0 failed"
