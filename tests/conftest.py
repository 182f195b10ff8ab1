import os.path as osp
import subprocess
import sys

import pytest

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))


def run_tool(*args, cwd=REPO, timeout=600, env=None, check=True):
    """Run ``python tools/...`` in a fresh process, as a user would."""
    result = subprocess.run([sys.executable, *args], cwd=cwd, capture_output=True, text=True,
                            timeout=timeout, env=env)
    if check and result.returncode != 0:
        raise AssertionError(f'{args} exited with {result.returncode}:\n'
                             f'{result.stdout[-3000:]}\n{result.stderr[-5000:]}')
    return result


@pytest.fixture(scope='session')
def tiny_toy_coco(tmp_path_factory):
    """A small generated toy COCO set: 8 training and 4 validation images of 128 px."""
    from mmfasternet.datasets.toy_coco import generate_toy_coco
    root = tmp_path_factory.mktemp('toy_coco')
    generate_toy_coco(str(root), num_train=8, num_val=4, image_size=128, seed=1)
    return root


@pytest.fixture(scope='session')
def tiny_toy_ade(tmp_path_factory):
    """A small generated toy ADE20K-format set: 8 training and 4 validation images of 128 px."""
    from mmfasternet.datasets import generate_toy_ade
    root = tmp_path_factory.mktemp('toy_ade')
    generate_toy_ade(str(root), num_train=8, num_val=4, image_size=128, seed=2)
    return root


def train_step_then_predict(model, packed):
    """One SGD step (checking that the loss is finite and the backbone learns), then
    inference on the same batch; returns the predicted data samples."""
    import torch
    from mmengine.optim import OptimWrapper

    model.train()
    optim_wrapper = OptimWrapper(torch.optim.SGD(model.parameters(), lr=1e-3))
    before = model.backbone.patch_embed.proj.weight.detach().clone()
    losses = model.train_step(packed, optim_wrapper)
    assert torch.isfinite(losses['loss']).all()
    assert not torch.equal(before, model.backbone.patch_embed.proj.weight)
    model.eval()
    with torch.no_grad():
        return model.test_step(packed)
