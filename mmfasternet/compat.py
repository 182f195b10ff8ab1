"""The supported range of the stack, checked at import, and gates for features that need a
newer torch than the oldest one supported."""
import importlib
import re
from typing import Tuple

import mmengine
import torch

from .errors import MMFasterNetError

SUPPORTED = dict(torch=((2, 0), (2, 15)), mmcv=((2, 0), (2, 2)), mmengine=((0, 10), (1, 0)))
SUPPORTED_RANGE = 'torch 2.0-2.14, mmcv 2.0.x-2.1.x, mmengine 0.10.x'


class UnsupportedVersionError(MMFasterNetError, ImportError):
    """A package of the stack is outside the range mmfasternet supports."""


class NeedsNewerTorch(MMFasterNetError, RuntimeError):
    """A feature that the installed torch is too old for."""


def version_tuple(version: str) -> Tuple[int, int]:
    """``'2.1.2+cu121'`` -> ``(2, 1)``."""
    major, minor = re.match(r'(\d+)\.(\d+)', version).groups()
    return int(major), int(minor)


TORCH_VERSION = version_tuple(torch.__version__)


def check_supported_stack() -> None:
    """Raise :class:`UnsupportedVersionError` naming the package and the supported range
    when torch, mmcv or mmengine is outside it."""
    try:
        mmcv = importlib.import_module('mmcv')
    except ImportError:
        raise UnsupportedVersionError(
            'mmfasternet needs mmcv 2.0.x-2.1.x (mmcv with its ops for detection, or '
            'mmcv-lite); install one, e.g. mim install "mmcv>=2.0.0,<2.2.0"') from None
    for module in (torch, mmcv, mmengine):
        low, high = SUPPORTED[module.__name__]
        if not low <= version_tuple(module.__version__) < high:
            raise UnsupportedVersionError(
                f'mmfasternet supports {SUPPORTED_RANGE}; found {module.__name__} '
                f'{module.__version__}')


def torch_at_least(major: int, minor: int) -> bool:
    """Whether the installed torch is at least ``major.minor``."""
    return TORCH_VERSION >= (major, minor)


def require_torch(major: int, minor: int, feature: str) -> None:
    """Raise :class:`NeedsNewerTorch` in one line when ``feature`` needs a newer torch."""
    if not torch_at_least(major, minor):
        raise NeedsNewerTorch(f'{feature} needs torch >= {major}.{minor}; this is torch '
                              f'{torch.__version__}')
