"""The ``mmfasternet`` registry scope and registration into the OpenMMLab task libraries.

After ``import mmfasternet`` (or ``custom_imports=dict(imports=['mmfasternet'])`` in a
config) a model registered here builds from the ``MODELS`` registry of every installed task
library (mmdet, mmseg, mmpretrain) as ``type='FasterNet'``, and from anywhere as
``type='mmfasternet.FasterNet'``.
"""
import importlib
import importlib.util
from typing import Type, TypeVar

from mmengine.registry import MODELS as MMENGINE_MODELS
from mmengine.registry import Registry

MODELS = Registry(
    'model', parent=MMENGINE_MODELS, scope='mmfasternet', locations=['mmfasternet.models'])

TASK_LIBRARIES = ('mmdet', 'mmseg', 'mmpretrain')

T = TypeVar('T', bound=type)


def register_model(cls: T) -> T:
    """Register ``cls`` in the mmfasternet scope and in each installed task library."""
    MODELS.register_module(module=cls)
    for library in TASK_LIBRARIES:
        if importlib.util.find_spec(library) is not None:
            importlib.import_module(f'{library}.registry').MODELS.register_module(module=cls)
    return cls
