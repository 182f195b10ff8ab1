"""Strict loading of FasterNet weights into a backbone."""
import re
from typing import Optional

import torch
from mmengine.logging import print_log

from .layouts import backbone_state_dict, detect_layout, to_mm_state_dict
from .reading import CheckpointError, read_checkpoint

_OUTPUT_NORM = re.compile(r'^norm\d+\.')
_LAYER = re.compile(r'^stages\.(\d+)\.')


def _unbuilt_layer_keys(source: dict, model: torch.nn.Module) -> list:
    """Keys of ``source`` in the layers after the model's last output stage, which a
    FasterNet with early ``out_indices`` does not build."""
    layers = (_LAYER.match(k) for k in source)
    return [m.string for m in layers if m and int(m.group(1)) >= len(model.stages)]


def _under_prefix(checkpoint: dict, prefix: str, path: str) -> dict:
    """The weights under ``prefix`` (e.g. ``'backbone.'``), with the prefix removed."""
    prefix = prefix if prefix.endswith('.') else prefix + '.'
    state = checkpoint.get('state_dict', checkpoint)
    selected = {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}
    if not selected:
        raise CheckpointError(f'{path} has no weights under the prefix {prefix!r} given in '
                              f'init_cfg; its keys start with '
                              f'{sorted({k.split(".")[0] for k in state})[:10]}')
    return selected


def load_backbone_weights(model: torch.nn.Module, path: str, prefix: Optional[str] = None,
                          logger=None) -> str:
    """Load a FasterNet checkpoint of any supported layout into ``model``, strictly.

    Every weight of the model must come from the file with the right shape, except the
    output norms when the file is an ImageNet classifier (it has none; they keep their
    initialisation, which is logged). Output norms of stages the model does not return, and
    the stages after its last output (not built), are ignored; the latter is logged.
    Anything else raises :class:`CheckpointError` listing the missing, unexpected and
    mis-shaped keys; the model is left untouched then.

    Args:
        model (nn.Module): A FasterNet backbone.
        path (str): The checkpoint file.
        prefix (str, optional): Load only the weights under this prefix, as mmengine's
            ``Pretrained`` init does. Defaults to None (the layout decides).
        logger: Where to log; defaults to the current logger.

    Returns:
        str: The name of the file's layout.
    """
    checkpoint = read_checkpoint(path)
    if prefix:
        checkpoint = _under_prefix(checkpoint, prefix, path)
    layout = detect_layout(checkpoint)
    source = backbone_state_dict(checkpoint, layout)
    target = model.state_dict()
    source = {k: v for k, v in source.items() if not (_OUTPUT_NORM.match(k) and k not in target)}
    unbuilt = _unbuilt_layer_keys(source, model)
    for key in unbuilt:
        del source[key]
    missing = [k for k in target if k not in source]
    fresh_norms = [k for k in missing if layout.lacks_output_norms and _OUTPUT_NORM.match(k)]
    missing = [k for k in missing if k not in fresh_norms]
    unexpected = [k for k in source if k not in target]
    mis_shaped = [f'{k}: checkpoint {tuple(source[k].shape)} vs model {tuple(target[k].shape)}'
                  for k in source if k in target and source[k].shape != target[k].shape]
    if missing or unexpected or mis_shaped:
        lines = [f'{path} ({layout.name} layout) does not fit this FasterNet '
                 f'(is it another variant, or another n_div / mlp_ratio?):']
        for title, keys in (('missing', missing), ('unexpected', unexpected),
                            ('mis-shaped', mis_shaped)):
            if keys:
                shown = ', '.join(keys[:10]) + (f', ... ({len(keys)} in all)'
                                                if len(keys) > 10 else '')
                lines.append(f'  {title} keys: {shown}')
        raise CheckpointError('\n'.join(lines))
    model.load_state_dict(source, strict=False)
    if unbuilt:
        print_log(f'{path}: {len(unbuilt)} weights of the stages after out_indices='
                  f'{tuple(model.out_indices)} are ignored; this backbone does not build '
                  f'those stages', logger=logger or 'current')
    if fresh_norms:
        names = sorted({k.split('.')[0] for k in fresh_norms})
        print_log(f'{path} is an ImageNet classifier checkpoint without output norms; '
                  f'{", ".join(names)} keep their initialisation', logger=logger or 'current')
    return layout.name


_BLOCK = re.compile(r'^backbone\.stages\.(\d+)\.blocks\.(\d+)\.')


def describe_backbone(state: dict) -> str:
    """What the ``backbone.`` weights of a whole model's ``state`` are: a FasterNet variant
    of the arch zoo, a custom FasterNet's widths and depths, or not a FasterNet."""
    from mmfasternet.models import FasterNet
    embed = state.get('backbone.patch_embed.proj.weight')
    if embed is None:
        keys = ', '.join(list(state)[:3])
        return f'no FasterNet backbone (keys such as {keys})'
    depths = [0] * FasterNet.num_stages
    for match in filter(None, map(_BLOCK.match, state)):
        stage = int(match.group(1)) // 2  # stages and merging layers alternate
        if stage < len(depths):
            depths[stage] = max(depths[stage], int(match.group(2)) + 1)
    built = [d for d in depths if d]
    widths = f'(embed_dims {embed.shape[0]}, depths {built})'
    for name, arch in FasterNet.arch_zoo.items():
        if arch['embed_dims'] == embed.shape[0] and arch['depths'][:len(built)] == built:
            return f'FasterNet-{name.upper()} {widths}'
    return f'a custom FasterNet {widths}'


def check_backbone_state(backbone: torch.nn.Module, state: dict, prefix: str) -> None:
    """Raise :class:`CheckpointError` when ``state`` (a whole model's, loaded with its
    ``load_state_dict``) holds weights under ``prefix`` for ``backbone`` that cannot be its
    own: none of its keys, or one of another shape. Loaders that do not stop on that
    (mmengine's ``load_checkpoint(strict=False)``, which the inferencers use) would run a
    half-random model; the message names the network the file holds and the one built.
    Weights for layers the backbone does not build, and missing ones, are left to the
    loader's ``strict``."""
    theirs = {'backbone.' + k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}
    if not theirs:
        return
    ours = {'backbone.' + k: v for k, v in backbone.state_dict().items()}
    shared = [k for k in ours if k in theirs]
    if shared and all(theirs[k].shape == ours[k].shape for k in shared):
        return
    raise CheckpointError(f'the weights under {prefix!r} do not fit this backbone: they are '
                          f'{describe_backbone(theirs)}, the model builds '
                          f'{describe_backbone(ours)}; give the checkpoint trained with this '
                          f'config, or the config it was trained with')


def check_model_checkpoint(model: torch.nn.Module, state: dict, path: str,
                           backbone_only: bool = False) -> None:
    """Raise :class:`CheckpointError` when the whole-model weights ``state`` (a detector's,
    segmentor's or classifier's, this project's names) do not fit ``model``: the message
    names the backbone the file holds and the one the config builds, and the first
    differences; the full key diff goes to the log.

    Args:
        model (nn.Module): The model built from the config.
        state (dict): The file's weights.
        path (str): The file, for the message.
        backbone_only (bool): Compare only the ``backbone.`` weights, as fine-tuning from
            ``load_from`` needs (its heads may differ). Defaults to False.
    """
    target = model.state_dict()
    keys = [k for k in {**target, **state} if not backbone_only or k.startswith('backbone.')]
    missing = [k for k in keys if k not in state]
    unexpected = [k for k in keys if k not in target]
    mis_shaped = [f'{k}: file {tuple(state[k].shape)} vs config {tuple(target[k].shape)}'
                  for k in keys if k in state and k in target
                  and state[k].shape != target[k].shape]
    if not (missing or unexpected or mis_shaped):
        return
    print_log(f'{path} does not fit the config; missing keys: {missing}; unexpected keys: '
              f'{unexpected}; mis-shaped: {mis_shaped}', logger='current')
    ours, theirs = describe_backbone(target), describe_backbone(state)
    if ours != theirs:
        raise CheckpointError(f'{path} does not fit the config: the file holds {theirs}, the '
                              f'config builds {ours}; give the checkpoint trained with this '
                              f'config, or the config it was trained with')
    counts = ', '.join(f'{len(keys)} {title}' for title, keys in (
        ('missing', missing), ('unexpected', unexpected), ('mis-shaped', mis_shaped)) if keys)
    first = (mis_shaped or missing or unexpected)[0]
    raise CheckpointError(f'{path} does not fit the config outside the backbone (both '
                          f'{ours}): {counts} weights, e.g. {first}; is it from another head '
                          f'or number of classes? (the log lists every key)')


def read_model_state(path: str) -> dict:
    """The whole-model weights of the checkpoint ``path``, of any layout
    :func:`to_mm_state_dict` reads, under this project's names."""
    return to_mm_state_dict(read_checkpoint(path))


def load_model_weights(model: torch.nn.Module, path: str) -> None:
    """Load the whole-model checkpoint ``path`` (any layout :func:`to_mm_state_dict`
    reads) into ``model`` (or the model a wrapper holds), strictly; a file that does not fit
    is one :class:`CheckpointError` (:func:`check_model_checkpoint`), the model untouched."""
    from mmengine.model import is_model_wrapper
    model = model.module if is_model_wrapper(model) else model
    state = read_model_state(path)
    check_model_checkpoint(model, state, path)
    model.load_state_dict(state, strict=True)
    print_log(f'loaded {path}', logger='current')
