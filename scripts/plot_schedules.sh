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

# name | title | momentum plotted? | clr_schedule flags (12,000 steps)
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
triangular|triangular: 0.001-0.006, step 2000 (dashed: momentum)|yes|--policy triangular --cycle-momentum
triangular2|triangular2: amplitude halves every cycle|no|--policy triangular2
exp_range|exp_range: gamma 0.99994 per iteration|no|--policy exp_range
sine|triangular with the sine (Hann) waveform|no|--policy triangular --waveform sine
parabolic|triangular with the parabolic (Welch) waveform|no|--policy triangular --waveform parabolic
one_cycle|one_cycle: max_lr 0.006, pct_start 0.3, cos (dashed: momentum)|yes|--policy one_cycle --max-momentum 0.95 --base-momentum 0.85
cosine_restarts|cosine_restarts: T_0 2000, T_mult 2, lr 0.006|no|--policy cosine_restarts --lr 0.006 --T-0 2000 --T-mult 2
fixed|fixed (Caffe multistep): 0.001, /10 at 6000 and 9000|no|--policy fixed --milestones 6000 9000
exp|exp: 0.001 * 0.9998^t|no|--policy exp --gamma 0.9998
decay|decay: 0.007 to 0.001 over 4000 iterations, then held|no|--policy decay --lr 0.007 --end-lr 0.001
step|step (StepLR): 0.006, /2 every 3000|no|--policy step --lr 0.006 --step-size 3000 --step-gamma 0.5
constant|constant (ConstantLR): 0.006 x 1/3 until 4000|no|--policy constant --lr 0.006 --total-iters 4000
polynomial|polynomial (PolynomialLR): 0.006 to 0 over 10000, power 2|no|--policy polynomial --lr 0.006 --total-iters 10000 --power 2
cosine|cosine (CosineAnnealingLR): 0.006, T_max 10000|no|--policy cosine --lr 0.006 --T-max 10000
cosine_restarts_decay|SGDR: T_0 2000, peak x0.7 per restart, 4 cycles|no|--policy cosine_restarts --lr 0.006 --T-0 2000 --cycle-decay 0.7 --cycle-limit 4
warmup_cosine|cosine after a 1000-step warm-up (--warmup-steps)|no|--policy cosine --lr 0.006 --T-max 11000 --warmup-steps 1000
POLICIES
echo "plot_schedules: wrote $(ls "$out" | wc -l) plots to $out"
