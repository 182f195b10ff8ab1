#!/usr/bin/env bash
# The wheels the GPU benchmark needs on the lent GPU machine (CPython 3.12, Linux x86_64,
# torch and the packages of its image installed, no network), fetched here, where PyPI is
# reachable, with this checkout's own wheel beside them (benchmarks/gpu_benchmark.md).
#
#   bash benchmarks/gpu_wheels.sh [WHEELHOUSE]      (default .whl, which git ignores)
#
# Only what that image lacks travels (about 7 MiB; a call carries 64 MiB at most): mmengine,
# mmcv-lite (the benchmark uses no compiled op), mmpretrain and their pure-Python needs, and
# setuptools < 81, whose pkg_resources mmengine's `mmpretrain::` config look-up needs, and
# timm for the peers of --peers (pure Python; it builds architectures without its optional
# huggingface_hub and safetensors, which only fetch and read weights). The
# image already has torch, torchvision, numpy, opencv-python-headless, matplotlib, pillow,
# pyyaml, rich, einops, packaging, click, markdown and zipp (KINDS.md of the device tool);
# benchmarks/gpu_rehearsal.sh installs those from PyPI to rehearse the run on the CPU.
set -euo pipefail

WHEELHOUSE=${1:-.whl}
REPO=$(cd "$(dirname "$0")/.." && pwd)
PYTHON_VERSION=3.12
# The packages to carry, pinned where this project pins them (requirements.txt).
CARRIED=(mmengine==0.10.7 mmcv-lite==2.1.0 mmpretrain==1.2.0 addict yapf platformdirs
         termcolor mat4py modelindex model-index ordered-set 'importlib-metadata<9'
         'setuptools<81' timm==1.0.31)

mkdir -p "$WHEELHOUSE"
rm -f "$WHEELHOUSE"/*.whl
python3 -m pip download -q --disable-pip-version-check --no-deps --only-binary=:all: \
  --python-version "$PYTHON_VERSION" --implementation cp --platform manylinux_2_28_x86_64 \
  --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 -d "$WHEELHOUSE" \
  "${CARRIED[@]}"
bash "$REPO/.dev_scripts/mmfasternet_wheel.sh" "$WHEELHOUSE" >/dev/null
ls "$WHEELHOUSE"
du -sh "$WHEELHOUSE"
