"""The tools' pre-flight data check (:func:`mmfasternet.engine.check_data`) timed on a
generated COCO-sized training set (``python -m benchmarks.benchmark_data_check``)."""
import json
import os
import os.path as osp
import tempfile
import time
from typing import Sequence, Tuple

import numpy as np

import mmfasternet  # noqa: F401  registers FasterNet
from mmfasternet.engine.data_check import check_data
from mmfasternet.engine.tool_config import load_config
from mmfasternet.fileio import replaced_atomically


def write_coco_sized_set(root: str, num_images: int, num_annotations: int,
                         classes: Sequence[str]) -> int:
    """Write ``annotations/instances_train2017.json`` (polygons of 16 points, like COCO's
    average) and empty ``train2017/`` images under ``root``; the annotation file's size in
    bytes."""
    rng = np.random.default_rng(0)
    os.makedirs(osp.join(root, 'train2017'))
    os.makedirs(osp.join(root, 'annotations'))
    images = [dict(id=i, file_name=f'{i:012d}.jpg', height=480, width=640)
              for i in range(num_images)]
    for image in images:
        open(osp.join(root, 'train2017', image['file_name']), 'w').close()
    owners = rng.integers(0, num_images, num_annotations)
    points = np.round(rng.uniform(0, 480, (num_annotations, 32)), 2).tolist()
    annotations = [dict(id=i, image_id=int(owners[i]), category_id=int(i % len(classes)) + 1,
                        segmentation=[points[i]], area=1000.0, iscrowd=0,
                        bbox=[10.0, 10.0, 50.0, 40.0]) for i in range(num_annotations)]
    categories = [dict(id=i + 1, name=name) for i, name in enumerate(classes)]
    path = osp.join(root, 'annotations', 'instances_train2017.json')
    # Streamed to the file (it is some 400 MB): whole or absent all the same.
    with replaced_atomically(path) as tmp, open(tmp, 'w') as f:
        json.dump(dict(images=images, annotations=annotations, categories=categories), f)
    return osp.getsize(path)


def time_data_check(num_images: int, num_annotations: int) -> Tuple[int, float]:
    """The default check of the Mask R-CNN FasterNet-S config's training set, pointed at a
    :func:`write_coco_sized_set` in a temporary folder.

    Returns:
        tuple: The annotation file's size in bytes and the seconds the check took.
    """
    from mmdet.datasets import CocoDataset
    cfg = load_config('mmfasternet::mask_rcnn_fasternet_s.py')
    with tempfile.TemporaryDirectory() as root:
        size = write_coco_sized_set(root, num_images, num_annotations,
                                    CocoDataset.METAINFO['classes'])
        cfg.train_dataloader.dataset.data_root = root + '/'
        start = time.perf_counter()
        check_data(cfg, ['train_dataloader'])
        return size, time.perf_counter() - start
