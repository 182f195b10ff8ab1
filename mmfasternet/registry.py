"""The ``mmfasternet`` registry scope.

What this package registers goes into its own scope and into mmengine's root registry,
the parent of every OpenMMLab library's registry. So after ``import mmfasternet`` (or
``custom_imports=dict(imports=['mmfasternet'])`` in a config) ``type='FasterNet'`` builds
from mmdet, mmseg, mmpretrain, mmpose, mmyolo or any other library's scope without this
package importing one of them, and ``type='mmfasternet.FasterNet'`` builds from anywhere.

``import mmfasternet`` imports only the backbone. The rest registers when mmengine first
looks a scoped name up (``mmfasternet.FasterNetClsHead``, ``mmfasternet.RandomStateHook``):
it imports each registry's ``locations`` then.
"""
from typing import TypeVar

from mmengine.registry import HOOKS as ROOT_HOOKS
from mmengine.registry import MODELS as ROOT_MODELS
from mmengine.registry import Registry

MODELS = Registry(
    'model', parent=ROOT_MODELS, scope='mmfasternet', locations=['mmfasternet.models.heads'])
HOOKS = Registry(
    'hook', parent=ROOT_HOOKS, scope='mmfasternet', locations=['mmfasternet.engine.hooks'])

T = TypeVar('T', bound=type)


def register_model(cls: T) -> T:
    """Register the model ``cls`` in the mmfasternet scope and in mmengine's root."""
    MODELS.register_module(module=cls)
    return ROOT_MODELS.register_module(module=cls)


def register_hook(cls: T) -> T:
    """Register the hook ``cls`` in the mmfasternet scope and in mmengine's root."""
    HOOKS.register_module(module=cls)
    return ROOT_HOOKS.register_module(module=cls)
