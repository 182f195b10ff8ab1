"""The one place that tells a detector from a segmentor from a classifier for deployment,
and the runtime model that ``tools/test.py`` puts in the place of a config's model when it
is given an exported ``.onnx`` file."""
import torch.nn as nn
from mmengine.model import BaseModel

from .runtimes import DeployError

# What each kind of model exports to and is evaluated as.
TASKS = ('detector', 'segmentor', 'classifier')


def deploy_task(model: nn.Module) -> str:
    """Which of :data:`TASKS` a built mmdet, mmseg or mmpretrain model is.

    Raises:
        DeployError: It is none of them.
    """
    if hasattr(model, 'roi_head') or hasattr(model, 'bbox_head'):
        return 'detector'
    if hasattr(model, 'decode_head'):
        return 'segmentor'
    if hasattr(model, 'head') and hasattr(model, 'backbone'):
        return 'classifier'
    raise DeployError(f'deployment covers Mask R-CNN detectors, mmseg segmentors and mmpretrain '
                      f'classifiers; this config builds a {type(model).__name__}')


def runtime_test_model(model: nn.Module, path: str, **runtime) -> BaseModel:
    """The model of the test loop that runs ``path`` for ``model`` (the config's built
    detector, segmentor or classifier).

    Args:
        model (nn.Module): The config's model.
        path (str): The exported (fp32 or int8) ``.onnx`` file.
        **runtime: ``backend``, ``precision`` and ``threads`` of
            :func:`~mmfasternet.deploy.runtimes.open_runtime`.

    Raises:
        DeployError: ``path`` is missing, unreadable, or does not fit the config.
    """
    task = deploy_task(model)
    if task == 'detector':
        from .detector import OnnxDetector
        return OnnxDetector(path, model.data_preprocessor,
                            model.roi_head.bbox_head.num_classes, **runtime)
    if task == 'segmentor':
        from .segmentor import OnnxSegmentor
        return OnnxSegmentor(path, model, **runtime)
    from .classifier import OnnxClassifier
    return OnnxClassifier(path, model, **runtime)
