#!/usr/bin/env bash
# The README's first command: installs what is missing, builds everything and
# runs the default job, which works offline: the paper's workflow on Debian's
# Fashion-MNIST (an LR range test picks base_lr and max_lr, then CLR and a
# fixed LR read off the same curve train for the same budget, two seeds),
# written to out/workflow/ (results.md with the verdict, workflow.png), plus
# every policy's schedule plotted to out/plots/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install_deps.sh
bash scripts/build.sh
bash scripts/plot_schedules.sh build out/plots
build/examples/cifar10/cifar10_clr workflow --dataset fashion-mnist \
  --out out/workflow
