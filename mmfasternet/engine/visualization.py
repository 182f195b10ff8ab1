"""Turn on each task library's visualization hook to save prediction images."""
from mmengine.config import Config


def enable_prediction_drawing(cfg: Config, out_dir: str) -> None:
    """Make the test run draw every prediction into ``out_dir``.

    The three task libraries name the switches of their visualization hooks differently;
    the config's ``default_scope`` says which one is in charge.

    Args:
        cfg (Config): The config to change in place.
        out_dir (str): Folder for the drawn images (relative ones go under the work dir).
    """
    scope = cfg.get('default_scope')
    hook = cfg.default_hooks.get('visualization')
    if hook is None:
        raise ValueError('the config has no default_hooks.visualization to draw with')
    if scope == 'mmdet':
        hook.update(draw=True, interval=1, test_out_dir=out_dir)
    elif scope == 'mmseg':
        hook.update(draw=True, interval=1)
        cfg.visualizer.save_dir = out_dir
    elif scope == 'mmpretrain':
        hook.update(enable=True, interval=1, out_dir=out_dir)
    else:
        raise ValueError(f'cannot draw predictions for default_scope={scope!r}; '
                         f'expected mmdet, mmseg or mmpretrain')
