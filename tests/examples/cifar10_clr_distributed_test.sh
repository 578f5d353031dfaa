#!/usr/bin/env bash
# cifar10_clr on two processes (Gloo on 127.0.0.1, one thread each), started
# the way PyTorch jobs start (RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT):
#   - train: the two ranks end with bit-identical weights, equal to those of
#     one process with the same global batch within the fp32 tolerance below,
#     and log.csv has the same LR column;
#   - a killed 2-rank run resumes to the uninterrupted run's weights and log;
#     a checkpoint of another world size is refused, saying why;
#   - one rank killed mid-run: the other exits non-zero at once, naming it;
#   - a bad WORLD_SIZE, RANK or batch size and a port in use: a clear error
#     before any training;
#   - range-test: both ranks print the same suggestions, and sweep the same
#     curve as one process within the tolerance below.
# The ranks meet at a store tcp_store_host hosts, as torchrun's agent does
# (TORCHELASTIC_USE_AGENT_STORE=True), on a port the system picked when it
# bound it: no other program can take it first. Each launch is a new attempt
# (TORCHELASTIC_RESTART_COUNT), whose keys the store keeps apart.
#   cifar10_clr_distributed_test.sh path/to/cifar10_clr path/to/checkpoint_diff \
#     path/to/tcp_store_host
set -euo pipefail
bin=$1
checkpoint_diff=$2
store_host=$3
here=$(cd "$(dirname "$0")" && pwd)
launch="$here/../../scripts/launch_local.sh"
work=$(mktemp -d)
started=()  # ranks this script started itself; killed on the way out
cleanup() {
  for pid in "${started[@]:-}"; do
    [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT
unset RANK WORLD_SIZE MASTER_PORT LOCAL_RANK
export MASTER_ADDR=127.0.0.1 OMP_NUM_THREADS=1
python3 "$here/make_cifar10.py" "$work/data" 200 200
passed=0
fail() {
  echo "FAIL: $*"
  exit 1
}

"$store_host" "$work/store_port" &
started+=("$!")
while [ ! -s "$work/store_port" ]; do
  kill -0 "${started[-1]}" 2>/dev/null || fail "tcp_store_host ended"
  sleep 0.05
done
export MASTER_PORT TORCHELASTIC_USE_AGENT_STORE=True TORCHELASTIC_RESTART_COUNT=0
MASTER_PORT=$(cat "$work/store_port")
# Every launch of ranks meets under its own attempt number.
new_attempt() {
  TORCHELASTIC_RESTART_COUNT=$((TORCHELASTIC_RESTART_COUNT + 1))
}

# One process computes the mean gradient of 100 images; two compute means of
# 50 and average them: the same sum in another order. Each weight tensor of
# the two runs is within this relative L2 distance (|a - b| / |b|) of the
# other's. Measured (checkpoint_diff prints it): 1.6e-6 after one step (fp32
# rounding, 2026-11-23), 5.2e-4 after 20 (2026-12-05; the fast early training
# amplifies it), while one step more or less moves a tensor by 0.15 or more; the test checks that
# too, so the tolerance cannot pass any two runs.
RTOL=5e-3

digest() { sed -n 's/.*weights digest \([0-9a-f]*\).*/\1/p' <<<"$1"; }
# The lines rank $1 printed under launch_local.sh, without the prefix.
rank_lines() { sed -n "s/^\[rank $1\] //p" "$2"; }
# Runs launch_local.sh with 2 processes (killed after 300 s); call
# new_attempt first.
launch2() { timeout 300 bash "$launch" 2 -- "$bin" "$@"; }

# (CLI11 takes each option once: the runs add their own lengths.)
base=(train --data "$work/data" --device cpu --seed 5 --quiet
  --schedule 'CyclicLR(base_lr=0.001, max_lr=0.006, step_size_up=10, mode="triangular2", cycle_momentum=False)')
train=("${base[@]}" --iterations 20 --eval-every 5 --dist-timeout 30)

# 1. Two ranks train as one process does.
one=$("$bin" "${train[@]}" --out "$work/one" --checkpoint "$work/one.pt" |
  tail -n 1)
new_attempt
launch2 "${train[@]}" --out "$work/two" --checkpoint "$work/two.pt" \
  > "$work/two.out" 2>&1 || fail "2 ranks did not train: $(cat "$work/two.out")"
rank0=$(rank_lines 0 "$work/two.out" | tail -n 1)
rank1=$(rank_lines 1 "$work/two.out" | tail -n 1)
echo "1 process: $one"
echo "rank 0:    $rank0"
echo "rank 1:    $rank1"
[ -n "$(digest "$rank0")" ] && [ "$(digest "$rank0")" = "$(digest "$rank1")" ] ||
  fail "the two ranks' weights differ"
diff <(cut -d, -f1,2 "$work/one/log.csv") <(cut -d, -f1,2 "$work/two/log.csv") ||
  fail "the LR column of log.csv differs from one process's"
"$checkpoint_diff" "$work/one.pt" "$work/two.pt" "$RTOL" ||
  fail "2 ranks' weights are not one process's within $RTOL"
# The tolerance tells one training step apart.
"$bin" "${base[@]}" --iterations 19 --eval-every 19 \
  --checkpoint "$work/one19.pt" > /dev/null
if "$checkpoint_diff" "$work/one19.pt" "$work/two.pt" "$RTOL"; then
  fail "the tolerance does not tell 19 steps from 20"
fi
passed=$((passed + 1))

# 2. A 2-rank run killed (SIGKILL) once its first checkpoint is written
# resumes, on 2 ranks, to the uninterrupted run's weights and log.
new_attempt
pids=()
for rank in 0 1; do
  RANK=$rank WORLD_SIZE=2 "$bin" "${train[@]}" \
    --out "$work/part" --checkpoint "$work/part.pt" > /dev/null 2>&1 &
  pids+=("$!")
  started+=("$!")
done
while [ ! -f "$work/part.pt" ]; do
  kill -0 "${pids[0]}" 2>/dev/null || fail "rank 0 ended before its first checkpoint"
  sleep 0.02
done
kill -KILL "${pids[@]}"
for pid in "${pids[@]}"; do
  status=0
  wait "$pid" 2>/dev/null || status=$?
  [ "$status" -eq 137 ] || fail "a rank exited $status before the kill reached it"
done
new_attempt
resumed=$(launch2 "${train[@]}" --out "$work/part" --checkpoint "$work/part.pt" \
  --resume 2>&1 | sed -n 's/^\[rank 0\] //p' | tail -n 1)
[ "$(digest "$resumed")" = "$(digest "$rank0")" ] ||
  fail "the resumed 2-rank run differs: $resumed"
diff <(cut -d, -f1-5 "$work/two/log.csv") <(cut -d, -f1-5 "$work/part/log.csv") ||
  fail "the resumed 2-rank log differs"
passed=$((passed + 1))

# 3. A checkpoint of another world size is refused, saying why.
if "$bin" "${train[@]}" --checkpoint "$work/two.pt" --resume 2> "$work/err"; then
  fail "1 process resumed a checkpoint of 2"
fi
grep -qF "cannot resume from $work/two.pt: it was written by a job of WORLD_SIZE 2, this one has 1: each process computes its share of every batch" "$work/err" ||
  fail "unclear message: $(cat "$work/err")"
new_attempt
if launch2 "${train[@]}" --checkpoint "$work/one.pt" --resume > "$work/err" 2>&1; then
  fail "2 ranks resumed a checkpoint of 1"
fi
grep -qF "[rank 0] cifar10_clr: cannot resume from $work/one.pt: it was written by a job of WORLD_SIZE 1, this one has 2" "$work/err" ||
  fail "unclear message: $(cat "$work/err")"
passed=$((passed + 1))

# 4. One of two ranks killed mid-run (SIGKILL): the other exits non-zero at
# once, naming it, long before --dist-timeout (60 s; the check allows 30 s,
# which a loaded machine cannot use up: the report takes milliseconds).
survivor_reports() {
  local victim=$1 survivor=$2 expected=$3
  new_attempt
  rm -f "$work/long.pt"
  local -a pids=()
  for rank in 0 1; do
    RANK=$rank WORLD_SIZE=2 "$bin" "${base[@]}" \
      --iterations 100000 --eval-every 5 --dist-timeout 60 \
      --checkpoint "$work/long.pt" \
      > /dev/null 2> "$work/rank$rank.err" &
    pids+=("$!")
    started+=("$!")
  done
  while [ ! -f "$work/long.pt" ]; do
    kill -0 "${pids[0]}" 2>/dev/null || fail "rank 0 ended: $(cat "$work/rank0.err")"
    sleep 0.05
  done
  kill -KILL "${pids[$victim]}"
  local killed_at=$SECONDS
  while kill -0 "${pids[$survivor]}" 2>/dev/null; do
    [ $((SECONDS - killed_at)) -le 90 ] ||
      fail "rank $survivor still runs 90 s after rank $victim was killed"
    sleep 0.1
  done
  local elapsed=$((SECONDS - killed_at)) status=0
  wait "${pids[$survivor]}" 2>/dev/null || status=$?
  wait "${pids[$victim]}" 2>/dev/null || true
  echo "rank $victim killed: rank $survivor exited $status after ${elapsed}s:" \
    "$(tail -n 1 "$work/rank$survivor.err" | cut -c1-200)"
  [ "$status" -ne 0 ] || fail "rank $survivor exited 0"
  [ "$elapsed" -lt 30 ] ||
    fail "rank $survivor took ${elapsed}s to report a closed connection"
  grep -qF "$expected" "$work/rank$survivor.err" ||
    fail "rank $survivor said: $(cat "$work/rank$survivor.err")"
}
survivor_reports 1 0 \
  "failed on rank 0 of 2: the connection to rank 1 closed (exited or crashed)"
survivor_reports 0 1 \
  "failed on rank 1 of 2: the connection to rank 0 closed (exited or crashed)"
passed=$((passed + 1))

# 5. Bad job settings: a clear error before any training (no log written,
# well within the timeout). refuses EXPECTED [VAR=VALUE...] [-- FLAGS...]
refuses() {
  local expected=$1
  shift
  local -a variables=()
  while [ $# -gt 0 ] && [ "$1" != "--" ]; do
    variables+=("$1")
    shift
  done
  [ $# -eq 0 ] || shift
  rm -rf "$work/bad"
  if env "${variables[@]}" timeout 60 "$bin" "${train[@]}" --out "$work/bad" \
    "$@" > /dev/null 2> "$work/err"; then
    fail "accepted ${variables[*]} $*"
  fi
  grep -qF -- "$expected" "$work/err" ||
    fail "${variables[*]} $* said: $(cat "$work/err")"
  [ ! -e "$work/bad/log.csv" ] || fail "${variables[*]} $*: trained first"
}
refuses "WORLD_SIZE must be an integer, got 'two' (from the environment; --world-size overrides it)" \
  WORLD_SIZE=two
refuses "RANK must be in [0, WORLD_SIZE) = [0, 2), got 2" \
  WORLD_SIZE=2 RANK=2
refuses "--batch-size 100 is the global batch, split evenly over the processes: it must be a multiple of WORLD_SIZE 3" \
  RANK=0 -- --world-size 3
refuses "RANK must be 0 in a job of WORLD_SIZE 1, got 1" -- --rank 1
# Ranks started with other flags: each says which, before any training.
new_attempt
for rank in 0 1; do
  RANK=$rank WORLD_SIZE=2 timeout 60 "$bin" "${base[@]}" \
    --eval-every 5 --iterations $((20 + rank)) --out "$work/bad" \
    > /dev/null 2> "$work/rank$rank.err" &
  started+=("$!")
done
wait "${started[-1]}" "${started[-2]}" || true
grep -qF "the run's flags: rank 1 has iterations=21, rank 0 has iterations=20" \
  "$work/rank1.err" || fail "rank 1 said: $(cat "$work/rank1.err")"
grep -qF "the run's flags: rank(s) 1 differ from rank 0" "$work/rank0.err" ||
  fail "rank 0 said: $(cat "$work/rank0.err")"
[ ! -e "$work/bad/log.csv" ] || fail "ranks with other flags trained"
# A port in use: another program listens on it (rank 0 hosting the store).
python3 -c 'import socket, sys, time
s = socket.socket(); s.bind(("", 0)); s.listen()
print(s.getsockname()[1], flush=True); time.sleep(120)' > "$work/port" &
listener=$!
started+=("$listener")
while [ ! -s "$work/port" ]; do sleep 0.05; done
busy=$(cat "$work/port")
refuses "rank 0 could not host the rendezvous store on port $busy (MASTER_PORT; is it in use by another job?)" \
  WORLD_SIZE=2 RANK=0 MASTER_PORT="$busy" TORCHELASTIC_USE_AGENT_STORE=False
kill "$listener"
passed=$((passed + 1))

# 6. The range test on 2 ranks: both print the suggestions one process
# prints, and sweep its curve: the same LRs and stop, the smoothed loss within
# 2% (measured here: at most 1e-5 apart below lr 0.01, 0.9% at the point
# where the sweep diverges and stops, which amplifies the rounding).
range=(range-test --data "$work/data" --device cpu --seed 5 --quiet
  --num-iter 30 --start-lr 1e-4 --end-lr 0.05)
summary='stopped|paper rule|steepest|valley'
"$bin" "${range[@]}" --out "$work/rt1" > "$work/rt1.out"
new_attempt
launch2 "${range[@]}" --out "$work/rt2" > "$work/rt2.out" 2>&1 ||
  fail "2-rank range test: $(cat "$work/rt2.out")"
suggestions=$(grep -E "$summary" "$work/rt1.out")
echo "range test: $(tr -s ' \n' ' ' <<<"$suggestions")"
for rank in 0 1; do
  [ "$(rank_lines $rank "$work/rt2.out" | grep -E "$summary")" = "$suggestions" ] ||
    fail "rank $rank's suggestions differ: $(cat "$work/rt2.out")"
done
python3 - "$work/rt1/range_test.csv" "$work/rt2/range_test.csv" <<'EOF'
import csv, math, sys
one, two = (list(csv.DictReader(open(path))) for path in sys.argv[1:3])
if len(one) != len(two):
    sys.exit(f"FAIL: the curves have {len(one)} and {len(two)} points")
for a, b in zip(one, two):
    if a["lr"] != b["lr"] or not math.isclose(
            float(a["smoothed_loss"]), float(b["smoothed_loss"]), rel_tol=0.02):
        sys.exit(f"FAIL: iteration {a['iteration']}: lr {a['lr']} smoothed "
                 f"loss {a['smoothed_loss']} (1 process), lr {b['lr']} "
                 f"{b['smoothed_loss']} (2)")
EOF
passed=$((passed + 1))

echo "cifar10_clr_distributed_test: $passed passed, 0 failed"
