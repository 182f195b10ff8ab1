"""mmfasternet: FasterNet backbones for OpenMMLab 2.x (mmdet, mmseg, mmpretrain).

Importing the package registers its models and hooks; see :mod:`mmfasternet.registry`.
"""
from .checkpoint import allow_mmengine_checkpoints
from .engine import RandomStateHook
from .models import FasterNet
from .version import __version__

allow_mmengine_checkpoints()

__all__ = ['FasterNet', 'RandomStateHook', '__version__']
