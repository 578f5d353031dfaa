#!/usr/bin/env bash
# The test command: installs missing packages, builds, runs the whole CTest
# suite, fuzzes the dataset parsers for a minute each, runs the unit tests
# again under AddressSanitizer + UBSan, then builds and tests against
# LibTorch 2.x in a Debian 13 chroot. Every stage runs even when an earlier
# one fails; the script fails if any did and names them.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install_deps.sh
bash scripts/build.sh

failed=()
stage() {
  local name="$1"
  shift
  echo "== $name"
  "$@" || failed+=("$name")
}

ctest_release() {
  (cd build && ctest --output-on-failure -j 2)
}

# A separate build of the library and unit tests only. LibTorch itself is not
# instrumented; its one-time allocations look like leaks to LeakSanitizer, so
# leak checking is off.
ctest_sanitized() {
  BUILD_DIR=build-asan bash scripts/build.sh -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DTORCHCLR_SANITIZE=ON -DTORCHCLR_BUILD_EXAMPLES=OFF \
    -DTORCHCLR_BUILD_BENCH=OFF -DTORCHCLR_INSTALL=OFF &&
    (cd build-asan &&
      ASAN_OPTIONS=detect_leaks=0 UBSAN_OPTIONS=print_stacktrace=1 \
        ctest --output-on-failure -j 2)
}

stage "CTest" ctest_release
stage "fuzzers (60 s each)" bash scripts/run_fuzzers.sh 60
stage "ASan + UBSan unit tests" ctest_sanitized
stage "LibTorch 2.x build and CTest" bash scripts/test_libtorch2.sh

if [ "${#failed[@]}" -gt 0 ]; then
  printf 'FAILED: %s\n' "${failed[@]}" >&2
  exit 1
fi
echo "all stages passed"
