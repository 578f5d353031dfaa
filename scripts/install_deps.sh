#!/usr/bin/env bash
# Installs what torchclr needs on Debian 12. Idempotent: installs only the
# packages that are missing, so the test command can call it on every run.
set -euo pipefail

packages=(
  build-essential cmake ccache
  libtorch-dev libfmt-dev libgtest-dev libgmock-dev libbenchmark-dev
  libcli11-dev zlib1g-dev
  libgoogle-perftools-dev # tcmalloc: the examples train faster with it
  libjemalloc-dev # measured against tcmalloc by bench/train_throughput.sh
  libgloo-dev # the distributed (data-parallel) support
  time linux-perf # peak memory and profiles in bench/
  libopenblas0-pthread # LibTorch on Debian defaults to the reference BLAS
  gnuplot-nox python3-torch dataset-fashion-mnist
  clang libclang-rt-14-dev # libFuzzer and the sanitizer runtimes
  debootstrap # the LibTorch 2.x check's Debian 13 chroot
  doxygen # the API reference and its check (scripts/api_docs.sh)
)

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null |
    grep -q "install ok installed"; then
    missing+=("$package")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
echo "install_deps: installing ${missing[*]}"
$sudo apt-get update -q
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q \
  --no-install-recommends "${missing[@]}"
