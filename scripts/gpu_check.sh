#!/usr/bin/env bash
# The CUDA check, for a GPU machine with no package registry (the project's
# lent H100/H200: CUDA, CMake, ninja and a pip PyTorch 2.x, nothing else).
#
#   bash scripts/gpu_check.sh prepare   # here, on Debian 12: downloads the
#                                       # build's other packages into .gpu_deps/
#   bash scripts/gpu_check.sh [out]     # there, with .gpu_deps/ carried along
#
# The second form unpacks the carried packages (fmt, CLI11, GoogleTest, zlib
# headers) into .gpu_deps/root, builds torchclr against the machine's pip
# PyTorch (LibTorch from `torch.utils.cmake_prefix_path`, CUDA on), runs the
# tests that need a GPU (names ending in _CUDA) and then the whole CTest
# suite while time is left, and measures training images/s on the GPU of
# cifar10_full and both ResNet-56s and the seconds of a Table 1 slice, on
# generated CIFAR-10 files. It writes out/gpu_check.md (or $OUT/gpu_check.md
# on the device tool) with the table and the logs beside it. Sized for 10
# minutes on one H200: TORCHCLR_GPU_CHECK_SECONDS (default 540) bounds the
# whole run; what did not fit is marked as skipped in the table.
# TORCHCLR_GPU_CHECK_DEVICE=cpu runs the same steps on a machine without a GPU
# (the script's own check: LibTorch from Debian's python3-torch, every _CUDA
# case then skips, which the table reports as a failure).
set -euo pipefail
cd "$(dirname "$0")/.."
deps=.gpu_deps
debs=(libfmt-dev libfmt9 libcli11-dev libgtest-dev libgmock-dev zlib1g-dev)

if [ "${1:-}" = prepare ]; then
  mkdir -p "$deps"
  (cd "$deps" && rm -f ./*.deb && apt-get download "${debs[@]}")
  echo "gpu_check: $(find "$deps" -name "*.deb" | wc -l) packages in $deps/; on the GPU" \
    "machine run 'bash scripts/gpu_check.sh' with $deps carried"
  exit 0
fi

out=${1:-${OUT:-out}}
mkdir -p "$out"
report="$out/gpu_check.md"
log="$out/gpu_check.log"
deadline=$((SECONDS + ${TORCHCLR_GPU_CHECK_SECONDS:-540}))
exec > >(tee "$log") 2>&1
left() { echo $((deadline - SECONDS)); }
step() { echo "== $* ($(left) s left)"; }

device=${TORCHCLR_GPU_CHECK_DEVICE:-cuda}
step "machine"
if [ "$device" = cuda ]; then
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
  gpu=$(nvidia-smi --query-gpu=name --format=csv,noheader | head -n 1)
  python3 -c 'import torch; assert torch.cuda.is_available(), "PyTorch sees no GPU"'
else
  gpu="no GPU ($(nproc --all) CPU cores, a dry run)"
fi
prefix=""
[ "$device" = cuda ] &&
  prefix=$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)')

step "packages"
ls "$deps"/*.deb >/dev/null 2>&1 ||
  { echo "no $deps/*.deb: run 'bash scripts/gpu_check.sh prepare' here first and carry $deps" >&2; exit 1; }
rm -rf "$deps/root"
for deb in "$deps"/*.deb; do dpkg-deb -x "$deb" "$deps/root"; done
root="$PWD/$deps/root"
export LD_LIBRARY_PATH="$root/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"

step "build"
build="build-gpu"
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
cmake -S . -B "$build" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$prefix;$root/usr" -DZLIB_ROOT="$root/usr" \
  -DTORCHCLR_BUILD_BENCH=OFF -DTORCHCLR_DISTRIBUTED=OFF \
  -DTORCHCLR_FAST_MALLOC=OFF -DTORCHCLR_UNITY_BUILD=ON \
  -DCMAKE_CUDA_ARCHITECTURES=native >"$out/configure.log" 2>&1 ||
  { tail -n 40 "$out/configure.log"; exit 1; }
build_start=$SECONDS
cmake --build "$build" -j "$(nproc --all)" >"$out/build.log" 2>&1 ||
  { grep -m 20 -A 5 "error" "$out/build.log"; exit 1; }
build_seconds=$((SECONDS - build_start))

step "CUDA tests"
# Every GoogleTest case whose name ends in _CUDA, binary by binary, so that a
# skip (the test saw no GPU) is counted as a failure, not passed over.
cuda_tests=passed
cases=0 skipped=0
: >"$out/cuda_cases.log"
while read -r bin; do
  "$bin" --gtest_filter='*_CUDA' >"$out/cases.tmp" 2>&1 || cuda_tests=failed
  # A case's own line ends in its time; the summary repeats the name alone.
  cases=$((cases + $(grep -c '^\[       OK \] .* ms)$' "$out/cases.tmp" || true)))
  skipped=$((skipped + $(grep -c '^\[  SKIPPED \] .* ms)$' "$out/cases.tmp" || true)))
  cat "$out/cases.tmp" >>"$out/cuda_cases.log"
done < <(find "$build" -type f -executable \( -name "*_test" -o -name "*_tests" \))
rm -f "$out/cases.tmp"
echo "CUDA cases: $cases passed, $skipped skipped"
[ "$skipped" -eq 0 ] || cuda_tests=failed

step "throughput"
data="$build/gpu_data"
python3 tests/examples/make_cifar10.py "$data" 10000 1000 >/dev/null
bin="$build/examples/cifar10/cifar10_clr"
rows=()
# Prints images/s of `iterations` training iterations of one model.
throughput() { # model batch iterations [flags...]
  local model=$1 batch=$2 iterations=$3 line seconds
  shift 3
  line=$("$bin" train --data "$data" --device "$device" --quiet --model "$model" \
    --batch-size "$batch" --iterations "$iterations" \
    --eval-every "$iterations" --test-limit 1000 "$@" | tail -n 1)
  seconds=$(sed -n 's/.*, \([0-9.]*\) s of training.*/\1/p' <<<"$line")
  python3 -c "print(f'{$iterations * $batch / $seconds:,.0f}')"
}
# A dry run on a CPU trains a 20th of the iterations (the script's own check).
scale=1
[ "$device" = cuda ] || scale=20
measure() { # label model batch iterations [flags...]
  local label=$1
  shift
  set -- "$1" "$2" $(($3 / scale > 2 ? $3 / scale : 2)) "${@:4}"
  if [ "$(left)" -lt 60 ]; then
    rows+=("| $label | skipped: out of time |")
    return
  fi
  rows+=("| $label | $(throughput "$@") |")
}
measure "cifar10_full, batch 100" cifar10_full 100 2000
measure "resnet56 (He et al.), batch 128" resnet56 128 300
measure "superconvergence_resnet56, batch 1000, ghost 125, flips" \
  superconvergence_resnet56 1000 40 --ghost-batch-size 125 --augment flip
table1="skipped: out of time"
table1_scale=$(python3 -c "print(0.1 / $scale)")
if [ "$(left)" -gt 120 ]; then
  start=$SECONDS
  "$bin" compare --data "$data" --device "$device" --quiet \
    --scale "$table1_scale" --policies fixed triangular2 \
    --out "$build/table1_slice" >/dev/null
  table1="$((SECONDS - start)) s"
  cp "$build/table1_slice/results.md" "$out/table1_slice.md"
fi

step "whole CTest suite"
suite="skipped: out of time"
if [ "$(left)" -gt 90 ]; then
  if (cd "$build" && timeout "$(($(left) - 30))" ctest -j 8 \
    --timeout 240 >"$out/ctest.log" 2>&1); then
    suite="passed"
  else
    suite="failed or cut off: $(grep -E 'tests passed|tests failed' "$out/ctest.log" || echo 'see ctest.log')"
  fi
  suite="$suite ($(grep -o '[0-9]* tests failed out of [0-9]*\|100% tests passed, 0 tests failed out of [0-9]*' "$out/ctest.log" || true))"
fi

{
  echo "# CUDA check, $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo
  if [ "$device" = cuda ]; then
    echo "$gpu; $(python3 -c 'import torch; print("PyTorch", torch.__version__, "CUDA", torch.version.cuda)')"
    echo "LibTorch from $prefix; build $build_seconds s on $(nproc --all) cores."
  else
    echo "$gpu; the system's LibTorch"
  fi
  echo
  echo "- tests that need a GPU (\`_CUDA\`): $cuda_tests ($cases cases, $skipped skipped)"
  echo "- whole CTest suite: $suite"
  echo "- Table 1 slice (\`compare --scale $table1_scale --policies fixed triangular2\`, generated data): $table1"
  echo
  echo "| training, generated 32x32 images | images/s |"
  echo "|---|---:|"
  printf '%s\n' "${rows[@]}"
  if [ -f "$out/table1_slice.md" ]; then
    echo
    grep '^|' "$out/table1_slice.md"
  fi
} >"$report"
cat "$report"
[ "$cuda_tests" = passed ]
