#!/usr/bin/env bash
# clr_schedule prints the issue-9 policies' first values (StepLR, ConstantLR,
# PolynomialLR, CosineAnnealingLR, SGDR's cycle_decay/cycle_limit, a warm-up
# before any policy) and both exp_range forms, and refuses bad values of their
# flags, naming the flag.
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
  --policy step --step-size 3 --step-gamma 0.5 --steps 6
expect "0.0005 0.0005 0.001 0.001" \
  --policy constant --constant-factor 0.5 --total-iters 2 --steps 3
expect "0.004 0.00225 0.001 0.00025 0 0" \
  --policy polynomial --lr 0.004 --total-iters 4 --power 2 --steps 5
expect "0.002 0.001 0 0.001 0.002" \
  --policy cosine --lr 0.002 --T-max 2 --steps 4
# SGDR, T_0 2: peaks 0.004, 0.002, then held at eta_min after 2 cycles.
expect "0.004 0.002 0.002 0.001 0 0" \
  --policy cosine_restarts --lr 0.004 --T-0 2 --cycle-decay 0.5 \
  --cycle-limit 2 --steps 5
# exp_range's two forms, step size 2, gamma 0.5, by hand: heights 0, 1/2, 1,
# 1/2, 0 and scales 1, 1/2, 1/4, 1/8, 1/16. PyTorch's (the default here)
# scales the amplitude: 0.001 + 0.004 * height * scale; the paper's both
# bounds: (0.001 + 0.004 * height) * scale.
expect "0.001 0.002 0.002 0.00125 0.001" \
  --policy exp_range --base-lr 0.001 --max-lr 0.005 --step-size-up 2 \
  --gamma 0.5 --steps 4
expect "0.001 0.0015 0.00125 0.000375 0.0000625" \
  --policy exp_range --base-lr 0.001 --max-lr 0.005 --step-size-up 2 \
  --gamma 0.5 --exp-range-form paper --steps 4
# PyTorch's form takes gamma > 1 (scales 1, 2, 4): past max_lr.
expect "0.001 0.005 0.017" \
  --policy exp_range --base-lr 0.001 --max-lr 0.005 --step-size-up 2 \
  --gamma 2 --steps 2
# StepLR takes gamma > 1 as PyTorch does: the LR doubles every 2 steps.
expect "0.001 0.001 0.002 0.002 0.004" \
  --policy step --step-size 2 --step-gamma 2 --steps 4
# A warm-up from 0.1 x over 2 steps, then StepLR from its own step 0.
expect "0.0001 0.00055 0.001 0.001 0.0005" \
  --policy step --step-size 2 --step-gamma 0.5 --warmup-steps 2 --steps 4

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
refuses "--step-size: must be > 0, got '0'" --policy step --step-size 0
refuses "--step-gamma: must be > 0, got '0'" \
  --policy step --step-gamma 0
refuses "--step-gamma: must be > 0, got '-0.5'" \
  --policy fixed --step-gamma -0.5
refuses "--step-gamma: must be a finite number, got 'inf'" \
  --policy step --step-gamma inf
refuses "--constant-factor: must be in [0, 1], got 2" \
  --policy constant --constant-factor 2
refuses "--T-max: must be > 0, got '0'" --policy cosine --T-max 0
refuses "--cycle-decay: must be in (0, 1], got 0" \
  --policy cosine_restarts --cycle-decay 0
refuses "CyclicLR: gamma must be in (0, 1] for mode exp_range_paper (both bounds times gamma^iterations), got 1.5" \
  --policy exp_range --exp-range-form paper --gamma 1.5
refuses "--exp-range-form: keras not in {paper,pytorch}" \
  --policy exp_range --exp-range-form keras
refuses "--warmup-steps: must be >= 0, got '-1'" --warmup-steps -1
refuses "--warmup-start-factor: must be in (0, 1], got 0" \
  --warmup-steps 2 --warmup-start-factor 0
echo "clr_schedule_test: $passed passed, 0 failed"
