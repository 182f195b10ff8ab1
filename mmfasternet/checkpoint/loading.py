"""Strict loading of FasterNet weights into a backbone."""
import re
from typing import Optional

import torch
from mmengine.logging import print_log

from mmfasternet.variants import NUM_STAGES, VARIANTS
from .input_channels import adapt_input_channels
from .layouts import backbone_state_dict, detect_layout, to_mm_state_dict
from .reading import CheckpointError, read_checkpoint

_OUTPUT_NORM = re.compile(r'^norm\d+\.')
_LAYER = re.compile(r'^stages\.(\d+)\.')


def _unbuilt_layer_keys(source: dict, model: torch.nn.Module) -> list:
    """Keys of ``source`` in the layers after the model's last output stage, which a
    FasterNet with early ``out_indices`` does not build."""
    layers = (_LAYER.match(k) for k in source)
    return [m.string for m in layers if m and int(m.group(1)) >= len(model.stages)]


def _with_prefix(state: dict) -> dict:
    return {'backbone.' + k: v for k, v in state.items()}


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
    adapted = adapt_input_channels(source, target)
    missing = [k for k in target if k not in source]
    fresh_norms = [k for k in missing if layout.lacks_output_norms and _OUTPUT_NORM.match(k)]
    missing = [k for k in missing if k not in fresh_norms]
    unexpected = [k for k in source if k not in target]
    mis_shaped = [f'{k}: checkpoint {tuple(source[k].shape)} vs model {tuple(target[k].shape)}'
                  for k in source if k in target and source[k].shape != target[k].shape]
    if missing or unexpected or mis_shaped:
        difference = backbone_difference(_with_prefix(source), _with_prefix(target))
        lines = [f'{path} ({layout.name} layout) does not fit this FasterNet'
                 f'{": " + difference if difference else ""}:']
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
    if adapted:
        print_log(f'{path}: {adapted}', logger=logger or 'current')
    if fresh_norms:
        names = sorted({k.split('.')[0] for k in fresh_norms})
        print_log(f'{path} is an ImageNet classifier checkpoint without output norms; '
                  f'{", ".join(names)} keep their initialisation', logger=logger or 'current')
    return layout.name


_BLOCK = re.compile(r'^backbone\.stages\.(\d+)\.blocks\.(\d+)\.')
_FIRST_BLOCK = 'backbone.stages.0.blocks.0.'


def _backbone_fields(state: dict) -> Optional[dict]:
    """What the ``backbone.`` weights of a whole model's ``state`` say of the network built:
    its widths and depths, and its n_div, mlp_ratio and input channels. None when it is no
    FasterNet."""
    embed = state.get('backbone.patch_embed.proj.weight')
    if embed is None:
        return None
    depths = [0] * NUM_STAGES
    for match in filter(None, map(_BLOCK.match, state)):
        stage = int(match.group(1)) // 2  # stages and merging layers alternate
        if stage < len(depths):
            depths[stage] = max(depths[stage], int(match.group(2)) + 1)
    fields = dict(embed_dims=embed.shape[0], depths=[d for d in depths if d])
    pconv = state.get(_FIRST_BLOCK + 'spatial_mixing.partial_conv3.weight')
    if pconv is not None and pconv.shape[0]:
        fields['n_div'] = embed.shape[0] // pconv.shape[0]
    hidden = state.get(_FIRST_BLOCK + 'mlp.0.weight')
    if hidden is not None:
        fields['mlp_ratio'] = hidden.shape[0] / embed.shape[0]
    fields['in_channels'] = embed.shape[1]
    return fields


# The arguments of FasterNet that describe_backbone names only when they are not these.
_DEFAULTS = dict(n_div=4, mlp_ratio=2.0, in_channels=3)


def describe_backbone(state: dict) -> str:
    """What the ``backbone.`` weights of a whole model's ``state`` are: a FasterNet variant
    of the arch zoo, a custom FasterNet's widths and depths (with its n_div, mlp_ratio and
    input channels where they are not the defaults), or not a FasterNet."""
    fields = _backbone_fields(state)
    if fields is None:
        keys = ', '.join(list(state)[:3])
        return f'no FasterNet backbone (keys such as {keys})'
    built = fields['depths']
    extras = ''.join(f', {k} {fields[k]:g}' for k, v in _DEFAULTS.items()
                     if k in fields and fields[k] != v)
    widths = f'(embed_dims {fields["embed_dims"]}, depths {built}{extras})'
    for name, arch in VARIANTS.items():
        if arch['embed_dims'] == fields['embed_dims'] and arch['depths'][:len(built)] == built:
            return f'FasterNet-{name.upper()} {widths}'
    return f'a custom FasterNet {widths}'


def backbone_difference(theirs: dict, ours: dict) -> Optional[str]:
    """What makes the ``backbone.`` weights ``theirs`` another network than the model's
    ``ours`` (both whole-model state dicts), in words; None when they are the same network.
    Input channels do not count: RGB weights adapt (:mod:`.input_channels`)."""
    mine, other = _backbone_fields(ours), _backbone_fields(theirs)
    if other is None:
        return f'the file holds {describe_backbone(theirs)}'
    built = len(mine['depths'])  # a file may hold the stages after the model's last output
    other['depths'] = other['depths'][:built]
    keys = ('embed_dims', 'depths', 'n_div', 'mlp_ratio')
    differing = [f'{k} {other[k]} vs {mine[k]}' for k in keys
                 if k in other and k in mine and other[k] != mine[k]]
    return f'they differ in {", ".join(differing)} (file vs model)' if differing else None


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
    if backbone_only:  # fine-tuning starts other input channels from RGB weights
        state = dict(state)
        adapt_input_channels(state, target, prefix='backbone.')
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
