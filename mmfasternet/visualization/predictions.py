"""Prediction images: each task library's visualization hook turned on for a test run, or
a few test images predicted and drawn after one."""
import os.path as osp
from typing import List, Optional

import mmcv
import torch
from mmengine.config import Config
from mmengine.runner import Runner

from mmfasternet.deploy.tasks import task_of_config
from mmfasternet.errors import ArgumentError


def enable_prediction_drawing(cfg: Config, out_dir: Optional[str] = None) -> None:
    """Make the test run draw every prediction.

    The three task libraries name the switches of their visualization hooks differently;
    the config's task (:func:`mmfasternet.deploy.tasks.task_of_config`) says which switch.

    Args:
        cfg (Config): The config to change in place.
        out_dir (str, optional): Folder for the drawn images. Defaults to None: the
            visualizer's own folder, ``<work_dir>/<timestamp>/vis_data/vis_image``.
    """
    switch, holder, key = task_of_config(cfg).drawing
    hook = cfg.default_hooks.get('visualization')
    if hook is None:
        raise ArgumentError('the config has no default_hooks.visualization to draw with')
    hook.update({switch: True, 'interval': 1})
    if out_dir:
        (hook if holder == 'hook' else cfg.visualizer)[key] = out_dir


def draw_predictions(runner: Runner, count: int, out_dir: str) -> List[str]:
    """Predict ``count`` images spread over the test set of ``runner`` and draw each as the
    task library's visualization hook does (ground truth beside prediction) into
    ``out_dir``: a few pictures without drawing every test image.

    Returns:
        list[str]: The drawn images' paths, in the test set's order.
    """
    loader = runner.test_loop.dataloader
    step = max(1, len(loader.dataset) // count)
    runner.model.eval()
    paths = []
    for index in range(0, len(loader.dataset), step)[:count]:
        with torch.no_grad():
            sample, = runner.model.test_step(loader.collate_fn([loader.dataset[index]]))
        name = osp.splitext(osp.basename(sample.img_path))[0]
        paths.append(osp.join(out_dir, f'{index:05d}_{name}.png'))
        runner.visualizer.add_datasample(name, mmcv.imread(sample.img_path, channel_order='rgb'),
                                         data_sample=sample, out_file=paths[-1])
    return paths
