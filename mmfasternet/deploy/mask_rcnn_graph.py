"""A whole Mask R-CNN as one ONNX graph of standard operators: backbone, FPN, RPN with its
proposal NMS, RoI heads, the final per-class NMS and the masks of the detections' classes,
box-local or pasted into the image.

mmdet's own ``predict`` is followed step by step, with mmdet's modules and parameters; only
what does not trace into a graph of dynamic size is written here: anchors for any feature
size, a top-k whose k follows the number of anchors, box decoding clipped to the input's
own size, per-level and per-class NMS through ``torchvision.ops.nms`` (ONNX
``NonMaxSuppression``, and no If operator, which NNCF cannot quantise) and RoIAlign through
``torchvision.ops`` (ONNX ``RoiAlign``; mmcv's aligned average RoIAlign computes the same),
each RoI from the FPN level mmdet assigns to it.

The graph takes one image as mmdet's data preprocessor makes it (``image``: normalised,
RGB, padded to a multiple of 32; batch size 1, any height and width) and three entries of
its metainfo: ``img_shape`` (height and width before padding, int64), ``scale_factor`` (the
test ``Resize``'s width and height factors, float32) and ``ori_shape`` (the original image's
height and width, int64). It returns, in the original image's coordinates, ``boxes``
(N, 4), ``scores`` (N,), ``labels`` (N,) and the masks in one of two forms
(:data:`MASK_FORMS`):

- ``box`` (the default): ``box_masks`` (N, 28, 28), each detection's mask probabilities
  inside its box, as mmdeploy's Mask R-CNN returns them; the runtime model pastes them
  inside each box (:func:`.masks.paste_box_masks`).
- ``image``: ``masks`` (N, H, W), binary and pasted at the original image's size, as
  ``predict(..., rescale=True)`` does: one self-contained file, at the cost of N x H x W
  probabilities computed, thresholded and converted inside it (on the AMX Xeon, 415 of an
  int8 Mask R-CNN S's 989 ms at 1333x800 with 100 detections).

Either way the mask head's last 1x1 conv computes only the logits of each detection's
class, where mmdet computes all 80 and keeps one.
"""
import copy
import math
from typing import Dict, List, NamedTuple, Sequence, Tuple

import numpy as np
import torch
import torch.nn as nn
import torchvision
from torch import Tensor

from .export import export_graph_onnx, require_exportable
from .folding import switch_to_deploy
from .masks import paste_masks

# RoiAlign with the half-pixel offset of mmcv's aligned=True needs opset 16.
MASK_RCNN_OPSET = 17
# What an exported detector records as its ``task``.
MASK_RCNN_TASK = 'instance segmentation (mmdet Mask R-CNN)'
# The largest log-ratio of a decoded box's size to its prior's: mmdet's ``wh_ratio_clip``
# of 16 / 1000, which its RPN and box heads decode with.
MAX_RATIO = abs(math.log(16 / 1000))


def _decode(priors: Tensor, deltas: Tensor, means, stds, height: Tensor,
            width: Tensor) -> Tensor:
    """mmdet's ``delta2bbox`` for (N, 4k) deltas of N priors, clipped to the image."""
    num = deltas.shape[1] // 4
    deltas = deltas.reshape(-1, 4) * deltas.new_tensor(stds) + deltas.new_tensor(means)
    priors = priors.repeat(1, num).reshape(-1, 4)
    centers = (priors[:, :2] + priors[:, 2:]) * 0.5
    sizes = priors[:, 2:] - priors[:, :2]
    centers = centers + sizes * deltas[:, :2]
    sizes = sizes * deltas[:, 2:].clamp(min=-MAX_RATIO, max=MAX_RATIO).exp()
    boxes = torch.cat([centers - sizes * 0.5, centers + sizes * 0.5], dim=1)
    limits = torch.stack([width, height, width, height]).to(boxes)
    boxes = torch.max(torch.min(boxes, limits), torch.zeros_like(limits))
    return boxes.reshape(-1, 4 * num)


def _top_k(scores: Tensor, k: int) -> Tuple[Tensor, Tensor]:
    """The ``k`` best scores (or all of them when there are fewer), for a dynamic count."""
    count = torch.clamp(torch._shape_as_tensor(scores)[0], max=k)
    return scores.topk(count)


def _batched_nms(boxes: Tensor, scores: Tensor, groups: Tensor, iou_threshold: float,
                 height: Tensor, width: Tensor) -> Tensor:
    """NMS within each group (a level or a class): torchvision's ``batched_nms``, without
    its check for no boxes, which exports as an ONNX If operator that NNCF cannot quantise.
    Each group's boxes are moved past the others by more than the image's size, which
    ``_decode`` has clipped every box to."""
    offsets = groups.to(boxes) * (torch.max(height, width).to(boxes) + 1)
    return torchvision.ops.nms(boxes + offsets[:, None], scores, iou_threshold)


class MaskRCNNGraph(nn.Module):
    """The end-to-end graph of an mmdet two-stage detector with an RPN, a standard RoI
    head, a shared-FC box head and an FCN mask head (Mask R-CNN, as in this project's
    configs). BN is folded first.

    Args:
        detector (nn.Module): The eval-mode mmdet ``TwoStageDetector``; a copy is exported.
        masks (str): ``'box'`` (box-local probabilities) or ``'image'`` (binary masks
            pasted into the original image); see :data:`MASK_FORMS`.

    Raises:
        NotExportable: A part of the model has no ONNX path here; names it.
    """

    def __init__(self, detector: nn.Module, masks: str = 'box'):
        super().__init__()
        check_mask_form(masks)
        self._check(detector)
        self.masks = masks
        self.detector = switch_to_deploy(copy.deepcopy(detector))
        self.rpn_cfg = detector.test_cfg.rpn
        self.rcnn_cfg = detector.test_cfg.rcnn

    @staticmethod
    def _check(detector: nn.Module) -> None:
        from mmdet.models.dense_heads import RPNHead
        from mmdet.models.roi_heads import StandardRoIHead
        from mmdet.models.roi_heads.mask_heads import FCNMaskHead
        from mmdet.models.task_modules.coders import DeltaXYWHBBoxCoder
        from mmdet.models.task_modules.prior_generators import AnchorGenerator

        need = require_exportable
        name = type(detector).__name__
        need(hasattr(detector, 'rpn_head') and hasattr(detector, 'roi_head'), name,
             'only two-stage detectors (an RPN and RoI heads) are supported')
        rpn, roi = detector.rpn_head, detector.roi_head
        need(type(rpn) is RPNHead, f'rpn_head ({type(rpn).__name__})',
             'only mmdet\'s RPNHead is supported')
        need(type(rpn.prior_generator) is AnchorGenerator,
             f'rpn_head.prior_generator ({type(rpn.prior_generator).__name__})',
             'only AnchorGenerator is supported')
        need(type(roi) is StandardRoIHead, f'roi_head ({type(roi).__name__})',
             'only StandardRoIHead is supported (no cascades)')
        for part, head in (('rpn_head', rpn), ('roi_head.bbox_head', roi.bbox_head)):
            coder = head.bbox_coder
            need(type(coder) is DeltaXYWHBBoxCoder and not coder.add_ctr_clamp and
                 coder.clip_border, f'{part}.bbox_coder',
                 'only DeltaXYWHBBoxCoder without ctr clamp is supported')
        need(not roi.bbox_head.reg_class_agnostic and not roi.bbox_head.custom_activation,
             'roi_head.bbox_head', 'class-agnostic or custom-activation box heads are not '
             'supported')
        need(roi.with_mask and type(roi.mask_head) is FCNMaskHead,
             f'roi_head.mask_head ({type(getattr(roi, "mask_head", None)).__name__})',
             'an FCNMaskHead is required')
        for part in ('bbox_roi_extractor', 'mask_roi_extractor'):
            for layer in getattr(roi, part).roi_layers:
                need(type(layer).__name__ == 'RoIAlign' and layer.aligned and
                     layer.pool_mode == 'avg', f'roi_head.{part}',
                     'only aligned average RoIAlign is supported')

    def _anchors(self, level: int, height: Tensor, width: Tensor) -> Tensor:
        generator = self.detector.rpn_head.prior_generator
        stride_w, stride_h = generator.strides[level]
        xs = torch.arange(width).to(torch.float32) * stride_w
        ys = torch.arange(height).to(torch.float32) * stride_h
        ys, xs = torch.meshgrid(ys, xs, indexing='ij')
        shifts = torch.stack([xs, ys, xs, ys], dim=-1).reshape(-1, 1, 4)
        return (shifts + generator.base_anchors[level].to(shifts)).reshape(-1, 4)

    def _proposals(self, feats: List[Tensor], height: Tensor, width: Tensor) -> Tensor:
        """mmdet's ``RPNHead.predict_by_feat`` for one image: (K, 4) proposals."""
        rpn = self.detector.rpn_head
        coder = rpn.bbox_coder
        cls_scores, bbox_preds = rpn(feats)
        boxes, scores, levels = [], [], []
        for level, (cls_score, bbox_pred) in enumerate(zip(cls_scores, bbox_preds)):
            score = cls_score[0].permute(1, 2, 0).reshape(-1).sigmoid()
            delta = bbox_pred[0].permute(1, 2, 0).reshape(-1, 4)
            anchors = self._anchors(level, cls_score.shape[2], cls_score.shape[3])
            score, keep = _top_k(score, self.rpn_cfg.nms_pre)
            boxes.append(_decode(anchors[keep], delta[keep], coder.means, coder.stds, height,
                                 width))
            scores.append(score)
            levels.append(torch.full_like(keep, level))
        boxes, scores, levels = torch.cat(boxes), torch.cat(scores), torch.cat(levels)
        sizes = boxes[:, 2:] - boxes[:, :2]
        valid = ((sizes[:, 0] > self.rpn_cfg.min_bbox_size) &
                 (sizes[:, 1] > self.rpn_cfg.min_bbox_size)).nonzero()[:, 0]
        boxes, scores, levels = boxes[valid], scores[valid], levels[valid]
        keep = _batched_nms(boxes, scores, levels, self.rpn_cfg.nms.iou_threshold, height,
                            width)
        return boxes[keep[:self.rpn_cfg.max_per_img]]

    @staticmethod
    def _pool(extractor: nn.Module, feats: List[Tensor], boxes: Tensor) -> Tensor:
        """``SingleRoIExtractor`` through ONNX RoiAlign: each box pooled from the level
        mmdet assigns to it, the results put back in the boxes' order."""
        rois = torch.cat([torch.zeros_like(boxes[:, :1]), boxes], dim=1)
        levels = extractor.map_roi_levels(rois, extractor.num_inputs)
        pooled, order = [], []
        for level, layer in enumerate(extractor.roi_layers):
            index = (levels == level).nonzero()[:, 0]
            pooled.append(torchvision.ops.roi_align(
                feats[level], rois[index], layer.output_size, layer.spatial_scale,
                layer.sampling_ratio, aligned=True))
            order.append(index)
        return torch.cat(pooled)[torch.cat(order).argsort()]

    def forward(self, image: Tensor, img_shape: Tensor, scale_factor: Tensor,
                ori_shape: Tensor) -> Tuple[Tensor, Tensor, Tensor, Tensor]:
        height, width = img_shape[0], img_shape[1]
        feats = self.detector.extract_feat(image)
        proposals = self._proposals(feats, height, width)

        roi = self.detector.roi_head
        cls_score, bbox_pred = roi.bbox_head(self._pool(roi.bbox_roi_extractor, feats,
                                                        proposals))
        coder = roi.bbox_head.bbox_coder
        num_classes = roi.bbox_head.num_classes
        boxes = _decode(proposals, bbox_pred, coder.means, coder.stds, height,
                        width).reshape(-1, 4)
        scores = cls_score.softmax(-1)[:, :num_classes].reshape(-1)
        labels = torch.arange(num_classes).repeat(proposals.shape[0])
        valid = (scores > self.rcnn_cfg.score_thr).nonzero()[:, 0]
        boxes, scores, labels = boxes[valid], scores[valid], labels[valid]
        keep = _batched_nms(boxes, scores, labels, self.rcnn_cfg.nms.iou_threshold, height,
                            width)
        keep = keep[:self.rcnn_cfg.max_per_img]
        boxes, scores, labels = boxes[keep], scores[keep], labels[keep]

        probabilities = self._class_masks(self._pool(roi.mask_roi_extractor, feats, boxes),
                                          labels).sigmoid()
        boxes = boxes / scale_factor.repeat(2)
        if self.masks == 'box':
            return boxes, scores, labels, probabilities
        masks = paste_masks(probabilities[:, None], boxes, ori_shape[0], ori_shape[1])
        return boxes, scores, labels, masks >= self.rcnn_cfg.mask_thr_binary

    def _class_masks(self, pooled: Tensor, labels: Tensor) -> Tensor:
        """``FCNMaskHead.forward`` with its last 1x1 conv for each RoI's class only: the
        (N, h, w) mask logits of the ``labels``."""
        head = self.detector.roi_head.mask_head
        x = pooled
        for conv in head.convs:
            x = conv(x)
        if head.upsample is not None:
            x = head.upsample(x)
            if head.upsample_method == 'deconv':
                x = head.relu(x)
        logits = head.conv_logits
        index = torch.zeros_like(labels) if head.class_agnostic else labels
        # A product and a sum over the channels: 4x faster than the 80-class conv in ONNX
        # Runtime (100 RoIs, 256 channels), faster than Einsum or MatMul, and without the
        # Reshape that ONNX Runtime's optimiser breaks for no detections.
        out = (x * logits.weight[:, :, 0, 0][index][:, :, None, None]).sum(1)
        return out if logits.bias is None else out + logits.bias[index][:, None, None]


class MaskForm(NamedTuple):
    """The inputs and outputs of the graph for one form of its masks."""
    inputs: Tuple[str, ...]
    outputs: Tuple[str, ...]


# Box-local masks need no original image size: the runtime model pastes them.
MASK_FORMS = {
    'box': MaskForm(('image', 'img_shape', 'scale_factor'),
                    ('boxes', 'scores', 'labels', 'box_masks')),
    'image': MaskForm(('image', 'img_shape', 'scale_factor', 'ori_shape'),
                      ('boxes', 'scores', 'labels', 'masks'))}


def check_mask_form(masks: str) -> None:
    """Raise :class:`NotExportable` unless ``masks`` is one of :data:`MASK_FORMS`."""
    require_exportable(masks in MASK_FORMS, f'masks={masks!r}',
                       f'the masks are one of {list(MASK_FORMS)}')


def mask_rcnn_feeds(image: Tensor, metainfo: dict,
                    inputs: Sequence[str]) -> Dict[str, np.ndarray]:
    """The exported detector's ``inputs`` (those of its form of masks) for one preprocessed
    (1, 3, H, W) ``image`` and its data sample's ``metainfo``."""
    feeds = dict(image=image.detach().cpu().numpy(),
                 img_shape=np.array(metainfo['img_shape'][:2], dtype=np.int64),
                 scale_factor=np.array(metainfo['scale_factor'][:2], dtype=np.float32),
                 ori_shape=np.array(metainfo['ori_shape'][:2], dtype=np.int64))
    return {name: feeds[name] for name in inputs}


def mask_rcnn_image_feeds(image: Tensor, inputs: Sequence[str]) -> Dict[str, np.ndarray]:
    """The exported detector's ``inputs`` for a normalised (1, 3, H, W) ``image`` taken as
    the original image at scale 1, padded to a multiple of 32 as mmdet's preprocessor
    pads."""
    height, width = image.shape[2:]
    padded = image.new_zeros(1, image.shape[1], -(-height // 32) * 32, -(-width // 32) * 32)
    padded[:, :, :height, :width] = image
    return mask_rcnn_feeds(padded, dict(img_shape=(height, width), scale_factor=(1.0, 1.0),
                                        ori_shape=(height, width)), inputs)


def export_mask_rcnn_onnx(detector: nn.Module, path: str,
                          shape: Tuple[int, int] = (800, 1344), masks: str = 'box') -> int:
    """Export a Mask R-CNN (BN folded) with its post-processing to one ONNX file.

    Uses the TorchScript exporter at opset 17 on every supported torch (the graph's NMS
    and RoIAlign come from ``torchvision.ops``, whose symbolics that exporter has). The
    file records the class count, the form of its masks and the batch sizes it takes
    (metadata ``num_classes``, ``masks``, ``batch_sizes``: 1); a failed export leaves
    nothing behind.

    Args:
        detector (nn.Module): The eval-mode mmdet detector (not changed).
        path (str): The ``.onnx`` file to write.
        shape (tuple): Height and width to trace with (multiples of 32); the file takes
            any size.
        masks (str): ``'box'`` (default) or ``'image'`` (see :data:`MASK_FORMS`).

    Returns:
        int: The file size in bytes.
    """
    graph = MaskRCNNGraph(detector, masks).eval()  # checks the form of masks
    example = (torch.zeros(1, 3, *shape), torch.tensor(shape), torch.ones(2),
               torch.tensor(shape))
    inputs, outputs = MASK_FORMS[masks]
    mask_axes = ({0: 'num', 1: 'ori_height', 2: 'ori_width'} if masks == 'image' else
                 {0: 'num'})
    return export_graph_onnx(
        graph, example, path, MASK_RCNN_OPSET, list(inputs),
        list(outputs), dict(num_classes=detector.roi_head.bbox_head.num_classes,
                            task=MASK_RCNN_TASK, masks=masks,
                            batch_sizes=1),
        dynamic_axes={'image': {2: 'height', 3: 'width'}, 'boxes': {0: 'num'},
                      'scores': {0: 'num'}, 'labels': {0: 'num'}, outputs[-1]: mask_axes})
