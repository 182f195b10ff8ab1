"""An mmseg encoder-decoder segmentor (UperNet in this project's configs) as one ONNX graph,
and the ONNX Runtime model that ``tools/test.py`` evaluates it with.

The graph takes one image as mmseg's data preprocessor makes it (normalised, RGB; batch 1)
at the size it was exported with, and returns ``labels`` (1, H, W), the per-pixel class, and
with ``with_logits`` also ``logits`` (1, C, H, W), the decode head's output resized to the
input as mmseg's ``encode_decode`` does. The size is static: UperNet's pyramid pooling pools
a 16x16 map (a 512x512 crop) into 3x3 and 6x6 bins of unequal sizes, which ONNX's pooling
cannot express for an unknown size; here each bin is averaged explicitly for the traced
size. Slide-mode configs export their crop size, and evaluation slides the exported crop
model over each image as mmseg does.
"""
import copy
import math
from types import SimpleNamespace
from typing import Dict, List, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModel
from torch import Tensor

from .export import check_num_classes, export_graph_onnx, require_exportable
from .folding import switch_to_deploy
from .runtimes import DeployError, open_runtime

SEGMENTOR_OPSET = 17


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
    return export_graph_onnx(
        SegmentorGraph(segmentor, with_logits).eval(), (torch.zeros(1, 3, *shape), ), path,
        SEGMENTOR_OPSET, ['image'], ['labels', 'logits'] if with_logits else ['labels'],
        dict(num_classes=segmentor.decode_head.num_classes,
             task='semantic segmentation (mmseg EncoderDecoder)'))


def open_segmentor_file(path: str, need_logits: bool, **runtime):
    """The exported segmentor ``path`` opened with :func:`.runtimes.open_runtime`; a
    :class:`.runtimes.DeployError` when it is not one, or has no logits where
    ``need_logits``."""
    model = open_runtime(path, inputs=['image'], what='an exported segmentor', **runtime)
    if model.output_names not in (['labels'], ['labels', 'logits']):
        raise DeployError(f'{path} is not an exported segmentor: it returns '
                          f'{model.output_names}, where one exported by '
                          f'tools/deployment/pytorch2onnx.py returns [\'labels\', \'logits\']')
    if need_logits and model.output_names != ['labels', 'logits']:
        raise DeployError(f'{path} returns {model.output_names}; tools/test.py needs a '
                          f'segmentor exported with its logits (pytorch2onnx.py --seg-logits)')
    return model


class OnnxSegmentor(BaseModel):
    """An exported segmentor run by ONNX Runtime or OpenVINO in mmseg's test loop, with the
    config's data preprocessor and test mode (whole or slide): mmseg's own sliding and
    post-processing run around the exported crop model.

    Args:
        path (str): A file from :func:`export_segmentor_onnx` with logits, or its int8
            form from ``tools/deployment/quantize.py``.
        segmentor (nn.Module): The config's built segmentor (for its preprocessor, test
            config and class count).
        **runtime: ``backend``, ``precision`` and ``threads`` of
            :func:`~mmfasternet.deploy.runtimes.open_runtime`.
    """

    def __init__(self, path: str, segmentor: nn.Module, **runtime):
        super().__init__(data_preprocessor=segmentor.data_preprocessor)
        self.runtime = open_segmentor_file(path, need_logits=True, **runtime)
        check_num_classes(self.runtime, path, segmentor.decode_head.num_classes)
        self.input_shape = self.runtime.input_shapes['image'][2:]
        self.test_cfg = segmentor.test_cfg
        self.align_corners = segmentor.align_corners
        self.out_channels = segmentor.out_channels
        self.decode_head = SimpleNamespace(threshold=segmentor.decode_head.threshold)

    def run(self, image: Tensor) -> Dict[str, Tensor]:
        """The file's outputs for one preprocessed (1, 3, H, W) image of its size."""
        if tuple(image.shape[2:]) != self.input_shape:
            raise DeployError(f'the exported segmentor takes {self.input_shape} inputs, got '
                              f'{tuple(image.shape[2:])}: export it at the size the test '
                              f'pipeline makes (--shape), or use a slide-mode config')
        outputs = self.runtime.run({'image': image.detach().cpu().numpy()})
        return dict(labels=torch.from_numpy(outputs[0]), logits=torch.from_numpy(outputs[1]))

    def encode_decode(self, inputs: Tensor, batch_img_metas: List[dict]) -> Tensor:
        return torch.cat([self.run(image[None])['logits'] for image in inputs])

    def forward(self, inputs: Tensor, data_samples=None, mode: str = 'predict'):
        from mmseg.models.segmentors import BaseSegmentor, EncoderDecoder

        metas = [sample.metainfo for sample in data_samples]
        if self.test_cfg.get('mode') == 'slide':
            logits = EncoderDecoder.slide_inference(self, inputs, metas)
        else:
            logits = self.encode_decode(inputs, metas)
        return BaseSegmentor.postprocess_result(self, logits, data_samples)


def segmentor_parity(segmentor: nn.Module, path: str, batches: Sequence[dict],
                     **runtime) -> Tuple[int, List[str]]:
    """Run PyTorch and the exported file on the top-left export-sized crop of each of
    ``batches`` (dataloader batches of one image); return the pixel count and what
    differs: the class maps must agree on at least 99.9% of pixels.

    Args:
        segmentor (nn.Module): The eval-mode PyTorch segmentor, BN not folded.
        path (str): The exported file (with or without logits).
        batches: Dataloader batches of one image each.
        **runtime: ``backend``, ``precision`` and ``threads`` of
            :func:`~mmfasternet.deploy.runtimes.open_runtime`.
    """
    model = open_segmentor_file(path, need_logits=False, **runtime)
    height, width = model.input_shapes['image'][2:]
    problems, pixels = [], 0
    for k, batch in enumerate(batches):
        with torch.no_grad():
            data = segmentor.data_preprocessor(batch, False)
            image = data['inputs'][:, :, :height, :width]
            if tuple(image.shape[2:]) != (height, width):
                raise DeployError(f'test image {k} is {tuple(data["inputs"].shape[2:])}, '
                                  f'smaller than the exported size {(height, width)}')
            meta = dict(data['data_samples'][0].metainfo, img_shape=image.shape[2:])
            expected = segmentor.encode_decode(image, [meta]).argmax(dim=1)
        labels = torch.from_numpy(model.run({'image': image.numpy()})[0])
        agree = float((labels == expected).float().mean())
        pixels += labels.numel()
        if agree < 0.999:
            name = meta.get('img_path', f'image {k}')
            problems.append(f'{name}: class maps agree on {100 * agree:.2f}% of pixels')
    return pixels, problems
