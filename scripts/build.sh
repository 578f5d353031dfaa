#!/usr/bin/env bash
# Configures and builds torchclr (library, tests, examples, benchmarks) into
# ${BUILD_DIR:-build}. Extra arguments go to the CMake configure step.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${BUILD_DIR:-build}
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=Release "$@"
cmake --build "$build_dir" -j "$(nproc)"
