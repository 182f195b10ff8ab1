#!/usr/bin/env bash
# Create a virtual environment with one pinned OpenMMLab stack and mmfasternet in editable mode.
#
#   .dev_scripts/setup_env.sh VENV PYTHON REQUIREMENTS [EXTRA_REQUIREMENTS...]
#
# REQUIREMENTS pins the stack: its `torch==`, `torchvision==` and `mmcv==` lines are installed
# first (mmcv built from the sdist with its compiled ops, against that torch), then the rest.
# `make setup` uses requirements.txt (Python 3.11, torch 2.15.0); `make setup-compat` uses
# requirements/compat.txt (Python 3.10, torch 2.1.2), the older end of the supported range.
#
# Idempotent: installed pins are skipped by pip, and the mmcv wheel (built with its ops by
# .dev_scripts/mmcv_wheel.sh: 5.5-8 core-minutes, against either torch) is cached under
# $MMFASTERNET_CACHE keyed by the mmcv, torch and Python versions and the way of building, so
# only the first run on a machine builds it. The build prints its progress.
set -euo pipefail

(($# >= 3)) || { echo "usage: $0 VENV PYTHON REQUIREMENTS [EXTRA_REQUIREMENTS...]" >&2; exit 2; }
VENV=$1
PYTHON=$2
REQUIREMENTS=$3
EXTRA_REQUIREMENTS=("${@:4}")

step() { printf '\n==> %s\n' "$*"; }
die() { printf '\nsetup failed: %s\n' "$*" >&2; exit 1; }
trap 'die "command on line $LINENO exited with status $?"' ERR

pin() {
  sed -n "s/^$1==\([^ #]*\).*/\1/p" "$REQUIREMENTS" | head -n 1
}
TORCH_VERSION=$(pin torch)
TORCHVISION_VERSION=$(pin torchvision)
MMCV_VERSION=$(pin mmcv)
[[ -n $TORCH_VERSION && -n $TORCHVISION_VERSION && -n $MMCV_VERSION ]] \
  || die "$REQUIREMENTS must pin torch==, torchvision== and mmcv=="

PYTHON=$(bash "$(dirname "$0")/interpreter.sh" "$PYTHON") || die "no interpreter $PYTHON"

if [[ ! -x $VENV/bin/python ]]; then
  step "creating $VENV with $($PYTHON --version)"
  "$PYTHON" -m venv "$VENV"
fi
PY=$(cd "$VENV" && pwd)/bin/python
PIP=("$PY" -m pip --disable-pip-version-check)
# Every install below honours the stack's pins (numpy < 2 on the older stack, for one), and
# only them: they replace pip's site-wide constraints, which on some machines cap torch at a
# release kept on local disk.
export PIP_CONSTRAINT=$(realpath "$REQUIREMENTS")
CONSTRAINTS=(-c "$REQUIREMENTS")

step "build tools (setuptools<81: mmcv 2.1 and mmengine 0.10 import pkg_resources)"
"${PIP[@]}" install -q 'setuptools>=77,<81' wheel ninja

step "torch $TORCH_VERSION, torchvision $TORCHVISION_VERSION"
"${PIP[@]}" install -q "${CONSTRAINTS[@]}" "torch==$TORCH_VERSION" "torchvision==$TORCHVISION_VERSION"

# The wheel mmcv_wheel.sh builds (or has cached), unless the venv holds it (pip records the
# file it installed from): a venv made with an older way of building gets the new wheel.
wheel=$(bash "$(dirname "$0")/mmcv_wheel.sh" "$PY" "$MMCV_VERSION")
if ! "$PY" - "$wheel" <<'PY' 2>/dev/null; then
import importlib.metadata, json, sys
installed = json.loads(importlib.metadata.distribution('mmcv').read_text('direct_url.json'))
sys.exit(installed['url'] != 'file://' + sys.argv[1])
PY
  step "installing the mmcv wheel $wheel"
  "${PIP[@]}" install -q --no-deps --force-reinstall "$wheel"
fi

extra=()
for file in "${EXTRA_REQUIREMENTS[@]}"; do extra+=(-r "$file"); done
if grep -qs '^mmpose' "$REQUIREMENTS" "${EXTRA_REQUIREMENTS[@]}"; then
  # mmpose 1.3 needs chumpy, whose setup.py imports pip (it builds only without build
  # isolation), and xtcocotools, whose newest wheels predate numpy 2: built from its sdist
  # against this stack's numpy, the wheel then cached by pip.
  step "mmpose's build-time needs: chumpy (no build isolation), xtcocotools (from its sdist)"
  "${PIP[@]}" install -q "${CONSTRAINTS[@]}" cython numpy
  "${PIP[@]}" install -q "${CONSTRAINTS[@]}" --no-build-isolation chumpy
  "${PIP[@]}" install -q "${CONSTRAINTS[@]}" --no-build-isolation --no-binary xtcocotools \
    xtcocotools
fi

step "OpenMMLab task libraries, test tools and mmfasternet (editable)"
"${PIP[@]}" install -q "${CONSTRAINTS[@]}" -r "$REQUIREMENTS" "${extra[@]}"
"${PIP[@]}" install -q --no-deps --no-build-isolation -e .
"$PY" -m mmfasternet_config_lookup  # the start-up file that `pip install .` would install

step "checking the stack"
"$PY" - <<'PY'
import mmcv
from mmcv.ops import RoIAlign, nms  # noqa: F401  compiled ops present
import mmdet, mmengine, mmpose, mmpretrain, mmseg, numpy, torch, torchvision  # noqa: F401
import mmfasternet  # noqa: F401
print(f'torch {torch.__version__}, torchvision {torchvision.__version__}, numpy {numpy.__version__}, '
      f'mmcv {mmcv.__version__} (ops), mmengine {mmengine.__version__}, '
      f'mmdet {mmdet.__version__}, mmseg {mmseg.__version__}, mmpretrain {mmpretrain.__version__}, '
      f'mmpose {mmpose.__version__}')
PY
echo "setup done: $VENV is ready"
