import importlib.util
import json
import os
import os.path as osp
import re
import socket
import subprocess
import sys
import textwrap

import pytest
import torch
import torch.nn as nn
from torch.nn.modules.batchnorm import _BatchNorm

from forked_tools import ForkServer

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
TRAIN = osp.join(REPO, 'tools', 'train.py')
TEST = osp.join(REPO, 'tools', 'test.py')


def _installed(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ValueError:  # a None entry in sys.modules: imports of it fail
        return False


# What the tests marked `deploy` need: the deploy, int8 and openvino extras. Without them
# the tests under tests/deploy/ are not collected, and the report's header says so.
DEPLOY_PACKAGES = ('onnx', 'onnxruntime', 'onnxscript', 'openvino', 'nncf')
MISSING_DEPLOY_PACKAGES = [name for name in DEPLOY_PACKAGES if not _installed(name)]
collect_ignore_glob = ['deploy/*'] if MISSING_DEPLOY_PACKAGES else []


def pytest_report_header(config):
    if MISSING_DEPLOY_PACKAGES:
        return (f'tests/deploy/ not collected: {", ".join(MISSING_DEPLOY_PACKAGES)} missing '
                f'(pip install -e ".[deploy,int8,openvino]")')


def pytest_collection_modifyitems(config, items):
    """Mark every test under tests/deploy/ ``deploy``: the suite collects without the deploy
    extras, and ``-m "not deploy"`` runs what needs none of them."""
    deploy_dir = osp.join(REPO, 'tests', 'deploy') + os.sep
    for item in items:
        if str(item.path).startswith(deploy_dir):
            item.add_marker(pytest.mark.deploy)


def pytest_configure(config):
    """Under pytest-xdist (`make test`), each worker and the tools it starts compute on its
    share of the cores: two processes of two threads each on a 2-core machine ran a training
    step 4x slower than one alone."""
    workers = int(os.environ.get('PYTEST_XDIST_WORKER_COUNT', 0))
    if workers:
        threads = max(1, (os.cpu_count() or 1) // workers)
        os.environ['OMP_NUM_THREADS'] = str(threads)
        torch.set_num_threads(threads)


_fork_server = None


def pytest_sessionfinish(session):
    """Wait for the tool fork server: its runs' CPU time then counts as this process's
    children's, as a new interpreter's would (.ci/run prints it per step)."""
    if _fork_server is not None:
        _fork_server.close()


def run_tool(*args, cwd=REPO, timeout=600, env=None, check=True):
    """Run ``python ARGS`` (``tools/...``), as a user would, in a process of its own: forked
    from a server that has imported the libraries with this process's environment
    (tests/forked_tools.py), or in a new interpreter where ``env`` differs from it."""
    global _fork_server
    if _fork_server is None or not _fork_server.serves(dict(os.environ)):
        if _fork_server is not None:  # this process's environment changed since it started
            _fork_server.close()
        _fork_server = ForkServer()
    env = dict(os.environ) if env is None else env
    if _fork_server.serves(env):
        result = _fork_server.run(args, cwd, env, timeout)
    else:
        result = subprocess.run([sys.executable, *args], cwd=cwd, capture_output=True,
                                text=True, timeout=timeout, env=env)
    if check and result.returncode != 0:
        raise AssertionError(f'{args} exited with {result.returncode}:\n'
                             f'{result.stdout[-3000:]}\n{result.stderr[-5000:]}')
    return result


@pytest.fixture(scope='session')
def tiny_toy_coco(tmp_path_factory):
    """A small generated toy COCO set: 8 training and 4 validation images of 128 px."""
    from mmfasternet.testing.toy_coco import generate_toy_coco
    root = tmp_path_factory.mktemp('toy_coco')
    generate_toy_coco(str(root), num_train=8, num_val=4, image_size=128, seed=1)
    return root


@pytest.fixture(scope='session')
def tiny_toy_ade(tmp_path_factory):
    """A small generated toy ADE20K-format set: 8 training and 4 validation images of 128 px."""
    from mmfasternet.testing import generate_toy_ade
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

    from mmfasternet.testing.toy_scenes import CLASSES, render_object_crops
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
    custom_hooks = [dict(type='mmfasternet.RandomStateHook'), dict(type='SaveRankWeightsHook')]
    """)


def randomize_norms(model: nn.Module, seed: int = 0) -> nn.Module:
    """Give every BN non-trivial statistics and affine parameters, so that eval-mode
    comparisons exercise them."""
    gen = torch.Generator().manual_seed(seed)
    for m in model.modules():
        if isinstance(m, _BatchNorm):
            n = m.num_features
            m.running_mean.copy_(torch.randn(n, generator=gen) * 0.1)
            m.running_var.copy_(torch.rand(n, generator=gen) + 0.5)
            m.weight.data.copy_(torch.rand(n, generator=gen) + 0.5)
            m.bias.data.copy_(torch.randn(n, generator=gen) * 0.1)
    return model


def coco_metrics(result):
    """The COCO metrics a tool printed: ``{'coco/bbox_mAP': 0.1, ...}``."""
    return {k: float(v) for k, v in re.findall(r'(coco/\w+): (-?[\d.]+)',
                                               result.stdout + result.stderr)}


def final_metrics(work_dir):
    """The last validation record that mmengine logged in a work dir."""
    records = []
    for run in sorted(os.listdir(work_dir)):
        scalars = osp.join(work_dir, run, 'vis_data', 'scalars.json')
        if osp.exists(scalars):
            records += [json.loads(line) for line in open(scalars)]
    last = [r for r in records if 'coco/bbox_mAP' in r][-1]
    return {k: v for k, v in last.items() if k.startswith('coco/')}


def onnx_nodes(graph):
    """Every node of an ONNX graph, those inside ``If`` branches too."""
    import onnx
    for node in graph.node:
        yield node
        for attribute in node.attribute:
            if attribute.type == onnx.AttributeProto.GRAPH:
                yield from onnx_nodes(attribute.g)


def cls_batches(images, labels, batch_size):
    """mmpretrain data batches of ``images`` (HWC uint8 arrays) and their labels."""
    from mmpretrain.structures import DataSample
    for start in range(0, len(images), batch_size):
        chunk = slice(start, start + batch_size)
        yield dict(inputs=[torch.from_numpy(image).permute(2, 0, 1) for image in images[chunk]],
                   data_samples=[DataSample().set_gt_label(int(label))
                                 for label in labels[chunk]])


def train_toy_classifier():
    """The FasterNet-T0 ImageNet classifier (4 classes) trained from scratch for 16 steps of
    32 generated 64 px object crops; returned in eval mode."""
    from mmengine.config import Config
    from mmengine.optim import OptimWrapper
    from mmengine.registry import init_default_scope
    from mmpretrain.registry import MODELS

    from mmfasternet.testing.toy_scenes import CLASSES, render_object_crops

    init_default_scope('mmpretrain')
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'fasternet_t0_in1k.py'))
    cfg.model.head.num_classes = len(CLASSES)
    cfg.model.train_cfg = None  # no Mixup/CutMix for a 16-step run
    cfg.model.data_preprocessor = dict(type='ClsDataPreprocessor', num_classes=len(CLASSES),
                                       mean=[123.675, 116.28, 103.53],
                                       std=[58.395, 57.12, 57.375])
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    images, labels = render_object_crops(256, size=64, seed=0)
    optim_wrapper = OptimWrapper(torch.optim.AdamW(model.parameters(), lr=2e-3,
                                                   weight_decay=0.005))
    model.train()
    for _ in range(2):
        for batch in cls_batches(images, labels, 32):
            model.train_step(batch, optim_wrapper)
    return model.eval()


def stops(result, code=1):
    """The tool exited with ``code``, one message and no traceback; returns the message
    (stderr without the Python warnings that the stack prints at import)."""
    assert result.returncode == code, result.stdout[-2000:] + result.stderr[-4000:]
    assert 'Traceback' not in result.stderr, result.stderr[-4000:]
    lines, after_warning = [], False
    for line in result.stderr.splitlines():
        if re.match(r'^\S.*:\d+: \w*Warning: ', line):
            after_warning = True
        elif not (after_warning and line.startswith('  ')):
            after_warning = False
            lines.append(line)
    return '\n'.join(lines) + '\n'


def assert_says(message: str, *facts: str) -> None:
    """``message`` is one line that says each of ``facts`` (the file, the cause, the fix), in
    whatever words around them."""
    assert '\n' not in message.strip(), message
    missing = [fact for fact in facts if fact not in message]
    assert not missing, f'{message!r} does not say {missing}'


def last_line(result) -> str:
    """The last line a tool printed to stderr: its one-line message when it stops."""
    return result.stderr.strip().splitlines()[-1]


SMALL_DISK_MIB = 20


@pytest.fixture
def small_disk(request, tmp_path):
    """``(folder, command prefix)``: a folder on a tmpfs of ``SMALL_DISK_MIB`` MiB (or of
    the MiB an indirect parametrisation gives) where root can mount one; elsewhere a plain
    folder, and ``prlimit`` keeps each file a command writes under that size (Python ignores
    SIGXFSZ, so a write past it fails with EFBIG). Run commands with :func:`run_limited`."""
    size = getattr(request, 'param', SMALL_DISK_MIB)
    folder = tmp_path / 'small'
    folder.mkdir()
    mounted = subprocess.run(['mount', '-t', 'tmpfs', '-o', f'size={size}m', 'tmpfs',
                              str(folder)], capture_output=True).returncode == 0
    yield folder, [] if mounted else ['prlimit', f'--fsize={size * 2**20}', '--']
    if mounted:
        subprocess.run(['umount', str(folder)], check=True)


@pytest.fixture
def small_tmpfs(small_disk):
    """The folder of :func:`small_disk` where it is a tmpfs; skips elsewhere, for what a
    file size limit cannot stand for: files that a library writes in the temporary folder
    first, a full disk in the test's own process, or a disk filled before a tool runs."""
    folder, prefix = small_disk
    if prefix:
        pytest.skip('needs a tmpfs, which root mounts')
    return folder


def run_limited(prefix, *args, cwd=REPO):
    """Run ``python ARGS`` under the command ``prefix`` of :func:`small_disk`."""
    return subprocess.run([*prefix, sys.executable, *args], cwd=cwd, capture_output=True,
                          text=True, timeout=600)


def no_space_message(prefix, code: str) -> str:
    """Run the Python ``code`` under the command ``prefix`` of :func:`small_disk`; the
    message of the :class:`~mmfasternet.fileio.NoSpaceLeft` it raises (the last line it
    prints), or '' if it prints nothing."""
    script = ('from mmfasternet.fileio import NoSpaceLeft\ntry:\n'
              + textwrap.indent(code, '    ') + '\nexcept NoSpaceLeft as error:\n'
              '    print(error)\n')
    return (run_limited(prefix, '-c', script).stdout.strip().splitlines() or [''])[-1]


@pytest.fixture
def checkpoints_read_weights_only():
    """What a user's script that runs the task libraries' inferencers calls first,
    :func:`~mmfasternet.checkpoint.read_checkpoints_in_mmengine`, for one test; undone after
    it, so that the tests after it in this process see mmengine and torch as they were."""
    from mmengine.runner import CheckpointLoader

    from mmfasternet.checkpoint import read_checkpoints_in_mmengine
    schemes = dict(CheckpointLoader._schemes)
    serialization = torch.serialization
    allowed = (serialization.get_safe_globals() if hasattr(serialization, 'get_safe_globals')
               else None)
    read_checkpoints_in_mmengine()
    yield
    CheckpointLoader._schemes.clear()
    CheckpointLoader._schemes.update(schemes)
    if allowed is not None:
        serialization.clear_safe_globals()
        serialization.add_safe_globals(allowed)
