"""mmfasternet: FasterNet backbones for OpenMMLab 2.x (mmdet, mmseg, mmpretrain, mmpose).

Importing the package checks that torch, mmcv and mmengine are in the supported range and
registers the backbone (see :mod:`mmfasternet.registry`); it imports no task library. Beyond
that it only makes sure the ``mmfasternet::`` config look-up is in place, as the installed
start-up file does (:mod:`mmfasternet_config_lookup`: two look-ups of mmengine's config and
hub modules wrapped, once, every other path left to mmengine); it changes nothing else in
the process. This project's tools also read every checkpoint
weights-only through :func:`mmfasternet.checkpoint.read_checkpoints_in_mmengine`, and a host
project can do the same with that one call.
"""
import mmfasternet_config_lookup
from .compat import check_supported_stack

check_supported_stack()
mmfasternet_config_lookup.install()

from .errors import MMFasterNetError  # noqa: E402
from .models import FasterNet  # noqa: E402
from .version import __version__  # noqa: E402

__all__ = ['FasterNet', 'MMFasterNetError', '__version__']
