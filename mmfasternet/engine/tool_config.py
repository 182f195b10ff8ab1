"""What ``tools/train.py`` and ``tools/test.py`` share: the launch arguments, loading the
config, the pre-flight checks of its data and checkpoints, building the runner, and turning
the errors a user can fix into one message."""
import argparse
import ast
import difflib
import os
import os.path as osp
from contextlib import contextmanager
from typing import Iterator, List, Optional, Sequence

import torch
from mmengine.config import Config, DictAction
from mmengine.model import revert_sync_batchnorm
from mmengine.registry import MODELS, RUNNERS, init_default_scope
from mmengine.runner import Runner

from mmfasternet.checkpoint import read_checkpoints_in_mmengine
from mmfasternet.checkpoint.reading import checkpoint_format
from mmfasternet.errors import MMFasterNetError
from mmfasternet.fileio import NoSpaceLeft, OutputPathError, check_output_file
from .checkpoint_storage import save_checkpoints_atomically
from .data_check import check_data
from .failing_samples import NameFailingSamplesHook, data_file_failure
from .input_channels_hook import AdaptInputChannelsHook
from .launch import setup_cpu_distributed


class ConfigOverrides(DictAction):
    """``--cfg-options KEY=VALUE ...`` that refuses an item without ``=`` as a usage
    error, instead of mmengine's traceback."""

    def __call__(self, parser, namespace, values, option_string=None):
        malformed = [v for v in values if '=' not in v or v.startswith('=')]
        if malformed:
            raise argparse.ArgumentError(self, f'expected KEY=VALUE items, got {malformed[0]!r}'
                                               f' (e.g. train_dataloader.batch_size=4)')
        super().__call__(parser, namespace, values, option_string)


class _FormattedOnce(Config):
    """A config whose :attr:`pretty_text` is formatted (by yapf) once for each content:
    mmengine's runner asks for it four times as it starts (to log it, dump it, give it to the
    visualizer and to the message hub) and once for each checkpoint it saves, 0.25 s each
    for the toy Mask R-CNN's (2-core EPYC)."""

    @property
    def pretty_text(self) -> str:
        content = repr(self.to_dict())
        formatted = self.__dict__.get('_formatted')
        if formatted is None or formatted[0] != content:
            formatted = (content, super().pretty_text)
            object.__setattr__(self, '_formatted', formatted)
        return formatted[1]


def runner_of(cfg: Config) -> Runner:
    """``cfg``'s runner (``runner_type``, mmengine's by default), its config's text
    formatted once."""
    formatted_once = _FormattedOnce.__new__(_FormattedOnce)
    formatted_once.__dict__.update(cfg.__dict__)  # the runner copies it (deepcopy)
    if 'runner_type' in cfg:
        return RUNNERS.build(formatted_once)
    return Runner.from_cfg(formatted_once)


def add_launch_arguments(parser: argparse.ArgumentParser, example: str) -> None:
    """Add ``--cfg-options``, the data-check flags, ``--launcher`` and ``--local-rank``."""
    parser.add_argument('--cfg-options', nargs='+', action=ConfigOverrides,
                        help=f'override config entries, e.g. {example}')
    parser.add_argument('--check-images', action='store_true',
                        help='the data check also decodes every image (slower)')
    parser.add_argument('--skip-data-check', action='store_true',
                        help='start without checking the data first')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
                        default='none')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)


def check_output_arguments(parser: argparse.ArgumentParser, outputs: Sequence[str],
                           inputs: Sequence[Optional[str]]) -> None:
    """Stop with a usage error (exit 2) before any work when one of the files ``outputs``
    cannot be written, or is one of ``inputs`` (see
    :func:`~mmfasternet.fileio.check_output_file`)."""
    for path in outputs:
        try:
            check_output_file(path, inputs)
        except OutputPathError as error:
            parser.error(str(error))


def parse_tool_args(parser: argparse.ArgumentParser) -> argparse.Namespace:
    """Parse the command line; publish the local rank as mmengine expects."""
    args = parser.parse_args()
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    args.parser = parser
    return args


def _unknown_key(cfg: Config, key: str) -> Optional[str]:
    """Why the dotted ``key`` does not fit ``cfg``, or None. Every part but the last must
    exist (a new last part adds an argument); a new last part that is one typo away from
    an existing key is refused too."""
    node, parts = cfg._cfg_dict, key.split('.')
    for depth, part in enumerate(parts):
        if isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
            continue
        if not isinstance(node, dict):
            what = 'None' if node is None else f'a {type(node).__name__}'
            return (f'{".".join(parts[:depth])} is {what} in the config, not a dict: '
                    f'{key} cannot be set inside it')
        if part not in node:
            close = difflib.get_close_matches(part, [str(k) for k in node], n=1, cutoff=0.8)
            hint = f'; did you mean {close[0]!r}?' if close else ''
            if depth < len(parts) - 1 or close:
                return f'{".".join(parts[:depth + 1])} is not in the config{hint}'
            return None
        node = node[part]
    return None


def _syntax_error_in(path: str, seen: Optional[set] = None) -> Optional[str]:
    """``'<file>, line N: <what>'`` for the first syntax error in the config ``path`` or a
    local base it inherits (``_base_``), or None."""
    seen = set() if seen is None else seen
    if path in seen or not osp.isfile(path):
        return None
    seen.add(path)
    with open(path, encoding='utf-8') as f:
        source = f.read()
    try:
        tree = ast.parse(source, path)
    except SyntaxError as error:
        return f'{path}, line {error.lineno}: {error.msg}'
    for node in tree.body:
        if (isinstance(node, ast.Assign)
                and any(getattr(t, 'id', None) == '_base_' for t in node.targets)):
            try:
                bases = ast.literal_eval(node.value)
            except ValueError:
                return None
            for base in [bases] if isinstance(bases, str) else bases:
                if isinstance(base, str) and '::' not in base:
                    found = _syntax_error_in(osp.normpath(osp.join(osp.dirname(path), base)),
                                             seen)
                    if found:
                        return found
    return None


def _read_config(parser: argparse.ArgumentParser, path: str) -> Config:
    """The config at ``path``; a missing file or a syntax error is a usage error naming the
    file and the line."""
    if not osp.isfile(path):
        parser.error(f'config {path} does not exist' if not osp.exists(path) else
                     f'config {path} is not a file')
    try:
        return Config.fromfile(path)
    except SyntaxError as error:
        where = _syntax_error_in(path) or f'{path} or a config it inherits: {error.msg}'
        parser.error(f'syntax error in config {where}')


def _config_dicts(node) -> Iterator[dict]:
    """Every dict in a config node (lists and dicts nested to any depth), outer first."""
    if isinstance(node, (list, tuple)):
        for child in node:
            yield from _config_dicts(child)
    elif isinstance(node, dict):
        yield node
        for child in node.values():
            yield from _config_dicts(child)


def check_backbone_arguments(cfg: Config) -> Optional[str]:
    """Why a FasterNet backbone of ``cfg.model`` cannot be built with its arguments (an
    unknown arch, out_indices past the last stage, ...), or None. The backbone is built on
    torch's meta device: no memory, no weights."""
    import torch

    from mmfasternet.models import FasterNet
    for node in _config_dicts(cfg.get('model')):
        if node.get('type') not in ('FasterNet', 'mmfasternet.FasterNet', FasterNet):
            continue
        arguments = {k: v for k, v in node.items() if k not in ('type', 'init_cfg')}
        try:
            with torch.device('meta'):
                FasterNet(**arguments)
        except (TypeError, ValueError) as error:
            return f'the FasterNet backbone cannot be built: {error}'
    return None


def load_tool_config(args: argparse.Namespace) -> Config:
    """Load ``args.config`` and apply the command-line overrides common to all tools.

    The work dir defaults to ``work_dirs/<config name>``. These are usage errors (exit 2),
    before anything is written: a missing config or one with a syntax error, a
    ``--cfg-options`` key that does not fit the config, a FasterNet backbone its arguments
    cannot build, and a work dir that is a file.
    """
    cfg = _read_config(args.parser, args.config)
    cfg.launcher = args.launcher
    for key in args.cfg_options or {}:
        problem = _unknown_key(cfg, key)
        if problem:
            args.parser.error(f'argument --cfg-options: {problem}')
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    problem = check_backbone_arguments(cfg)
    if problem:
        args.parser.error(problem)
    cfg.work_dir = args.work_dir or cfg.get('work_dir') or osp.join(
        'work_dirs', osp.splitext(osp.basename(args.config))[0])
    if osp.exists(cfg.work_dir) and not osp.isdir(cfg.work_dir):
        args.parser.error(f'the work dir {cfg.work_dir} is a file; give a folder '
                          f'(--work-dir)')
    return cfg


def load_config(path: str) -> Config:
    """A config file, or a task library's packaged config such as
    ``'mmdet::mask_rcnn/mask-rcnn_r50_fpn_1x_coco.py'``."""
    if '::' in path:
        from mmengine.hub import get_config
        return get_config(path)
    return Config.fromfile(path)


def build_model(cfg: Config) -> torch.nn.Module:
    """Build ``cfg.model`` in the config's default scope, in eval mode, SyncBN reverted."""
    init_default_scope(cfg.get('default_scope', 'mmengine'))
    return revert_sync_batchnorm(MODELS.build(cfg.model)).eval()


def _pretrained_checkpoints(model: dict) -> List[str]:
    """The ``checkpoint`` of every ``Pretrained`` init_cfg in a model config."""
    return [node['checkpoint'] for node in _config_dicts(model)
            if node.get('type') == 'Pretrained' and isinstance(node.get('checkpoint'), str)]


def check_checkpoints(paths: Sequence[str]) -> None:
    """Raise :class:`~mmfasternet.checkpoint.CheckpointError` for the first local
    checkpoint that is missing or damaged (a cheap look at its structure; URLs are checked
    when downloaded)."""
    for path in paths:
        if path and '://' not in path:
            checkpoint_format(path)


def build_runner(cfg: Config, loaders: Sequence[str], args: argparse.Namespace,
                 checkpoints: Sequence[str] = ()) -> Runner:
    """Prepare CPU-only distributed runs, check the data of ``loaders`` and every
    checkpoint the run will read (exiting with the reason if any check fails, before
    anything is written), and build the config's runner, which reads every checkpoint
    weights-only (:func:`~mmfasternet.checkpoint.read_checkpoints_in_mmengine`), writes
    each one in one step (:func:`~.checkpoint_storage.save_checkpoints_atomically`) and
    names the image whose annotations break the pipeline (:mod:`.failing_samples`).

    Args:
        cfg (Config): The loaded config.
        loaders (Sequence[str]): The dataloaders the run reads.
        args (Namespace): The tool's arguments (``check_images``, ``skip_data_check``).
        checkpoints (Sequence[str]): Checkpoints the tool itself will load.
    """
    read_checkpoints_in_mmengine()
    save_checkpoints_atomically(cfg)
    with stops_with_a_message(cfg):
        setup_cpu_distributed(cfg, cfg.launcher)
        if not args.skip_data_check:
            check_data(cfg, loaders, decode_images=args.check_images)
        check_checkpoints([*checkpoints, cfg.get('load_from') or '',
                           *_pretrained_checkpoints(cfg.get('model'))])
    runner = runner_of(cfg)
    runner.register_hook(NameFailingSamplesHook())
    if cfg.get('load_from') and not cfg.get('resume'):
        runner.register_hook(AdaptInputChannelsHook(cfg.load_from))
    with stops_with_a_message(cfg):
        check_load_from(runner.model, cfg.get('load_from'), resume=bool(cfg.get('resume')))
    return runner


def check_load_from(model, path: Optional[str], resume: bool) -> None:
    """Raise :class:`~mmfasternet.checkpoint.CheckpointError` before training when the local
    checkpoint ``path`` (``load_from`` or ``--resume``) does not fit ``model``, a FasterNet
    model: all of it to resume, its backbone to fine-tune from (the heads may differ)."""
    from mmengine.model import is_model_wrapper

    from mmfasternet.checkpoint.loading import check_model_checkpoint, read_model_state
    from mmfasternet.models import FasterNet
    model = model.module if is_model_wrapper(model) else model
    if not path or '://' in path or not isinstance(getattr(model, 'backbone', None), FasterNet):
        return
    check_model_checkpoint(model, read_model_state(path), path, backbone_only=not resume)


def _resume_hint(cfg: Config, fix: str) -> str:
    last = osp.join(cfg.work_dir, 'last_checkpoint')
    if not osp.isfile(last):
        return f'No checkpoint was saved yet: {fix}, then start again.'
    with open(last) as f:
        checkpoint = f.read().strip()
    return f'{fix[0].upper()}{fix[1:]}, then continue from the last checkpoint with ' \
           f'--resume {checkpoint}'


def resume_checkpoint(work_dir: str) -> Optional[str]:
    """The checkpoint ``--resume`` continues from: the one ``<work_dir>/last_checkpoint``
    names, or the file of that name beside it when the work dir was moved or copied; None
    when nothing was saved yet. A recorded checkpoint found in neither place is a
    :class:`~mmfasternet.checkpoint.CheckpointError`."""
    from mmfasternet.checkpoint import CheckpointError
    last = osp.join(work_dir, 'last_checkpoint')
    if not osp.isfile(last):
        return None
    with open(last) as f:
        recorded = f.read().strip()
    if not recorded:
        raise CheckpointError(f'{last} is empty (a save that failed?): give the checkpoint '
                              f'to continue from, --resume {work_dir}/epoch_N.pth')
    if osp.isfile(recorded):
        return recorded
    beside = osp.join(work_dir, osp.basename(recorded))
    if osp.isfile(beside):
        return beside
    raise CheckpointError(f'{last} names {recorded}, which is gone, and {work_dir} holds no '
                          f'{osp.basename(recorded)}: give the checkpoint to continue from, '
                          f'--resume PATH')


@contextmanager
def stops_with_a_message(cfg: Optional[Config] = None, resumable: bool = False,
                         prefix: str = '') -> Iterator[None]:
    """Turn the errors a user can fix (:class:`~mmfasternet.errors.MMFasterNetError`,
    and data files that break during a run) into one message and exit status 1, instead of
    a traceback; other errors propagate with theirs.

    Args:
        cfg (Config, optional): The run's config; with ``resumable``, its work dir holds
            the last checkpoint.
        resumable (bool): Name the checkpoint to ``--resume`` from when a data file
            breaks during the run. Defaults to False.
        prefix (str): Put before the message, e.g. the tool's name. Defaults to ''.
    """
    try:
        yield
    except NoSpaceLeft as error:
        hint = _resume_hint(cfg, 'free some space') if resumable and cfg else ''
        raise SystemExit(f'{prefix}{error}\n{hint}'.strip()) from None
    except MMFasterNetError as error:
        raise SystemExit(f'{prefix}{error}') from None
    except Exception as error:
        failure = data_file_failure(error)
        if failure is not None:
            raise SystemExit(_stopped(failure, cfg, resumable)) from None
        if isinstance(error, FileNotFoundError):
            raise SystemExit(str(error)) from None
        raise


def _stopped(failure: str, cfg: Optional[Config], resumable: bool) -> str:
    hint = (_resume_hint(cfg, 'fix the file (--check-images finds every broken image)')
            if resumable and cfg else 'Fix the file and run again.')
    return f'The run stopped: {failure} (changed after the data check?).\n{hint}'
