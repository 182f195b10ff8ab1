import os
import os.path as osp
import socket
import subprocess
import sys
import textwrap

import pytest
import torch

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


@pytest.fixture(scope='session')
def tiny_image_folder(tmp_path_factory):
    """A small generated ImageNet-style set: ``train/`` and ``val/`` with one folder of
    64 px object crops per class (8 and 4 images)."""
    import cv2
    from mmfasternet.datasets.toy_scenes import CLASSES, render_object_crops
    root = tmp_path_factory.mktemp('image_folder')
    for split, num, seed in (('train', 8, 0), ('val', 4, 1)):
        images, labels = render_object_crops(num, size=64, seed=seed)
        for name in CLASSES:
            (root / split / name).mkdir(parents=True)
        for i, (image, label) in enumerate(zip(images, labels)):
            cv2.imwrite(str(root / split / CLASSES[label] / f'{i}.png'), image[..., ::-1])
    return root


def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


SAVE_RANK_WEIGHTS = """\
import torch
from mmengine.dist import get_rank
from mmengine.hooks import Hook
from mmengine.registry import HOOKS


@HOOKS.register_module()
class SaveRankWeightsHook(Hook):
    def after_run(self, runner):
        model = getattr(runner.model, 'module', runner.model)
        params = {k: v.detach().clone() for k, v in model.named_parameters()}
        torch.save(params, f'{runner.work_dir}/rank{get_rank()}.pth')
"""


def dist_train(tmp_path, config: str, *args):
    """Train ``config`` with ``tools/dist_train.sh`` in 2 CPU processes, each saving its
    parameters after the run (the config must add ``SaveRankWeightsHook`` from the module
    ``rank_weights``). Returns the log and the parameters of rank 0 and rank 1."""
    (tmp_path / 'rank_weights.py').write_text(SAVE_RANK_WEIGHTS)
    work_dir = tmp_path / 'work'
    env = dict(os.environ, PYTHON=sys.executable, PORT=str(free_port()),
               PYTHONPATH=str(tmp_path), OMP_NUM_THREADS='1')
    result = subprocess.run(
        ['bash', osp.join(REPO, 'tools', 'dist_train.sh'), config, '2', '--work-dir',
         str(work_dir), *args], cwd=REPO, env=env, capture_output=True, text=True,
        timeout=600)
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-12000:]
    assert 'Distributed launcher: pytorch' in log
    rank0, rank1 = (torch.load(work_dir / f'rank{r}.pth') for r in (0, 1))
    assert rank0.keys() == rank1.keys() and len(rank0) > 50
    for key in rank0:
        assert torch.equal(rank0[key], rank1[key]), key
    return log, rank0, work_dir


RANK_HOOKS = textwrap.dedent("""\
    custom_imports = dict(imports=['mmfasternet', 'rank_weights'])
    custom_hooks = [dict(type='RandomStateHook'), dict(type='SaveRankWeightsHook')]
    """)
