#!/usr/bin/env bash
# Renders every policy's schedule, as printed by clr_schedule, to one PNG per
# policy with gnuplot. Used for the README's plots:
#   bash scripts/plot_schedules.sh [build dir] [output dir]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
out=${2:-docs/img}
bin=$build/examples/clr_schedule/clr_schedule
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# name | title | momentum plotted? | clr_schedule flags (12,000 steps; each
# schedule text without spaces, as the flags are split on them)
while IFS='|' read -r name title momentum flags; do
  if [ "$momentum" = yes ]; then
    extra='set y2label "momentum"; set y2tics; set ytics nomirror'
    series=', "" using 1:3 with lines lw 1 dt 2 lc rgb "#d62728" axes x1y2'
  else
    extra=''
    series=''
  fi
  # shellcheck disable=SC2086
  "$bin" --steps 12000 --every 20 $flags --out "$tmp/$name.csv"
  gnuplot <<GNUPLOT
set terminal pngcairo size 640,300 font "DejaVu Sans,10" noenhanced
set output "$out/.$name.png.tmp"
set datafile separator ","
set title "$title"
set xlabel "iteration"
set ylabel "learning rate"
$extra
set key off
set grid
plot "$tmp/$name.csv" using 1:2 with lines lw 2 lc rgb "#1f77b4" axes x1y1 $series
GNUPLOT
  mv "$out/.$name.png.tmp" "$out/$name.png"  # same folder: an atomic rename
done <<'POLICIES'
triangular|triangular: 0.001-0.006, step 2000 (dashed: momentum)|yes|--schedule CyclicLR(base_lr=0.001,max_lr=0.006,step_size_up=2000)
triangular2|triangular2: amplitude halves every cycle|no|--schedule CyclicLR(base_lr=0.001,max_lr=0.006,step_size_up=2000,mode="triangular2",cycle_momentum=False)
exp_range|exp_range: gamma 0.99994 per iteration|no|--schedule CyclicLR(base_lr=0.001,max_lr=0.006,step_size_up=2000,mode="exp_range",gamma=0.99994,cycle_momentum=False)
sine|triangular with the sine (Hann) waveform|no|--schedule CyclicLR(base_lr=0.001,max_lr=0.006,step_size_up=2000,waveform="sine",cycle_momentum=False)
parabolic|triangular with the parabolic (Welch) waveform|no|--schedule CyclicLR(base_lr=0.001,max_lr=0.006,step_size_up=2000,waveform="parabolic",cycle_momentum=False)
one_cycle|one_cycle: max_lr 0.006, pct_start 0.3, cos (dashed: momentum)|yes|--schedule OneCycleLR(max_lr=0.006,total_steps=12000)
cosine_restarts|cosine_restarts: T_0 2000, T_mult 2, lr 0.006|no|--lr 0.006 --schedule CosineAnnealingWarmRestarts(T_0=2000,T_mult=2)
fixed|fixed (Caffe multistep): 0.001, /10 at 6000 and 9000|no|--schedule MultiStepLR(milestones=[6000,9000])
exp|exp: 0.001 * 0.9998^t|no|--schedule ExponentialLR(gamma=0.9998)
decay|decay: 0.007 to 0.001 over 4000 iterations, then held|no|--lr 0.007 --schedule LinearLR(start_factor=1,end_factor=0.14285714285714285,total_iters=4000)
step|step (StepLR): 0.006, /2 every 3000|no|--lr 0.006 --schedule StepLR(step_size=3000,gamma=0.5)
constant|constant (ConstantLR): 0.006 x 1/3 until 4000|no|--lr 0.006 --schedule ConstantLR(total_iters=4000)
polynomial|polynomial (PolynomialLR): 0.006 to 0 over 10000, power 2|no|--lr 0.006 --schedule PolynomialLR(total_iters=10000,power=2)
cosine|cosine (CosineAnnealingLR): 0.006, T_max 10000|no|--lr 0.006 --schedule CosineAnnealingLR(T_max=10000)
cosine_restarts_decay|SGDR: T_0 2000, peak x0.7 per restart, 4 cycles|no|--lr 0.006 --schedule CosineAnnealingWarmRestarts(T_0=2000,cycle_decay=0.7,cycle_limit=4)
warmup_cosine|cosine after a 1000-step warm-up (SequentialLR)|no|--lr 0.006 --schedule SequentialLR([LinearLR(start_factor=0.1,total_iters=1000),CosineAnnealingLR(T_max=11000)],milestones=[1000])
POLICIES
echo "plot_schedules: wrote $(ls "$out" | wc -l) plots to $out"
