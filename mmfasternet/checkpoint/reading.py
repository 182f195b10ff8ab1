"""Reading FasterNet checkpoints safely: local files and http(s) URLs, weights-only on
every supported torch, with errors that say what to do."""
import os
import os.path as osp
import re
from typing import Any
from urllib.parse import urlparse

import torch

from .weights_only import UnsafeGlobals, load_weights_only

OFFICIAL_RELEASE_URL = 'https://github.com/JierunChen/FasterNet/releases/download/v1.0/'
OFFICIAL_IMAGENET_FILE = re.compile(
    r'^fasternet_(t0|t1|t2|s|m|l)-epoch\.\d+-val_acc1\.[\d.]+\.pth$')


def _check_exists(checkpoint: str) -> None:
    """Raise ``FileNotFoundError`` with what to do when a local checkpoint is missing: for an
    official ImageNet file, where to download it; always, how to train from scratch."""
    if osp.isfile(osp.expanduser(checkpoint)):
        return
    lines = [f'checkpoint not found: {checkpoint}']
    name = osp.basename(checkpoint)
    if OFFICIAL_IMAGENET_FILE.match(name):
        lines.append(f'This is an official FasterNet ImageNet checkpoint; download it to that '
                     f'path:\n  mkdir -p {osp.dirname(checkpoint) or "."} && '
                     f'wget -P {osp.dirname(checkpoint) or "."} {OFFICIAL_RELEASE_URL}{name}')
    lines.append('Or train the backbone from scratch:\n'
                 '  --cfg-options model.backbone.init_cfg=None')
    raise FileNotFoundError('\n'.join(lines))


class CheckpointError(ValueError):
    """A checkpoint that cannot be read safely or does not fit the model."""


def _download(url: str) -> str:
    """Fetch an http(s) checkpoint into torch's hub cache (once) and return its path."""
    if not url.startswith(('http://', 'https://')):
        raise CheckpointError(f'cannot read {url}: only local paths and http(s) URLs are '
                              f'supported for FasterNet weights')
    path = osp.join(torch.hub.get_dir(), 'checkpoints', osp.basename(urlparse(url).path))
    if not osp.isfile(path):
        os.makedirs(osp.dirname(path), exist_ok=True)
        torch.hub.download_url_to_file(url, path)
    return path


def read_checkpoint(path: str, map_location: Any = 'cpu') -> dict:
    """Read a checkpoint weights-only, on every supported torch; refuse, with a clear
    message, a file whose pickle would construct or call anything beyond tensors and plain
    data (mmengine's logging data included).

    Args:
        path (str): A local file or an http(s) URL (downloaded once into torch's cache).
        map_location: As for ``torch.load``. Defaults to ``'cpu'``.
    """
    if '://' in path:
        path = _download(path)
    _check_exists(path)
    path = osp.expanduser(path)
    try:
        checkpoint = load_weights_only(path, map_location)
    except UnsafeGlobals as error:
        raise CheckpointError(
            f'{path} was not loaded: its pickle refers to {error.names} that '
            f'weights-only loading refuses, and nothing in it was run. Checkpoints hold '
            f'tensors and plain data; re-save the state dict from a trusted environment, '
            f'e.g. torch.save(torch.load(path, weights_only=False)["state_dict"], out).'
        ) from None
    if not isinstance(checkpoint, dict):
        raise CheckpointError(f'{path} holds a {type(checkpoint).__name__}, not a dict of '
                              f'tensors or a checkpoint dict')
    return checkpoint


def read_checkpoints_in_mmengine() -> None:
    """Make mmengine read local and http(s) checkpoints with :func:`read_checkpoint`, so
    that ``load_from``, ``--resume``, ``tools/test.py`` and the inferencers read them
    weights-only on every supported torch (mmengine calls plain ``torch.load``, which runs
    pickles fully before torch 2.6)."""
    from mmengine.runner import CheckpointLoader

    def load(filename: str, map_location: Any = None, **kwargs) -> dict:
        return read_checkpoint(filename, map_location)

    CheckpointLoader.register_scheme(prefixes=['', 'http://', 'https://'], loader=load,
                                     force=True)
