"""An mmseg encoder-decoder segmentor (UperNet in this project's configs) as one ONNX graph.

The graph takes a batch of images as mmseg's data preprocessor makes them (normalised, RGB;
any batch size) at the size it was exported with, and returns ``labels`` (B, H, W), the
per-pixel class, and with ``with_logits`` also ``logits`` (B, C, H, W), the decode head's
output resized to the input as mmseg's ``encode_decode`` does. The image size is static:
UperNet's pyramid pooling pools a 16x16 map (a 512x512 crop) into 3x3 and 6x6 bins of
unequal sizes, which ONNX's pooling cannot express for an unknown size; here each bin is
averaged explicitly for the traced size. Slide-mode configs export their crop size, and
evaluation slides the exported crop model over each image as mmseg does.
"""
import copy
import math
from typing import Dict, Sequence, Tuple

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from .export import export_graph_onnx, require_exportable
from .folding import switch_to_deploy

SEGMENTOR_OPSET = 17
# What an exported segmentor records as its ``task``.
SEGMENTOR_TASK = 'semantic segmentation (mmseg EncoderDecoder)'


class BinAveragePool(nn.Module):
    """``nn.AdaptiveAvgPool2d`` written out bin by bin (PyTorch's bin edges), so that it
    exports to ONNX for output sizes that do not divide the input size.

    Args:
        output_size (int | tuple[int, int]): Output height and width.
    """

    def __init__(self, output_size):
        super().__init__()
        self.output_size = (output_size, output_size) if isinstance(output_size, int) \
            else tuple(output_size)

    def forward(self, x: Tensor) -> Tensor:
        height, width = int(x.shape[2]), int(x.shape[3])
        out_h, out_w = self.output_size
        rows = []
        for i in range(out_h):
            top, bottom = (i * height) // out_h, math.ceil((i + 1) * height / out_h)
            cells = []
            for j in range(out_w):
                left, right = (j * width) // out_w, math.ceil((j + 1) * width / out_w)
                cells.append(x[:, :, top:bottom, left:right].mean(dim=(2, 3), keepdim=True))
            rows.append(torch.cat(cells, dim=3))
        return torch.cat(rows, dim=2)


class SegmentorGraph(nn.Module):
    """The exported graph of an mmseg ``EncoderDecoder``, BN folded.

    Args:
        segmentor (nn.Module): The eval-mode segmentor; a copy is exported.
        with_logits (bool): Also return the logits. Defaults to False.
    """

    def __init__(self, segmentor: nn.Module, with_logits: bool = False):
        super().__init__()
        from mmseg.models.segmentors import EncoderDecoder
        require_exportable(type(segmentor) is EncoderDecoder, type(segmentor).__name__,
                           'only mmseg\'s EncoderDecoder is supported')
        self.segmentor = switch_to_deploy(copy.deepcopy(segmentor))
        for name, module in list(self.segmentor.named_modules()):
            for child_name, child in list(module.named_children()):
                if isinstance(child, nn.AdaptiveAvgPool2d):
                    setattr(module, child_name, BinAveragePool(child.output_size))
        self.with_logits = with_logits

    def forward(self, image: Tensor):
        decode_head = self.segmentor.decode_head
        logits = decode_head.forward(self.segmentor.extract_feat(image))
        logits = F.interpolate(logits, size=image.shape[2:], mode='bilinear',
                               align_corners=decode_head.align_corners)
        labels = logits.argmax(dim=1)
        return (labels, logits) if self.with_logits else labels


def export_shape(cfg_test: dict, shape: Tuple[int, int]) -> Tuple[int, int]:
    """The size to export a segmentor at: the crop of a slide-mode config, else ``shape``."""
    if cfg_test.get('mode') == 'slide':
        return tuple(cfg_test['crop_size'])
    return tuple(shape)


def export_segmentor_onnx(segmentor: nn.Module, path: str, shape: Tuple[int, int],
                          with_logits: bool = False) -> int:
    """Export an mmseg segmentor (BN folded) to one ONNX file for ``shape`` inputs, with
    the class count in its metadata; a failed export leaves nothing behind.

    Args:
        segmentor (nn.Module): The eval-mode segmentor (not changed).
        path (str): The ``.onnx`` file to write.
        shape (tuple): Input height and width.
        with_logits (bool): Also return the logits (evaluation needs them for mmseg's
            exact resizing to the original image). Defaults to False.

    Returns:
        int: The file size in bytes.
    """
    outputs = ['labels', 'logits'] if with_logits else ['labels']
    return export_graph_onnx(
        SegmentorGraph(segmentor, with_logits).eval(), (torch.zeros(2, 3, *shape), ), path,
        SEGMENTOR_OPSET, ['image'], outputs,
        dict(num_classes=segmentor.decode_head.num_classes,
             task=SEGMENTOR_TASK),
        dynamic_axes={name: {0: 'batch'} for name in ['image', *outputs]})


def segmentor_feeds(image: Tensor, size: Sequence) -> Dict[str, np.ndarray]:
    """The exported segmentor's input for preprocessed (B, 3, H, W) ``image``: its
    top-left crop of the file's static ``size`` (height, width), padded with zeros (the
    mean, after normalisation) where the image is smaller; the image itself where the
    size is not static."""
    if None not in size:
        crop = image.new_zeros(*image.shape[:2], *size)
        height, width = min(size[0], image.shape[2]), min(size[1], image.shape[3])
        crop[:, :, :height, :width] = image[:, :, :height, :width]
        image = crop
    return dict(image=image.detach().cpu().numpy())
