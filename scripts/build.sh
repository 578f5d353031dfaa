#!/usr/bin/env bash
# Configures and builds torchclr (library, tests, examples, benchmarks) into
# ${BUILD_DIR:-build}, through ccache when it is installed
# (scripts/cache_dir.sh). Extra arguments go to the CMake configure step;
# TARGETS="a b" builds only those targets. Unity builds
# (cmake/torchclr_build.cmake: a dozen sources per compiler run) unless
# TORCHCLR_UNITY_BUILD=OFF.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/cache_dir.sh
use_ccache "$PWD"
build_dir=${BUILD_DIR:-build}
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=Release "${ccache_launcher[@]}" \
  -DTORCHCLR_UNITY_BUILD="${TORCHCLR_UNITY_BUILD:-ON}" "$@"
# shellcheck disable=SC2086 # TARGETS is a list
cmake --build "$build_dir" -j "$(nproc)" ${TARGETS:+--target $TARGETS}
