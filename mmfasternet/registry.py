"""The ``mmfasternet`` registry scope and registration into the OpenMMLab task libraries.

After ``import mmfasternet`` (or ``custom_imports=dict(imports=['mmfasternet'])`` in a
config) a model or hook registered here builds from the registries of every installed task
library (mmdet, mmseg, mmpretrain, mmpose) under its plain name, e.g. ``type='FasterNet'``, and from
anywhere under its scoped name, e.g. ``type='mmfasternet.FasterNet'`` (mmyolo, whose
``__init__`` refuses mmcv >= 2.1, is not imported to register into: use the scoped name there).
"""
import importlib
import importlib.util
from typing import TypeVar

from mmengine.registry import HOOKS as MMENGINE_HOOKS
from mmengine.registry import MODELS as MMENGINE_MODELS
from mmengine.registry import Registry

MODELS = Registry(
    'model', parent=MMENGINE_MODELS, scope='mmfasternet', locations=['mmfasternet.models'])
HOOKS = Registry(
    'hook', parent=MMENGINE_HOOKS, scope='mmfasternet', locations=['mmfasternet.engine.hooks'])

TASK_LIBRARIES = ('mmdet', 'mmseg', 'mmpretrain', 'mmpose')

T = TypeVar('T', bound=type)


def _register(cls: T, kind: str, own: Registry) -> T:
    own.register_module(module=cls)
    for library in TASK_LIBRARIES:
        if importlib.util.find_spec(library) is not None:
            registry = getattr(importlib.import_module(f'{library}.registry'), kind)
            registry.register_module(module=cls)
    return cls


def register_model(cls: T) -> T:
    """Register ``cls`` in the mmfasternet scope and in each installed task library."""
    return _register(cls, 'MODELS', MODELS)


def register_hook(cls: T) -> T:
    """Register the hook ``cls`` in the mmfasternet scope and in each task library."""
    return _register(cls, 'HOOKS', HOOKS)
