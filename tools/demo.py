"""Train from scratch on a bundled toy set (CPU), evaluate on its held-out split and write
metrics.json, loss_curve.png and predictions.png under the work dir.

    python tools/demo.py det   # `make demo`: Mask R-CNN FasterNet-T0, COCO bbox/segm mAP
    python tools/demo.py seg   # `make demo-seg`: UperNet FasterNet-T0, mIoU
"""
import argparse
import json
import os.path as osp
import time

import cv2
import numpy as np
from mmengine.config import Config

from mmfasternet.engine.checkpoint_storage import save_checkpoints_atomically
from mmfasternet.engine.tool_config import runner_of, stops_with_a_message
from mmfasternet.fileio import write_image_atomically, write_json_atomically
from mmfasternet.testing import generate_toy_ade, generate_toy_coco, toy_ade_exists, toy_coco_exists
from mmfasternet.visualization import draw_predictions
from mmfasternet.visualization.curves import plot_losses

TOY_CONFIGS = osp.join(osp.dirname(osp.dirname(osp.abspath(__file__))), 'configs', 'toy')
TASKS = {
    'det': dict(config=osp.join(TOY_CONFIGS, 'mask_rcnn_fasternet_t0_toy.py'),
                work_dir='work_dirs/demo', exists=toy_coco_exists, generate=generate_toy_coco),
    'seg': dict(config=osp.join(TOY_CONFIGS, 'upernet_fasternet_t0_toy.py'),
                work_dir='work_dirs/demo-seg', exists=toy_ade_exists,
                generate=generate_toy_ade),
}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument('task', choices=sorted(TASKS))
    parser.add_argument('--config', help='toy config (default: the task\'s)')
    parser.add_argument('--work-dir', help='output folder (default: the task\'s)')
    parser.add_argument('--num-show', type=int, default=8, help='images in predictions.png')
    return parser.parse_args()


def montage(paths, columns: int = 4) -> np.ndarray:
    images = [cv2.imread(p) for p in paths]
    images += [np.zeros_like(images[0])] * (-len(images) % columns)
    rows = [np.concatenate(images[i:i + columns], axis=1)
            for i in range(0, len(images), columns)]
    return np.concatenate(rows, axis=0)


def main() -> None:
    args = parse_args()
    task = TASKS[args.task]
    config = args.config or task['config']
    work_dir = args.work_dir or task['work_dir']
    cfg = Config.fromfile(config)
    cfg.work_dir = work_dir
    data_root = cfg.train_dataloader.dataset.data_root
    save_checkpoints_atomically(cfg)
    # Evaluate once, after training, on the held-out split.
    cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None

    with stops_with_a_message(cfg):  # a full disk, a broken image: one line
        if not task['exists'](data_root):
            start = time.time()
            task['generate'](data_root)
            print(f'generated the toy set in {data_root} ({time.time() - start:.1f} s)')
        runner = runner_of(cfg)
        start = time.time()
        runner.train()
        train_time = time.time() - start
        start = time.time()
        metrics = runner.test()
        metrics = {key: round(float(value), 4) for key, value in metrics.items()}
        metrics.update(train_time_s=round(train_time, 1),
                       test_time_s=round(time.time() - start, 1))
        write_json_atomically(metrics, osp.join(work_dir, 'metrics.json'), indent=2)
        plot_losses(osp.join(runner.log_dir, 'vis_data', 'scalars.json'),
                    osp.join(work_dir, 'loss_curve.png'),
                    title=f'{osp.basename(config)}: training losses')
        drawn = draw_predictions(runner, args.num_show,
                                 osp.join(runner.log_dir, 'vis_data', 'vis_image'))
        write_image_atomically(montage(drawn), osp.join(work_dir, 'predictions.png'))
    print(json.dumps(metrics, indent=2))
    print(f'wrote metrics.json, loss_curve.png and predictions.png to {work_dir}')


if __name__ == '__main__':
    main()
