"""Turn on each task library's visualization hook to save prediction images."""
from typing import Optional

from mmengine.config import Config


def enable_prediction_drawing(cfg: Config, out_dir: Optional[str] = None) -> None:
    """Make the test run draw every prediction.

    The three task libraries name the switches of their visualization hooks differently;
    the config's ``default_scope`` says which one is in charge.

    Args:
        cfg (Config): The config to change in place.
        out_dir (str, optional): Folder for the drawn images. Defaults to None: the
            visualizer's own folder, ``<work_dir>/<timestamp>/vis_data/vis_image``.
    """
    scope = cfg.get('default_scope')
    hook = cfg.default_hooks.get('visualization')
    if hook is None:
        raise ValueError('the config has no default_hooks.visualization to draw with')
    if scope == 'mmdet':
        hook.update(draw=True, interval=1)
        if out_dir:
            hook.test_out_dir = out_dir
    elif scope == 'mmseg':
        hook.update(draw=True, interval=1)
        if out_dir:
            cfg.visualizer.save_dir = out_dir
    elif scope == 'mmpretrain':
        hook.update(enable=True, interval=1)
        if out_dir:
            hook.out_dir = out_dir
    else:
        raise ValueError(f'cannot draw predictions for default_scope={scope!r}; '
                         f'expected mmdet, mmseg or mmpretrain')
