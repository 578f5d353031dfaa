#!/usr/bin/env bash
# What the allocator costs cifar10_clr: minor page faults and CPU time of the
# same training run (generated 50,000-image CIFAR-10 split, batch 100) under
# glibc's malloc, glibc with high mmap/trim thresholds, jemalloc preloaded
# (Debian's defaults) and tcmalloc (as the examples link it). Prints a
# markdown table, one run each in that order, repeated. Run by hand.
#   bash bench/malloc_faults.sh TCMALLOC_BIN GLIBC_BIN [iterations] [repetitions]
# TCMALLOC_BIN: build/examples/cifar10/cifar10_clr (TORCHCLR_FAST_MALLOC=ON,
# the default); GLIBC_BIN: the same program built with
# -DTORCHCLR_FAST_MALLOC=OFF.
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 2 ] || { sed -n 7p "$0" >&2; exit 2; }
tcmalloc_bin=$1 glibc_bin=$2 iterations=${3:-150} repetitions=${4:-2}
ldd "$glibc_bin" | grep -q tcmalloc &&
  { echo "$glibc_bin links tcmalloc: build it with TORCHCLR_FAST_MALLOC=OFF" >&2; exit 2; }
jemalloc=$(ldconfig -p | sed -n 's/.*libjemalloc.so.2 .*=> //p' | head -n 1)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 tests/examples/make_cifar10.py "$work/data" 10000 100

run() { # label, program, environment assignments...
  local label=$1 bin=$2
  shift 2
  env "$@" /usr/bin/time -f $'minor=%R\nuser=%U\nsys=%S\nwall=%e' \
    -o "$work/time" "$bin" train --data "$work/data" --device cpu --quiet \
    --iterations "$iterations" --eval-every "$iterations" --test-limit 100 \
    >/dev/null </dev/null
  echo "| $label | $(sed -n 's/^minor=//p' "$work/time") |" \
    "$(sed -n 's/^user=//p' "$work/time") | $(sed -n 's/^sys=//p' "$work/time") |" \
    "$(sed -n 's/^wall=//p' "$work/time") |"
}

echo "| allocator | minor page faults | user s | system s | wall s |"
echo "|---|---:|---:|---:|---:|"
for _ in $(seq "$repetitions"); do
  run "glibc malloc" "$glibc_bin"
  run "glibc, mmap threshold 32 MiB (its maximum), trim 1 GiB" "$glibc_bin" \
    GLIBC_TUNABLES=glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=1073741824
  [ -n "$jemalloc" ] && run "jemalloc preloaded" "$glibc_bin" LD_PRELOAD="$jemalloc"
  run "tcmalloc linked (the examples' default)" "$tcmalloc_bin"
done
