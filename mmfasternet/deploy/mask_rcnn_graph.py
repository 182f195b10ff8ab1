"""A whole Mask R-CNN as one ONNX graph of standard operators: backbone, FPN, RPN with its
proposal NMS, RoI heads, the final per-class NMS and the masks pasted into the image.

mmdet's own ``predict`` is followed step by step, with mmdet's modules and parameters; only
what does not trace into a graph of dynamic size is written here: anchors for any feature
size, a top-k whose k follows the number of anchors, box decoding clipped to the input's
own size, per-level and per-class NMS through ``torchvision.ops.nms`` (ONNX
``NonMaxSuppression``, and no If operator, which NNCF cannot quantise) and RoIAlign through
``torchvision.ops`` (ONNX ``RoiAlign``; mmcv's aligned average RoIAlign computes the same),
each RoI from the FPN level mmdet assigns to it.

The graph takes one image as mmdet's data preprocessor makes it (``image``: normalised,
RGB, padded to a multiple of 32; batch 1, any height and width) and three entries of its
metainfo: ``img_shape`` (height and width before padding, int64), ``scale_factor`` (the
test ``Resize``'s width and height factors, float32) and ``ori_shape`` (the original image's
height and width, int64). It returns, in the original image's coordinates, ``boxes``
(N, 4), ``scores`` (N,), ``labels`` (N,) and ``masks`` (N, H, W) pasted at the original
image's size, as ``predict(..., rescale=True)`` does.
"""
import copy
import math
from typing import Dict, List, Tuple

import numpy as np
import torch
import torch.nn as nn
import torchvision
from torch import Tensor

from .export import export_graph_onnx, require_exportable
from .folding import switch_to_deploy

# RoiAlign with the half-pixel offset of mmcv's aligned=True needs opset 16.
MASK_RCNN_OPSET = 17
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


def _bilinear_weights(coords: Tensor, size: int) -> Tensor:
    """(N, L, size) weights with which ``grid_sample`` (bilinear, zero padding,
    ``align_corners=False``) mixes the ``size`` cells of one mask axis at the (N, L)
    normalised ``coords``: a neighbouring cell gets one minus its distance, the rest 0."""
    position = ((coords + 1) * size - 1) / 2
    cells = torch.arange(size, dtype=coords.dtype)
    return (1 - (position[:, :, None] - cells).abs()).clamp(min=0)


def paste_masks(masks: Tensor, boxes: Tensor, height: Tensor, width: Tensor) -> Tensor:
    """mmdet's ``_do_paste_mask(..., skip_empty=False)``: (N, 1, h, w) mask probabilities
    resampled into their (N, 4) boxes on a ``height`` x ``width`` image, as (N, H, W).

    Bilinear sampling on a grid of rows times columns is separable: each mask is
    ``rows @ mask @ columns``, two matrix products, where ``grid_sample`` on a full-image
    grid builds and samples N x H x W points (the paste then took 2.2 of the 2.6 s of a
    whole int8 Mask R-CNN at 1333x800 with 100 detections, OpenVINO on an AMX Xeon).
    """
    x0, y0, x1, y1 = boxes.split(1, dim=1)
    xs = torch.arange(width).to(boxes) + 0.5
    ys = torch.arange(height).to(boxes) + 0.5
    columns = _bilinear_weights((xs - x0) / (x1 - x0) * 2 - 1, masks.shape[3])
    rows = _bilinear_weights((ys - y0) / (y1 - y0) * 2 - 1, masks.shape[2])
    return rows @ masks[:, 0] @ columns.transpose(1, 2)


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

    Raises:
        NotExportable: A part of the model has no ONNX path here; names it.
    """

    def __init__(self, detector: nn.Module):
        super().__init__()
        self._check(detector)
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

        mask_pred = roi.mask_head(self._pool(roi.mask_roi_extractor, feats, boxes))
        mask_pred = mask_pred.gather(
            1, labels.view(-1, 1, 1, 1).expand(-1, 1, *mask_pred.shape[2:])).sigmoid()
        boxes = boxes / scale_factor.repeat(2)
        masks = paste_masks(mask_pred, boxes, ori_shape[0], ori_shape[1])
        masks = masks >= self.rcnn_cfg.mask_thr_binary
        return boxes, scores, labels, masks


INPUTS = ('image', 'img_shape', 'scale_factor', 'ori_shape')
OUTPUTS = ('boxes', 'scores', 'labels', 'masks')


def mask_rcnn_feeds(image: Tensor, metainfo: dict) -> Dict[str, np.ndarray]:
    """The exported detector's inputs for one preprocessed (1, 3, H, W) ``image`` and its
    data sample's ``metainfo``."""
    return dict(image=image.detach().cpu().numpy(),
                img_shape=np.array(metainfo['img_shape'][:2], dtype=np.int64),
                scale_factor=np.array(metainfo['scale_factor'][:2], dtype=np.float32),
                ori_shape=np.array(metainfo['ori_shape'][:2], dtype=np.int64))


def mask_rcnn_image_feeds(image: Tensor) -> Dict[str, np.ndarray]:
    """The exported detector's inputs for a normalised (1, 3, H, W) ``image`` taken as the
    original image at scale 1, padded to a multiple of 32 as mmdet's preprocessor pads."""
    height, width = image.shape[2:]
    padded = image.new_zeros(1, image.shape[1], -(-height // 32) * 32, -(-width // 32) * 32)
    padded[:, :, :height, :width] = image
    return mask_rcnn_feeds(padded, dict(img_shape=(height, width), scale_factor=(1.0, 1.0),
                                        ori_shape=(height, width)))


def export_mask_rcnn_onnx(detector: nn.Module, path: str,
                          shape: Tuple[int, int] = (800, 1344)) -> int:
    """Export a Mask R-CNN (BN folded) with its post-processing to one ONNX file.

    Uses the TorchScript exporter at opset 17 on every supported torch (the graph's NMS
    and RoIAlign come from ``torchvision.ops``, whose symbolics that exporter has). The
    file records the class count (metadata ``num_classes``); a failed export leaves
    nothing behind.

    Args:
        detector (nn.Module): The eval-mode mmdet detector (not changed).
        path (str): The ``.onnx`` file to write.
        shape (tuple): Height and width to trace with (multiples of 32); the file takes
            any size.

    Returns:
        int: The file size in bytes.
    """
    example = (torch.zeros(1, 3, *shape), torch.tensor(shape), torch.ones(2),
               torch.tensor(shape))
    return export_graph_onnx(
        MaskRCNNGraph(detector).eval(), example, path, MASK_RCNN_OPSET, list(INPUTS),
        list(OUTPUTS), dict(num_classes=detector.roi_head.bbox_head.num_classes,
                            task='instance segmentation (mmdet Mask R-CNN)'),
        dynamic_axes={'image': {2: 'height', 3: 'width'}, 'boxes': {0: 'num'},
                      'scores': {0: 'num'}, 'labels': {0: 'num'},
                      'masks': {0: 'num', 1: 'ori_height', 2: 'ori_width'}})
