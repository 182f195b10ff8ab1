"""The one place that tells a detector from a segmentor from a classifier.

One :class:`Task` subclass per kind of model, registered in :data:`TASKS`, says which task
library runs it and how it is exported, fed to a runtime, run in its test loop from an
exported file, checked against PyTorch, compared file with file and drawn. One rule picks
it: the task library a model's class (or the first of its bases that one of them defines)
comes from, and a config's ``default_scope``. The tools (``pytorch2onnx.py``,
``quantize.py``, ``test.py``, the benchmark, the FLOP counter and the prediction drawing) ask
:func:`task_of` (a built model) or :func:`task_of_config` (a config) and use the task; none
of them tells the kinds apart itself.
"""
from typing import ClassVar, Dict, Iterable, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.model import BaseModel

from mmfasternet.errors import MMFasterNetError
from .export import export_onnx
from .mask_rcnn_graph import export_mask_rcnn_onnx, mask_rcnn_feeds, mask_rcnn_image_feeds
from .parity import (Parity, classification_agreement, detection_agreement, detector_parity,
                     segmentation_agreement, segmentor_parity, tensor_parity)
from .runtime_models import (RuntimeClassifier, RuntimeDetector, RuntimeSegmentor,
                             check_classifier_file, check_detector_file, check_segmentor_file,
                             classifier_metadata)
from .segmentor_graph import export_segmentor_onnx, export_shape, segmentor_feeds

Feeds = Dict[str, np.ndarray]
Shape = Tuple[int, int]


class UnsupportedModel(MMFasterNetError, ValueError):
    """A model or config of a kind this project does not deploy or draw; names the kinds
    it does."""


def _metainfo(shape: Shape) -> dict:
    return dict(img_shape=shape, ori_shape=shape, pad_shape=shape, batch_input_shape=shape,
                scale_factor=(1.0, 1.0))


class Task:
    """How one kind of model is deployed, measured and drawn.

    Attributes:
        name (str): ``'detector'``, ``'segmentor'`` or ``'classifier'``.
        scope (str): The task library that runs it, a config's ``default_scope``.
        described (str): What it deploys, for messages.
        export_shape (tuple): Height and width exported with when none is asked for.
        drawing (tuple): The visualization hook's switch, and where its output folder is
            set (``'hook'`` or ``'visualizer'``, and the key).
    """
    name: ClassVar[str]
    scope: ClassVar[str]
    described: ClassVar[str]
    export_shape: ClassVar[Shape]
    drawing: ClassVar[Tuple[str, str, str]]

    def export(self, model: nn.Module, path: str, shape: Optional[Shape] = None,
               opset: Optional[int] = None, with_logits: bool = False,
               masks: str = 'box') -> int:
        """Write ``model`` (eval mode) to the ONNX file ``path``; the size in bytes.

        Args:
            shape (tuple, optional): Height and width; :attr:`export_shape` by default. A
                detector only traces with it (its file takes any size); a slide-mode
                segmentor exports its crop.
            opset (int, optional): A classifier's ONNX opset (see
                :func:`~mmfasternet.deploy.export.export_onnx`); detectors and segmentors
                export opset 17.
            with_logits (bool): A segmentor also returns its logits (``tools/test.py``
                needs them).
            masks (str): A detector's masks: ``'box'``, box-local (default), or
                ``'image'``, pasted into the image in the file (see
                :data:`~mmfasternet.deploy.mask_rcnn_graph.MASK_FORMS`).
        """
        raise NotImplementedError

    def feeds(self, data: dict, input_shapes: Dict[str, tuple]) -> Feeds:
        """The file's inputs from a preprocessed batch of one image."""
        raise NotImplementedError

    def image_feeds(self, image: torch.Tensor, inputs: Sequence[str] = ('image', )) -> Feeds:
        """The file's ``inputs`` (its input names) from a normalised (1, 3, H, W) image,
        taken as the original at scale 1."""
        return dict(image=image.numpy())

    def check_file(self, runtime, path: str, model: nn.Module) -> None:
        """Raise :class:`~.errors.DeployError` unless ``path``, opened as ``runtime``, is
        a file of this task exported from ``model``'s config (its inputs, outputs, task and
        class count)."""
        raise NotImplementedError

    def runtime_model(self, path: str, model: nn.Module, **runtime) -> BaseModel:
        """The test-loop model of the exported ``path`` (``runtime``: ``backend``,
        ``precision``, ``threads``)."""
        raise NotImplementedError

    def parity(self, model: nn.Module, path: str, images: int, test_batches,
               **runtime) -> Parity:
        """How the file ``path`` agrees with ``model`` on ``images`` images;
        ``test_batches(images)`` gives the config's test batches of one image."""
        raise NotImplementedError

    def agreement(self, pairs: list) -> str:
        """Pairs of two files' outputs on the same inputs, in one line."""
        raise NotImplementedError

    def data_samples(self, shape: Shape) -> Optional[list]:
        """The data samples its ``forward`` takes for an input of ``shape``."""
        return None

    def agreement_of(self, reference, model, feeds: Iterable[Feeds]) -> str:
        """How closely the runtime model ``model`` (e.g. an int8 file) follows
        ``reference`` (its fp32 file) on ``feeds``, in one line."""
        return self.agreement([(reference.run(f), model.run(f)) for f in feeds])


TASKS: Dict[str, Task] = {}


def register_task(cls: type) -> type:
    """Add an instance of the :class:`Task` subclass ``cls`` to :data:`TASKS`."""
    TASKS[cls.name] = cls()
    return cls


@register_task
class Detector(Task):
    """Mask R-CNN detectors of mmdet, exported whole with their post-processing."""
    name, scope, described = 'detector', 'mmdet', 'Mask R-CNN detectors (mmdet)'
    export_shape = (800, 1344)
    drawing = ('draw', 'hook', 'test_out_dir')

    def export(self, model, path, shape=None, opset=None, with_logits=False, masks='box'):
        return export_mask_rcnn_onnx(model, path, tuple(shape or self.export_shape), masks)

    def feeds(self, data, input_shapes):
        return mask_rcnn_feeds(data['inputs'], data['data_samples'][0].metainfo,
                               list(input_shapes))

    def image_feeds(self, image, inputs=('image', )):
        return mask_rcnn_image_feeds(image, inputs)

    def check_file(self, runtime, path, model):
        check_detector_file(runtime, path, model)

    def runtime_model(self, path, model, **runtime):
        return RuntimeDetector(path, model, **runtime)

    def parity(self, model, path, images, test_batches, **runtime):
        return detector_parity(model, path, test_batches(images), **runtime)

    def agreement(self, pairs):
        return detection_agreement(pairs)

    def data_samples(self, shape):
        from mmdet.structures import DetDataSample
        return [DetDataSample(metainfo=_metainfo(shape))]


@register_task
class Segmentor(Task):
    """mmseg's encoder-decoder segmentors."""
    name, scope, described = 'segmentor', 'mmseg', 'segmentors (mmseg)'
    export_shape = (512, 512)
    drawing = ('draw', 'visualizer', 'save_dir')

    def export(self, model, path, shape=None, opset=None, with_logits=False, masks='box'):
        return export_segmentor_onnx(
            model, path, export_shape(model.test_cfg, tuple(shape or self.export_shape)),
            with_logits)

    def feeds(self, data, input_shapes):
        return segmentor_feeds(data['inputs'], input_shapes['image'][2:])

    def check_file(self, runtime, path, model):
        check_segmentor_file(runtime, path, model, need_logits=False)

    def runtime_model(self, path, model, **runtime):
        return RuntimeSegmentor(path, model, **runtime)

    def parity(self, model, path, images, test_batches, **runtime):
        return segmentor_parity(model, path, test_batches(images), **runtime)

    def agreement(self, pairs):
        return segmentation_agreement(pairs)

    def data_samples(self, shape):
        from mmseg.structures import SegDataSample
        return [SegDataSample(metainfo=_metainfo(shape))]


@register_task
class Classifier(Task):
    """mmpretrain's image classifiers, exported as their logits."""
    name, scope, described = 'classifier', 'mmpretrain', 'classifiers (mmpretrain)'
    export_shape = (224, 224)
    drawing = ('enable', 'hook', 'out_dir')

    def export(self, model, path, shape=None, opset=None, with_logits=False, masks='box'):
        return export_onnx(model, path, (1, 3, *(shape or self.export_shape)), opset,
                           metadata=classifier_metadata(model), mode='tensor')

    def feeds(self, data, input_shapes):
        return dict(image=data['inputs'].detach().cpu().numpy())

    def check_file(self, runtime, path, model):
        check_classifier_file(runtime, path, model)

    def runtime_model(self, path, model, **runtime):
        return RuntimeClassifier(path, model, **runtime)

    def parity(self, model, path, images, test_batches, **runtime):
        return tensor_parity(model, path, images, mode='tensor')

    def agreement(self, pairs):
        return classification_agreement(pairs)


DETECTOR, SEGMENTOR, CLASSIFIER = TASKS['detector'], TASKS['segmentor'], TASKS['classifier']


def _described() -> str:
    kinds = [task.described for task in TASKS.values()]
    return f'{", ".join(kinds[:-1])} and {kinds[-1]}'


def task_of(model: nn.Module) -> Task:
    """The :class:`Task` of a built model: the one of the task library that defines its
    class, or the first of its bases that a task library defines.

    Raises:
        UnsupportedModel: No registered task's library defines it.
    """
    scopes = {task.scope: task for task in TASKS.values()}
    for cls in type(model).__mro__:
        library = cls.__module__.split('.')[0]
        if library in scopes:
            return scopes[library]
    raise UnsupportedModel(f'this project deploys {_described()}; this config builds a '
                           f'{type(model).__name__}')


def task_of_config(cfg: Config) -> Task:
    """The :class:`Task` of a config, by its ``default_scope``.

    Raises:
        UnsupportedModel: The scope is none of the registered tasks' libraries.
    """
    scope = cfg.get('default_scope')
    for task in TASKS.values():
        if task.scope == scope:
            return task
    raise UnsupportedModel(f'default_scope={scope!r} names no task library this project '
                           f'knows; expected one of {[task.scope for task in TASKS.values()]}')
