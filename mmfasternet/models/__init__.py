import importlib.util

from .backbones import FasterNet

__all__ = ['FasterNet']

if importlib.util.find_spec('mmpretrain') is not None:  # the classifier head needs it
    from .heads import FasterNetClsHead  # noqa: F401
    __all__.append('FasterNetClsHead')
