"""A small, deterministic COCO-format instance segmentation set for demos and tests.

Each image has a procedurally textured background and 0-5 objects of four classes. A class
is told apart by colour family, texture and outline together, the way real classes differ,
so a detector trained from scratch for minutes on a CPU learns it. Objects occlude each
other: unoccluded objects are annotated with polygons, occluded ones with an RLE of their
visible part, groups of small objects as one ``iscrowd`` RLE region, and some images are
empty.
"""
import json
import math
import os
import os.path as osp
from typing import Dict, List, Tuple

import cv2
import numpy as np
from pycocotools import mask as mask_utils

CLASSES = ('sun', 'tile', 'leaf', 'gem')
PALETTE = [(230, 160, 30), (40, 90, 220), (40, 160, 60), (170, 40, 170)]
# Hue ranges (OpenCV's 0-180 scale) of each class's colour family.
HUES = {'sun': (12, 28), 'tile': (100, 120), 'leaf': (45, 75), 'gem': (140, 165)}


def _polygon(name: str, center: Tuple[float, float], radius: float, angle: float,
             rng: np.random.Generator) -> np.ndarray:
    """Outline of one object as an (N, 2) float array."""
    if name == 'sun':  # a slightly irregular disc
        n, radii = 40, radius * (1 + 0.05 * rng.standard_normal(40))
    elif name == 'tile':  # a square
        n, radii = 4, np.full(4, radius)
    elif name == 'leaf':  # a pointed ellipse
        n = 32
        t = np.linspace(0, 2 * math.pi, n, endpoint=False)
        radii = radius * (0.55 + 0.45 * np.abs(np.cos(t)))
    else:  # 'gem': a hexagon
        n, radii = 6, np.full(6, radius)
    t = np.linspace(0, 2 * math.pi, n, endpoint=False) + angle
    return np.stack([center[0] + radii * np.cos(t), center[1] + radii * np.sin(t)], axis=1)


def _texture(name: str, shape: Tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """An RGB uint8 texture of the whole image in the class's colour family and pattern."""
    h, w = shape
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    hue = rng.uniform(*HUES[name])
    if name == 'sun':  # smooth radial shading
        cy, cx = rng.uniform(0, h), rng.uniform(0, w)
        pattern = 0.5 + 0.5 * np.cos(np.hypot(yy - cy, xx - cx) / rng.uniform(8, 14))
    elif name == 'tile':  # stripes
        theta = rng.uniform(0, math.pi)
        period = rng.uniform(5, 9)
        pattern = (np.sin((xx * math.cos(theta) + yy * math.sin(theta)) / period * 2 * math.pi)
                   > 0).astype(np.float32)
    elif name == 'leaf':  # speckles
        pattern = (rng.random((h, w)) > 0.7).astype(np.float32)
    else:  # 'gem': a checkerboard
        cell = int(rng.integers(4, 8))
        pattern = (((yy // cell) + (xx // cell)) % 2).astype(np.float32)
    hsv = np.empty((h, w, 3), np.float32)
    hsv[..., 0] = hue
    hsv[..., 1] = rng.uniform(150, 230)
    hsv[..., 2] = rng.uniform(130, 170) + 80 * pattern
    return cv2.cvtColor(np.clip(hsv, 0, 255).astype(np.uint8), cv2.COLOR_HSV2RGB)


def _background(shape: Tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """Low-saturation multi-scale noise, like a blurry photograph of clutter."""
    h, w = shape
    image = np.zeros((h, w, 3), np.float32)
    for cells, weight in ((4, 1.0), (16, 0.5), (64, 0.25)):
        noise = rng.random((cells, cells, 3)).astype(np.float32)
        image += weight * cv2.resize(noise, (w, h), interpolation=cv2.INTER_CUBIC)
    image = image / 1.75
    gray = image.mean(axis=2, keepdims=True)
    image = 0.35 * image + 0.65 * gray  # muted colours, so objects stand out by hue
    image = 60 + 140 * image + rng.normal(0, 6, (h, w, 3))
    return np.clip(image, 0, 255).astype(np.uint8)


def _rle(mask: np.ndarray) -> dict:
    rle = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
    rle['counts'] = rle['counts'].decode('ascii')
    return rle


def _bbox(mask: np.ndarray) -> List[float]:
    ys, xs = np.nonzero(mask)
    return [float(xs.min()), float(ys.min()),
            float(xs.max() - xs.min() + 1), float(ys.max() - ys.min() + 1)]


def _render_image(rng: np.random.Generator, size: int, empty_prob: float, crowd_prob: float
                  ) -> Tuple[np.ndarray, List[dict]]:
    """Draw one image; return it and its annotations (without ids)."""
    shape = (size, size)
    image = _background(shape, rng)
    objects = []  # (class index, full mask, polygon)
    num_objects = 0 if rng.random() < empty_prob else int(rng.integers(1, 6))
    for _ in range(num_objects):
        for _attempt in range(20):
            label = int(rng.integers(len(CLASSES)))
            radius = rng.uniform(0.09, 0.2) * size
            center = rng.uniform(radius + 2, size - radius - 2, 2)
            polygon = _polygon(CLASSES[label], center, radius, rng.uniform(0, math.pi), rng)
            polygon = polygon.round(1)
            # Rasterised as COCO tools decode polygons, so drawing and annotation agree.
            full = _decode([polygon.ravel().tolist()], shape).astype(np.uint8)
            # Keep at least 40% of every object already placed visible.
            if all((m & ~full).sum() >= 0.4 * m.sum() for _, m, _ in objects):
                objects.append((label, full, polygon))
                break
    annotations = []
    covered = np.zeros(shape, bool)
    for label, full, polygon in reversed(objects):  # front to back
        visible = full.astype(bool) & ~covered
        covered |= full.astype(bool)
        segmentation = ([polygon.ravel().tolist()] if visible.sum() == full.sum()
                        else _rle(visible))
        annotations.append(dict(category_id=label + 1, segmentation=segmentation,
                                area=float(visible.sum()), bbox=_bbox(visible), iscrowd=0))
    annotations = [a for a in annotations if a['area'] >= 16]
    for label, full, _ in objects:  # back to front
        texture = _texture(CLASSES[label], shape, rng)
        image[full.astype(bool)] = texture[full.astype(bool)]

    if num_objects and rng.random() < crowd_prob:
        # A tight group of small same-class objects drawn on top, annotated as one crowd.
        label = int(rng.integers(len(CLASSES)))
        texture = _texture(CLASSES[label], shape, rng)
        crowd = np.zeros(shape, np.uint8)
        center = rng.uniform(0.2 * size, 0.8 * size, 2)
        for _ in range(int(rng.integers(4, 8))):
            offset = rng.normal(0, 0.05 * size, 2)
            polygon = _polygon(CLASSES[label], center + offset, 0.03 * size,
                               rng.uniform(0, math.pi), rng)
            cv2.fillPoly(crowd, [np.round(polygon).astype(np.int32)], 1)
        image[crowd.astype(bool)] = texture[crowd.astype(bool)]
        for ann in annotations:  # the crowd hides what lies under it
            visible = _decode(ann['segmentation'], shape) & ~crowd.astype(bool)
            if visible.sum() < ann['area']:
                ann['segmentation'] = _rle(visible)
                ann['area'] = float(visible.sum())
                if visible.any():
                    ann['bbox'] = _bbox(visible)
        annotations = [a for a in annotations if a['area'] >= 16]
        annotations.append(dict(category_id=label + 1, segmentation=_rle(crowd),
                                area=float(crowd.sum()), bbox=_bbox(crowd), iscrowd=1))
    return image, annotations


def _decode(segmentation, shape: Tuple[int, int]) -> np.ndarray:
    if isinstance(segmentation, list):
        rles = mask_utils.frPyObjects(segmentation, *shape)
        return mask_utils.decode(mask_utils.merge(rles)).astype(bool)
    rle = dict(segmentation, counts=segmentation['counts'].encode('ascii'))
    return mask_utils.decode(rle).astype(bool)


def generate_toy_coco(out_dir: str,
                      num_train: int = 400,
                      num_val: int = 80,
                      image_size: int = 256,
                      seed: int = 0,
                      empty_prob: float = 0.06,
                      crowd_prob: float = 0.1) -> Dict[str, str]:
    """Write the toy set under ``out_dir`` and return the annotation file of each split.

    Layout: ``{train,val}/*.jpg`` and ``annotations/instances_{train,val}.json``. The same
    arguments always give the same files.

    Args:
        out_dir (str): Output folder (created if needed).
        num_train (int): Number of training images.
        num_val (int): Number of held-out validation images.
        image_size (int): Side of the square images.
        seed (int): Random seed.
        empty_prob (float): Chance that an image has no object.
        crowd_prob (float): Chance that an image holds an ``iscrowd`` group.
    """
    rng = np.random.default_rng(seed)
    categories = [dict(id=i + 1, name=name, supercategory='toy')
                  for i, name in enumerate(CLASSES)]
    os.makedirs(osp.join(out_dir, 'annotations'), exist_ok=True)
    ann_files = {}
    ann_id = 1
    for split, count in (('train', num_train), ('val', num_val)):
        os.makedirs(osp.join(out_dir, split), exist_ok=True)
        images, annotations = [], []
        for index in range(count):
            image, anns = _render_image(rng, image_size, empty_prob, crowd_prob)
            file_name = f'{index:05d}.jpg'
            cv2.imwrite(osp.join(out_dir, split, file_name), image[..., ::-1],
                        [cv2.IMWRITE_JPEG_QUALITY, 95])
            image_id = index + 1
            images.append(dict(id=image_id, file_name=file_name, width=image_size,
                               height=image_size))
            for ann in anns:
                annotations.append(dict(ann, id=ann_id, image_id=image_id))
                ann_id += 1
        ann_file = osp.join(out_dir, 'annotations', f'instances_{split}.json')
        tmp = ann_file + '.tmp'
        with open(tmp, 'w') as f:
            json.dump(dict(images=images, annotations=annotations, categories=categories), f)
        os.replace(tmp, ann_file)
        ann_files[split] = ann_file
    return ann_files


def toy_coco_exists(out_dir: str) -> bool:
    """Whether both annotation files of a generated toy set are present."""
    return all(osp.exists(osp.join(out_dir, 'annotations', f'instances_{split}.json'))
               for split in ('train', 'val'))
