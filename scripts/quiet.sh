#!/usr/bin/env bash
# Runs a command with its output kept aside, printed (the last 80 lines) only
# if it fails: long builds inside CI stages.
#   scripts/quiet.sh COMMAND [ARGS ...]
set -uo pipefail
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
"$@" >"$log" 2>&1
status=$?
if [ "$status" -ne 0 ]; then
  tail -n 80 "$log" >&2
  echo "quiet.sh: '$*' failed with status $status" >&2
fi
exit "$status"
