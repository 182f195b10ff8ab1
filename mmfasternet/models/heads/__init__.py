"""Heads, registered on first use of their scoped names (see :mod:`mmfasternet.registry`):
the classifier head subclasses mmpretrain's, and importing mmpretrain's heads imports its
whole model zoo, so it is here only where mmpretrain is installed."""
import importlib.util

__all__ = []

if importlib.util.find_spec('mmpretrain') is not None:
    from .fasternet_cls_head import FasterNetClsHead  # noqa: F401
    __all__.append('FasterNetClsHead')
