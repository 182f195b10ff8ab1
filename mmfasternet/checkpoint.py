"""Key maps between the checkpoint layouts of FasterNet weights.

This project uses the official layout (one flat ``stages`` sequence, stage and merging layers
alternating). timm (>= 1.0.16) regroups the same tensors so that each merging layer belongs
to the stage after it, and renames the classifier.
"""
import re
from typing import Dict, TypeVar

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
