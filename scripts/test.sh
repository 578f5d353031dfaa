#!/usr/bin/env bash
# The test command (CI runs it through .ci/run). Installs missing packages,
# then runs and times each stage:
#   release build   library, tests, examples, benchmarks (through ccache)
#   CTest           the whole suite, one test per process, per-test times
#                   (with the docs' check: every code fence on its own line)
#   fuzzers         both dataset parsers side by side, 60 s each
#   ASan + UBSan    every GoogleTest binary (the library's, the example's
#                   and its models': the fused layers' kernels, Caffe's
#                   BatchNorm), sharded into a few processes
#   LibTorch 2.x    build and the whole suite in a Debian 13 chroot, which is
#                   made (or checked, from the cache) in the background
#                   while the stages above run
# Every stage runs even when an earlier one fails. The end is a table of the
# stages and their times; the script fails if any stage failed, or if the
# LibTorch 2.x stage could not run here and TORCHCLR_REQUIRE_LIBTORCH2=1
# (.ci/run sets it).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/cache_dir.sh
started=$(date +%s)

names=()
results=()
durations=()
record() { # name, result, seconds
  names+=("$1")
  results+=("$2")
  durations+=("$3")
  printf '== %s: %s in %dm%02ds\n' "$1" "$2" $(($3 / 60)) $(($3 % 60))
}
stage() { # name, command...
  local name="$1" begin status=0
  shift
  echo "== $name"
  begin=$(date +%s)
  "$@" || status=$?
  case $status in
    0) record "$name" passed $(($(date +%s) - begin)) ;;
    77) record "$name" "could not run" $(($(date +%s) - begin)) ;;
    *) record "$name" FAILED $(($(date +%s) - begin)) ;;
  esac
}

stage "packages" bash scripts/install_deps.sh

# The chroot is network and disk work: it overlaps the compiling below.
chroot_log="$(mktemp)"
chroot_done="$(mktemp)" # "status end-time" once ready
trap 'rm -f "$chroot_log" "$chroot_done"' EXIT
chroot_begin=$(date +%s)
(
  status=0
  bash scripts/test_libtorch2.sh prepare >"$chroot_log" 2>&1 || status=$?
  echo "$status $(date +%s)" >"$chroot_done"
) &
chroot_pid=$!

release_build() { bash scripts/build.sh; }
release_ctest() { bash scripts/run_ctest.sh build; }
# -O1 -g1: AddressSanitizer's advice (its reports keep line numbers), and
# cheaper to compile than -O2 -g.
sanitized() {
  BUILD_DIR=build-asan \
    TARGETS=unit_tests \
    bash scripts/quiet.sh bash scripts/build.sh -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1 -DNDEBUG" -DTORCHCLR_SANITIZE=ON \
    -DTORCHCLR_BUILD_BENCH=OFF -DTORCHCLR_INSTALL=OFF -DTORCHCLR_TEST_SHARDS=4 &&
    ASAN_OPTIONS=detect_leaks=0 UBSAN_OPTIONS=print_stacktrace=1 \
      bash scripts/run_ctest.sh build-asan -L unit
}
libtorch2() {
  local status end
  wait "$chroot_pid" || true
  read -r status end <"$chroot_done" || { status=1; end=$(date +%s); }
  record "  (chroot, in the background)" \
    "$([ "$status" = 0 ] && echo ready || echo "not ready ($status)")" \
    $((end - chroot_begin))
  cat "$chroot_log"
  [ "$status" = 0 ] || return "$status"
  bash scripts/test_libtorch2.sh
}

stage "release build" release_build
stage "CTest (LibTorch 1.13)" release_ctest
stage "fuzzers (60 s each, side by side)" bash scripts/run_fuzzers.sh 60
stage "ASan + UBSan unit tests" sanitized
stage "LibTorch 2.x build and CTest" libtorch2

echo
echo "stage                                    result          time"
status=0
for i in "${!names[@]}"; do
  printf '%-40s %-15s %3dm%02ds\n' "${names[$i]}" "${results[$i]}" \
    $((durations[i] / 60)) $((durations[i] % 60))
  case "${results[$i]}" in
    FAILED) status=1 ;;
    "could not run") [ "${TORCHCLR_REQUIRE_LIBTORCH2:-0}" = 1 ] && status=1 ;;
  esac
done
total=$(($(date +%s) - started))
printf '%-40s %-15s %3dm%02ds\n' "total" "" $((total / 60)) $((total % 60))
if [ "$status" -ne 0 ]; then
  echo "FAILED or could not run: see the table above" >&2
  exit 1
fi
if printf '%s\n' "${results[@]}" | grep -qx "could not run"; then
  echo "passed, except stages that could not run on this machine (above)"
else
  echo "all stages passed"
fi
