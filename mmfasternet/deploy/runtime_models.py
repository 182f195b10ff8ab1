"""The runtime models: an exported file run by ONNX Runtime or OpenVINO in the place of the
config's PyTorch model in its task library's test loop (``tools/test.py CONFIG file.onnx``).
Each takes the config's built model for its data preprocessor, class count and test
settings, and refuses a file that is not of its kind or was exported for another class
count."""
from types import SimpleNamespace
from typing import Dict, List, Optional

import numpy as np
import torch
import torch.nn as nn
from mmengine.model import BaseModel
from torch import Tensor

from .errors import DeployError
from .export import CLASSIFIER_TASK
from .mask_rcnn_graph import MASK_FORMS, MASK_RCNN_TASK, mask_rcnn_feeds
from .masks import paste_box_masks
from .runtimes import Runtime, open_runtime
from .segmentor_graph import SEGMENTOR_TASK


def check_exported_for(runtime: Runtime, path: str, task: str,
                       num_classes: Optional[int], strict: bool = True) -> None:
    """Raise :class:`.errors.DeployError` unless the exported ``path`` (a
    :class:`.runtimes.Runtime` of it) records the ``task`` and ``num_classes`` of the config
    it is used with; with ``strict=False`` a file that records neither (an older export)
    passes."""
    recorded = runtime.metadata.get('task')
    if recorded is not None and recorded != task:
        raise DeployError(f'{path} was exported for {recorded}, but the config builds a model '
                          f'for {task}: give the file exported from this config, or use the '
                          f'config it came from')
    exported = runtime.metadata.get('num_classes')
    if num_classes is None or (exported is None and not strict):
        return
    if exported != str(num_classes):
        raise DeployError(f'{path} was exported for {exported} classes, but the config has '
                          f'{num_classes}: export it from this config, or test it with the '
                          f'config it came from')


def run_images(runtime: Runtime, images: Tensor) -> List[Tensor]:
    """The outputs of the file ``runtime`` (one ``image`` input) for a (B, 3, H, W) batch:
    one run where the file takes any batch size, else one run per image, concatenated."""
    images = images.detach().cpu().numpy()
    if runtime.input_shapes['image'][0] is None:
        runs = [runtime.run({'image': images})]
    else:
        runs = [runtime.run({'image': image[None]}) for image in images]
    return [torch.from_numpy(np.concatenate(outputs)) for outputs in zip(*runs)]


def check_detector_file(runtime: Runtime, path: str, detector: nn.Module) -> str:
    """The form of masks (:data:`.mask_rcnn_graph.MASK_FORMS`) of the exported detector
    ``path``, opened as ``runtime``; a :class:`.errors.DeployError` when it is none, or was
    exported for another task or class count than ``detector``'s."""
    for form, (inputs, outputs) in MASK_FORMS.items():
        if (runtime.input_names, runtime.output_names) == (list(inputs), list(outputs)):
            check_exported_for(runtime, path, MASK_RCNN_TASK,
                               detector.roi_head.bbox_head.num_classes)
            return form
    raise DeployError(f'{path} is not an exported detector: it takes {runtime.input_names} '
                      f'and returns {runtime.output_names}, where one written by '
                      f'tools/deployment/pytorch2onnx.py takes and returns one of '
                      f'{[(list(i), list(o)) for i, o in MASK_FORMS.values()]}')


class RuntimeDetector(BaseModel):
    """An exported Mask R-CNN in mmdet's test loop: the config's own data preprocessor
    feeds it, and it returns detections in the original images, as
    ``predict(..., rescale=True)`` does; box-local masks are pasted inside their boxes
    (:func:`.masks.paste_box_masks`).

    Args:
        path (str): A file from :func:`.mask_rcnn_graph.export_mask_rcnn_onnx` (either form
            of masks), or its int8 form from ``tools/deployment/quantize.py``.
        detector (nn.Module): The config's built detector.
        **runtime: ``backend``, ``precision`` and ``threads`` of
            :func:`~mmfasternet.deploy.runtimes.base.open_runtime`.
    """

    def __init__(self, path: str, detector: nn.Module, **runtime):
        super().__init__(data_preprocessor=detector.data_preprocessor)
        self.runtime = open_runtime(path, **runtime)
        self.mask_form = check_detector_file(self.runtime, path, detector)
        self.mask_threshold = detector.test_cfg.rcnn.mask_thr_binary

    def run(self, image: Tensor, metainfo: dict) -> Dict[str, Tensor]:
        """The detections of one preprocessed (1, 3, H, W) image and its metainfo, with
        binary masks at the original image's size."""
        outputs = self.runtime.run(mask_rcnn_feeds(image, metainfo, self.runtime.input_names))
        boxes, scores, labels, masks = (torch.from_numpy(out) for out in outputs)
        height, width = metainfo['ori_shape'][:2]
        if self.mask_form == 'box':
            masks = paste_box_masks(masks, boxes, height, width, self.mask_threshold)
        else:  # OpenVINO gives no detections empty (0, 0, 0) masks: the image's size
            masks = masks.reshape(-1, height, width)
        return dict(boxes=boxes, scores=scores, labels=labels, masks=masks)

    def forward(self, inputs: Tensor, data_samples=None, mode: str = 'predict'):
        from mmengine.structures import InstanceData

        for image, sample in zip(inputs, data_samples):
            out = self.run(image[None], sample.metainfo)
            sample.pred_instances = InstanceData(
                bboxes=out['boxes'], scores=out['scores'], labels=out['labels'],
                masks=out['masks'])
        return data_samples


def check_segmentor_file(runtime: Runtime, path: str, segmentor: nn.Module,
                         need_logits: bool) -> None:
    """Raise :class:`.errors.DeployError` unless the file ``path``, opened as ``runtime``, is
    an exported segmentor of ``segmentor``'s task and class count, with its logits where
    ``need_logits``."""
    if runtime.input_names != ['image'] or runtime.output_names not in (
            ['labels'], ['labels', 'logits']):
        raise DeployError(f'{path} is not an exported segmentor: it takes '
                          f'{runtime.input_names} and returns {runtime.output_names}, where one '
                          f'exported by tools/deployment/pytorch2onnx.py takes [\'image\'] and '
                          f'returns [\'labels\', \'logits\']')
    check_exported_for(runtime, path, SEGMENTOR_TASK, segmentor.decode_head.num_classes)
    if need_logits and runtime.output_names != ['labels', 'logits']:
        raise DeployError(f'{path} returns {runtime.output_names}; tools/test.py needs a '
                          f'segmentor exported with its logits (pytorch2onnx.py --seg-logits)')


class RuntimeSegmentor(BaseModel):
    """An exported segmentor in mmseg's test loop, with the config's data preprocessor and
    test mode (whole or slide): mmseg's own sliding and post-processing run around the
    exported crop model.

    Args:
        path (str): A file from :func:`.segmentor_graph.export_segmentor_onnx` with logits,
            or its int8 form from ``tools/deployment/quantize.py``.
        segmentor (nn.Module): The config's built segmentor (for its preprocessor, test
            config and class count).
        **runtime: ``backend``, ``precision`` and ``threads`` of
            :func:`~mmfasternet.deploy.runtimes.base.open_runtime`.
    """

    def __init__(self, path: str, segmentor: nn.Module, **runtime):
        super().__init__(data_preprocessor=segmentor.data_preprocessor)
        self.runtime = open_runtime(path, **runtime)
        check_segmentor_file(self.runtime, path, segmentor, need_logits=True)
        self.input_shape = self.runtime.input_shapes['image'][2:]
        self.test_cfg = segmentor.test_cfg
        self.align_corners = segmentor.align_corners
        self.out_channels = segmentor.out_channels
        self.decode_head = SimpleNamespace(threshold=segmentor.decode_head.threshold)

    def run(self, images: Tensor) -> Dict[str, Tensor]:
        """The file's outputs for preprocessed (B, 3, H, W) images of its size."""
        if tuple(images.shape[2:]) != self.input_shape:
            raise DeployError(f'the exported segmentor takes {self.input_shape} inputs, got '
                              f'{tuple(images.shape[2:])}: export it at the size the test '
                              f'pipeline makes (--shape), or use a slide-mode config')
        return dict(zip(['labels', 'logits'], run_images(self.runtime, images)))

    def encode_decode(self, inputs: Tensor, batch_img_metas: List[dict]) -> Tensor:
        return self.run(inputs)['logits']

    def forward(self, inputs: Tensor, data_samples=None, mode: str = 'predict'):
        from mmseg.models.segmentors import BaseSegmentor, EncoderDecoder

        metas = [sample.metainfo for sample in data_samples]
        if self.test_cfg.get('mode') == 'slide':
            logits = EncoderDecoder.slide_inference(self, inputs, metas)
        else:
            logits = self.encode_decode(inputs, metas)
        return BaseSegmentor.postprocess_result(self, logits, data_samples)


def classifier_metadata(classifier: nn.Module) -> Dict[str, str]:
    """What an exported classifier records: its task and, where its head has one, its
    class count."""
    num_classes = getattr(classifier.head, 'num_classes', None)
    return dict(task=CLASSIFIER_TASK,
                **({} if num_classes is None else dict(num_classes=str(num_classes))))


def check_classifier_file(runtime: Runtime, path: str, classifier: nn.Module) -> None:
    """Raise :class:`.errors.DeployError` unless the file ``path``, opened as ``runtime``,
    is an exported classifier (``image`` in, one tensor of logits out) of ``classifier``'s
    task and class count (where the file records them)."""
    if runtime.input_names != ['image'] or len(runtime.output_names) != 1:
        raise DeployError(f'{path} is not an exported classifier: it takes '
                          f'{runtime.input_names} and returns {runtime.output_names}, where a '
                          f'classifier takes [\'image\'] and returns one tensor of logits')
    check_exported_for(runtime, path, CLASSIFIER_TASK,
                       getattr(classifier.head, 'num_classes', None), strict=False)


class RuntimeClassifier(BaseModel):
    """An exported classifier (``image`` in, logits out) in mmpretrain's test loop: the
    config's data preprocessor feeds it each batch (in one run where the file takes any
    batch size, as ``pytorch2onnx.py`` exports it) and the config's head turns the logits
    into predictions.

    Args:
        path (str): A classifier written by ``tools/deployment/pytorch2onnx.py``, or its
            int8 form from ``tools/deployment/quantize.py``.
        classifier (nn.Module): The config's built ``ImageClassifier``.
        **runtime: ``backend``, ``precision`` and ``threads`` of
            :func:`~mmfasternet.deploy.runtimes.base.open_runtime`.
    """

    def __init__(self, path: str, classifier: nn.Module, **runtime):
        super().__init__(data_preprocessor=classifier.data_preprocessor)
        self.runtime = open_runtime(path, **runtime)
        check_classifier_file(self.runtime, path, classifier)
        self.head = classifier.head
        self.input_shape = self.runtime.input_shapes['image'][2:]

    def logits(self, images: Tensor) -> Tensor:
        """The logits of preprocessed (B, 3, H, W) images."""
        if None not in self.input_shape and tuple(images.shape[2:]) != self.input_shape:
            raise DeployError(f'the exported classifier takes {self.input_shape} inputs, got '
                              f'{tuple(images.shape[2:])}: export it at the size the test '
                              f'pipeline makes (pytorch2onnx.py --shape)')
        return run_images(self.runtime, images)[0]

    def forward(self, inputs: Tensor, data_samples=None, mode: str = 'predict'):
        logits = self.logits(inputs)
        num_classes = getattr(self.head, 'num_classes', logits.shape[1])
        if logits.shape[1] != num_classes:
            raise DeployError(f'the exported classifier has {logits.shape[1]} classes, but the '
                              f'config has {num_classes}: export it from this config')
        return self.head._get_predictions(logits, data_samples)
