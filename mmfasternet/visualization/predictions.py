"""Turn on each task library's visualization hook to save prediction images."""
from typing import Optional

from mmengine.config import Config

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
