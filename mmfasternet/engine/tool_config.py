"""What ``tools/train.py`` and ``tools/test.py`` share: the launch arguments, loading the
config, checking its data and building the runner."""
import argparse
import os
import os.path as osp
from typing import Optional, Sequence

from mmengine.config import Config, DictAction
from mmengine.registry import RUNNERS
from mmengine.runner import Runner

from .data_check import check_data_exists
from .launch import setup_cpu_distributed


def add_launch_arguments(parser: argparse.ArgumentParser, example: str) -> None:
    """Add ``--cfg-options``, ``--launcher`` and ``--local-rank``."""
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help=f'override config entries, e.g. {example}')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
                        default='none')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)


def parse_tool_args(parser: argparse.ArgumentParser) -> argparse.Namespace:
    """Parse the command line; publish the local rank as mmengine expects."""
    args = parser.parse_args()
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


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
    """Prepare CPU-only distributed runs, check that the data of ``loaders`` is on disk
    (exiting with the reason if either fails), and build the config's runner."""
    try:
        setup_cpu_distributed(cfg, cfg.launcher)
        check_data_exists(cfg, loaders)
    except (FileNotFoundError, ValueError) as error:
        raise SystemExit(str(error))
    return Runner.from_cfg(cfg) if 'runner_type' not in cfg else RUNNERS.build(cfg)
