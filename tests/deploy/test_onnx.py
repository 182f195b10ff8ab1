"""ONNX export of the backbone and the classifier, checked in onnxruntime."""
import os.path as osp
import re

import numpy as np
import onnxruntime as ort
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmpretrain.registry import MODELS

from conftest import REPO, randomize_norms, run_tool
from mmfasternet import FasterNet
from mmfasternet.deploy import export_onnx


def run_onnx(path, x):
    session = ort.InferenceSession(str(path), providers=['CPUExecutionProvider'])
    return session.run(None, {session.get_inputs()[0].name: x.numpy()})


@pytest.mark.parametrize('pconv_forward', ['split_cat', 'slicing'])
def test_backbone_round_trip(tmp_path, pconv_forward):
    torch.manual_seed(0)
    model = randomize_norms(FasterNet('t0', pconv_forward=pconv_forward)).eval()
    x = torch.randn(1, 3, 224, 224)
    with torch.no_grad():
        expected = model(x)
    path = tmp_path / 't0.onnx'
    size = export_onnx(model, str(path))
    weight_bytes = 4 * sum(p.numel() for p in model.parameters())
    assert weight_bytes < size < 1.1 * weight_bytes  # self-contained, not oversized
    outputs = run_onnx(path, x)
    assert len(outputs) == 4
    for out, ref in zip(outputs, expected):
        assert np.abs(out - ref.numpy()).max() < 1e-4


def test_classifier_round_trip(tmp_path):
    init_default_scope('mmpretrain')
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'fasternet_t0_in1k.py'))
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    randomize_norms(model).eval()
    x = torch.randn(1, 3, 224, 224)
    with torch.no_grad():
        expected = model(x, mode='tensor')
    path = tmp_path / 't0_cls.onnx'
    export_onnx(model, str(path), mode='tensor')
    logits, = run_onnx(path, x)
    assert logits.shape == (1, 1000)
    assert np.abs(logits - expected.numpy()).max() < 1e-4


@pytest.mark.long
def test_export_tool_loads_the_checkpoint_and_verifies(tmp_path):
    init_default_scope('mmpretrain')
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'fasternet_t0_in1k.py'))
    torch.manual_seed(1)
    model = randomize_norms(MODELS.build(cfg.model), seed=1).eval()
    torch.save({'state_dict': model.state_dict()}, tmp_path / 'trained.pth')
    result = run_tool(osp.join(REPO, 'tools', 'deployment', 'pytorch2onnx.py'),
                      'configs/fasternet_t0_in1k.py', str(tmp_path / 't0.onnx'),
                      '--checkpoint', str(tmp_path / 'trained.pth'), '--verify')
    assert float(re.search(r'max abs diff (\S+)', result.stdout).group(1)) < 1e-4
    x = torch.randn(1, 3, 224, 224)
    with torch.no_grad():
        expected = model(x, mode='tensor')
    logits, = run_onnx(tmp_path / 't0.onnx', x)
    assert np.abs(logits - expected.numpy()).max() < 1e-4
