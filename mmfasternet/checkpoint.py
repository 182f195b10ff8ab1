"""FasterNet checkpoints: their layouts, reading them safely and loading them strictly.

This project uses the official layout (one flat ``stages`` sequence, stage and merging layers
alternating). timm (>= 1.0.16) regroups the same tensors so that each merging layer belongs
to the stage after it, and renames the classifier. mmdet, mmseg and mmpretrain checkpoints
hold the official names under ``backbone.``.
"""
import os
import os.path as osp
import pickle
import re
from typing import Dict, TypeVar
from urllib.parse import urlparse

import torch

V = TypeVar('V')

_OFFICIAL_HEAD_TO_TIMM = {'avgpool_pre_head.1.': 'conv_head.', 'head.': 'classifier.'}
_OFFICIAL_STAGE = re.compile(r'^stages\.(\d+)\.')
_TIMM_STAGE = re.compile(r'^stages\.(\d+)\.(downsample\.)?')


def _rename_prefix(key: str, mapping: Dict[str, str]) -> str:
    for old, new in mapping.items():
        if key.startswith(old):
            return new + key[len(old):]
    return key


def official_to_timm(state_dict: Dict[str, V]) -> Dict[str, V]:
    """Rename official FasterNet keys to timm's ``fasternet_*`` layout."""

    def rename(key: str) -> str:
        match = _OFFICIAL_STAGE.match(key)
        if match:
            index = int(match.group(1))
            prefix = f'stages.{index // 2}.' if index % 2 == 0 else \
                f'stages.{(index + 1) // 2}.downsample.'
            return prefix + key[match.end():]
        return _rename_prefix(key, _OFFICIAL_HEAD_TO_TIMM)

    return {rename(key): value for key, value in state_dict.items()}


def timm_to_official(state_dict: Dict[str, V]) -> Dict[str, V]:
    """Rename timm ``fasternet_*`` keys to the official layout used by this project."""
    timm_head_to_official = {v: k for k, v in _OFFICIAL_HEAD_TO_TIMM.items()}

    def rename(key: str) -> str:
        match = _TIMM_STAGE.match(key)
        if match:
            index = int(match.group(1))
            official = 2 * index - 1 if match.group(2) else 2 * index
            return f'stages.{official}.' + key[match.end():]
        return _rename_prefix(key, timm_head_to_official)

    return {rename(key): value for key, value in state_dict.items()}


_OFFICIAL_HEAD_TO_MMPRETRAIN = {'avgpool_pre_head.': 'head.avgpool_pre_head.',
                                'head.': 'head.fc.'}


def official_to_mmpretrain(state_dict: Dict[str, V]) -> Dict[str, V]:
    """Rename an official classifier's keys to those of an mmpretrain ``ImageClassifier``
    with a FasterNet backbone and :class:`FasterNetClsHead`."""
    return {(_rename_prefix(k, _OFFICIAL_HEAD_TO_MMPRETRAIN)
             if k.startswith(tuple(_OFFICIAL_HEAD_TO_MMPRETRAIN)) else f'backbone.{k}'): v
            for k, v in state_dict.items()}


def _history_buffer_statistic(owner: type, name: str):
    """Stand-in for ``getattr`` while unpickling a checkpoint.

    mmengine's ``HistoryBuffer.__getstate__`` pickles its statistics methods as
    ``getattr(HistoryBuffer, 'mean')`` and so on. A general ``getattr`` would let a crafted
    file reach any attribute of an allowed object (``ndarray.tofile``, say), so only these
    lookups are served.
    """
    from mmengine.logging import HistoryBuffer
    allowed = {'min', 'max', 'current', 'mean', *HistoryBuffer._statistics_methods}
    if owner is HistoryBuffer and name in allowed:
        return getattr(HistoryBuffer, name)
    raise pickle.UnpicklingError(
        f'refusing getattr({owner!r}, {name!r}) in a checkpoint: only the statistics '
        f'methods of mmengine\'s HistoryBuffer may be looked up')


def _mmengine_checkpoint_globals() -> list:
    """The non-tensor globals that mmengine 0.10 writes into its checkpoints: the
    ``message_hub`` holds ``HistoryBuffer`` objects with NumPy arrays and scalars."""
    import numpy as np
    from mmengine.logging import HistoryBuffer

    multiarray = np._core.multiarray if hasattr(np, '_core') else np.core.multiarray
    dtypes = [type(np.dtype(name)) for name in (
        'bool', 'int8', 'int16', 'int32', 'int64', 'uint8', 'uint16', 'uint32', 'uint64',
        'float16', 'float32', 'float64')]
    return [HistoryBuffer, multiarray._reconstruct, multiarray.scalar, np.ndarray, np.dtype,
            *dtypes, (_history_buffer_statistic, 'builtins.getattr')]


def allow_mmengine_checkpoints() -> None:
    """Let ``torch.load(..., weights_only=True)``, the default since torch 2.6, read the
    checkpoints mmengine writes, so that resuming and testing work without turning
    weights-only loading off. Only data classes are allowed, plus the narrow lookup above;
    a pickle that would call anything else is still refused."""
    torch.serialization.add_safe_globals(_mmengine_checkpoint_globals())


OFFICIAL_RELEASE_URL = 'https://github.com/JierunChen/FasterNet/releases/download/v1.0/'
OFFICIAL_IMAGENET_FILE = re.compile(
    r'^fasternet_(t0|t1|t2|s|m|l)-epoch\.\d+-val_acc1\.[\d.]+\.pth$')


def _check_exists(checkpoint: str) -> None:
    """Raise ``FileNotFoundError`` with what to do when a local checkpoint is missing: for an
    official ImageNet file, where to download it; always, how to train from scratch."""
    if osp.isfile(osp.expanduser(checkpoint)):
        return
    lines = [f'checkpoint not found: {checkpoint}']
    name = osp.basename(checkpoint)
    if OFFICIAL_IMAGENET_FILE.match(name):
        lines.append(f'This is an official FasterNet ImageNet checkpoint; download it to that '
                     f'path:\n  mkdir -p {osp.dirname(checkpoint) or "."} && '
                     f'wget -P {osp.dirname(checkpoint) or "."} {OFFICIAL_RELEASE_URL}{name}')
    lines.append('Or train the backbone from scratch:\n'
                 '  --cfg-options model.backbone.init_cfg=None')
    raise FileNotFoundError('\n'.join(lines))


class CheckpointError(ValueError):
    """A checkpoint that cannot be read safely or does not fit the model."""


def _download(url: str) -> str:
    """Fetch an http(s) checkpoint into torch's hub cache (once) and return its path."""
    if not url.startswith(('http://', 'https://')):
        raise CheckpointError(f'cannot read {url}: only local paths and http(s) URLs are '
                              f'supported for FasterNet weights')
    path = osp.join(torch.hub.get_dir(), 'checkpoints', osp.basename(urlparse(url).path))
    if not osp.isfile(path):
        os.makedirs(osp.dirname(path), exist_ok=True)
        torch.hub.download_url_to_file(url, path)
    return path


def read_checkpoint(path: str) -> dict:
    """Read a checkpoint with ``weights_only=True``; refuse, with a clear message, a file
    whose pickle would construct or call anything beyond tensors and plain data.

    Args:
        path (str): A local file or an http(s) URL (downloaded once into torch's cache).
    """
    if '://' in path:
        path = _download(path)
    _check_exists(path)
    path = osp.expanduser(path)
    try:
        checkpoint = torch.load(path, map_location='cpu', weights_only=True)
    except pickle.UnpicklingError as error:
        unsafe = torch.serialization.get_unsafe_globals_in_checkpoint(path)
        raise CheckpointError(
            f'{path} was not loaded: its pickle refers to {unsafe or "objects"} that '
            f'weights-only loading refuses, and nothing in it was run. Checkpoints hold '
            f'tensors and plain data; re-save the state dict from a trusted environment, '
            f'e.g. torch.save(torch.load(path, weights_only=False)["state_dict"], out).\n'
            f'({error.__class__.__name__}: {str(error).splitlines()[-1]})') from None
    if not isinstance(checkpoint, dict):
        raise CheckpointError(f'{path} holds a {type(checkpoint).__name__}, not a dict of '
                              f'tensors or a checkpoint dict')
    return checkpoint


CLASSIFIER_PREFIXES = ('avgpool_pre_head.', 'head.')
_OUTPUT_NORM = re.compile(r'^norm\d+\.')


def detect_layout(checkpoint: dict) -> str:
    """Name the layout of a FasterNet checkpoint.

    Returns:
        str: ``'official'`` (official ImageNet release: a plain state dict), ``'timm'``,
        ``'mmdet'`` (an mmdet 2.x/3.x or mmseg checkpoint: ``state_dict`` with ``backbone.``
        keys and no classifier head) or ``'mmpretrain'`` (``state_dict`` with ``backbone.``
        and ``head.`` keys).
    """
    state = checkpoint.get('state_dict', checkpoint)
    keys = list(state)
    if any(k.startswith('backbone.') for k in keys):
        return 'mmpretrain' if any(k.startswith('head.') for k in keys) else 'mmdet'
    if any('.downsample.' in k or k.startswith(('conv_head.', 'classifier.')) for k in keys):
        return 'timm'
    if any(k.startswith('patch_embed.') for k in keys):
        return 'official'
    raise CheckpointError(
        f'not a FasterNet checkpoint: no patch_embed.*, backbone.* or timm keys among '
        f'{keys[:5]}{"..." if len(keys) > 5 else ""}')


def to_mm_state_dict(checkpoint: dict) -> Dict[str, torch.Tensor]:
    """The whole model's weights of any supported layout under this project's names: an
    mmpretrain classifier's for official and timm ImageNet files, the file's own for
    mmdet/mmseg/mmpretrain checkpoints."""
    layout = detect_layout(checkpoint)
    state = checkpoint.get('state_dict', checkpoint)
    if layout == 'timm':
        state = timm_to_official(state)
    if layout in ('official', 'timm'):
        state = official_to_mmpretrain(state)
    return dict(state)


def backbone_state_dict(checkpoint: dict) -> Dict[str, torch.Tensor]:
    """The backbone weights of any supported layout, under this project's (official)
    names, without classifier keys."""
    layout = detect_layout(checkpoint)
    state = checkpoint.get('state_dict', checkpoint)
    if layout in ('mmdet', 'mmpretrain'):
        state = {k[len('backbone.'):]: v for k, v in state.items() if k.startswith('backbone.')}
    elif layout == 'timm':
        state = timm_to_official(state)
    return {k: v for k, v in state.items() if not k.startswith(CLASSIFIER_PREFIXES)}


def load_backbone_weights(model: torch.nn.Module, path: str, logger=None) -> str:
    """Load a FasterNet checkpoint of any supported layout into ``model``, strictly.

    Every weight of the model must come from the file with the right shape, except the
    output norms when the file is an ImageNet classifier (it has none; they keep their
    initialisation, which is logged). Output norms of stages the model does not return are
    ignored. Anything else raises :class:`CheckpointError` listing the missing, unexpected
    and mis-shaped keys; the model is left untouched then.

    Returns:
        str: The layout of the file.
    """
    checkpoint = read_checkpoint(path)
    layout = detect_layout(checkpoint)
    source = backbone_state_dict(checkpoint)
    target = model.state_dict()
    source = {k: v for k, v in source.items() if not (_OUTPUT_NORM.match(k) and k not in target)}
    missing = [k for k in target if k not in source]
    if layout in ('official', 'timm', 'mmpretrain'):
        fresh_norms = [k for k in missing if _OUTPUT_NORM.match(k)]
        missing = [k for k in missing if not _OUTPUT_NORM.match(k)]
    else:
        fresh_norms = []
    unexpected = [k for k in source if k not in target]
    mis_shaped = [f'{k}: checkpoint {tuple(source[k].shape)} vs model {tuple(target[k].shape)}'
                  for k in source if k in target and source[k].shape != target[k].shape]
    if missing or unexpected or mis_shaped:
        lines = [f'{path} ({layout} layout) does not fit this FasterNet '
                 f'(is it another variant, or another n_div / mlp_ratio?):']
        for title, keys in (('missing', missing), ('unexpected', unexpected),
                            ('mis-shaped', mis_shaped)):
            if keys:
                shown = ', '.join(keys[:10]) + (f', ... ({len(keys)} in all)'
                                                if len(keys) > 10 else '')
                lines.append(f'  {title} keys: {shown}')
        raise CheckpointError('\n'.join(lines))
    model.load_state_dict(source, strict=False)
    if fresh_norms:
        from mmengine.logging import print_log
        names = sorted({k.split('.')[0] for k in fresh_norms})
        print_log(f'{path} is an ImageNet classifier checkpoint without output norms; '
                  f'{", ".join(names)} keep their initialisation', logger=logger or 'current')
    return layout
