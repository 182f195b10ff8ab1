"""A small, deterministic COCO-format instance segmentation set for demos and tests.

The scenes come from :mod:`mmfasternet.testing.toy_scenes`. Unoccluded objects are
annotated with polygons, occluded ones with an RLE of their visible part, groups of small
objects as one ``iscrowd`` RLE region, and some images are empty.
"""
import os
import os.path as osp
from typing import Dict, List

import cv2
import numpy as np
from pycocotools import mask as mask_utils

from mmfasternet.fileio import write_image_atomically, write_json_atomically
from .toy_scenes import CLASSES, Instance, render_scene


def _rle(mask: np.ndarray) -> dict:
    rle = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
    rle['counts'] = rle['counts'].decode('ascii')
    return rle


def _bbox(mask: np.ndarray) -> List[float]:
    ys, xs = np.nonzero(mask)
    return [float(xs.min()), float(ys.min()),
            float(xs.max() - xs.min() + 1), float(ys.max() - ys.min() + 1)]


def _annotation(instance: Instance) -> dict:
    segmentation = [instance.polygon] if instance.polygon else _rle(instance.mask)
    return dict(category_id=instance.label + 1, segmentation=segmentation,
                area=float(instance.mask.sum()), bbox=_bbox(instance.mask),
                iscrowd=int(instance.iscrowd))


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
            image, instances = render_scene(rng, image_size, empty_prob, crowd_prob)
            file_name = f'{index:05d}.jpg'
            write_image_atomically(image[..., ::-1], osp.join(out_dir, split, file_name),
                                   [cv2.IMWRITE_JPEG_QUALITY, 95])
            image_id = index + 1
            images.append(dict(id=image_id, file_name=file_name, width=image_size,
                               height=image_size))
            for instance in instances:
                annotations.append(dict(_annotation(instance), id=ann_id, image_id=image_id))
                ann_id += 1
        ann_file = osp.join(out_dir, 'annotations', f'instances_{split}.json')
        write_json_atomically(
            dict(images=images, annotations=annotations, categories=categories), ann_file)
        ann_files[split] = ann_file
    return ann_files


def toy_coco_exists(out_dir: str) -> bool:
    """Whether both annotation files of a generated toy set are present."""
    return all(osp.exists(osp.join(out_dir, 'annotations', f'instances_{split}.json'))
               for split in ('train', 'val'))
