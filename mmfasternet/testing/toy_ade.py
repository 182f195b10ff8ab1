"""A small, deterministic ADE20K-format semantic segmentation set for demos and tests.

Scenes are like ADE20K's: two "stuff" classes fill the background (a wall above a wavy
horizon, the ground below), patches of unlabelled clutter are "other", and the objects of
:mod:`mmfasternet.testing.toy_scenes` stand in front. So a model has to find boundaries, not
only tell colours apart. The layout and conventions are ADE20K's:
``images/{training,validation}/*.jpg`` and ``annotations/{training,validation}/*.png`` label
maps where 0 is "other" (ignored with ``reduce_zero_label=True``) and class ``k`` is stored
as ``k + 1``.
"""
import os
import os.path as osp

import cv2
import numpy as np

from mmfasternet.fileio import write_image_atomically, write_json_atomically
from .toy_scenes import CLASSES as OBJECT_CLASSES
from .toy_scenes import PALETTE as OBJECT_PALETTE
from .toy_scenes import background_noise, render_scene

CLASSES = OBJECT_CLASSES + ('wall', 'ground')
PALETTE = OBJECT_PALETTE + [(120, 120, 140), (120, 90, 50)]
SPLITS = ('training', 'validation')
DONE_FILE = 'toy_ade.json'


def _grain(shape, rng: np.random.Generator, cells: int) -> np.ndarray:
    noise = rng.random((cells, cells)).astype(np.float32)
    return cv2.resize(noise, shape[::-1], interpolation=cv2.INTER_CUBIC)


def _stuff_background(size: int, rng: np.random.Generator):
    """A wall above a wavy horizon, the ground below and blobs of clutter ("other").

    Returns the RGB image and its label map (0 other, then the stuff classes' labels).
    """
    shape = (size, size)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    horizon = size * rng.uniform(0.35, 0.6) + size * 0.06 * np.sin(
        xx / size * rng.uniform(2, 6) + rng.uniform(0, 2 * np.pi))
    ground = yy > horizon
    wall_tone = rng.uniform(110, 150) + 25 * np.sin(yy / rng.uniform(3, 6))  # bands
    wall = np.stack([wall_tone * f for f in (0.95, 0.95, 1.05)], axis=-1)
    ground_tone = 70 + 80 * _grain(shape, rng, 48)
    earth = np.stack([ground_tone * f for f in (1.15, 0.9, 0.6)], axis=-1)
    image = np.where(ground[..., None], earth, wall) + rng.normal(0, 5, (size, size, 3))
    labels = np.where(ground, len(OBJECT_CLASSES) + 2, len(OBJECT_CLASSES) + 1)
    labels = labels.astype(np.uint8)
    clutter = background_noise(shape, rng).astype(np.float32)
    for _ in range(int(rng.integers(0, 3))):
        center = tuple(int(v) for v in rng.uniform(0, size, 2))
        axes = tuple(int(v) for v in rng.uniform(0.08, 0.2, 2) * size)
        blob = np.zeros(shape, np.uint8)
        cv2.ellipse(blob, center, axes, rng.uniform(0, 180), 0, 360, 1, -1)
        image[blob.astype(bool)] = clutter[blob.astype(bool)]
        labels[blob.astype(bool)] = 0
    return np.clip(image, 0, 255).astype(np.uint8), labels


def generate_toy_ade(out_dir: str,
                     num_train: int = 400,
                     num_val: int = 80,
                     image_size: int = 256,
                     seed: int = 1,
                     empty_prob: float = 0.04,
                     crowd_prob: float = 0.1) -> None:
    """Write the toy set under ``out_dir``. The same arguments always give the same files.

    Args:
        out_dir (str): Output folder (created if needed).
        num_train (int): Number of training images.
        num_val (int): Number of held-out validation images.
        image_size (int): Side of the square images.
        seed (int): Random seed.
        empty_prob (float): Chance that an image has no object.
        crowd_prob (float): Chance that an image holds a group of small objects.
    """
    rng = np.random.default_rng(seed)
    for split, count in zip(SPLITS, (num_train, num_val)):
        image_dir = osp.join(out_dir, 'images', split)
        label_dir = osp.join(out_dir, 'annotations', split)
        os.makedirs(image_dir, exist_ok=True)
        os.makedirs(label_dir, exist_ok=True)
        for index in range(count):
            background, label_map = _stuff_background(image_size, rng)
            image, instances = render_scene(rng, image_size, empty_prob, crowd_prob,
                                            background=background)
            for instance in instances:
                label_map[instance.mask] = instance.label + 1
            name = f'{index:05d}'
            write_image_atomically(image[..., ::-1], osp.join(image_dir, name + '.jpg'),
                                   [cv2.IMWRITE_JPEG_QUALITY, 95])
            write_image_atomically(label_map, osp.join(label_dir, name + '.png'))
    # Written last: its presence means the set is complete.
    write_json_atomically(
        dict(classes=CLASSES, num_train=num_train, num_val=num_val, image_size=image_size,
             seed=seed), osp.join(out_dir, DONE_FILE))


def toy_ade_exists(out_dir: str) -> bool:
    """Whether a completely generated toy set is present."""
    return osp.isfile(osp.join(out_dir, DONE_FILE))
