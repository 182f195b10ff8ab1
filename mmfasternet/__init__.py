"""mmfasternet: FasterNet backbones for OpenMMLab 2.x (mmdet, mmseg, mmpretrain).

Importing the package registers its models; see :mod:`mmfasternet.registry`.
"""
from .models import FasterNet
from .version import __version__

__all__ = ['FasterNet', '__version__']
