"""The stack mmfasternet is tested with, checked at import, and gates for features that need
a newer torch than the oldest one supported.

A version outside the tested range gets one warning naming the range: it may well work, and
the user finds out. Only a version known to break is refused, with the reason.
"""
import importlib
import importlib.metadata
import re
import warnings
from typing import Dict, Tuple

import mmengine
import torch

from .errors import MMFasterNetError

# The oldest and newest minor versions the suite runs on (README: the stacks CI tests).
TESTED: Dict[str, Tuple[Tuple[int, int], Tuple[int, int]]] = dict(
    torch=((2, 0), (2, 15)), mmcv=((2, 0), (2, 1)), mmengine=((0, 10), (0, 10)))
TESTED_RANGE = 'torch 2.0-2.15, mmcv 2.0-2.1, mmengine 0.10'
# Versions below these break, and why.
BREAKS_BELOW: Dict[str, Tuple[Tuple[int, int], str]] = dict(
    torch=((2, 0), 'the tools build models under torch.device as a context manager, new in '
                   'torch 2.0'),
    mmcv=((2, 0), 'mmcv 1.x belongs to OpenMMLab 1.x (mmdet 2.x, mmseg 0.x), whose '
                  'registries and configs differ'),
    mmengine=((0, 4), "the registries' import locations are new in mmengine 0.4"))


class UnsupportedVersionError(MMFasterNetError, ImportError):
    """A package of the stack is at a version known to break mmfasternet."""


class UntestedVersionWarning(UserWarning):
    """A package of the stack is outside the range mmfasternet is tested with."""


class NeedsNewerTorch(MMFasterNetError, RuntimeError):
    """A feature that the installed torch is too old for."""


def version_tuple(version: str) -> Tuple[int, int]:
    """``'2.1.2+cu121'`` -> ``(2, 1)``."""
    major, minor = re.match(r'(\d+)\.(\d+)', version).groups()
    return int(major), int(minor)


TORCH_VERSION = version_tuple(torch.__version__)


def mmcv_version() -> str:
    """The installed mmcv's version, read from its package metadata: importing mmcv loads
    OpenCV, which the backbone does not need until a model is built."""
    for distribution in ('mmcv', 'mmcv-lite', 'mmcv-full'):
        try:
            return importlib.metadata.version(distribution)
        except importlib.metadata.PackageNotFoundError:
            pass
    try:  # no metadata: a source tree on sys.path, or no mmcv
        return importlib.import_module('mmcv').__version__
    except ImportError:
        raise UnsupportedVersionError(
            'mmfasternet needs mmcv 2.x (with its ops for detection, or mmcv-lite); '
            'install one, e.g. mim install "mmcv>=2.0.0,<2.2.0"') from None


def check_supported_stack() -> None:
    """Raise :class:`UnsupportedVersionError` for a torch, mmcv or mmengine known to break,
    naming the reason; warn once (:class:`UntestedVersionWarning`) naming the tested range
    when one of them is outside it."""
    versions = dict(torch=torch.__version__, mmcv=mmcv_version(),
                    mmengine=mmengine.__version__)
    untested = []
    for name, found in versions.items():
        version = version_tuple(found)
        floor, reason = BREAKS_BELOW[name]
        if version < floor:
            raise UnsupportedVersionError(
                f'mmfasternet needs {name} >= {floor[0]}.{floor[1]}, found {found}: {reason}')
        low, high = TESTED[name]
        if not low <= version <= high:
            untested.append(f'{name} {found}')
    if untested:
        warnings.warn(f'mmfasternet is tested with {TESTED_RANGE}; found '
                      f'{", ".join(untested)}, which may work: please report what breaks',
                      UntestedVersionWarning, stacklevel=2)


def torch_at_least(major: int, minor: int) -> bool:
    """Whether the installed torch is at least ``major.minor``."""
    return TORCH_VERSION >= (major, minor)


def require_torch(major: int, minor: int, feature: str) -> None:
    """Raise :class:`NeedsNewerTorch` in one line when ``feature`` needs a newer torch."""
    if not torch_at_least(major, minor):
        raise NeedsNewerTorch(f'{feature} needs torch >= {major}.{minor}; this is torch '
                              f'{torch.__version__}')
