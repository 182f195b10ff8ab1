#!/usr/bin/env bash
# Create .venv/ with the pinned OpenMMLab stack and mmfasternet in editable mode.
#
# Idempotent: installed pins are skipped by pip, and the mmcv wheel (built from the sdist with
# its compiled ops, about half an hour on 2 cores) is cached under $MMFASTERNET_CACHE keyed by
# the mmcv, torch and Python versions, so only the first run on a machine builds it.
set -euo pipefail

PYTHON=${PYTHON:-python3.11}
VENV=${VENV:-.venv}
MMCV_VERSION=2.1.0
TORCH_VERSION=2.14.1
TORCHVISION_VERSION=0.29.1
CACHE=${MMFASTERNET_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mmfasternet}

step() { printf '\n==> %s\n' "$*"; }
die() { printf '\nsetup failed: %s\n' "$*" >&2; exit 1; }
trap 'die "command on line $LINENO exited with status $?"' ERR

command -v "$PYTHON" >/dev/null || die "$PYTHON not found; install Python 3.11 or set PYTHON=/path/to/python3.11"

if [[ ! -x $VENV/bin/python ]]; then
  step "creating $VENV with $($PYTHON --version)"
  "$PYTHON" -m venv "$VENV"
fi
PY=$(cd "$VENV" && pwd)/bin/python
PIP=("$PY" -m pip --disable-pip-version-check)

step "build tools (setuptools<81: mmcv 2.1 and mmengine 0.10 import pkg_resources)"
"${PIP[@]}" install -q 'setuptools>=77,<81' wheel ninja

step "torch $TORCH_VERSION, torchvision $TORCHVISION_VERSION"
"${PIP[@]}" install -q "torch==$TORCH_VERSION" "torchvision==$TORCHVISION_VERSION"

py_tag=$("$PY" -c 'import sys; print(f"cp{sys.version_info[0]}{sys.version_info[1]}")')
wheel_dir=$CACHE/mmcv-$MMCV_VERSION-torch$TORCH_VERSION-$py_tag
if ! "$PY" -c "import mmcv, sys; sys.exit(mmcv.__version__ != '$MMCV_VERSION')" 2>/dev/null \
   || ! "$PY" -c 'import mmcv.ops' 2>/dev/null; then
  if ! ls "$wheel_dir"/mmcv-*.whl >/dev/null 2>&1; then
    step "building mmcv $MMCV_VERSION with ops (first time on this machine: about 30 min on 2 cores)"
    build=$(mktemp -d)
    "${PIP[@]}" download -q --no-deps --no-binary :all: --no-build-isolation \
      "mmcv==$MMCV_VERSION" -d "$build"
    tar -xzf "$build"/mmcv-$MMCV_VERSION.tar.gz -C "$build"
    src=$build/mmcv-$MMCV_VERSION
    # torch >= 2.10 headers require C++20; mmcv 2.1.0 hard-codes C++17 for its extension.
    sed -i 's/-std=c++17/-std=c++20/g' "$src/setup.py"
    grep -q -- '-std=c++20' "$src/setup.py" || die "could not switch mmcv's setup.py to -std=c++20"
    mkdir -p "$wheel_dir.partial"
    (cd "$src" && MMCV_WITH_OPS=1 MAX_JOBS=${MAX_JOBS:-$(nproc)} \
      "$PY" -m pip wheel -q --no-deps --no-build-isolation . -w "$wheel_dir.partial")
    rm -rf "$wheel_dir" && mv "$wheel_dir.partial" "$wheel_dir"
    rm -rf "$build"
  fi
  step "installing cached mmcv wheel from $wheel_dir"
  "${PIP[@]}" install -q --no-deps --force-reinstall "$wheel_dir"/mmcv-*.whl
fi

step "OpenMMLab task libraries and mmfasternet (editable)"
"${PIP[@]}" install -q -r requirements.txt -r requirements/tests.txt
"${PIP[@]}" install -q --no-deps --no-build-isolation -e .

step "checking the stack"
"$PY" - <<'PY'
import mmcv
from mmcv.ops import RoIAlign, nms  # noqa: F401  compiled ops present
import mmdet, mmengine, mmpretrain, mmseg, torch, torchvision  # noqa: F401
import mmfasternet  # noqa: F401
print(f'torch {torch.__version__}, torchvision {torchvision.__version__}, '
      f'mmcv {mmcv.__version__} (ops), mmengine {mmengine.__version__}, '
      f'mmdet {mmdet.__version__}, mmseg {mmseg.__version__}, mmpretrain {mmpretrain.__version__}')
PY
echo "setup done: $VENV is ready"
