#!/usr/bin/env bash
# A new user's install on another Python, done the README's way and checked end to end.
#
#   .dev_scripts/check_user_install.sh PYTHON [VENV]      (`make test-install`: python3.12)
#
# In a new venv (VENV, default .venv-user; made again on every run):
#   1. the newest torch and torchvision that PyPI serves for PYTHON, unpinned, as a new user
#      gets them (pip's site-wide constraints, which on some machines cap torch at a release
#      kept on local disk, are lifted for the whole check); the script prints which came and
#      how long the download and install took. On Python >= 3.12 they bring a setuptools
#      without pkg_resources, which mmengine 0.10 needs for every `mmdet::`-style config
#      path; the script prints which one came.
#   2. mmengine, mmdet, mmsegmentation and mmpretrain, as pinned.
#   3. mmpose's two build steps (docs/install.md), then this checkout's wheel, non-editable:
#      pip install "mmfasternet[deploy,det,seg,cls,pose,track]". Its setuptools < 81
#      requirement must bring pkg_resources back (checked).
#   4. mmcv 2.1.0 with its ops, from .dev_scripts/mmcv_wheel.sh (built from the sdist the first time,
#      then cached): there is no prebuilt mmcv 2.1 for torch > 2.1, so none for Python 3.12.
# Then, from a folder outside the checkout: every config the package carries builds its model,
# a classifier exports to ONNX through torch's dynamo exporter (which needs onnxscript, in the
# deploy extra) and is verified in ONNX Runtime, and a whole Mask R-CNN exports.
set -euo pipefail

(($# >= 1)) || { echo "usage: $0 PYTHON [VENV]" >&2; exit 2; }
PYTHON=$1
VENV=${2:-.venv-user}
REPO=$(cd "$(dirname "$0")/.." && pwd)

step() { printf '\n==> %s\n' "$*"; }
die() { printf '\ninstall check failed: %s\n' "$*" >&2; exit 1; }
trap 'die "command on line $LINENO exited with status $?"' ERR

pin() { sed -n "s/^$1==\([^ #]*\).*/\1/p" "$REPO/requirements.txt" | head -n 1; }

PYTHON=$(bash "$REPO/.dev_scripts/interpreter.sh" "$PYTHON") || die "no interpreter $PYTHON"

step "a new venv with $("$PYTHON" --version)"
rm -rf "$VENV"
"$PYTHON" -m venv "$VENV"
PY=$(cd "$VENV" && pwd)/bin/python
PIP=("$PY" -m pip --disable-pip-version-check -q)
setuptools_version() {
  "$PY" -c 'import importlib.metadata as m; print(m.version("setuptools"))' 2>/dev/null || echo none
}

export PIP_CONSTRAINT=/dev/null  # a new user's pip: no cap on torch
step "1. the newest torch and torchvision on PyPI"
started=$SECONDS
"${PIP[@]}" install torch torchvision
echo "    torch $("$PY" -c 'import torch; print(torch.__version__)'), torchvision" \
  "$("$PY" -c 'import torchvision; print(torchvision.__version__)'):" \
  "downloaded and installed in $((SECONDS - started)) s"
echo "    setuptools $(setuptools_version) came with torch;" \
  "pkg_resources: $("$PY" -c 'import pkg_resources' 2>/dev/null && echo present || echo missing)"

step "2. the task libraries"
"${PIP[@]}" install "mmengine==$(pin mmengine)" "mmdet==$(pin mmdet)" \
  "mmsegmentation==$(pin mmsegmentation)" "mmpretrain==$(pin mmpretrain)"

step "3. mmpose's build steps (docs/install.md), then mmfasternet[deploy,det,seg,cls,pose,track]" \
  "from this checkout's wheel (not editable)"
"${PIP[@]}" install cython numpy
"${PIP[@]}" install --no-build-isolation chumpy
"${PIP[@]}" install --no-build-isolation --no-binary xtcocotools xtcocotools
build=$(mktemp -d)
trap 'rm -rf "$build"' EXIT
wheel=$(bash "$REPO/.dev_scripts/mmfasternet_wheel.sh" "$build/dist")
"${PIP[@]}" install "mmfasternet[deploy,det,seg,cls,pose,track] @ file://$wheel"
"$PY" -c 'import pkg_resources' 2>/dev/null \
  || die "pkg_resources is still missing (setuptools $(setuptools_version))"
echo "    setuptools $(setuptools_version): pkg_resources present"

step "4. mmcv $(pin mmcv) with its ops"
"${PIP[@]}" install wheel ninja  # what the build needs, should it have to run
"${PIP[@]}" install --no-deps "$(bash "$REPO/.dev_scripts/mmcv_wheel.sh" "$PY" "$(pin mmcv)")"

step "checks, from a folder outside the checkout"
cd "$build" && mkdir outside && cd outside
"$PY" - <<'PY'
import glob
import os.path as osp
import sys

import lap, mmcv, mmdet, mmengine, mmpose, mmpretrain, mmseg, setuptools, torch  # noqa: E401
from mmengine.config import Config
from mmpose.registry import MODELS as POSE_MODELS

import mmfasternet
from mmfasternet.engine.tool_config import build_model
from mmfasternet.deploy.tasks import task_of

package = osp.dirname(mmfasternet.__file__)
assert 'site-packages' in package, f'mmfasternet comes from {package}, not the installed wheel'
print(f'Python {sys.version.split()[0]}, torch {torch.__version__}, setuptools '
      f'{setuptools.__version__}, mmcv {mmcv.__version__}, mmengine {mmengine.__version__}, '
      f'mmdet {mmdet.__version__}, mmseg {mmseg.__version__}, mmpretrain {mmpretrain.__version__}')
configs = sorted(glob.glob(osp.join(package, '.mim', 'configs', '*.py')))
kinds = {}
for path in configs:
    cfg = Config.fromfile(path)
    cfg.model.backbone.init_cfg = None
    model = build_model(cfg)
    kinds.setdefault(task_of(model).name, []).append(osp.basename(path))
print(f'{len(configs)} configs built: ' + ', '.join(f'{len(v)} {k}s' for k, v in kinds.items()))
assert len(configs) >= 18 and set(kinds) == {'detector', 'segmentor', 'classifier'}, kinds

from importlib.metadata import version
from mmengine.hub import get_config
from mmengine.registry import init_default_scope

from mmfasternet.models.backbone_swap import swap_in_fasternet
init_default_scope('mmpose')
rtmpose = 'body_2d_keypoint/rtmpose/coco/rtmpose-s_8xb256-420e_coco-256x192.py'
pose = POSE_MODELS.build(swap_in_fasternet(get_config(f'mmpose::{rtmpose}'), 't0').model)
assert isinstance(pose.backbone, mmfasternet.FasterNet), type(pose.backbone)
print(f'mmpose {mmpose.__version__}: RTMPose-S with FasterNet-T0 built; lap {version("lap")}')
PY
configs=$("$PY" -c 'import mmfasternet, os.path as p; print(p.join(p.dirname(mmfasternet.__file__), ".mim", "configs"))')
"$PY" "$REPO/tools/deployment/pytorch2onnx.py" "$configs/fasternet_t0_in1k.py" t0.onnx --verify
"$PY" "$REPO/tools/deployment/pytorch2onnx.py" "$configs/mask_rcnn_fasternet_t0.py" \
  mask_rcnn_t0.onnx --shape 256 256
echo "install check done: $("$PYTHON" --version), a non-editable install with [deploy,det,seg,cls,pose,track]"
