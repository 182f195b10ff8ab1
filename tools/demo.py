"""`make demo`: train Mask R-CNN FasterNet-T0 from scratch on the bundled toy COCO set (CPU),
evaluate COCO bbox/segm mAP on its held-out split, and write under the work dir:
metrics.json, loss_curve.png and predictions.png (val images with predicted boxes and masks).
"""
import argparse
import glob
import json
import os.path as osp
import time

import cv2
import numpy as np
from mmengine.config import Config
from mmengine.runner import Runner

from mmfasternet.datasets.toy_coco import generate_toy_coco, toy_coco_exists
from mmfasternet.engine.curves import plot_losses
from mmfasternet.engine.visualization import enable_prediction_drawing


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument('--config', default='configs/toy/mask_rcnn_fasternet_t0_toy.py')
    parser.add_argument('--work-dir', default='work_dirs/demo')
    parser.add_argument('--num-show', type=int, default=8, help='images in predictions.png')
    return parser.parse_args()


def montage(paths, columns: int = 4) -> np.ndarray:
    images = [cv2.imread(p) for p in paths]
    blank = np.zeros_like(images[0])
    images += [blank] * (-len(images) % columns)
    rows = [np.concatenate(images[i:i + columns], axis=1)
            for i in range(0, len(images), columns)]
    return np.concatenate(rows, axis=0)


def main() -> None:
    args = parse_args()
    cfg = Config.fromfile(args.config)
    cfg.work_dir = args.work_dir
    data_root = cfg.train_dataloader.dataset.data_root
    if not toy_coco_exists(data_root):
        start = time.time()
        generate_toy_coco(data_root)
        print(f'generated the toy COCO set in {data_root} ({time.time() - start:.1f} s)')
    enable_prediction_drawing(cfg, 'predictions')

    runner = Runner.from_cfg(cfg)
    start = time.time()
    runner.train()
    train_time = time.time() - start
    start = time.time()
    metrics = runner.test()
    test_time = time.time() - start

    metrics = dict(metrics, train_time_s=round(train_time, 1), test_time_s=round(test_time, 1))
    with open(osp.join(args.work_dir, 'metrics.json'), 'w') as f:
        json.dump(metrics, f, indent=2)
    plot_losses(osp.join(runner.log_dir, 'vis_data', 'scalars.json'),
                osp.join(args.work_dir, 'loss_curve.png'),
                title=f'{osp.basename(args.config)}: training losses')
    drawn = sorted(glob.glob(osp.join(runner.log_dir, 'predictions', '*.jpg')))
    if drawn:
        step = max(1, len(drawn) // args.num_show)
        cv2.imwrite(osp.join(args.work_dir, 'predictions.png'),
                    montage(drawn[::step][:args.num_show]))
    print(json.dumps(metrics, indent=2))
    print(f'wrote metrics.json, loss_curve.png and predictions.png to {args.work_dir}')


if __name__ == '__main__':
    main()
