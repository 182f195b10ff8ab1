"""Parity checks: an exported file against the PyTorch model it came from
(``pytorch2onnx.py --verify``), and one file against another on the same inputs (an int8
file against its fp32 one, ``quantize.py``). Each says in one line what agreed, and lists
what did not."""
from typing import Iterable, List, NamedTuple, Sequence, Tuple

import numpy as np
import torch
import torch.nn as nn

from .errors import DeployError
from .runtime_models import RuntimeDetector, check_segmentor_file
from .runtimes import open_runtime

# Outputs of two runs of one model: a list of (reference outputs, other outputs) pairs.
OutputPairs = Sequence[Tuple[list, list]]


class Parity(NamedTuple):
    """What a parity check found: ``problems`` (empty when the two agree) and, when they
    agree, ``agreed``, one line on the inputs and how closely."""
    problems: List[str]
    agreed: str


def match_detections(expected, got, box_tol: float = 1e-2, score_tol: float = 1e-4,
                     mask_iou: float = 0.99) -> List[str]:
    """Compare an exported detector's outputs with mmdet's ``predict(rescale=True)``;
    return what differs (empty when they agree).

    Instances are paired by label and nearest box, so near-tied scores that come out in
    another order still pair up. Each pair must agree on the box within ``box_tol`` pixels,
    the score within ``score_tol`` and the mask IoU to at least ``mask_iou``.

    Args:
        expected: mmdet's ``pred_instances`` (``bboxes``, ``scores``, ``labels``,
            ``masks``).
        got (dict): The exported model's ``boxes``, ``scores``, ``labels``, ``masks``.
    """
    if len(expected) != len(got['boxes']):
        return [f'{len(got["boxes"])} instances, where PyTorch finds {len(expected)}']
    if tuple(got['masks'].shape[1:]) != tuple(expected.masks.shape[1:]):
        return [f'masks of {tuple(got["masks"].shape[1:])} pixels, where PyTorch pastes them '
                f'at {tuple(expected.masks.shape[1:])}']
    problems, unused = [], set(range(len(expected)))
    for i in range(len(got['boxes'])):
        candidates = [j for j in unused if int(expected.labels[j]) == int(got['labels'][i])]
        if not candidates:
            problems.append(f'instance {i}: no PyTorch instance of label {int(got["labels"][i])}')
            continue
        j = min(candidates,
                key=lambda j: float((expected.bboxes[j] - got['boxes'][i]).abs().max()))
        unused.discard(j)
        box = float((expected.bboxes[j] - got['boxes'][i]).abs().max())
        score = float((expected.scores[j] - got['scores'][i]).abs())
        mask, ref = got['masks'][i], expected.masks[j]
        union = float((mask | ref).sum())
        iou = float((mask & ref).sum()) / union if union else 1.0  # both empty: the same
        if box > box_tol or score > score_tol or iou < mask_iou:
            problems.append(f'instance {i}: box off by {box:.2e} px, score by {score:.2e}, '
                            f'mask IoU {iou:.4f}')
    return problems


def _image_name(data: dict, k: int) -> str:
    return data['data_samples'][0].metainfo.get('img_path', f'image {k}')


def detector_parity(detector: nn.Module, path: str, batches: Iterable[dict],
                    **runtime) -> Parity:
    """Run mmdet's ``predict`` and the exported file on ``batches`` (dataloader batches of
    one image, through the config's test pipeline, so at its test scale); every instance
    must match (see :func:`match_detections`).

    Args:
        detector (nn.Module): The eval-mode PyTorch detector, BN not folded.
        path (str): The exported file.
        batches: Dataloader batches of one image each.
        **runtime: ``backend``, ``precision`` and ``threads`` of
            :func:`~mmfasternet.deploy.runtimes.base.open_runtime`.
    """
    exported = RuntimeDetector(path, detector, **runtime)
    problems, count, images = [], 0, 0
    for images, batch in enumerate(batches, 1):
        with torch.no_grad():
            data = detector.data_preprocessor(batch, False)
            expected = detector.predict(data['inputs'], data['data_samples'],
                                        rescale=True)[0].pred_instances
        got = exported.run(data['inputs'], data['data_samples'][0].metainfo)
        count += len(expected)
        name = _image_name(data, images - 1)
        problems += [f'{name}: {p}' for p in match_detections(expected, got)]
    return Parity(problems, f'{images} test images: all {count} instances agree (boxes within '
                            f'1e-2 px, scores within 1e-4, same labels, mask IoU >= 0.99)')


def segmentor_parity(segmentor: nn.Module, path: str, batches: Iterable[dict],
                     **runtime) -> Parity:
    """Run PyTorch and the exported file on the top-left export-sized crop of each of
    ``batches`` (dataloader batches of one image); the class maps must agree on at least
    99.9% of pixels.

    Args:
        segmentor (nn.Module): The eval-mode PyTorch segmentor, BN not folded.
        path (str): The exported file (with or without logits).
        batches: Dataloader batches of one image each.
        **runtime: ``backend``, ``precision`` and ``threads`` of
            :func:`~mmfasternet.deploy.runtimes.base.open_runtime`.
    """
    model = open_runtime(path, **runtime)
    check_segmentor_file(model, path, segmentor, need_logits=False)
    height, width = model.input_shapes['image'][2:]
    problems, pixels, images = [], 0, 0
    for images, batch in enumerate(batches, 1):
        with torch.no_grad():
            data = segmentor.data_preprocessor(batch, False)
            image = data['inputs'][:, :, :height, :width]
            if tuple(image.shape[2:]) != (height, width):
                raise DeployError(f'test image {images - 1} is '
                                  f'{tuple(data["inputs"].shape[2:])}, smaller than the '
                                  f'exported size {(height, width)}')
            meta = dict(data['data_samples'][0].metainfo, img_shape=image.shape[2:])
            expected = segmentor.encode_decode(image, [meta]).argmax(dim=1)
        labels = torch.from_numpy(model.run({'image': image.numpy()})[0])
        agree = float((labels == expected).float().mean())
        pixels += labels.numel()
        if agree < 0.999:
            problems.append(f'{_image_name(data, images - 1)}: class maps agree on '
                            f'{100 * agree:.2f}% of pixels')
    return Parity(problems, f'{images} test images: the class maps agree on at least 99.9% of '
                            f'every image ({pixels} pixels)')


def tensor_parity(model: nn.Module, path: str, images: int = 4, tolerance: float = 1e-3,
                  **forward_kwargs) -> Parity:
    """Run ``model(x, **forward_kwargs)`` and the exported file on ``images`` random
    images of the file's input size (a classifier's config often names ImageNet, which
    need not be on disk), two at a time where the file takes any batch size; every output
    must agree within ``tolerance`` times its largest magnitude (at least 1).

    Args:
        model (nn.Module): The eval-mode PyTorch model, BN not folded: a backbone or a
            classifier (with ``mode='tensor'``).
        path (str): The exported file.
    """
    exported = open_runtime(path, inputs=['image'], what='an exported model')
    batch, *shape = exported.input_shapes['image']
    if None in shape:
        raise DeployError(f'{path} takes images of any size; parity needs a static one')
    batch = batch or 2
    largest = 0.0
    for done in range(0, images, batch):
        x = torch.randn(min(batch, images - done), *shape)
        with torch.no_grad():
            expected = model(x, **forward_kwargs)
        expected = expected if isinstance(expected, (tuple, list)) else [expected]
        got = exported.run({'image': x.numpy()})
        for want, out in zip(expected, got):
            diff = float(np.abs(out - want.numpy()).max())
            largest = max(largest, diff)
            if diff > tolerance * max(1.0, float(want.abs().max())):
                return Parity([f'an output differs by up to {diff:.2e}'], '')
    return Parity([], f'{images} random images: max abs diff {largest:.2e} (eval mode, BN not '
                      f'folded)')


def classification_agreement(pairs: OutputPairs) -> str:
    """Top-1 agreement and the largest logit error of two classifiers' ``pairs``."""
    same = np.mean([np.argmax(a[0]) == np.argmax(b[0]) for a, b in pairs])
    error = max(float(np.abs(a[0] - b[0]).max() / (np.abs(a[0]).max() + 1e-12))
                for a, b in pairs)
    return (f'top-1 agrees on {100 * same:.1f}% of {len(pairs)} images; largest logit '
            f'error {100 * error:.1f}% of the largest logit')


def segmentation_agreement(pairs: OutputPairs) -> str:
    """The share of pixels of the same class in two segmentors' ``pairs``."""
    same = np.mean([np.mean(a[0] == b[0]) for a, b in pairs])
    return f'the class maps agree on {100 * same:.2f}% of pixels ({len(pairs)} images)'


def detection_agreement(pairs: OutputPairs) -> str:
    """How many of the reference's detections the other finds again (same label, box IoU
    >= 0.5), with their mean IoU and score difference, in two detectors' ``pairs``."""
    from torchvision.ops import box_iou
    found = matched = 0
    ious, score_errors = [], []
    for (boxes, scores, labels, _), (boxes2, scores2, labels2, _) in pairs:
        found += len(boxes)
        if not len(boxes) or not len(boxes2):
            continue
        iou = box_iou(torch.from_numpy(boxes), torch.from_numpy(boxes2)).numpy()
        iou[labels[:, None] != labels2[None, :]] = 0
        for i in range(len(boxes)):
            j = int(iou[i].argmax())
            if iou[i, j] >= 0.5:
                matched += 1
                ious.append(iou[i, j])
                score_errors.append(abs(float(scores[i] - scores2[j])))
                iou[:, j] = 0
    if not found:
        return f'no detections in the reference on {len(pairs)} images'
    return (f'{matched} of {found} reference detections found again (same label, box IoU '
            f'>= 0.5) on {len(pairs)} images; mean IoU {np.mean(ious or [0]):.3f}, mean '
            f'score difference {np.mean(score_errors or [0]):.3f}')
