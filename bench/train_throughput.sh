#!/usr/bin/env bash
# Training images per second: cifar10_clr (LibTorch, as built: tcmalloc linked
# by default) against the same loop in PyTorch (Python, Debian's
# python3-torch) with its defaults and with the same allocator preloaded; same
# network, batch 100, threads and data (a generated 50,000-image CIFAR-10
# split in the official layout). Alternating repetitions; median and range of
# images/s, peak resident memory (/usr/bin/time -v), and GFLOP/s against the
# machine's FP32 peak. Prints a markdown table. Run by hand, never as a test.
# Same arithmetic, not the same kernels: cifar10_clr runs the LRNs and
# max pool + ReLU as fused CPU kernels and fc as a oneDNN convolution
# (examples/models/fused_layers.h); PyTorch runs them as its usual ops.
#   bash bench/train_throughput.sh [build dir] [iterations] [repetitions]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
iterations=${2:-300}
repetitions=${3:-5}
threads=$(nproc)
bin="$build/examples/cifar10/cifar10_clr"
[ -x "$bin" ] || { echo "no $bin: build the cifar10_clr target first" >&2; exit 1; }
tcmalloc=$(ldconfig -p | sed -n 's/.*libtcmalloc_minimal.so.4 .*=> //p' | head -n 1)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 tests/examples/make_cifar10.py "$work/data" 10000 100

# Prints "images/s peak_kB" of one run.
ours() {
  local line
  line=$(OMP_NUM_THREADS=$threads /usr/bin/time -o "$work/time" -f "%M" \
    "$bin" train --data "$work/data" --device cpu --quiet \
    --iterations "$iterations" --eval-every "$iterations" --test-limit 100 |
    tail -n 1)
  local seconds data_share
  seconds=$(sed -n 's/.*, \([0-9.]*\) s of training.*/\1/p' <<<"$line")
  data_share=$(sed -n 's/.*(data pipeline \([0-9.]*\)%).*/\1/p' <<<"$line")
  echo "$data_share" >> "$work/data_share"
  echo "$(python3 -c "print($iterations * 100 / $seconds)") $(tail -n 1 "$work/time")"
}
pytorch() {
  local line
  line=$(env "$@" /usr/bin/time -o "$work/time" -f "%M" \
    /usr/bin/python3 bench/pytorch_cifar10_full.py "$work/data" \
    "$iterations" "$threads")
  echo "$(awk '{print $2}' <<<"$line") $(tail -n 1 "$work/time")"
}

: > "$work/runs"
for rep in $(seq "$repetitions"); do
  echo "repetition $rep of $repetitions" >&2
  echo "ours $(ours)" >> "$work/runs"
  echo "pytorch $(pytorch)" >> "$work/runs"
  if [ -n "$tcmalloc" ]; then
    echo "pytorch_tcmalloc $(pytorch LD_PRELOAD="$tcmalloc")" >> "$work/runs"
  fi
done

# FP32 peak: threads x clock x FLOP/cycle, from the widest vector unit the
# CPU reports (AVX-512: 16 floats, AVX2: 8, else SSE: 4) x 2 (a fused
# multiply-add) x 2 FMA pipes (an upper bound: some AVX-512 parts have one).
# And what the machine really sustains: the SGEMM rate of LibTorch's own BLAS
# (a 2048 x 2048 float matmul, Debian's python3-torch, same threads).
mhz=$(awk -F: '/^cpu MHz/ {print $2; exit}' /proc/cpuinfo)
model=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
flags=$(awk -F': ' '/^flags/ {print $2; exit}' /proc/cpuinfo)
if grep -qw avx512f <<<"$flags"; then vector="AVX-512 16"
elif grep -qw avx2 <<<"$flags" && grep -qw fma <<<"$flags"; then vector="AVX2 8"
else vector="SSE 4"; fi
sgemm=$(/usr/bin/python3 - "$threads" <<'EOF'
import sys, time, torch
torch.set_num_threads(int(sys.argv[1]))
a, b = torch.randn(2048, 2048), torch.randn(2048, 2048)
for _ in range(3):
    a @ b
best = 0.0
for _ in range(10):
    start = time.perf_counter()
    a @ b
    best = max(best, 2 * 2048**3 / (time.perf_counter() - start) / 1e9)
print(f"{best:.1f}")
EOF
)
python3 - "$work/runs" "$work/data_share" "$threads" "$mhz" "$model" "$iterations" "$(date -u +%F)" "$vector" "$sgemm" <<'EOF'
import statistics
import sys

(runs_file, data_share_file, threads, mhz, model, iterations, date, vector,
 sgemm) = sys.argv[1:]
threads, mhz, sgemm = int(threads), float(mhz), float(sgemm)
vector_name, vector_floats = vector.split()
flop_per_cycle = 2 * 2 * int(vector_floats)
# cifar10_full's multiply-adds per 3x32x32 image (conv/fc only; pooling, LRN,
# ReLU and the loss are elementwise and small): out_h*out_w*out_c*in_c*k*k.
macs = {"conv1": 32 * 32 * 32 * 3 * 25, "conv2": 16 * 16 * 32 * 32 * 25,
        "conv3": 8 * 8 * 64 * 32 * 25, "fc": 64 * 4 * 4 * 10}
total = sum(macs.values())
# Training: forward (1x), weight gradients (1x), input gradients (1x, none for
# conv1, whose input needs none); 2 FLOPs per multiply-add.
flops_per_image = 2 * (3 * total - macs["conv1"])
peak = threads * mhz / 1000 * flop_per_cycle
runs = {}
for line in open(runs_file):
    name, ips, kb = line.split()
    runs.setdefault(name, []).append((float(ips), int(kb)))
labels = {"ours": "cifar10_clr (LibTorch, tcmalloc linked)",
          "pytorch": "PyTorch (Python), defaults",
          "pytorch_tcmalloc": "PyTorch (Python), tcmalloc preloaded"}
base = statistics.median(ips for ips, _ in runs["pytorch"])
print(f"\n{date}, {model}, {threads} threads, {iterations} iterations of "
      f"batch 100 on a 50,000-image split, {len(runs['ours'])} alternating "
      f"repetitions\n")
print("| program | images/s (median) | range | vs PyTorch default "
      "| peak RSS (MB) | GFLOP/s | % of SGEMM rate | % of FP32 peak |")
print("|---|---|---|---|---|---|---|---|")
for name in ("ours", "pytorch", "pytorch_tcmalloc"):
    if name not in runs:
        continue
    ips = [i for i, _ in runs[name]]
    median = statistics.median(ips)
    rss = statistics.median(kb for _, kb in runs[name]) / 1024
    gflops = median * flops_per_image / 1e9
    print(f"| {labels[name]} | {median:.0f} | {min(ips):.0f}-{max(ips):.0f} "
          f"| {median / base:.2f}x | {rss:.0f} | {gflops:.1f} "
          f"| {100 * gflops / sgemm:.0f}% | {100 * gflops / peak:.0f}% |")
shares = [float(line) for line in open(data_share_file)]
print(f"\ncifar10_clr's data pipeline (cutting batches out of the split): "
      f"median {statistics.median(shares):.1f}% of its training time "
      f"(range {min(shares):.1f}-{max(shares):.1f}%).")
print(f"FLOPs per training image: {flops_per_image / 1e6:.1f} M (conv and "
      f"fc multiply-adds x2, forward + weight gradients + input gradients "
      f"except conv1's). FP32 peak: {threads} cores x {mhz / 1000:.2f} GHz x "
      f"{flop_per_cycle} FLOP/cycle ({vector_name}: {vector_floats} floats, "
      f"FMA, 2 pipes assumed) = {peak:.0f} GFLOP/s; measured SGEMM "
      f"(2048 x 2048 matmul, LibTorch's BLAS, {threads} threads): "
      f"{sgemm:.0f} GFLOP/s.")
EOF
