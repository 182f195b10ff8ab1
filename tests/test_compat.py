"""The supported range: checked at import, and features that need a newer torch stop with one
line naming the version, on every stack."""
import os.path as osp
import subprocess
import sys

import pytest
import torch

import mmfasternet.compat as compat
from conftest import REPO
from mmfasternet import FasterNet
from mmfasternet.compat import NeedsNewerTorch
from mmfasternet.deploy import export_onnx


def import_with(patch):
    """``import mmfasternet`` in a fresh process after running ``patch``."""
    return subprocess.run([sys.executable, '-c', f'{patch}\nimport mmfasternet'],
                          capture_output=True, text=True, cwd=REPO, timeout=300)


@pytest.mark.parametrize('patch, found', [
    ('import torch; torch.__version__ = "1.13.1"', 'found torch 1.13.1'),
    ('import mmcv; mmcv.__version__ = "2.2.0"', 'found mmcv 2.2.0'),
    ('import mmengine; mmengine.__version__ = "0.9.1"', 'found mmengine 0.9.1'),
])
def test_a_package_outside_the_range_is_named_at_import(patch, found):
    result = import_with(patch)
    assert result.returncode != 0
    assert result.stderr.strip().splitlines()[-1] == (
        f'mmfasternet.compat.UnsupportedVersionError: mmfasternet supports torch 2.0-2.14, '
        f'mmcv 2.0.x-2.1.x, mmengine 0.10.x; {found}')


def test_missing_mmcv_says_what_to_install():
    result = import_with('import sys; sys.modules["mmcv"] = None')
    assert result.returncode != 0
    assert 'mmfasternet needs mmcv 2.0.x-2.1.x' in result.stderr.strip().splitlines()[-1]


def test_the_stack_under_test_is_in_the_range():
    compat.check_supported_stack()


def test_a_feature_for_a_newer_torch_stops_with_one_line(monkeypatch, tmp_path):
    monkeypatch.setattr(compat, 'TORCH_VERSION', (2, 1))
    with pytest.raises(NeedsNewerTorch) as error:
        export_onnx(FasterNet('t0'), str(tmp_path / 't0.onnx'), opset=20)
    assert str(error.value) == (f'ONNX opset 20 (the dynamo exporter) needs torch >= 2.6; '
                                f'this is torch {torch.__version__}')
    assert not (tmp_path / 't0.onnx').exists()


@pytest.mark.skipif(compat.torch_at_least(2, 6), reason='torch >= 2.6 exports opset 20')
def test_export_tool_names_the_torch_that_opset_20_needs(tmp_path):
    result = subprocess.run(
        [sys.executable, osp.join(REPO, 'tools', 'deployment', 'pytorch2onnx.py'),
         'backbone:t0', str(tmp_path / 't0.onnx'), '--opset', '20'],
        capture_output=True, text=True, timeout=300)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        f'pytorch2onnx: ONNX opset 20 (the dynamo exporter) needs torch >= 2.6; this is '
        f'torch {torch.__version__}')
