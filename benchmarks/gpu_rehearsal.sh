#!/usr/bin/env bash
# Rehearse the GPU runbook on the CPU before any GPU time is spent: a fresh Python 3.12 venv
# holding only what the lent GPU machine's image holds (from PyPI), the wheels that
# benchmarks/gpu_wheels.sh carries, installed the runbook's way (no index, no
# dependencies), and a short run with --device cpu of every model, today's peers (--peers)
# included. A wheel or import the GPU machine would miss fails here.
#
#   bash benchmarks/gpu_rehearsal.sh [WORK]     (default /tmp/mmfasternet-gpu-rehearsal)
#
# WORK receives the venv, the wheelhouse and out/ (gpu_benchmarks.md, .json, the log).
set -euo pipefail

WORK=${1:-/tmp/mmfasternet-gpu-rehearsal}
REPO=$(cd "$(dirname "$0")/.." && pwd)
# What the GPU machine's image has that the benchmark imports (KINDS.md of the device tool),
# at the torch this project pins.
IMAGE=(torch==2.14.1 torchvision==0.29.1 numpy opencv-python-headless matplotlib pillow pyyaml
       rich einops packaging click markdown zipp)

PYTHON=$(bash "$REPO/.dev_scripts/interpreter.sh" python3.12)

rm -rf "$WORK"
mkdir -p "$WORK"
echo "==> the GPU machine's image, in a venv of $("$PYTHON" --version)"
"$PYTHON" -m venv "$WORK/venv"
"$WORK/venv/bin/python" -m pip install -q --disable-pip-version-check "${IMAGE[@]}"
echo "==> the wheels to carry"
bash "$REPO/benchmarks/gpu_wheels.sh" "$WORK/wheels"
echo "==> the runbook, on the CPU"
PYTHON=$WORK/venv/bin/python SITE=$WORK/site bash "$REPO/benchmarks/gpu_runbook.sh" \
  "$WORK/wheels" "$WORK/out" --device cpu --batch 1 --rounds 1 --warmup 0 --peers \
  --detection-shape 64 64 --train-batch 2 --profile-runs 1
for file in gpu_benchmarks.md gpu_benchmarks.json gpu_runbook.log; do
  [[ -s $WORK/out/$file ]] || { echo "rehearsal failed: no $WORK/out/$file" >&2; exit 1; }
done
echo "rehearsal done: $WORK/out"
