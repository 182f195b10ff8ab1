"""The key layouts of FasterNet checkpoints and the renames between them.

This project uses the official layout (one flat ``stages`` sequence, stage and merging layers
alternating). timm (>= 1.0.16) regroups the same tensors so that each merging layer belongs
to the stage after it, and renames the classifier. mmdet, mmseg and mmpretrain checkpoints
hold the official names under ``backbone.``. :data:`LAYOUTS` holds one record per layout:
how it is recognised, its converters and whether its files lack output norms; adding a
layout is adding a record (and its test).
"""
import re
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, TypeVar

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


def _without_backbone_prefix(state: Dict[str, V]) -> Dict[str, V]:
    return {k[len('backbone.'):]: v for k, v in state.items() if k.startswith('backbone.')}


@dataclass(frozen=True)
class Layout:
    """One key layout of FasterNet checkpoints.

    Args:
        name (str): The name messages use.
        recognise (Callable): Whether a list of keys is in this layout.
        to_model (Callable): The state dict to a whole model's, under this project's
            names (an mmpretrain classifier's for ImageNet files).
        to_backbone (Callable): The state dict to the backbone's, official names (what
            classifier keys remain, callers drop).
        lacks_output_norms (bool): Whether files of this layout are ImageNet classifiers,
            which have no output norms (a detection backbone keeps its own then).
    """
    name: str
    recognise: Callable[[List[str]], bool]
    to_model: Callable[[dict], dict]
    to_backbone: Callable[[dict], dict]
    lacks_output_norms: bool


def _has(*prefixes: str) -> Callable[[List[str]], bool]:
    return lambda keys: any(k.startswith(prefixes) for k in keys)


# Every layout, in the order they are recognised: the first whose test passes names a file.
LAYOUTS = (
    Layout('mmpretrain', lambda keys: _has('backbone.')(keys) and _has('head.')(keys),
           to_model=dict, to_backbone=_without_backbone_prefix, lacks_output_norms=True),
    Layout('mmdet/mmseg', _has('backbone.'), to_model=dict,
           to_backbone=_without_backbone_prefix, lacks_output_norms=False),
    Layout('timm', lambda keys: _has('patch_embed.')(keys) and (
        any('.downsample.' in k for k in keys) or _has('conv_head.', 'classifier.')(keys)),
           to_model=lambda state: official_to_mmpretrain(timm_to_official(state)),
           to_backbone=timm_to_official, lacks_output_norms=True),
    Layout('official', _has('patch_embed.'), to_model=official_to_mmpretrain, to_backbone=dict,
           lacks_output_norms=True),
)


def detect_layout(checkpoint: dict) -> Layout:
    """The :data:`LAYOUTS` record of a FasterNet checkpoint (a plain state dict, or a dict
    with ``state_dict``).

    Raises:
        CheckpointError: No layout fits: not a FasterNet checkpoint.
    """
    keys = list(checkpoint.get('state_dict', checkpoint))
    for layout in LAYOUTS:
        if layout.recognise(keys):
            return layout
    raise CheckpointError(
        f'not a FasterNet checkpoint: no patch_embed.*, backbone.* or timm keys among '
        f'{keys[:5]}{"..." if len(keys) > 5 else ""}')


def to_mm_state_dict(checkpoint: dict, layout: Optional[Layout] = None
                     ) -> Dict[str, torch.Tensor]:
    """The whole model's weights of a checkpoint in ``layout`` (detected when not given)
    under this project's names: an mmpretrain classifier's for official and timm ImageNet
    files, the file's own for mmdet/mmseg/mmpretrain checkpoints."""
    layout = layout or detect_layout(checkpoint)
    return layout.to_model(checkpoint.get('state_dict', checkpoint))


def backbone_state_dict(checkpoint: dict, layout: Optional[Layout] = None
                        ) -> Dict[str, torch.Tensor]:
    """The backbone weights of a checkpoint in ``layout`` (detected when not given), under
    this project's (official) names, without classifier keys."""
    layout = layout or detect_layout(checkpoint)
    state = layout.to_backbone(checkpoint.get('state_dict', checkpoint))
    return {k: v for k, v in state.items() if not k.startswith(CLASSIFIER_PREFIXES)}
