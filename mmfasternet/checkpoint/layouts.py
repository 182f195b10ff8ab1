"""The key layouts of FasterNet checkpoints and the renames between them.

This project uses the official layout (one flat ``stages`` sequence, stage and merging layers
alternating). timm (>= 1.0.16) regroups the same tensors so that each merging layer belongs
to the stage after it, and renames the classifier. mmdet, mmseg and mmpretrain checkpoints
hold the official names under ``backbone.``.
"""
import re
from typing import Dict, TypeVar

import torch

from .reading import CheckpointError

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


_OFFICIAL_HEAD_TO_MMPRETRAIN = {'avgpool_pre_head.': 'head.avgpool_pre_head.',
                                'head.': 'head.fc.'}


def official_to_mmpretrain(state_dict: Dict[str, V]) -> Dict[str, V]:
    """Rename an official classifier's keys to those of an mmpretrain ``ImageClassifier``
    with a FasterNet backbone and :class:`FasterNetClsHead`."""
    return {(_rename_prefix(k, _OFFICIAL_HEAD_TO_MMPRETRAIN)
             if k.startswith(tuple(_OFFICIAL_HEAD_TO_MMPRETRAIN)) else f'backbone.{k}'): v
            for k, v in state_dict.items()}


CLASSIFIER_PREFIXES = ('avgpool_pre_head.', 'head.')


def detect_layout(checkpoint: dict) -> str:
    """Name the layout of a FasterNet checkpoint.

    Returns:
        str: ``'official'`` (official ImageNet release: a plain state dict), ``'timm'``,
        ``'mmdet'`` (an mmdet 2.x/3.x or mmseg checkpoint: ``state_dict`` with ``backbone.``
        keys and no classifier head) or ``'mmpretrain'`` (``state_dict`` with ``backbone.``
        and ``head.`` keys).
    """
    state = checkpoint.get('state_dict', checkpoint)
    keys = list(state)
    if any(k.startswith('backbone.') for k in keys):
        return 'mmpretrain' if any(k.startswith('head.') for k in keys) else 'mmdet'
    if any('.downsample.' in k or k.startswith(('conv_head.', 'classifier.')) for k in keys):
        return 'timm'
    if any(k.startswith('patch_embed.') for k in keys):
        return 'official'
    raise CheckpointError(
        f'not a FasterNet checkpoint: no patch_embed.*, backbone.* or timm keys among '
        f'{keys[:5]}{"..." if len(keys) > 5 else ""}')


def to_mm_state_dict(checkpoint: dict) -> Dict[str, torch.Tensor]:
    """The whole model's weights of any supported layout under this project's names: an
    mmpretrain classifier's for official and timm ImageNet files, the file's own for
    mmdet/mmseg/mmpretrain checkpoints."""
    layout = detect_layout(checkpoint)
    state = checkpoint.get('state_dict', checkpoint)
    if layout == 'timm':
        state = timm_to_official(state)
    if layout in ('official', 'timm'):
        state = official_to_mmpretrain(state)
    return dict(state)


def backbone_state_dict(checkpoint: dict) -> Dict[str, torch.Tensor]:
    """The backbone weights of any supported layout, under this project's (official)
    names, without classifier keys."""
    layout = detect_layout(checkpoint)
    state = checkpoint.get('state_dict', checkpoint)
    if layout in ('mmdet', 'mmpretrain'):
        state = {k[len('backbone.'):]: v for k, v in state.items() if k.startswith('backbone.')}
    elif layout == 'timm':
        state = timm_to_official(state)
    return {k: v for k, v in state.items() if not k.startswith(CLASSIFIER_PREFIXES)}
