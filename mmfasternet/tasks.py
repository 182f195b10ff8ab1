"""The one place that tells a detector from a segmentor from a classifier.

One :class:`Task` record per kind of model (:data:`TASKS`) says which task library runs it,
how it is recognised, exported, fed to a runtime, run in its test loop from an exported
file, checked against PyTorch, compared file with file and drawn. The tools
(``pytorch2onnx.py``, ``quantize.py``, ``test.py``, the benchmark, the FLOP counter and the
prediction drawing) ask :func:`task_of` (a built model) or :func:`task_of_config` (a
config) and use the record; none of them tells the kinds apart itself.
"""
from dataclasses import dataclass
from typing import Callable, Dict, Iterable, Optional, Tuple

import numpy as np
import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.model import BaseModel

from .deploy.export import export_onnx
from .deploy.mask_rcnn_graph import (export_mask_rcnn_onnx, mask_rcnn_feeds,
                                     mask_rcnn_image_feeds)
from .deploy.parity import (Parity, classification_agreement, detection_agreement,
                            detector_parity, segmentation_agreement, segmentor_parity,
                            tensor_parity)
from .deploy.runtime_models import RuntimeClassifier, RuntimeDetector, RuntimeSegmentor
from .deploy.segmentor_graph import export_segmentor_onnx, export_shape, segmentor_feeds
from .errors import MMFasterNetError

Feeds = Dict[str, np.ndarray]
Shape = Tuple[int, int]


class UnsupportedModel(MMFasterNetError, ValueError):
    """A model or config of a kind this project does not deploy or draw; names the kinds
    it does."""


@dataclass(frozen=True)
class Task:
    """How one kind of model is deployed, measured and drawn.

    Attributes:
        name: ``'detector'``, ``'segmentor'`` or ``'classifier'``.
        scope: The task library that runs it, a config's ``default_scope``.
        recognise: Whether a built model is of this kind.
        export_shape: Height and width exported with when none is asked for.
        export_file: ``(model, path, shape, opset, with_logits)`` to the size written.
        feeds: A preprocessed batch of one image and the file's input shapes to its inputs.
        image_feeds: A normalised (1, 3, H, W) image, taken as the original at scale 1, to
            the file's inputs.
        runtime_model: The test-loop model of an exported file:
            ``(path, model, **runtime)``.
        parity: ``(model, path, images, test_batches, **runtime)`` to a :class:`Parity`;
            ``test_batches(images)`` gives the config's test batches of one image.
        agreement: Pairs of two files' outputs on the same inputs to one line.
        data_samples: The data samples its ``forward`` takes for an input of a shape.
        drawing: The visualization hook's switch, and where its output folder is set
            (``'hook'`` or ``'visualizer'``, and the key).
    """
    name: str
    scope: str
    recognise: Callable[[nn.Module], bool]
    export_shape: Shape
    export_file: Callable[..., int]
    feeds: Callable[[dict, Dict[str, tuple]], Feeds]
    image_feeds: Callable[[torch.Tensor], Feeds]
    runtime_model: Callable[..., BaseModel]
    parity: Callable[..., Parity]
    agreement: Callable[[list], str]
    data_samples: Callable[[Shape], Optional[list]]
    drawing: Tuple[str, str, str]

    def export(self, model: nn.Module, path: str, shape: Optional[Shape] = None,
               opset: Optional[int] = None, with_logits: bool = False) -> int:
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
        """
        return self.export_file(model, path, tuple(shape or self.export_shape), opset,
                                with_logits)

    def agreement_of(self, reference, model, feeds: Iterable[Feeds]) -> str:
        """How closely the runtime model ``model`` (e.g. an int8 file) follows
        ``reference`` (its fp32 file) on ``feeds``, in one line."""
        return self.agreement([(reference.run(f), model.run(f)) for f in feeds])


def _metainfo(shape: Shape) -> dict:
    return dict(img_shape=shape, ori_shape=shape, pad_shape=shape, batch_input_shape=shape,
                scale_factor=(1.0, 1.0))


def _det_samples(shape: Shape) -> list:
    from mmdet.structures import DetDataSample
    return [DetDataSample(metainfo=_metainfo(shape))]


def _seg_samples(shape: Shape) -> list:
    from mmseg.structures import SegDataSample
    return [SegDataSample(metainfo=_metainfo(shape))]


def _on_test_images(check: Callable[..., Parity]) -> Callable[..., Parity]:
    """A :attr:`Task.parity` that runs ``check`` on the config's first test images."""
    return lambda model, path, images, test_batches, **runtime: check(
        model, path, test_batches(images), **runtime)


def _image(data: dict, input_shapes: Dict[str, tuple]) -> Feeds:
    return dict(image=data['inputs'].detach().cpu().numpy())


DETECTOR = Task(
    name='detector', scope='mmdet',
    recognise=lambda model: hasattr(model, 'roi_head') or hasattr(model, 'bbox_head'),
    export_shape=(800, 1344),
    export_file=lambda model, path, shape, opset, with_logits: export_mask_rcnn_onnx(
        model, path, shape),
    feeds=lambda data, input_shapes: mask_rcnn_feeds(data['inputs'],
                                                     data['data_samples'][0].metainfo),
    image_feeds=mask_rcnn_image_feeds,
    runtime_model=RuntimeDetector,
    parity=_on_test_images(detector_parity),
    agreement=detection_agreement,
    data_samples=_det_samples,
    drawing=('draw', 'hook', 'test_out_dir'))

SEGMENTOR = Task(
    name='segmentor', scope='mmseg',
    recognise=lambda model: hasattr(model, 'decode_head'),
    export_shape=(512, 512),
    export_file=lambda model, path, shape, opset, with_logits: export_segmentor_onnx(
        model, path, export_shape(model.test_cfg, shape), with_logits),
    feeds=lambda data, input_shapes: segmentor_feeds(data['inputs'],
                                                     input_shapes['image'][2:]),
    image_feeds=lambda image: dict(image=image.numpy()),
    runtime_model=RuntimeSegmentor,
    parity=_on_test_images(segmentor_parity),
    agreement=segmentation_agreement,
    data_samples=_seg_samples,
    drawing=('draw', 'visualizer', 'save_dir'))

CLASSIFIER = Task(
    name='classifier', scope='mmpretrain',
    recognise=lambda model: hasattr(model, 'head') and hasattr(model, 'backbone'),
    export_shape=(224, 224),
    export_file=lambda model, path, shape, opset, with_logits: export_onnx(
        model, path, (1, 3, *shape), opset, mode='tensor'),
    feeds=_image,
    image_feeds=lambda image: dict(image=image.numpy()),
    runtime_model=RuntimeClassifier,
    parity=lambda model, path, images, test_batches, **runtime: tensor_parity(
        model, path, images, mode='tensor'),
    agreement=classification_agreement,
    data_samples=lambda shape: None,
    drawing=('enable', 'hook', 'out_dir'))

# In the order they are recognised in: a detector may also have a ``head``-like part.
TASKS = (DETECTOR, SEGMENTOR, CLASSIFIER)
SUPPORTED = 'Mask R-CNN detectors (mmdet), segmentors (mmseg) and classifiers (mmpretrain)'


def task_of(model: nn.Module) -> Task:
    """The :class:`Task` of a built mmdet, mmseg or mmpretrain model.

    Raises:
        UnsupportedModel: It is none of them.
    """
    for task in TASKS:
        if task.recognise(model):
            return task
    raise UnsupportedModel(f'this project deploys {SUPPORTED}; this config builds a '
                           f'{type(model).__name__}')


def task_of_config(cfg: Config) -> Task:
    """The :class:`Task` of a config, by its ``default_scope``.

    Raises:
        UnsupportedModel: The scope is none of the three task libraries'.
    """
    scope = cfg.get('default_scope')
    for task in TASKS:
        if task.scope == scope:
            return task
    raise UnsupportedModel(f'default_scope={scope!r} names no task library this project '
                           f'knows; expected one of {[task.scope for task in TASKS]}')
