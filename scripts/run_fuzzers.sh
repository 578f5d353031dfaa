#!/usr/bin/env bash
# Builds the libFuzzer targets in fuzz/ (clang, AddressSanitizer + UBSan) and
# runs them side by side for SECONDS seconds (default 60) from a small seed
# corpus written here. Exits non-zero if any target finds a crash; the
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

# Schedule text seeds: one text a file, every scheduler, a composite of each
# kind, comments, positional arguments and the lambdas the target registers.
mkdir -p "$work/scheduler_text"
seed=0
while IFS= read -r text; do
  printf '%s\n' "$text" >"$work/scheduler_text/seed-$((seed += 1))"
done <<'TEXTS'
CyclicLR(base_lr=[0.001, 0.002], max_lr=0.006, step_size_up=20, step_size_down=None, mode="exp_range", gamma=0.99, waveform='sine', base_momentum=0.8, max_momentum=[0.9, 0.95])
CyclicLR(0.001, 0.01, mode="exp_range_paper", gamma=0.5, cycle_momentum=False)
OneCycleLR(max_lr=0.1, total_steps=30, pct_start=0.25, anneal_strategy="linear", div_factor=25, final_div_factor=1e4, three_phase=True)
SequentialLR([LinearLR(start_factor=0.1, end_factor=1.0, total_iters=5), CosineAnnealingLR(T_max=20, eta_min=0)], milestones=[5])
ChainedScheduler([ExponentialLR(0.9), StepLR(3, gamma=0.5), MultiplicativeLR(lr_lambda="half")])
ReduceLROnPlateau(mode='max', factor=0.5, patience=2, threshold=1e-3, threshold_mode="abs", cooldown=1, min_lr=[0.001, 0], eps=1e-8)
CosineAnnealingWarmRestarts(T_0=3, T_mult=2, eta_min=1e-4, cycle_decay=0.5, cycle_limit=4)
LambdaLR(lr_lambda=["inverse", "grow"])  # one function per group
MultiStepLR(milestones=[2, 5, 5], gamma=0.1)
PolynomialLR(total_iters=10, power=2.0)
ConstantLR(factor=0.5, total_iters=3)
SequentialLR([CyclicLR(0.001, 0.01, step_size_up=4), SWALR(swa_lr=[0.05, 0.02], anneal_epochs=3, anneal_strategy="linear")], milestones=[8])
TEXTS
printf '# warm-up, then decay\nSequentialLR(\n  schedulers=[ConstantLR(factor=0.25),\n              StepLR(step_size=2)],\n  milestones=[4])\n' \
  >"$work/scheduler_text/seed-file"
# An LR that overflows to inf at step 2 (a past finding: now a c10::Error).
printf 'SequentialLR([StepLR(1, 1e308), ExponentialLR(1e308)], milestones=[1])' \
  >"$work/scheduler_text/overflow"

mkdir -p "$build/artifacts"
fuzz() {
  local target="$1"
  "$build/${target}_fuzz" "$work/$target" \
    -max_total_time="$seconds" -max_len=8192 -timeout=10 \
    -rss_limit_mb=4096 -print_final_stats=1 \
    -artifact_prefix="$build/artifacts/${target}-" 2>"$work/$target.log"
}
echo "== cifar_fuzz, idx_fuzz and scheduler_text_fuzz side by side for ${seconds}s"
targets=(cifar idx scheduler_text)
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
