#!/usr/bin/env bash
# The README's first command: installs what is missing, builds everything and
# runs the default job, which works offline: the paper's triangular2 schedule
# previewed as CSV, and every policy's schedule plotted to out/plots/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install_deps.sh
bash scripts/build.sh
mkdir -p out
build/examples/clr_schedule/clr_schedule --policy triangular2 --steps 12000 \
  --every 500 --out out/triangular2.csv
cat out/triangular2.csv
bash scripts/plot_schedules.sh build out/plots
