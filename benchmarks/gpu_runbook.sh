#!/usr/bin/env bash
# The GPU benchmark on a bare CUDA machine that has torch and no network, in one command
# (benchmarks/gpu_benchmark.md):
#
#   bash benchmarks/gpu_runbook.sh WHEELHOUSE OUT [gpu_benchmark options]
#
# 1. installs the wheels in WHEELHOUSE (from benchmarks/gpu_wheels.sh), without their
#    dependencies and without the network, into a folder of their own ($SITE, default
#    /tmp/mmfasternet-site) put ahead of the machine's packages on PYTHONPATH;
# 2. writes what the run ran on into OUT/gpu_runbook.log: nvidia-smi, Python, torch, CUDA,
#    cuDNN and the versions of the installed packages;
# 3. runs `python -m benchmarks.gpu_benchmark` from the repository's root (benchmarks/ is not
#    in the wheel) on every model and setting (the options given after OUT are passed on,
#    e.g. --rounds 10), which writes gpu_benchmarks.md and gpu_benchmarks.json into OUT;
#    everything it prints goes to the log too.
# PYTHON names the interpreter (default python3, the machine's, with torch).
set -euo pipefail

(($# >= 2)) || { echo "usage: $0 WHEELHOUSE OUT [gpu_benchmark options]" >&2; exit 2; }
WHEELHOUSE=$1
OUT=$2
shift 2
PYTHON=${PYTHON:-python3}
SITE=${SITE:-/tmp/mmfasternet-site}
REPO=$(cd "$(dirname "$0")/.." && pwd)

ls "$WHEELHOUSE"/mmfasternet-*.whl >/dev/null 2>&1 \
  || { echo "$WHEELHOUSE holds no mmfasternet wheel: run benchmarks/gpu_wheels.sh first" >&2; exit 2; }
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)  # the benchmark runs from $REPO
LOG=$OUT/gpu_runbook.log

run() {
  echo "==> installing $(ls "$WHEELHOUSE"/*.whl | wc -l) wheels into $SITE"
  rm -rf "$SITE"
  "$PYTHON" -m pip install -q --disable-pip-version-check --no-index --no-deps --no-compile \
    --no-cache-dir --target "$SITE" "$WHEELHOUSE"/*.whl
  export PYTHONPATH=$SITE${PYTHONPATH:+:$PYTHONPATH}
  export PYTHONUNBUFFERED=1

  echo "==> the machine"
  nvidia-smi || echo "(no nvidia-smi)"
  "$PYTHON" - <<'PY'
import importlib.metadata as metadata
import platform
import sys

import torch

print(f'Python {sys.version.split()[0]} on {platform.machine()}, torch {torch.__version__}, '
      f'CUDA {torch.version.cuda}, cuDNN {torch.backends.cudnn.version()}, '
      f'GPUs: {[torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]}')
print(', '.join(f'{name} {metadata.version(name)}' for name in (
    'mmfasternet', 'mmengine', 'mmcv-lite', 'mmpretrain', 'timm', 'torchvision', 'numpy',
    'setuptools')))
import mmfasternet  # noqa: E402,F401  the supported-stack check, before any measurement
PY

  echo "==> python -m benchmarks.gpu_benchmark $*"
  cd "$REPO"
  "$PYTHON" -m benchmarks.gpu_benchmark --out "$OUT" "$@"
  echo "==> done: $(ls "$OUT" | tr '\n' ' ')"
}

run "$@" 2>&1 | tee "$LOG"
