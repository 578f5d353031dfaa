#!/usr/bin/env bash
# Starts N local processes of one program the way torchrun does: each with
# RANK (0..N-1), WORLD_SIZE=N, MASTER_ADDR=127.0.0.1 and MASTER_PORT set
# (LOCAL_RANK too), one OpenMP/LibTorch thread each unless OMP_NUM_THREADS is
# set. When one process fails, the others are killed; the exit status is the
# first failure's (0 when all succeed). Each rank's output is prefixed.
#
#   scripts/launch_local.sh 2 -- build/examples/cifar10/cifar10_clr train ...
#   MASTER_PORT=29600 scripts/launch_local.sh 4 -- ./my_program --flag
set -euo pipefail

usage() {
  echo "usage: $0 N -- program [args...]   (N >= 1)" >&2
  exit 2
}
[ $# -ge 3 ] && [ "$2" = "--" ] || usage
world_size="$1"
[[ "$world_size" =~ ^[1-9][0-9]*$ ]] || usage
shift 2

export WORLD_SIZE="$world_size"
export MASTER_ADDR="${MASTER_ADDR:-127.0.0.1}"
if [ -z "${MASTER_PORT:-}" ]; then
  # A port nothing listens on now (the kernel's pick).
  MASTER_PORT="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
fi
export MASTER_PORT
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"

pids=()
cleanup() {
  for pid in "${running[@]:-}"; do
    kill "$pid" 2>/dev/null || true
  done
}
running=()
trap 'cleanup; exit 130' INT TERM

for ((rank = 0; rank < world_size; ++rank)); do
  (
    export RANK="$rank" LOCAL_RANK="$rank"
    exec "$@" > >(sed -u "s/^/[rank $rank] /") 2> >(sed -u "s/^/[rank $rank] /" >&2)
  ) &
  pids+=("$!")
  running+=("$!")
done
echo "launch_local: $world_size processes, MASTER_ADDR=$MASTER_ADDR MASTER_PORT=$MASTER_PORT: ${pids[*]}" >&2

status=0

while [ "${#running[@]}" -gt 0 ]; do
  finished=""
  wait -n -p finished "${running[@]}" && code=0 || code=$?
  still=()
  for pid in "${running[@]}"; do
    [ "$pid" = "$finished" ] || still+=("$pid")
  done
  running=("${still[@]}")
  if [ "$code" -ne 0 ] && [ "$status" -eq 0 ]; then
    status=$code
    echo "launch_local: process $finished failed with status $code; stopping the others" >&2
    cleanup
  fi
done
exit "$status"
