#!/usr/bin/env bash
# Builds the libFuzzer targets in fuzz/ (clang, AddressSanitizer + UBSan) and
# runs both side by side for SECONDS seconds (default 60) from a small seed
# corpus written here. Exits non-zero if either target finds a crash; the
# crashing input is kept under the build directory's artifacts/ folder.
#
#   scripts/run_fuzzers.sh [SECONDS]
#   TORCHCLR_FUZZ_BUILD_DIR=/tmp/fuzz scripts/run_fuzzers.sh 20
set -euo pipefail

seconds="${1:-60}"
if ! [[ "$seconds" =~ ^[0-9]+$ ]] || [ "$seconds" -eq 0 ]; then
  echo "usage: $0 [SECONDS > 0]" >&2
  exit 2
fi
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${TORCHCLR_FUZZ_BUILD_DIR:-$repo/build-fuzz}"
source "$repo/scripts/cache_dir.sh"
use_ccache "$repo"

cmake -S "$repo/fuzz" -B "$build" -DCMAKE_CXX_COMPILER=clang++ \
  "${ccache_launcher[@]}" >/dev/null
cmake --build "$build" -j2

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# One raw byte of value $1.
byte() {
  local octal
  printf -v octal '%03o' "$(($1 & 255))"
  printf "\\$octal"
}
# A big-endian uint32.
u32() {
  byte $(($1 >> 24)); byte $(($1 >> 16)); byte $(($1 >> 8)); byte "$1"
}
# $1 bytes counting up from 0, mod 256.
ramp() {
  local i
  for ((i = 0; i < $1; ++i)); do byte "$i"; done
}

# CIFAR seeds: a layout byte (0: CIFAR-10, 1: CIFAR-100), then records.
mkdir -p "$work/cifar" "$work/idx"
pixels="$work/pixels"
ramp 3072 >"$pixels"
{ printf '\000\003'; cat "$pixels"; } >"$work/cifar/cifar10-one"
{ printf '\000\011'; cat "$pixels"; printf '\000'; cat "$pixels"; } \
  >"$work/cifar/cifar10-two"
{ printf '\001\023\143'; cat "$pixels"; } >"$work/cifar/cifar100-one"

# IDX seeds: a byte choosing images (0), labels (1) or both (2), then files.
images="$work/images"
labels="$work/labels"
{ u32 0x803; u32 3; u32 4; u32 2; ramp 24; } >"$images"
{ u32 0x801; u32 3; printf '\007\000\011'; } >"$labels"
{ printf '\000'; cat "$images"; } >"$work/idx/images"
{ printf '\001'; cat "$labels"; } >"$work/idx/labels"
{ printf '\000'; gzip -9 -c "$images"; } >"$work/idx/images-gz"
{ printf '\001'; gzip -9 -c "$labels"; } >"$work/idx/labels-gz"
split=$(stat -c %s "$images")
{ printf '\002'; byte "$split"; byte $((split >> 8)); cat "$images" "$labels"; } \
  >"$work/idx/pair"
# No images, each too big for a tensor's int64_t strides (a past crash).
{ printf '\000'; u32 0x803; u32 0; u32 0xdc10bc01; u32 0xb0600000; } \
  >"$work/idx/huge-empty"
gzip -c "$images" >"$work/images.gz"
split=$(stat -c %s "$work/images.gz")
{ printf '\002'; byte "$split"; byte $((split >> 8)); cat "$work/images.gz"; gzip -c "$labels"; } \
  >"$work/idx/pair-gz"

mkdir -p "$build/artifacts"
fuzz() {
  local target="$1"
  "$build/${target}_fuzz" "$work/$target" \
    -max_total_time="$seconds" -max_len=8192 -timeout=10 \
    -rss_limit_mb=4096 -print_final_stats=1 \
    -artifact_prefix="$build/artifacts/${target}-" 2>"$work/$target.log"
}
echo "== cifar_fuzz and idx_fuzz side by side for ${seconds}s"
targets=(cifar idx)
pids=()
for target in "${targets[@]}"; do
  fuzz "$target" &
  pids+=($!)
done
status=0
for i in "${!targets[@]}"; do
  target="${targets[$i]}"
  if ! wait "${pids[$i]}"; then
    status=1
    tail -n 40 "$work/$target.log" >&2
    echo "${target}_fuzz: CRASH, input kept under $build/artifacts/" >&2
  else
    grep -E '^(Done|stat::number_of_executed_units|stat::peak_rss_mb)' \
      "$work/$target.log" || true
    echo "${target}_fuzz: no crash"
  fi
done
exit "$status"
