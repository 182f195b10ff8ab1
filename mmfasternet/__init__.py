"""mmfasternet: FasterNet backbones for OpenMMLab 2.x (mmdet, mmseg, mmpretrain).

Importing the package checks that torch, mmcv and mmengine are in the supported range,
registers its models and hooks (see :mod:`mmfasternet.registry`) and makes every checkpoint
that mmengine reads load weights-only (see :mod:`mmfasternet.checkpoint`).
"""
import mmfasternet_config_lookup

from .compat import check_supported_stack

check_supported_stack()
mmfasternet_config_lookup.install()

from .checkpoint import allow_mmengine_checkpoints, read_checkpoints_in_mmengine  # noqa: E402
from .engine import RandomStateHook  # noqa: E402
from .errors import MMFasterNetError  # noqa: E402
from .models import FasterNet  # noqa: E402
from .version import __version__  # noqa: E402

allow_mmengine_checkpoints()
read_checkpoints_in_mmengine()

__all__ = ['FasterNet', 'MMFasterNetError', 'RandomStateHook', '__version__']
