"""The whole Mask R-CNN on the deploy path, as a service runs it: the exported file in every
runtime and precision, and the masks pasted into the image, either inside the file
(``--masks image``) or inside each box after it (``--masks box``, the default), timed side
by side."""
import os.path as osp
from functools import partial
from typing import Callable, Dict, List, Sequence, Tuple

import torch
import torch.nn as nn

from mmfasternet.analysis import tensor_model
from mmfasternet.deploy.mask_rcnn_graph import MASK_FORMS
from mmfasternet.deploy.runtime_models import RuntimeDetector
from mmfasternet.deploy.tasks import DETECTOR
from mmfasternet.engine.tool_config import load_config
from .latency import interleaved_latency_ms
from .low_precision import quantized_copies, ratio_table, row_file
from .peers import DENSE_PAIRS


def busy_detector(config: str, shape: Tuple[int, int]) -> nn.Module:
    """The detector of ``config`` with random weights, but its box head's bias of one class
    set to 10, so that every proposal scores high and the mask head works on
    ``max_per_img`` detections, as in a busy image (with random weights and the config's
    score threshold a detector finds nothing, and timing it would leave the mask head
    out)."""
    detector = tensor_model(load_config(config), shape, mode='predict').model
    with torch.no_grad():
        detector.roi_head.bbox_head.fc_cls.bias[0] = 10
    return detector


def detector_files(detector: nn.Module, name: str, workdir: str,
                   shape: Tuple[int, int]) -> Dict[str, Tuple[str, Dict[str, str]]]:
    """Export ``detector`` in each form of masks into ``workdir`` and quantise each for
    every runtime on two random images: form to its fp32 file and int8 files."""
    feeds = DETECTOR.image_feeds(torch.randn(1, 3, *shape), MASK_FORMS['image'].inputs)
    files = {}
    for form, (inputs, _) in MASK_FORMS.items():
        fp32 = osp.join(workdir, f'{name.replace(" ", "_")}_{form}.onnx')
        DETECTOR.export(detector, fp32, feeds['image'].shape[2:], masks=form)
        calibration = {key: feeds[key] for key in inputs}
        files[form] = fp32, quantized_copies(fp32, [calibration] * 2)
    return files


def detector_calls(name: str, detector: nn.Module, files: Dict[str, tuple],
                   image: torch.Tensor, threads: int, rows: Sequence[Tuple[str, str]]
                   ) -> Dict[tuple, Tuple[Callable, torch.Tensor]]:
    """One call per form of masks and ``(runtime, precision)`` of ``rows``, keyed
    ``(name, form, runtime, precision)``: the runtime model's
    :meth:`~mmfasternet.deploy.runtime_models.RuntimeDetector.run` on the normalised
    ``image`` taken as the original at scale 1 (the file, and the paste of box-local masks),
    for :func:`~.latency.interleaved_latency_ms`."""
    height, width = image.shape[2:]
    feeds = DETECTOR.image_feeds(image, MASK_FORMS['image'].inputs)
    metainfo = dict(img_shape=(height, width), scale_factor=(1.0, 1.0),
                    ori_shape=(height, width))
    calls = {}
    for form, (fp32, int8) in files.items():
        shapes = {key: feeds[key].shape for key in MASK_FORMS[form].inputs}
        for runtime, precision in rows:
            path, runs_at = row_file(fp32, int8, runtime, precision)
            model = RuntimeDetector(path, detector, backend=runtime, precision=runs_at,
                                    threads=threads, shapes=shapes)
            calls[name, form, runtime, precision] = (
                partial(model.run, metainfo=metainfo), torch.from_numpy(feeds['image']))
    return calls


def detector_table(threads: int, rounds: int, rows: Sequence[Tuple[str, str]], workdir: str
                   ) -> Tuple[List[str], Dict[tuple, float]]:
    """The whole Mask R-CNN S and R50 of :data:`~.peers.DENSE_PAIRS` (:func:`busy_detector`),
    each in both forms of its masks, in every ``(runtime, precision)`` of ``rows``: the
    median ms of ``rounds`` runs after one warm-up, one round-robin per row (its four
    detectors).

    Returns:
        tuple: The table (each detector's ms, box-local masks over masks pasted in the file
        for each backbone, then S over R50) and the median ms keyed ``(name, runtime,
        precision)``, ``name`` such as ``'Mask R-CNN FasterNet-S (box masks)'``.
    """
    ours, peer, shape = DENSE_PAIRS['Mask R-CNN']
    detectors = {}
    for name, config in (('Mask R-CNN FasterNet-S', ours), ('Mask R-CNN ResNet-50', peer)):
        detector = busy_detector(config, shape)
        detectors[name] = detector, detector_files(detector, name, workdir, shape)
    image = torch.randn(1, 3, *shape)
    latency = {}
    for row in rows:
        calls = {}
        for name, (detector, files) in detectors.items():
            calls.update(detector_calls(name, detector, files, image, threads, [row]))
        latency.update(interleaved_latency_ms(calls, rounds=rounds, per_round=1, warmup=1))
        del calls  # the runtimes' memory, before the next row's open
    latency = {(f'{name} ({form} masks)', runtime, precision): ms
               for (name, form, runtime, precision), ms in latency.items()}
    (s_box, s_image), (r50_box, r50_image) = (
        [f'{name} ({form} masks)' for form in ('box', 'image')] for name in detectors)
    pairs = [(s_box, s_image), (r50_box, r50_image), (s_box, r50_box)]
    return ratio_table(latency, [s_box, s_image, r50_box, r50_image], pairs, rows), latency
