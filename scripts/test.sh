#!/usr/bin/env bash
# The test command: installs missing packages, builds, runs the whole CTest
# suite, fuzzes the dataset parsers for a minute each, then runs the unit
# tests again under AddressSanitizer + UBSan.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install_deps.sh
bash scripts/build.sh
(cd build && ctest --output-on-failure -j 2)

# The dataset parsers under libFuzzer, a minute each.
bash scripts/run_fuzzers.sh 60

# Sanitizers: a separate build of the library and unit tests only.
BUILD_DIR=build-asan bash scripts/build.sh -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DTORCHCLR_SANITIZE=ON -DTORCHCLR_BUILD_EXAMPLES=OFF \
  -DTORCHCLR_BUILD_BENCH=OFF -DTORCHCLR_INSTALL=OFF
# LibTorch itself is not instrumented; its one-time allocations look like
# leaks to LeakSanitizer, so leak checking is off.
(cd build-asan &&
  ASAN_OPTIONS=detect_leaks=0 UBSAN_OPTIONS=print_stacktrace=1 \
    ctest --output-on-failure -j 2)
