"""The ONNX Runtime stand-in that ``tools/test.py`` puts in the place of a config's model
when it is given an exported ``.onnx`` file."""
import torch.nn as nn
from mmengine.model import BaseModel


def onnx_test_model(model: nn.Module, path: str) -> BaseModel:
    """The model of the test loop that runs ``path`` for ``model`` (the config's built
    detector or segmentor).

    Raises:
        ValueError: ``path`` is missing, unreadable, or does not fit the config.
    """
    if hasattr(model, 'roi_head'):
        from .detector import OnnxDetector
        return OnnxDetector(path, model.data_preprocessor,
                            model.roi_head.bbox_head.num_classes)
    if hasattr(model, 'decode_head'):
        from .segmentor import OnnxSegmentor
        return OnnxSegmentor(path, model)
    raise ValueError(f'{path}: tools/test.py evaluates exported Mask R-CNN detectors and '
                     f'mmseg segmentors; this config builds a {type(model).__name__}')
