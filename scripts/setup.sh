#!/usr/bin/env bash
# The README's first command: installs what is missing, builds everything and
# runs the default job, which works offline: the paper's Table 1 comparison
# (fixed, triangular2, decay, exp, exp_range) at 1/100 of its length on
# Debian's Fashion-MNIST, written to out/compare/ (results.md, accuracy.png),
# plus every policy's schedule plotted to out/plots/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install_deps.sh
bash scripts/build.sh
bash scripts/plot_schedules.sh build out/plots
build/examples/cifar10/cifar10_clr compare --dataset fashion-mnist \
  --scale 0.01 --eval-every 50 --out out/compare
