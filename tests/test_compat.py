"""The supported range: checked at import, and features that need a newer torch stop with one
line naming the version, on every stack."""
import importlib
import os.path as osp
import subprocess
import sys

import pytest
import torch

import mmfasternet.compat as compat
from conftest import REPO, assert_says, last_line
from mmfasternet import FasterNet
from mmfasternet.compat import NeedsNewerTorch
from mmfasternet.deploy import export_onnx


def mmcv_metadata(result: str) -> str:
    """A patch that makes mmcv's package metadata, where mmfasternet reads its version,
    give what the expression ``result`` evaluates to."""
    return ('import importlib.metadata as m\n'
            'def version(name, found=m.version):\n'
            f'    return {result} if name.startswith("mmcv") else found(name)\n'
            'm.version = version\n')


def import_with(patch):
    """``import mmfasternet`` in a fresh process after running ``patch``."""
    return subprocess.run([sys.executable, '-c', f'{patch}\nimport mmfasternet'],
                          capture_output=True, text=True, cwd=REPO, timeout=300)


@pytest.mark.parametrize('patch, needs', [
    ('import torch; torch.__version__ = "1.13.1"', 'needs torch >= 2.0, found 1.13.1: '),
    (mmcv_metadata('"1.7.2"'), 'needs mmcv >= 2.0, found 1.7.2: mmcv 1.x '),
    ('import mmengine; mmengine.__version__ = "0.3.2"', 'needs mmengine >= 0.4, found 0.3.2'),
])
def test_a_version_known_to_break_is_refused_with_the_reason(patch, needs):
    result = import_with(patch)
    assert result.returncode != 0
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith('mmfasternet.compat.UnsupportedVersionError: mmfasternet ' + needs)


@pytest.mark.parametrize('package, version', [
    ('torch', '2.16.0'), ('mmcv', '2.2.0'), ('mmengine', '0.11.0')])
def test_a_version_newer_than_tested_gets_one_warning_naming_the_range(
        monkeypatch, package, version):
    """In this process: a fresh one would run the newer-torch gates on the torch installed,
    and mmdet 3.3, which the package imports to register into, refuses mmcv 2.2 itself."""
    if package == 'mmcv':
        monkeypatch.setattr(compat, 'mmcv_version', lambda: version)
    else:
        monkeypatch.setattr(importlib.import_module(package), '__version__', version)
    with pytest.warns(compat.UntestedVersionWarning) as records:
        compat.check_supported_stack()
    assert [str(r.message) for r in records] == [
        f'mmfasternet is tested with {compat.TESTED_RANGE}; found {package} {version}, which '
        f'may work: please report what breaks']


def test_missing_mmcv_says_what_to_install():
    """Neither mmcv's metadata nor the package are there."""
    result = import_with(mmcv_metadata('found("no-such-distribution")') +
                         'import sys; sys.modules["mmcv"] = None')
    assert result.returncode != 0
    assert 'mmfasternet needs mmcv 2.x' in result.stderr.strip().splitlines()[-1]


def test_mmcv_version_is_read_without_importing_mmcv():
    result = subprocess.run(
        [sys.executable, '-c', 'import sys; from mmfasternet.compat import mmcv_version; '
         'v = mmcv_version(); loaded = "mmcv" in sys.modules; import mmcv; '
         'print(v == mmcv.__version__, loaded)'],
        capture_output=True, text=True, cwd=REPO, timeout=300)
    assert result.stdout.split() == ['True', 'False'], result.stderr


def test_a_feature_for_a_newer_torch_stops_with_one_line(monkeypatch, tmp_path):
    monkeypatch.setattr(compat, 'TORCH_VERSION', (2, 1))
    with pytest.raises(NeedsNewerTorch) as error:
        export_onnx(FasterNet('t0'), str(tmp_path / 't0.onnx'), opset=20)
    assert_says(str(error.value), 'opset 20', 'torch >= 2.6', f'torch {torch.__version__}')
    assert not (tmp_path / 't0.onnx').exists()


@pytest.mark.skipif(compat.torch_at_least(2, 6), reason='torch >= 2.6 exports opset 20')
def test_export_tool_names_the_torch_that_opset_20_needs(tmp_path):
    result = subprocess.run(
        [sys.executable, osp.join(REPO, 'tools', 'deployment', 'pytorch2onnx.py'),
         'backbone:t0', str(tmp_path / 't0.onnx'), '--opset', '20'],
        capture_output=True, text=True, timeout=300)
    assert result.returncode == 1
    assert_says(last_line(result), 'pytorch2onnx: ', 'opset 20', 'torch >= 2.6',
                f'torch {torch.__version__}')
