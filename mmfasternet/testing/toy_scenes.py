"""Procedural toy scenes shared by the toy COCO and toy ADE20K generators.

Each scene has a textured, cluttered background and 0-5 objects of four classes. A class is
told apart by colour family, texture and outline together, the way real classes differ, so a
model trained from scratch for minutes on a CPU learns it without the task being trivial.
Objects occlude each other; some scenes hold a tight group of small same-class objects (a
"crowd"), and some are empty.
"""
import math
from dataclasses import dataclass
from typing import List, Optional, Tuple

import cv2
import numpy as np
from pycocotools import mask as mask_utils

CLASSES = ('sun', 'tile', 'leaf', 'gem')
PALETTE = [(230, 160, 30), (40, 90, 220), (40, 160, 60), (170, 40, 170)]
# Hue ranges (OpenCV's 0-180 scale) of each class's colour family.
HUES = {'sun': (12, 28), 'tile': (100, 120), 'leaf': (45, 75), 'gem': (140, 165)}


def object_outline(name: str, center: Tuple[float, float], radius: float, angle: float,
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


def object_texture(name: str, shape: Tuple[int, int], rng: np.random.Generator) -> np.ndarray:
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


def background_noise(shape: Tuple[int, int], rng: np.random.Generator) -> np.ndarray:
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


def decode_polygons(polygons: List[List[float]], shape: Tuple[int, int]) -> np.ndarray:
    """Rasterise COCO polygons exactly as the COCO tools decode them."""
    rles = mask_utils.frPyObjects(polygons, *shape)
    return mask_utils.decode(mask_utils.merge(rles)).astype(bool)


@dataclass
class Instance:
    """One annotated region of a scene.

    Args:
        label (int): Class index into :data:`CLASSES`.
        mask (np.ndarray): Boolean mask of the visible pixels.
        polygon (list, optional): The outline, when the object is fully visible.
        iscrowd (bool): Whether the region is a group of small objects.
    """
    label: int
    mask: np.ndarray
    polygon: Optional[List[float]] = None
    iscrowd: bool = False


def render_scene(rng: np.random.Generator,
                 size: int,
                 empty_prob: float,
                 crowd_prob: float,
                 min_area: int = 16,
                 background: Optional[np.ndarray] = None) -> Tuple[np.ndarray, List[Instance]]:
    """Draw one RGB scene and return it with its instances, front to back.

    Args:
        background (np.ndarray, optional): The image to draw the objects on. Defaults to
            None: a cluttered noise background.
    """
    shape = (size, size)
    image = background_noise(shape, rng) if background is None else background.copy()
    objects = []  # (class index, full mask, polygon)
    num_objects = 0 if rng.random() < empty_prob else int(rng.integers(1, 6))
    for _ in range(num_objects):
        for _attempt in range(20):
            label = int(rng.integers(len(CLASSES)))
            radius = rng.uniform(0.09, 0.2) * size
            center = rng.uniform(radius + 2, size - radius - 2, 2)
            polygon = object_outline(CLASSES[label], center, radius, rng.uniform(0, math.pi), rng)
            polygon = polygon.round(1).ravel().tolist()
            # Rasterised as COCO tools decode polygons, so drawing and annotation agree.
            full = decode_polygons([polygon], shape)
            # Keep at least 40% of every object already placed visible.
            if all((m & ~full).sum() >= 0.4 * m.sum() for _, m, _ in objects):
                objects.append((label, full, polygon))
                break
    instances = []
    covered = np.zeros(shape, bool)
    for label, full, polygon in reversed(objects):  # front to back
        visible = full & ~covered
        covered |= full
        unoccluded = visible.sum() == full.sum()
        instances.append(Instance(label, visible, polygon if unoccluded else None))
    instances = [i for i in instances if i.mask.sum() >= min_area]
    for label, full, _ in objects:  # back to front
        image[full] = object_texture(CLASSES[label], shape, rng)[full]

    if num_objects and rng.random() < crowd_prob:
        # A tight group of small same-class objects drawn on top of everything.
        label = int(rng.integers(len(CLASSES)))
        texture = object_texture(CLASSES[label], shape, rng)
        crowd = np.zeros(shape, np.uint8)
        center = rng.uniform(0.2 * size, 0.8 * size, 2)
        for _ in range(int(rng.integers(4, 8))):
            offset = rng.normal(0, 0.05 * size, 2)
            polygon = object_outline(CLASSES[label], center + offset, 0.03 * size,
                                     rng.uniform(0, math.pi), rng)
            cv2.fillPoly(crowd, [np.round(polygon).astype(np.int32)], 1)
        crowd = crowd.astype(bool)
        image[crowd] = texture[crowd]
        for instance in instances:  # the crowd hides what lies under it
            if (instance.mask & crowd).any():
                instance.mask = instance.mask & ~crowd
                instance.polygon = None
        instances = [i for i in instances if i.mask.sum() >= min_area]
        instances.append(Instance(label, crowd, iscrowd=True))
    return image, instances


def render_object_crops(num: int, size: int = 64, seed: int = 0
                        ) -> Tuple[np.ndarray, np.ndarray]:
    """Images of one object each, on clutter, for a toy classification task.

    Returns:
        tuple: ``(images, labels)``, uint8 RGB images of shape (num, size, size, 3) and
        class indices into :data:`CLASSES`.
    """
    rng = np.random.default_rng(seed)
    shape = (size, size)
    images, labels = [], []
    for _ in range(num):
        label = int(rng.integers(len(CLASSES)))
        image = background_noise(shape, rng)
        radius = rng.uniform(0.25, 0.4) * size
        center = rng.uniform(radius, size - radius, 2)
        outline = object_outline(CLASSES[label], center, radius, rng.uniform(0, math.pi), rng)
        mask = decode_polygons([outline.round(1).ravel().tolist()], shape)
        image[mask] = object_texture(CLASSES[label], shape, rng)[mask]
        images.append(image)
        labels.append(label)
    return np.stack(images), np.array(labels)
