#!/usr/bin/env bash
# Runs a build directory's CTest suite as CI does: two tests at a time, each
# on one LibTorch thread (the machine has two cores), and keeps the per-test
# times in BUILD_DIR/ctest-times.txt (seconds, result, name; slowest first),
# of which it prints the ten slowest. Extra arguments go to ctest.
#
#   scripts/run_ctest.sh BUILD_DIR [CTEST ARGS ...]
set -euo pipefail
build="$1"
shift
export OMP_NUM_THREADS=1
status=0
(cd "$build" && ctest --output-on-failure -j 2 "$@") >"$build/ctest.log" 2>&1 ||
  status=$?
cat "$build/ctest.log"
# "  12/351 Test  #40: Name ......   Passed    0.52 sec"
awk 'match($0, /^ *[0-9]+\/[0-9]+ +Test +#[0-9]+: /) {
       name = substr($0, RLENGTH + 1); sub(/ \.+ *(\*\*\*)?[A-Za-z]+.*$/, "", name)
       result = $(NF - 2); sub(/^.*\*\*\*/, "", result)
       printf "%8.2f  %-8s %s\n", $(NF - 1), result, name }' \
  "$build/ctest.log" | sort -rn >"$build/ctest-times.txt"
echo "-- ten slowest of $(wc -l <"$build/ctest-times.txt") tests (s, result, name;" \
  "all in $build/ctest-times.txt):"
head -n 10 "$build/ctest-times.txt"
exit "$status"
