"""mmfasternet: FasterNet backbones for OpenMMLab 2.x (mmdet, mmseg, mmpretrain).

Importing the package checks that torch, mmcv and mmengine are in the supported range,
registers its models and hooks (see :mod:`mmfasternet.registry`) and lets torch's
weights-only loading read the data classes mmengine writes into checkpoints. It changes
nothing else in the process: mmengine keeps its own checkpoint loader. This project's tools
read every checkpoint weights-only through
:func:`mmfasternet.checkpoint.read_checkpoints_in_mmengine`, and a host project can do the same
with that one call.
"""
import mmfasternet_config_lookup

from .compat import check_supported_stack

check_supported_stack()
mmfasternet_config_lookup.install()

from .checkpoint import allow_mmengine_checkpoints  # noqa: E402
from .engine import RandomStateHook  # noqa: E402
from .errors import MMFasterNetError  # noqa: E402
from .models import FasterNet  # noqa: E402
from .version import __version__  # noqa: E402

allow_mmengine_checkpoints()

__all__ = ['FasterNet', 'MMFasterNetError', 'RandomStateHook', '__version__']
