"""Key maps between the checkpoint layouts of FasterNet weights.

This project uses the official layout (one flat ``stages`` sequence, stage and merging layers
alternating). timm (>= 1.0.16) regroups the same tensors so that each merging layer belongs
to the stage after it, and renames the classifier.
"""
import os.path as osp
import pickle
import re
from typing import Dict, TypeVar

import torch

V = TypeVar('V')

_OFFICIAL_HEAD_TO_TIMM = {'avgpool_pre_head.1.': 'conv_head.', 'head.': 'classifier.'}
_OFFICIAL_STAGE = re.compile(r'^stages\.(\d+)\.')
_TIMM_STAGE = re.compile(r'^stages\.(\d+)\.(downsample\.)?')


def _rename_prefix(key: str, mapping: Dict[str, str]) -> str:
    for old, new in mapping.items():
        if key.startswith(old):
            return new + key[len(old):]
    return key


def official_to_timm(state_dict: Dict[str, V]) -> Dict[str, V]:
    """Rename official FasterNet keys to timm's ``fasternet_*`` layout."""

    def rename(key: str) -> str:
        match = _OFFICIAL_STAGE.match(key)
        if match:
            index = int(match.group(1))
            prefix = f'stages.{index // 2}.' if index % 2 == 0 else \
                f'stages.{(index + 1) // 2}.downsample.'
            return prefix + key[match.end():]
        return _rename_prefix(key, _OFFICIAL_HEAD_TO_TIMM)

    return {rename(key): value for key, value in state_dict.items()}


def timm_to_official(state_dict: Dict[str, V]) -> Dict[str, V]:
    """Rename timm ``fasternet_*`` keys to the official layout used by this project."""
    timm_head_to_official = {v: k for k, v in _OFFICIAL_HEAD_TO_TIMM.items()}

    def rename(key: str) -> str:
        match = _TIMM_STAGE.match(key)
        if match:
            index = int(match.group(1))
            official = 2 * index - 1 if match.group(2) else 2 * index
            return f'stages.{official}.' + key[match.end():]
        return _rename_prefix(key, timm_head_to_official)

    return {rename(key): value for key, value in state_dict.items()}



def _history_buffer_statistic(owner: type, name: str):
    """Stand-in for ``getattr`` while unpickling a checkpoint.

    mmengine's ``HistoryBuffer.__getstate__`` pickles its statistics methods as
    ``getattr(HistoryBuffer, 'mean')`` and so on. A general ``getattr`` would let a crafted
    file reach any attribute of an allowed object (``ndarray.tofile``, say), so only these
    lookups are served.
    """
    from mmengine.logging import HistoryBuffer
    allowed = {'min', 'max', 'current', 'mean', *HistoryBuffer._statistics_methods}
    if owner is HistoryBuffer and name in allowed:
        return getattr(HistoryBuffer, name)
    raise pickle.UnpicklingError(
        f'refusing getattr({owner!r}, {name!r}) in a checkpoint: only the statistics '
        f'methods of mmengine\'s HistoryBuffer may be looked up')


def _mmengine_checkpoint_globals() -> list:
    """The non-tensor globals that mmengine 0.10 writes into its checkpoints: the
    ``message_hub`` holds ``HistoryBuffer`` objects with NumPy arrays and scalars."""
    import numpy as np
    from mmengine.logging import HistoryBuffer

    multiarray = np._core.multiarray if hasattr(np, '_core') else np.core.multiarray
    dtypes = [type(np.dtype(name)) for name in (
        'bool', 'int8', 'int16', 'int32', 'int64', 'uint8', 'uint16', 'uint32', 'uint64',
        'float16', 'float32', 'float64')]
    return [HistoryBuffer, multiarray._reconstruct, multiarray.scalar, np.ndarray, np.dtype,
            *dtypes, (_history_buffer_statistic, 'builtins.getattr')]


def allow_mmengine_checkpoints() -> None:
    """Let ``torch.load(..., weights_only=True)``, the default since torch 2.6, read the
    checkpoints mmengine writes, so that resuming and testing work without turning
    weights-only loading off. Only data classes are allowed, plus the narrow lookup above;
    a pickle that would call anything else is still refused."""
    torch.serialization.add_safe_globals(_mmengine_checkpoint_globals())


OFFICIAL_RELEASE_URL = 'https://github.com/JierunChen/FasterNet/releases/download/v1.0/'
OFFICIAL_IMAGENET_FILE = re.compile(r'^fasternet_(t0|t1|t2|s|m|l)-epoch\.\d+-val_acc1\.[\d.]+\.pth$')


def check_pretrained_exists(checkpoint: str) -> None:
    """Raise ``FileNotFoundError`` with what to do when a local pretrained file is missing.

    Remote checkpoints (``https://``, ``torchvision://``, ...) are left to mmengine.
    """
    if '://' in checkpoint or osp.isfile(osp.expanduser(checkpoint)):
        return
    lines = [f'pretrained backbone weights not found: {checkpoint}']
    name = osp.basename(checkpoint)
    if OFFICIAL_IMAGENET_FILE.match(name):
        lines.append(f'This is an official FasterNet ImageNet checkpoint; download it to that '
                     f'path:\n  mkdir -p {osp.dirname(checkpoint) or "."} && '
                     f'wget -P {osp.dirname(checkpoint) or "."} {OFFICIAL_RELEASE_URL}{name}')
    lines.append('Or train the backbone from scratch:\n'
                 '  --cfg-options model.backbone.init_cfg=None')
    raise FileNotFoundError('\n'.join(lines))
