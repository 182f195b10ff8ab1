"""Pasting instance masks into the image, as mmdet's ``_do_paste_mask`` (bilinear,
``align_corners=False``, zero outside the mask): over the whole image inside an exported
graph (:func:`paste_masks`), or each mask only inside its own box, after the runtime
(:func:`paste_box_masks`, for files that return box-local masks)."""
import math

import torch
from torch import Tensor


def _bilinear_weights(coords: Tensor, size: int) -> Tensor:
    """(N, L, size) weights with which ``grid_sample`` (bilinear, zero padding,
    ``align_corners=False``) mixes the ``size`` cells of one mask axis at the (N, L)
    normalised ``coords``: a neighbouring cell gets one minus its distance, the rest 0."""
    position = ((coords + 1) * size - 1) / 2
    cells = torch.arange(size, dtype=coords.dtype)
    return (1 - (position[:, :, None] - cells).abs()).clamp(min=0)


def _axis_weights(pixels: Tensor, low: Tensor, high: Tensor, size: int) -> Tensor:
    """The bilinear weights of the pixels ``pixels`` (their indices along one image axis)
    over the ``size`` cells of masks that span ``low`` to ``high`` (N, 1) on that axis."""
    centres = pixels.to(low) + 0.5
    return _bilinear_weights((centres - low) / (high - low) * 2 - 1, size)


def paste_masks(masks: Tensor, boxes: Tensor, height: Tensor, width: Tensor) -> Tensor:
    """mmdet's ``_do_paste_mask(..., skip_empty=False)``: (N, 1, h, w) mask probabilities
    resampled into their (N, 4) boxes on a ``height`` x ``width`` image, as (N, H, W).

    Bilinear sampling on a grid of rows times columns is separable: each mask is
    ``rows @ mask @ columns``, two matrix products, where ``grid_sample`` on a full-image
    grid builds and samples N x H x W points.
    """
    x0, y0, x1, y1 = boxes.split(1, dim=1)
    columns = _axis_weights(torch.arange(width), x0, x1, masks.shape[3])
    rows = _axis_weights(torch.arange(height), y0, y1, masks.shape[2])
    return rows @ masks[:, 0] @ columns.transpose(1, 2)


def paste_box_masks(masks: Tensor, boxes: Tensor, height: int, width: int,
                    threshold: float = 0.5) -> Tensor:
    """Paste box-local mask probabilities into a ``height`` x ``width`` image, each only
    over the pixels its box (and half a mask cell around it, where bilinear sampling still
    reaches) covers, and threshold them: the binary masks mmdet's ``predict(...,
    rescale=True)`` returns, without computing N x H x W probabilities.

    Args:
        masks (Tensor): (N, h, w) probabilities of each detection's class, e.g. the
            ``box_masks`` output of an exported detector (28x28 for Mask R-CNN).
        boxes (Tensor): (N, 4) boxes ``x0, y0, x1, y1`` in the image.
        height (int): Image height.
        width (int): Image width.
        threshold (float): The probability from which a pixel is in the mask, the config's
            ``test_cfg.rcnn.mask_thr_binary``. Defaults to 0.5.

    Returns:
        Tensor: (N, height, width) bool masks.
    """
    pasted = torch.zeros(len(masks), height, width, dtype=torch.bool)
    size_h, size_w = masks.shape[1:]
    for mask, box, out in zip(masks.float(), boxes.float(), pasted):
        x0, y0, x1, y1 = box.tolist()
        if not (x1 > x0 and y1 > y0):  # no area: the full-image paste is empty too
            continue
        reach_x, reach_y = (x1 - x0) / size_w / 2, (y1 - y0) / size_h / 2
        left, right = max(math.floor(x0 - reach_x), 0), min(math.ceil(x1 + reach_x), width)
        top, bottom = max(math.floor(y0 - reach_y), 0), min(math.ceil(y1 + reach_y), height)
        if right <= left or bottom <= top:
            continue
        columns = _axis_weights(torch.arange(left, right), box[None, 0:1], box[None, 2:3],
                                size_w)[0]
        rows = _axis_weights(torch.arange(top, bottom), box[None, 1:2], box[None, 3:4],
                             size_h)[0]
        out[top:bottom, left:right] = rows @ mask @ columns.T >= threshold
    return pasted
