"""A small, deterministic ADE20K-format semantic segmentation set for demos and tests.

The scenes come from :mod:`mmfasternet.datasets.toy_scenes`. The layout and conventions are
ADE20K's: ``images/{training,validation}/*.jpg`` and ``annotations/{training,validation}/*.png``
label maps where 0 is "other" (ignored with ``reduce_zero_label=True``) and class ``k`` is
stored as ``k + 1``.
"""
import os
import os.path as osp

import cv2
import numpy as np

from .toy_scenes import render_scene

SPLITS = ('training', 'validation')


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
            image, instances = render_scene(rng, image_size, empty_prob, crowd_prob)
            label_map = np.zeros(image.shape[:2], np.uint8)
            for instance in instances:
                label_map[instance.mask] = instance.label + 1
            name = f'{index:05d}'
            cv2.imwrite(osp.join(image_dir, name + '.jpg'), image[..., ::-1],
                        [cv2.IMWRITE_JPEG_QUALITY, 95])
            cv2.imwrite(osp.join(label_dir, name + '.png'), label_map)


def toy_ade_exists(out_dir: str) -> bool:
    """Whether a generated toy set with both splits is present."""
    return all(osp.isdir(osp.join(out_dir, 'annotations', split)) and
               os.listdir(osp.join(out_dir, 'annotations', split)) for split in SPLITS)
