"""Time the tools' pre-flight data check on a COCO-sized training set.

Generates, in a temporary folder, an annotation file with as many images and annotations as
COCO 2017 train (118,287 and 860,001 by default; polygons of 16 points, like COCO's
average) and an empty file for every image (the default check lists the folders; it does
not open the images), then times :func:`mmfasternet.engine.check_data` on the Mask R-CNN
config pointed at it.

    python tools/analysis/benchmark_data_check.py [--out work_dirs/data_check]
"""
import argparse
import json
import os
import os.path as osp
import platform
import tempfile
import time

import numpy as np
from mmengine.config import Config

import mmfasternet  # noqa: F401  registers FasterNet
from mmfasternet.engine.data_check import check_data
from mmfasternet.engine.tool_config import stops_with_a_message
from mmfasternet.fileio import prepare_output_folder, replaced_atomically, write_text_atomically

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def write_coco_sized_set(root: str, num_images: int, num_annotations: int,
                         classes: tuple) -> int:
    """Write ``annotations/instances_train2017.json`` and empty ``train2017/`` images;
    return the annotation file's size in bytes."""
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument('--images', type=int, default=118_287)
    parser.add_argument('--annotations', type=int, default=860_001)
    parser.add_argument('--out', default=osp.join('work_dirs', 'data_check'),
                        help='folder for data_check.md (created if needed)')
    args = parser.parse_args()
    prepare_output_folder(parser, args.out)
    with stops_with_a_message():  # a full disk: one line
        cfg = Config.fromfile(osp.join(REPO, 'configs', 'mask_rcnn_fasternet_s.py'))
        with tempfile.TemporaryDirectory() as root:
            from mmdet.datasets import CocoDataset
            size = write_coco_sized_set(root, args.images, args.annotations,
                                        CocoDataset.METAINFO['classes'])
            cfg.train_dataloader.dataset.data_root = root + '/'
            start = time.perf_counter()
            check_data(cfg, ['train_dataloader'])
            seconds = time.perf_counter() - start
        line = (f'| {args.images:,} | {args.annotations:,} | {size / 2**20:.0f} MiB | '
                f'{seconds:.1f} s |')
        print(line)
        write_text_atomically('\n'.join([
            '# Pre-flight data check: cost on a COCO-sized set', '',
            f'`python tools/analysis/benchmark_data_check.py` on '
            f'{platform.processor() or platform.machine()} ({os.cpu_count()} cores): the default '
            f'check of `tools/train.py` (annotation file parsed, every image looked up, classes '
            f'compared with the heads) on a generated COCO-2017-sized training set.', '',
            '| images | annotations | annotation file | check |', '|---|---|---|---|', line, '']),
            osp.join(args.out, 'data_check.md'))
    print(f'wrote {args.out}/data_check.md')


if __name__ == '__main__':
    main()
