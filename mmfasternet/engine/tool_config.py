"""What ``tools/train.py`` and ``tools/test.py`` share: loading the config, checking its
data and building the runner."""
import os.path as osp
from typing import Optional, Sequence

from mmengine.config import Config
from mmengine.registry import RUNNERS
from mmengine.runner import Runner

from .data_check import check_data_exists
from .launch import setup_cpu_distributed


def load_tool_config(path: str, work_dir: Optional[str], cfg_options: Optional[dict],
                     launcher: str) -> Config:
    """Load a config and apply the command-line overrides common to all tools.

    The work dir defaults to ``work_dirs/<config name>``.
    """
    cfg = Config.fromfile(path)
    cfg.launcher = launcher
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    cfg.work_dir = work_dir or cfg.get('work_dir') or osp.join(
        'work_dirs', osp.splitext(osp.basename(path))[0])
    return cfg


def build_runner(cfg: Config, loaders: Sequence[str]) -> Runner:
    """Check that the data of ``loaders`` is on disk (exiting with the reason if not),
    prepare CPU-only distributed runs, and build the config's runner."""
    try:
        check_data_exists(cfg, loaders)
    except FileNotFoundError as error:
        raise SystemExit(str(error))
    setup_cpu_distributed(cfg, cfg.launcher)
    return Runner.from_cfg(cfg) if 'runner_type' not in cfg else RUNNERS.build(cfg)
